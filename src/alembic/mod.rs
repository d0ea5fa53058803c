//! The Alembic head check. Where Alembic lives (alembic.ini → script_location → versions, env.py →
//! version table) is resolved here; the revision graph is read statically by `graph`/`python`;
//! the stamps come from the SQL analysis. Rules about stamps live in `rules::alembic`.

pub mod bindings;
pub mod graph;
pub mod ini;
pub mod ops;
pub mod python;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::{self, SetConfig};

pub use graph::{Graph, Revision};

/// A fact the reader hands the Alembic rules: something Alembic's configuration or a revision
/// file says that cannot be read statically (`rules::alembic::unreadable` makes it an
/// `alembic-parse-error`). Readers return facts, never findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub message: String,
    pub file: Option<String>,
    /// Where, with the label shown there.
    pub at: Option<(std::ops::Range<usize>, &'static str)>,
    pub help: String,
}

impl Unreadable {
    pub fn new(message: impl Into<String>) -> Unreadable {
        Unreadable {
            message: message.into(),
            file: None,
            at: None,
            help: String::new(),
        }
    }

    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, span: std::ops::Range<usize>, label: &'static str) -> Self {
        self.at = Some((span, label));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }
}

/// Where a set's Alembic project is, all paths relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub ini: Option<String>,
    pub versions: Vec<String>,
    /// `recursive_version_locations`: revision files are also read from subdirectories.
    pub recursive: bool,
    /// Normalised `schema.table` (or `table`) that stamps must target.
    pub version_table: String,
    pub head: Option<String>,
    pub compose: Option<String>,
    pub migrate_at_start_var: String,
    /// Heads by design (`heads = N`) and their branch labels (`branches = [...]`).
    pub heads: Option<usize>,
    pub branches: Option<Vec<String>>,
    pub stamp: Option<config::StampMode>,
    /// `mirror = true`: every revision is declared to mirror its SQL migration.
    pub mirror: bool,
    /// The role the service connects as, as configured (`role = …`).
    pub role: Option<String>,
    /// `role_granted = true`: its privileges are granted outside the migrations.
    pub role_granted: bool,
    /// Judged for the switch back (`miglint alembic ready`): the role's privileges count.
    pub ready: bool,
}

impl Layout {
    pub fn expected_heads(&self) -> usize {
        match (&self.branches, self.heads) {
            (Some(b), _) => b.len().max(1),
            (None, Some(n)) => n.max(1),
            (None, None) => 1,
        }
    }
}

fn parent_of(dir: &str) -> String {
    match dir.trim_end_matches('/').rsplit_once('/') {
        Some((p, _)) => p.to_string(),
        None => String::new(),
    }
}

/// Alembic files (ini, env.py, revisions, compose) are small; anything larger is refused.
pub const ALEMBIC_LIMIT: u64 = 16 << 20;

