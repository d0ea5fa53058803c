//! `history-mismatch` for a sqlx set: sqlx's own verdict at deploy, predicted from an export of
//! its `_sqlx_migrations` table (`psql --csv -c 'SELECT * FROM _sqlx_migrations'`).
//!
//! sqlx records each applied version with the SHA-384 of the migration's text, and
//! `sqlx migrate run` stops with "migration V was previously applied but has been modified" when
//! a file's bytes hash differently — a newline added at the end, CRLF line endings, a comment
//! (sqlx-core `migrate/migration.rs`: `Sha384::digest(sql)`; observed with sqlx-cli 0.9). A row
//! whose `success` is false stops it too (the migration is "partially applied"). Each
//! prediction names the checksum sqlx recorded and the one it will compute, so the fix (restore
//! the applied bytes) never re-runs applied SQL.

use crate::export::Export;
use crate::finding::Finding;
use crate::registry::Rule;
use crate::rules::naming::Migration;
use crate::snapshot::Snapshot;

/// Lowercase hex SHA-384 of raw bytes: sqlx's checksum.
pub fn sha384_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha384::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Each row of the export against the up file of its version.
pub fn reconcile(export: &Export, migrations: &[Migration], snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (version, (db, span)) in &export.applied {
        let at = |f: Finding, label: &str| f.file(export.shown.clone()).at(span.clone(), label);
        let number = version.parse::<u64>().ok();
        let file = migrations
            .iter()
            .find(|m| Some(m.number) == number)
            .and_then(|m| snapshot.file(&m.name));
        if export.failed.contains(version) {
            findings.push(at(
                Finding::new(Rule::HistoryMismatch, format!("sqlx recorded migration {version} as failed part-way (`success` is false): `sqlx migrate run` stops until the row is resolved")),
                "failed",
            ).help("find out what the failed run left in the database and finish or undo it by hand, then delete or fix the row; never re-run the file over a half-applied schema"));
            continue;
        }
        let Some(file) = file else {
            findings.push(at(
                Finding::new(Rule::HistoryMismatch, format!("sqlx applied migration {version}, which no file of this set has: `sqlx migrate run` stops (previously applied but missing)")),
                "applied in the database",
            ).help("restore the applied file from git (`git log --all --diff-filter=D` finds it); to undo its change, add a new migration"));
            continue;
        };
        if !file.is_complete() {
            findings.push(
                at(
                    Finding::new(
                        Rule::HistoryMismatch,
                        format!(
                            "`{}` is too large to hold, so sqlx's checksum of it was not computed",
                            file.name
                        ),
                    ),
                    "not verified",
                )
                .help("raise `max_file_size` for this set to verify it"),
            );
            continue;
        }
        let local = sha384_hex(&file.bytes);
        if local != *db {
            findings.push(
                at(
                    Finding::new(Rule::HistoryMismatch, format!("sqlx will refuse to deploy: migration {version} (`{}`) was previously applied but has been modified", file.name)),
                    "applied checksum",
                )
                .help(format!("restore the bytes that were applied (sqlx hashes every byte: a final newline or CRLF line endings count); put the change in a new migration. Applied SHA-384 {db}, the file now {local}")),
            );
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Layout;
    use crate::rules::fixture;

    /// The checksum sqlx-cli 0.9 recorded for this exact text (a real `_sqlx_migrations` row).
    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
    const USERS_SHA384: &str = "c72d83fd3fa44d3458d479ba249777d97527fde4ccd1e1483878051ba8ee6f15fcf7964f412c5d17e122e4397248e42a";

    fn export(rows: &[(&str, &str, bool)]) -> Export {
        let mut e = Export {
            shown: "sqlx.csv".into(),
            tool: Some(crate::export::Tool::Sqlx),
            ..Export::default()
        };
        for (i, (v, c, ok)) in rows.iter().enumerate() {
            e.applied.insert(v.to_string(), (c.to_string(), i..i + 1));
            if !ok {
                e.failed.push(v.to_string());
            }
        }
        e
    }

    fn codes(files: &[(&str, &str)], rows: &[(&str, &str, bool)]) -> Vec<String> {
        let f = fixture::set_in(Layout::Sqlx, files);
        reconcile(&export(rows), &f.migrations, &f.snapshot)
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn the_same_bytes_pass_and_a_final_newline_does_not() {
        assert_eq!(sha384_hex(USERS.as_bytes()), USERS_SHA384);
        let rows = [("20250101000000", USERS_SHA384, true)];
        assert!(codes(&[("20250101000000_users.sql", USERS)], &rows).is_empty());
        let edited = format!("{USERS}\n");
        let found = codes(&[("20250101000000_users.sql", &edited)], &rows);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("has been modified"), "{found:?}");
    }

    #[test]
    fn a_missing_file_and_a_failed_row_stop_sqlx() {
        let found = codes(
            &[("20250101000000_users.sql", USERS)],
            &[
                ("20250101000000", USERS_SHA384, false),
                ("20250102000000", USERS_SHA384, true),
            ],
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("failed part-way"));
        assert!(found[1].contains("no file of this set has"));
    }
}
