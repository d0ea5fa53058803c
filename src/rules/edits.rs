//! Cosmetic or semantic? When a protected migration changed (`checksum-mismatch`,
//! `modified-after-merge`, `rewritten-in-history`), the old and new statements are compared
//! token by token, ignoring whitespace and comments and comparing keywords and unquoted
//! identifiers without regard to letter case (PostgreSQL folds them). If nothing else differs the
//! edit is cosmetic: the database is unaffected, only the checksum broke. Otherwise the finding
//! shows the first statement that changed, old and new.

use std::ops::Range;

use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::registry::{Rating, Rule};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only comments, whitespace, line endings or letter case changed.
    Cosmetic,
    /// Statement `index` (1-based) changed; `span` is its byte range in the new file.
    Semantic {
        index: usize,
        old: String,
        new: String,
        span: Option<Range<usize>>,
    },
    /// One side cannot be tokenized or decoded; nothing can be said.
    Unknown,
}

/// A statement's significant tokens, normalised: no whitespace or comments; unquoted words
/// upper-cased in ASCII only.
fn normalized(dialect: &dyn Dialect, sql: &str) -> Option<Vec<(Vec<String>, Range<usize>)>> {
    let tokens = Tokenizer::new(dialect, sql).tokenize_with_location().ok()?;
    let lines = crate::sql::LineIndex::new(sql);
    let mut statements = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut span: Option<Range<usize>> = None;
    for t in tokens {
        let start = lines.offset(t.span.start.line, t.span.start.column);
        let end = lines.offset(t.span.end.line, t.span.end.column);
        match &t.token {
            Token::Whitespace(_) | Token::EOF => {}
            Token::SemiColon => {
                if !current.is_empty() {
                    let s = span.take().map(|s| s.start..end);
                    statements.push((std::mem::take(&mut current), s.unwrap_or(start..end)));
                }
            }
            // A psql variable (`:name` after a single colon; `::` is a cast) is case-sensitive.
            Token::Word(w)
                if w.quote_style.is_none() && current.last().is_none_or(|p| p != ":") =>
            {
                span.get_or_insert(start..end);
                // PostgreSQL folds only ASCII letters of unquoted names (`straße` and `STRASSE`
                // are two tables), so only an ASCII case change is cosmetic.
                current.push(w.value.to_ascii_uppercase());
            }
            other => {
                span.get_or_insert(start..end);
                current.push(other.to_string());
            }
        }
    }
    if !current.is_empty() {
        let s = span.unwrap_or(0..sql.len());
        statements.push((current, s.start..sql.len()));
    }
    Some(statements)
}

/// How many characters of a statement a message shows.
const EXCERPT: usize = 99;

/// The statement as one line, in characters.
fn one_line(text: &str) -> Vec<char> {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect()
}

/// `EXCERPT` characters of a one-line statement from `from`, with `…` where text is cut.
fn cut(line: &[char], from: usize) -> String {
    let from = from.min(line.len());
    let body: String = line[from..].iter().take(EXCERPT).collect();
    let before = if from > 0 { "…" } else { "" };
    let after = if line.len() > from + EXCERPT {
        "…"
    } else {
        ""
    };
    format!("{before}{body}{after}")
}

/// Old and new statement, one line each, shortened around their first difference: two long
/// statements that differ late must not be shown as the same two prefixes.
fn excerpts(old: Option<&str>, new: Option<&str>) -> (String, String) {
    let (a, b) = (old.map(one_line), new.map(one_line));
    let common = match (&a, &b) {
        (Some(a), Some(b)) => a.iter().zip(b).take_while(|(x, y)| x == y).count(),
        _ => 0,
    };
    // Keep some context before the difference, from a word's start, and start at the beginning
    // when it fits.
    let from = match &b {
        Some(b) if common + 20 > EXCERPT => {
            let back = common - 40;
            b[back..common]
                .iter()
                .position(|&c| c == ' ')
                .map_or(back, |p| back + p + 1)
        }
        _ => 0,
    };
    (
        a.map_or("(no statement)".into(), |a| cut(&a, from)),
        b.map_or("(removed)".into(), |b| cut(&b, from)),
    )
}

fn decode(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).ok()
}

