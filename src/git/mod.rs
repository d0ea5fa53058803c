//! The git side of the I/O layer (libgit2 via git2; never the `git` CLI): [`Git`] implements
//! [`Vcs`] with base resolution, snapshots of a set at a commit or in the index, and the history
//! walk (`history`). The comparisons themselves are pure functions in `rules::git` and
//! `rules::history`; no git2 type leaves this module.

pub mod history;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository};

use std::path::{Path, PathBuf};

use crate::alembic::StagedFiles;
use crate::config::SetConfig;
use crate::finding::Finding;
use crate::registry::Rule;
use crate::rules::git::{Claim, Claims};
use crate::rules::history::BranchState;
use crate::snapshot::{
    crlf_to_lf, is_migration_name, MigrationFile, RecordedBlob, Snapshot, Unreadable,
};
use crate::vcs::{Base, Vcs};
use crate::Fatal;

/// A git repository with a work tree.
pub struct Git {
    repo: Repository,
    work_dir: PathBuf,
}

impl Vcs for Git {
    fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    fn state_dir(&self) -> &Path {
        self.repo.path()
    }

    fn hooks_dir(&self) -> PathBuf {
        let configured = self
            .repo
            .config()
            .ok()
            .and_then(|c| c.get_path("core.hooksPath").ok());
        match configured {
            Some(p) if p.is_absolute() => p,
            Some(p) => self.work_dir.join(p),
            // Linked worktrees share the main repository's hooks.
            None => self.repo.commondir().join("hooks"),
        }
    }

    fn canonicalize(&self, set: &SetConfig, snap: &mut Snapshot) {
        canonicalize(&self.repo, set, snap)
    }

    fn refuse_submodule(&self, set: &SetConfig) -> crate::Result<()> {
        refuse_submodule(&self.repo, &self.work_dir, set)
    }

    fn resolve_base(&self, cli: Option<&str>, config: Option<&str>) -> crate::Result<Option<Base>> {
        resolve_base(&self.repo, cli, config)
    }

    fn read_index(&self, set: &SetConfig) -> crate::Result<Snapshot> {
        read_index(&self.repo, set)
    }

    fn read_base(
        &self,
        set: &SetConfig,
        base: &Base,
        now: &Snapshot,
    ) -> crate::Result<(Snapshot, Snapshot)> {
        read_base(&self.repo, set, base, now)
    }

    fn read_at_merge_base(&self, base: &Base, path: &str) -> crate::Result<Option<Vec<u8>>> {
        let tree = merge_base_tree(&self.repo, base)?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        Ok(self
            .repo
            .find_blob(entry.id())
            .ok()
            .filter(|b| b.size() <= 1 << 20)
            .map(|b| b.content().to_vec()))
    }

    fn changed_since(&self, base: &Base, staged: bool) -> crate::Result<HashSet<String>> {
        let tree = merge_base_tree(&self.repo, base)?;
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(!staged)
            .recurse_untracked_dirs(!staged)
            .include_typechange(true);
        let diff = if staged {
            self.repo
                .diff_tree_to_index(Some(&tree), None, Some(&mut opts))
        } else {
            self.repo
                .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        }
        .map_err(|e| git_err("the change against the merge-base", e))?;
        let mut paths = HashSet::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(p) = file.path().and_then(|p| p.to_str()) {
                    paths.insert(p.replace('\\', "/"));
                }
            }
        }
        Ok(paths)
    }

    fn recorded_blobs(
        &self,
        dir: &str,
        wanted: &[(String, String)],
        limit: usize,
    ) -> HashMap<String, RecordedBlob> {
        blobs_with_digests(&self.repo, dir, wanted, limit)
    }

    fn audit_history(&self, set: &SetConfig) -> crate::Result<Vec<Finding>> {
        history::audit(&self.repo, set)
    }

    fn claims(&self, set: &SetConfig, base: &Base, globs: &[String]) -> crate::Result<Claims> {
        claims(&self.repo, set, base, globs)
    }

    fn branch_states(
        &self,
        set: &SetConfig,
        base: &Base,
    ) -> crate::Result<(HashSet<String>, Vec<BranchState>)> {
        history::branch_states(&self.repo, set, base)
    }

    fn staged_files(&self) -> Option<Box<dyn StagedFiles + '_>> {
        let index = self.repo.index().ok()?;
        Some(Box::new(Staged {
            repo: &self.repo,
            index,
        }))
    }

    fn stage_renames(&self, renames: &[(String, String)]) -> crate::Result<()> {
        let err = |e: git2::Error| Fatal::io("the git index", e.message());
        let mut index = self.repo.index().map_err(err)?;
        let mut changed = false;
        for (from, to) in renames {
            if index.get_path(Path::new(from), 0).is_none() {
                continue;
            }
            index.remove_path(Path::new(from)).map_err(err)?;
            index.add_path(Path::new(to)).map_err(err)?;
            changed = true;
        }
        if changed {
            index.write().map_err(err)?;
        }
        Ok(())
    }
}

