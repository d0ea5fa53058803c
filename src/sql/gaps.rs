//! Valid PostgreSQL that sqlparser cannot parse. A statement that fails in sqlparser and starts
//! with one of these constructs is `sql-unverified` (a warning), not `sql-parse-error`: crying
//! wolf on valid SQL gets a linter switched off. Each entry has a test below.

use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// (keyword prefix, then keywords that must appear later in the statement, construct name).
const GAPS: &[(&[&str], &[&str], &str)] = &[
    (&["DO"], &[], "DO block"),
    (&["ALTER", "EXTENSION"], &["ADD"], "ALTER EXTENSION … ADD"),
    (&["ALTER", "EXTENSION"], &["DROP"], "ALTER EXTENSION … DROP"),
    (
        &["ALTER", "SEQUENCE"],
        &["OWNED", "BY"],
        "ALTER SEQUENCE … OWNED BY",
    ),
    (
        &["ALTER", "SEQUENCE"],
        &["RENAME", "TO"],
        "ALTER SEQUENCE … RENAME TO",
    ),
    (&["COMMENT", "ON"], &[], "COMMENT ON"),
    (&["CREATE", "EVENT", "TRIGGER"], &[], "CREATE EVENT TRIGGER"),
    (&["DROP", "EVENT", "TRIGGER"], &[], "DROP EVENT TRIGGER"),
    (&["REINDEX"], &[], "REINDEX"),
    (&["ALTER", "TYPE"], &["ATTRIBUTE"], "ALTER TYPE … ATTRIBUTE"),
    (
        &["CREATE", "FUNCTION"],
        &["LANGUAGE", "C"],
        "CREATE FUNCTION … LANGUAGE C",
    ),
    (
        &["CREATE", "OR", "REPLACE", "FUNCTION"],
        &["LANGUAGE", "C"],
        "CREATE FUNCTION … LANGUAGE C",
    ),
];

fn words(dialect: &dyn Dialect, statement: &str) -> Vec<String> {
    Tokenizer::new(dialect, statement)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect()
}

/// Whether `needle` occurs as a contiguous run in `hay`.
fn contains_run(hay: &[String], needle: &[&str]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.iter().zip(needle).all(|(a, b)| a == b))
}

/// The known gap a failed statement starts with, if any (only called on the error path, so it
/// may tokenize the statement again).
pub fn known_gap(dialect: &dyn Dialect, statement: &str) -> Option<&'static str> {
    let w = words(dialect, statement);
    GAPS.iter()
        .find(|(prefix, later, _)| {
            w.len() >= prefix.len()
                && w.iter().zip(prefix.iter()).all(|(a, b)| a == b)
                && contains_run(&w[prefix.len()..], later)
        })
        .map(|(_, _, name)| *name)
}

#[cfg(test)]
mod tests {
    use crate::sql::{analyze, Outcome};

    fn outcome(sql: &str) -> Outcome {
        let a = analyze(sql, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        assert_eq!(a.statements.len(), 1, "{sql}");
        a.statements[0].outcome.clone()
    }

    /// The gap table knows the construct; without the exact grammar the statement is then
    /// `Unverified` (with it, PostgreSQL decides and the table is not consulted).
    fn unverified(sql: &str) {
        assert!(
            super::known_gap(&sqlparser::dialect::PostgreSqlDialect {}, sql).is_some(),
            "{sql}"
        );
        let got = outcome(sql);
        if cfg!(feature = "postgres-exact") {
            assert!(
                matches!(got, Outcome::AstSkipped | Outcome::Parsed),
                "{sql}: {got:?}"
            );
        } else {
            assert!(
                matches!(got, Outcome::Unverified { .. } | Outcome::Parsed),
                "{sql}: {got:?}"
            );
        }
    }

    #[test]
    fn do_block() {
        unverified("DO $$ BEGIN PERFORM 1; END $$;");
    }
    #[test]
    fn alter_extension_add_drop() {
        unverified("ALTER EXTENSION hstore ADD FUNCTION f(int);");
        unverified("ALTER EXTENSION hstore DROP FUNCTION f(int);");
    }
    #[test]
    fn alter_sequence_owned_by_and_rename() {
        unverified("ALTER SEQUENCE s OWNED BY t.id;");
        unverified("ALTER SEQUENCE s RENAME TO s2;");
    }
    #[test]
    fn comment_on() {
        unverified("COMMENT ON AGGREGATE my_agg (int) IS 'x';");
    }
    #[test]
    fn event_triggers() {
        unverified("CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f();");
        unverified("DROP EVENT TRIGGER et;");
    }
    #[test]
    fn alter_type_attribute() {
        unverified("ALTER TYPE job ALTER ATTRIBUTE status TYPE text;");
        unverified("ALTER TYPE job ADD ATTRIBUTE note text, DROP ATTRIBUTE old;");
    }
    #[test]
    fn reindex() {
        unverified("REINDEX INDEX CONCURRENTLY idx;");
    }
    #[test]
    fn c_functions() {
        unverified(
            "CREATE FUNCTION f(int) RETURNS int AS 'MODULE_PATHNAME', 'f' LANGUAGE C STRICT;",
        );
        unverified("CREATE OR REPLACE FUNCTION f(int) RETURNS int AS 'MODULE_PATHNAME', 'f' LANGUAGE C STRICT;");
    }
    #[test]
    fn a_typo_is_still_an_error() {
        assert!(matches!(
            outcome("ALTER TABEL t ADD COLUMN x int;"),
            Outcome::Error { .. }
        ));
        assert!(matches!(
            outcome("CREATE TABLE t (id int,);"),
            Outcome::Error { .. }
        ));
    }
}
