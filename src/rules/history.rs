//! History rules. `history-mismatch`: the ledger and the files reconciled with what the database
//! applied (a CSV export of `migration_history`, read by [`crate::export`]); one finding per
//! migration whose three checksums disagree, saying which of them is the odd one out: that
//! decides the fix (restore the file, or correct the ledger), and neither re-runs applied SQL.
//! `rewritten-in-history` / `lock-rewritten`: the first-parent history replayed step by step
//! ([`Replay`]), fed by the history reader (`history::audit`) with opaque blob ids.

use crate::config::SetConfig;
use crate::export::Export;
use crate::finding::{Finding, Related};
use crate::ledger::Ledger;
use crate::registry::Rule;
use crate::snapshot::Snapshot;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// The history export reconciled with the set, when `--history-export` names one.
pub fn export_pass(facts: &super::SetFacts) -> Vec<Finding> {
    use crate::config::Layout;
    use crate::export::Tool;
    match (facts.export, facts.set.layout) {
        (None, _) => Vec::new(),
        (Some(export), Layout::Sqlx) if export.tool == Some(Tool::Sqlx) => {
            super::sqlx_history::reconcile(export, facts.migrations, facts.snapshot)
        }
        // sqlx keeps its own table; a `migration_history` export says nothing about it.
        (Some(export), layout) if export.tool.is_none() && layout != Layout::Sqlx => {
            reconcile(facts.set, export, facts.snapshot, facts.ledger)
        }
        // A table read with another table's rules would be judged wrongly: say so, fail.
        (Some(export), layout) => vec![Finding::new(
            Rule::HistoryMismatch,
            format!(
                "{} is not the history table of this `{}` set, so it was not reconciled",
                export.shown,
                layout.as_str()
            ),
        )
        .file(export.shown.clone())
        .help("export the table of the tool that applies this set: `migration_history` for a plain set (filename, checksum), `_sqlx_migrations` for sqlx")],
    }
}

/// `history-mismatch`: each row of the database's export against the ledger and the files, and
/// each ledger entry the database has no row for.
pub fn reconcile(
    set: &SetConfig,
    export: &Export,
    snapshot: &Snapshot,
    ledger: &Ledger,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, (db, span)) in &export.applied {
        let disk = snapshot.file(name).map(|f| f.digest().to_string());
        let recorded = ledger.get(name).map(|e| e.digest.clone());
        let at = Row {
            shown: &export.shown,
            span,
        };
        findings.extend(judge(
            set,
            name,
            db,
            recorded.as_deref(),
            disk.as_deref(),
            &at,
        ));
    }
    for e in &ledger.entries {
        if !export.applied.contains_key(&e.name) {
            findings.push(
                Finding::new(Rule::HistoryMismatch, format!("the ledger records `{}` but the database export has no row for it", e.name))
                    .file(set.lock.clone())
                    .at(e.span.clone(), "not in the database")
                    .help("apply the migration, or remove an entry recorded by mistake (before it is merged)"),
            );
        }
    }
    findings
}

/// Where a finding about an export row points.
struct Row<'a> {
    shown: &'a str,
    span: &'a std::ops::Range<usize>,
}

