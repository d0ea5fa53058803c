//! `miglint check`: opens the workspace (root, repository, config), reads each set's snapshot,
//! runs every rule family over it and returns the findings, filtered and sorted. Nothing here
//! prints; `report` renders the [`Outcome`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{self, Config, SetConfig};
use crate::finding::{Finding, Severity};
use crate::registry::Rule;
use crate::rules;
use crate::rules::naming::Migration;
use crate::snapshot::{self, Snapshot};
use crate::sql::Analysis;
use crate::vcs::{Base, Vcs};
use crate::Fatal;

/// Where miglint runs: the root findings are relative to, the repository (if any) and the config.
pub struct Workspace {
    pub root: PathBuf,
    /// The version control around the work tree, if any.
    pub repo: Option<Box<dyn Vcs>>,
    pub config: Config,
    /// The set directories named on the command line (relative to the root), which replace
    /// the configured sets; the base's policy checks the same directories.
    pub named_dirs: Vec<String>,
}

impl Workspace {
    /// Finds the repository and config from `cwd`. `dirs` (from the command line) replace the
    /// configured sets, keeping a configured set's options when it names the same directory.
    pub fn open(
        cwd: &Path,
        config_path: Option<&Path>,
        dirs: &[PathBuf],
    ) -> crate::Result<Workspace> {
        Workspace::open_from(cwd, config_path, dirs, Source::WorkTree)
    }

    /// [`Workspace::open`], reading the discovered `miglint.toml` from `source`: under
    /// `--staged` the config being committed judges the commit, never an unstaged edit of it.
    /// A config named on the command line is read from the file system (the user chose it).
    pub fn open_from(
        cwd: &Path,
        config_path: Option<&Path>,
        dirs: &[PathBuf],
        source: Source,
    ) -> crate::Result<Workspace> {
        let cwd = cwd
            .canonicalize()
            .map_err(|e| Fatal::io(cwd.display(), e))?;
        // Git is the one VCS; another would be tried here.
        let repo: Option<Box<dyn Vcs>> = crate::git::open(&cwd)?.map(|g| Box::new(g) as _);
        let root = match &repo {
            Some(r) => r.work_dir().to_path_buf(),
            None => cwd.clone(),
        };
        // Run from outside the work tree (GIT_DIR/GIT_WORK_TREE): paths are the work tree's.
        let cwd = if cwd.starts_with(&root) {
            cwd
        } else {
            root.clone()
        };
        let config_file = match config_path {
            Some(p) => {
                let p = cwd.join(p);
                if !p.is_file() {
                    return Err(Fatal::config(format!("config file {} does not exist", p.display()), "pass the path of an existing miglint.toml, or run `miglint init` to write one"));
                }
                Some(p)
            }
            None if source == Source::Index => None,
            None => config::discover(&cwd, &root),
        };
        let staged = match (source, config_path, &repo) {
            (Source::Index, None, Some(repo)) => staged_config(repo.as_ref(), &cwd, &root)?,
            _ => None,
        };
        let config_file = config_file.or_else(|| staged.as_ref().map(|(p, _)| p.clone()));
        let mut config = match (&config_file, staged) {
            (Some(p), Some((_, bytes))) => config::load_bytes(&bytes, p, &root)?,
            (Some(p), None) => config::load(p, &root)?,
            (None, _) => Config {
                root: root.clone(),
                path: None,
                base: None,
                against: Vec::new(),
                sets: Vec::new(),
                severities: Default::default(),
                text: Arc::from(&[][..]),
            },
        };
        let named_dirs: Vec<String> = dirs
            .iter()
            .map(|d| config::relative_to(&root, &config::normalize(&cwd.join(d))))
            .collect();
        if !named_dirs.is_empty() {
            config.sets = sets_for_dirs(&config, &named_dirs);
        } else if config.sets.is_empty() {
            config
                .sets
                .push(default_set(&cwd, &root, config_file.as_deref())?);
        }
        Ok(Workspace {
            root,
            repo,
            config,
            named_dirs,
        })
    }

    /// The set named `name` (its `name` or `dir`), or the only set.
    pub fn select_set(&self, name: Option<&str>) -> crate::Result<&SetConfig> {
        match name {
            Some(n) => self
                .config
                .sets
                .iter()
                .find(|s| s.name == n || s.dir == n.trim_end_matches('/'))
                .ok_or_else(|| {
                    Fatal::config(
                        format!("no set named `{n}`"),
                        format!("configured sets: {}", self.set_names()),
                    )
                }),
            None if self.config.sets.len() == 1 => Ok(&self.config.sets[0]),
            None => Err(Fatal::config(
                "several sets are configured; say which one",
                format!("pass --set with one of: {}", self.set_names()),
            )),
        }
    }

