//! A cache of per-file analyses, so a hook that runs on every commit does not re-parse thousands of
//! unchanged migrations. It lives in the git directory (`.git/miglint/`), one file per set.
//!
//! It is **content-addressed**: an analysis is found by the SHA-256 of the bytes read in this run
//! (plus everything else that changes an analysis: miglint's version, the grammar, the dialect and
//! the placeholders, in the fingerprint). It never stores or vouches for a checksum: every
//! migration is read and hashed on every run, so rewriting a file in place (same size, restored
//! mtime) cannot hide from `checksum-mismatch`.
//!
//! It is **compact and decoded lazily**: the file is [postcard](https://docs.rs/postcard) (a
//! binary serde format), and each entry is its own blob, found by digest in an index built at
//! load and decoded by the worker that analyses the file, in parallel, straight into the owned
//! analysis. A warm run over 10,000 files spent most of its time parsing one 24 MB JSON document
//! and cloning what it read; this is why the format is not JSON.
//!
//! The file is untrusted input: it is read with a size limit, every entry is validated against
//! the file it is used for (counts and spans within its length) before use, and anything odd is
//! ignored and rewritten, never a crash. It is trusted like the rest of `.git`, in that whoever
//! can write `.git/miglint` could also rewrite `.git/hooks`; CI runs start from a fresh clone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::SetConfig;
use crate::sql::ddl::Change;
use crate::sql::{Analysis, Directives, Outcome, Stamp, Statement};

/// One cached analysis. Most statements parse, so only the others are stored in full; every
/// statement's span is kept (flat `[start, end, …]`), because rules read the text of statements
/// that parsed too (`alembic-stamp-unverified` finds writes to the version table by span).
///
/// Postcard is positional: [`EntryRef`] (what is written) must list the same fields in the same
/// order with the same encodings; `an_entry_survives_the_round_trip` holds them together.
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    /// Whether the file was parse-checked (baseline files are not).
    pub parsed: bool,
    n: usize,
    spans: Vec<usize>,
    other: Vec<(usize, Statement)>,
    tokenize_error: Option<(String, std::ops::Range<usize>)>,
    directives: Directives,
    stamps: Vec<Stamp>,
    changes: Vec<Change>,
}

/// An [`Entry`] as written: borrowed from the analysis, so storing clones nothing.
#[derive(Serialize)]
struct EntryRef<'a> {
    parsed: bool,
    n: usize,
    spans: Vec<usize>,
    other: Vec<(usize, &'a Statement)>,
    tokenize_error: &'a Option<(String, std::ops::Range<usize>)>,
    directives: &'a Directives,
    stamps: &'a [Stamp],
    changes: &'a [Change],
}

impl<'a> EntryRef<'a> {
    fn new(analysis: &'a Analysis, parsed: bool) -> EntryRef<'a> {
        EntryRef {
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
                .collect(),
            tokenize_error: &analysis.tokenize_error,
            directives: &analysis.directives,
            stamps: &analysis.stamps,
            changes: &analysis.changes,
        }
    }
}

impl Entry {
    /// The analysis, if the entry is plausible for a file of `len` bytes: no more statements
    /// than bytes and every span inside the file. Otherwise `None` (the file is analysed afresh).
    pub fn into_analysis(self, len: usize) -> Option<Analysis> {
        if !self.plausible(len) {
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
        for (i, st) in self.other {
            statements[i] = st;
        }
        Some(Analysis {
            statements,
            tokenize_error: self.tokenize_error,
            directives: self.directives,
            stamps: self.stamps,
            changes: self.changes,
            skipped: false,
        })
    }

    fn plausible(&self, len: usize) -> bool {
        let within = |r: &std::ops::Range<usize>| r.start <= r.end && r.end <= len;
        self.n <= len
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
            && self.changes.iter().all(|c| c.spans().iter().all(&within))
    }
}

/// One entry's encoded bytes, written as postcard bytes (a length, then the bytes) so that the
/// reader borrows them from the file instead of copying.
struct Blob<'a>(&'a [u8]);

impl Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// The file as written: the fingerprint first, then (content digest, entry) pairs.
#[derive(Serialize)]
struct Stored<'a> {
    fingerprint: &'a str,
    entries: Vec<(&'a str, Blob<'a>)>,
}

/// The file as read: the blobs are borrowed from its bytes, decoded only when asked for.
#[derive(Deserialize)]
struct Read<'a> {
    fingerprint: &'a str,
    #[serde(borrow)]
    entries: Vec<(&'a str, &'a [u8])>,
}

/// A loaded cache: each entry's blob by the content digest of the file it analysed.
#[derive(Default)]
pub struct Cache<'a> {
    entries: HashMap<&'a str, &'a [u8]>,
}

