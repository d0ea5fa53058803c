//! The Alembic head check. Where Alembic lives (alembic.ini → script_location → versions, env.py →
//! version table) is resolved here; the revision graph is read statically by `graph`/`python`;
//! the stamps come from the SQL analysis. Rules about stamps live in `rules::alembic`.

pub mod graph;
pub mod ini;
pub mod python;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::check::{SetState, Source, Workspace};
use crate::config::{self, SetConfig};
use crate::finding::Finding;
use crate::rules::Rule;

pub use graph::{Graph, Revision};

/// Where a set's Alembic project is, all paths relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub ini: Option<String>,
    pub versions: Vec<String>,
    /// Normalised `schema.table` (or `table`) that stamps must target.
    pub version_table: String,
    pub head: Option<String>,
    pub compose: Option<String>,
    pub migrate_at_start_var: String,
}

fn parent_of(dir: &str) -> String {
    match dir.trim_end_matches('/').rsplit_once('/') {
        Some((p, _)) => p.to_string(),
        None => String::new(),
    }
}

fn read(root: &Path, rel: &str) -> Option<String> {
    std::fs::read(root.join(rel))
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Resolves the layout: `None` when the set has no Alembic (not configured, no alembic.ini next to
/// the set), `Err` with a finding when it is configured but cannot be resolved.
pub fn layout(root: &Path, set: &SetConfig) -> Result<Option<Layout>, Box<Finding>> {
    let cfg = set.alembic.clone().unwrap_or_default();
    let default_ini = config::join(&parent_of(&set.dir), "alembic.ini");
    let ini_path = cfg
        .ini
        .clone()
        .or_else(|| root.join(&default_ini).is_file().then_some(default_ini));
    if set.alembic.is_none() && ini_path.is_none() {
        return Ok(None);
    }
    let ini = match &ini_path {
        Some(p) => Some(read(root, p).map(|t| ini::Ini::parse(&t)).ok_or_else(|| {
            Box::new(
                Finding::new(Rule::AlembicParseError, format!("cannot read {p}"))
                    .file(p.clone())
                    .help("fix `ini` under [set.alembic] in miglint.toml, or create the file"),
            )
        })?),
        None => None,
    };
    let ini_dir = ini_path.as_deref().map(parent_of).unwrap_or_default();
    let script_location = ini.as_ref().and_then(|i| i.script_location(&ini_dir));
    let versions = match (&cfg.versions, &ini) {
        (Some(v), _) => vec![v.trim_end_matches('/').to_string()],
        (None, Some(i)) => match i.version_locations(&ini_dir) {
            Some(v) if !v.is_empty() => v,
            _ => match &script_location {
                Some(s) => vec![config::join(s, "versions")],
                None => return Err(Box::new(Finding::new(
                    Rule::AlembicParseError,
                    "alembic.ini has no script_location miglint can resolve",
                )
                .file(ini_path.clone().unwrap_or_default())
                .help(
                    "set `versions = \"…/alembic/versions\"` under [set.alembic] in miglint.toml",
                ))),
            },
        },
        (None, None) => {
            return Err(Box::new(Finding::new(
                Rule::AlembicParseError,
                format!(
                    "[set.alembic] of {} names neither `ini` nor `versions`",
                    set.name
                ),
            )
            .help("set `versions = \"…/alembic/versions\"` (or `ini`) under [set.alembic]")))
        }
    };
    let version_table = match &cfg.version_table {
        Some(t) => t.to_lowercase(),
        None => script_location
            .as_deref()
            .and_then(|s| read(root, &config::join(s, "env.py")))
            .map(|src| ini::env_version_table(&src))
            .unwrap_or_else(|| "alembic_version".into()),
    };
    Ok(Some(Layout {
        ini: ini_path,
        versions,
        version_table,
        head: cfg.head.clone(),
        compose: cfg.compose.clone(),
        migrate_at_start_var: cfg
            .migrate_at_start_var
            .clone()
            .unwrap_or_else(|| "MIGRATE_AT_START".into()),
    }))
}

/// Reads every revision file of the layout's versions directories (in parallel: a large project
/// has thousands). Returns the graph and the files' parse findings.
pub fn load_graph(
    root: &Path,
    layout: &Layout,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> (Graph, Vec<Finding>) {
    use rayon::prelude::*;
    let mut files: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    for dir in &layout.versions {
        match std::fs::read_dir(root.join(dir)) {
            Ok(rd) => {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.ends_with(".py")
                        && !name.starts_with("__init__")
                        && !name.starts_with(".#")
                        && e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink())
                    {
                        files.push(config::join(dir, &name));
                    }
                }
            }
            Err(e) => findings.push(
                Finding::new(
                    Rule::AlembicParseError,
                    format!("cannot read the Alembic versions directory {dir}: {e}"),
                )
                .help("fix `versions` under [set.alembic], or script_location in alembic.ini"),
            ),
        }
    }
    files.sort();
    type Read = (String, Arc<[u8]>, Result<Revision, Box<Finding>>);
    let read: Vec<Read> = files
        .into_par_iter()
        .filter_map(|f| {
            let bytes: Arc<[u8]> = Arc::from(std::fs::read(root.join(&f)).ok()?);
            let text = String::from_utf8_lossy(&bytes);
            let rev = graph::read_revision(&f, &text);
            Some((f, bytes, rev))
        })
        .collect();
    let mut revisions = Vec::new();
    for (file, bytes, rev) in read {
        match rev {
            Ok(r) => {
                sources.insert(file, bytes);
                revisions.push(r);
            }
            Err(f) => {
                sources.insert(file, bytes);
                findings.push(*f);
            }
        }
    }
    let (graph, dup) = Graph::build(revisions);
    findings.extend(dup);
    (graph, findings)
}

/// All Alembic findings for one set.
pub fn check_set(
    ws: &Workspace,
    set: &SetConfig,
    state: &SetState,
    _source: Source,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> Vec<Finding> {
    let layout = match layout(&ws.root, set) {
        Ok(Some(l)) => l,
        Ok(None) => return Vec::new(),
        Err(f) => return vec![*f],
    };
    let (graph, mut findings) = load_graph(&ws.root, &layout, sources);
    findings.extend(graph.check());
    let stamps: Vec<(String, crate::sql::Stamp)> = state
        .migrations
        .iter()
        .filter_map(|m| state.analyses.get(&m.name).map(|a| (m, a)))
        .flat_map(|(m, a)| a.stamps.iter().map(move |s| (m.path.clone(), s.clone())))
        .collect();
    findings.extend(crate::rules::alembic::check_stamps(
        &layout, &graph, &stamps,
    ));
    if let Some(compose) = &layout.compose {
        match std::fs::read(ws.root.join(compose)) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                findings.extend(crate::rules::alembic::check_compose(
                    compose,
                    &text,
                    &layout.migrate_at_start_var,
                ));
                sources.insert(compose.clone(), Arc::from(bytes));
            }
            Err(e) => findings.push(
                Finding::new(
                    Rule::AlembicParseError,
                    format!("cannot read compose file {compose}: {e}"),
                )
                .help("fix `compose` under [set.alembic] in miglint.toml"),
            ),
        }
    }
    findings
}
