//! `check --history-export FILE`: reconciles the ledger and the files with a CSV export of the
//! database's `migration_history` table (`\copy migration_history to 'h.csv' csv header`).
//! No database connection is ever made.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::config::{self, SetConfig};
use crate::finding::Finding;
use crate::ledger::Ledger;
use crate::rules::Rule;
use crate::snapshot::Snapshot;
use crate::Fatal;

/// One CSV record with the byte offset of its start.
pub fn parse_csv(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut row_start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek().map(|p| p.1) == Some('"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            '"' if field.is_empty() => quoted = true,
            ',' if !quoted => row.push(std::mem::take(&mut field)),
            '\n' if !quoted => {
                row.push(std::mem::take(&mut field));
                if row.iter().any(|f| !f.trim().is_empty()) {
                    rows.push((row_start, std::mem::take(&mut row)));
                }
                row.clear();
                row_start = i + 1;
            }
            '\r' if !quoted => {}
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push((row_start, row));
    }
    rows
}

/// Reconciles a set (its snapshot and ledger) with a CSV export of `migration_history`. `root`
/// is where paths in findings are relative to.
pub fn check(
    root: &Path,
    set: &SetConfig,
    snapshot: &Snapshot,
    ledger: &Ledger,
    export: &Path,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> crate::Result<Vec<Finding>> {
    let bytes = std::fs::read(export).map_err(|e| Fatal::io(export.display(), e))?;
    let shown = config::relative_to(
        root,
        &export
            .canonicalize()
            .unwrap_or_else(|_| export.to_path_buf()),
    );
    let text = String::from_utf8_lossy(&bytes).into_owned();
    sources.insert(shown.clone(), Arc::from(bytes));
    let rows = parse_csv(&text);
    let Some((_, header)) = rows.first() else {
        return Err(Fatal::config(
            format!("{shown} is empty"),
            "export with a header row: \\copy migration_history to 'h.csv' csv header",
        ));
    };
    let col = |name: &str| {
        header.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let (Some(fi), Some(ci)) = (col("filename"), col("checksum")) else {
        return Err(Fatal::config(
            format!(
                "{shown} has no `filename` and `checksum` columns (header: {})",
                header.join(",")
            ),
            "export with a header row: \\copy migration_history to 'h.csv' csv header",
        ));
    };
    // The database may store a path; the ledger stores the file name.
    let mut db: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (offset, row) in rows.iter().skip(1) {
        let (Some(f), Some(c)) = (row.get(fi), row.get(ci)) else {
            continue;
        };
        let name = f
            .trim()
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .to_string();
        let checksum = c.trim().trim_start_matches("sha256:").to_ascii_lowercase();
        db.insert(name, (checksum, *offset));
    }
    let mut findings = Vec::new();
    let at = |offset: usize| {
        offset
            ..offset
                + text[offset..]
                    .find('\n')
                    .unwrap_or(text.len() - offset)
                    .max(1)
    };
    for (name, (checksum, offset)) in &db {
        let disk = snapshot.file(name).map(|f| f.digest().to_string());
        match ledger.get(name) {
            None => findings.push(
                Finding::new(
                    Rule::HistoryMismatch,
                    format!("the database applied `{name}` but the ledger does not record it"),
                )
                .file(shown.clone())
                .at(at(*offset), "applied in the database")
                .help(format!(
                    "run `miglint record {name}` if the file is unchanged since it was applied"
                )),
            ),
            Some(e) if e.digest != *checksum => findings.push(
                Finding::new(
                    Rule::HistoryMismatch,
                    format!(
                        "`{name}`: the database recorded checksum {checksum}, the ledger {}",
                        e.digest
                    ),
                )
                .file(shown.clone())
                .at(at(*offset), "database checksum")
                .help(
                    "find out which bytes really ran; the ledger must carry the database's value",
                ),
            ),
            Some(_) => {}
        }
        match disk {
            Some(d) if d != *checksum => findings.push(
                Finding::new(
                    Rule::HistoryMismatch,
                    format!(
                        "`{name}` on disk has checksum {d}, but the database applied {checksum}"
                    ),
                )
                .file(shown.clone())
                .at(at(*offset), "database checksum")
                .help("restore the applied content of the file; put changes in a new migration"),
            ),
            None => findings.push(
                Finding::new(
                    Rule::HistoryMismatch,
                    format!("the database applied `{name}`, which is not in {}", set.dir),
                )
                .file(shown.clone())
                .at(at(*offset), "applied in the database")
                .help("restore the applied file from git"),
            ),
            _ => {}
        }
    }
    for e in &ledger.entries {
        if !db.contains_key(&e.name) {
            findings.push(
                Finding::new(Rule::HistoryMismatch, format!("the ledger records `{}` but the database export has no row for it", e.name))
                    .file(set.lock.clone())
                    .at(e.span.clone(), "not in the database")
                    .help("apply the migration, or remove an entry recorded by mistake (before it is merged)"),
            );
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_offsets() {
        let rows = parse_csv("filename,checksum\n\"a,b.sql\",\"x\"\"y\"\r\nc.sql,z");
        assert_eq!(
            rows[1],
            (18, vec!["a,b.sql".to_string(), "x\"y".to_string()])
        );
        assert_eq!(rows[2].1, vec!["c.sql", "z"]);
    }
}
