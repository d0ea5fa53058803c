//! `checksum-mismatch`, `applied-file-missing`, `out-of-order`, `lock-invalid`,
//! `unrecorded-migrations`: a snapshot's files against the ledger in the same snapshot.

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::ledger::{self, Ledger};
use crate::naming;
use crate::registry::Rule;
use crate::rules::naming::{rename_to, Migration};
use crate::snapshot::{RecordedBlob, Snapshot};
use std::collections::HashMap;

/// Why two byte strings differ when they differ only in line endings or a BOM, if they do.
pub fn encoding_only_difference(recorded_digest: &str, bytes: &[u8]) -> Option<&'static str> {
    let strip_bom = |b: &[u8]| b.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec);
    let to_lf = crate::snapshot::crlf_to_lf;
    let to_crlf = |b: &[u8]| {
        let mut out = Vec::with_capacity(b.len() + b.len() / 20);
        for (i, &c) in b.iter().enumerate() {
            if c == b'\n' && (i == 0 || b[i - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(c);
        }
        out
    };
    let matches = |candidate: &[u8]| ledger::sha256_hex(candidate) == recorded_digest;
    if matches(&to_lf(bytes)) {
        return Some("line endings: the file now has CRLF where the recorded file had LF");
    }
    if matches(&to_crlf(bytes)) {
        return Some("line endings: the file now has LF where the recorded file had CRLF");
    }
    if let Some(without) = strip_bom(bytes) {
        if matches(&without) || matches(&to_lf(&without)) {
            return Some(
                "a byte-order mark: the file now starts with a BOM the recorded file did not have",
            );
        }
    }
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(bytes);
    if matches(&with_bom) {
        return Some("a byte-order mark: the recorded file started with a BOM that is now gone");
    }
    None
}

pub struct LedgerInput<'a> {
    pub set: &'a SetConfig,
    pub snap: &'a Snapshot,
    pub migrations: &'a [Migration],
    pub require_recorded: bool,
}

/// Checks the snapshot's ledger, parsed once by the caller (`ledger::parse` of its bytes; the
/// engine needs the entries before the per-file pass). Returns the ledger for later rules.
pub fn check(
    input: &LedgerInput,
    parsed: (Ledger, Vec<ledger::LedgerError>),
) -> (Vec<Finding>, Ledger) {
    let LedgerInput {
        set,
        snap,
        migrations,
        require_recorded,
    } = *input;
    let mut findings = Vec::new();
    if snap.ledger.is_none() {
        if require_recorded {
            findings.extend(unrecorded(set, migrations, &Ledger::default(), true));
        }
        return (findings, Ledger::default());
    }
    let (ledger, errors) = parsed;
    for e in errors {
        findings.push(
            Finding::new(Rule::LockInvalid, e.message)
                .file(set.lock.clone())
                .at(e.span, "here")
                .help(e.help),
        );
    }
    let (order, newest_recorded) = entry_order(set, &ledger);
    findings.extend(order);
    for entry in &ledger.entries {
        findings.extend(match snap.file(&entry.name) {
            Some(file) => changed(entry, file),
            None => Some(missing(set, snap, &ledger, entry)),
        });
    }
    findings.extend(below_recorded(set, migrations, &ledger, newest_recorded));
    findings.extend(unrecorded(set, migrations, &ledger, require_recorded));
    (findings, ledger)
}

