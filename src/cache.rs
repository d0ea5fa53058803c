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
//! and cloning what it read; this is why the format is not JSON. Each entry's schema changes
//! stay encoded until a rule reads them ([`crate::sql::Changes`]), and the file starts with the
//! SHA-256 of the rest, so a torn or corrupted file is ignored as a whole rather than decoded
//! into something plausible later.
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
use crate::finding::Finding;
use crate::sql::{Analysis, Changes, Directives, Outcome, Stamp, Statement};

/// One cached analysis. Most statements parse, so only the others are stored in full; every
/// statement's span is kept (flat `[start, end, …]`), because rules read the text of statements
/// that parsed too (`alembic-stamp-unverified` finds writes to the version table by span).
///
/// Postcard is positional: [`EntryRef`] (what is written) must list the same fields in the same
/// order with the same encodings; `an_entry_survives_the_round_trip` holds them together.
#[derive(Debug, Clone, Deserialize)]
struct Entry<'a> {
    /// Whether the file was parse-checked (baseline files are not).
    parsed: bool,
    n: usize,
    spans: Vec<usize>,
    other: Vec<(usize, Statement)>,
    tokenize_error: Option<(String, std::ops::Range<usize>)>,
    directives: Directives,
    stamps: Vec<Stamp>,
    /// The schema changes, encoded ([`Changes::encode`]): decoded when first read.
    changes: &'a [u8],
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
    changes: Blob<'a>,
}

impl<'a> EntryRef<'a> {
    fn new(analysis: &'a Analysis, parsed: bool, changes: &'a [u8]) -> EntryRef<'a> {
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
            changes: Blob(changes),
        }
    }
}

impl Entry<'_> {
    /// The analysis, if the entry is plausible for a file of `len` bytes: no more statements
    /// than bytes and every span inside the file. Otherwise `None` (the file is analysed afresh).
    fn into_analysis(self, len: usize, whole: &std::sync::Arc<[u8]>) -> Option<Analysis> {
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
            changes: Changes::encoded(whole.clone(), within(whole, self.changes), len),
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

/// Where `part` (borrowed from `whole` by the decoder) lies in `whole`: the changes of an entry
/// are kept as a range of the file's bytes, shared by every analysis, not copied.
fn within(whole: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    start..start.saturating_add(part.len())
}

/// A loaded cache: each entry's blob by the content digest of the file it analysed.
#[derive(Default)]
pub struct Cache<'a> {
    /// The cache file's bytes.
    pub whole: std::sync::Arc<[u8]>,
    entries: HashMap<&'a str, &'a [u8]>,
}