impl<'a> Cache<'a> {
    /// The cache in `bytes` (as [`read`] returns them), empty when they were written for another
    /// fingerprint or do not decode.
    pub fn parse(bytes: &'a [u8], set: &SetConfig) -> Cache<'a> {
        match postcard::from_bytes::<Read>(bytes) {
            Ok(r) if r.fingerprint == fingerprint(set) => Cache {
                entries: r.entries.into_iter().collect(),
            },
            _ => Cache::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for content `digest`, decoded; `None` when there is none or it is corrupt.
    pub fn get(&self, digest: &str) -> Option<Entry> {
        postcard::from_bytes(self.entries.get(digest)?).ok()
    }
}

/// Everything besides a file's bytes that changes its analysis.
pub fn fingerprint(set: &SetConfig) -> String {
    let placeholders: Vec<&str> = set.placeholders.iter().map(|r| r.as_str()).collect();
    format!(
        "{} cache=15 exact={} layout={} dialect={} psql={} placeholders={:?}",
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
    git_dir.join("miglint").join(format!("analysis-{key}.bin"))
}

/// A cache larger than this is not a cache miglint wrote for a sane set: ignored.
const LIMIT: u64 = 256 << 20;

/// The bytes of the cache at `path`; none when it is missing or oversized.
pub fn read(path: &Path) -> Vec<u8> {
    crate::fsutil::read_state(path, LIMIT).unwrap_or_default()
}

/// Writes one entry per analysed file, given as (content digest, analysis, parsed?), encoded in
/// parallel. Failure to write is not an error: the cache is an optimisation.
pub fn store<'a>(
    path: &Path,
    set: &SetConfig,
    files: impl Iterator<Item = (&'a str, &'a Analysis, bool)>,
) {
    let files: Vec<_> = files.filter(|(_, a, _)| !a.skipped).collect();
    let blobs: Vec<(&str, Vec<u8>)> = files
        .par_iter()
        .filter_map(|&(digest, a, parsed)| {
            let blob = postcard::to_stdvec(&EntryRef::new(a, parsed)).ok()?;
            Some((digest, blob))
        })
        .collect();
    let fingerprint = fingerprint(set);
    let stored = Stored {
        fingerprint: &fingerprint,
        entries: blobs.iter().map(|(d, b)| (*d, Blob(b))).collect(),
    };
    if let (Some(dir), Ok(bytes)) = (path.parent(), postcard::to_stdvec(&stored)) {
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = crate::fsutil::write_atomic(path, &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that exercises every part of an analysis the cache keeps: statements that parse and
    /// one that does not, directives, a stamp, and changes with keys, shapes, references and
    /// indexes (optional and boolean fields both set and unset).
    const SQL: &str = "-- miglint-ignore undefined-relation\n\
        CREATE TABLE app.users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, note varchar(20));\n\
        CREATE TABLE app.orders (id int, user_id bigint REFERENCES app.users (id), \
        CONSTRAINT o_key UNIQUE (id) DEFERRABLE);\n\
        CREATE INDEX orders_user ON app.orders (user_id);\n\
        CREATE UNIQUE INDEX ON app.orders (id) WHERE id > 0;\n\
        ALTER TABLE app.users ADD COLUMN age int NOT NULL, DROP COLUMN note;\n\
        CREATE VIEW app.v AS SELECT id FROM app.users;\n\
        UPDATE app.alembic_version_app SET version_num = 'c3';\n\
        ALTER TABEL oops;\n";

    fn analysis() -> Analysis {
        let dialect = crate::sql::dialect("postgres");
        crate::sql::analyze(SQL, dialect.as_ref(), &[], true)
    }

    #[test]
    fn an_entry_survives_the_round_trip() {
        let a = analysis();
        assert!(a.changes.len() >= 5, "the fixture builds a schema");
        assert!(!a.stamps.is_empty() && !a.directives.list.is_empty());
        assert!(a.statements.iter().any(|s| s.outcome != Outcome::Parsed));
        let dir = tempfile::tempdir().unwrap();
        let set = SetConfig::with_dir("migrations".into());
        let path = path(dir.path(), &set);
        store(&path, &set, [("d1", &a, true)].into_iter());
        let bytes = read(&path);
        let cache = Cache::parse(&bytes, &set);
        assert_eq!(cache.len(), 1);
        let entry = cache.get("d1").expect("the entry decodes");
        assert!(entry.parsed);
        assert_eq!(entry.into_analysis(SQL.len()), Some(a));
        assert!(cache.get("d2").is_none());
    }

    #[test]
    fn a_cache_for_another_fingerprint_or_corrupt_is_empty() {
        let a = analysis();
        let dir = tempfile::tempdir().unwrap();
        let set = SetConfig::with_dir("migrations".into());
        let path = path(dir.path(), &set);
        store(&path, &set, [("d1", &a, true)].into_iter());
        let bytes = read(&path);
        let mut other = SetConfig::with_dir("migrations".into());
        other.dialect = "generic".into();
        assert!(Cache::parse(&bytes, &other).is_empty());
        // Any prefix, and any single flipped byte, gives an empty cache or entries that are
        // either rejected or still plausible: never a panic.
        for cut in 0..bytes.len() {
            let cache = Cache::parse(&bytes[..cut], &set);
            assert!(cache.is_empty());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            let cache = Cache::parse(&b, &set);
            if let Some(e) = cache.get("d1") {
                let _ = e.into_analysis(SQL.len());
            }
        }
    }

    #[test]
    fn an_entry_for_a_shorter_file_is_not_used() {
        let a = analysis();
        let dir = tempfile::tempdir().unwrap();
        let set = SetConfig::with_dir("migrations".into());
        let path = path(dir.path(), &set);
        store(&path, &set, [("d1", &a, true)].into_iter());
        let bytes = read(&path);
        let entry = Cache::parse(&bytes, &set).get("d1").unwrap();
        assert_eq!(entry.into_analysis(10), None);
    }
}