/// `lock-invalid`: entries must name this set's migrations, in migration order. Also returns
/// the newest recorded number (each name is parsed once).
fn entry_order(set: &SetConfig, ledger: &Ledger) -> (Vec<Finding>, Option<u64>) {
    let mut findings = Vec::new();
    let mut newest: Option<u64> = None;
    let mut previous: Option<(u64, &str)> = None;
    let convention = naming::convention(set);
    for entry in &ledger.entries {
        match convention.parse(&naming::recorded_name(&entry.name)) {
            Ok(p) => {
                if let Some((n, prev)) = previous {
                    if p.number <= n {
                        findings.push(
                            Finding::new(Rule::LockInvalid, format!("`{}` is recorded after `{prev}`: entries are not in migration order", entry.name))
                                .file(set.lock.clone())
                                .at(entry.span.clone(), "out of order")
                                .help("restore the ledger from git; `miglint record` only ever appends in order"),
                        );
                    }
                }
                previous = Some((p.number, &entry.name));
                newest = newest.max(Some(p.number));
            }
            Err(e) => findings.push(
                Finding::new(
                    Rule::LockInvalid,
                    format!(
                        "`{}` is not a migration name of this set: {}",
                        entry.name, e.reason
                    ),
                )
                .file(set.lock.clone())
                .at(entry.span.clone(), "not a migration")
                .help("the ledger records only migrations of this set"),
            ),
        }
    }
    (findings, newest)
}

/// `checksum-mismatch`: an applied file whose bytes are no longer the recorded ones.
fn changed(entry: &ledger::Entry, file: &crate::snapshot::MigrationFile) -> Option<Finding> {
    let actual = file.digest();
    if actual == entry.digest {
        return None;
    }
    let help = match encoding_only_difference(&entry.digest, &file.bytes) {
        Some(what) => format!(
            "the content is the same; only {what}. This is usually git's `core.autocrlf` or an editor: restore the recorded bytes and pin them with `*.sql -text` (or `eol=lf`) in .gitattributes"
        ),
        None => "applied migrations must never change: restore the recorded content (`git checkout` the version that was recorded) and put the change in a new migration".into(),
    };
    Some(
        Finding::new(
            Rule::ChecksumMismatch,
            format!(
                "applied migration `{}` changed: recorded sha256 {} but the file is now {actual}",
                entry.name, entry.digest
            ),
        )
        .file(file.path.clone())
        .help(help),
    )
}

/// `applied-file-missing`: a recorded file is gone, or renamed (same bytes, another name).
fn missing(set: &SetConfig, snap: &Snapshot, ledger: &Ledger, entry: &ledger::Entry) -> Finding {
    let renamed = snap
        .files
        .iter()
        .find(|f| ledger.get(&f.name).is_none() && f.digest() == entry.digest);
    let (message, help) = match renamed {
        Some(f) => (
            format!(
                "applied migration `{}` was renamed to `{}`",
                entry.name, f.name
            ),
            format!(
                "rename `{}` back to `{}`: the database records the applied file by its name",
                f.name, entry.name
            ),
        ),
        None => (
            format!("applied migration `{}` is missing", entry.name),
            "restore the file from git; to undo its change, add a new migration instead"
                .to_string(),
        ),
    };
    Finding::new(Rule::AppliedFileMissing, message)
        .file(set.lock.clone())
        .at(entry.span.clone(), "recorded here")
        .help(help)
}

/// `out-of-order`: a new migration numbered below the newest recorded one would be applied
/// after newer migrations.
fn below_recorded(
    set: &SetConfig,
    migrations: &[Migration],
    ledger: &Ledger,
    newest_recorded: Option<u64>,
) -> Vec<Finding> {
    let Some(last) = newest_recorded else {
        return Vec::new();
    };
    let last_number = migrations.iter().map(|m| m.number).max();
    migrations
        .iter()
        .filter(|m| ledger.get(&m.name).is_none() && m.number < last)
        .map(|m| {
            Finding::new(Rule::OutOfOrder, format!("`{}` is not recorded but is numbered below the newest applied migration ({})", m.name, naming::number_text(set, last)))
                .file(m.path.clone())
                .help(format!("it would be applied after newer migrations; if it is new on this branch, rename it to {} (or run `miglint renumber`); if it is already merged, apply it and record it with `miglint record {} --allow-out-of-order`", rename_to(set, last_number, m), m.name))
        })
        .collect()
}

