//! Statements PostgreSQL refuses inside a transaction block (`… cannot run inside a
//! transaction block`: the server's `PreventInTransactionBlock`). Tools that wrap each migration
//! in a transaction by default (dbmate, goose, sqlx) make such a statement fail at deploy
//! unless the file opts out. Read from the statement's leading words only.

use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The construct (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …) when `statement` is one PostgreSQL
/// 15 refuses inside a transaction block.
pub fn outside_transaction_only(statement: &str, dialect: &dyn Dialect) -> Option<&'static str> {
    let words = leading_words(statement, dialect);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => Some("CREATE INDEX CONCURRENTLY"),
        ["DROP", "INDEX", "CONCURRENTLY", ..] => Some("DROP INDEX CONCURRENTLY"),
        ["REINDEX", _, "CONCURRENTLY", ..] => Some("REINDEX CONCURRENTLY"),
        ["REINDEX", "DATABASE" | "SYSTEM", ..] => Some("REINDEX DATABASE / SYSTEM"),
        ["VACUUM", ..] => Some("VACUUM"),
        ["CREATE", "DATABASE", ..] => Some("CREATE DATABASE"),
        ["DROP", "DATABASE", ..] => Some("DROP DATABASE"),
        ["CREATE", "TABLESPACE", ..] => Some("CREATE TABLESPACE"),
        ["DROP", "TABLESPACE", ..] => Some("DROP TABLESPACE"),
        ["ALTER", "SYSTEM", ..] => Some("ALTER SYSTEM"),
        _ => None,
    }
}

/// How much of a statement is read for its leading words: enough for any comment a person
/// writes before one, and a seed statement of megabytes is not tokenized again.
const PREFIX: usize = 64 * 1024;

/// The first few keywords of a statement, upper-cased, skipping comments, whitespace and a
/// parenthesised option list (`REINDEX (VERBOSE) TABLE …`, `VACUUM (ANALYZE) t`).
fn leading_words(statement: &str, dialect: &dyn Dialect) -> Vec<String> {
    let mut end = statement.len().min(PREFIX);
    while !statement.is_char_boundary(end) {
        end -= 1;
    }
    // A prefix may cut a literal: the tokens read before that point are all that is needed.
    let mut tokens = Vec::new();
    let _ = Tokenizer::new(dialect, &statement[..end]).tokenize_with_location_into_buf(&mut tokens);
    let mut words = Vec::new();
    let mut depth = 0usize;
    for t in tokens.into_iter().map(|t| t.token) {
        match t {
            Token::Whitespace(_) => {}
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(w) if depth == 0 => {
                // A quoted name is a name, never a keyword.
                if w.quote_style.is_some() {
                    words.push(String::new());
                } else {
                    words.push(w.value.to_ascii_uppercase());
                }
                if words.len() == 4 {
                    break;
                }
            }
            _ if depth == 0 => break,
            _ => {}
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leading_words_decide() {
        let d = sqlparser::dialect::PostgreSqlDialect {};
        let on = |s: &str| outside_transaction_only(s, &d);
        assert_eq!(
            on("-- why\ncreate unique index concurrently i on t (a)"),
            Some("CREATE INDEX CONCURRENTLY")
        );
        assert_eq!(
            on("REINDEX (VERBOSE) TABLE CONCURRENTLY t"),
            Some("REINDEX CONCURRENTLY")
        );
        assert_eq!(on("VACUUM (ANALYZE) t"), Some("VACUUM"));
        assert_eq!(on("CREATE INDEX i ON t (a)"), None);
        assert_eq!(on("REFRESH MATERIALIZED VIEW CONCURRENTLY v"), None);
        assert_eq!(on("ANALYZE t"), None);
        assert_eq!(on("CREATE INDEX \"concurrently\" ON t (a)"), None);
        // Read from a prefix: a statement of megabytes costs no more than its first words.
        let long = format!("VACUUM t; -- {}", "x".repeat(200_000));
        assert_eq!(on(&long), Some("VACUUM"));
    }
}
