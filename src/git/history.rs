//! `check --history`: an audit of HEAD's first-parent history, oldest first. A migration never
//! changes after its first commit, and the ledger is only ever appended to. Commits whose set
//! directory and ledger have the same tree/blob ids as their parent's are skipped without being
//! read, so a 100,000-commit history costs one tree lookup per commit.

use std::collections::{HashMap, HashSet};

use git2::{Oid, Repository, Sort};

use super::short;
use crate::config::SetConfig;
use crate::finding::Finding;
use crate::registry::Rule;
use crate::rules::git::ledger_rewrite;
use crate::rules::history::BranchState;
use crate::snapshot::is_migration_name;
use crate::Fatal;

fn git_err(e: git2::Error) -> Fatal {
    Fatal::new(
        Rule::IoError,
        format!("cannot walk the history: {}", e.message()),
        "check the repository with `git fsck`",
    )
}

/// A commit on the audited line that cannot be read: named, so `git cat-file -p` can show it.
fn commit_err(oid: Oid, e: git2::Error) -> Fatal {
    Fatal::new(
        Rule::IoError,
        format!("cannot read commit {oid} on the audited first-parent line: {}", e.message()),
        "the object is missing or malformed; `git fsck` names the problem. miglint cannot vouch for history it cannot read",
    )
}

/// `YYYY-MM-DD` of a git commit time.
pub fn date(time: git2::Time) -> String {
    let secs = time.seconds() + i64::from(time.offset_minutes()) * 60;
    let ts = crate::naming::utc_timestamp(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64),
    )
    .to_string();
    if ts.len() == 14 {
        format!("{}-{}-{}", &ts[..4], &ts[4..6], &ts[6..8])
    } else {
        ts
    }
}

fn id_at(tree: &git2::Tree, path: &str) -> Option<Oid> {
    tree.get_path(std::path::Path::new(path))
        .ok()
        .map(|e| e.id())
}

/// One first-parent commit where the set directory or the ledger changed.
struct Step {
    commit: Oid,
    dir: Option<Oid>,
    ledger: Option<Oid>,
    /// The previous step's ids (what this commit changed from).
    prev_dir: Option<Oid>,
    prev_ledger: Option<Oid>,
}

/// What changed at one step, computed independently of every other step (so steps run in
/// parallel): the migration files written (name, blob) or deleted, and whether the ledger was
/// rewritten or deleted rather than appended to.
#[derive(Default)]
struct Change {
    written: Vec<(String, Oid)>,
    deleted: Vec<String>,
    ledger_rewritten: bool,
    ledger_deleted: bool,
}

/// The previous step's tree and ledger, so consecutive steps in one worker read each version once.
#[derive(Default)]
struct Cache<'r> {
    tree: Option<(Oid, git2::Tree<'r>)>,
    ledger: Option<(Oid, Vec<u8>)>,
}

fn diff_step<'r>(
    repo: &'r Repository,
    set: &SetConfig,
    step: &Step,
    cache: &mut Cache<'r>,
) -> Result<Change, git2::Error> {
    let mut change = Change::default();
    if step.dir != step.prev_dir {
        let old = match (step.prev_dir, cache.tree.take()) {
            (Some(p), Some((id, tree))) if id == p => Some(tree),
            (Some(p), _) => Some(repo.find_tree(p)?),
            (None, _) => None,
        };
        let new = step.dir.map(|d| repo.find_tree(d)).transpose()?;
        let diff = repo.diff_tree_to_tree(old.as_ref(), new.as_ref(), None)?;
        for delta in diff.deltas() {
            let file = delta.new_file();
            let Some(name) = file.path().and_then(|p| p.to_str()) else {
                continue;
            };
            if name.contains('/') || !is_migration_name(set, name) {
                continue;
            }
            if delta.status() == git2::Delta::Deleted {
                change.deleted.push(name.to_string());
            } else {
                change.written.push((name.to_string(), file.id()));
            }
        }
        cache.tree = step.dir.zip(new);
    }
    if step.ledger != step.prev_ledger {
        let before = match (step.prev_ledger, cache.ledger.take()) {
            (Some(p), Some((id, bytes))) if id == p => Some(bytes),
            (Some(p), _) => Some(repo.find_blob(p)?.content().to_vec()),
            (None, _) => None,
        };
        let after = step
            .ledger
            .map(|l| repo.find_blob(l).map(|b| b.content().to_vec()))
            .transpose()?;
        match (&before, &after) {
            (Some(b), Some(a)) => change.ledger_rewritten = ledger_rewrite(b, a).is_some(),
            (Some(_), None) => change.ledger_deleted = true,
            _ => {}
        }
        cache.ledger = step.ledger.zip(after);
    }
    Ok(change)
}

