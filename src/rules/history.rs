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
use std::collections::HashMap;
use std::hash::Hash;

pub fn reconcile(
    set: &SetConfig,
    export: &Export,
    snapshot: &Snapshot,
    ledger: &Ledger,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let row = |f: Finding, span: &std::ops::Range<usize>, label: &str| {
        f.file(export.shown.clone()).at(span.clone(), label)
    };
    for (name, (db, span)) in &export.applied {
        let disk = snapshot.file(name).map(|f| f.digest().to_string());
        let recorded = ledger.get(name).map(|e| e.digest.clone());
        let finding = match (recorded.as_deref(), disk.as_deref()) {
            (_, None) => Some(row(
                Finding::new(
                    Rule::HistoryMismatch,
                    format!("the database applied `{name}`, which is not in {}", set.dir),
                ),
                span,
                "applied in the database",
            )
            .help(format!(
                "restore the applied file from git (`git log --all -- {}/{name}` finds it)",
                set.dir
            ))),
            (None, Some(d)) => {
                let mut f = row(
                    Finding::new(
                        Rule::HistoryMismatch,
                        format!("the database applied `{name}` but the ledger does not record it"),
                    ),
                    span,
                    "applied in the database",
                );
                if d == db {
                    f = f.help(format!("the file is unchanged since it was applied: record it with `miglint record {name}`"));
                } else {
                    f = f.help("the file changed since it was applied: restore the applied bytes, then record it; put changes in a new migration");
                    f.related.push(fact(format!("the file on disk has checksum {d}, the database {db}"), &set.dir, name));
                }
                Some(f)
            }
            (Some(r), Some(d)) if r == db && d == db => None,
            (Some(r), Some(d)) if r == db => Some(
                row(
                    Finding::new(
                        Rule::HistoryMismatch,
                        format!("`{name}` on disk has checksum {d}, but the database and the ledger have {db}"),
                    ),
                    span,
                    "database checksum",
                )
                .help("restore the applied content of the file; put changes in a new migration"),
            ),
            (Some(r), Some(d)) if d == r => Some(
                row(
                    Finding::new(
                        Rule::HistoryMismatch,
                        format!("the database applied `{name}` with checksum {db}, but the ledger and the file have {r}"),
                    ),
                    span,
                    "database checksum",
                )
                .help("find out which bytes really ran: if the file changed after it was applied, restore the applied bytes; the ledger must carry the database's value"),
            ),
            (Some(r), Some(d)) if d == db => Some(
                row(
                    Finding::new(
                        Rule::HistoryMismatch,
                        format!("the ledger records `{name}` with checksum {r}, but the database and the file have {db}"),
                    ),
                    span,
                    "database checksum",
                )
                .help("correct the ledger line to the database's checksum (the file is what ran)"),
            ),
            (Some(r), Some(d)) => {
                let mut f = row(
                    Finding::new(
                        Rule::HistoryMismatch,
                        format!("`{name}`: the database recorded checksum {db}, the ledger {r}, the file {d}: all three differ"),
                    ),
                    span,
                    "database checksum",
                )
                .help("find out which bytes really ran, restore the file to them and correct the ledger; put changes in a new migration");
                f.related.push(fact(format!("the file on disk has checksum {d}"), &set.dir, name));
                Some(f)
            }
        };
        findings.extend(finding);
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
                let earlier = findings.iter_mut().rev().find(|f| {
                    f.rule == Rule::RewrittenInHistory && f.file.as_deref() == Some(&path)
                });
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
                            .help(format!("environments deployed while the rewritten text was in place ran it; check them against the first committed text, and change schemas only with new migrations from {} on", step.short)),
                    ),
                }
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

#[cfg(test)]
mod tests {
    use super::*;

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
