//! The subcommands. Each file holds a command's logic (`run`, `plan`, …: values in, values out,
//! testable without a terminal) and its `cli` entry, which prints in the chosen format and
//! returns the exit code; `main` only parses arguments and dispatches. `check` runs the engine
//! (`crate::check`).

pub mod adopt;
pub mod check;
pub mod explain;
pub mod graph;
pub mod heads;
pub mod init;
pub mod new;
pub mod ready;
pub mod record;
pub mod renumber;
pub mod schema;
pub mod status;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::check::Workspace;
use crate::report::Format;
use crate::Fatal;

/// Numbers other open branches add to `set`, with the ref that adds each (empty without refs to
/// look at or without a base).
pub(crate) fn claimed_numbers(
    ws: &crate::check::Workspace,
    set: &crate::config::SetConfig,
    against: &[String],
    base: Option<&str>,
) -> crate::Result<std::collections::BTreeMap<u64, String>> {
    let globs: Vec<String> = against.iter().chain(&ws.config.against).cloned().collect();
    let mut out = std::collections::BTreeMap::new();
    let Some(repo) = ws.repo.as_deref().filter(|_| !globs.is_empty()) else {
        return Ok(out);
    };
    let Some(base) = repo.resolve_base(base, ws.config.base.as_deref())? else {
        return Ok(out);
    };
    let convention = crate::naming::convention(set);
    for claim in repo.claims(set, &base, &globs)?.claims {
        for file in &claim.files {
            if let Ok(p) = convention.parse(file) {
                out.entry(p.number)
                    .or_insert_with(|| claim.reference.clone());
            }
        }
    }
    Ok(out)
}

/// What every command needs besides its own arguments.
pub struct Ctx {
    /// `--format`.
    pub format: Format,
    /// Where miglint runs: paths on the command line are relative to it.
    pub cwd: PathBuf,
    /// `--config`.
    pub config: Option<PathBuf>,
}

impl Ctx {
    pub fn open(&self, dirs: &[PathBuf]) -> crate::Result<Workspace> {
        Workspace::open(&self.cwd, self.config.as_deref(), dirs)
    }
}

pub fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        || std::env::var_os("FORCE_COLOR").is_some_and(|v| v != "0")
}

/// Commands other than `check` print human text or one JSON document (schema version 1);
/// `github` and `sarif` describe findings on files and make no sense for them: a usage error.
pub fn only_human_or_json(format: Format, command: &str) -> crate::Result<()> {
    match format {
        Format::Human | Format::Json => Ok(()),
        other => Err(unsupported(other, command, "use --format human or --format json (github, sarif and markdown are for `miglint check`, mermaid and dot for `miglint graph`)")),
    }
}

pub fn unsupported(format: Format, command: &str, help: &str) -> Fatal {
    Fatal::config(
        format!(
            "`miglint {command}` does not support --format {}",
            format!("{format:?}").to_lowercase()
        ),
        help,
    )
}

pub fn emit_json(value: serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
}

/// The numbers `new` and `renumber` skipped because another open branch adds them, as JSON.
pub(crate) fn skipped_json(skipped: &[(String, String)]) -> Vec<serde_json::Value> {
    skipped
        .iter()
        .map(|(n, by)| serde_json::json!({ "number": n, "claimed_by": by }))
        .collect()
}
