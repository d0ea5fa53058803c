//! `miglint init --from-history FILE`: adoption. A team that already applies its migrations has
//! a `migration_history` table; its export (`\copy … to 'h.csv' csv header`) says which files
//! the database took and with which checksum. This seeds the ledger with exactly those files,
//! after comparing each checksum with the file on disk: a mismatch, a listed file that is not
//! in the set, or an unlisted file before a listed one is reported and nothing is written
//! (a ledger that disagrees with the database would protect the wrong bytes).

use std::path::Path;

use super::{emit_json, only_human_or_json, Ctx};
use crate::check::Workspace;
use crate::config::SetConfig;
use crate::export::Export;
use crate::fsutil::create_new_atomic;
use crate::ledger;
use crate::report::Format;
use crate::rules::naming::migrations;
use crate::Fatal;
use serde_json::json;
use std::process::ExitCode;

/// What adoption did, or why it did not.
pub struct Adoption {
    /// The ledger written (relative to the root) and the files it records, in order.
    pub ledger: String,
    pub recorded: Vec<String>,
    /// Files of the set the database has not applied (pending).
    pub pending: Vec<String>,
    /// Why nothing was written (empty when the ledger was written).
    pub problems: Vec<String>,
}

/// Seeds `set`'s ledger from `export` (see the module doc). Refuses when the ledger already
/// records anything: adoption happens once; later applications are `miglint record`.
pub fn run(ws: &Workspace, set: &SetConfig, export: &Export) -> crate::Result<Adoption> {
    let lock = ws.root.join(&set.lock);
    if std::fs::metadata(&lock).is_ok_and(|m| m.len() > 0) {
        return Err(Fatal::refused(
            format!("the ledger {} already records migrations", set.lock),
            "adoption seeds an empty ledger once; record later applications with `miglint record`",
        ));
    }
    let snap = ws.read_worktree(set)?;
    let files = migrations(set, &snap);
    // One history table may serve several sets: a row naming another set's file belongs there.
    let mut elsewhere = std::collections::HashSet::new();
    for other in ws.config.sets.iter().filter(|s| s.dir != set.dir) {
        if let Ok(o) = ws.read_worktree(other) {
            elsewhere.extend(o.files.iter().map(|f| f.name.clone()));
        }
    }
    let mut problems = Vec::new();
    for (name, (checksum, _)) in &export.applied {
        match snap.file(name) {
            None if elsewhere.contains(name) => {}
            None => problems.push(format!(
                "the database applied `{name}` but {} has no such file: restore it before adopting",
                set.dir
            )),
            Some(f) if *f.digest() != **checksum => problems.push(format!(
                "`{name}` differs from what the database applied: the export says sha256 {checksum}, the file is {}; restore the applied bytes (the database is the truth) before adopting",
                f.digest()
            )),
            Some(_) => {}
        }
    }
    let last_applied = files
        .iter()
        .rposition(|m| export.applied.contains_key(&m.name));
    let mut recorded = Vec::new();
    let mut pending = Vec::new();
    for (i, m) in files.iter().enumerate() {
        if export.applied.contains_key(&m.name) {
            recorded.push(m.name.clone());
        } else if last_applied.is_some_and(|last| i < last) {
            problems.push(format!(
                "`{}` comes before applied migrations but the database has no row for it: apply it (or find out why it was skipped) before adopting",
                m.name
            ));
        } else {
            pending.push(m.name.clone());
        }
    }
    if problems.is_empty() && !recorded.is_empty() {
        write_ledger(&lock, &snap, &recorded)?;
    }
    Ok(Adoption {
        ledger: set.lock.clone(),
        recorded,
        pending,
        problems,
    })
}