/// Where the Alembic project is read from: the work tree, or the git index (`check --staged`,
/// so a pre-commit hook sees the revision files that are about to be committed).
pub enum Files<'a> {
    WorkTree(&'a Path),
    Index(Box<dyn StagedFiles + 'a>),
}

/// The files about to be committed, as a version control system holds them (`vcs::Vcs`
/// provides it; git's index is the one implementation). Paths are from the work-tree root.
pub trait StagedFiles {
    /// The content of `path`, when it is staged and readable.
    fn bytes(&self, path: &str) -> Option<Vec<u8>>;
    /// Whether `path` is staged.
    fn contains(&self, path: &str) -> bool;
    /// Every staged path that starts with `prefix`.
    fn paths_under(&self, prefix: &str) -> Vec<String>;
}

impl Files<'_> {
    fn bytes(&self, rel: &str) -> Option<Vec<u8>> {
        match self {
            Files::WorkTree(root) => crate::fsutil::read_regular(root, rel, ALEMBIC_LIMIT).ok(),
            Files::Index(staged) => staged.bytes(rel),
        }
    }

    fn read(&self, rel: &str) -> Option<String> {
        self.bytes(rel)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn is_file(&self, rel: &str) -> bool {
        match self {
            Files::WorkTree(root) => root.join(rel).is_file(),
            Files::Index(staged) => staged.contains(rel),
        }
    }

    /// Paths (relative to `dir`) of the revision-file candidates in `dir`, and in its
    /// subdirectories when `recursive` (Alembic's `recursive_version_locations`).
    fn revision_files(&self, dir: &str, recursive: bool) -> Result<Vec<String>, String> {
        let wanted = |name: &str| {
            name.ends_with(".py") && !name.starts_with("__init__") && !name.starts_with(".#")
        };
        match self {
            Files::WorkTree(root) => {
                if !crate::fsutil::inside(root, &root.join(dir)) {
                    return Err("it resolves outside the repository".into());
                }
                let top = root.join(dir);
                if !top.is_dir() {
                    return Err("it is not a directory".into());
                }
                let walker = walkdir::WalkDir::new(&top)
                    .min_depth(1)
                    .max_depth(if recursive { 32 } else { 1 })
                    .follow_links(false)
                    .sort_by_file_name();
                let mut names = Vec::new();
                for e in walker {
                    let e = e.map_err(|e| e.to_string())?;
                    let name = e.file_name().to_string_lossy();
                    if e.file_type().is_dir() || name == "__pycache__" || !wanted(&name) {
                        continue;
                    }
                    let rel = e.path().strip_prefix(&top).unwrap_or(e.path());
                    if rel.components().any(|c| c.as_os_str() == "__pycache__") {
                        continue;
                    }
                    names.push(rel.to_string_lossy().replace('\\', "/"));
                }
                Ok(names)
            }
            Files::Index(staged) => {
                let prefix = format!("{}/", dir.trim_end_matches('/'));
                let under = staged.paths_under(&prefix);
                if under.is_empty() {
                    return Err("not in the git index".into());
                }
                Ok(under
                    .iter()
                    .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
                    .filter(|n| (recursive || !n.contains('/')) && !n.contains("__pycache__/"))
                    .filter(|n| wanted(n.rsplit('/').next().unwrap_or(n)))
                    .collect())
            }
        }
    }
}

/// What [`find_ini`] found: the parsed options and the file they came from.
type FoundIni = Option<(Option<ini::Ini>, Option<String>)>;

/// Alembic's configuration for the set and where it was read: `[tool.alembic]` in
/// pyproject.toml, else alembic.ini (configured, or next to the set's parent). `None` when the
/// set has no Alembic at all.
fn find_ini(files: &Files, set: &SetConfig) -> Result<FoundIni, Box<Unreadable>> {
    let cfg = set.alembic.as_ref();
    let default_ini = config::join(&parent_of(&set.dir), "alembic.ini");
    let ini_path = cfg
        .and_then(|c| c.ini.clone())
        .or_else(|| files.is_file(&default_ini).then_some(default_ini));
    // Alembic ≥ 1.16 reads its options from `[tool.alembic]` in pyproject.toml, next to the ini
    // (or, without one, next to the set's parent), in preference to alembic.ini.
    let pyproject_path = config::join(
        &ini_path
            .as_deref()
            .map_or_else(|| parent_of(&set.dir), parent_of),
        "pyproject.toml",
    );
    let pyproject = files
        .read(&pyproject_path)
        .map(|t| ini::Ini::from_pyproject(&t))
        .transpose()
        .map_err(|e| {
            Box::new(
                Unreadable::new(format!("{pyproject_path} cannot be read: {e}"))
                    .file(pyproject_path.clone())
                    .help("fix the TOML; Alembic would fail to read it too"),
            )
        })?
        .flatten();
    if set.alembic.is_none() && ini_path.is_none() && pyproject.is_none() {
        return Ok(None);
    }
    Ok(Some(match (pyproject, &ini_path) {
        (Some(p), _) => (Some(p), Some(pyproject_path)),
        (None, Some(p)) => (
            Some(files.read(p).map(|t| ini::Ini::parse(&t)).ok_or_else(|| {
                Box::new(
                    Unreadable::new(format!("cannot read {p}"))
                        .file(p.clone())
                        .help("fix `ini` under [set.alembic] in miglint.toml, or create the file"),
                )
            })?),
            ini_path.clone(),
        ),
        (None, None) => (None, None),
    }))
}

/// The versions directories: `versions` in miglint.toml, else `version_locations`, else
/// `<script_location>/versions`.
fn versions_dirs(
    set: &SetConfig,
    ini: &Option<ini::Ini>,
    locations: Option<Vec<String>>,
    script_location: Option<&str>,
    ini_path: &Option<String>,
) -> Result<Vec<String>, Box<Unreadable>> {
    let configured = set.alembic.as_ref().and_then(|a| a.versions.as_ref());
    Ok(match (configured, ini) {
        (Some(v), _) => vec![v.trim_end_matches('/').to_string()],
        (None, Some(_)) => match locations {
            Some(v) if !v.is_empty() => v,
            _ => match script_location {
                Some(s) => vec![config::join(s, "versions")],
                None => return Err(Box::new(Unreadable::new("alembic.ini has no script_location miglint can resolve",
                )
                .file(ini_path.clone().unwrap_or_default())
                .help(
                    "set `versions = \"…/alembic/versions\"` under [set.alembic] in miglint.toml",
                ))),
            },
        },
        (None, None) => {
            return Err(Box::new(Unreadable::new(format!(
                    "[set.alembic] of {} names neither `ini` nor `versions`",
                    set.name
                ),
            )
            .help("set `versions = \"…/alembic/versions\"` (or `ini`) under [set.alembic]")))
        }
    })
}

/// Resolves the layout: `None` when the set has no Alembic (not configured, no alembic.ini next to
/// the set), `Err` with a finding when it is configured but cannot be resolved.
pub fn layout(files: &Files, set: &SetConfig) -> Result<Option<Layout>, Box<Unreadable>> {
    let cfg = set.alembic.clone().unwrap_or_default();
    let Some((ini, ini_path)) = find_ini(files, set)? else {
        return Ok(None);
    };
    let ini_dir = ini_path.as_deref().map(parent_of).unwrap_or_default();
    // Interpolation that fails in configparser fails Alembic too: say so, never guess.
    let ini_err = |e: String| {
        Box::new(
            Unreadable::new(format!("{} cannot be read as Alembic reads it: {e}", ini_path.as_deref().unwrap_or("alembic.ini")))
                .file(ini_path.clone().unwrap_or_default())
                .help("fix the value in alembic.ini (configparser interpolation: `%(key)s`, `%%` for a literal %)"),
        )
    };
    let script_location = match &ini {
        Some(i) => i.script_location(&ini_dir).map_err(ini_err)?,
        None => None,
    };
    let recursive = match &ini {
        Some(i) => i.recursive().map_err(ini_err)?,
        None => false,
    };
    let locations = match &ini {
        Some(i) => i.version_locations(&ini_dir).map_err(ini_err)?,
        None => None,
    };
    let versions = versions_dirs(set, &ini, locations, script_location.as_deref(), &ini_path)?;
    let version_table = match &cfg.version_table {
        Some(t) => t.to_lowercase(),
        None => script_location
            .as_deref()
            .and_then(|s| files.read(&config::join(s, "env.py")))
            .map(|src| ini::env_version_table(&src))
            .unwrap_or_else(|| "alembic_version".into()),
    };
    Ok(Some(Layout {
        ini: ini_path,
        versions,
        recursive,
        version_table,
        head: cfg.head.clone(),
        compose: cfg.compose.clone(),
        migrate_at_start_var: cfg
            .migrate_at_start_var
            .clone()
            .unwrap_or_else(|| "MIGRATE_AT_START".into()),
        heads: cfg.heads,
        branches: cfg.branches.clone(),
        stamp: cfg.stamp,
        mirror: cfg.mirror,
        role: cfg.role.clone(),
        role_granted: cfg.role_granted,
        ready: false,
    }))
}

/// The bytes of each revision file. Work-tree files are read on every core; index blobs come
/// from one (non-Sync) repository. A revision file that cannot be read makes the head
/// unknowable: a finding, never a silent drop (a FIFO, a link to /dev/zero or outside the
/// repository is refused unopened).
fn read_all(
    files: &Files,
    paths: Vec<String>,
    findings: &mut Vec<Unreadable>,
) -> Vec<(String, Arc<[u8]>)> {
    use rayon::prelude::*;
    let results: Vec<(String, Result<Vec<u8>, String>)> = match files {
        Files::WorkTree(root) => paths
            .into_par_iter()
            .map(|f| {
                let r =
                    crate::fsutil::read_regular(root, &f, ALEMBIC_LIMIT).map_err(|e| e.to_string());
                (f, r)
            })
            .collect(),
        Files::Index(..) => paths
            .into_iter()
            .map(|f| {
                let r = files
                    .bytes(&f)
                    .ok_or_else(|| "not readable from the index".to_string());
                (f, r)
            })
            .collect(),
    };
    let mut contents: Vec<(String, Arc<[u8]>)> = Vec::with_capacity(results.len());
    for (f, r) in results {
        match r {
            Ok(b) => contents.push((f, Arc::from(b))),
            Err(why) => findings.push(
                Unreadable::new(format!("cannot read the Alembic revision file {f}: {why}"),
                )
                .file(f.clone())
                .help("revision files must be regular files inside the repository; restore it or remove it"),
            ),
        }
    }
    contents
}

/// Reads every revision file of the layout's versions directories (in parallel: a large project
/// has thousands). Returns the graph and the files' parse findings.
pub fn load_graph(
    files: &Files,
    layout: &Layout,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> (Graph, Vec<Unreadable>) {
    use rayon::prelude::*;
    let mut paths: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    for dir in &layout.versions {
        match files.revision_files(dir, layout.recursive) {
            Ok(names) => paths.extend(names.iter().map(|n| config::join(dir, n))),
            Err(e) => findings.push(
                Unreadable::new(format!(
                    "cannot read the Alembic versions directory {dir}: {e}"
                ))
                .help("fix `versions` under [set.alembic], or script_location in alembic.ini"),
            ),
        }
    }
    paths.sort();
    let contents = read_all(files, paths, &mut findings);
    type Read = (String, Arc<[u8]>, Result<Revision, Box<Unreadable>>);
    let read: Vec<Read> = contents
        .into_par_iter()
        .map(|(f, bytes)| {
            let rev = graph::read_revision(&f, &String::from_utf8_lossy(&bytes));
            (f, bytes, rev)
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
    (Graph::build(revisions), findings)
}