    fn set_names(&self) -> String {
        self.config
            .sets
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The set as in the work tree, in the canonical form git stores (line endings converted as
    /// its attributes and `core.autocrlf` say).
    pub fn read_worktree(&self, set: &SetConfig) -> crate::Result<Snapshot> {
        let mut snap = snapshot::read_worktree(&self.root, set)?;
        if let Some(repo) = &self.repo {
            repo.canonicalize(set, &mut snap);
        }
        Ok(snap)
    }

    pub fn repo(&self, what: &str) -> crate::Result<&dyn Vcs> {
        self.repo.as_deref().ok_or_else(|| self.no_repo(what))
    }

    pub fn no_repo(&self, what: &str) -> Fatal {
        Fatal::new(
            Rule::NotARepository,
            format!(
                "{what} needs a git repository, and {} is not in one",
                self.root.display()
            ),
            "run miglint inside the repository's work tree",
        )
    }
}

/// The set checked when nothing configures one: `migrations/` under `cwd`, when there is no
/// config file and it lies inside the repository (nobody named it: a link that leads outside
/// is not followed; only a directory named on the command line may lie outside).
fn default_set(cwd: &Path, root: &Path, config_file: Option<&Path>) -> crate::Result<SetConfig> {
    let dir = cwd.join("migrations");
    if let (None, true) = (config_file, dir.is_dir()) {
        if !crate::fsutil::inside(root, &dir) {
            return Err(Fatal::new(
                Rule::UnsafePath,
                "`migrations` resolves outside the repository (a symbolic link); it was not read",
                "name the directory on the command line (`miglint check DIR`) if you mean to check it, or configure a [[set]] inside the repository",
            ));
        }
        return Ok(SetConfig::with_dir(config::relative_to(root, &dir)));
    }
    let msg = match config_file {
        Some(p) => format!("{} configures no [[set]]", p.display()),
        None => "nothing to check: no miglint.toml and no migrations/ directory here".into(),
    };
    Err(Fatal::config(msg, "run `miglint check DIR`, or `miglint init` to write a miglint.toml with a [[set]] per migration directory"))
}

/// The sets for directories named on the command line: a configured set's options where it
/// names the same directory, the defaults otherwise.
fn sets_for_dirs(config: &Config, dirs: &[String]) -> Vec<SetConfig> {
    dirs.iter()
        .map(|rel| {
            config
                .sets
                .iter()
                .find(|s| &s.dir == rel)
                .cloned()
                .unwrap_or_else(|| SetConfig::with_dir(rel.clone()))
        })
        .collect()
}

/// The `miglint.toml` git is about to commit, discovered as in the work tree (from `cwd` up to
/// the root) but among the staged paths: its path and its staged bytes.
fn staged_config(
    repo: &dyn Vcs,
    cwd: &Path,
    root: &Path,
) -> crate::Result<Option<(PathBuf, Vec<u8>)>> {
    let Some(staged) = repo.staged_files() else {
        return Err(Fatal::new(
            Rule::IoError,
            "cannot read the git index for --staged",
            "check the repository with `git status`; miglint reads the config being committed from the index",
        ));
    };
    for dir in cwd.ancestors() {
        let path = dir.join(config::FILE_NAME);
        let rel = config::relative_to(root, &path);
        if let Some(bytes) = staged.bytes(&rel) {
            return Ok(Some((path, bytes)));
        }
        if dir == root || !dir.starts_with(root) {
            break;
        }
    }
    Ok(None)
}

/// Which point in time the checked files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    #[default]
    WorkTree,
    /// The git index (`--staged`), for pre-commit hooks.
    Index,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub source: Source,
    pub base: Option<String>,
    pub history: bool,
    pub require_recorded: bool,
    pub history_export: Option<PathBuf>,
    pub set: Option<String>,
    /// Parse-check applied migrations too (by default, content equal to its ledger entry is
    /// protected but not re-checked).
    pub all: bool,
    /// Leave the analysis cache as it is (the base's policy may read files with other settings:
    /// its analyses must not evict the ones the next run needs).
    pub read_only_cache: bool,
    /// Ref globs of other open branches (`--against`, with `[git] against`).
    pub against: Vec<String>,
    /// Judge every Alembic revision as a mirror of its SQL, whatever `mirror` says
    /// (`miglint alembic ready`).
    pub mirror: bool,
}

pub use crate::outcome::{AlembicPicture, Outcome, SequenceItem, SetSummary};

/// What one set's snapshot yields besides findings, for rules that look across files.
pub struct SetState {
    pub snapshot: Snapshot,
    pub migrations: Vec<Migration>,
    /// The files that revert a migration (a layout's `.down.sql`), parsed once.
    pub downs: Vec<Migration>,
    /// Per file name; absent for files that could not be read as SQL, and for protected files
    /// that were not analysed and hold no directive (an empty analysis says nothing).
    pub analyses: HashMap<String, Analysis>,
    /// Per analysed file name: whether it was parse-checked (baseline files are not).
    pub parsed: HashMap<String, bool>,
    /// How many files the cache did not have.
    pub cache_misses: usize,
    /// The snapshot's ledger, parsed once (empty when there is none); later rules reuse it.
    pub ledger: crate::ledger::Ledger,
}

/// Runs the rules that need only one snapshot: names, content, ledger.
pub fn check_snapshot(
    set: &SetConfig,
    snapshot: Snapshot,
    require_recorded: bool,
) -> (Vec<Finding>, SetState) {
    check_snapshot_cached(set, snapshot, require_recorded, None, false)
}

/// [`check_snapshot`], reusing the analyses of files unchanged since `cache` was written.
pub fn check_snapshot_cached(
    set: &SetConfig,
    snapshot: Snapshot,
    require_recorded: bool,
    cache: Option<&crate::cache::Cache>,
    all: bool,
) -> (Vec<Finding>, SetState) {
    // Parsed once here; the naming and ledger rules below take it.
    let parsed_ledger = snapshot
        .ledger
        .as_deref()
        .map(crate::ledger::parse)
        .unwrap_or_default();
    let migrations = rules::naming::migrations(set, &snapshot);
    let downs = rules::naming::downs(set, &snapshot);
    let names = (&migrations[..], &downs[..]);
    let mut findings = rules::naming::check(set, &snapshot, names, &parsed_ledger.0);
    findings.extend(snapshot.unreadable.iter().map(rules::sql::unreadable));
    findings.extend(
        snapshot
            .ledger_unreadable
            .iter()
            .map(rules::sql::unreadable),
    );
    let per_file = analyse_files(set, &snapshot, names, &parsed_ledger.0, cache, all);
    // Sized up front: growing two maps of 10,000 entries was a tenth of a warm run's faults.
    let mut parsed = HashMap::with_capacity(per_file.len());
    let mut cache_misses = 0;
    let mut analyses = HashMap::with_capacity(per_file.len());
    for ((f, a, parse, miss), file) in per_file.into_iter().zip(&snapshot.files) {
        findings.extend(f);
        let Some(a) = a else { continue };
        cache_misses += usize::from(miss);
        parsed.insert(file.name.clone(), parse);
        analyses.insert(file.name.clone(), *a);
    }
    let (ledger_findings, ledger) = rules::ledger::check(
        &rules::ledger::LedgerInput {
            set,
            snap: &snapshot,
            migrations: &migrations,
            require_recorded,
        },
        parsed_ledger,
    );
    findings.extend(ledger_findings);
    (
        findings,
        SetState {
            snapshot,
            migrations,
            downs,
            analyses,
            parsed,
            cache_misses,
            ledger,
        },
    )
}

/// One file's SQL findings, its analysis (none when unreadable as SQL, or when the file was
/// protected, not analysed and holds no directive: such an analysis says nothing), whether it
/// was parse-checked and whether the cache missed it. Boxed: most files have none, and the
/// list of 100,000 results is held whole.
type PerFile = (Vec<Finding>, Option<Box<Analysis>>, bool, bool);

/// Analyses every file in parallel. What the database already ran (content equal to its ledger
/// entry) and baseline files are protected, not re-checked: PostgreSQL accepted them. `all`
/// checks everything.
fn analyse_files(
    set: &SetConfig,
    snapshot: &Snapshot,
    (migrations, downs): (&[Migration], &[Migration]),
    applied: &crate::ledger::Ledger,
    cache: Option<&crate::cache::Cache>,
    all: bool,
) -> Vec<PerFile> {
    // A baseline version's down file is as legacy as its up file.
    let numbers: HashMap<&str, u64> = migrations
        .iter()
        .chain(downs)
        .map(|m| (m.name.as_str(), m.number))
        .collect();
    snapshot
        .files
        .par_iter()
        .map(|file| {
            let dialect = crate::sql::dialect(&set.dialect);
            let below_baseline = match (set.baseline, numbers.get(file.name.as_str())) {
                (Some(b), Some(&n)) => n <= b,
                _ => false,
            };
            // Hashed here, in parallel, from the bytes just read: the key into the cache and
            // what the ledger rules compare; never taken from the cache.
            let digest = file.digest();
            let applied_as_is = applied.get(&file.name).is_some_and(|e| e.digest == digest);
            let parse = all || !(below_baseline || applied_as_is);
            let hit = cache.and_then(|c| c.analysis(digest, file.bytes.len(), parse));
            let miss = hit.is_none();
            let (f, a) = rules::sql::check_file(set, dialect.as_ref(), file, parse, hit);
            // A skipped file has nothing worth caching.
            let miss = miss && !a.as_ref().is_some_and(|a| a.skipped);
            let a = a
                .filter(|a| !(a.skipped && a.directives.list.is_empty()))
                .map(Box::new);
            (f, a, parse, miss)
        })
        .collect()
}

/// One finding per problem: where several rules describe the same fact about a file, the root
/// cause (the registry's `root`, e.g. `number-conflict` for `duplicate-number`) stays and the
/// others become its related information; identical findings (same code, file, position and
/// message) are reported once.
pub fn one_per_problem(findings: Vec<Finding>) -> Vec<Finding> {
    let root_of = |code: Rule| code.info().root;
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut seen = std::collections::HashSet::new();
    let mut absorbed = Vec::new();
    for f in findings {
        let key = (f.rule, f.file.clone(), f.span.clone(), f.message.clone());
        if !seen.insert(key) {
            continue;
        }
        out.push(f);
    }
    // The first finding of each (code, file): linear however many findings a run has.
    let mut first: HashMap<(Rule, &str), usize> = HashMap::new();
    for (j, g) in out.iter().enumerate() {
        if let Some(file) = g.file.as_deref() {
            first.entry((g.rule, file)).or_insert(j);
        }
    }
    for (i, f) in out.iter().enumerate() {
        let (Some(root), Some(file)) = (root_of(f.rule), f.file.as_deref()) else {
            continue;
        };
        if let Some(&j) = first.get(&(root, file)) {
            absorbed.push((i, j));
        }
    }
    let mut drop = vec![false; out.len()];
    for &(i, j) in &absorbed {
        let f = out[i].clone();
        out[j].absorb(f);
        drop[i] = true;
    }
    out.into_iter()
        .zip(drop)
        .filter_map(|(f, d)| (!d).then_some(f))
        .collect()
}

/// Applies ignore directives (reporting those that silence nothing), the `[rules]` severities,
/// drops `off`, and sorts.
pub fn finish(
    config: &Config,
    states: &[(&SetConfig, &SetState)],
    findings: Vec<Finding>,
) -> Vec<Finding> {
    // Per file: its directives, which of them silenced something, and whether it was analysed.
    // Files without directives can neither silence nor leave a directive unused: skipped.
    let mut directives: HashMap<&str, (&crate::sql::Directives, Vec<bool>, bool)> = HashMap::new();
    for (_, state) in states {
        for (name, a) in &state.analyses {
            if a.directives.list.is_empty() {
                continue;
            }
            if let Some(f) = state.snapshot.file(name) {
                let used = vec![false; a.directives.list.len()];
                directives.insert(f.path.as_str(), (&a.directives, used, a.skipped));
            }
        }
    }
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        // Fatal conditions are never silenced by a comment (nor, in `suppressor`, protection).
        let by = match (f.rule.info().fatal, f.file.as_deref()) {
            (false, Some(path)) => directives.get_mut(path).and_then(|(d, used, _)| {
                let i = d.suppressor(f.code(), f.span.as_ref().map(|s| s.start))?;
                used[i] = true;
                Some(i)
            }),
            _ => None,
        };
        if by.is_none() {
            kept.push(f);
        }
    }
    // A file that was not analysed cannot tell whether its directives are needed.
    for (path, (d, used, skipped)) in &directives {
        if !skipped {
            kept.extend(crate::rules::sql::unused_ignores(path, d, used));
        }
    }
    // The set a finding's file belongs to, for its `cosmetic_edits`.
    let cosmetic_edits = |f: &Finding| {
        f.file
            .as_deref()
            .and_then(|p| {
                states
                    .iter()
                    .find(|(set, _)| p.starts_with(&format!("{}/", set.dir)) || set.dir == ".")
            })
            .map_or(Severity::Error, |(set, _)| set.cosmetic_edits)
    };
    let mut out: Vec<Finding> = kept
        .into_iter()
        .map(|mut f| {
            let table = config.severities.get(&f.rule).copied();
            let cosmetic = match f.rating {
                Some(crate::registry::Rating::Cosmetic) => cosmetic_edits(&f),
                _ => Severity::Error,
            };
            f.severity = crate::registry::severity(f.rule, f.rating, table, cosmetic);
            f
        })
        .filter(|f| f.severity != Severity::Off)
        .collect();
    sort(&mut out, states);
    out
}

