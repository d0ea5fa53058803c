//! `miglint alembic ready`: the switch-back check of the team's procedure. Alembic may drive
//! upgrades again once its revision history "fully reflects reality": every revision mirrors the
//! SQL migration that stamps it (judged as if `mirror = true`), the graph is sound, the SQL
//! stamps its head, and `MIGRATE_AT_START` is still off until the switch. Every Alembic finding
//! of a warning or worse is a blocker; ready means none.

use std::process::ExitCode;

use serde_json::json;

use super::{emit_json, only_human_or_json, Ctx};
use crate::check::{self, Outcome, Workspace};
use crate::finding::Severity;
use crate::registry::Family;
use crate::report::{self, Format};
use crate::Fatal;

/// The check of one set with every revision judged as a mirror, keeping only the blockers.
pub fn run(ws: &Workspace, set: Option<&str>) -> crate::Result<Outcome> {
    let chosen = ws.select_set(set)?;
    let opts = check::Options {
        set: Some(chosen.name.clone()),
        mirror: true,
        read_only_cache: true,
        ..check::Options::default()
    };
    let mut outcome = check::run(ws, &opts)?;
    if outcome.sets.iter().all(|s| s.alembic.is_none()) {
        return Err(Fatal::config(
            format!(
                "set `{}` has no Alembic project to switch back to",
                chosen.name
            ),
            "add [set.alembic] to miglint.toml, or run it with --set for the set that has one",
        ));
    }
    outcome
        .findings
        .retain(|f| f.rule.info().family == Family::Alembic && f.severity >= Severity::Warning);
    Ok(outcome)
}

/// Prints the verdict and each blocker; exit 0 only when ready.
pub fn cli(ctx: &Ctx, set: Option<&str>) -> crate::Result<ExitCode> {
    only_human_or_json(ctx.format, "alembic ready")?;
    let ws = ctx.open(&[])?;
    let outcome = run(&ws, set)?;
    let ready = outcome.findings.is_empty();
    if ctx.format == Format::Json {
        let mut doc = report::json::value(&outcome);
        doc["ready"] = json!(ready);
        emit_json(doc);
    } else if ready {
        let head = outcome
            .sets
            .iter()
            .find_map(|s| s.stamped.clone())
            .unwrap_or_default();
        println!("miglint: ready: the Alembic revisions mirror the SQL migrations up to `{head}`; turn MIGRATE_AT_START on when you switch");
    } else {
        let mut out = std::io::stdout().lock();
        report::human::render(&outcome, false, &mut out)
            .map_err(|e| Fatal::io("standard output", e))?;
        println!(
            "miglint: not ready to switch back to Alembic: {} blocker{}",
            outcome.findings.len(),
            if outcome.findings.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::from(u8::from(!ready)))
}