/// Audits the first-parent line from HEAD back to the set's beginning (or, resumed, back to
/// where the last audit ended): every step that changed the set directory or the ledger is
/// replayed by `rules::history::Replay`, which judges it.
pub fn audit(repo: &Repository, set: &SetConfig) -> crate::Result<Vec<Finding>> {
    let Some(head) = audited_head(repo)? else {
        return Ok(Vec::new());
    };
    let state_path = repo.path().join("miglint").join(format!(
        "history-{}.json",
        &crate::ledger::sha256_hex(set.lock.as_bytes())[..16]
    ));
    let (mut state, commits) = commits_to_audit(repo, head.id(), &state_path, set)?;
    // The findings of earlier audits: a later revert attaches to the rewrite it undoes.
    let mut findings = state.findings();
    if commits.is_empty() {
        return Ok(findings);
    }
    let (steps, last_dir, last_ledger) = changed_steps(repo, set, &commits, &state)?;
    let changes = read_changes(repo, set, &steps);
    let (first, current) = replay(repo, set, &state, &steps, changes, &mut findings)?;
    // Remember where this audit ended, so the next one reads only newer commits.
    state.commit = head.id().to_string();
    state.first = first.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    state.current = current
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    state.last_dir = last_dir.map(|o| o.to_string());
    state.last_ledger = last_ledger.map(|o| o.to_string());
    state.found = findings.iter().map(StoredFinding::from).collect();
    state.store(&state_path);
    Ok(findings)
}

/// HEAD's commit; `None` before the first commit. Anything else that stops HEAD from being read
/// is fatal: an audit that cannot read the line it audits must not pass. So is a shallow clone.
fn audited_head(repo: &Repository) -> crate::Result<Option<git2::Commit<'_>>> {
    let head = match repo.head() {
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return Ok(None),
        Err(e) => return Err(git_err(e)),
        Ok(h) => h,
    };
    let head = match head.peel_to_commit() {
        Ok(c) => c,
        Err(e) => {
            let id = head
                .target()
                .map_or("HEAD".to_string(), |o| format!("commit {o}"));
            return Err(Fatal::new(
                Rule::IoError,
                format!("cannot read {id} on the audited first-parent line: {}", e.message()),
                "the commit object is malformed; `git fsck` names the problem. miglint cannot vouch for history it cannot read",
            ));
        }
    };
    if repo.is_shallow() {
        return Err(Fatal::new(
            Rule::ShallowClone,
            "--history needs the full history, and this is a shallow clone",
            "fetch the full history: `fetch-depth: 0` for actions/checkout, or `git fetch --unshallow`",
        ));
    }
    Ok(Some(head))
}