/// One applied migration's three checksums (database, ledger, file): which one is the odd one
/// out decides the fix.
fn judge(
    set: &SetConfig,
    name: &str,
    db: &str,
    recorded: Option<&str>,
    disk: Option<&str>,
    at: &Row,
) -> Option<Finding> {
    let (applied, checksum) = ("applied in the database", "database checksum");
    let (message, label, help, related): (String, &str, String, Option<String>) =
        match (recorded, disk) {
            (_, None) => (
                format!("the database applied `{name}`, which is not in {}", set.dir),
                applied,
                format!(
                    "restore the applied file from git (`git log --all -- {}/{name}` finds it)",
                    set.dir
                ),
                None,
            ),
            (None, Some(d)) if d == db => (
                format!("the database applied `{name}` but the ledger does not record it"),
                applied,
                format!("the file is unchanged since it was applied: record it with `miglint record {name}`"),
                None,
            ),
            (None, Some(d)) => (
                format!("the database applied `{name}` but the ledger does not record it"),
                applied,
                "the file changed since it was applied: restore the applied bytes, then record it; put changes in a new migration".into(),
                Some(format!("the file on disk has checksum {d}, the database {db}")),
            ),
            (Some(r), Some(d)) if r == db && d == db => return None,
            (Some(r), Some(d)) if r == db => (
                format!("`{name}` on disk has checksum {d}, but the database and the ledger have {db}"),
                checksum,
                "restore the applied content of the file; put changes in a new migration".into(),
                None,
            ),
            (Some(r), Some(d)) if d == r => (
                format!("the database applied `{name}` with checksum {db}, but the ledger and the file have {r}"),
                checksum,
                "find out which bytes really ran: if the file changed after it was applied, restore the applied bytes; the ledger must carry the database's value".into(),
                None,
            ),
            (Some(r), Some(d)) if d == db => (
                format!("the ledger records `{name}` with checksum {r}, but the database and the file have {db}"),
                checksum,
                "correct the ledger line to the database's checksum (the file is what ran)".into(),
                None,
            ),
            (Some(r), Some(d)) => (
                format!("`{name}`: the database recorded checksum {db}, the ledger {r}, the file {d}: all three differ"),
                checksum,
                "find out which bytes really ran, restore the file to them and correct the ledger; put changes in a new migration".into(),
                Some(format!("the file on disk has checksum {d}")),
            ),
        };
    let mut f = Finding::new(Rule::HistoryMismatch, message)
        .file(at.shown.to_string())
        .at(at.span.clone(), label)
        .help(help);
    f.related.extend(related.map(|m| fact(m, &set.dir, name)));
    Some(f)
}

fn fact(message: String, dir: &str, name: &str) -> Related {
    Related {
        rule: Rule::HistoryMismatch,
        message,
        file: Some(crate::config::join(dir, name)),
        span: None,
    }
}

/// What one first-parent commit did to a set's migrations and ledger.
pub struct Step<'a, B> {
    /// The commit's short id.
    pub short: String,
    /// "commit <id> by <author> on <date>", computed only when a finding needs it.
    pub describe: &'a dyn Fn() -> String,
    pub deleted: Vec<String>,
    /// (file name, blob id) of each file added or changed.
    pub written: Vec<(String, B)>,
    pub ledger_rewritten: bool,
    pub ledger_deleted: bool,
}

/// The replay of the first-parent history: each migration's first committed version and its
/// current one, by blob id (any id type: the reader's).
pub struct Replay<B> {
    pub first: HashMap<String, B>,
    pub current: HashMap<String, B>,
}

impl<B: Copy + Eq + Hash> Replay<B> {
    /// Judges one step and records it. `content` reads a blob (for saying what changed).
    pub fn apply(
        &mut self,
        set: &SetConfig,
        step: Step<B>,
        findings: &mut Vec<Finding>,
        content: impl Fn(B) -> Option<Vec<u8>>,
    ) {
        let describe = step.describe;
        for name in &step.deleted {
            self.current.remove(name);
        }
        for (name, blob) in step.written {
            let Some(&orig) = self.first.get(&name) else {
                self.first.insert(name.clone(), blob);
                self.current.insert(name, blob);
                continue;
            };
            let before = self.current.get(&name).copied().unwrap_or(orig);
            self.current.insert(name.clone(), blob);
            if blob == before {
                continue;
            }
            let path = crate::config::join(&set.dir, &name);
            // A revert to the first committed text is part of the rewrite it undoes: a fact of
            // that finding, not a second "changed" error.
            if blob == orig {
                restored(findings, &name, path, describe, &step.short);
                continue;
            }
            let finding = Finding::new(
                Rule::RewrittenInHistory,
                format!("`{name}` was changed after it was first committed: {}", describe()),
            )
            .file(path)
            .help(format!("every environment deployed before {} ran the old text; from now on, change schemas only with new migrations", step.short));
            findings.push(match (content(before), content(blob)) {
                (Some(old), Some(new)) => crate::rules::edits::annotate(set, finding, &old, &new),
                _ => finding,
            });
        }
        if step.ledger_rewritten {
            findings.push(
                Finding::new(
                    Rule::LockRewritten,
                    format!(
                        "the ledger was rewritten (not only appended to) in {}",
                        describe()
                    ),
                )
                .file(set.lock.clone())
                .help("recorded entries are history: restore the rewritten lines in a new commit"),
            );
        }
        if step.ledger_deleted {
            findings.push(
                Finding::new(
                    Rule::LockRewritten,
                    format!("the ledger was deleted in {}", describe()),
                )
                .file(set.lock.clone())
                .help("restore the ledger in a new commit"),
            );
        }
    }
}