impl<'a> Cache<'a> {
    /// The cache in `bytes` (as [`read`] returns them), empty when they were written for another
    /// fingerprint or do not decode.
    pub fn parse(bytes: &'a std::sync::Arc<[u8]>, set: &SetConfig) -> Cache<'a> {
        let Some(payload) = checked(bytes) else {
            return Cache::default();
        };
        match postcard::from_bytes::<Read>(payload) {
            Ok(r) if r.fingerprint == fingerprint(set) => Cache {
                whole: bytes.clone(),
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
    fn get(&self, digest: &str) -> Option<Entry<'a>> {
        postcard::from_bytes(self.entries.get(digest)?).ok()
    }

    /// The analysis of a file of `len` bytes with content `digest`, if an entry made with the
    /// same `parsed` choice is there and plausible for it.
    pub fn analysis(&self, digest: &str, len: usize, parsed: bool) -> Option<Analysis> {
        self.get(digest)
            .filter(|e| e.parsed == parsed)?
            .into_analysis(len, &self.whole)
    }
}

/// Everything besides a file's bytes that changes its analysis.
pub fn fingerprint(set: &SetConfig) -> String {
    let placeholders: Vec<&str> = set.placeholders.iter().map(|r| r.as_str()).collect();
    format!(
        "{} cache=18 exact={} layout={} dialect={} psql={} single={} placeholders={:?}",
        env!("CARGO_PKG_VERSION"),
        cfg!(feature = "postgres-exact"),
        set.layout.as_str(),
        set.dialect,
        set.psql,
        set.single_transaction,
        placeholders
    )
}

/// The set's analysis cache in the VCS's state directory.
pub fn path(git_dir: &Path, set: &SetConfig) -> PathBuf {
    state_file(git_dir, set, "analysis")
}

/// `<git dir>/miglint/<kind>-<16 hex digits of the set's directory>.bin`: one file per set.
fn state_file(git_dir: &Path, set: &SetConfig, kind: &str) -> PathBuf {
    let key = &crate::ledger::sha256_hex(set.dir.as_bytes())[..16];
    git_dir.join("miglint").join(format!("{kind}-{key}.bin"))
}

/// A cache larger than this is not a cache miglint wrote for a sane set: ignored.
const LIMIT: u64 = 256 << 20;

/// The bytes of the cache at `path`; none when it is missing or oversized.
pub fn read(path: &Path) -> std::sync::Arc<[u8]> {
    crate::fsutil::read_state(path, LIMIT)
        .unwrap_or_default()
        .into()
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
            let changes = a.changes.encode()?;
            let blob = postcard::to_stdvec(&EntryRef::new(a, parsed, &changes)).ok()?;
            Some((digest, blob))
        })
        .collect();
    let fingerprint = fingerprint(set);
    let stored = Stored {
        fingerprint: &fingerprint,
        entries: blobs.iter().map(|(d, b)| (*d, Blob(b))).collect(),
    };
    let size: usize = blobs.iter().map(|(d, b)| d.len() + b.len() + 20).sum();
    if let Ok(bytes) = postcard::to_extend(&stored, buffer(size + fingerprint.len() + 20)) {
        write(path, bytes);
    }
}

/// An empty buffer for a payload, with its checksum's place in front (see [`write`]): the
/// 6 MB a 10,000-file set writes are neither regrown nor copied.
fn buffer(capacity: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(32 + capacity);
    bytes.resize(32, 0);
    bytes
}

/// Writes a [`buffer`] holding a payload, with the payload's SHA-256 in front, atomically.
/// Failure to write is not an error.
fn write(path: &Path, mut bytes: Vec<u8>) {
    use sha2::Digest;
    let sum = sha2::Sha256::digest(&bytes[32..]);
    bytes[..32].copy_from_slice(&sum);
    if let Some(dir) = path.parent() {
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = crate::fsutil::write_atomic(path, &bytes);
        }
    }
}

/// The payload of a file [`write`] wrote, if its checksum holds.
fn checked(bytes: &[u8]) -> Option<&[u8]> {
    use sha2::Digest;
    let (sum, payload) = bytes.split_at_checked(32)?;
    (sha2::Sha256::digest(payload).as_slice() == sum).then_some(payload)
}

/// The findings of the set passes whose results are a function of the set's configuration and
/// files alone ([`crate::rules::Pass::memo`]: the schema replay), each with the key of the inputs
/// it was computed from. A warm run over 10,000 unchanged files spent more time rebuilding the
/// schema model than everything else together; while the key holds, its findings are reused.
///
/// The key is computed by the engine from everything the pass reads (`check::memo_key`); kept
/// findings are validated against the files they name before use, like analyses.
#[derive(Default, Serialize, Deserialize)]
pub struct Memo {
    fingerprint: String,
    passes: Vec<(String, String, Vec<Finding>)>,
    #[serde(skip)]
    changed: bool,
}

impl Memo {
    /// The memo at `path`, empty when missing, corrupt or written for another fingerprint.
    pub fn load(path: &Path, set: &SetConfig) -> Memo {
        let bytes = read(path);
        match checked(&bytes).map(postcard::from_bytes::<Memo>) {
            Some(Ok(m)) if m.fingerprint == fingerprint(set) => m,
            _ => Memo {
                fingerprint: fingerprint(set),
                ..Memo::default()
            },
        }
    }

    /// The findings `pass` gave for inputs with `key`, if kept.
    pub fn get(&self, pass: &str, key: &str) -> Option<&[Finding]> {
        self.passes
            .iter()
            .find(|(p, k, _)| p == pass && k == key)
            .map(|(_, _, f)| f.as_slice())
    }

    pub fn put(&mut self, pass: &str, key: String, findings: Vec<Finding>) {
        self.passes.retain(|(p, _, _)| p != pass);
        self.passes.push((pass.to_string(), key, findings));
        self.changed = true;
    }

