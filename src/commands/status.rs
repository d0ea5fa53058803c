//! `miglint status`: one row per set — migrations, recorded, pending, last number, declared and
//! actual Alembic head, base used.

use super::{emit_json, only_human_or_json, Ctx};
use crate::alembic;
use crate::check::{self, Workspace};
use crate::outcome::SetStatus;
use crate::report::{self, Format};
use serde_json::json;
use std::process::ExitCode;

pub fn run(ws: &Workspace, base: Option<&str>) -> crate::Result<Vec<SetStatus>> {
    let base = match &ws.repo {
        Some(repo) => repo
            .resolve_base(base, ws.config.base.as_deref())?
            .map(|b| b.describe()),
        None => None,
    };
    let mut out = Vec::new();
    for set in &ws.config.sets {
        let snap = ws.read_worktree(set)?;
        let (_, state) = check::check_snapshot(set, snap, false);
        let led = &state.ledger;
        let declared = state
            .migrations
            .iter()
            .filter_map(|m| state.analyses.get(&m.name))
            .flat_map(|a| a.stamps.iter())
            .rfind(|s| !matches!(s.kind, crate::sql::stamps::StampKind::Delete(_)))
            .map(|s| s.revision.clone())
            .or_else(|| set.alembic.as_ref().and_then(|a| a.head.clone()));
        let heads = match alembic::layout(&alembic::Files::WorkTree(&ws.root), set) {
            Ok(Some(layout)) => {
                let (g, _) = alembic::load_graph(
                    &alembic::Files::WorkTree(&ws.root),
                    &layout,
                    &mut Default::default(),
                );
                Some(g.heads().into_iter().map(str::to_string).collect())
            }
            _ => None,
        };
        out.push(SetStatus {
            set: set.name.clone(),
            dir: set.dir.clone(),
            migrations: state.migrations.len(),
            recorded: state
                .migrations
                .iter()
                .filter(|m| led.get(&m.name).is_some())
                .count(),
            pending: state
                .migrations
                .iter()
                .filter(|m| led.get(&m.name).is_none())
                .map(|m| m.name.clone())
                .collect(),
            last: state.migrations.last().map(|m| m.name.clone()),
            declared_head: declared,
            alembic_heads: heads,
            base: base.clone(),
        });
    }
    Ok(out)
}

/// `status`: one row per set.
pub fn cli(ctx: &Ctx, base: Option<&str>) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "status")?;
    let ws = ctx.open(&[])?;
    let rows = run(&ws, base)?;
    if format == Format::Json {
        emit_json(json!({ "version": 1, "sets": rows }));
    } else {
        print!("{}", report::status::render_human(&rows));
    }
    Ok(ExitCode::SUCCESS)
}