/// See [`Vcs::claims`].
fn claims(
    repo: &Repository,
    set: &SetConfig,
    base: &Base,
    globs: &[String],
) -> crate::Result<Claims> {
    let tip = Oid::from_str(&base.tip).map_err(|e| git_err("base commit id", e))?;
    let tip_tree = repo
        .find_commit(tip)
        .and_then(|c| c.tree())
        .map_err(|e| git_err("base commit tree", e))?;
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id());
    let mut seen = HashSet::new();
    let mut out = Claims::default();
    let cache_path = repo.path().join("miglint").join(format!(
        "claims-{}.json",
        &crate::ledger::sha256_hex(set.dir.as_bytes())[..16]
    ));
    let mut cache = AddedCache::load(&cache_path);
    let tip_dir = dir_id(&tip_tree, &set.dir).and_then(|id| repo.find_tree(id).ok());
    for glob in globs {
        let refs = repo
            .references_glob(glob)
            .map_err(|e| git_err(&format!("refs matching `{glob}`"), e))?;
        let mut matched = false;
        for r in refs {
            matched = true;
            let name = match &r {
                Ok(r) => String::from_utf8_lossy(r.name_bytes()).into_owned(),
                Err(e) => {
                    let what = format!("a ref matching `{glob}`");
                    out.unreadable.push((what, e.message().to_string()));
                    continue;
                }
            };
            match claim_of(
                repo,
                set,
                (tip, tip_dir.as_ref()),
                head,
                &r,
                (&mut seen, &mut cache),
            ) {
                Ok(Some(claim)) => out.claims.push(Claim {
                    reference: name,
                    ..claim
                }),
                Ok(None) => {}
                Err(why) => out.unreadable.push((name, why)),
            }
        }
        if !matched {
            out.unmatched.push(glob.clone());
        }
    }
    cache.store(&cache_path);
    Ok(out)
}

/// What each other branch added to the set since its merge-base, by `(its commit, the
/// merge-base)`: both ids fix the answer, so it is kept in `.git/miglint/` and a warm run with
/// 500 open branches reads no tree of theirs. Entries not used by a run are dropped.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct AddedCache {
    /// `"<commit>:<merge-base>"` → `(file name, blob id)` of each migration added.
    added: std::collections::HashMap<String, Vec<(String, String)>>,
    #[serde(skip)]
    used: std::collections::HashMap<String, Vec<(String, String)>>,
    #[serde(skip)]
    changed: bool,
}

impl AddedCache {
    fn load(path: &Path) -> AddedCache {
        // Untrusted input like every cache: size-limited; what does not decode is ignored.
        crate::fsutil::read_state(path, 64 << 20)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn get(&mut self, key: &str) -> Option<Vec<(String, String)>> {
        let hit = self.added.get(key).cloned()?;
        self.used.insert(key.to_string(), hit.clone());
        Some(hit)
    }

    fn put(&mut self, key: String, value: Vec<(String, String)>) {
        self.used.insert(key, value);
        self.changed = true;
    }

    fn store(self, path: &Path) {
        if !self.changed && self.used.len() == self.added.len() {
            return;
        }
        let kept = AddedCache {
            added: self.used,
            ..AddedCache::default()
        };
        if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(&kept)) {
            if std::fs::create_dir_all(dir).is_ok() {
                let _ = crate::fsutil::write_atomic(path, &bytes);
            }
        }
    }
}