fn sort(findings: &mut [Finding], states: &[(&SetConfig, &SetState)]) {
    // Only the files findings name: a clean set of 100,000 files needs no map of them.
    let named: std::collections::HashSet<&str> =
        findings.iter().filter_map(|f| f.file.as_deref()).collect();
    let sources: HashMap<&str, &[u8]> = states
        .iter()
        .flat_map(|(_, s)| s.snapshot.files.iter())
        .filter(|f| named.contains(f.path.as_str()))
        .map(|f| (f.path.as_str(), &*f.bytes))
        .collect();
    let mut indexes: HashMap<&str, crate::finding::LineIndex> = HashMap::new();
    findings.sort_by_cached_key(|f: &Finding| {
        let (line, col) = match (&f.file, &f.span) {
            (Some(file), Some(span)) => match sources.get_key_value(file.as_str()) {
                Some((&path, b)) => indexes
                    .entry(path)
                    .or_insert_with(|| crate::finding::LineIndex::new(b))
                    .line_col(b, span.start),
                None => (0, span.start),
            },
            _ => (0, 0),
        };
        (f.file.clone().unwrap_or_default(), line, col, f.code())
    });
}

/// `miglint check`. Against a base, the change is judged by two policies: its own
/// `miglint.toml` and the base's (at the merge-base). A finding either yields stands, at the
/// higher severity, when it is about a path the change touches: a setting that weakens a check
/// (`[rules]`, `baseline`, `psql`, `dialect`, a set's `dir`, …) takes effect only once it has
/// merged on its own, and a change that tightens one is judged by the stricter of the two.
pub fn run(ws: &Workspace, opts: &Options) -> crate::Result<Outcome> {
    if opts.source == Source::Index {
        ws.repo("--staged")?;
    }
    let base = match &ws.repo {
        Some(repo) => repo.resolve_base(opts.base.as_deref(), ws.config.base.as_deref())?,
        None if opts.base.is_some() => return Err(ws.no_repo("--base")),
        None if opts.history => return Err(ws.no_repo("--history")),
        None => None,
    };
    let sets: Vec<&SetConfig> = match &opts.set {
        Some(name) => vec![ws.select_set(Some(name))?],
        None => ws.config.sets.iter().collect(),
    };
    let mut outcome = run_policy(ws, &ws.config, sets, opts, base.as_ref())?;
    let (Some(repo), Some(base)) = (&ws.repo, &base) else {
        return Ok(outcome);
    };
    let Some((judge, note)) = base_policy(ws, repo.as_ref(), base)? else {
        return Ok(outcome);
    };
    let sets: Vec<&SetConfig> = match &opts.set {
        Some(name) => {
            let chosen = ws.select_set(Some(name))?;
            judge
                .sets
                .iter()
                .filter(|s| s.name == chosen.name || s.dir == chosen.dir)
                .collect()
        }
        None => judge.sets.iter().collect(),
    };
    let theirs_opts = Options {
        read_only_cache: true,
        ..opts.clone()
    };
    let theirs = run_policy(ws, &judge, sets, &theirs_opts, Some(base))?;
    let touched = repo.changed_since(base, opts.source == Source::Index)?;
    merge_policies(&mut outcome, theirs, &note, &touched);
    Ok(outcome)
}

