//! The Alembic revision graph, read statically, and its rules: `alembic-parse-error`,
//! `alembic-duplicate-revision`, `alembic-missing-revision`, `alembic-cycle`,
//! `alembic-multiple-heads`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;

use super::python::{self, Value};
use crate::finding::Finding;
use crate::registry::Rule;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub id: String,
    pub down: Vec<String>,
    pub depends_on: Vec<String>,
    pub labels: Vec<String>,
    /// `branch_labels` was computed (e.g. `cli.EXPAND_BRANCH`) and cannot be known statically.
    pub unknown_labels: Option<String>,
    pub file: String,
    pub id_span: Range<usize>,
    pub down_span: Range<usize>,
}

/// The module names Alembic reads from a revision file.
const WATCHED: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

/// Reads one revision file. `file` is its repository-relative path (for findings).
pub fn read_revision(file: &str, src: &str) -> Result<Revision, Box<Finding>> {
    let err = |message: String, span: Range<usize>| {
        Box::new(Finding::new(Rule::AlembicParseError, message)
            .file(file.to_string())
            .at(span, "here")
            .help("miglint reads revision files without running them: assign `revision` and `down_revision` string literals (or None / tuples of them) at module level"))
    };
    let tokens = python::tokenize(src).map_err(|e| {
        err(
            format!("cannot read {file}: {}", e.message),
            e.offset..e.offset + 1,
        )
    })?;
    let assignments = python::assignments_of(&tokens, src);
    for name in WATCHED {
        if let Some(a) = assignments.iter().find(|a| a.name == name && a.in_block) {
            return Err(err(
                format!("`{name}` in {file} is assigned inside an `if`/`try`/`with` block; which value Alembic sees depends on running the module"),
                a.name_offset..a.span.end,
            ));
        }
    }
    if let Some(finding) = super::bindings::check(file, &tokens, &WATCHED, &assignments) {
        return Err(finding);
    }
    let Some(rev) = python::last(&assignments, "revision") else {
        return Err(Box::new(Finding::new(Rule::AlembicParseError, format!("{file} has no module-level `revision = \"…\"`"))
            .file(file.to_string())
            .help("every file in the versions directory must assign `revision` (or move helper modules out of it)")));
    };
    let Value::Str(id) = &rev.value else {
        return Err(err(
            format!("`revision` in {file} is not a string literal"),
            rev.span.clone(),
        ));
    };
    let (down, down_span) = match python::last(&assignments, "down_revision") {
        Some(a) => (
            a.value.strings().map_err(|t| {
                err(
                    format!("`down_revision` in {file} is not a literal: `{t}`"),
                    a.span.clone(),
                )
            })?,
            a.span.clone(),
        ),
        // Alembic reads `module.down_revision` and fails without it: never guess a root.
        None => {
            return Err(err(
                format!("{file} assigns no module-level `down_revision` (Alembic cannot load it)"),
                rev.span.clone(),
            ))
        }
    };
    let depends_on = match python::last(&assignments, "depends_on") {
        Some(a) => a.value.strings().map_err(|t| {
            err(
                format!("`depends_on` in {file} is not a literal: `{t}`"),
                a.span.clone(),
            )
        })?,
        None => Vec::new(),
    };
    let (labels, unknown_labels) =
        match python::last(&assignments, "branch_labels").map(|a| a.value.strings()) {
            Some(Ok(l)) => (l, None),
            Some(Err(t)) => (Vec::new(), Some(t)),
            None => (Vec::new(), None),
        };
    Ok(Revision {
        id: id.clone(),
        down,
        depends_on,
        labels,
        unknown_labels,
        file: file.to_string(),
        id_span: rev.span.clone(),
        down_span,
    })
}

#[derive(Debug, Default)]
pub struct Graph {
    pub revisions: Vec<Revision>,
    index: HashMap<String, usize>,
}

