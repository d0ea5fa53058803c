//! `miglint new NAME`: creates the next migration file, never overwriting.

use crate::check::Workspace;
use crate::config;
use crate::fsutil::create_new_atomic;
use crate::naming;
use crate::rules::naming::{migrations, next_name};
use crate::Fatal;

/// Creates the file and returns its path relative to the root.
pub fn run(ws: &Workspace, name: &str, set: Option<&str>) -> crate::Result<String> {
    let set = ws.select_set(set)?;
    let slug = naming::slugify(name);
    if slug.is_empty() {
        return Err(Fatal::config(
            format!("`{name}` has no letters or digits to name a file with"),
            "e.g. `miglint new add_email`",
        ));
    }
    let snap = ws.read_worktree(set)?;
    let last = migrations(set, &snap).last().map(|m| m.number);
    let file = next_name(set, last, &slug);
    let path = config::join(&set.dir, &file);
    let body = format!(
        "-- {file}: {name}\n--\n-- Write the schema change below. Once this file is applied to a database, never edit it:\n-- run `miglint record {file}` and put later changes in a new migration.\n\n"
    );
    create_new_atomic(&ws.root.join(&path), body.as_bytes())?;
    Ok(path)
}