/// The base's policy, when the change under review has another one: the base's `miglint.toml`
/// at the merge-base (at the same path; the defaults when the base has none), for the same
/// directories named on the command line; and the note findings it adds carry.
fn base_policy(
    ws: &Workspace,
    repo: &dyn Vcs,
    base: &Base,
) -> crate::Result<Option<(Config, String)>> {
    let path = ws
        .config
        .path
        .clone()
        .unwrap_or_else(|| ws.root.join(config::FILE_NAME));
    let rel = config::relative_to(&ws.root, &path);
    let at_base = repo.read_at_merge_base(base, &rel)?;
    let mut judge = match &at_base {
        Some(bytes) if **bytes == *ws.config.text => return Ok(None),
        Some(bytes) => match config::load_at_base(bytes, &path, &ws.root) {
            Some(c) => c,
            None => return Ok(None),
        },
        None if ws.config.path.is_none() => return Ok(None),
        None => {
            let mut c = ws.config.clone();
            c.sets = match ws.root.join("migrations").is_dir() {
                true if crate::fsutil::inside(&ws.root, &ws.root.join("migrations")) => {
                    vec![SetConfig::with_dir("migrations".into())]
                }
                _ => Vec::new(),
            };
            c.severities = Default::default();
            c.text = Arc::from(&[][..]);
            c
        }
    };
    if !ws.named_dirs.is_empty() {
        judge.sets = sets_for_dirs(&judge, &ws.named_dirs);
    }
    let base_text = at_base.as_deref().unwrap_or_default();
    let settings = config::changed_settings(
        &String::from_utf8_lossy(base_text),
        &String::from_utf8_lossy(&ws.config.text),
    );
    let altered = match settings.len() {
        0 => String::new(),
        n => format!(
            "; this change alters {}{}",
            settings
                .iter()
                .take(4)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
            if n > 4 { ", …" } else { "" }
        ),
    };
    let note = format!(
        " (found by the base's miglint.toml, which also judges this change{altered}: a setting that weakens a check takes effect once it has merged on its own)"
    );
    Ok(Some((judge, note)))
}

