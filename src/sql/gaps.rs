//! Valid PostgreSQL that sqlparser cannot parse. When sqlparser rejects a statement **at the exact
//! spot** where one of these constructs begins its unsupported part, the statement is
//! `sql-unverified` (a warning), not `sql-parse-error`: crying wolf on valid SQL gets a linter
//! switched off. Matching at the failure position, with the construct's full keyword sequence,
//! keeps typos errors: `COMMENT ON EXTENSINO`, `REINDEX TBALE` or a misspelt `RETURNS` fail at a
//! spot no entry describes. Each entry has a test below; `sql-unverified` tells the user to build
//! with PostgreSQL's own grammar (`postgres-exact`), which has no gaps.

use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// One significant token of the failed statement: its upper-cased word (empty for non-words), and
/// whether it is a string or punctuation.
struct Tok {
    word: String,
    text: String,
    is_string: bool,
    offset: usize,
}

/// The tokens around the failure: `at(0)` is the token sqlparser stopped at.
struct Ctx<'a> {
    toks: &'a [Tok],
    e: usize,
}

impl Ctx<'_> {
    /// The upper-cased word `d` tokens from the failure (negative: before it).
    fn w(&self, d: isize) -> &str {
        self.tok(d).map_or("", |t| t.word.as_str())
    }
    fn tok(&self, d: isize) -> Option<&Tok> {
        let i = self.e as isize + d;
        (i >= 0).then(|| self.toks.get(i as usize)).flatten()
    }
    fn text(&self, d: isize) -> &str {
        self.tok(d).map_or("", |t| t.text.as_str())
    }
    fn first(&self, n: usize) -> &str {
        self.toks.get(n).map_or("", |t| t.word.as_str())
    }
    fn any(&self, words: &[&str]) -> bool {
        self.toks.iter().any(|t| words.contains(&t.word.as_str()))
    }
    /// The failure is at token index `i` of the statement.
    fn at(&self, i: usize) -> bool {
        self.e == i
    }
}

type Matcher = fn(&Ctx) -> bool;

/// COMMENT ON object types PostgreSQL has and sqlparser lacks.
const COMMENT_TYPES: &[&str] = &[
    "AGGREGATE",
    "ACCESS",
    "CAST",
    "CONSTRAINT",
    "CONVERSION",
    "EVENT",
    "FOREIGN",
    "LANGUAGE",
    "LARGE",
    "OPERATOR",
    "POLICY",
    "PROCEDURE",
    "PUBLICATION",
    "ROUTINE",
    "RULE",
    "SERVER",
    "STATISTICS",
    "SUBSCRIPTION",
    "TABLESPACE",
    "TEXT",
    "TRANSFORM",
    "TRIGGER",
];

/// What may follow `ALTER SEQUENCE [IF EXISTS] name` in PostgreSQL.
const SEQUENCE_OPTIONS: &[&str] = &[
    "AS",
    "INCREMENT",
    "MINVALUE",
    "MAXVALUE",
    "NO",
    "START",
    "RESTART",
    "CACHE",
    "CYCLE",
    "OWNED",
    "OWNER",
    "RENAME",
    "SET",
    "SEQUENCE",
];