pub fn classify(dialect: &dyn Dialect, old: &[u8], new: &[u8]) -> Change {
    let (Some(old_text), Some(new_text)) = (decode(old), decode(new)) else {
        return Change::Unknown;
    };
    let (Some(a), Some(b)) = (normalized(dialect, old_text), normalized(dialect, new_text)) else {
        return Change::Unknown;
    };
    let shift = new.len() - new_text.len();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x.0 == y.0 => continue,
            (x, y) => {
                let (old, new) = excerpts(
                    x.map(|x| &old_text[x.1.clone()]),
                    y.map(|y| &new_text[y.1.clone()]),
                );
                return Change::Semantic {
                    index: i + 1,
                    old,
                    new,
                    span: y.map(|y| y.1.start + shift..y.1.end + shift),
                };
            }
        }
    }
    Change::Cosmetic
}

/// What protects the file a finding is about: its recorded bytes (the ledger) or its merged ones.
fn protected_as(finding: &Finding) -> &'static str {
    if finding.rule == Rule::ChecksumMismatch {
        "recorded"
    } else {
        "merged"
    }
}

/// How to restore, for a help text: the finding's own command (printed below it), or a generic
/// instruction.
fn restore_hint(finding: &Finding) -> String {
    let which = protected_as(finding);
    match &finding.command {
        Some(_) => format!("restore the {which} bytes (the command below)"),
        None => "restore the recorded bytes (`git checkout` the version that was recorded)".into(),
    }
}

/// The byte range, in `new`, of the first line that differs from `old` and lies in `within`
/// (a statement): where a reader looks, rather than the statement's first line.
fn changed_line_within(
    old: &[u8],
    new: &[u8],
    within: &std::ops::Range<usize>,
) -> Option<std::ops::Range<usize>> {
    let (old, new) = (
        std::str::from_utf8(old).ok()?,
        std::str::from_utf8(new).ok()?,
    );
    let diff = similar::TextDiff::from_lines(old, new);
    let mut starts = vec![0];
    starts.extend(new.match_indices('\n').map(|(i, _)| i + 1));
    diff.ops()
        .iter()
        .filter(|op| !matches!(op.tag(), similar::DiffTag::Equal | similar::DiffTag::Delete))
        .flat_map(|op| op.new_range())
        .filter_map(|line| {
            let start = *starts.get(line)?;
            let end = starts
                .get(line + 1)
                .map_or(new.len(), |e| e - 1)
                .max(start + 1);
            Some(start..end.min(new.len().max(start + 1)))
        })
        .find(|r| r.start < within.end && r.end > within.start)
}

/// The most lines of a diff shown; a longer one ends with how many were left out.
const DIFF_LINES: usize = 40;
/// The most characters of one diff line shown.
const DIFF_WIDTH: usize = 200;