    /// Writes the memo if anything was put. Failure to write is not an error.
    pub fn store(&self, path: &Path) {
        if let (true, Ok(bytes)) = (self.changed, postcard::to_extend(self, buffer(1 << 16))) {
            write(path, bytes);
        }
    }
}

/// The set's [`Memo`] in the VCS's state directory.
pub fn memo_path(git_dir: &Path, set: &SetConfig) -> PathBuf {
    state_file(git_dir, set, "passes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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

    /// The fixture's analysis, stored in a cache file of a temp dir and read back.
    fn stored() -> (tempfile::TempDir, SetConfig, Arc<[u8]>, Analysis) {
        let a = analysis();
        let dir = tempfile::tempdir().unwrap();
        let set = SetConfig::with_dir("migrations".into());
        let path = path(dir.path(), &set);
        store(&path, &set, [("d1", &a, true)].into_iter());
        let bytes = read(&path);
        (dir, set, bytes, a)
    }

    #[test]
    fn an_entry_survives_the_round_trip() {
        let a = analysis();
        assert!(a.changes.get().len() >= 5, "the fixture builds a schema");
        assert!(!a.stamps.is_empty() && !a.directives.list.is_empty());
        assert!(a.statements.iter().any(|s| s.outcome != Outcome::Parsed));
        let dir = tempfile::tempdir().unwrap();
        let set = SetConfig::with_dir("migrations".into());
        let path = path(dir.path(), &set);
        store(&path, &set, [("d1", &a, true)].into_iter());
        let bytes = read(&path);
        let cache = Cache::parse(&bytes, &set);
        assert_eq!(cache.len(), 1);
        assert!(cache.get("d1").expect("the entry decodes").parsed);
        assert_eq!(cache.analysis("d1", SQL.len(), true), Some(a));
        assert!(cache.analysis("d1", SQL.len(), false).is_none());
        assert!(cache.get("d2").is_none());
    }

    #[test]
    fn a_cache_for_another_fingerprint_or_corrupt_is_empty() {
        let (_dir, set, bytes, _) = stored();
        let mut other = SetConfig::with_dir("migrations".into());
        other.dialect = "generic".into();
        assert!(Cache::parse(&bytes, &other).is_empty());
        // Any prefix, and any single flipped byte, fails the checksum: an empty cache.
        for cut in 0..bytes.len() {
            let part: Arc<[u8]> = bytes[..cut].into();
            assert!(Cache::parse(&part, &set).is_empty());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.to_vec();
            b[i] ^= 0x5a;
            let b: Arc<[u8]> = b.into();
            assert!(Cache::parse(&b, &set).is_empty());
        }
    }

    #[test]
    fn an_entry_for_a_shorter_file_is_not_used() {
        let (_dir, set, bytes, _) = stored();
        let cache = Cache::parse(&bytes, &set);
        assert!(cache.get("d1").is_some());
        assert_eq!(cache.analysis("d1", 10, true), None);
    }

    #[test]
    fn changes_stay_encoded_until_read_and_a_forged_blob_is_unknown() {
        let a = analysis();
        let encoded = a.changes.encode().unwrap().into_owned();
        let whole: Arc<[u8]> = encoded.clone().into();
        let lazy = Changes::encoded(whole.clone(), 0..whole.len(), SQL.len());
        assert_eq!(
            lazy.encode().unwrap().as_ref(),
            &encoded[..],
            "rewritten as read"
        );
        assert_eq!(lazy.get(), a.changes.get());
        let unknown = |c: &Changes| matches!(c.get(), [crate::sql::ddl::Change::Unknown { .. }]);
        // Spans past the end of the file, or bytes that do not decode: unknown, not guessed.
        assert!(unknown(&Changes::encoded(
            whole.clone(),
            0..whole.len(),
            10
        )));
        let half = 0..whole.len() / 2;
        assert!(unknown(&Changes::encoded(whole.clone(), half, SQL.len())));
        let outside = whole.len()..whole.len() + 5;
        assert!(unknown(&Changes::encoded(
            whole.clone(),
            outside,
            SQL.len()
        )));
    }
}