/// Adds what the base's policy found (`theirs`) to the change's own outcome: a finding about a
/// path the change touches (or about no file) stands, at the higher of the two severities, and
/// says why; one about an untouched path is the base's own condition and stays the change's
/// policy's to rate.
fn merge_policies(
    outcome: &mut Outcome,
    theirs: Outcome,
    note: &str,
    touched: &std::collections::HashSet<String>,
) {
    type Key = (Rule, Option<String>, Option<std::ops::Range<usize>>);
    let mut ours: HashMap<Key, usize> = HashMap::new();
    for (i, f) in outcome.findings.iter().enumerate() {
        ours.entry((f.rule, f.file.clone(), f.span.clone()))
            .or_insert(i);
    }
    let mut added = false;
    for mut f in theirs.findings {
        if !f.file.as_deref().is_none_or(|p| touched.contains(p)) {
            continue;
        }
        match ours.get(&(f.rule, f.file.clone(), f.span.clone())) {
            Some(&i) => {
                let g = &mut outcome.findings[i];
                if f.severity > g.severity {
                    g.severity = f.severity;
                    g.message.push_str(note);
                }
            }
            None => {
                if let Some(src) = f.file.as_ref().and_then(|p| theirs.sources.get(p)) {
                    let path = f.file.clone().unwrap_or_default();
                    outcome.sources.entry(path).or_insert_with(|| src.clone());
                }
                f.message.push_str(note);
                outcome.findings.push(f);
                added = true;
            }
        }
    }
    for set in theirs.sets {
        if !outcome.sets.iter().any(|s| s.dir == set.dir) {
            outcome.sets.push(set);
        }
    }
    if added {
        let sources = &outcome.sources;
        outcome.findings.sort_by_cached_key(|f| {
            let (line, col) = match (f.file.as_ref().and_then(|p| sources.get(p)), &f.span) {
                (Some(b), Some(span)) => crate::finding::line_col(b, span.start),
                (_, Some(span)) => (0, span.start),
                _ => (0, 0),
            };
            (f.file.clone().unwrap_or_default(), line, col, f.code())
        });
    }
}

/// One policy's check: every set of `sets` through every rule family, then the config's
/// severities and ignore directives.
fn run_policy(
    ws: &Workspace,
    config: &Config,
    sets: Vec<&SetConfig>,
    opts: &Options,
    base: Option<&Base>,
) -> crate::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut findings = Vec::new();
    let mut states: Vec<(&SetConfig, SetState)> = Vec::new();
    for set in sets {
        let state = check_set(ws, set, opts, base, &mut outcome, &mut findings)?;
        states.push((set, state));
    }
    match (base, &ws.repo) {
        (None, Some(_)) => findings.push(
            Finding::new(Rule::NoBase, "no base revision found: checks against the base branch were skipped")
                .help("pass --base origin/main, set MIGLINT_BASE, or `base = \"origin/main\"` under [git] in miglint.toml"),
        ),
        (Some(b), _) => outcome.base = Some(b.describe()),
        _ => {}
    }
    let refs: Vec<(&SetConfig, &SetState)> = states.iter().map(|(s, st)| (*s, st)).collect();
    outcome.findings = finish(config, &refs, one_per_problem(findings));
    point_at_files(&mut outcome.findings, &states);
    // Reports show excerpts of the files findings name, and only those are kept: on a clean
    // run of 100,000 migrations that is 100,000 map entries the report never reads.
    let shown: std::collections::HashSet<&str> = outcome
        .findings
        .iter()
        .flat_map(|f| {
            f.file
                .iter()
                .chain(f.related.iter().filter_map(|r| r.file.as_ref()))
        })
        .map(String::as_str)
        .collect();
    outcome
        .sources
        .retain(|path, _| shown.contains(path.as_str()));
    for (set, state) in &states {
        outcome.files += state.snapshot.files.len() + state.snapshot.unreadable.len();
        for f in &state.snapshot.files {
            if shown.contains(f.path.as_str()) {
                outcome.sources.insert(f.path.clone(), f.bytes.clone());
            }
        }
        if let (Some(l), true) = (&state.snapshot.ledger, shown.contains(set.lock.as_str())) {
            outcome.sources.insert(set.lock.clone(), l.clone());
        }
    }
    Ok(outcome)
}

/// Every rule family over one set: its snapshot (cached analyses reused), the recorded bytes,
/// the base, the numbering, the history, Alembic and the history export. Adds the set's summary
/// and extra sources to `outcome`.
fn check_set(
    ws: &Workspace,
    set: &SetConfig,
    opts: &Options,
    base: Option<&Base>,
    outcome: &mut Outcome,
    findings: &mut Vec<Finding>,
) -> crate::Result<SetState> {
    if let Some(repo) = &ws.repo {
        repo.refuse_submodule(set)?;
    }
    let snapshot = match (opts.source, &ws.repo) {
        (Source::Index, Some(repo)) => repo.read_index(set)?,
        _ => ws.read_worktree(set)?,
    };
    let (f, state) = check_snapshot_with_cache(ws, set, snapshot, opts);
    match &ws.repo {
        Some(repo) => findings.extend(rules::ledger::with_recorded_bytes(
            set,
            &state.snapshot,
            &state.ledger,
            f,
            |wanted| repo.recorded_blobs(&set.dir, wanted, 10_000),
        )),
        None => findings.extend(f),
    }
    let base_migrations = match (&ws.repo, base) {
        (Some(repo), Some(base)) => {
            with_base(ws, repo.as_ref(), set, &state, base, opts, findings)?
        }
        _ => Vec::new(),
    };
    let base_names: Option<std::collections::HashSet<&str>> =
        base.map(|_| base_migrations.iter().map(|m| m.name.as_str()).collect());
    let applied = |name: &str| {
        state.parsed.get(name) == Some(&false)
            || base_names.as_ref().is_some_and(|b| b.contains(name))
    };
    let mut numbering = numbering_context(set, &state);
    numbering
        .taken
        .extend(base_migrations.iter().map(|m| m.number));
    numbering
        .protected
        .extend(base_migrations.iter().map(|m| m.name.as_str()));
    if let (Some(repo), true) = (&ws.repo, opts.history) {
        findings.extend(repo.audit_history(set)?);
    }
    let picture = set_passes(
        ws,
        (set, opts),
        &state,
        (&applied, &numbering),
        outcome,
        findings,
    )?;
    outcome
        .sets
        .push(summary(set, &state, picture, base_names.as_ref()));
    Ok(state)
}

