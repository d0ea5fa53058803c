//! What miglint needs from version control, as one trait. The engine and the commands ask a
//! [`Vcs`] for snapshots (the index, the base and its merge-base), for the bytes a ledger entry
//! recorded, for the history audit and for a state directory; they never name git. Git
//! (`git::Git`, over libgit2) is the one implementation; a second VCS is a second
//! implementation and one line in `Workspace::open` that picks it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::alembic::StagedFiles;
use crate::config::SetConfig;
use crate::finding::Finding;
use crate::rules::git::Claims;
use crate::rules::history::BranchState;
use crate::snapshot::{RecordedBlob, Snapshot};

/// The resolved base of a check: the revision the user named, its tip and the merge-base with
/// the checked-out revision. Ids are the VCS's own (hex commit ids for git), opaque to callers.
#[derive(Debug, Clone)]
pub struct Base {
    pub name: String,
    pub tip: String,
    pub merge_base: String,
}

impl Base {
    /// `origin/main (merge-base 1a2b3c4d5e)`, for summaries.
    pub fn describe(&self) -> String {
        let short = self.merge_base.get(..10).unwrap_or(&self.merge_base);
        format!("{} (merge-base {short})", self.name)
    }
}

/// A version-controlled work tree (see the module doc). Every method reads except
/// [`Vcs::stage_renames`], which `renumber` uses to record its renames.
pub trait Vcs {
    /// The work tree's root, which findings' paths are relative to.
    fn work_dir(&self) -> &Path;

    /// A private directory miglint may keep state in (the analysis cache, the history audit's
    /// resume point): `.git` for git, so it is never committed.
    fn state_dir(&self) -> &Path;

    /// Where the VCS runs the hooks `init --hooks` installs.
    fn hooks_dir(&self) -> PathBuf;

    /// Converts a work-tree snapshot to the bytes the VCS stores (line endings, as git's
    /// attributes and `core.autocrlf` say), so checksums agree on every checkout.
    fn canonicalize(&self, set: &SetConfig, snap: &mut Snapshot);

    /// Fails when the set lives where the VCS cannot see its changes (a git submodule).
    fn refuse_submodule(&self, set: &SetConfig) -> crate::Result<()>;

    /// Resolves the base from the command line, the config or the environment (see `docs/`);
    /// `None` when nothing names one and there is no default.
    fn resolve_base(&self, cli: Option<&str>, config: Option<&str>) -> crate::Result<Option<Base>>;

    /// The set as it is about to be committed (git's index).
    fn read_index(&self, set: &SetConfig) -> crate::Result<Snapshot>;

    /// The set at the base's merge-base and at its tip. `now` lends the bytes of files that did
    /// not change, so they are not read twice.
    fn read_base(
        &self,
        set: &SetConfig,
        base: &Base,
        now: &Snapshot,
    ) -> crate::Result<(Snapshot, Snapshot)>;

    /// A file's bytes at the base's merge-base (`path` relative to the work tree), `None` when
    /// the merge-base has no such file (or it is over 1 MiB: not a configuration file).
    fn read_at_merge_base(&self, base: &Base, path: &str) -> crate::Result<Option<Vec<u8>>>;

    /// Every path (from the work-tree root) that differs between the base's merge-base and what
    /// is checked: the index when `staged`, else the work tree (untracked files included). A
    /// finding that only the base's policy yields stands when it is about one of them.
    fn changed_since(&self, base: &Base, staged: bool) -> crate::Result<HashSet<String>>;

    /// For each wanted (path, SHA-256), bytes that path had, in the index or in one of the last
    /// `limit` revisions, with that digest: what the ledger recorded, to compare and restore.
    fn recorded_blobs(
        &self,
        dir: &str,
        wanted: &[(String, String)],
        limit: usize,
    ) -> HashMap<String, RecordedBlob>;

    /// The history audit (`check --history`): every first-parent step since the set began.
    fn audit_history(&self, set: &SetConfig) -> crate::Result<Vec<Finding>>;

    /// The states of the set on the branch under review (commits between the merge-base and
    /// HEAD that changed it), and the names the merge-base's ledger records; see
    /// `rules::history::recorded_then_changed`.
    fn branch_states(
        &self,
        set: &SetConfig,
        base: &Base,
    ) -> crate::Result<(HashSet<String>, Vec<BranchState>)>;

    /// For each ref matching one of `globs` that is not the base, not the checked commit and
    /// not merged into the base: the migrations of `set` it adds relative to its merge-base
    /// with the base. Refs are read as they are locally; nothing is fetched.
    fn claims(&self, set: &SetConfig, base: &Base, globs: &[String]) -> crate::Result<Claims>;

    /// The files about to be committed, for readers of other files (Alembic's), or `None` when
    /// the index cannot be read (the work tree is read instead).
    fn staged_files(&self) -> Option<Box<dyn StagedFiles + '_>>;

    /// Records renames `(from, to)` (paths from the work-tree root) in the index, as `git mv`
    /// does; paths the VCS does not track are left alone.
    fn stage_renames(&self, renames: &[(String, String)]) -> crate::Result<()>;
}