/// Writes the new ledger (never over an existing file: `create_new_atomic`).
fn write_ledger(
    lock: &Path,
    snap: &crate::snapshot::Snapshot,
    names: &[String],
) -> crate::Result<()> {
    let mut bytes = Vec::new();
    for name in names {
        let file = snap
            .file(name)
            .ok_or_else(|| Fatal::io(name, "unreadable"))?;
        bytes.extend_from_slice(ledger::format_line(file.digest(), name).as_bytes());
    }
    if std::fs::metadata(lock).is_ok() {
        // An empty ledger file: replace it atomically.
        return crate::fsutil::write_atomic(lock, &bytes);
    }
    create_new_atomic(lock, &bytes)
}

/// The set the export is about: the one holding most of its files (`--set` chooses otherwise).
pub fn choose_set<'w>(ws: &'w Workspace, export: &Export) -> crate::Result<&'w SetConfig> {
    let held = |set: &SetConfig| {
        ws.read_worktree(set)
            .map(|snap| {
                export
                    .applied
                    .keys()
                    .filter(|n| snap.file(n).is_some())
                    .count()
            })
            .unwrap_or(0)
    };
    ws.config
        .sets
        .iter()
        .max_by_key(|s| held(s))
        .ok_or_else(|| Fatal::config("no set is configured", "run `miglint init` first"))
}

/// What to do next, in order: each a command on its own line where there is one.
pub fn next_steps(adoption: &Adoption, config: &str) -> Vec<String> {
    vec![
        format!(
            "1. review {config} and commit it with the ledger:\n     git add {config} {} && git commit -m \"Adopt miglint\"",
            adoption.ledger
        ),
        "2. check every commit: add the pre-commit hook (README, \"pre-commit\"), or install the plain git hooks:\n     miglint init --hooks".to_string(),
        "3. make it a required CI check: the GitHub Action or the GitLab snippet (docs/git.md, \"CI\"), then record each deploy:\n     miglint record <file>".to_string(),
    ]
}

/// `init --from-history`: miglint.toml (when missing), then the ledger seeded from the export.
pub fn cli(ctx: &Ctx, export: &Path, set: Option<&str>) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "init")?;
    let root = match crate::git::open(&ctx.cwd) {
        Ok(Some(repo)) => crate::vcs::Vcs::work_dir(&repo).to_path_buf(),
        _ => ctx.cwd.clone(),
    };
    let config = ctx
        .config
        .clone()
        .unwrap_or_else(|| root.join(crate::config::FILE_NAME));
    let wrote = if config.exists() {
        None
    } else {
        Some(super::init::run(&root)?.0)
    };
    let ws = ctx.open(&[])?;
    let export = crate::export::read(&root, &ctx.cwd.join(export))?;
    let set = match set {
        Some(name) => ws.select_set(Some(name))?,
        None => choose_set(&ws, &export)?,
    };
    let adoption = run(&ws, set, &export)?;
    let shown = crate::config::relative_to(&root, &config);
    let next = next_steps(&adoption, &shown);
    let ok = adoption.problems.is_empty();
    if format == Format::Json {
        emit_json(json!({
            "version": 1, "wrote_config": wrote, "set": set.dir, "ledger": adoption.ledger,
            "recorded": adoption.recorded, "pending": adoption.pending,
            "problems": adoption.problems, "next": if ok { next } else { Vec::new() },
        }));
    } else if ok {
        if let Some(path) = &wrote {
            println!("miglint: wrote {path}");
        }
        println!(
            "miglint: recorded {} applied migration{} of {} in {} ({} pending)",
            adoption.recorded.len(),
            if adoption.recorded.len() == 1 {
                ""
            } else {
                "s"
            },
            set.dir,
            adoption.ledger,
            adoption.pending.len()
        );
        println!("next:");
        for step in &next {
            println!("  {step}");
        }
    } else {
        for p in &adoption.problems {
            eprintln!("miglint: {}", crate::finding::escape_controls(p));
        }
        eprintln!("miglint: nothing was recorded; fix the above and run it again");
    }
    Ok(ExitCode::from(u8::from(!ok)))
}
