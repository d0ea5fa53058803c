//! Snapshots of a migration set: the files of one set as of some point (the work tree, the git
//! index, a commit). Only the readers here and in `git` touch the file system or the repository;
//! every rule works on the values they return.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{self, SetConfig};
use crate::fsutil::ReadError;
use crate::Fatal;

/// One `.sql` entry of a set, with its raw bytes.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    /// File name inside the set directory.
    pub name: String,
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// The content; empty for a file over `max_file_size`, which is hashed streaming instead
    /// (see [`MigrationFile::is_complete`]).
    pub bytes: Arc<[u8]>,
    /// The file's full size in bytes.
    pub size: u64,
    /// SHA-256 of the content, computed once, on first use (in the parallel per-file pass).
    digest: std::sync::OnceLock<String>,
}

impl MigrationFile {
    pub fn new(name: String, path: String, bytes: Arc<[u8]>) -> MigrationFile {
        MigrationFile {
            name,
            path,
            size: bytes.len() as u64,
            bytes,
            digest: std::sync::OnceLock::new(),
        }
    }

    /// A file too large to hold: only its size and digest are known.
    pub fn hashed_only(name: String, path: String, size: u64, digest: String) -> MigrationFile {
        let f = MigrationFile {
            name,
            path,
            size,
            bytes: Arc::from(&b""[..]),
            digest: std::sync::OnceLock::new(),
        };
        let _ = f.digest.set(digest);
        f
    }

    /// Whether `bytes` holds the whole content.
    pub fn is_complete(&self) -> bool {
        self.bytes.len() as u64 == self.size
    }

    /// Lowercase hex SHA-256 of the content: what the ledger and `migration_history` record.
    /// Always computed from the bytes read in this run, never taken from a cache.
    pub fn digest(&self) -> &str {
        self.digest
            .get_or_init(|| crate::ledger::sha256_hex(&self.bytes))
    }

    /// Whether two versions hold the same content (by digest when one is too large to hold).
    pub fn same_content(&self, other: &MigrationFile) -> bool {
        if self.size != other.size {
            return false;
        }
        if self.is_complete() && other.is_complete() {
            // A base file whose blob id matched shares the work tree's bytes: no compare needed.
            Arc::ptr_eq(&self.bytes, &other.bytes) || self.bytes == other.bytes
        } else {
            self.digest() == other.digest()
        }
    }
}

/// The bytes a migration had when it was recorded (found by their SHA-256 in a reader's history),
/// and the command that restores them.
pub struct RecordedBlob {
    pub bytes: Vec<u8>,
    /// `git checkout -- <path>` (the index has them) or `git checkout <commit> -- <path>`.
    pub restore: String,
}

/// A `.sql` entry that could not be read as a file.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub name: String,
    pub path: String,
    pub why: String,
    /// A symlink leading outside the repository (`unsafe-path`): the target is never read.
    pub outside: bool,
}

impl Unreadable {
    pub fn new(name: String, path: String, why: impl Into<String>) -> Unreadable {
        Unreadable {
            name,
            path,
            why: why.into(),
            outside: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Sorted by name.
    pub files: Vec<MigrationFile>,
    pub unreadable: Vec<Unreadable>,
    /// The ledger's bytes, when the ledger exists in this snapshot.
    pub ledger: Option<Arc<[u8]>>,
    /// Why the ledger exists but could not be read (a FIFO, a link outside the repository, …).
    pub ledger_unreadable: Option<Unreadable>,
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

/// `bytes` with every CRLF turned into LF (what git's clean filter stores for a text file).
pub fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Whether a directory entry directly in the set's directory belongs to the set (see
/// [`crate::naming::is_member`]).
pub fn is_migration_name(set: &SetConfig, name: &str) -> bool {
    crate::naming::is_member(set.layout, name)
}

/// The set's directory exists and is a directory; anything else is fatal.
fn listable(dir: &Path, set: &SetConfig) -> crate::Result<()> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        Fatal::new(
            crate::registry::Rule::IoError,
            format!("cannot read migration directory {}: {e}", set.dir),
            "check the `dir` of this set in miglint.toml, or the path given on the command line",
        )
    })?;
    if !meta.is_dir() {
        return Err(Fatal::new(
            crate::registry::Rule::IoError,
            format!("{} is not a directory", set.dir),
            "point the set at the directory that holds the numbered .sql files",
        ));
    }
    Ok(())
}

/// The ledger, bounded and confined; absent is fine, unreadable is recorded for a finding.
fn read_ledger(root: &Path, set: &SetConfig, snap: &mut Snapshot) {
    match crate::fsutil::read_regular(root, &set.lock, LEDGER_LIMIT) {
        Ok(bytes) => snap.ledger = Some(Arc::from(bytes)),
        Err(ReadError::NotFound) => {}
        Err(e) => {
            let name = set.lock.rsplit('/').next().unwrap_or(&set.lock).to_string();
            snap.ledger_unreadable = Some(Unreadable {
                outside: matches!(e, ReadError::Outside),
                ..Unreadable::new(name, set.lock.clone(), e.to_string())
            });
        }
    }
}