impl Graph {
    /// Builds the graph; duplicates keep the first definition and are reported.
    pub fn build(revisions: Vec<Revision>) -> (Graph, Vec<Finding>) {
        let mut g = Graph::default();
        let mut findings = Vec::new();
        for r in revisions {
            if let Some(&first) = g.index.get(&r.id) {
                findings.push(
                    Finding::new(Rule::AlembicDuplicateRevision, format!("revision `{}` is defined twice: in {} and {}", r.id, g.revisions[first].file, r.file))
                        .file(r.file.clone())
                        .at(r.id_span.clone(), "duplicate id")
                        .help("give one of them a new revision id (and fix the down_revision that pointed at it)"),
                );
                continue;
            }
            g.index.insert(r.id.clone(), g.revisions.len());
            g.revisions.push(r);
        }
        (g, findings)
    }

    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.index.get(id).map(|&i| &self.revisions[i])
    }

    /// Revisions that no other revision names as its `down_revision`, sorted. As in Alembic,
    /// `depends_on` does not make a revision stop being a head.
    pub fn heads(&self) -> Vec<&str> {
        let referenced: HashSet<&str> = self
            .revisions
            .iter()
            .flat_map(|r| r.down.iter().map(String::as_str))
            .collect();
        let mut heads: Vec<&str> = self
            .revisions
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !referenced.contains(id))
            .collect();
        heads.sort_unstable();
        heads
    }

    /// The branch labels of the branch a head is on: its own, else the nearest ancestor's along
    /// `down_revision` (Alembic puts a label on a branch's first revision). `None` when computed.
    pub fn labels_of(&self, head: &str) -> Option<Vec<String>> {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([head.to_string()]);
        while let Some(id) = queue.pop_front() {
            let Some(r) = self.get(&id) else { continue };
            if r.unknown_labels.is_some() {
                return None;
            }
            if !r.labels.is_empty() {
                return Some(r.labels.clone());
            }
            if seen.insert(id) {
                queue.extend(r.down.iter().cloned());
            }
        }
        Some(Vec::new())
    }

    /// The graph's structural rules; `expected_heads` is the number of heads the set declares
    /// by design (`heads`/`branches` under [set.alembic]), 1 otherwise.
    pub fn check(&self, expected_heads: usize) -> Vec<Finding> {
        let mut findings = Vec::new();
        let labels: HashSet<&str> = self
            .revisions
            .iter()
            .flat_map(|r| r.labels.iter().map(String::as_str))
            .collect();
        let any_unknown_labels = self.revisions.iter().any(|r| r.unknown_labels.is_some());
        for r in &self.revisions {
            for d in &r.down {
                if self.get(d).is_none() {
                    findings.push(
                        Finding::new(Rule::AlembicMissingRevision, format!("revision `{}` names down_revision `{d}`, which no file defines", r.id))
                            .file(r.file.clone())
                            .at(r.down_span.clone(), "missing revision")
                            .help("restore the missing revision file, or point down_revision at an existing revision"),
                    );
                }
            }
            for d in &r.depends_on {
                // A dependency may name a revision or a branch label; labels computed at runtime
                // cannot be known, so those are given the benefit of the doubt.
                if self.get(d).is_none() && !labels.contains(d.as_str()) && !any_unknown_labels {
                    findings.push(
                        Finding::new(
                            Rule::AlembicMissingRevision,
                            format!(
                                "revision `{}` depends_on `{d}`, which no file defines",
                                r.id
                            ),
                        )
                        .file(r.file.clone())
                        .help("restore the missing revision, or fix depends_on"),
                    );
                }
            }
        }
        findings.extend(self.cycle());
        let heads = self.heads();
        if heads.len() > expected_heads {
            let first = self.get(heads[0]);
            let by_design = if expected_heads > 1 {
                format!(" ({expected_heads} by design)")
            } else {
                String::new()
            };
            let mut f = Finding::new(Rule::AlembicMultipleHeads, format!("the Alembic graph has {} heads{by_design}: {}", heads.len(), heads.join(", ")))
                .help(format!("join them with `alembic merge -m \"merge heads\" {}`, then stamp the merge revision", heads.join(" ")));
            if let Some(r) = first {
                f = f
                    .file(r.file.clone())
                    .at(r.id_span.clone(), "one of the heads");
            }
            findings.push(f);
        }
        findings
    }

    /// Kahn's algorithm over down_revision edges (iterative: a 10,000-long chain is fine); what is
    /// left over lies on a cycle.
    fn cycle(&self) -> Option<Finding> {
        let n = self.revisions.len();
        let mut indegree = vec![0usize; n];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, r) in self.revisions.iter().enumerate() {
            for d in &r.down {
                if let Some(&p) = self.index.get(d) {
                    children[p].push(i);
                    indegree[i] += 1;
                }
            }
        }
        let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut seen = 0;
        while let Some(i) = queue.pop_front() {
            seen += 1;
            for &c in &children[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    queue.push_back(c);
                }
            }
        }
        if seen == n {
            return None;
        }
        let members: Vec<&Revision> = (0..n)
            .filter(|&i| indegree[i] > 0)
            .map(|i| &self.revisions[i])
            .collect();
        let names: Vec<&str> = members.iter().take(8).map(|r| r.id.as_str()).collect();
        let first = members[0];
        Some(
            Finding::new(Rule::AlembicCycle, format!("the Alembic graph has a cycle through {}{}", names.join(", "), if members.len() > 8 { ", …" } else { "" }))
                .file(first.file.clone())
                .at(first.down_span.clone(), "part of the cycle")
                .help("one of these down_revision values points forward in history; point it at the revision this one was written after"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(id: &str, down: &[&str]) -> Revision {
        Revision {
            id: id.into(),
            down: down.iter().map(|s| s.to_string()).collect(),
            depends_on: vec![],
            labels: vec![],
            unknown_labels: None,
            file: format!("v/{id}.py"),
            id_span: 0..1,
            down_span: 0..1,
        }
    }

    fn codes(revs: Vec<Revision>) -> Vec<&'static str> {
        let (g, mut f) = Graph::build(revs);
        f.extend(g.check(1));
        f.iter().map(|f| f.code()).collect()
    }

    #[test]
    fn heads_and_merges() {
        let (g, _) = Graph::build(vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])]);
        assert_eq!(g.heads(), vec!["b", "c"]);
        let (g, _) = Graph::build(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
        ]);
        assert_eq!(g.heads(), vec!["m"]);
    }

    #[test]
    fn rules() {
        assert_eq!(
            codes(vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])]),
            vec!["alembic-multiple-heads"]
        );
        assert_eq!(
            codes(vec![rev("a", &["zz"])]),
            vec!["alembic-missing-revision"]
        );
        assert_eq!(
            codes(vec![rev("a", &[]), rev("a", &[])]),
            vec!["alembic-duplicate-revision"]
        );
        assert!(
            codes(vec![rev("a", &["b"]), rev("b", &["a"]), rev("c", &[])])
                .contains(&"alembic-cycle")
        );
    }

    #[test]
    fn long_chain_is_fine() {
        let mut revs = vec![rev("r0", &[])];
        for i in 1..10_000 {
            revs.push(rev(&format!("r{i}"), &[&format!("r{}", i - 1)]));
        }
        assert!(codes(revs).is_empty());
    }
}
