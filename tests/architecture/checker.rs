//! The architecture checker, on `syn`: it reads every file of a `src/` tree as Rust, so every
//! path form counts (`use crate::{a, b::c}` groups, `super::super::x`, `self::`, a renamed
//! `use git2 as g`, a path written inline), test items are skipped exactly (`#[cfg(test)]` on
//! the item, not "everything after the first one"), and functions are measured by their spans
//! whatever their visibility (`pub(in crate::x) fn`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The layer order: module names from the `Layers` block of ARCHITECTURE.md, top first.
pub fn layers(architecture_md: &str) -> Vec<String> {
    let block = architecture_md
        .split("## Layers")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("ARCHITECTURE.md has a ``` block under ## Layers");
    block
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.trim_end_matches("/*").to_string())
        .collect()
}

/// One source file: its module path (`rules::sql`) and parsed items.
struct Module {
    path: Vec<String>,
    file: PathBuf,
    ast: syn::File,
}

fn modules(src: &Path) -> Result<Vec<Module>, String> {
    let mut out = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .flatten()
        {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut path: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            if path == ["lib"] || path == ["main"] {
                path = vec![path[0].clone()];
            }
            let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
            let ast = syn::parse_file(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            out.push(Module { path, file: p, ast });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        (a.path().is_ident("cfg") || a.path().is_ident("test"))
            && (a.path().is_ident("test")
                || a.parse_args::<syn::Meta>()
                    .is_ok_and(|m| m.path().is_ident("test")))
    })
}

/// What one module's non-test code names: module paths it reaches (absolute, from the crate
/// root) and external crates.
#[derive(Default)]
struct Refs {
    here: Vec<String>,
    crates: BTreeSet<String>,
    targets: BTreeSet<Vec<String>>,
    long_fns: Vec<(String, usize)>,
}

impl Refs {
    fn path(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let resolved: Vec<String> = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "self" => [self.here.clone(), segments[1..].to_vec()].concat(),
            "super" => {
                let mut base = self.here.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                [base, rest.to_vec()].concat()
            }
            "miglint" => segments[1..].to_vec(),
            other => {
                self.crates.insert(other.to_string());
                return;
            }
        };
        self.targets.insert(resolved);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.path(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.path(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.path(&prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'a> Visit<'a> for Refs {
    fn visit_item(&mut self, item: &'a syn::Item) {
        let attrs = match item {
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_test(attrs) {
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'a syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.path(&segments);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.function(
            &f.sig.ident,
            f.sig.fn_token.span,
            f.block.brace_token.span.close(),
        );
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            self.function(
                &f.sig.ident,
                f.sig.fn_token.span,
                f.block.brace_token.span.close(),
            );
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
}

impl Refs {
    fn function(&mut self, name: &syn::Ident, start: proc_macro2::Span, end: proc_macro2::Span) {
        let lines = end.end().line.saturating_sub(start.start().line) + 1;
        self.long_fns.push((name.to_string(), lines));
    }
}

/// Every rule of ARCHITECTURE.md the tree at `src` breaks, as lines for a failure message.
pub fn violations(src: &Path, architecture_md: &str, max_fn_lines: usize) -> Vec<String> {
    let order = layers(architecture_md);
    let rank = |m: &[String]| -> Option<usize> {
        let top = m.first()?;
        order.iter().position(|l| l == top)
    };
    let mods = match modules(src) {
        Ok(m) => m,
        Err(e) => return vec![format!("unreadable: {e}")],
    };
    let known: BTreeSet<Vec<String>> = mods.iter().map(|m| m.path.clone()).collect();
    let mut out = Vec::new();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for m in &mods {
        let mut refs = Refs {
            here: m.path.clone(),
            ..Refs::default()
        };
        refs.visit_file(&m.ast);
        let shown = m
            .file
            .strip_prefix(src)
            .unwrap_or(&m.file)
            .display()
            .to_string();
        if refs.crates.contains("git2") && m.path.first().is_none_or(|p| p != "git") {
            out.push(format!("src/{shown}: names git2 outside src/git/"));
        }
        for (name, lines) in &refs.long_fns {
            if *lines > max_fn_lines {
                out.push(format!("src/{shown}: `{name}` has {lines} lines"));
            }
        }
        let edges = graph.entry(m.path.clone()).or_default();
        for t in &refs.targets {
            // The longest known module the path names.
            let Some(target) = (1..=t.len())
                .rev()
                .map(|k| t[..k].to_vec())
                .find(|c| known.contains(c))
            else {
                continue;
            };
            let related = target.starts_with(&m.path) || m.path.starts_with(&target);
            if related || target == ["main"] {
                continue;
            }
            edges.insert(target.clone());
            if m.path == ["main"] {
                continue;
            }
            if let (Some(from), Some(to)) = (rank(&m.path), rank(&target)) {
                if to > from {
                    out.push(format!(
                        "src/{shown}: `{}` imports `{}`, a layer below it",
                        m.path.join("::"),
                        target.join("::")
                    ));
                }
            }
        }
    }
    for m in mods.iter().map(|m| &m.path) {
        if rank(m).is_none() && m != &["main".to_string()] {
            out.push(format!(
                "`{}` is in no layer of ARCHITECTURE.md",
                m.join("::")
            ));
        }
    }
    // A cycle exists iff some module reaches itself.
    for start in graph.keys() {
        let mut stack: Vec<&Vec<String>> = graph[start].iter().collect();
        let mut seen = BTreeSet::new();
        while let Some(m) = stack.pop() {
            if m == start {
                out.push(format!("`{}` is on a module cycle", start.join("::")));
                break;
            }
            if seen.insert(m) {
                stack.extend(graph.get(m).into_iter().flatten());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