/// The readers of a set's other inputs (the Alembic side, the history export), then every entry
/// of `rules::SET_PASSES` over the set's facts. Returns the Alembic picture for the reports.
fn set_passes(
    ws: &Workspace,
    (set, opts): (&SetConfig, &Options),
    state: &SetState,
    (applied, numbering): (&dyn Fn(&str) -> bool, &rules::naming::Context),
    outcome: &mut Outcome,
    findings: &mut Vec<Finding>,
) -> crate::Result<Option<AlembicPicture>> {
    // The readers: the Alembic side and the history export; then every set pass over the facts.
    let mut alembic = read_alembic(ws, set, opts.source, &mut outcome.sources);
    // `miglint alembic ready`: every revision is a mirror, and the role's privileges count.
    if let (true, Some(rules::AlembicFacts::Read(read))) = (opts.mirror, alembic.as_mut()) {
        read.layout.mirror = true;
        read.layout.ready = true;
    }
    let export = match &opts.history_export {
        Some(path) => Some(crate::export::read(&ws.root, path)?),
        None => None,
    };
    let facts = rules::SetFacts {
        set,
        snapshot: &state.snapshot,
        migrations: &state.migrations,
        downs: &state.downs,
        ledger: &state.ledger,
        analyses: &state.analyses,
        applied,
        numbering,
        alembic: alembic.as_ref(),
        export: export.as_ref(),
    };
    let mut memo = ws.repo.as_ref().map(|repo| {
        let path = crate::cache::memo_path(repo.state_dir(), set);
        let memo = crate::cache::Memo::load(&path, set);
        (path, memo)
    });
    for pass in rules::SET_PASSES {
        findings.extend(run_pass(
            pass,
            &facts,
            state,
            memo.as_mut().map(|m| &mut m.1),
        ));
    }
    if let (Some((path, memo)), false) = (&memo, opts.read_only_cache) {
        memo.store(path);
    }
    if let Some(export) = export {
        outcome
            .sources
            .insert(export.shown.clone(), Arc::from(export.bytes));
    }
    Ok(alembic_picture(alembic.as_ref(), state))
}

/// One pass over a set's facts. A memoised pass ([`rules::Pass::memo`]) gives the findings it
/// gave last time while the key of its inputs is unchanged and they still fit the files.
fn run_pass(
    pass: &rules::Pass,
    facts: &rules::SetFacts,
    state: &SetState,
    memo: Option<&mut crate::cache::Memo>,
) -> Vec<Finding> {
    let Some(memo) = memo.filter(|_| pass.memo) else {
        return (pass.run)(facts);
    };
    let key = memo_key(facts.set, state, facts.applied);
    if let Some(kept) = memo.get(pass.name, &key).filter(|f| fit(f, state)) {
        return kept.to_vec();
    }
    let found = (pass.run)(facts);
    memo.put(pass.name, key, found.clone());
    found
}

/// Everything a memoised pass reads, hashed: the cache's fingerprint (miglint's version, the
/// grammar, the dialect), the set's whole configuration, and per migration in order its name,
/// its content's digest, whether it was parse-checked, analysed, and applied.
fn memo_key(set: &SetConfig, state: &SetState, applied: &dyn Fn(&str) -> bool) -> String {
    let mut material = Vec::with_capacity(128 * (state.migrations.len() + 4));
    let mut put = |bytes: &[u8]| {
        material.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        material.extend_from_slice(bytes);
    };
    put(crate::cache::fingerprint(set).as_bytes());
    put(format!("{set:?}").as_bytes());
    for m in &state.migrations {
        put(m.name.as_bytes());
        put(state
            .snapshot
            .file(&m.name)
            .map_or("-", |f| f.digest())
            .as_bytes());
        let flag = |b: Option<bool>| b.map_or(2, u8::from);
        put(&[
            flag(state.parsed.get(&m.name).copied()),
            flag(state.analyses.get(&m.name).map(|a| a.skipped)),
            flag(Some(applied(&m.name))),
        ]);
    }
    crate::ledger::sha256_hex(&material)
}

/// Whether kept findings fit this run's files: each names a file of the set (or none) with a
/// span inside it. A memo is untrusted input like the analysis cache.
fn fit(findings: &[Finding], state: &SetState) -> bool {
    let sizes: HashMap<&str, usize> = state
        .snapshot
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.bytes.len()))
        .collect();
    let fits = |file: &Option<String>, span: &Option<std::ops::Range<usize>>| match (file, span) {
        (None, span) => span.is_none(),
        (Some(p), span) => sizes.get(p.as_str()).is_some_and(|&len| {
            span.as_ref()
                .is_none_or(|s| s.start <= s.end && s.end <= len)
        }),
    };
    findings
        .iter()
        .all(|f| fits(&f.file, &f.span) && f.related.iter().all(|r| fits(&r.file, &r.span)))
}

