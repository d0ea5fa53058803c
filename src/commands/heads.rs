//! `miglint alembic heads`: the heads of a set's Alembic graph, one id per line, read statically.

use super::{emit_json, only_human_or_json, Ctx};
use crate::alembic;
use crate::check::{Outcome, Workspace};
use crate::finding::Severity;
use crate::report::{self, Format};
use crate::Fatal;
use serde_json::json;
use std::process::ExitCode;

pub fn run(ws: &Workspace, set: Option<&str>) -> crate::Result<(Vec<String>, Outcome)> {
    let set = ws.select_set(set)?;
    let layout = match alembic::layout(&alembic::Files::WorkTree(&ws.root), set) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return Err(Fatal::config(
                format!(
                "set `{}` has no Alembic project (no [set.alembic] and no alembic.ini next to {})",
                set.name, set.dir
            ),
                "add [set.alembic] with `versions = \"…/alembic/versions\"` to miglint.toml",
            ))
        }
        Err(f) => {
            return Err(Fatal {
                finding: Box::new(crate::rules::alembic::unreadable(*f)),
                source: None,
            })
        }
    };
    let mut outcome = Outcome::default();
    let (graph, findings) = alembic::load_graph(
        &alembic::Files::WorkTree(&ws.root),
        &layout,
        &mut outcome.sources,
    );
    // What could not be read, and which definition of a duplicated id counts.
    outcome.findings = findings
        .into_iter()
        .map(crate::rules::alembic::unreadable)
        .chain(
            crate::rules::alembic::structure(&graph, usize::MAX)
                .into_iter()
                .filter(|f| f.rule == crate::registry::Rule::AlembicDuplicateRevision),
        )
        .collect();
    outcome.files = graph.revisions.len();
    Ok((
        graph.heads().into_iter().map(str::to_string).collect(),
        outcome,
    ))
}

/// `alembic heads`: the heads miglint reads statically, and any finding on the way.
pub fn cli(ctx: &Ctx, set: Option<&str>) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "alembic heads")?;
    let ws = ctx.open(&[])?;
    let (heads, outcome) = run(&ws, set)?;
    if format == Format::Json {
        let mut doc = report::json::value(&outcome);
        doc["heads"] = json!(heads);
        emit_json(doc);
    } else {
        if !outcome.findings.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = report::human::render(&outcome, false, &mut err);
        }
        for h in heads {
            println!("{h}");
        }
    }
    Ok(ExitCode::from(u8::from(outcome.count(Severity::Error) > 0)))
}
