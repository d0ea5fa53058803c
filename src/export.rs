//! Reader for `check --history-export FILE`: a CSV export of the database's `migration_history`
//! table (`\copy migration_history to 'h.csv' csv header`), parsed with the `csv` crate
//! (RFC 4180 quoting, CRLF, a BOM). No database connection is ever made; the reconciliation
//! itself is the pure rule `rules::history::reconcile`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use crate::Fatal;

/// An export larger than this is not a `migration_history` table: refused, never read whole.
const LIMIT: u64 = 256 << 20;

/// What the database applied, by file name: its checksum and the span of its CSV row.
#[derive(Debug, Default)]
pub struct Export {
    /// The path findings name (relative to the repository when inside it).
    pub shown: String,
    pub bytes: Vec<u8>,
    /// By file name (a `migration_history` export), or by version (a tool's table).
    pub applied: BTreeMap<String, (String, Range<usize>)>,
    /// Whose table it is: `None` for `migration_history` (file name, SHA-256), or the tool
    /// whose table keys its rows by version.
    pub tool: Option<Tool>,
    /// Versions whose row says the migration failed part-way (sqlx's `success = f`).
    pub failed: Vec<String>,
}

/// A migration tool's own table, recognised by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `_sqlx_migrations`: `version,description,installed_on,success,checksum,execution_time`,
    /// the checksum a `bytea` SHA-384 that `psql --csv` prints as `\x<hex>`.
    Sqlx,
}

/// One CSV record: the byte span of its line (without the line break) and its fields.
pub type Record = (Range<usize>, Vec<String>);

/// Every CSV record; an error names the byte where the CSV stops making sense (never a silently
/// shortened table).
pub fn parse_csv(text: &str) -> Result<Vec<Record>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {
                let end = (reader.position().byte() as usize).min(text.len());
                // After a CRLF the reader's position may still be on the `\n`.
                let line = text.get(start..end).unwrap_or("");
                let start = start + (line.len() - line.trim_start_matches(['\r', '\n']).len());
                let line = text.get(start..end).unwrap_or("");
                let trimmed = line.trim_end_matches(['\r', '\n']).len();
                if record.iter().any(|f| !f.trim().is_empty()) {
                    rows.push((
                        start..start + trimmed,
                        record.iter().map(str::to_string).collect(),
                    ));
                }
            }
            Ok(false) => break,
            Err(e) => return Err(format!("malformed CSV at byte {start}: {e}")),
        }
    }
    Ok(rows)
}

/// Reads and parses the export at `path` (which the user named; it may lie outside the
/// repository). `root` is where the shown path is relative to.
pub fn read(root: &Path, path: &Path) -> crate::Result<Export> {
    let shown = crate::config::relative_to(
        root,
        &path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
    );
    let refuse = |what: String| {
        Fatal::config(
            format!("cannot read the history export {shown}: {what}"),
            "export with a header row: \\copy migration_history to 'h.csv' csv header",
        )
    };
    // Stat before opening: opening a FIFO would block.
    let meta = std::fs::metadata(path).map_err(|e| Fatal::io(path.display(), e))?;
    if !meta.is_file() {
        return Err(refuse(format!("it is {}", crate::fsutil::kind(&meta))));
    }
    let bytes = crate::fsutil::open_file(path)
        .and_then(|(file, size)| crate::fsutil::read_limited(file, size, LIMIT))
        .map_err(|e| refuse(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let rows = parse_csv(&text).map_err(&refuse)?;
    let Some((_, header)) = rows.first() else {
        return Err(refuse("it is empty".into()));
    };
    let col = |name: &str| {
        header.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    if let (None, Some(vi), Some(ci), Some(si)) = (
        col("filename"),
        col("version"),
        col("checksum"),
        col("success"),
    ) {
        return Ok(by_version(shown, &rows, (vi, ci, si), bytes));
    }
    let (Some(fi), Some(ci)) = (col("filename"), col("checksum")) else {
        return Err(refuse(format!(
            "it has no `filename` and `checksum` columns, nor sqlx's `version`, `checksum` and `success` (header: {})",
            header.join(",")
        )));
    };
    let mut applied = BTreeMap::new();
    for (span, row) in rows.iter().skip(1) {
        let (Some(f), Some(c)) = (row.get(fi), row.get(ci)) else {
            continue;
        };
        // The database may store a path; the ledger stores the file name.
        let name = f
            .trim()
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .to_string();
        let checksum = c.trim().trim_start_matches("sha256:").to_ascii_lowercase();
        applied.insert(name, (checksum, span.clone()));
    }
    Ok(Export {
        shown,
        bytes,
        applied,
        tool: None,
        failed: Vec::new(),
    })
}

/// sqlx's `_sqlx_migrations` export: rows by version, the checksum's `\x` (bytea hex output)
/// dropped, `success` kept for the rows that failed part-way.
fn by_version(
    shown: String,
    rows: &[Record],
    (vi, ci, si): (usize, usize, usize),
    bytes: Vec<u8>,
) -> Export {
    let mut applied = BTreeMap::new();
    let mut failed = Vec::new();
    for (span, row) in rows.iter().skip(1) {
        let (Some(v), Some(c)) = (row.get(vi), row.get(ci)) else {
            continue;
        };
        let version = v.trim().to_string();
        let checksum = c.trim().trim_start_matches("\\x").to_ascii_lowercase();
        if row
            .get(si)
            .is_some_and(|s| matches!(s.trim(), "f" | "false" | "0"))
        {
            failed.push(version.clone());
        }
        applied.insert(version, (checksum, span.clone()));
    }
    Export {
        shown,
        bytes,
        applied,
        tool: Some(Tool::Sqlx),
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_spans() {
        let text = "filename,checksum\n\"a,b.sql\",\"x\"\"y\"\r\nc.sql,z";
        let rows = parse_csv(text).unwrap();
        assert_eq!(rows[1].1, vec!["a,b.sql".to_string(), "x\"y".to_string()]);
        assert_eq!(&text[rows[1].0.clone()], "\"a,b.sql\",\"x\"\"y\"");
        assert_eq!(rows[2].1, vec!["c.sql", "z"]);
        assert_eq!(&text[rows[2].0.clone()], "c.sql,z");
    }
}