/// One state of the set on the branch under review (a commit between the merge-base and HEAD,
/// oldest first, or finally what is checked): what its ledger records and the SHA-256 of each
/// migration the branch recorded, by file name.
pub struct BranchState {
    /// "commit <id> by <author> on <date>", or what is checked ("the staged change").
    pub label: String,
    pub recorded: HashMap<String, String>,
    pub files: HashMap<String, String>,
}

/// `rewritten-in-history` for a migration the branch itself recorded (absent from the
/// merge-base's ledger) that a later state changed — its bytes, or its ledger line. Recording
/// says the file ran somewhere; rewriting both in a later commit leaves a tip where the ledger
/// and the file agree, so only the branch's own history shows it. Names both states.
pub fn recorded_then_changed(
    set: &SetConfig,
    at_merge_base: &HashSet<String>,
    states: &[BranchState],
) -> Vec<Finding> {
    // Each migration the branch recorded: the state that recorded it, the digest, and where.
    let mut first: Vec<(&str, &str, &str, usize)> = Vec::new();
    let mut findings = Vec::new();
    for (at, state) in states.iter().enumerate() {
        let mut names: Vec<&String> = state.recorded.keys().collect();
        names.sort();
        for name in names {
            if !at_merge_base.contains(name) && !first.iter().any(|f| f.0 == name) {
                first.push((name, &state.recorded[name], &state.label, at));
            }
        }
        first.retain(|&(name, recorded, label, since)| {
            let ledger = state.recorded.get(name).map(String::as_str);
            let file = state.files.get(name).map(String::as_str);
            let changed = since < at
                && (ledger.is_some_and(|d| d != recorded) || file.is_some_and(|d| d != recorded));
            if changed {
                findings.push(
                    Finding::new(
                        Rule::RewrittenInHistory,
                        format!(
                            "`{name}` was recorded as applied in {label} and changed afterwards, in {}",
                            state.label
                        ),
                    )
                    .file(crate::config::join(&set.dir, name))
                    .help("a recorded migration ran somewhere: restore the recorded text and its ledger line, and put the change in a new migration"),
                );
            }
            !changed
        });
    }
    findings
}