/// The state to start from and the first-parent commits still to audit, oldest first. The last
/// audit resumes when HEAD descends from where it ended along the first-parent line: only the
/// new commits are read. Anything else (another version, rewritten history) audits in full.
fn commits_to_audit(
    repo: &Repository,
    head: Oid,
    state_path: &std::path::Path,
    set: &SetConfig,
) -> crate::Result<(Resumed, Vec<Oid>)> {
    let resumed = Resumed::load(state_path, set).and_then(|r| {
        let mut walk = repo.revwalk().ok()?;
        walk.push(head).ok()?;
        walk.simplify_first_parent().ok()?;
        let mut new = Vec::new();
        for oid in walk {
            let oid = oid.ok()?;
            if oid.to_string() == r.commit {
                new.reverse();
                return Some((r, new));
            }
            new.push(oid);
        }
        None
    });
    if let Some(found) = resumed {
        return Ok(found);
    }
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push(head).map_err(git_err)?;
    walk.simplify_first_parent().map_err(git_err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;
    let all = walk.collect::<Result<Vec<Oid>, _>>().map_err(git_err)?;
    Ok((Resumed::empty(set), all))
}

/// Phase 1, sequential and cheap: the set directory's tree id in every commit (only the small
/// root tree is parsed); commits where neither it nor the ledger changed are dropped. Returns
/// the steps and the directory's and ledger's ids at the last commit.
fn changed_steps(
    repo: &Repository,
    set: &SetConfig,
    commits: &[Oid],
    state: &Resumed,
) -> crate::Result<(Vec<Step>, Option<Oid>, Option<Oid>)> {
    let lock_in_dir = set.lock.starts_with(&format!("{}/", set.dir));
    let mut steps: Vec<Step> = Vec::new();
    let (mut last_dir, mut last_ledger) = (state.last_dir(), state.last_ledger());
    for &oid in commits {
        let tree = repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|e| commit_err(oid, e))?;
        let dir = super::dir_id(&tree, &set.dir);
        // A ledger inside an unchanged directory is unchanged: do not parse the large dir tree.
        let ledger = if lock_in_dir && dir == last_dir {
            last_ledger
        } else {
            id_at(&tree, &set.lock)
        };
        if dir != last_dir || ledger != last_ledger {
            steps.push(Step {
                commit: oid,
                dir,
                ledger,
                prev_dir: last_dir,
                prev_ledger: last_ledger,
            });
        }
        (last_dir, last_ledger) = (dir, ledger);
    }
    Ok((steps, last_dir, last_ledger))
}

