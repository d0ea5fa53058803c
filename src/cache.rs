//! A cache of per-file analyses, so a hook that runs on every commit does not re-parse thousands of
//! unchanged migrations. It lives in the git directory (`.git/miglint/`), one file per set.
//!
//! It is **content-addressed**: an analysis is found by the SHA-256 of the bytes read in this run
//! (plus everything else that changes an analysis: miglint's version, the grammar, the dialect and
//! the placeholders, in the fingerprint). It never stores or vouches for a checksum: every
//! migration is read and hashed on every run, so rewriting a file in place (same size, restored
//! mtime) cannot hide from `checksum-mismatch`.
//!
//! The file is untrusted input: it is read with a size limit, every entry is validated against
//! the file it is used for (counts and spans within its length) before use, and anything odd is
//! ignored and rewritten, never a crash. It is trusted like the rest of `.git`, in that whoever
//! can write `.git/miglint` could also rewrite `.git/hooks`; CI runs start from a fresh clone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::SetConfig;
use crate::sql::ddl::Change;
use crate::sql::{Analysis, Directives, Outcome, Stamp, Statement};

/// One cached analysis. Most statements parse, so only the others are stored in full; every
/// statement's span is kept (flat `[start, end, …]`), because rules read the text of statements
/// that parsed too (`alembic-stamp-unverified` finds writes to the version table by span).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Whether the file was parse-checked (baseline files are not).
    pub parsed: bool,
    n: usize,
    spans: Vec<usize>,
    other: Vec<(usize, Statement)>,
    tokenize_error: Option<(String, std::ops::Range<usize>)>,
    directives: Directives,
    stamps: Vec<Stamp>,
    #[serde(default)]
    changes: Vec<Change>,
}

impl Entry {
    pub fn new(analysis: &Analysis, parsed: bool) -> Entry {
        Entry {
            parsed,
            n: analysis.statements.len(),
            spans: analysis
                .statements
                .iter()
                .flat_map(|st| [st.span.start, st.span.end])
                .collect(),
            other: analysis
                .statements
                .iter()
                .enumerate()
                .filter(|(_, st)| st.outcome != Outcome::Parsed)
                .map(|(i, st)| (i, st.clone()))
                .collect(),
            tokenize_error: analysis.tokenize_error.clone(),
            directives: analysis.directives.clone(),
            stamps: analysis.stamps.clone(),
            changes: analysis.changes.clone(),
        }
    }

    /// The analysis, if the entry is plausible for a file of `len` bytes: no more statements
    /// than bytes and every span inside the file. Otherwise `None` (the file is analysed afresh).
    pub fn analysis(&self, len: usize) -> Option<Analysis> {
        let within = |r: &std::ops::Range<usize>| r.start <= r.end && r.end <= len;
        let ok = self.n <= len
            && self.spans.len() == 2 * self.n
            && self.spans.chunks(2).all(|c| within(&(c[0]..c[1])))
            && self.other.iter().all(|(i, st)| {
                *i < self.n
                    && within(&st.span)
                    && match &st.outcome {
                        Outcome::Error { at, .. } => within(at),
                        _ => true,
                    }
            })
            && self
                .tokenize_error
                .as_ref()
                .is_none_or(|(_, at)| within(at))
            && self
                .directives
                .list
                .iter()
                .all(|d| within(&d.span) && d.statement.as_ref().is_none_or(within))
            && self.stamps.iter().all(|s| within(&s.span))
            && self.changes.iter().all(|c| c.spans().iter().all(&within));
        if !ok {
            return None;
        }
        let mut statements: Vec<Statement> = self
            .spans
            .chunks(2)
            .map(|c| Statement {
                span: c[0]..c[1],
                outcome: Outcome::Parsed,
            })
            .collect();
        for (i, st) in &self.other {
            statements[*i] = st.clone();
        }
        Some(Analysis {
            statements,
            tokenize_error: self.tokenize_error.clone(),
            directives: self.directives.clone(),
            stamps: self.stamps.clone(),
            changes: self.changes.clone(),
            skipped: false,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    fingerprint: String,
    /// By the SHA-256 of the file's content.
    entries: HashMap<String, Entry>,
}

/// Everything besides a file's bytes that changes its analysis.
pub fn fingerprint(set: &SetConfig) -> String {
    let placeholders: Vec<&str> = set.placeholders.iter().map(|r| r.as_str()).collect();
    format!(
        "{} cache=14 exact={} layout={} dialect={} psql={} placeholders={:?}",
        env!("CARGO_PKG_VERSION"),
        cfg!(feature = "postgres-exact"),
        set.layout.as_str(),
        set.dialect,
        set.psql,
        placeholders
    )
}

pub fn path(git_dir: &Path, set: &SetConfig) -> PathBuf {
    let key = &crate::ledger::sha256_hex(set.dir.as_bytes())[..16];
    git_dir.join("miglint").join(format!("analysis-{key}.json"))
}

/// A cache larger than this is not a cache miglint wrote for a sane set: ignored.
const LIMIT: u64 = 256 << 20;

/// The cached entries for `set`, by content digest; none when the cache is missing, written
/// for another fingerprint, oversized or corrupt.
pub fn load(path: &Path, set: &SetConfig) -> HashMap<String, Entry> {
    let Ok(bytes) = crate::fsutil::read_state(path, LIMIT) else {
        return HashMap::new();
    };
    match serde_json::from_slice::<Stored>(&bytes) {
        Ok(s) if s.fingerprint == fingerprint(set) => s.entries,
        _ => HashMap::new(),
    }
}

/// The entries a finished check leaves for the next run: one per analysed file, given as
/// (content digest, analysis, parsed?).
pub fn entries<'a>(
    files: impl Iterator<Item = (&'a str, &'a Analysis, bool)>,
) -> HashMap<String, Entry> {
    files
        .filter(|(_, a, _)| !a.skipped)
        .map(|(digest, a, parsed)| (digest.to_string(), Entry::new(a, parsed)))
        .collect()
}

/// Writes the entries. Failure to write is not an error: the cache is an optimisation.
pub fn store(path: &Path, set: &SetConfig, entries: HashMap<String, Entry>) {
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