/// What one ref claims: `None` when it is the base, this branch, already merged (its commit is
/// in the base, or every file it adds is in the base's tip with the same content, as after a
/// squash merge or an earlier merge-queue entry), seen already, or adds nothing; `Err` when
/// its commit or its merge-base with the base cannot be read.
fn claim_of(
    repo: &Repository,
    set: &SetConfig,
    (tip, tip_dir): (Oid, Option<&git2::Tree>),
    head: Option<Oid>,
    r: &Result<git2::Reference, git2::Error>,
    (seen, cache): (&mut HashSet<Oid>, &mut AddedCache),
) -> Result<Option<Claim>, String> {
    let commit = r
        .as_ref()
        .map_err(|e| e.message().to_string())?
        .peel_to_commit()
        .map_err(|_| "its commit is not in this clone".to_string())?;
    let id = commit.id();
    let merged = id == tip || repo.graph_descendant_of(tip, id).unwrap_or(false);
    let ours =
        Some(id) == head || head.is_some_and(|h| repo.graph_descendant_of(h, id).unwrap_or(false));
    if merged || ours || !seen.insert(id) {
        return Ok(None);
    }
    let shallow = || {
        if repo.is_shallow() {
            "the clone is shallow".to_string()
        } else {
            "its history is incomplete".to_string()
        }
    };
    let fork = repo.merge_base(id, tip).map_err(|e| {
        format!(
            "no merge-base with the base: {}; {}",
            e.message(),
            shallow()
        )
    })?;
    let key = format!("{id}:{fork}");
    let added = match cache.get(&key) {
        Some(added) => added,
        None => {
            let added = added_since(repo, set, &commit, fork).map_err(|_| shallow())?;
            cache.put(key, added.clone());
            added
        }
    };
    // A file already in the base with the same content was merged (by squash, or earlier in a
    // merge queue): not a claim; `number-conflict` judges this branch against the base.
    let mut files: Vec<String> = added
        .into_iter()
        .filter(|(name, blob)| {
            let in_tip = tip_dir.and_then(|t| t.get_name(name).map(|e| e.id().to_string()));
            in_tip.as_ref() != Some(blob)
        })
        .map(|(name, _)| name)
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();
    Ok(Some(Claim {
        reference: String::new(),
        files,
        date: history::date(commit.time()),
    }))
}

/// The migrations `commit` adds to the set's folder since `fork`, with their blob ids. The
/// folder as trees: unchanged means nothing added; otherwise git diffs the two sorted listings.
fn added_since(
    repo: &Repository,
    set: &SetConfig,
    commit: &git2::Commit,
    fork: Oid,
) -> Result<Vec<(String, String)>, git2::Error> {
    let forked = repo.find_commit(fork)?.tree()?;
    let dir = |tree: &git2::Tree| dir_id(tree, &set.dir).and_then(|id| repo.find_tree(id).ok());
    let (Some(their_dir), forked_dir) = (dir(&commit.tree()?), dir(&forked)) else {
        return Ok(Vec::new());
    };
    if forked_dir.as_ref().map(|t| t.id()) == Some(their_dir.id()) {
        return Ok(Vec::new());
    }
    let diff = repo.diff_tree_to_tree(forked_dir.as_ref(), Some(&their_dir), None)?;
    Ok(diff
        .deltas()
        .filter(|d| d.status() == git2::Delta::Added)
        .filter_map(|d| {
            let name = d.new_file().path()?.to_str()?.to_string();
            is_migration_name(set, &name).then(|| (name, d.new_file().id().to_string()))
        })
        .collect())
}

/// The root tree of the base's merge-base.
fn merge_base_tree<'r>(repo: &'r Repository, base: &Base) -> crate::Result<git2::Tree<'r>> {
    let id = Oid::from_str(&base.merge_base).map_err(|e| git_err("base commit id", e))?;
    repo.find_commit(id)
        .and_then(|c| c.tree())
        .map_err(|e| git_err("base commit tree", e))
}

/// The index as [`StagedFiles`], for the Alembic reader under `check --staged`.
struct Staged<'r> {
    repo: &'r Repository,
    index: git2::Index,
}

impl StagedFiles for Staged<'_> {
    fn bytes(&self, path: &str) -> Option<Vec<u8>> {
        let entry = self.index.get_path(Path::new(path), 0)?;
        let blob = self.repo.find_blob(entry.id).ok()?;
        Some(blob.content().to_vec())
    }

    fn contains(&self, path: &str) -> bool {
        self.index.get_path(Path::new(path), 0).is_some()
    }

    fn paths_under(&self, prefix: &str) -> Vec<String> {
        self.index
            .iter()
            .filter(|e| e.path.starts_with(prefix.as_bytes()))
            .filter_map(|e| String::from_utf8(e.path).ok())
            .collect()
    }
}

/// Opens the repository the way git's own commands do. Inside a hook git describes the
/// repository in its environment (`GIT_DIR`, `GIT_WORK_TREE`, and `GIT_INDEX_FILE`, a temporary
/// index for `git commit -a`, `git commit <paths>` and `--only`): then that environment is the
/// truth, and `.git/index` is not what is being committed. Otherwise the repository is discovered
/// from `cwd`. A bare repository (no work tree) counts as none.
pub fn open(cwd: &std::path::Path) -> crate::Result<Option<Git>> {
    // libgit2 re-hashes every object it reads (SHA-1 with collision detection): 60% of a
    // 100,000-commit history audit. miglint reads, never writes; `git fsck` is the integrity tool.
    git2::opts::strict_hash_verification(false);
    let from_env = [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    let same_cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok())
        .is_some_and(|d| d == cwd);
    let repo = if from_env && same_cwd {
        match Repository::open_from_env() {
            Ok(r) => Some(r),
            // The environment names a repository that cannot be opened: say so, never guess.
            Err(e) if std::env::var_os("GIT_DIR").is_some() => {
                return Err(git_err("GIT_DIR from the environment", e))
            }
            Err(_) => None,
        }
    } else {
        Repository::discover(cwd).ok()
    };
    Ok(repo.and_then(|repo| {
        let w = repo.workdir()?;
        let work_dir = w.canonicalize().unwrap_or_else(|_| w.to_path_buf());
        Some(Git { repo, work_dir })
    }))
}

