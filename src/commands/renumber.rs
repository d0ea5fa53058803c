//! `miglint renumber`: after the base branch took the numbers this branch used, renames this
//! branch's new, unrecorded migrations to follow the base's last one, in order, keeping their
//! names. Never touches a recorded or merged file. (Atlas's `migrate rebase` is the model.)

use std::collections::HashSet;

use super::{emit_json, only_human_or_json, Ctx};
use crate::check::Workspace;
use crate::config;
use crate::ledger;
use crate::naming;
use crate::report::Format;
use crate::rules::naming::migrations;
use crate::Fatal;
use serde_json::json;
use std::process::ExitCode;

/// A renumbering: (from, to) file names in the order they are applied, and the base they follow.
pub struct Plan {
    pub renames: Vec<(String, String)>,
    /// Numbers passed over because another open branch adds them (`--against`), with the ref.
    pub skipped: Vec<(String, String)>,
    /// The base's name, for the next step (`git rebase <base>`).
    pub base: String,
}

/// Plans the renames (see the module doc).
pub fn plan(
    ws: &Workspace,
    base: Option<&str>,
    set: Option<&str>,
    against: &[String],
) -> crate::Result<Plan> {
    let (renames, skipped) = plan_renames(ws, base, set, against)?;
    let base = ws
        .repo("renumber")?
        .resolve_base(base, ws.config.base.as_deref())?
        .map(|b| b.name)
        .unwrap_or_default();
    Ok(Plan {
        renames,
        skipped,
        base,
    })
}

type Renames = (Vec<(String, String)>, Vec<(String, String)>);

fn plan_renames(
    ws: &Workspace,
    base: Option<&str>,
    set: Option<&str>,
    against: &[String],
) -> crate::Result<Renames> {
    let set = ws.select_set(set)?;
    if set.numbering == config::Numbering::Timestamp {
        return Err(Fatal::refused(
            "timestamp-numbered sets are not renumbered",
            "rename the file with a current timestamp by hand",
        ));
    }
    let repo = ws.repo("renumber")?;
    let base_arg = base;
    let base = repo
        .resolve_base(base, ws.config.base.as_deref())?
        .ok_or_else(|| {
            Fatal::new(
                crate::registry::Rule::BaseNotFound,
                "renumber needs a base branch and none was found",
                "pass --base origin/main",
            )
        })?;
    let now = ws.read_worktree(set)?;
    let (mb, tip) = repo.read_base(set, &base, &now)?;
    let (recorded, _) = now.ledger.as_deref().map(ledger::parse).unwrap_or_default();
    let base_migrations: Vec<_> = migrations(set, &mb)
        .into_iter()
        .chain(migrations(set, &tip))
        .collect();
    let base_names: HashSet<&str> = base_migrations.iter().map(|m| m.name.as_str()).collect();
    let Some(newest) = base_migrations.iter().map(|m| m.number).max() else {
        return Ok(Default::default());
    };
    let new: Vec<_> = migrations(set, &now)
        .into_iter()
        .filter(|m| !base_names.contains(m.name.as_str()))
        .collect();
    // Nothing to do when every new migration already follows the base.
    if new.iter().all(|m| m.number > newest)
        && new.iter().map(|m| m.number).collect::<HashSet<_>>().len() == new.len()
    {
        return Ok(Default::default());
    }
    // Past the base's last number, and past any number another open branch adds.
    let claimed = super::claimed_numbers(ws, set, against, base_arg)?;
    let mut skipped = Vec::new();
    let mut next = newest;
    let mut out = Vec::new();
    let mut moves = Vec::new();
    for m in &new {
        next += 1;
        while let Some(by) = claimed.get(&next) {
            skipped.push((naming::number_text(set, next), by.clone()));
            next += 1;
        }
        let to = naming::renamed(set, &m.name, m.digits, next);
        if to == m.name {
            continue;
        }
        if let Some(e) = recorded.get(&m.name) {
            return Err(Fatal::refused(
                format!(
                    "`{}` is recorded as applied (sha256 {}); renaming it would break the record",
                    m.name,
                    &e.digest[..12]
                ),
                "renumber by hand after deciding which database state is true",
            ));
        }
        out.push((m.name.clone(), to));
        moves.push((m.number, next));
    }
    out.extend(down_moves(set, &now, &moves));
    refuse_clash(&now, &out)?;
    Ok((out, skipped))
}

/// A layout's down files move with their migration (golang-migrate pairs them by version):
/// the renames of the down files of each (old, new) number. After the up files' renames in the
/// plan, so applying it in reverse still never overwrites a file that has not moved.
fn down_moves(
    set: &config::SetConfig,
    now: &crate::snapshot::Snapshot,
    moves: &[(u64, u64)],
) -> Vec<(String, String)> {
    let downs = crate::rules::naming::downs(set, now);
    let mut moved = HashSet::new();
    let mut out = Vec::new();
    for &(from, to) in moves {
        for d in downs
            .iter()
            .filter(|d| d.number == from && moved.insert(d.name.as_str()))
        {
            out.push((d.name.clone(), naming::renamed(set, &d.name, d.digits, to)));
        }
    }
    out
}