/// Phase 2, parallel: the steps are split into one contiguous run per core; each run is
/// replayed in order with its own repository handle, reading each tree and ledger version once.
fn read_changes(
    repo: &Repository,
    set: &SetConfig,
    steps: &[Step],
) -> Vec<Result<Change, git2::Error>> {
    use rayon::prelude::*;
    let path = repo.path().to_path_buf();
    let per_run = steps
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    steps
        .par_chunks(per_run)
        .map(|run| match Repository::open(&path) {
            Ok(r) => {
                let mut cache = Cache::default();
                run.iter()
                    .map(|step| diff_step(&r, set, step, &mut cache))
                    .collect::<Vec<_>>()
            }
            Err(e) => run
                .iter()
                .map(|_| Err(git2::Error::from_str(e.message())))
                .collect(),
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// Each migration's blob: where it began and where it is now.
type Blobs = (HashMap<String, Oid>, HashMap<String, Oid>);

/// Phase 3, in order: replays the changes; the rule judges each step. Returns each migration's
/// first and current blob.
fn replay(
    repo: &Repository,
    set: &SetConfig,
    state: &Resumed,
    steps: &[Step],
    changes: Vec<Result<Change, git2::Error>>,
    findings: &mut Vec<Finding>,
) -> crate::Result<Blobs> {
    let mut replay = crate::rules::history::Replay {
        first: state.oids(&state.first),
        current: state.oids(&state.current),
    };
    for (step, change) in steps.iter().zip(changes) {
        let change = change.map_err(git_err)?;
        // The commit is read only when a finding describes it (phase 1 read it already, so it
        // is readable).
        let describe = || match repo.find_commit(step.commit) {
            Ok(commit) => format!(
                "commit {} by {} on {}",
                short(step.commit),
                commit.author().name().unwrap_or("?"),
                date(commit.time())
            ),
            Err(_) => format!("commit {}", short(step.commit)),
        };
        replay.apply(
            set,
            crate::rules::history::Step {
                short: short(step.commit),
                describe: &describe,
                deleted: change.deleted,
                written: change.written,
                ledger_rewritten: change.ledger_rewritten,
                ledger_deleted: change.ledger_deleted,
            },
            findings,
            |id| repo.find_blob(id).ok().map(|b| b.content().to_vec()),
        );
    }
    Ok((replay.first, replay.current))
}

/// A finding as the resume state stores it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredFinding {
    code: String,
    message: String,
    help: Option<String>,
    file: Option<String>,
    /// (code, message, file) of each related fact.
    #[serde(default)]
    related: Vec<(String, String, Option<String>)>,
    /// The finding's rating (`cosmetic`): its severity is decided when findings are finished.
    #[serde(default)]
    cosmetic: bool,
}

impl From<&Finding> for StoredFinding {
    fn from(f: &Finding) -> Self {
        StoredFinding {
            code: f.code().into(),
            message: f.message.clone(),
            help: f.help.clone(),
            file: f.file.clone(),
            related: f
                .related
                .iter()
                .map(|r| (r.rule.code().to_string(), r.message.clone(), r.file.clone()))
                .collect(),
            cosmetic: f.rating == Some(crate::registry::Rating::Cosmetic),
        }
    }
}

/// Where the last audit of a set ended (in `.git/miglint/`): the last commit audited, each
/// migration's first and current blob, the set directory's and ledger's ids there, and the
/// findings so far. Like the analysis cache, a state from another version or configuration is
/// ignored, a corrupt one is ignored, and writes are atomic.
#[derive(serde::Serialize, serde::Deserialize)]
struct Resumed {
    fingerprint: String,
    commit: String,
    first: HashMap<String, String>,
    current: HashMap<String, String>,
    last_dir: Option<String>,
    last_ledger: Option<String>,
    found: Vec<StoredFinding>,
}

impl Resumed {
    fn fingerprint(set: &SetConfig) -> String {
        format!(
            "{} state=2 dir={} lock={} dialect={} cosmetic={:?}",
            env!("CARGO_PKG_VERSION"),
            set.dir,
            set.lock,
            set.dialect,
            set.cosmetic_edits
        )
    }

    fn empty(set: &SetConfig) -> Resumed {
        Resumed {
            fingerprint: Resumed::fingerprint(set),
            commit: String::new(),
            first: HashMap::new(),
            current: HashMap::new(),
            last_dir: None,
            last_ledger: None,
            found: Vec::new(),
        }
    }

    fn load(path: &std::path::Path, set: &SetConfig) -> Option<Resumed> {
        // Untrusted input like the cache: size-limited, and anything that does not decode is
        // ignored (the audit then runs in full).
        let bytes = crate::fsutil::read_state(path, 256 << 20).ok()?;
        let r: Resumed = serde_json::from_slice(&bytes).ok()?;
        (r.fingerprint == Resumed::fingerprint(set)).then_some(r)
    }

    fn store(&self, path: &std::path::Path) {
        if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(self)) {
            if std::fs::create_dir_all(dir).is_ok() {
                let _ = crate::fsutil::write_atomic(path, &bytes);
            }
        }
    }

    fn oid(s: &Option<String>) -> Option<Oid> {
        s.as_deref().and_then(|s| Oid::from_str(s).ok())
    }

    fn last_dir(&self) -> Option<Oid> {
        Resumed::oid(&self.last_dir)
    }

    fn last_ledger(&self) -> Option<Oid> {
        Resumed::oid(&self.last_ledger)
    }

    fn oids(&self, map: &HashMap<String, String>) -> HashMap<String, Oid> {
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), Oid::from_str(v).ok()?)))
            .collect()
    }

    fn findings(&self) -> Vec<Finding> {
        self.found
            .iter()
            .filter_map(|f| {
                let mut out = Finding::new(Rule::from_code(&f.code)?, f.message.clone());
                out.help = f.help.clone();
                out.file = f.file.clone();
                out.rating = f.cosmetic.then_some(crate::registry::Rating::Cosmetic);
                out.related = f
                    .related
                    .iter()
                    .filter_map(|(code, message, file)| {
                        Some(crate::finding::Related {
                            rule: Rule::from_code(code)?,
                            message: message.clone(),
                            file: file.clone(),
                            span: None,
                        })
                    })
                    .collect();
                Some(out)
            })
            .collect()
    }
}