fn unrecorded(
    set: &SetConfig,
    migrations: &[Migration],
    ledger: &Ledger,
    required: bool,
) -> Vec<Finding> {
    migrations
        .iter()
        .filter(|m| ledger.get(&m.name).is_none())
        .map(|m| {
            let f = Finding::new(
                Rule::UnrecordedMigrations,
                format!("`{}` is not recorded as applied", m.name),
            )
            .file(m.path.clone())
            .help(format!(
                "apply it, then run `miglint record {}` (set {})",
                m.name, set.name
            ));
            Finding {
                rating: required.then_some(crate::registry::Rating::Required),
                ..f
            }
        })
        .collect()
}

/// Says, for each `checksum-mismatch`, whether the edit is cosmetic or which statement changed,
/// and gives it and each `applied-file-missing` the command that restores the recorded bytes.
/// `find` looks the recorded bytes up by (path, SHA-256) — in git, for the engine — so the rule
/// stays pure. A mass mismatch (every file re-encoded) is annotated for its first 100 files
/// only: the cause is the same and the lookup stays bounded.
pub fn with_recorded_bytes(
    set: &SetConfig,
    snapshot: &Snapshot,
    ledger: &crate::ledger::Ledger,
    findings: Vec<Finding>,
    find: impl FnOnce(&[(String, String)]) -> HashMap<String, RecordedBlob>,
) -> Vec<Finding> {
    if !findings
        .iter()
        .any(|f| matches!(f.rule, Rule::ChecksumMismatch | Rule::AppliedFileMissing))
    {
        return findings;
    }
    let file_of = |f: &Finding| {
        snapshot
            .files
            .iter()
            .find(|m| f.file.as_deref() == Some(m.path.as_str()))
    };
    // An applied file that is gone: its ledger entry is the finding's span.
    let missing_of = |f: &Finding| {
        ledger.entries.iter().find(|e| {
            f.file.as_deref() == Some(set.lock.as_str()) && f.span == Some(e.span.clone())
        })
    };
    let mut wanted: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.rule == Rule::ChecksumMismatch)
        .filter_map(&file_of)
        .filter_map(|m| {
            ledger
                .get(&m.name)
                .map(|e| (m.path.clone(), e.digest.clone()))
        })
        .take(100)
        .collect();
    wanted.extend(
        findings
            .iter()
            .filter(|f| f.rule == Rule::AppliedFileMissing)
            .filter_map(&missing_of)
            .map(|e| (crate::config::join(&set.dir, &e.name), e.digest.clone()))
            .take(100),
    );
    let old = find(&wanted);
    findings
        .into_iter()
        .map(|f| {
            if f.rule == Rule::AppliedFileMissing {
                let path = missing_of(&f).map(|e| crate::config::join(&set.dir, &e.name));
                return match path.and_then(|p| old.get(&p)) {
                    Some(o) => f
                        .help("restore it as recorded (the command below); to undo its change, add a new migration instead")
                        .command(o.restore.clone()),
                    None => f,
                };
            }
            if f.rule != Rule::ChecksumMismatch {
                return f;
            }
            match file_of(&f).and_then(|m| old.get(&m.path).map(|o| (m, o))) {
                Some((m, o)) if m.is_complete() => {
                    let f = f
                        .help("applied migrations must never change: restore the recorded bytes (the command below) and put the change in a new migration")
                        .command(o.restore.clone());
                    crate::rules::edits::annotate(set, f, &o.bytes, &m.bytes)
                }
                _ => f,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_crlf_and_bom_only_changes() {
        let recorded = ledger::sha256_hex(b"SELECT 1;\nSELECT 2;\n");
        assert!(
            encoding_only_difference(&recorded, b"SELECT 1;\r\nSELECT 2;\r\n")
                .unwrap()
                .contains("CRLF")
        );
        assert!(
            encoding_only_difference(&recorded, b"\xEF\xBB\xBFSELECT 1;\nSELECT 2;\n")
                .unwrap()
                .contains("byte-order")
        );
        assert!(encoding_only_difference(&recorded, b"SELECT 3;\n").is_none());
    }
}