/// A unified diff of `old` → `new` (two lines of context), bounded in lines and width; `None`
/// when either is not text.
pub fn unified_diff(old: &[u8], new: &[u8], (from, to): (&str, &str)) -> Option<String> {
    let (old, new) = (
        std::str::from_utf8(old).ok()?,
        std::str::from_utf8(new).ok()?,
    );
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(from, to)
        .to_string();
    let mut out = String::new();
    let total = text.lines().count();
    for line in text.lines().take(DIFF_LINES) {
        match line.char_indices().nth(DIFF_WIDTH) {
            Some((cut, _)) => out.push_str(&format!("{}…", &line[..cut])),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    if total > DIFF_LINES {
        out.push_str(&format!("… ({} more lines)\n", total - DIFF_LINES));
    }
    (!out.is_empty()).then_some(out)
}

/// Adds what changed to a finding about a protected file, and applies `cosmetic_edits`.
pub fn annotate(set: &SetConfig, finding: Finding, old: &[u8], new: &[u8]) -> Finding {
    let dialect = crate::sql::dialect(&set.dialect);
    // Only line endings changed (an editor or core.autocrlf): say exactly that.
    let unix = |b: &[u8]| -> Vec<u8> {
        let mut out = Vec::with_capacity(b.len());
        for (i, &c) in b.iter().enumerate() {
            if !(c == b'\r' && b.get(i + 1) == Some(&b'\n')) {
                out.push(c);
            }
        }
        out
    };
    let restore = restore_hint(&finding);
    let change = classify(dialect.as_ref(), old, new);
    // Line endings inside a string or a dollar-quoted body are data psql sends and the server
    // stores: that change is semantic (classify says so) even though only CRs moved.
    if unix(old) == unix(new) && change == Change::Cosmetic {
        let mut f = finding;
        f.rating = Some(Rating::Cosmetic);
        f.message.push_str(
            " — only line endings changed (CRLF/LF): the SQL is the same, the bytes are not",
        );
        f.help = Some(format!("{restore}; pin them with `*.sql text eol=lf` in .gitattributes; no new migration is needed"));
        return f;
    }
    match change {
        Change::Cosmetic => {
            let mut f = finding;
            f.rating = Some(Rating::Cosmetic);
            f.message.push_str(" — only comments/whitespace/letter case changed: the database is unaffected, but the bytes no longer match");
            f.diff = unified_diff(old, new, ("before", "now"));
            // Nothing to migrate: putting a comment change in a new migration would be noise.
            f.help = Some(format!(
                "{restore}; a comment or whitespace change needs no new migration"
            ));
            f
        }
        Change::Semantic {
            index,
            old: old_text,
            new: new_text,
            span,
        } => {
            let mut f = finding;
            f.diff = unified_diff(old, new, (protected_as(&f), "now"));
            f.message.push_str(&format!(
                " — statement {index} changed: `{old_text}` → `{new_text}`"
            ));
            if f.span.is_none() {
                if let Some(span) = span {
                    // The changed line inside the statement, not the statement's first line.
                    f.span = Some(changed_line_within(old, new, &span).unwrap_or(span));
                    f.label = Some(format!("statement {index} changed here"));
                }
            }
            f
        }
        Change::Unknown if unix(old) == unix(new) => {
            let mut f = finding;
            f.message.push_str(" — only line endings changed (CRLF/LF), but miglint could not read the SQL to tell whether one falls inside a string, so the edit is not rated cosmetic");
            f.help = Some(format!(
                "{restore}; pin them with `*.sql text eol=lf` in .gitattributes"
            ));
            f
        }
        Change::Unknown => finding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(old: &str, new: &str) -> Change {
        classify(
            &sqlparser::dialect::PostgreSqlDialect {},
            old.as_bytes(),
            new.as_bytes(),
        )
    }

    #[test]
    fn whitespace_comments_and_case_are_cosmetic() {
        assert_eq!(
            pg(
                "ALTER TABLE users ADD COLUMN a int;",
                "-- why\nalter table   Users\n  add column a INT;\r\n"
            ),
            Change::Cosmetic
        );
    }

    #[test]
    fn a_psql_variable_case_or_a_line_ending_in_a_literal_is_semantic() {
        // psql variables are case-sensitive: `:Owner` and `:owner` are two variables.
        assert!(matches!(
            pg(
                "ALTER TABLE t OWNER TO :Owner;",
                "ALTER TABLE t OWNER TO :owner;"
            ),
            Change::Semantic { .. }
        ));
        // A CR inside a string is data the database stores.
        assert!(matches!(
            pg(
                "INSERT INTO t VALUES ('a\r\nb');",
                "INSERT INTO t VALUES ('a\nb');"
            ),
            Change::Semantic { .. }
        ));
        assert!(matches!(
            pg("SELECT $$a\r\nb$$;", "SELECT $$a\nb$$;"),
            Change::Semantic { .. }
        ));
        // A cast is not a variable: its type name's case is still cosmetic.
        assert_eq!(pg("SELECT a::TEXT;", "select a::text;"), Change::Cosmetic);
    }

    #[test]
    fn a_type_change_is_semantic_with_both_statements() {
        let c = pg(
            "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN a int;",
            "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN a bigint;",
        );
        match c {
            Change::Semantic {
                index, old, new, ..
            } => {
                assert_eq!(index, 2);
                assert_eq!(old, "ALTER TABLE t ADD COLUMN a int;");
                assert_eq!(new, "ALTER TABLE t ADD COLUMN a bigint;");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_late_change_in_a_long_statement_is_shown_where_it_is() {
        let columns = "id bigint PRIMARY KEY, name text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now()";
        let c = pg(
            &format!("CREATE TABLE roles ({columns});"),
            &format!("CREATE TABLE roles ({columns}, description text);"),
        );
        let Change::Semantic { old, new, .. } = c else {
            panic!("{c:?}")
        };
        assert_ne!(old, new, "the excerpts must differ");
        assert!(
            old.starts_with('…') && old.ends_with("DEFAULT now());"),
            "{old}"
        );
        assert!(new.ends_with("DEFAULT now(), description text);"), "{new}");
    }

    #[test]
    fn string_and_quoted_identifier_case_is_semantic() {
        assert!(matches!(
            pg(
                "INSERT INTO r VALUES ('admin');",
                "INSERT INTO r VALUES ('Admin');"
            ),
            Change::Semantic { .. }
        ));
        assert!(matches!(
            pg("CREATE TABLE \"T\" (a int);", "CREATE TABLE \"t\" (a int);"),
            Change::Semantic { .. }
        ));
    }

    #[test]
    fn an_added_statement_is_semantic() {
        assert!(matches!(
            pg("SELECT 1;", "SELECT 1;\nSELECT 2;"),
            Change::Semantic { index: 2, .. }
        ));
    }
}
