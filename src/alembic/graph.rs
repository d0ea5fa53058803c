//! The Alembic revision graph, read statically. What it says about itself (duplicates, missing
//! revisions, cycles, heads) is judged in `rules::alembic`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;

use super::python::{self, Value};
use super::Unreadable;

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
    /// What `upgrade()` does as SQL (`None`: the file defines no `upgrade`), or why it is not
    /// read ([`super::ops`]).
    pub upgrade: Result<Option<Vec<super::ops::OpSql>>, super::ops::Unverified>,
}

/// The module names Alembic reads from a revision file.
const WATCHED: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

/// Reads one revision file. `file` is its repository-relative path (for findings).
pub fn read_revision(file: &str, src: &str) -> Result<Revision, Box<Unreadable>> {
    let err = |message: String, span: Range<usize>| {
        Box::new(Unreadable::new(message)
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
        return Err(Box::new(Unreadable::new(format!("{file} has no module-level `revision = \"…\"`"))
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
    let (labels, unknown_labels) = branch_labels(&assignments);
    Ok(Revision {
        id: id.clone(),
        down,
        depends_on,
        labels,
        unknown_labels,
        file: file.to_string(),
        id_span: rev.span.clone(),
        down_span,
        upgrade: super::ops::read_upgrade(&tokens, src),
    })
}

/// `branch_labels`, or the text of a computed value (`cli.EXPAND_BRANCH`) that cannot be known.
fn branch_labels(assignments: &[python::Assignment]) -> (Vec<String>, Option<String>) {
    match python::last(assignments, "branch_labels").map(|a| a.value.strings()) {
        Some(Ok(l)) => (l, None),
        Some(Err(t)) => (Vec::new(), Some(t)),
        None => (Vec::new(), None),
    }
}

#[derive(Debug, Default)]
pub struct Graph {
    pub revisions: Vec<Revision>,
    /// Revisions whose id an earlier file already defined, with that file (the first
    /// definition is the one in the graph).
    pub duplicates: Vec<(Revision, String)>,
    index: HashMap<String, usize>,
}

impl Graph {
    /// Builds the graph; a duplicate id keeps its first definition (the others are listed).
    pub fn build(revisions: Vec<Revision>) -> Graph {
        let mut g = Graph::default();
        for r in revisions {
            if let Some(&first) = g.index.get(&r.id) {
                let first = g.revisions[first].file.clone();
                g.duplicates.push((r, first));
                continue;
            }
            g.index.insert(r.id.clone(), g.revisions.len());
            g.revisions.push(r);
        }
        g
    }

    /// The position of revision `id` in `revisions`.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
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
}