/// `name` was restored to its first committed text: a fact of the rewrite finding it undoes, or
/// (when that rewrite predates the audit's findings) a finding of its own.
fn restored(
    findings: &mut Vec<Finding>,
    name: &str,
    path: String,
    describe: &dyn Fn() -> String,
    short: &str,
) {
    let earlier = findings
        .iter_mut()
        .rev()
        .find(|f| f.rule == Rule::RewrittenInHistory && f.file.as_deref() == Some(&path));
    match earlier {
        Some(f) => f.related.push(Related {
            rule: Rule::RewrittenInHistory,
            message: format!(
                "{} restored its first committed text; environments deployed in between ran the rewritten one",
                describe()
            ),
            file: Some(path),
            span: None,
        }),
        None => findings.push(
            Finding::new(Rule::RewrittenInHistory, format!("`{name}` was restored to its first committed text by {}, after an earlier rewrite", describe()))
                .file(path)
                .help(format!("environments deployed while the rewritten text was in place ran it; check them against the first committed text, and change schemas only with new migrations from {short} on")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(label: &str, recorded: &[(&str, &str)], files: &[(&str, &str)]) -> BranchState {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        BranchState {
            label: label.into(),
            recorded: map(recorded),
            files: map(files),
        }
    }

    #[test]
    fn a_file_recorded_on_the_branch_then_rewritten_with_its_line_is_named_with_both_states() {
        let set = SetConfig::with_dir("m".into());
        let states = [
            state("commit A", &[("0003_x.sql", "d1")], &[("0003_x.sql", "d1")]),
            state("commit B", &[("0003_x.sql", "d2")], &[("0003_x.sql", "d2")]),
            state(
                "the work tree",
                &[("0003_x.sql", "d2")],
                &[("0003_x.sql", "d2")],
            ),
        ];
        let f = recorded_then_changed(&set, &HashSet::new(), &states);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("commit A") && f[0].message.contains("commit B"));
        assert_eq!(f[0].file.as_deref(), Some("m/0003_x.sql"));
    }

    #[test]
    fn a_file_recorded_once_and_left_alone_or_recorded_at_the_merge_base_is_not_judged_here() {
        let set = SetConfig::with_dir("m".into());
        let states = [
            state("commit A", &[("0003_x.sql", "d1")], &[("0003_x.sql", "d1")]),
            state(
                "commit B",
                &[("0003_x.sql", "d1"), ("0004_y.sql", "e")],
                &[("0003_x.sql", "d1")],
            ),
        ];
        assert!(recorded_then_changed(&set, &HashSet::new(), &states).is_empty());
        let base: HashSet<String> = ["0003_x.sql".to_string()].into();
        let edited = [
            state("commit A", &[("0003_x.sql", "d1")], &[]),
            state("commit B", &[("0003_x.sql", "d2")], &[]),
        ];
        assert!(recorded_then_changed(&set, &base, &edited).is_empty());
    }

    /// The replay is pure: blob ids are any comparable value, contents come from a closure.
    #[test]
    fn a_rewrite_then_its_revert_is_one_finding_with_a_fact() {
        let set = SetConfig::with_dir("m".into());
        let mut replay = Replay {
            first: HashMap::new(),
            current: HashMap::new(),
        };
        let mut findings = Vec::new();
        let describe = || "commit abc by Ada on 2025-11-05".to_string();
        let content = |id: u32| {
            Some(
                format!(
                    "CREATE TABLE t (id int{});\n",
                    ", x int".repeat(id as usize)
                )
                .into_bytes(),
            )
        };
        let step = |written: Vec<(String, u32)>, ledger_rewritten: bool| Step {
            short: "abc".into(),
            describe: &describe,
            deleted: Vec::new(),
            written,
            ledger_rewritten,
            ledger_deleted: false,
        };
        replay.apply(
            &set,
            step(vec![("0001_a.sql".into(), 0)], false),
            &mut findings,
            content,
        );
        assert!(findings.is_empty(), "a first commit is no rewrite");
        replay.apply(
            &set,
            step(vec![("0001_a.sql".into(), 1)], false),
            &mut findings,
            content,
        );
        replay.apply(
            &set,
            step(vec![("0001_a.sql".into(), 0)], true),
            &mut findings,
            content,
        );
        let codes: Vec<Rule> = findings.iter().map(|f| f.rule).collect();
        assert_eq!(codes, [Rule::RewrittenInHistory, Rule::LockRewritten]);
        assert!(
            findings[0].message.contains("statement 1 changed"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].related.len(), 1);
        assert!(findings[0].related[0]
            .message
            .contains("restored its first committed text"));
    }
}