/// How git's clean filter treats a path's line endings (its `text`/`eol` attributes and
/// `core.autocrlf`), reduced to what changes the bytes git stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EolMode {
    /// Stored as is.
    Binary,
    /// `text` (or `eol` set): every CRLF is stored as LF.
    Text,
    /// `text=auto` or `core.autocrlf`: CRLF becomes LF if the file looks like text and the
    /// version in the index has no CR (git's "safe" autocrlf).
    Auto,
}

fn eol_mode(repo: &Repository, path: &str) -> EolMode {
    let attr = |name: &str| {
        repo.get_attr(
            std::path::Path::new(path),
            name,
            git2::AttrCheckFlags::FILE_THEN_INDEX,
        )
        .ok()
        .flatten()
        .map(str::to_string)
    };
    let text = attr("text");
    match git2::AttrValue::from_string(text.as_deref()) {
        git2::AttrValue::True => return EolMode::Text,
        git2::AttrValue::False => return EolMode::Binary,
        git2::AttrValue::String("auto") => return EolMode::Auto,
        _ => {}
    }
    if matches!(
        git2::AttrValue::from_string(attr("eol").as_deref()),
        git2::AttrValue::String(_)
    ) {
        return EolMode::Text;
    }
    let autocrlf = repo
        .config()
        .and_then(|c| c.get_string("core.autocrlf"))
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    match autocrlf.as_str() {
        "true" | "input" | "yes" | "on" | "1" => EolMode::Auto,
        _ => EolMode::Binary,
    }
}

/// What git's text detection calls binary: a NUL, a lone CR, or mostly non-printable bytes.
fn looks_binary(bytes: &[u8]) -> bool {
    let mut nonprintable = 0usize;
    let mut printable = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0 => return true,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => return true,
            b'\n' | b'\r' | b'\t' | 0x08 | 0x1b | 0x0c => printable += 1,
            0x7f => nonprintable += 1,
            b if b < 0x20 => nonprintable += 1,
            _ => printable += 1,
        }
    }
    (printable >> 7) < nonprintable
}

/// The bytes git would store for work-tree `bytes` at `path` (its clean conversion of line
/// endings), or `None` when they are already canonical. `git hash-object --path` is the reference.
/// Whether `bytes` hold a CRLF line ending (SIMD search: this runs over every byte checked).
fn has_crlf(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\r\n").is_some()
}

fn canonical(repo: &Repository, path: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    if !has_crlf(bytes) {
        return None;
    }
    // A file that is exactly its committed blob is judged by the bytes as stored: a CRLF blob
    // committed under `text eol=lf` is what a fresh clone's `sha256sum` sees, so the clean
    // conversion (what git *would* store on the next `git add`) must not hide it.
    let stored_as_is = repo
        .index()
        .ok()
        .and_then(|i| i.get_path(std::path::Path::new(path), 0))
        .is_some_and(|e| Oid::hash_object(ObjectType::Blob, bytes).is_ok_and(|id| id == e.id));
    if stored_as_is {
        return None;
    }
    match eol_mode(repo, path) {
        EolMode::Binary => None,
        EolMode::Text => Some(crlf_to_lf(bytes)),
        EolMode::Auto => {
            if looks_binary(bytes) {
                return None;
            }
            let index_has_cr = repo
                .index()
                .ok()
                .and_then(|i| i.get_path(std::path::Path::new(path), 0))
                .and_then(|e| repo.find_blob(e.id).ok())
                .is_some_and(|b| b.content().contains(&b'\r'));
            (!index_has_cr).then(|| crlf_to_lf(bytes))
        }
    }
}

