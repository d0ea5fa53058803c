//! A cache of per-file analyses, so a hook that runs on every commit does not re-parse thousands of
//! unchanged migrations. It lives in the git directory (`.git/miglint/`), one file per set, and is
//! keyed like git's index: a work-tree file whose size, modification time and inode are unchanged
//! since it was analysed (or a staged file with the same blob id) reuses its digest and analysis. A cache written by another miglint version, for another
//! dialect or other placeholders is ignored; an unreadable or corrupt one is ignored and rewritten;
//! writes are atomic (temp file + rename), so concurrent runs cannot corrupt it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::SetConfig;
use crate::sql::Analysis;

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    pub size: u64,
    pub mtime_s: i64,
    pub mtime_ns: u32,
    pub ino: u64,
}

impl FileStat {
    pub fn of(meta: &std::fs::Metadata) -> Option<FileStat> {
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        Some(FileStat {
            size: meta.len(),
            mtime_s: mtime.as_secs() as i64,
            mtime_ns: mtime.subsec_nanos(),
            ino,
        })
    }

    /// Modified within the last two seconds: a later edit could keep the same mtime ("racily
    /// clean", as git calls it), so such a file is not cached.
    fn is_racy(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.mtime_s >= now - 2
    }
}

/// What a cached analysis was made from: a work-tree file's stat, or a git blob id (content
/// addressed, so never racy) for files read from the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheKey {
    Stat(FileStat),
    Blob(String),
}

impl CacheKey {
    fn is_racy(&self) -> bool {
        matches!(self, CacheKey::Stat(s) if s.is_racy())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub key: CacheKey,
    pub parsed: bool,
    pub digest: String,
    #[serde(with = "compact")]
    pub analysis: Analysis,
}

/// The entries a finished check leaves for the next run: one per file with a cache key.
pub fn entries(state: &crate::check::SetState) -> HashMap<String, Entry> {
    state
        .snapshot
        .files
        .iter()
        .filter_map(|f| {
            let (key, parsed) = state.cache_keys.get(&f.name)?.clone();
            let analysis = state.analyses.get(&f.name)?.clone();
            Some((
                f.path.clone(),
                Entry {
                    key,
                    parsed,
                    digest: f.digest().to_string(),
                    analysis,
                },
            ))
        })
        .collect()
}

/// Most statements parse; the cache stores their count rather than their spans (which nothing
/// reads for a parsed statement), keeping the cache small and quick to load.
mod compact {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::sql::{Analysis, Directives, Outcome, Stamp, Statement};

    #[derive(Serialize, Deserialize)]
    struct Compact {
        n: usize,
        other: Vec<(usize, Statement)>,
        tokenize_error: Option<(String, std::ops::Range<usize>)>,
        directives: Directives,
        stamps: Vec<Stamp>,
    }

    pub fn serialize<S: Serializer>(a: &Analysis, s: S) -> Result<S::Ok, S::Error> {
        Compact {
            n: a.statements.len(),
            other: a
                .statements
                .iter()
                .enumerate()
                .filter(|(_, st)| st.outcome != Outcome::Parsed)
                .map(|(i, st)| (i, st.clone()))
                .collect(),
            tokenize_error: a.tokenize_error.clone(),
            directives: a.directives.clone(),
            stamps: a.stamps.clone(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Analysis, D::Error> {
        let c = Compact::deserialize(d)?;
        let mut statements = vec![
            Statement {
                span: 0..0,
                outcome: Outcome::Parsed
            };
            c.n
        ];
        for (i, st) in c.other {
            match statements.get_mut(i) {
                Some(slot) => *slot = st,
                None => return Err(serde::de::Error::custom("statement index out of range")),
            }
        }
        Ok(Analysis {
            statements,
            tokenize_error: c.tokenize_error,
            directives: c.directives,
            stamps: c.stamps,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    fingerprint: String,
    entries: HashMap<String, Entry>,
}

/// Everything besides a file's bytes that changes its analysis.
pub fn fingerprint(set: &SetConfig) -> String {
    let placeholders: Vec<&str> = set.placeholders.iter().map(|r| r.as_str()).collect();
    format!(
        "{} exact={} dialect={} placeholders={:?}",
        env!("CARGO_PKG_VERSION"),
        cfg!(feature = "postgres-exact"),
        set.dialect,
        placeholders
    )
}

pub fn path(git_dir: &Path, set: &SetConfig) -> PathBuf {
    let key = &crate::ledger::sha256_hex(set.dir.as_bytes())[..16];
    git_dir.join("miglint").join(format!("analysis-{key}.json"))
}

/// The cached entries for `set`, or none when the cache is missing, stale or corrupt.
pub fn load(path: &Path, set: &SetConfig) -> HashMap<String, Entry> {
    let Ok(bytes) = std::fs::read(path) else {
        return HashMap::new();
    };
    match serde_json::from_slice::<Stored>(&bytes) {
        Ok(s) if s.fingerprint == fingerprint(set) => s.entries,
        _ => HashMap::new(),
    }
}

/// Writes the entries (only those safe to trust later). Failure to write is not an error: the
/// cache is an optimisation.
pub fn store(path: &Path, set: &SetConfig, entries: HashMap<String, Entry>) {
    let entries: HashMap<String, Entry> = entries
        .into_iter()
        .filter(|(_, e)| !e.key.is_racy())
        .collect();
    let stored = Stored {
        fingerprint: fingerprint(set),
        entries,
    };
    if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(&stored)) {
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = crate::fsutil::write_atomic(path, &bytes);
        }
    }
}
