//! `miglint record`: append ledger entries for migrations that were just applied.

use std::path::Path;

use super::{emit_json, only_human_or_json, Ctx};
use crate::check::{self, Workspace};
use crate::finding::Severity;
use crate::fsutil::{write_atomic, LockGuard};
use crate::ledger;
use crate::report::Format;
use crate::rules::naming::Migration;
use crate::Fatal;
use serde_json::json;
use std::process::ExitCode;

pub struct RecordArgs {
    pub targets: Vec<String>,
    pub through: Option<String>,
    pub set: Option<String>,
    pub allow_out_of_order: bool,
}

/// One line printed per recorded entry: the SQL an operator pastes so the database record and
/// the ledger carry the same value.
pub fn insert_sql(table: &str, columns: &[String; 2], name: &str, digest: &str) -> String {
    format!(
        "INSERT INTO {table} ({}, {}) VALUES ('{}', '{digest}');",
        columns[0],
        columns[1],
        name.replace('\'', "''")
    )
}

/// The set's history table: configured, else the `…migration_history` table its SQL creates
/// (`CREATE TABLE [IF NOT EXISTS] auth.migration_history`), else `migration_history` for a
/// hand-applied set. A tool's layout has none: the tool keeps its own record (golang-migrate's
/// one-row `schema_migrations`), and an INSERT into a table nobody created would mislead.
pub fn history_table(
    set: &crate::config::SetConfig,
    snap: &crate::snapshot::Snapshot,
) -> Option<String> {
    if let Some(t) = &set.history_table {
        return Some(t.clone());
    }
    created_history_table(snap.files.iter().map(|f| &*f.bytes)).or_else(|| {
        (set.layout == crate::config::Layout::Plain).then(|| "migration_history".into())
    })
}

/// The `…migration_history` table that some of `texts` create, if any.
pub fn created_history_table<'a>(texts: impl Iterator<Item = &'a [u8]>) -> Option<String> {
    static RE: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::bytes::Regex::new(
            r#"(?i)create\s+table\s+(?:if\s+not\s+exists\s+)?((?:"?[a-z_][a-z0-9_]*"?\.)?"?[a-z_0-9]*migration_history"?)"#,
        )
        .expect("valid regex")
    });
    texts
        .filter_map(|t| re.captures(t))
        .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
        .next()
}

fn find<'a>(state: &'a check::SetState, target: &str) -> crate::Result<&'a Migration> {
    let migrations = &state.migrations;
    let name = Path::new(target)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(m) = migrations.iter().find(|m| m.name == name) {
        return Ok(m);
    }
    if let Ok(n) = target.parse::<u64>() {
        let hits: Vec<&Migration> = migrations.iter().filter(|m| m.number == n).collect();
        match hits.as_slice() {
            [one] => return Ok(one),
            [] => {}
            many => {
                return Err(Fatal::refused(
                    format!(
                        "number {target} is ambiguous: {}",
                        many.iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "name the file instead of its number",
                ))
            }
        }
    }
    if state.downs.iter().any(|d| d.name == name) {
        return Err(Fatal::refused(
            format!(
                "`{target}` is a down file: deploys never run it, so there is nothing to record"
            ),
            "record the up file of the version that was applied (its name or its number)",
        ));
    }
    Err(Fatal::refused(
        format!("`{target}` is not a migration of this set"),
        "pass a file name (0003_x.sql) or a number (3 or 0003)",
    ))
}

/// The migrations the arguments name (file names or numbers, and every unrecorded one up to
/// `--through`), once each, in order.
fn choose<'a>(args: &RecordArgs, state: &'a check::SetState) -> crate::Result<Vec<&'a Migration>> {
    let recorded = &state.ledger;
    let mut chosen: Vec<&Migration> = Vec::new();
    for t in &args.targets {
        let m = find(state, t)?;
        if !chosen.iter().any(|c| c.name == m.name) {
            chosen.push(m);
        }
    }
    if let Some(through) = &args.through {
        let n: u64 = through.parse().map_err(|_| {
            Fatal::config(
                format!("--through {through} is not a number"),
                "pass a migration number, e.g. --through 0005",
            )
        })?;
        for m in state
            .migrations
            .iter()
            .filter(|m| m.number <= n && recorded.get(&m.name).is_none())
        {
            if !chosen.iter().any(|c| c.name == m.name) {
                chosen.push(m);
            }
        }
    }
    chosen.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    Ok(chosen)
}