/// Replaces a work-tree snapshot's bytes by their canonical form, so checksums, the base
/// comparison and edit classification see what git stores: a clean `core.autocrlf=true`
/// checkout gives exactly the result of an LF checkout.
fn canonicalize(repo: &Repository, set: &SetConfig, snap: &mut Snapshot) {
    use rayon::prelude::*;
    // Most sets have no CRLF at all: find the files that do on every core (the attribute
    // lookups that follow need the repository, which is not Sync).
    let crlf: Vec<bool> = snap.files.par_iter().map(|f| has_crlf(&f.bytes)).collect();
    for (f, _) in snap.files.iter_mut().zip(crlf).filter(|(_, c)| *c) {
        if let Some(c) = canonical(repo, &f.path, &f.bytes) {
            *f = MigrationFile::new(f.name.clone(), f.path.clone(), Arc::from(c));
        }
    }
    if let Some(l) = &snap.ledger {
        if let Some(c) = canonical(repo, &set.lock, l) {
            snap.ledger = Some(Arc::from(c));
        }
    }
}

pub(crate) fn short(oid: Oid) -> String {
    oid.to_string()[..10].to_string()
}

fn git_err(what: &str, e: git2::Error) -> Fatal {
    Fatal::new(
        Rule::IoError,
        format!("cannot read the repository ({what}): {}", e.message()),
        "check that the repository is not corrupt (`git fsck`)",
    )
}

/// The origin of a base taken from `[git] base`: such a base is part of the change under review.
const CONFIG_ORIGIN: &str = "[git] base in miglint.toml";

/// Where a base name came from, for messages.
struct Candidate {
    rev: String,
    origin: &'static str,
    explicit: bool,
}

/// `pull_request.base.sha` / `merge_group.base_sha` from a GitHub Actions event payload: exact even
/// when the base branch moved after the run started, and the only base a merge queue has.
fn github_event_base(event_path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(event_path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let sha = v
        .pointer("/merge_group/base_sha")
        .or_else(|| v.pointer("/pull_request/base/sha"))?;
    sha.as_str()
        .filter(|s| s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
}

fn candidates(cli: Option<&str>, config: Option<&str>) -> Vec<Candidate> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let mut out = Vec::new();
    let mut push = |rev: String, origin: &'static str, explicit: bool| {
        out.push(Candidate {
            rev,
            origin,
            explicit,
        })
    };
    // The base a CI system names for the change under review outranks the config: the config is
    // part of the change, and a change must not choose what it is compared with.
    if let Some(c) = cli {
        push(c.to_string(), "--base", true);
    } else if let Some(e) = env("MIGLINT_BASE") {
        push(e, "MIGLINT_BASE", true);
    } else if let Some(sha) =
        env("GITHUB_EVENT_PATH").and_then(|p| github_event_base(std::path::Path::new(&p)))
    {
        push(sha, "the GitHub event payload (GITHUB_EVENT_PATH)", true);
    } else if let Some(b) = env("GITHUB_BASE_REF") {
        push(format!("origin/{b}"), "GITHUB_BASE_REF", true);
    } else if let Some(b) = env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") {
        push(
            format!("origin/{b}"),
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
            true,
        );
    } else if let Some(c) = config {
        push(c.to_string(), CONFIG_ORIGIN, true);
    } else {
        push("origin/HEAD".into(), "the default", false);
    }
    out
}

/// How to make a base exist locally. A single-branch or shallow clone (`git clone --depth 1
/// --branch feature`) has no `origin/main`, and `git fetch origin main` does not create it: the
/// refspec must name the remote-tracking ref.
fn fetch_help(rev: &str) -> String {
    match rev.strip_prefix("origin/") {
        Some(branch) => format!(
            "fetch it with its remote-tracking ref: `git fetch origin {branch}:refs/remotes/origin/{branch}` (add `--unshallow` or `--depth=<n>` in a shallow clone); in CI, check out with `fetch-depth: 0` (actions/checkout) or `GIT_DEPTH: 0` (GitLab), or name an existing revision with --base"
        ),
        None => "name an existing revision with --base (a branch, tag or commit this clone has)".into(),
    }
}

/// The object a base candidate names, trying `origin/<name>` for a bare branch name. A base
/// named explicitly that does not resolve is fatal; an implicit one is `None` (checks skipped).
fn find_base<'r>(repo: &'r Repository, c: &Candidate) -> crate::Result<Option<git2::Object<'r>>> {
    let mut tried = vec![c.rev.clone()];
    let mut found = repo.revparse_single(&c.rev).ok();
    if found.is_none() && !c.rev.contains('/') {
        for alt in [
            format!("origin/{}", c.rev),
            format!("refs/remotes/origin/{}", c.rev),
        ] {
            tried.push(alt.clone());
            if let Ok(o) = repo.revparse_single(&alt) {
                found = Some(o);
                break;
            }
        }
    }
    if found.is_some() || !c.explicit {
        return Ok(found);
    }
    let shallow = if repo.is_shallow() {
        " The repository is a shallow clone, which may not have fetched it."
    } else {
        ""
    };
    Err(Fatal::new(
        Rule::BaseNotFound,
        format!(
            "the base `{}` (from {}) does not resolve; tried {}.{shallow}",
            c.rev,
            c.origin,
            tried
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        fetch_help(&c.rev),
    ))
}