/// A rename onto a file that exists and does not move itself would overwrite it: refused.
fn refuse_clash(now: &crate::snapshot::Snapshot, out: &[(String, String)]) -> crate::Result<()> {
    let taken: HashSet<String> = now.files.iter().map(|f| f.name.clone()).collect();
    let moving: HashSet<&str> = out.iter().map(|(f, _)| f.as_str()).collect();
    if let Some((_, to)) = out
        .iter()
        .find(|(_, to)| taken.contains(to) && !moving.contains(to.as_str()))
    {
        return Err(Fatal::refused(
            format!("{to} already exists"),
            "resolve the clash by hand",
        ));
    }
    Ok(())
}

/// Applies a plan. Renames run in reverse number order so a chain (0005→0006, 0006→0007) never
/// overwrites a file that has not moved yet.
pub fn apply(ws: &Workspace, set: Option<&str>, plan: &[(String, String)]) -> crate::Result<()> {
    let set = ws.select_set(set)?;
    let dir = ws.root.join(&set.dir);
    for (from, to) in plan.iter().rev() {
        let target = dir.join(to);
        if target.exists() {
            return Err(Fatal::refused(
                format!("{} already exists", config::join(&set.dir, to)),
                "resolve the clash by hand",
            ));
        }
        std::fs::rename(dir.join(from), &target)
            .map_err(|e| Fatal::io(config::join(&set.dir, from), e))?;
        rename_in_header(&target, &config::join(&set.dir, to), (from, to))?;
    }
    stage_renames(ws, set, plan)
}

/// The file's own name in its leading comment lines (the header `miglint new` writes:
/// `-- 0005_add_email.sql: …`, ``run `miglint record 0005_add_email.sql` ``) follows the rename;
/// SQL and later comments are never touched.
fn rename_in_header(
    path: &std::path::Path,
    shown: &str,
    (from, to): (&str, &str),
) -> crate::Result<()> {
    let text = std::fs::read(path).map_err(|e| Fatal::io(shown, e))?;
    let Ok(text) = String::from_utf8(text) else {
        return Ok(());
    };
    let header_end = text
        .split_inclusive('\n')
        .take_while(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
        .map(str::len)
        .sum::<usize>();
    let (header, rest) = text.split_at(header_end);
    if !header.contains(from) {
        return Ok(());
    }
    let renamed = format!("{}{rest}", header.replace(from, to));
    crate::fsutil::write_atomic(path, renamed.as_bytes())
}

/// Records the renames in the index, as `git mv` does, so git shows `R old -> new` rather than a
/// deletion and an untracked file. Files that were not tracked stay untracked.
fn stage_renames(
    ws: &Workspace,
    set: &config::SetConfig,
    plan: &[(String, String)],
) -> crate::Result<()> {
    let Some(repo) = &ws.repo else { return Ok(()) };
    let paths: Vec<(String, String)> = plan
        .iter()
        .map(|(from, to)| (config::join(&set.dir, from), config::join(&set.dir, to)))
        .collect();
    repo.stage_renames(&paths)
}

/// `renumber`: renames this branch's new migrations after the base's, then prints the next
/// commands (each on its own line, never wrapped).
pub fn cli(
    ctx: &Ctx,
    (base, set): (Option<&str>, Option<&str>),
    dry_run: bool,
    against: &[String],
) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "renumber")?;
    let ws = ctx.open(&[])?;
    let plan = plan(&ws, base, set, against)?;
    let skipped = super::skipped_json(&plan.skipped);
    if !plan.renames.is_empty() && !dry_run {
        apply(&ws, set, &plan.renames)?;
    }
    // The renames are staged, and git refuses to rebase with staged changes: commit first.
    let next = format!(
        "commit the renames, then bring {}'s migrations into this branch (or `git merge {}` instead of the rebase):",
        plan.base, plan.base
    );
    let commands = [
        format!("git commit -m \"Renumber migrations after {}\"", plan.base),
        format!("git rebase {}", plan.base),
    ];
    if format == Format::Json {
        let renames: Vec<_> = plan
            .renames
            .iter()
            .map(|(from, to)| json!({ "from": from, "to": to }))
            .collect();
        emit_json(
            json!({ "version": 1, "dry_run": dry_run, "renames": renames, "skipped": skipped, "base": plan.base, "next": (!plan.renames.is_empty()).then_some(next), "commands": if plan.renames.is_empty() { &[][..] } else { &commands[..] } }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if plan.renames.is_empty() {
        println!("nothing to renumber: every new migration already follows the base");
        return Ok(ExitCode::SUCCESS);
    }
    for (n, by) in &plan.skipped {
        eprintln!("miglint: skipped {n}, which {by} adds");
    }
    for (from, to) in &plan.renames {
        println!(
            "{}{from} -> {to}",
            if dry_run { "would rename " } else { "renamed " }
        );
    }
    // The base's own files are not on this branch yet; checks already count their
    // numbers as taken, and this brings the files themselves in.
    // Each command on its own line, never wrapped, to copy as it is.
    println!("next: {next}");
    for c in &commands {
        println!("  {c}");
    }
    Ok(ExitCode::SUCCESS)
}
