//! The module graph of `src/` has no cycles (ARCHITECTURE: layers depend one way). Nodes are
//! source files (`src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`); an edge names a `crate::` path
//! in non-test code. A module and its own children may use each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules of `src/` and their non-test code: `src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`.
fn modules() -> BTreeMap<String, String> {
    sources()
        .into_iter()
        .map(|(rel, code)| {
            let rel = rel.trim_end_matches(".rs");
            let rel = rel.strip_suffix("/mod").unwrap_or(rel);
            (rel.replace('/', "::"), code)
        })
        .collect()
}

#[test]
fn no_module_cycles() {
    let mods = modules();
    let re = regex::Regex::new(r"crate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)").unwrap();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, text) in &mods {
        let edges = graph.entry(m.as_str()).or_default();
        for cap in re.captures_iter(text) {
            let parts: Vec<&str> = cap[1].split("::").collect();
            let target = (1..=parts.len())
                .rev()
                .map(|k| parts[..k].join("::"))
                .find(|c| mods.contains_key(c));
            let Some(target) = target else { continue };
            let (t, own) = (target.as_str(), m.as_str());
            if t == own || t.starts_with(&format!("{own}::")) || own.starts_with(&format!("{t}::"))
            {
                continue;
            }
            edges.insert(mods.get_key_value(t).unwrap().0.as_str());
        }
    }
    // A cycle exists iff some module reaches itself.
    for start in graph.keys() {
        let mut stack: Vec<&str> = graph[start].iter().copied().collect();
        let mut seen = BTreeSet::new();
        while let Some(m) = stack.pop() {
            assert_ne!(
                m, *start,
                "`{start}` is on a module cycle (see ../shared/ARCHITECTURE.md)"
            );
            if seen.insert(m) {
                stack.extend(graph.get(m).into_iter().flatten().copied());
            }
        }
    }
    assert!(graph.len() > 20, "found only {} modules", graph.len());
}

/// Every `.rs` file under `src/`, with its path relative to `src/` and its non-test code.
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text
                    .split("\n#[cfg(test)]")
                    .next()
                    .unwrap_or("")
                    .to_string();
                let rel = path
                    .strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, code));
            }
        }
    }
    out.sort();
    out
}

/// The engine and the commands reach version control through `vcs::Vcs` only: git2 (libgit2)
/// is named in `src/git/` and nowhere else, so a second VCS is a second reader.
#[test]
fn git2_stays_in_the_git_reader() {
    let leaks: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| !path.starts_with("git/"))
        .flat_map(|(path, code)| {
            code.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains("git2::"))
                .map(|(i, l)| format!("src/{path}:{}: {}", i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "git2 outside src/git/:\n{}",
        leaks.join("\n")
    );
}

/// No function in `src/` is longer than 80 lines (signature to closing brace, as rustfmt lays
/// it out): a long function is several steps that deserve names.
#[test]
fn functions_stay_short() {
    const MAX: usize = 80;
    let fn_start = regex::Regex::new(
        r"^(\s*)(pub(\([a-z]+\))? )?(const )?(async )?(unsafe )?fn ([a-z_][a-z0-9_]*)",
    )
    .unwrap();
    let mut long = Vec::new();
    for (path, code) in sources() {
        let lines: Vec<&str> = code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(cap) = fn_start.captures(line) else {
                continue;
            };
            if line.trim_end().ends_with(';') {
                continue; // a trait method without a body
            }
            let close = format!("{}}}", &cap[1]);
            if let Some(len) = lines[i..].iter().position(|l| *l == close) {
                if len + 1 > MAX {
                    long.push(format!(
                        "src/{path}:{}: `{}` has {} lines",
                        i + 1,
                        &cap[7],
                        len + 1
                    ));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX} lines:\n{}",
        long.join("\n")
    );
}
