//! `miglint alembic heads`: the heads of a set's Alembic graph, one id per line, read statically.

use crate::alembic;
use crate::check::{Outcome, Workspace};
use crate::Fatal;

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
