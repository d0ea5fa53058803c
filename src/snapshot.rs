//! Snapshots of a migration set: the files of one set as of some point (the work tree, the git
//! index, a commit). Only the readers here and in `git` touch the file system or the repository;
//! every rule works on the values they return.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{self, SetConfig};
use crate::Fatal;

/// One `.sql` entry of a set, with its raw bytes.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    /// File name inside the set directory.
    pub name: String,
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    pub bytes: Arc<[u8]>,
    /// SHA-256 of `bytes`, computed once, on first use (in the parallel per-file pass).
    digest: std::sync::OnceLock<String>,
    /// What identifies these bytes for the analysis cache (work-tree stat or index blob id).
    pub cache_key: Option<crate::cache::CacheKey>,
}

impl MigrationFile {
    pub fn new(name: String, path: String, bytes: Arc<[u8]>) -> MigrationFile {
        MigrationFile {
            name,
            path,
            bytes,
            digest: std::sync::OnceLock::new(),
            cache_key: None,
        }
    }

    /// Sets the digest from a trusted cache entry (the bytes are unchanged since it was computed).
    pub fn set_digest(&self, digest: String) {
        let _ = self.digest.set(digest);
    }

    /// Lowercase hex SHA-256 of the raw bytes: what the ledger and `migration_history` record.
    pub fn digest(&self) -> &str {
        self.digest
            .get_or_init(|| crate::ledger::sha256_hex(&self.bytes))
    }
}

/// A `.sql` entry that could not be read as a file.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub name: String,
    pub path: String,
    pub why: String,
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Sorted by name.
    pub files: Vec<MigrationFile>,
    pub unreadable: Vec<Unreadable>,
    /// The ledger's bytes, when the ledger exists in this snapshot.
    pub ledger: Option<Arc<[u8]>>,
}

impl Snapshot {
    /// Files are kept sorted by name (see [`Snapshot::sort`]), so lookups are binary searches.
    pub fn file(&self, name: &str) -> Option<&MigrationFile> {
        self.files
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.files[i])
    }

    pub fn sort(&mut self) {
        self.files.sort_by(|a, b| a.name.cmp(&b.name));
        self.unreadable.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// Whether a directory entry belongs to the set: `.sql` files directly in it, not hidden ones.
pub fn is_migration_name(name: &str) -> bool {
    name.ends_with(".sql") && !name.starts_with('.')
}

/// Reads the set from the work tree. A missing or unreadable directory is fatal (exit 2): the
/// tool cannot vouch for a set it cannot list.
pub fn read_worktree(root: &Path, set: &SetConfig) -> crate::Result<Snapshot> {
    let dir = root.join(&set.dir);
    let meta = std::fs::metadata(&dir).map_err(|e| {
        Fatal::new(
            crate::rules::Rule::IoError,
            format!("cannot read migration directory {}: {e}", set.dir),
            "check the `dir` of this set in miglint.toml, or the path given on the command line",
        )
    })?;
    if !meta.is_dir() {
        return Err(Fatal::new(
            crate::rules::Rule::IoError,
            format!("{} is not a directory", set.dir),
            "point the set at the directory that holds the numbered .sql files",
        ));
    }
    let walker = walkdir::WalkDir::new(&dir)
        .min_depth(1)
        .max_depth(1)
        .follow_links(false);
    let mut entries = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| Fatal::io(&set.dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_migration_name(&name) {
            entries.push((name, entry));
        }
    }
    // Reading thousands of files is I/O-bound per file: do it on every core.
    let read: Vec<Result<MigrationFile, Unreadable>> = entries
        .into_par_iter()
        .map(|(name, entry)| {
            let path = config::join(&set.dir, &name);
            let unreadable = |why: String| {
                Err(Unreadable {
                    name: name.clone(),
                    path: path.clone(),
                    why,
                })
            };
            // `metadata` follows symlinks, so a symlink to a file is read like a file.
            match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_file() => match std::fs::read(entry.path()) {
                    Ok(bytes) => {
                        let mut f =
                            MigrationFile::new(name.clone(), path.clone(), Arc::from(bytes));
                        // Only trust the stat if the bytes read are the size it reported.
                        f.cache_key = crate::cache::FileStat::of(&m)
                            .filter(|s| s.size == f.bytes.len() as u64)
                            .map(crate::cache::CacheKey::Stat);
                        Ok(f)
                    }
                    Err(e) => unreadable(e.to_string()),
                },
                Ok(_) => unreadable("it is a directory, not a file".into()),
                Err(e) if entry.path_is_symlink() => {
                    unreadable(format!("it is a symlink whose target cannot be read ({e})"))
                }
                Err(e) => unreadable(e.to_string()),
            }
        })
        .collect();
    let mut snap = Snapshot::default();
    for r in read {
        match r {
            Ok(f) => snap.files.push(f),
            Err(u) => snap.unreadable.push(u),
        }
    }
    match std::fs::read(root.join(&set.lock)) {
        Ok(bytes) => snap.ledger = Some(Arc::from(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Fatal::io(&set.lock, e)),
    }
    snap.sort();
    Ok(snap)
}