/// Every rule that needs the base: the set at its merge-base and tip against this one, the
/// branch's own commits, and other open branches' claims. Returns the base's migrations (the
/// merge-base's, then the tip's) for the numbering rules.
fn with_base(
    ws: &Workspace,
    repo: &dyn Vcs,
    set: &SetConfig,
    state: &SetState,
    base: &Base,
    opts: &Options,
    findings: &mut Vec<Finding>,
) -> crate::Result<Vec<Migration>> {
    let (merge_base, tip) = repo.read_base(set, base, &state.snapshot)?;
    let mut base_migrations = rules::naming::migrations(set, &merge_base);
    base_migrations.extend(rules::naming::migrations(set, &tip));
    against_base(
        set,
        state,
        base,
        (&merge_base, &tip),
        &base_migrations,
        findings,
    );
    findings.extend(branch_history(repo, set, state, base, opts.source)?);
    findings.extend(in_flight_claims(
        ws,
        repo,
        set,
        state,
        base,
        &merge_base,
        opts,
    )?);
    Ok(base_migrations)
}

/// `number-claimed`: this branch's new migrations against those other open branches add
/// (`--against` and `[git] against` ref globs).
fn in_flight_claims(
    ws: &Workspace,
    repo: &dyn Vcs,
    set: &SetConfig,
    state: &SetState,
    base: &Base,
    merge_base: &Snapshot,
    opts: &Options,
) -> crate::Result<Vec<Finding>> {
    let globs: Vec<String> = opts
        .against
        .iter()
        .chain(&ws.config.against)
        .cloned()
        .collect();
    if globs.is_empty() {
        return Ok(Vec::new());
    }
    let claims = repo.claims(set, base, &globs)?;
    let new: Vec<&Migration> = state
        .migrations
        .iter()
        .filter(|m| merge_base.file(&m.name).is_none() && state.ledger.get(&m.name).is_none())
        .collect();
    let mut findings = rules::git::against_gaps(&claims);
    findings.extend(rules::git::number_claimed(set, &new, &claims.claims));
    Ok(findings)
}

/// `rewritten-in-history` on the branch under review: each commit since the merge-base, then
/// what is checked (the index or the work tree), for migrations the branch itself recorded.
fn branch_history(
    repo: &dyn Vcs,
    set: &SetConfig,
    state: &SetState,
    base: &Base,
    source: Source,
) -> crate::Result<Vec<Finding>> {
    let (at_merge_base, mut states) = repo.branch_states(set, base)?;
    let recorded: HashMap<String, String> = state
        .ledger
        .entries
        .iter()
        .filter(|e| !at_merge_base.contains(&e.name))
        .map(|e| (e.name.clone(), e.digest.clone()))
        .collect();
    let files = recorded
        .keys()
        .filter_map(|name| {
            Some((
                name.clone(),
                state.snapshot.file(name)?.digest().to_string(),
            ))
        })
        .collect();
    states.push(rules::history::BranchState {
        label: match source {
            Source::Index => "the staged change".into(),
            Source::WorkTree => "the work tree".into(),
        },
        recorded,
        files,
    });
    Ok(rules::history::recorded_then_changed(
        set,
        &at_merge_base,
        &states,
    ))
}

/// The rules that compare the set with the base: merged files, numbers, the ledger, the names
/// merged files keep, and new files under the baseline (parse-checked anyway).
fn against_base(
    set: &SetConfig,
    state: &SetState,
    base: &Base,
    (merge_base, tip): (&Snapshot, &Snapshot),
    base_migrations: &[Migration],
    findings: &mut Vec<Finding>,
) {
    findings.extend(rules::git::check_base(&rules::git::BaseInput {
        set,
        now: &state.snapshot,
        migrations: &state.migrations,
        merge_base,
        tip,
        base_migrations,
        base_name: &base.name,
    }));
    rules::naming::keep_merged_names(set, findings, merge_base);
    let recorded = |name: &str| state.ledger.get(name).is_some();
    let dialect = crate::sql::dialect(&set.dialect);
    for (m, f) in rules::naming::baseline_covers_new(
        set,
        &state.migrations,
        merge_base,
        &recorded,
        &base.name,
    ) {
        findings.push(f);
        if let Some(file) = state.snapshot.file(&m.name) {
            findings.extend(rules::sql::check_file(set, dialect.as_ref(), file, true, None).0);
        }
    }
}

/// [`check_snapshot_cached`] with the set's analysis cache (inside a repository: it lives in
/// the VCS's state directory), rewritten when it missed or went stale.
fn check_snapshot_with_cache(
    ws: &Workspace,
    set: &SetConfig,
    snapshot: Snapshot,
    opts: &Options,
) -> (Vec<Finding>, SetState) {
    let cache_path = ws
        .repo
        .as_ref()
        .map(|repo| crate::cache::path(repo.state_dir(), set));
    let bytes = cache_path.as_deref().map(crate::cache::read);
    let cached = bytes.as_ref().map(|b| crate::cache::Cache::parse(b, set));
    let (f, state) = check_snapshot_cached(
        set,
        snapshot,
        opts.require_recorded,
        cached.as_ref(),
        opts.all,
    );
    if let (Some(p), false) = (&cache_path, opts.read_only_cache) {
        let stale = cached
            .as_ref()
            .is_none_or(|c| c.len() != state.analyses.values().filter(|a| !a.skipped).count());
        if state.cache_misses > 0 || stale {
            let analysed = state.snapshot.files.iter().filter_map(|f| {
                let a = state.analyses.get(&f.name)?;
                Some((f.digest(), a, *state.parsed.get(&f.name)?))
            });
            crate::cache::store(p, set, analysed);
        }
    }
    (f, state)
}