/// (construct, matcher at the failure position).
const GAPS: &[(&str, Matcher)] = &[
    ("DO block", |c| {
        c.at(0) && c.w(0) == "DO" && (c.tok(1).is_some_and(|t| t.is_string) || c.w(1) == "LANGUAGE")
    }),
    ("ALTER EXTENSION", |c| {
        c.at(1)
            && c.first(0) == "ALTER"
            && c.w(0) == "EXTENSION"
            && matches!(
                c.w(2),
                "ADD" | "DROP" | "UPDATE" | "SET" | "OWNER" | "RENAME"
            )
    }),
    ("ALTER SEQUENCE", |c| {
        if !(c.at(1) && c.first(0) == "ALTER" && c.w(0) == "SEQUENCE") {
            return false;
        }
        // Skip `IF EXISTS` and a (qualified) name, then expect an option keyword.
        let mut d = 1;
        if c.w(d) == "IF" && c.w(d + 1) == "EXISTS" {
            d += 2;
        }
        d += 1;
        while c.text(d) == "." {
            d += 2;
        }
        SEQUENCE_OPTIONS.contains(&c.w(d))
    }),
    ("COMMENT ON", |c| {
        c.first(0) == "COMMENT"
            && c.first(1) == "ON"
            && ((c.at(2) && COMMENT_TYPES.contains(&c.w(0)))
                // COMMENT ON FUNCTION f(int): sqlparser stops at the argument list.
                || (c.text(0) == "("
                    && matches!(c.first(2), "FUNCTION" | "PROCEDURE" | "ROUTINE")))
    }),
    ("EVENT TRIGGER", |c| {
        c.at(1)
            && matches!(c.first(0), "CREATE" | "DROP" | "ALTER")
            && c.w(0) == "EVENT"
            && c.w(1) == "TRIGGER"
    }),
    ("REINDEX", |c| {
        c.at(0)
            && c.w(0) == "REINDEX"
            && (c.text(1) == "("
                || matches!(c.w(1), "INDEX" | "TABLE" | "SCHEMA" | "DATABASE" | "SYSTEM"))
    }),
    ("ALTER TYPE … ATTRIBUTE", |c| {
        c.first(0) == "ALTER"
            && c.first(1) == "TYPE"
            && matches!(c.w(0), "ADD" | "DROP" | "ALTER")
            && c.w(1) == "ATTRIBUTE"
    }),
    ("CREATE PROCEDURE", |c| {
        c.first(0) == "CREATE"
            && ((c.w(0) == "PROCEDURE" && (c.at(1) || (c.at(3) && c.first(1) == "OR")))
                || (c.any(&["PROCEDURE"])
                    && matches!(c.first(1), "PROCEDURE" | "OR")
                    && c.tok(0).is_some_and(|t| t.is_string)
                    && c.w(-1) == "AS"))
    }),
    ("NOT NULL table constraint", |c| {
        c.w(-1) == "NULL"
            && c.w(-2) == "NOT"
            && matches!(c.text(-3), "," | "(")
            && !c.w(0).is_empty()
    }),
    ("ALTER CONSTRAINT", |c| {
        c.first(0) == "ALTER" && c.w(-1) == "CONSTRAINT" && c.w(-2) == "ALTER"
    }),
    ("CAST", |c| {
        c.at(1)
            && matches!(c.first(0), "CREATE" | "DROP")
            && c.w(0) == "CAST"
            && (c.text(1) == "(" || (c.w(1) == "IF" && c.w(2) == "EXISTS" && c.text(3) == "("))
    }),
    ("SQL-standard function body (BEGIN ATOMIC)", |c| {
        c.first(0) == "CREATE"
            && c.toks
                .windows(2)
                .any(|w| w[0].word == "BEGIN" && w[1].word == "ATOMIC")
    }),
    // `CREATE OPERATOR @> (…)`, `DROP OPERATOR IF EXISTS && (…)`: any operator symbol.
    ("OPERATOR", |c| {
        let symbol = |t: &Tok| {
            t.word.is_empty() && !t.is_string && !matches!(t.text.as_str(), "(" | ")" | ";" | ",")
        };
        if !matches!(c.first(0), "CREATE" | "DROP" | "ALTER" | "COMMENT") {
            return false;
        }
        // The failure lies in the run of symbol tokens right after OPERATOR (`!&&` is `!`, `&&`).
        let Some(k) = c.toks[..c.e]
            .iter()
            .rposition(|t| t.word == "OPERATOR" || t.word == "EXISTS" || t.text == ".")
        else {
            return false;
        };
        c.e > k && c.toks[k + 1..=c.e].iter().all(symbol)
    }),
    ("ALTER LANGUAGE", |c| {
        c.at(1) && c.first(0) == "ALTER" && c.w(0) == "LANGUAGE"
    }),
    ("OPERATOR CLASS/FAMILY", |c| {
        matches!(c.first(0), "CREATE" | "ALTER" | "DROP")
            && c.first(1) == "OPERATOR"
            && matches!(c.first(2), "CLASS" | "FAMILY")
            && c.e >= 2
    }),
    ("ALTER DOMAIN", |c| {
        c.at(1) && c.first(0) == "ALTER" && c.w(0) == "DOMAIN"
    }),
    // Old operator options (`SORT1 = <`).
    ("CREATE OPERATOR options", |c| {
        c.first(0) == "CREATE"
            && c.first(1) == "OPERATOR"
            && matches!(c.w(0), "SORT1" | "SORT2" | "LTCMP" | "GTCMP")
    }),
    ("ALTER TYPE … SET (…)", |c| {
        c.first(0) == "ALTER" && c.first(1) == "TYPE" && c.w(0) == "SET" && c.text(1) == "("
    }),
    // `CREATE FUNCTION f(name OUT type)`: the mode after the parameter name.
    ("parameter mode after its name", |c| {
        c.first(0) == "CREATE"
            && c.any(&["FUNCTION", "PROCEDURE", "AGGREGATE"])
            && matches!(c.w(-1), "OUT" | "IN" | "INOUT" | "VARIADIC")
    }),
    // `CREATE TYPE t (INTERNALLENGTH = -1, …)`: a negative option value.
    ("CREATE TYPE options", |c| {
        c.first(0) == "CREATE" && c.first(1) == "TYPE" && c.text(0) == "-" && c.text(-1) == "="
    }),
    ("COMMENT … IS $$…$$", |c| {
        c.first(0) == "COMMENT" && c.w(-1) == "IS" && c.tok(0).is_some_and(|t| t.is_string)
    }),
    ("CREATE TRUSTED/PROCEDURAL LANGUAGE", |c| {
        c.first(0) == "CREATE"
            && matches!(c.w(0), "TRUSTED" | "PROCEDURAL" | "LANGUAGE")
            && matches!(c.w(-1), "CREATE" | "REPLACE" | "TRUSTED")
    }),
    ("ALTER TEXT SEARCH … MAPPING", |c| {
        c.first(0) == "ALTER"
            && c.first(1) == "TEXT"
            && c.first(2) == "SEARCH"
            && matches!(c.w(0), "ADD" | "ALTER" | "DROP")
            && c.w(1) == "MAPPING"
    }),
    ("DROP AGGREGATE", |c| {
        c.at(1) && c.first(0) == "DROP" && c.w(0) == "AGGREGATE"
    }),
    ("function ROWS/COST/SUPPORT/WINDOW", |c| {
        c.first(0) == "CREATE"
            && c.any(&["FUNCTION"])
            && matches!(
                c.w(0),
                "ROWS" | "COST" | "SUPPORT" | "WINDOW" | "LEAKPROOF" | "TRANSFORM"
            )
            && c.tok(1).is_some()
    }),
    ("DROP INDEX CONCURRENTLY IF EXISTS", |c| {
        c.first(0) == "DROP" && c.w(-1) == "CONCURRENTLY" && c.w(0) == "IF" && c.w(1) == "EXISTS"
    }),
    ("ACCESS METHOD", |c| {
        c.at(1)
            && matches!(c.first(0), "CREATE" | "DROP")
            && c.w(0) == "ACCESS"
            && c.w(1) == "METHOD"
    }),
    ("STATISTICS", |c| {
        c.at(1) && matches!(c.first(0), "CREATE" | "DROP" | "ALTER") && c.w(0) == "STATISTICS"
    }),
    ("ALTER COLUMN … SET/RESET storage parameters", |c| {
        c.first(0) == "ALTER"
            && matches!(c.w(0), "SET" | "RESET")
            && (c.text(1) == "(" || matches!(c.w(1), "STATISTICS" | "STORAGE" | "COMPRESSION"))
            && c.any(&["COLUMN"])
    }),
    ("PUBLICATION/SUBSCRIPTION", |c| {
        c.at(1)
            && matches!(c.first(0), "CREATE" | "DROP" | "ALTER")
            && matches!(c.w(0), "PUBLICATION" | "SUBSCRIPTION")
    }),
    ("ALTER TABLE … SET SCHEMA/TABLESPACE/LOGGED", |c| {
        c.first(0) == "ALTER"
            && c.w(-1) == "SET"
            && matches!(
                c.w(0),
                "SCHEMA" | "TABLESPACE" | "LOGGED" | "UNLOGGED" | "ACCESS" | "WITHOUT"
            )
    }),
    ("WITH [NO] DATA", |c| {
        c.first(0) == "CREATE"
            && c.w(0) == "WITH"
            && (c.w(1) == "DATA" || (c.w(1) == "NO" && c.w(2) == "DATA"))
    }),
    ("WITH CHECK OPTION", |c| {
        c.first(0) == "CREATE"
            && c.w(0) == "WITH"
            && (c.w(1) == "CHECK" || (matches!(c.w(1), "LOCAL" | "CASCADED") && c.w(2) == "CHECK"))
    }),
    ("VACUUM/ANALYZE options", |c| {
        c.at(1) && matches!(c.first(0), "VACUUM" | "ANALYZE") && c.text(0) == "("
    }),
    ("CLUSTER", |c| c.at(0) && c.w(0) == "CLUSTER"),
    ("LIKE … INCLUDING/EXCLUDING", |c| {
        c.first(0) == "CREATE" && matches!(c.w(0), "INCLUDING" | "EXCLUDING") && c.any(&["LIKE"])
    }),
    ("ON ONLY", |c| {
        c.first(0) == "CREATE" && c.w(-1) == "ONLY" && c.w(-2) == "ON"
    }),
    ("SECURITY LABEL", |c| {
        c.at(0) && c.w(0) == "SECURITY" && c.w(1) == "LABEL"
    }),
    // sqlparser reads `SELECT top …` as T-SQL's TOP; in PostgreSQL `top` is a column name.
    ("a column named top", |c| {
        c.w(-1) == "TOP" && c.w(-2) == "SELECT" && c.tok(0).is_some()
    }),
];