/// The states of the set on the branch under review: every commit between the base's
/// merge-base and HEAD (oldest first, merges included) that changed the set directory or its
/// ledger, with the ledger lines and file digests of the migrations the branch itself recorded
/// (those absent from the merge-base's ledger, returned too). `rules::history::
/// recorded_then_changed` judges them.
pub fn branch_states(
    repo: &Repository,
    set: &SetConfig,
    base: &crate::vcs::Base,
) -> crate::Result<(HashSet<String>, Vec<BranchState>)> {
    let merge_base = Oid::from_str(&base.merge_base).map_err(git_err)?;
    let head = match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(c) => c.id(),
        Err(_) => return Ok((HashSet::new(), Vec::new())),
    };
    let tree_of = |oid: Oid| {
        repo.find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|e| commit_err(oid, e))
    };
    let ledger_at = |id: Option<Oid>| -> crate::Result<HashMap<String, String>> {
        let Some(id) = id else {
            return Ok(HashMap::new());
        };
        let blob = repo.find_blob(id).map_err(git_err)?;
        let (ledger, _) = crate::ledger::parse(blob.content());
        Ok(ledger
            .entries
            .into_iter()
            .map(|e| (e.name, e.digest))
            .collect())
    };
    let mb_tree = tree_of(merge_base)?;
    let (mut last_dir, mut last_ledger) = (
        super::dir_id(&mb_tree, &set.dir),
        id_at(&mb_tree, &set.lock),
    );
    let at_merge_base: HashSet<String> = ledger_at(last_ledger)?.into_keys().collect();
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push(head).map_err(git_err)?;
    walk.hide(merge_base).map_err(git_err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;
    let mut recorded: HashMap<String, String> = HashMap::new();
    let mut digests: HashMap<Oid, String> = HashMap::new();
    let mut states = Vec::new();
    for oid in walk {
        let oid = oid.map_err(git_err)?;
        let tree = tree_of(oid)?;
        let (dir, ledger) = (super::dir_id(&tree, &set.dir), id_at(&tree, &set.lock));
        if dir == last_dir && ledger == last_ledger {
            continue;
        }
        if ledger != last_ledger {
            recorded = ledger_at(ledger)?;
            recorded.retain(|name, _| !at_merge_base.contains(name));
        }
        (last_dir, last_ledger) = (dir, ledger);
        let mut files = HashMap::new();
        for name in recorded.keys() {
            let Some(id) = id_at(&tree, &crate::config::join(&set.dir, name)) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(v) = digests.entry(id) {
                let blob = repo.find_blob(id).map_err(git_err)?;
                v.insert(crate::ledger::sha256_hex(blob.content()));
            }
            files.insert(name.clone(), digests[&id].clone());
        }
        let commit = repo.find_commit(oid).map_err(|e| commit_err(oid, e))?;
        states.push(BranchState {
            label: format!(
                "commit {} by {} on {}",
                short(oid),
                commit.author().name().unwrap_or("?"),
                date(commit.time())
            ),
            recorded: recorded.clone(),
            files,
        });
    }
    Ok((at_merge_base, states))
}