/// Resolves the base per the documented order. An explicitly named base that does not resolve is
/// fatal (`base-not-found`); with nothing named and no `origin/HEAD`, the base checks are skipped.
fn resolve_base(
    repo: &Repository,
    cli: Option<&str>,
    config: Option<&str>,
) -> crate::Result<Option<Base>> {
    let Some(c) = candidates(cli, config).into_iter().next() else {
        return Ok(None);
    };
    let Some(obj) = find_base(repo, &c)? else {
        return Ok(None);
    };
    let tip = obj
        .peel_to_commit()
        .map_err(|e| git_err(&format!("base commit {}", obj.id()), e))?
        .id();
    let head = match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(h) => h.id(),
        Err(e) if e.code() != git2::ErrorCode::UnbornBranch => {
            let id = repo
                .head()
                .ok()
                .and_then(|h| h.target())
                .map_or("HEAD".to_string(), |o| format!("HEAD commit {o}"));
            return Err(git_err(&id, e));
        }
        // An unborn HEAD (no commit yet) is compared with the base tip itself.
        Err(_) => {
            return Ok(Some(Base {
                name: c.rev,
                tip: tip.to_string(),
                merge_base: tip.to_string(),
            }))
        }
    };
    match repo.merge_base(head, tip) {
        Ok(mb) if mb == head && c.origin == CONFIG_ORIGIN && !on_base_branch(repo, &c.rev) => {
            Err(Fatal::new(
                Rule::BaseNotFound,
                format!(
                    "the base `{}` from [git] base in miglint.toml is the checked commit itself (or a descendant of it): nothing would be compared with it",
                    c.rev
                ),
                "name the branch this change will merge into (`base = \"origin/main\"`), or pass --base; in CI the pull request's base is taken from the environment",
            ))
        }
        Ok(mb) => Ok(Some(Base {
            name: c.rev,
            tip: tip.to_string(),
            merge_base: mb.to_string(),
        })),
        Err(_) if repo.is_shallow() => Err(Fatal::new(
            Rule::ShallowClone,
            format!("this is a shallow clone and the merge-base of HEAD and `{}` is not in it", c.rev),
            "fetch the full history: `fetch-depth: 0` for actions/checkout, `GIT_DEPTH: 0` in GitLab CI, or `git fetch --unshallow` locally",
        )),
        Err(_) => Err(Fatal::new(
            Rule::BaseNotFound,
            format!("HEAD and the base `{}` have no common ancestor", c.rev),
            "name the branch this one was created from with --base",
        )),
    }
}

/// Whether HEAD is on the branch `rev` names (`main` for `origin/main`): there a base equal to
/// HEAD is a normal build of the base branch itself, not a change comparing itself with itself.
fn on_base_branch(repo: &Repository, rev: &str) -> bool {
    let branch = rev
        .strip_prefix("refs/remotes/")
        .unwrap_or(rev)
        .split_once('/')
        .map_or(rev, |(_, b)| b);
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let head = repo
        .head()
        .ok()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().ok().map(str::to_string))
        .or_else(|| env("CI_COMMIT_BRANCH"))
        .or_else(|| env("GITHUB_REF_NAME"));
    !branch.is_empty() && !branch.starts_with("HEAD") && head.as_deref() == Some(branch)
}

/// Reads the set as of a tree (a commit's root tree); a set directory absent there is empty.
/// A file whose blob id is in `known` (the work tree's files, by
/// name, with the blob id git would give their bytes) is not inflated: it has those bytes, so the
/// snapshot shares them. Comparing a base with the work tree then costs one tree read and a
/// hash per work-tree file, not an inflate and a byte compare per merged file.
fn read_tree_sharing(
    repo: &Repository,
    root: &git2::Tree,
    set: &SetConfig,
    known: &HashMap<&str, (Oid, &MigrationFile)>,
) -> crate::Result<Snapshot> {
    let mut snap = Snapshot::default();
    if let Some(id) = dir_id(root, &set.dir) {
        if let Ok(tree) = repo.find_tree(id) {
            for e in tree.iter() {
                let Ok(name) = e.name().map(str::to_string) else {
                    continue;
                };
                if !is_migration_name(set, &name) {
                    continue;
                }
                let path = crate::config::join(&set.dir, &name);
                match (e.kind(), e.filemode()) {
                    (Some(ObjectType::Blob), 0o120000) => snap.unreadable.push(Unreadable::new(
                        name,
                        path,
                        "it is committed as a symlink",
                    )),
                    (Some(ObjectType::Blob), _) => match known.get(name.as_str()) {
                        Some((id, file)) if *id == e.id() => {
                            let mut same = (*file).clone();
                            same.path = path;
                            snap.files.push(same);
                        }
                        _ => {
                            let blob = repo.find_blob(e.id()).map_err(|e| git_err("blob", e))?;
                            snap.files.push(MigrationFile::new(
                                name,
                                path,
                                Arc::from(blob.content()),
                            ));
                        }
                    },
                    _ => snap.unreadable.push(Unreadable::new(
                        name,
                        path,
                        "it is a directory, not a file",
                    )),
                }
            }
        }
    }
    if let Ok(entry) = root.get_path(std::path::Path::new(&set.lock)) {
        if let Ok(blob) = repo.find_blob(entry.id()) {
            snap.ledger = Some(Arc::from(blob.content()));
        }
    }
    snap.sort();
    Ok(snap)
}

