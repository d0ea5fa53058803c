//! The ledger (`applied.sha256`): exactly GNU `sha256sum` output, one line per applied migration,
//! `<64 lowercase hex>  <file name>`, in migration order. `sha256sum -c` verifies it, and each
//! digest equals the `migration_history.checksum` the applier stored.

use std::ops::Range;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub digest: String,
    pub name: String,
    /// Byte span of the whole line (without its newline).
    pub span: Range<usize>,
}

/// A malformed line, with the byte span to label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerError {
    pub message: String,
    pub help: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub entries: Vec<Entry>,
    /// Hash of a name → index into `entries`: sets have thousands of entries and every file is
    /// looked up. Keyed by the hash rather than the name, so the names are not held twice; a
    /// lookup compares the name it finds, and on a mismatch (two names with one hash) searches.
    index: std::collections::HashMap<u64, u32, std::hash::BuildHasherDefault<Prehashed>>,
    hasher: std::hash::RandomState,
}

/// The index's keys are already keyed hashes of the names: hashing them again only costs time.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl PartialEq for Ledger {
    fn eq(&self, other: &Ledger) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Ledger {}

impl Ledger {
    fn with_capacity(n: usize) -> Ledger {
        Ledger {
            entries: Vec::with_capacity(n),
            index: std::collections::HashMap::with_capacity_and_hasher(n, Default::default()),
            hasher: std::hash::RandomState::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        use std::hash::BuildHasher;
        let i = *self.index.get(&self.hasher.hash_one(name))? as usize;
        match &self.entries[i] {
            e if e.name == name => Some(e),
            _ => self.entries.iter().find(|e| e.name == name),
        }
    }

    fn push(&mut self, entry: Entry) {
        use std::hash::BuildHasher;
        let key = self.hasher.hash_one(entry.name.as_str());
        self.index.entry(key).or_insert(self.entries.len() as u32);
        self.entries.push(entry);
    }
}

/// Lowercase hex SHA-256 of raw bytes (sha2 0.11 no longer formats digests with `{:x}`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of a digest (sha2 0.11 digests no longer format with `{:x}`).
pub fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest.iter() {
        out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        out.push(char::from(b"0123456789abcdef"[(b & 0xf) as usize]));
    }
    out
}

/// One ledger line, with its newline.
pub fn format_line(digest: &str, name: &str) -> String {
    format!("{digest}  {name}\n")
}

/// Parses a ledger tolerantly: every valid line becomes an entry, every invalid one an error, so
/// one bad line does not hide the protection the others give.
pub fn parse(bytes: &[u8]) -> (Ledger, Vec<LedgerError>) {
    // Sized once from the line count: growing by doubling held two copies at the peak.
    let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    let mut ledger = Ledger::with_capacity(lines);
    let mut errors = Vec::new();
    let mut offset = 0;
    for raw in bytes.split_inclusive(|&b| b == b'\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        match parse_line(line, start) {
            Ok(entry) if ledger.get(&entry.name).is_some() => errors.push(LedgerError {
                message: format!("`{}` is recorded twice", entry.name),
                help: "keep the first entry and delete this line".into(),
                span: start + entry.digest.len() + 2..entry.span.end,
            }),
            Ok(entry) => ledger.push(entry),
            Err(e) => errors.push(e),
        }
    }
    (ledger, errors)
}

/// One ledger line (without its `\n`) that starts at byte `start`: `<sha256>  <file name>`.
fn parse_line(line: &[u8], start: usize) -> Result<Entry, LedgerError> {
    let span = start..start + line.len();
    let err = |message: String, help: &str, span: Range<usize>| LedgerError {
        message,
        help: help.to_string(),
        span,
    };
    if line.ends_with(b"\r") {
        return Err(err("the ledger has a CRLF line ending".into(), "the ledger must use LF line ends, like sha256sum; add `*.sha256 text eol=lf` to .gitattributes", span.end - 1..span.end));
    }
    if line.is_empty() {
        return Err(err(
            "empty line in the ledger".into(),
            "remove the empty line; the ledger holds only `<sha256>  <file>` lines",
            start..start + 1,
        ));
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(err(
            "the line is not valid UTF-8".into(),
            "restore the line from git",
            span,
        ));
    };
    let Some((digest, name)) = text.split_once("  ") else {
        return Err(err(
            "malformed line: expected `<64 lowercase hex>  <file name>` (two spaces)".into(),
            "the ledger is exactly `sha256sum` output; re-create the line with `miglint record`",
            span,
        ));
    };
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(err(
            format!("`{digest}` is not a SHA-256 digest (64 lowercase hex digits)"),
            "restore the line from git or the migration_history table",
            start..start + digest.len(),
        ));
    }
    let name_span = start + digest.len() + 2..span.end;
    if name.is_empty() || name.starts_with(['*', ' ']) {
        return Err(err(
            "the line has no plain file name after the digest".into(),
            "write `<digest>  <file name>` with exactly two spaces",
            name_span,
        ));
    }
    if name.contains(['/', '\\']) {
        return Err(err(
            format!("`{name}` contains a path separator"),
            "ledger entries name files directly in the set's directory",
            name_span,
        ));
    }
    Ok(Entry {
        digest: digest.to_string(),
        name: name.to_string(),
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two names with one hash: the index holds the first, and the second is still found (and
    /// a third, absent name is not), so a hash collision can never hide a recorded migration.
    #[test]
    fn a_hash_collision_still_finds_every_entry() {
        use std::hash::BuildHasher;
        let d = "a".repeat(64);
        let (mut ledger, errors) = parse(format!("{d}  0000_a.sql\n{d}  0001_b.sql\n").as_bytes());
        assert!(errors.is_empty());
        // Make `0001_b.sql`'s hash point at `0000_a.sql`, as a collision would.
        let key = ledger.hasher.hash_one("0001_b.sql");
        ledger.index.insert(key, 0);
        assert_eq!(ledger.get("0001_b.sql").unwrap().name, "0001_b.sql");
        assert_eq!(ledger.get("0000_a.sql").unwrap().name, "0000_a.sql");
        assert!(ledger.get("0002_c.sql").is_none());
    }

    #[test]
    fn digest_matches_sha256sum() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parses_and_reports_bad_lines() {
        let d = sha256_hex(b"x");
        let text = format!(
            "{d}  0000_a.sql\nzz  0001_b.sql\n{d} 0002_c.sql\n{d}  0000_a.sql\n{d}  a/b.sql\n"
        );
        let (ledger, errors) = parse(text.as_bytes());
        assert_eq!(ledger.entries.len(), 1);
        assert_eq!(errors.len(), 4);
        assert!(errors[0].message.contains("zz"));
    }

    #[test]
    fn round_trip() {
        let lines: String = (0..3)
            .map(|i| format_line(&sha256_hex(&[i]), &format!("000{i}_x.sql")))
            .collect();
        let (ledger, errors) = parse(lines.as_bytes());
        assert!(errors.is_empty());
        let again: String = ledger
            .entries
            .iter()
            .map(|e| format_line(&e.digest, &e.name))
            .collect();
        assert_eq!(again, lines);
    }
}
