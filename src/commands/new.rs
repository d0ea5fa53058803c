//! `miglint new NAME`: creates the next migration file, never overwriting.

use super::{emit_json, only_human_or_json, Ctx};
use crate::check::Workspace;
use crate::config;
use crate::fsutil::create_new_atomic;
use crate::naming;
use crate::report::Format;
use crate::rules::naming::migrations;
use crate::Fatal;
use serde_json::json;
use std::process::ExitCode;

/// What `new` did: the file created (relative to the root), its down file in a layout that
/// pairs one, and the numbers it skipped because another open branch claims them (`[git]
/// against`, `--against`), with the ref.
pub struct Created {
    pub path: String,
    pub down: Option<String>,
    pub skipped: Vec<(String, String)>,
}

/// Creates the file, after the set's last migration and past any number another open branch
/// adds (refs matching `against`, or `[git] against`; only with a resolvable base).
pub fn run(
    ws: &Workspace,
    name: &str,
    set: Option<&str>,
    against: &[String],
) -> crate::Result<Created> {
    let set = ws.select_set(set)?;
    let slug = naming::slugify(name);
    if slug.is_empty() {
        return Err(Fatal::config(
            format!("`{name}` has no letters or digits to name a file with"),
            "e.g. `miglint new add_email`",
        ));
    }
    let snap = ws.read_worktree(set)?;
    let existing = migrations(set, &snap);
    let mut last = existing.last().map(|m| m.number);
    // A reversible pair when the layout always pairs, or (sqlx) when the newest one is a pair.
    let paired = existing.last().is_some_and(|m| m.paired);
    let claimed = super::claimed_numbers(ws, set, against, None)?;
    let mut skipped = Vec::new();
    // Sequential numbers only: a timestamp is fresh by construction.
    if set.numbering == config::Numbering::Sequential {
        loop {
            let next = last.map_or(set.start, |n| n + 1);
            let Some(by) = claimed.get(&next) else { break };
            skipped.push((naming::number_text(set, next), by.clone()));
            last = Some(next);
        }
    }
    let convention = naming::convention(set);
    let number = convention.next(last, std::time::SystemTime::now());
    let pair = convention
        .pair(number, &slug)
        .filter(|_| paired || convention.always_paired());
    let (file, down) = match pair {
        Some((up, down)) => (up, Some(config::join(&set.dir, &down))),
        None => (convention.format(number, &slug), None),
    };
    let path = config::join(&set.dir, &file);
    let body = format!(
        "-- {file}: {name}\n--\n-- Write the schema change below. Once this file is applied to a database, never edit it:\n-- run `miglint record {file}` and put later changes in a new migration.\n\n"
    );
    // The down file first: if it already exists, nothing is created (never a lone up file).
    if let Some(down) = &down {
        let text = format!("-- {down}: reverts {file}\n\n");
        create_new_atomic(&ws.root.join(down), text.as_bytes())?;
    }
    if let Err(e) = create_new_atomic(&ws.root.join(&path), body.as_bytes()) {
        if let Some(down) = &down {
            // Ours, created a moment ago and empty of anyone's work.
            let _ = std::fs::remove_file(ws.root.join(down));
        }
        return Err(e);
    }
    Ok(Created {
        path,
        down,
        skipped,
    })
}

/// `new`: creates the next migration and prints its path (and the numbers it skipped).
pub fn cli(
    ctx: &Ctx,
    name: &str,
    set: Option<&str>,
    against: &[String],
) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "new")?;
    let ws = ctx.open(&[])?;
    let created = run(&ws, name, set, against)?;
    if format == Format::Json {
        let skipped = super::skipped_json(&created.skipped);
        emit_json(
            json!({ "version": 1, "created": created.path, "down": created.down, "skipped": skipped }),
        );
    } else {
        for (n, by) in &created.skipped {
            eprintln!("miglint: skipped {n}, which {by} adds");
        }
        println!("{}", created.path);
        if let Some(down) = &created.down {
            println!("{down}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