fn tokens(dialect: &dyn Dialect, statement: &str) -> Vec<Tok> {
    let Ok(tokens) = Tokenizer::new(dialect, statement).tokenize_with_location() else {
        return Vec::new();
    };
    let lines = crate::sql::LineIndex::new(statement);
    tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .map(|t| {
            let offset = lines.offset(t.span.start.line, t.span.start.column);
            let (word, is_string) = match &t.token {
                Token::Word(w) if w.quote_style.is_none() => (w.value.to_ascii_uppercase(), false),
                Token::SingleQuotedString(_)
                | Token::DollarQuotedString(_)
                | Token::EscapedStringLiteral(_)
                | Token::NationalStringLiteral(_) => (String::new(), true),
                _ => (String::new(), false),
            };
            Tok {
                text: t.token.to_string(),
                word,
                is_string,
                offset,
            }
        })
        .collect()
}

/// The known gap that explains a failure at byte `error_at` of `statement` (only called on the
/// error path, so it may tokenize the statement again).
pub fn known_gap(dialect: &dyn Dialect, statement: &str, error_at: usize) -> Option<&'static str> {
    let toks = tokens(dialect, statement);
    let e = toks.iter().position(|t| t.offset >= error_at)?;
    let ctx = Ctx { toks: &toks, e };
    GAPS.iter().find(|(_, m)| m(&ctx)).map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use crate::sql::{analyze, Outcome};

    fn outcome(sql: &str) -> Outcome {
        let a = analyze(sql, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        assert_eq!(a.statements.len(), 1, "{sql}");
        a.statements[0].outcome.clone()
    }

    /// Valid PostgreSQL: never an error. Without the exact grammar it is `Unverified` (or parses);
    /// with it, PostgreSQL decides and the table is not consulted.
    fn valid(sql: &str) {
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

    fn error(sql: &str) {
        let got = outcome(sql);
        assert!(matches!(got, Outcome::Error { .. }), "{sql}: {got:?}");
    }

    #[test]
    fn postgres_constructs_sqlparser_lacks_are_never_errors() {
        for sql in [
            "DO $$ BEGIN PERFORM 1; END $$;",
            "DO LANGUAGE plpgsql $$ BEGIN PERFORM 1; END $$;",
            "ALTER EXTENSION hstore ADD FUNCTION f(int);",
            "ALTER EXTENSION hstore DROP FUNCTION f(int);",
            "ALTER EXTENSION hstore UPDATE TO '2.0';",
            "ALTER SEQUENCE s OWNED BY t.id;",
            "ALTER SEQUENCE public.s RENAME TO s2;",
            "ALTER SEQUENCE IF EXISTS s AS bigint;",
            "COMMENT ON AGGREGATE my_agg (int) IS 'x';",
            "COMMENT ON TRIGGER tr ON t IS 'x';",
            "COMMENT ON CONSTRAINT c ON t IS 'x';",
            "COMMENT ON POLICY p ON t IS 'x';",
            "COMMENT ON FUNCTION f(int) IS 'x';",
            "CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f();",
            "DROP EVENT TRIGGER et;",
            "REINDEX INDEX CONCURRENTLY idx;",
            "REINDEX (VERBOSE) TABLE t;",
            "ALTER TYPE job ALTER ATTRIBUTE status TYPE text;",
            "ALTER TYPE job ADD ATTRIBUTE note text, DROP ATTRIBUTE old;",
            "CREATE FUNCTION f(int) RETURNS int AS 'MODULE_PATHNAME', 'f' LANGUAGE C STRICT;",
            "CREATE PROCEDURE p(a int) LANGUAGE sql AS $$ SELECT 1 $$;",
            "CREATE OR REPLACE PROCEDURE p(a int) LANGUAGE plpgsql AS $$ BEGIN END $$;",
            "CREATE TABLE t (a int, NOT NULL a);",
            "ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE;",
            "CREATE CAST (int AS text) WITH FUNCTION f(int);",
            "DROP AGGREGATE my_agg(int);",
            "CREATE FUNCTION f() RETURNS SETOF int LANGUAGE sql ROWS 10 COST 5 AS $$ SELECT 1 $$;",
            "DROP INDEX CONCURRENTLY IF EXISTS i;",
            "CREATE ACCESS METHOD am TYPE TABLE HANDLER h;",
            "DROP ACCESS METHOD am;",
            "CREATE STATISTICS s (dependencies) ON a, b FROM t;",
            "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 100);",
            "ALTER TABLE t ALTER COLUMN a SET STATISTICS 100;",
            "CREATE PUBLICATION p FOR TABLE t;",
            "ALTER TABLE t SET SCHEMA s;",
            "CREATE MATERIALIZED VIEW v AS SELECT 1 WITH NO DATA;",
            "CREATE VIEW v AS SELECT 1 FROM t WITH CHECK OPTION;",
            "VACUUM (ANALYZE) t;",
            "CLUSTER t USING i;",
            "CREATE TABLE t2 (LIKE t INCLUDING ALL);",
            "CREATE INDEX i ON ONLY t (a);",
            "SECURITY LABEL FOR selinux ON TABLE t IS 'x';",
            "SELECT top FROM t LIMIT 1;",
            "DROP CAST IF EXISTS (text AS geometry);",
            "CREATE OPERATOR @> (LEFTARG = box, RIGHTARG = box, PROCEDURE = f);",
            "CREATE OPERATOR < (LEFTARG = ip4, RIGHTARG = ip4, PROCEDURE = f, SORT1 = <, SORT2 = <);",
            "ALTER TYPE hstore SET (SEND = hstore_send);",
            "CREATE FUNCTION f(blkno OUT bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT 1 $$;",
            "CREATE TYPE hstore (INTERNALLENGTH = -1, INPUT = hstore_in, OUTPUT = hstore_out);",
            "COMMENT ON COLUMN t.a IS $$The ordering$$;",
            "CREATE TRUSTED LANGUAGE plpgsql HANDLER plpgsql_call_handler;",
            "ALTER TEXT SEARCH CONFIGURATION c ADD MAPPING FOR word WITH simple;",
            "CREATE FUNCTION f(int) RETURNS int AS 'MODULE_PATHNAME', 'f' LANGUAGE c IMMUTABLE STRICT WINDOW PARALLEL SAFE;",
            "CREATE OPERATOR CLASS gist_ops FOR TYPE geometry USING GIST AS STORAGE box2df, OPERATOR 1 << , FUNCTION 1 f(internal);",
            "ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0);",
            "CREATE OPERATOR !&& (LEFTARG = scircle, RIGHTARG = scircle, PROCEDURE = f);",
            "CREATE OPERATOR ^@> (LEFTARG = ltree, RIGHTARG = ltree, PROCEDURE = f);",
            "ALTER LANGUAGE plpgsql OWNER TO postgres;",
            "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN 1 END; END;",
        ] {
            valid(sql);
        }
    }

    #[test]
    fn a_typo_is_never_downgraded() {
        for sql in [
            "ALTER TABEL t ADD COLUMN x int;",
            "CREATE TABLE t (id int,);",
            "COMMENT ON EXTENSINO hstore IS 'x';",
            "REINDEX TBALE t;",
            "CREATE FUNCTION f(int) RETRUNS int AS 'MODULE_PATHNAME', 'f' LANGUAGE C STRICT;",
            "ALTER SEQUENCE s OWNDE BY t.id;",
            "ALTER EXTENSION hstore ADDD FUNCTION f(int);",
            "CLUSTR t USING i;",
            "CREATE STATISTIC s ON a, b FROM t;",
            "DO;",
        ] {
            error(sql);
        }
    }
}
