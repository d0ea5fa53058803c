//! `miglint check`: opens the workspace (root, repository, config), reads each set's snapshot,
//! runs every rule family over it and returns the findings, filtered and sorted. Nothing here
//! prints; `report` renders the [`Outcome`].

use std::collections::{BTreeMap, HashMap};
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
}

impl Workspace {
    /// Finds the repository and config from `cwd`. `dirs` (from the command line) replace the
    /// configured sets, keeping a configured set's options when it names the same directory.
    pub fn open(
        cwd: &Path,
        config_path: Option<&Path>,
        dirs: &[PathBuf],
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
            None => config::discover(&cwd, &root),
        };
        let mut config = match &config_file {
            Some(p) => config::load(p, &root)?,
            None => Config {
                root: root.clone(),
                path: None,
                base: None,
                sets: Vec::new(),
                severities: Default::default(),
            },
        };
        if !dirs.is_empty() {
            let mut sets = Vec::new();
            for d in dirs {
                let rel = config::relative_to(&root, &config::normalize(&cwd.join(d)));
                let set = config
                    .sets
                    .iter()
                    .find(|s| s.dir == rel)
                    .cloned()
                    .unwrap_or_else(|| SetConfig::with_dir(rel));
                sets.push(set);
            }
            config.sets = sets;
        } else if config.sets.is_empty() {
            if config_file.is_none() && cwd.join("migrations").is_dir() {
                let rel = config::relative_to(&root, &cwd.join("migrations"));
                config.sets.push(SetConfig::with_dir(rel));
            } else {
                let msg = match &config_file {
                    Some(p) => format!("{} configures no [[set]]", p.display()),
                    None => {
                        "nothing to check: no miglint.toml and no migrations/ directory here".into()
                    }
                };
                return Err(Fatal::config(msg, "run `miglint check DIR`, or `miglint init` to write a miglint.toml with a [[set]] per migration directory"));
            }
        }
        Ok(Workspace { root, repo, config })
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
}

pub use crate::outcome::{AlembicPicture, Outcome, SequenceItem, SetSummary};