/// Refuses to record a migration that is recorded already, has findings, or is not the next
/// unrecorded one (unless `--allow-out-of-order`).
fn may_record(
    args: &RecordArgs,
    state: &check::SetState,
    findings: &[crate::finding::Finding],
    chosen: &[&Migration],
) -> crate::Result<()> {
    let recorded = &state.ledger;
    let pending: Vec<&Migration> = state
        .migrations
        .iter()
        .filter(|m| recorded.get(&m.name).is_none())
        .collect();
    for (i, m) in chosen.iter().enumerate() {
        if let Some(e) = recorded.get(&m.name) {
            return Err(Fatal::refused(
                format!("`{}` is already recorded (sha256 {})", m.name, e.digest),
                "each migration is recorded once, right after it is applied",
            ));
        }
        if let Some(f) = findings.iter().find(|f| {
            f.file.as_deref() == Some(m.path.as_str())
                && f.severity == Severity::Error
                && f.rule != crate::registry::Rule::OutOfOrder
        }) {
            return Err(Fatal::refused(
                format!("`{}` has findings: {} ({})", m.name, f.message, f.code()),
                "fix the file and run `miglint check` before recording it",
            ));
        }
        if !args.allow_out_of_order
            && pending.get(i).map(|p| p.name.as_str()) != Some(m.name.as_str())
        {
            let next = pending
                .first()
                .map_or("none".to_string(), |p| p.name.clone());
            return Err(Fatal::refused(
                format!("`{}` is not the next unrecorded migration (next is `{next}`)", m.name),
                "record migrations in the order they were applied, or pass --allow-out-of-order if the database really applied them in this order",
            ));
        }
    }
    Ok(())
}

/// Records the targets; returns how many, and the lines printed on stdout (the history
/// table's INSERTs, when the set has one).
pub fn run(ws: &Workspace, args: &RecordArgs) -> crate::Result<(usize, Vec<String>)> {
    let set = ws.select_set(args.set.as_deref())?;
    if args.targets.is_empty() && args.through.is_none() {
        return Err(Fatal::config(
            "nothing to record",
            "pass file names or numbers, or --through NUMBER",
        ));
    }
    let lock_path = ws.root.join(&set.lock);
    // Replacing the ledger atomically (rename) would turn a link into a plain file and leave its
    // target stale: refuse, and say where the real file is.
    if std::fs::symlink_metadata(&lock_path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Fatal::refused(
            format!("the ledger {} is a symlink", set.lock),
            "point `lock` in miglint.toml at the real file (inside the repository); record never writes through links",
        ));
    }
    // Everything from here to the write happens under the lock, so two runs cannot interleave.
    let _guard = LockGuard::acquire(&lock_path)?;
    let snap = ws.read_worktree(set)?;
    let (findings, state) = check::check_snapshot(set, snap, false);
    let findings = check::finish(&ws.config, &[(set, &state)], findings);
    if let Some(bad) = findings
        .iter()
        .find(|f| f.file.as_deref() == Some(set.lock.as_str()) && f.severity == Severity::Error)
    {
        return Err(Fatal::refused(
            format!("the ledger {} has problems: {}", set.lock, bad.message),
            "run `miglint check` and fix the ledger first",
        ));
    }
    let existing = state
        .snapshot
        .ledger
        .clone()
        .unwrap_or_else(|| std::sync::Arc::from(&b""[..]));
    let chosen = choose(args, &state)?;
    may_record(args, &state, &findings, &chosen)?;
    let mut bytes = existing.to_vec();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    let table = history_table(set, &state.snapshot);
    let mut printed = Vec::new();
    for m in &chosen {
        let file = state
            .snapshot
            .file(&m.name)
            .ok_or_else(|| Fatal::io(&m.path, "unreadable"))?;
        let digest = file.digest().to_string();
        bytes.extend_from_slice(ledger::format_line(&digest, &m.name).as_bytes());
        if let Some(table) = &table {
            printed.push(insert_sql(table, &set.history_columns, &m.name, &digest));
        }
    }
    write_atomic(&lock_path, &bytes)?;
    Ok((chosen.len(), printed))
}

/// `record`: appends to the ledger, then prints the SQL for the database's history table.
pub fn cli(ctx: &Ctx, args: RecordArgs) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "record")?;
    let ws = ctx.open(&[])?;
    let (recorded, lines) = run(&ws, &args)?;
    if format == Format::Json {
        emit_json(json!({ "version": 1, "recorded": recorded, "sql": lines }));
    } else {
        let s = if recorded == 1 { "" } else { "s" };
        if lines.is_empty() {
            eprintln!("miglint: recorded {recorded} migration{s} in the ledger");
        } else {
            eprintln!("miglint: recorded {recorded} migration{s} in the ledger; run these on the database's migration_history if the applier did not:");
        }
        for l in lines {
            println!("{l}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
