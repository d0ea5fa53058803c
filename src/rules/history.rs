//! `history-mismatch`: the ledger and the files reconciled with what the database applied (a
//! CSV export of `migration_history`, read by [`crate::export`]). One finding per migration
//! whose three checksums disagree, saying which of them is the odd one out: that decides the
//! fix (restore the file, or correct the ledger), and neither re-runs applied SQL.

use crate::config::SetConfig;
use crate::export::Export;
use crate::finding::{Finding, Related};
use crate::ledger::Ledger;
use crate::registry::Rule;
use crate::snapshot::Snapshot;

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