/// Reads the set from the work tree. A missing or unreadable directory is fatal (exit 2): the
/// tool cannot vouch for a set it cannot list.
pub fn read_worktree(root: &Path, set: &SetConfig) -> crate::Result<Snapshot> {
    let dir = root.join(&set.dir);
    listable(&dir, set)?;
    let walker = walkdir::WalkDir::new(&dir)
        .min_depth(1)
        .max_depth(1)
        .follow_links(false);
    let mut entries = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| Fatal::io(&set.dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_migration_name(set, &name) {
            entries.push((name, entry));
        }
    }
    // The directory is checked once; only a symlinked entry needs its own check. A directory the
    // user named on the command line outside the repository is theirs to read.
    let confine = if crate::fsutil::inside(root, &dir) {
        root.to_path_buf()
    } else {
        dir.canonicalize().unwrap_or(dir.clone())
    };
    let confine_rel = |name: &str| {
        if confine == root {
            config::join(&set.dir, name)
        } else {
            name.to_string()
        }
    };
    // Reading thousands of files is I/O-bound per file: do it on every core.
    // Partitioned as they are read: no intermediate list of results beside the files.
    let (files, unreadable): (Vec<MigrationFile>, Vec<Unreadable>) = entries
        .into_par_iter()
        .map(|(name, entry)| {
            let path = config::join(&set.dir, &name);
            let ft = entry.file_type();
            if ft.is_symlink() {
                let rel = confine_rel(&name);
                read_one(&confine, &rel, name, path, set.max_file_size)
            } else if ft.is_file() {
                read_listed(entry.path(), name, path, set.max_file_size)
            } else {
                let why = match entry.metadata() {
                    Ok(m) => ReadError::NotRegular(crate::fsutil::kind(&m)),
                    Err(e) => ReadError::Io(e.into()),
                };
                Err(Unreadable::new(name, path, why.to_string()))
            }
        })
        .partition_map(|r| match r {
            Ok(f) => rayon::iter::Either::Left(f),
            Err(u) => rayon::iter::Either::Right(u),
        });
    let mut snap = Snapshot {
        files,
        unreadable,
        ..Snapshot::default()
    };
    read_ledger(root, set, &mut snap);
    snap.sort();
    Ok(snap)
}

/// A ledger line is ~80 bytes: 64 MiB is some 800,000 applied migrations.
const LEDGER_LIMIT: u64 = 64 << 20;

/// Reads one migration listed as a regular file (no symlink to follow, so no confinement check
/// beyond its directory's): whole when it is at most `max_file_size` bytes, otherwise hashed in
/// chunks (memory stays bounded).
fn read_listed(
    full: &Path,
    name: String,
    path: String,
    max_file_size: u64,
) -> Result<MigrationFile, Unreadable> {
    let opened = crate::fsutil::open_file(full);
    finish_read(opened, name, path, max_file_size)
}

/// Reads one migration reached through a symlink: it must resolve inside `root`.
fn read_one(
    root: &Path,
    rel: &str,
    name: String,
    path: String,
    max_file_size: u64,
) -> Result<MigrationFile, Unreadable> {
    let opened = crate::fsutil::open_regular(root, rel);
    finish_read(opened, name, path, max_file_size)
}

fn finish_read(
    opened: Result<(std::fs::File, u64), ReadError>,
    name: String,
    path: String,
    max_file_size: u64,
) -> Result<MigrationFile, Unreadable> {
    let unreadable = |e: ReadError| {
        Err(Unreadable {
            outside: matches!(e, ReadError::Outside),
            ..Unreadable::new(name.clone(), path.clone(), e.to_string())
        })
    };
    let (file, size) = match opened {
        Ok(f) => f,
        Err(e) => return unreadable(e),
    };
    if size > max_file_size {
        return match crate::fsutil::sha256_stream(file) {
            Ok((digest, size)) => Ok(MigrationFile::hashed_only(name, path, size, digest)),
            Err(e) => unreadable(ReadError::Io(e)),
        };
    }
    match crate::fsutil::read_limited(file, size, max_file_size) {
        Ok(bytes) => Ok(MigrationFile::new(name, path, Arc::from(bytes))),
        // It grew past the limit while being read: a file being written cannot be vouched for.
        Err(ReadError::TooLarge(_)) => unreadable(ReadError::Io(std::io::Error::other(
            "it changed size while being read",
        ))),
        Err(e) => unreadable(e),
    }
}
