//! `miglint schema`: the schema a set builds, as the offline replay models it (issue 29): every
//! migration's effects in order (`crate::schema::Model`), up to `--at NUMBER` or the last file.
//! What the model cannot see is said, not hidden: after a statement it cannot follow, names may
//! exist that it does not list (`unsure`).

use std::process::ExitCode;

use serde::Serialize;

use super::{emit_json, only_human_or_json, Ctx};
use crate::check::{self, Workspace};
use crate::report::Format;
use crate::schema::Model;
use crate::Fatal;

/// The model at one point, in a stable order (the JSON document of `--format json`).
#[derive(Debug, Serialize)]
pub struct Picture {
    pub version: u32,
    pub set: String,
    /// The last migration replayed (`None`: the set has none up to that point).
    pub at: Option<String>,
    /// Why names may exist that the model does not list (a `DO` block, dynamic SQL, …).
    pub unsure: Option<String>,
    pub schemas: Vec<SchemaPicture>,
}

#[derive(Debug, Serialize)]
pub struct SchemaPicture {
    pub name: String,
    /// May hold relations the replay cannot see (an extension's, a declared external schema).
    pub open: bool,
    pub relations: Vec<RelationPicture>,
    /// Enum types the set created, with their labels in order.
    pub enums: Vec<EnumPicture>,
}

#[derive(Debug, Serialize)]
pub struct EnumPicture {
    pub name: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RelationPicture {
    pub name: String,
    pub kind: &'static str,
    /// `None` when the columns are not known (`AS SELECT`, `LIKE`, views, external tables).
    pub columns: Option<Vec<String>>,
}

/// Replays `set`'s migrations from the work tree, up to number `at` (inclusive) when given.
pub fn run(ws: &Workspace, set: Option<&str>, at: Option<u64>) -> crate::Result<Picture> {
    let set = ws.select_set(set)?;
    let snapshot = ws.read_worktree(set)?;
    let (_, state) = check::check_snapshot(set, snapshot, false);
    if let Some(n) = at {
        if !state.migrations.iter().any(|m| m.number == n) {
            return Err(Fatal::config(
                format!("`{}` has no migration numbered {n}", set.dir),
                "pass the number of one of the set's migrations (`miglint status` lists them)",
            ));
        }
    }
    let mut model = Model::new(&set.external);
    let mut last = None;
    for m in state
        .migrations
        .iter()
        .take_while(|m| at.is_none_or(|n| m.number <= n))
    {
        model.replay_file(&m.name, state.analyses.get(&m.name));
        last = Some(m.name.clone());
    }
    Ok(picture(set.dir.clone(), last, &model))
}

fn picture(set: String, at: Option<String>, model: &Model) -> Picture {
    let mut schemas: Vec<SchemaPicture> = model
        .schemas
        .iter()
        .map(|(name, ns)| {
            let mut relations: Vec<RelationPicture> = ns
                .relations
                .iter()
                .map(|(name, r)| RelationPicture {
                    name: name.clone(),
                    kind: r.kind.as_str(),
                    columns: r.columns.clone(),
                })
                .collect();
            // Tables first, then what is built on them.
            let rank = |k: &str| {
                ["table", "view", "materialized view", "sequence", "index"]
                    .iter()
                    .position(|x| *x == k)
            };
            relations.sort_by(|a, b| (rank(a.kind), &a.name).cmp(&(rank(b.kind), &b.name)));
            let mut enums: Vec<EnumPicture> = ns
                .enums
                .iter()
                .map(|(name, labels)| EnumPicture {
                    name: name.clone(),
                    labels: labels.clone(),
                })
                .collect();
            enums.sort_by(|a, b| a.name.cmp(&b.name));
            SchemaPicture {
                name: name.clone(),
                open: ns.open,
                relations,
                enums,
            }
        })
        .collect();
    schemas.sort_by(|a, b| a.name.cmp(&b.name));
    Picture {
        version: 1,
        set,
        at,
        unsure: model.opaque.clone(),
        schemas,
    }
}

/// The picture as text: one schema per block, one relation per line.
pub fn render_human(p: &Picture) -> String {
    let mut out = format!(
        "{} up to {}\n",
        p.set,
        p.at.as_deref().unwrap_or("(no migration)")
    );
    for s in &p.schemas {
        let open = if s.open {
            " (may hold more: an extension's or declared external)"
        } else {
            ""
        };
        out.push_str(&format!("\nschema {}{open}\n", s.name));
        for r in &s.relations {
            let columns = match &r.columns {
                Some(c) => format!(" ({})", c.join(", ")),
                None if r.kind == "table" => " (columns not known)".to_string(),
                None => String::new(),
            };
            out.push_str(&format!("  {} {}{columns}\n", r.kind, r.name));
        }
        for e in &s.enums {
            out.push_str(&format!("  enum {} ({})\n", e.name, e.labels.join(", ")));
        }
    }
    if let Some(why) = &p.unsure {
        out.push_str(&format!(
            "\nunsure: after {why}, names may exist that are not listed\n"
        ));
    }
    crate::finding::escape_controls(&out).into_owned()
}

/// Prints the picture (human or JSON).
pub fn cli(ctx: &Ctx, set: Option<&str>, at: Option<u64>) -> crate::Result<ExitCode> {
    only_human_or_json(ctx.format, "schema")?;
    let ws = ctx.open(&[])?;
    let picture = run(&ws, set, at)?;
    if ctx.format == Format::Json {
        emit_json(serde_json::to_value(&picture).unwrap_or_default());
    } else {
        print!("{}", render_human(&picture));
    }
    Ok(ExitCode::SUCCESS)
}