/// What one set's snapshot yields besides findings, for rules that look across files.
pub struct SetState {
    pub snapshot: Snapshot,
    pub migrations: Vec<Migration>,
    /// Per file name; absent for files that could not be read as SQL, and for protected files
    /// that were not analysed and hold no directive (an empty analysis says nothing).
    pub analyses: HashMap<String, Analysis>,
    /// Per analysed file name: whether it was parse-checked (baseline files are not).
    pub parsed: HashMap<String, bool>,
    /// How many files the cache did not have.
    pub cache_misses: usize,
    /// The snapshot's ledger, parsed once (empty when there is none); later rules reuse it.
    pub ledger: crate::ledger::Ledger,
    /// With a base: the paths this change touches (see [`rules::git::changed_paths`]); the
    /// base's ratings of protection codes hold for findings about them.
    pub changed: Option<std::collections::HashSet<String>>,
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
    cache: Option<&HashMap<String, crate::cache::Entry>>,
    all: bool,
) -> (Vec<Finding>, SetState) {
    // Parsed once here; the naming and ledger rules below take it.
    let parsed_ledger = snapshot
        .ledger
        .as_deref()
        .map(crate::ledger::parse)
        .unwrap_or_default();
    let migrations = rules::naming::migrations(set, &snapshot);
    let mut findings = rules::naming::check(set, &snapshot, &migrations, &parsed_ledger.0);
    findings.extend(snapshot.unreadable.iter().map(rules::sql::unreadable));
    findings.extend(
        snapshot
            .ledger_unreadable
            .iter()
            .map(rules::sql::unreadable),
    );
    let per_file = analyse_files(set, &snapshot, &migrations, &parsed_ledger.0, cache, all);
    let mut parsed = HashMap::new();
    let mut cache_misses = 0;
    let mut analyses = HashMap::new();
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
            analyses,
            parsed,
            cache_misses,
            ledger,
            changed: None,
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
    migrations: &[Migration],
    applied: &crate::ledger::Ledger,
    cache: Option<&HashMap<String, crate::cache::Entry>>,
    all: bool,
) -> Vec<PerFile> {
    let numbers: HashMap<&str, u64> = migrations
        .iter()
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
            let hit = cache
                .and_then(|c| c.get(digest))
                .filter(|e| e.parsed == parse)
                .and_then(|e| e.analysis(file.bytes.len()));
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
/// cause stays and the others become its related information.
///
/// - `number-conflict` (the base took the number) explains `duplicate-number` and `out-of-order`;
/// - `checksum-mismatch` (an applied file changed) explains `modified-after-merge`;
/// - identical findings (same code, file, position and message) are reported once.
pub fn one_per_problem(findings: Vec<Finding>) -> Vec<Finding> {
    let root_of = |code: Rule| match code {
        Rule::DuplicateNumber | Rule::OutOfOrder => Some(Rule::NumberConflict),
        Rule::ModifiedAfterMerge => Some(Rule::ChecksumMismatch),
        _ => None,
    };
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

/// With a base: the `[rules]` severities of the base's miglint.toml (the same path; none there
/// means the defaults). A protection finding is never rated below them, so a change cannot
/// re-rate its own protection: the re-rating has to land, reviewed, on its own first.
fn protection_floor(
    ws: &Workspace,
    base: Option<&Base>,
) -> crate::Result<Option<BTreeMap<Rule, Severity>>> {
    let (Some(repo), Some(base)) = (&ws.repo, base) else {
        return Ok(None);
    };
    let text = match &ws.config.path {
        Some(path) => {
            let rel = config::relative_to(&ws.root, path);
            repo.read_at_merge_base(base, &rel)?.unwrap_or_default()
        }
        None => Vec::new(),
    };
    Ok(Some(config::severities_in(&String::from_utf8_lossy(&text))))
}

/// A protection finding's severity, raised to what the base's `[rules]` (`floor`) gives it when
/// this branch's miglint.toml rates it lower and the finding is about a path the change touches
/// (`changed`; a condition the base already has may be re-rated by the change adopting the
/// re-rating); the message says so.
fn keep_protection(
    f: &mut Finding,
    floor: Option<&BTreeMap<Rule, Severity>>,
    changed: &dyn Fn(&str) -> bool,
    cosmetic: Severity,
) {
    let touched = f.file.as_deref().is_none_or(changed);
    let Some(floor) = floor.filter(|_| f.rule.is_protection() && touched) else {
        return;
    };
    let at_base =
        crate::registry::severity(f.rule, f.rating, floor.get(&f.rule).copied(), cosmetic);
    if f.severity < at_base {
        f.message.push_str(&format!(
            " (miglint.toml on this branch rates `{}` {}, the base's {}: a change cannot lower its own protection; re-rate it on its own, reviewed, first)",
            f.rule.code(),
            f.severity.as_str(),
            at_base.as_str()
        ));
        f.severity = at_base;
    }
}

/// Applies ignore directives (reporting those that silence nothing), the `[rules]` severities
/// (never below the base's for protection codes: `floor`), drops `off`, and sorts.
pub fn finish(
    config: &Config,
    floor: Option<&BTreeMap<Rule, Severity>>,
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
    let changed = |path: &str| {
        states
            .iter()
            .any(|(_, s)| s.changed.as_ref().is_some_and(|c| c.contains(path)))
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
            keep_protection(&mut f, floor, &changed, cosmetic);
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

/// `miglint check`.
pub fn run(ws: &Workspace, opts: &Options) -> crate::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut findings = Vec::new();
    let mut states: Vec<(&SetConfig, SetState)> = Vec::new();
    let sets: Vec<&SetConfig> = match &opts.set {
        Some(name) => vec![ws.select_set(Some(name))?],
        None => ws.config.sets.iter().collect(),
    };
    if opts.source == Source::Index {
        ws.repo("--staged")?;
    }
    let base = match &ws.repo {
        Some(repo) => repo.resolve_base(opts.base.as_deref(), ws.config.base.as_deref())?,
        None if opts.base.is_some() => return Err(ws.no_repo("--base")),
        None if opts.history => return Err(ws.no_repo("--history")),
        None => None,
    };
    for set in sets {
        let state = check_set(ws, set, opts, base.as_ref(), &mut outcome, &mut findings)?;
        states.push((set, state));
    }
    match (&base, &ws.repo) {
        (None, Some(_)) => findings.push(
            Finding::new(Rule::NoBase, "no base revision found: checks against the base branch were skipped")
                .help("pass --base origin/main, set MIGLINT_BASE, or `base = \"origin/main\"` under [git] in miglint.toml"),
        ),
        (Some(b), _) => outcome.base = Some(b.describe()),
        _ => {}
    }
    let refs: Vec<(&SetConfig, &SetState)> = states.iter().map(|(s, st)| (*s, st)).collect();
    let floor = protection_floor(ws, base.as_ref())?;
    outcome.findings = finish(&ws.config, floor.as_ref(), &refs, one_per_problem(findings));
    point_at_files(&mut outcome.findings, &states);
    // Reports show excerpts of the files findings name, and only those are kept: on a clean
    // run of 100,000 migrations that is 100,000 map entries the report never reads.
    let shown: std::collections::HashSet<&str> = outcome
        .findings
        .iter()
        .filter_map(|f| f.file.as_deref())
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
    let (f, mut state) = check_snapshot_with_cache(ws, set, snapshot, opts);
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
    let mut base_names: Option<std::collections::HashSet<&str>> = None;
    let mut base_migrations = Vec::new();
    if let (Some(repo), Some(base)) = (&ws.repo, base) {
        let (merge_base, tip) = repo.read_base(set, base, &state.snapshot)?;
        base_migrations = rules::naming::migrations(set, &merge_base);
        base_migrations.extend(rules::naming::migrations(set, &tip));
        findings.extend(rules::git::check_base(&rules::git::BaseInput {
            set,
            now: &state.snapshot,
            migrations: &state.migrations,
            merge_base: &merge_base,
            tip: &tip,
            base_migrations: &base_migrations,
            base_name: &base.name,
        }));
        base_names = Some(base_migrations.iter().map(|m| m.name.as_str()).collect());
        rules::naming::keep_merged_names(set, findings, &merge_base);
        state.changed = Some(rules::git::changed_paths(set, &state.snapshot, &merge_base));
    }
    let mut context = numbering_context(set, &state);
    context
        .taken
        .extend(base_migrations.iter().map(|m| m.number));
    context
        .protected
        .extend(base_migrations.iter().map(|m| m.name.as_str()));
    findings.extend(rules::naming::gaps(set, &state.migrations, &context));
    if let (Some(repo), true) = (&ws.repo, opts.history) {
        findings.extend(repo.audit_history(set)?);
    }
    let (alembic, picture) = alembic_findings(ws, set, &state, opts.source, &mut outcome.sources);
    findings.extend(alembic);
    if let Some(export) = &opts.history_export {
        let export = crate::export::read(&ws.root, export)?;
        findings.extend(crate::rules::history::reconcile(
            set,
            &export,
            &state.snapshot,
            &state.ledger,
        ));
        outcome
            .sources
            .insert(export.shown.clone(), Arc::from(export.bytes));
    }
    outcome
        .sets
        .push(summary(set, &state, picture, base_names.as_ref()));
    Ok(state)
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
    let cached = cache_path.as_deref().map(|p| crate::cache::load(p, set));
    let (f, state) = check_snapshot_cached(
        set,
        snapshot,
        opts.require_recorded,
        cached.as_ref(),
        opts.all,
    );
    if let Some(p) = &cache_path {
        let stale = cached
            .as_ref()
            .is_none_or(|c| c.len() != state.analyses.values().filter(|a| !a.skipped).count());
        if state.cache_misses > 0 || stale {
            let analysed = state.snapshot.files.iter().filter_map(|f| {
                let a = state.analyses.get(&f.name)?;
                Some((f.digest(), a, *state.parsed.get(&f.name)?))
            });
            crate::cache::store(p, set, crate::cache::entries(analysed));
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
        stamped: state
            .migrations
            .iter()
            .filter_map(|m| state.analyses.get(&m.name))
            .flat_map(|a| a.stamps.iter())
            .rfind(|s| !matches!(s.kind, crate::sql::stamps::StampKind::Delete(_)))
            .map(|s| s.revision.clone()),
    }
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

/// All Alembic findings for one set: the graph read from the work tree (or, for `--staged`, the
/// index), its structural rules, the SQL's stamps against it, and the compose guard.
fn alembic_findings(
    ws: &Workspace,
    set: &SetConfig,
    state: &SetState,
    source: Source,
    sources: &mut HashMap<String, Arc<[u8]>>,
) -> (Vec<Finding>, Option<AlembicPicture>) {
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
        Ok(None) => return (Vec::new(), None),
        Err(f) => return (vec![*f], None),
    };
    let (graph, mut findings) = crate::alembic::load_graph(&files, &layout, sources);
    findings.extend(graph.check(layout.expected_heads()));
    let stamps: Vec<(String, crate::sql::Stamp)> = state
        .migrations
        .iter()
        .filter_map(|m| state.analyses.get(&m.name).map(|a| (m, a)))
        .flat_map(|(m, a)| a.stamps.iter().map(move |s| (m.path.clone(), s.clone())))
        .collect();
    findings.extend(crate::rules::alembic::check_stamps(
        &layout, &graph, &stamps,
    ));
    for m in &state.migrations {
        if let (Some(a), Some(f)) = (state.analyses.get(&m.name), state.snapshot.file(&m.name)) {
            findings.extend(crate::rules::alembic::unverified_stamps(
                &layout.version_table,
                &m.path,
                &f.bytes,
                a,
            ));
        }
    }
    if let Some(compose) = &layout.compose {
        match crate::fsutil::read_regular(&ws.root, compose, crate::alembic::ALEMBIC_LIMIT) {
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
    let picture = AlembicPicture {
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
    };
    (findings, Some(picture))
}