/// The id of directory `dir` (repository-relative; `.` is the root) in `root`.
pub(crate) fn dir_id(root: &git2::Tree, dir: &str) -> Option<Oid> {
    if dir.is_empty() || dir == "." {
        return Some(root.id());
    }
    root.get_path(std::path::Path::new(dir))
        .ok()
        .map(|e| e.id())
}

/// Refuses a set that lies inside a submodule: its files are another repository's, invisible to
/// this index and these commits, so every git check would silently see nothing.
fn refuse_submodule(repo: &Repository, work_dir: &Path, set: &SetConfig) -> crate::Result<()> {
    // A checked-out submodule holds a `.git` entry. Without one at or above the set (below the
    // root), the work tree cannot be another repository's, and the index (13 MB of memory at
    // 100,000 files) is not loaded for this. `--staged` scans the index it reads anyway.
    let mut at = work_dir.to_path_buf();
    let nested = set
        .dir
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .any(|c| {
            at.push(c);
            at.join(".git").symlink_metadata().is_ok()
        });
    if !nested {
        return Ok(());
    }
    let index = repo.index().map_err(|e| git_err("index", e))?;
    refuse_gitlink(&index, set)
}

/// Fails when the index records a submodule (a gitlink) at or above the set's directory.
fn refuse_gitlink(index: &git2::Index, set: &SetConfig) -> crate::Result<()> {
    let dir = format!("{}/", set.dir.trim_end_matches('/'));
    for entry in index.iter().filter(|e| e.mode == 0o160000) {
        let sub = String::from_utf8_lossy(&entry.path).into_owned();
        if dir.starts_with(&format!("{sub}/")) {
            return Err(Fatal::config(
                format!("the set `{}` lies inside the submodule `{sub}`; its files belong to another repository", set.dir),
                format!("run miglint inside the submodule (`cd {sub} && miglint check`), where its own index and history are visible"),
            ));
        }
    }
    Ok(())
}

/// Reads the set from the git index: exactly what the next commit will contain.
fn read_index(repo: &Repository, set: &SetConfig) -> crate::Result<Snapshot> {
    let index = repo.index().map_err(|e| git_err("index", e))?;
    refuse_gitlink(&index, set)?;
    let mut snap = Snapshot::default();
    let prefix = match set.dir.trim_end_matches('/') {
        "" | "." => String::new(),
        d => format!("{d}/"),
    };
    let mut staged: Vec<(String, String, Oid)> = Vec::new();
    for entry in index.iter() {
        let path = String::from_utf8_lossy(&entry.path).into_owned();
        let Some(name) = path.strip_prefix(&prefix) else {
            continue;
        };
        if name.contains('/') || !is_migration_name(set, name) {
            continue;
        }
        let name = name.to_string();
        if entry.mode == 0o120000 {
            snap.unreadable
                .push(Unreadable::new(name, path, "it is staged as a symlink"));
            continue;
        }
        staged.push((name, path, entry.id));
    }
    snap.files = read_blobs(repo, &staged)?;
    if let Some(entry) = index.get_path(std::path::Path::new(&set.lock), 0) {
        if let Ok(blob) = repo.find_blob(entry.id) {
            snap.ledger = Some(Arc::from(blob.content()));
        }
    }
    snap.sort();
    Ok(snap)
}