/// Numbers and names no advice may hand out: a recorded migration holds its number even when
/// its file is gone (the gap is that file's `applied-file-missing`).
fn numbering_context<'a>(set: &SetConfig, state: &'a SetState) -> rules::naming::Context<'a> {
    let convention = crate::naming::convention(set);
    let entries = &state.ledger.entries;
    rules::naming::Context {
        protected: entries.iter().map(|e| e.name.as_str()).collect(),
        taken: entries
            .iter()
            .filter_map(|e| {
                convention
                    .parse(&crate::naming::recorded_name(&e.name))
                    .ok()
            })
            .map(|p| p.number)
            .collect(),
    }
}

/// The set's row in every report: its sequence (recorded, new on this branch), the Alembic
/// picture and the revision its SQL stamps last.
fn summary(
    set: &SetConfig,
    state: &SetState,
    alembic: Option<AlembicPicture>,
    base_names: Option<&std::collections::HashSet<&str>>,
) -> SetSummary {
    SetSummary {
        name: set.name.clone(),
        dir: set.dir.clone(),
        sequence: state
            .migrations
            .iter()
            .map(|m| SequenceItem {
                path: m.path.clone(),
                recorded: state.ledger.get(&m.name).is_some(),
                new: base_names.map(|names| !names.contains(m.name.as_str())),
            })
            .collect(),
        alembic,
        schema_change: base_names.and_then(|names| schema_change(set, state, names)),
        stamped: state
            .migrations
            .iter()
            .filter_map(|m| state.analyses.get(&m.name))
            .flat_map(|a| a.stamps.iter())
            .rfind(|s| !matches!(s.kind, crate::sql::stamps::StampKind::Delete(_)))
            .map(|s| s.revision.clone()),
    }
}

/// What the migrations new on this branch do to the schema: the replay without them (the base's
/// files) against the replay with them. `None` when they change nothing the model holds.
fn schema_change(
    set: &SetConfig,
    state: &SetState,
    base_names: &std::collections::HashSet<&str>,
) -> Option<crate::schema::SchemaChange> {
    let replay = |only_base: bool| {
        let mut model = crate::schema::Model::new(&set.external);
        for m in &state.migrations {
            if only_base && !base_names.contains(m.name.as_str()) {
                continue;
            }
            model.replay_file(&m.name, state.analyses.get(&m.name));
        }
        model
    };
    let change = replay(true).change_to(&replay(false));
    (!change.is_empty()).then_some(change)
}

/// A finding about a whole migration file still points somewhere: line 1, column 1 of it.
fn point_at_files(findings: &mut [Finding], states: &[(&SetConfig, SetState)]) {
    let migration_paths: std::collections::HashSet<&str> = states
        .iter()
        .flat_map(|(_, s)| s.snapshot.files.iter().map(|m| m.path.as_str()))
        .collect();
    for f in findings {
        if f.span.is_none()
            && f.file
                .as_deref()
                .is_some_and(|p| migration_paths.contains(p))
        {
            f.span = Some(0..0);
            f.label.get_or_insert_with(|| "this file".into());
        }
    }
}

/// The compose file being committed (under --staged) or the work tree's: its text, or why it
/// could not be read.
fn read_compose(
    files: &crate::alembic::Files,
    compose: &str,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> Result<(String, String), crate::alembic::Unreadable> {
    let read = match &files {
        crate::alembic::Files::Index(staged) => staged
            .bytes(compose)
            .ok_or_else(|| "it is not staged".to_string()),
        crate::alembic::Files::WorkTree(root) => {
            crate::fsutil::read_regular(root, compose, crate::alembic::ALEMBIC_LIMIT)
                .map_err(|e| e.to_string())
        }
    };
    match read {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            sources.insert(compose.to_string(), Arc::from(bytes));
            Ok((compose.to_string(), text))
        }
        Err(e) => Err(crate::alembic::Unreadable::new(format!(
            "cannot read compose file {compose}: {e}"
        ))
        .help("fix `compose` under [set.alembic] in miglint.toml")),
    }
}

/// The Alembic side of one set, read from the work tree (or, for `--staged`, the index): its
/// layout, the revision graph and the compose file. `None` when the set has no Alembic.
fn read_alembic(
    ws: &Workspace,
    set: &SetConfig,
    source: Source,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> Option<rules::AlembicFacts> {
    let staged = match (source, &ws.repo) {
        (Source::Index, Some(repo)) => repo.staged_files(),
        _ => None,
    };
    let files = match staged {
        Some(staged) => crate::alembic::Files::Index(staged),
        None => crate::alembic::Files::WorkTree(&ws.root),
    };
    let layout = match crate::alembic::layout(&files, set) {
        Ok(Some(l)) => l,
        Ok(None) => return None,
        Err(u) => return Some(rules::AlembicFacts::Unreadable(*u)),
    };
    let (graph, unreadable) = crate::alembic::load_graph(&files, &layout, sources);
    let compose = layout
        .compose
        .as_ref()
        .map(|c| read_compose(&files, c, sources));
    Some(rules::AlembicFacts::Read(Box::new(rules::AlembicRead {
        layout,
        graph,
        unreadable,
        compose,
    })))
}

/// What the graph shows of a set's Alembic side (for the reports), when it could be read.
fn alembic_picture(
    alembic: Option<&rules::AlembicFacts>,
    state: &SetState,
) -> Option<AlembicPicture> {
    let Some(rules::AlembicFacts::Read(read)) = alembic else {
        return None;
    };
    let (layout, graph) = (&read.layout, &read.graph);
    let stamps = rules::alembic::set_stamps(&state.migrations, &state.analyses);
    Some(AlembicPicture {
        versions: layout.versions.first().cloned().unwrap_or_default(),
        revisions: graph
            .revisions
            .iter()
            .map(|r| (r.id.clone(), r.down.clone(), r.labels.clone()))
            .collect(),
        heads: graph.heads().into_iter().map(str::to_string).collect(),
        stamps: stamps
            .iter()
            .filter(|(_, s)| !matches!(s.kind, crate::sql::stamps::StampKind::Delete(_)))
            .map(|(path, s)| (s.revision.clone(), path.clone()))
            .collect(),
    })
}