/// Inflates the blobs of `(name, path, id)` into migration files, in parallel for large sets
/// (one repository handle per worker: a handle is not shared between threads).
fn read_blobs(
    repo: &Repository,
    wanted: &[(String, String, Oid)],
) -> crate::Result<Vec<MigrationFile>> {
    use rayon::prelude::*;
    let read = |r: &Repository, chunk: &[(String, String, Oid)]| {
        chunk
            .iter()
            .map(|(name, path, id)| {
                r.find_blob(*id)
                    .map(|b| MigrationFile::new(name.clone(), path.clone(), Arc::from(b.content())))
                    .map_err(|e| git_err("staged blob", e))
            })
            .collect::<crate::Result<Vec<_>>>()
    };
    if wanted.len() < 512 {
        return read(repo, wanted);
    }
    let per = wanted.len().div_ceil(rayon::current_num_threads().max(1));
    let dir = repo.path().to_path_buf();
    let parts: Vec<crate::Result<Vec<MigrationFile>>> = wanted
        .par_chunks(per)
        .map(|chunk| {
            let r = Repository::open(&dir).map_err(|e| git_err("repository", e))?;
            read(&r, chunk)
        })
        .collect();
    let mut files = Vec::with_capacity(wanted.len());
    for part in parts {
        files.extend(part?);
    }
    Ok(files)
}

/// The set at the merge-base (what this branch started from) and at the base's tip.
fn read_base(
    repo: &Repository,
    set: &SetConfig,
    base: &Base,
    now: &Snapshot,
) -> crate::Result<(Snapshot, Snapshot)> {
    use rayon::prelude::*;
    // The blob id git would store for each work-tree file (its bytes are already what git
    // stores: canonical line endings and filters applied).
    let known: HashMap<&str, (Oid, &MigrationFile)> = now
        .files
        .par_iter()
        .filter(|f| f.is_complete())
        .filter_map(|f| {
            Oid::hash_object(ObjectType::Blob, &f.bytes)
                .ok()
                .map(|id| (f.name.as_str(), (id, f)))
        })
        .collect();
    let read = |commit: Oid| {
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| git_err("commit tree", e))?;
        read_tree_sharing(repo, &tree, set, &known)
    };
    let id = |hex: &str| Oid::from_str(hex).map_err(|e| git_err("base commit id", e));
    let merge_base = read(id(&base.merge_base)?)?;
    let tip = if base.tip == base.merge_base {
        merge_base.clone()
    } else {
        read(id(&base.tip)?)?
    };
    Ok((merge_base, tip))
}

/// The contents recorded as applied: for each wanted (path, SHA-256), the bytes that path had in
/// the index or in some commit reachable from HEAD with that digest. One walk of at most `limit`
/// commits serves every wanted file; commits whose set directory did not change are skipped by
/// tree id, and no blob is hashed twice.
fn blobs_with_digests(
    repo: &Repository,
    dir: &str,
    wanted: &[(String, String)],
    limit: usize,
) -> std::collections::HashMap<String, RecordedBlob> {
    let mut found = std::collections::HashMap::new();
    let mut seen_blobs = std::collections::HashSet::new();
    let mut check =
        |path: &str,
         digest: &str,
         id: Oid,
         commit: Option<Oid>,
         found: &mut std::collections::HashMap<String, RecordedBlob>| {
            if found.contains_key(path) || !seen_blobs.insert(id) {
                return;
            }
            if let Ok(blob) = repo.find_blob(id) {
                if crate::ledger::sha256_hex(blob.content()) == digest {
                    let restore = match commit {
                        None => format!("git checkout -- {path}"),
                        Some(c) => format!("git checkout {} -- {path}", short_id(repo, c)),
                    };
                    found.insert(
                        path.to_string(),
                        RecordedBlob {
                            bytes: blob.content().to_vec(),
                            restore,
                        },
                    );
                }
            }
        };
    if let Ok(index) = repo.index() {
        for (path, digest) in wanted {
            if let Some(entry) = index.get_path(std::path::Path::new(path), 0) {
                check(path, digest, entry.id, None, &mut found);
            }
        }
    }
    let Ok(mut walk) = repo.revwalk() else {
        return found;
    };
    if walk.push_head().is_err() {
        return found;
    }
    let mut seen_dirs = std::collections::HashSet::new();
    for oid in walk.take(limit).flatten() {
        if found.len() == wanted.len() {
            break;
        }
        let Ok(tree) = repo.find_commit(oid).and_then(|c| c.tree()) else {
            continue;
        };
        let Some(dir_id) = dir_id(&tree, dir) else {
            continue;
        };
        if !seen_dirs.insert(dir_id) {
            continue;
        }
        for (path, digest) in wanted {
            if let Ok(entry) = tree.get_path(std::path::Path::new(path)) {
                check(path, digest, entry.id(), Some(oid), &mut found);
            }
        }
    }
    found
}

/// A commit's abbreviated id as git prints it (unique in this repository).
fn short_id(repo: &Repository, id: Oid) -> String {
    repo.find_object(id, None)
        .and_then(|o| o.short_id())
        .ok()
        .and_then(|b| b.as_str().ok().map(str::to_string))
        .unwrap_or_else(|| id.to_string()[..12].to_string())
}
