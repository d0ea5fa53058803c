//! Valid PostgreSQL that sqlparser cannot parse. When sqlparser rejects a statement **at the exact
//! spot** where one of these constructs begins its unsupported part, the statement is
//! `sql-unverified` (a warning), not `sql-parse-error`: crying wolf on valid SQL gets a linter
//! switched off. Matching at the failure position, with the construct's full keyword sequence,
//! keeps typos errors: `COMMENT ON EXTENSINO`, `REINDEX TBALE` or a misspelt `RETURNS` fail at a
//! spot no entry describes. Each entry has a test below; `sql-unverified` tells the user to build
//! with PostgreSQL's own grammar (`postgres-exact`), which has no gaps.

use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// One significant token of the failed statement: its upper-cased word (empty for non-words), and
/// whether it is a string or punctuation.
struct Tok {
    word: String,
    text: String,
    is_string: bool,
    offset: usize,
}

impl Tok {
    /// An operator symbol (or part of one): punctuation other than brackets, `;` and `,`.
    fn is_symbol(&self) -> bool {
        self.word.is_empty()
            && !self.is_string
            && !matches!(self.text.as_str(), "(" | ")" | ";" | ",")
    }

    /// The token's byte range, when its source text is its printed text (symbols, unquoted
    /// words): only such tokens are rewritten.
    fn source(&self, statement: &str) -> Option<std::ops::Range<usize>> {
        let end = self.offset + self.text.len();
        (statement.get(self.offset..end) == Some(self.text.as_str())).then_some(self.offset..end)
    }
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

/// `CREATE/ALTER ROLE` options (PostgreSQL's `AlterOptRoleElem` and `CreateOptRoleElem`).
const ROLE_OPTIONS: &[&str] = &[
    "SUPERUSER",
    "NOSUPERUSER",
    "CREATEDB",
    "NOCREATEDB",
    "CREATEROLE",
    "NOCREATEROLE",
    "INHERIT",
    "NOINHERIT",
    "LOGIN",
    "NOLOGIN",
    "REPLICATION",
    "NOREPLICATION",
    "BYPASSRLS",
    "NOBYPASSRLS",
    "CONNECTION",
    "PASSWORD",
    "ENCRYPTED",
    "VALID",
    "IN",
    "ROLE",
    "ADMIN",
    "USER",
    "SYSID",
];

/// What may follow `CREATE` inside `CREATE SCHEMA s …` (PostgreSQL's `schema_stmt`: tables,
/// indexes, sequences, triggers, views; `GRANT` besides). Not allowed with `IF NOT EXISTS`.
const SCHEMA_ELEMENTS: &[&str] = &[
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "INDEX",
    "UNIQUE",
    "SEQUENCE",
    "TRIGGER",
    "VIEW",
    "OR",
    "RECURSIVE",
];

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
            && matches!(c.w(0), "ADD" | "DROP" | "ALTER" | "RENAME")
            && c.w(1) == "ATTRIBUTE"
    }),
    ("ALTER TYPE … SET SCHEMA", |c| {
        c.first(0) == "ALTER" && c.first(1) == "TYPE" && c.w(0) == "SET" && c.w(1) == "SCHEMA"
    }),
    // `CREATE DOMAIN d integer NOT NULL`: `AS` is optional. The type must be followed by the end
    // or a domain constraint, so `CREATE DOMAIN d AZ integer` stays an error.
    ("CREATE DOMAIN without AS", |c| {
        if !(c.first(0) == "CREATE" && c.first(1) == "DOMAIN" && c.w(-1) != "AS") {
            return false;
        }
        // The failure is at the token after the (qualified) name.
        let mut k = 2;
        while c.toks.get(k + 1).is_some_and(|t| t.text == ".") {
            k += 2;
        }
        c.at(k + 1)
            && !c.w(0).is_empty()
            && (c.tok(1).is_none()
                || matches!(c.text(1), ";" | "(" | "[")
                || matches!(
                    c.w(1),
                    "NOT" | "NULL" | "CHECK" | "DEFAULT" | "CONSTRAINT" | "COLLATE"
                ))
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
        (c.w(-1) == "NULL"
            && c.w(-2) == "NOT"
            && (matches!(c.text(-3), "," | "(") || c.w(-4) == "CONSTRAINT")
            && !c.w(0).is_empty())
            // `[ADD] CONSTRAINT c NOT NULL col` (PostgreSQL 18): sqlparser stops at NOT.
            || (c.w(0) == "NOT" && c.w(1) == "NULL" && c.w(-2) == "CONSTRAINT" && !c.w(2).is_empty())
    }),
    // `EXECUTE PROCEDURE f(2, 'x')`: trigger arguments are literals, not parameter types.
    ("trigger function arguments", |c| {
        c.first(0) == "CREATE"
            && c.any(&["TRIGGER"])
            && c.toks[..c.e].windows(2).any(|w| {
                w[0].word == "EXECUTE" && matches!(w[1].word.as_str(), "PROCEDURE" | "FUNCTION")
            })
            && matches!(c.text(-1), "(" | ",")
            && c.tok(0).is_some_and(|t| {
                t.is_string || t.text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            })
    }),
    ("DROP INDEX CONCURRENTLY", |c| {
        c.at(3)
            && c.first(0) == "DROP"
            && c.first(1) == "INDEX"
            && c.w(-1) == "CONCURRENTLY"
            && !c.w(0).is_empty()
    }),
    ("ALTER INDEX IF EXISTS", |c| {
        c.first(0) == "ALTER" && c.first(1) == "INDEX" && c.w(-1) == "IF" && c.w(0) == "EXISTS"
    }),
    ("role options", |c| {
        matches!(c.first(0), "CREATE" | "ALTER")
            && matches!(c.first(1), "USER" | "ROLE" | "GROUP")
            && ROLE_OPTIONS.contains(&c.w(0))
    }),
    // `ALTER ROLE r SET search_path TO a, b` / `ALTER DATABASE d SET …`: a list of values.
    ("SET … TO a list", |c| {
        c.first(0) == "ALTER"
            && matches!(c.first(1), "ROLE" | "USER" | "DATABASE")
            && c.text(0) == ","
            && c.any(&["SET"])
            && c.toks[..c.e]
                .iter()
                .any(|t| t.word == "TO" || t.text == "=")
    }),
    ("ALTER DATABASE", |c| {
        c.at(1) && c.first(0) == "ALTER" && c.w(0) == "DATABASE"
    }),
    ("DROP FOREIGN DATA WRAPPER / TEXT SEARCH / LANGUAGE", |c| {
        c.at(1)
            && c.first(0) == "DROP"
            && ((c.w(0) == "FOREIGN" && c.w(1) == "DATA" && c.w(2) == "WRAPPER")
                || (c.w(0) == "TEXT"
                    && c.w(1) == "SEARCH"
                    && matches!(
                        c.w(2),
                        "CONFIGURATION" | "DICTIONARY" | "PARSER" | "TEMPLATE"
                    ))
                || c.w(0) == "LANGUAGE"
                || (c.w(0) == "PROCEDURAL" && c.w(1) == "LANGUAGE"))
    }),
    ("ANALYZE/VACUUM of several tables", |c| {
        matches!(c.first(0), "ANALYZE" | "ANALYSE" | "VACUUM")
            && c.text(0) == ","
            && !c.w(1).is_empty()
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
        c.e > k && c.toks[k + 1..=c.e].iter().all(Tok::is_symbol)
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
    // `ALTER [COLUMN] c SET (n_distinct = …)`: COLUMN is optional, so look right before the name.
    ("ALTER COLUMN … SET/RESET storage parameters", |c| {
        c.first(0) == "ALTER"
            && matches!(c.w(0), "SET" | "RESET")
            && matches!(c.w(1), "STATISTICS" | "STORAGE" | "COMPRESSION")
            && (c.w(-2) == "ALTER" || (c.w(-2) == "COLUMN" && c.w(-3) == "ALTER"))
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
    ("ALTER TABLE … CLUSTER ON", |c| {
        c.first(0) == "ALTER" && c.first(1) == "TABLE" && c.w(0) == "CLUSTER" && c.w(1) == "ON"
    }),
    // `CREATE SCHEMA s CREATE TABLE … GRANT …`: schema elements, which sqlparser lacks.
    ("CREATE SCHEMA … schema elements", |c| {
        c.first(0) == "CREATE"
            && c.first(1) == "SCHEMA"
            && c.first(2) != "IF"
            && (c.w(0) == "GRANT" || (c.w(0) == "CREATE" && SCHEMA_ELEMENTS.contains(&c.w(1))))
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
    // Whatever construct it is, PostgreSQL's grammar balances parentheses and never takes a `,`
    // right before a `)`: a statement that breaks either has a real error, not a gap.
    let mut depth = 0i64;
    for (k, t) in toks.iter().enumerate() {
        match t.text.as_str() {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth < 0 || (k > 0 && toks[k - 1].text == ",") {
                    return None;
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    let e = toks.iter().position(|t| t.offset >= error_at)?;
    let ctx = Ctx { toks: &toks, e };
    GAPS.iter().find(|(_, m)| m(&ctx)).map(|(name, _)| *name)
}

/// Words that start a statement and, first on their line at the top level of a statement, are
/// hardly ever a clause of the one before (`SET`, `WITH`, `VALUES` are left out: they are).
const STATEMENT_STARTS: &[&str] = &[
    "ALTER", "ANALYZE", "COMMENT", "COMMIT", "CREATE", "DELETE", "DO", "DROP", "GRANT", "INSERT",
    "REFRESH", "REINDEX", "REVOKE", "SELECT", "TRUNCATE", "UPDATE", "VACUUM",
];

/// Statements that never take a `SET` clause at their top level once they have their action
/// (`ALTER EXTENSION e DROP …` and the rest below): there a line starting with `SET` is the
/// next statement, run into this one without its `;`.
fn set_starts_a_statement(toks: &[Tok], k: usize) -> bool {
    let w = |i: usize| toks.get(i).map_or("", |t| t.word.as_str());
    match (w(0), w(1)) {
        ("ALTER", "EXTENSION") => (2..k).any(|i| matches!(w(i), "ADD" | "DROP")),
        ("ALTER", "SEQUENCE") => (2..k).any(|i| w(i) == "OWNED"),
        (first, _) => matches!(
            first,
            "DROP"
                | "COMMENT"
                | "REINDEX"
                | "CLUSTER"
                | "GRANT"
                | "REVOKE"
                | "TRUNCATE"
                | "ANALYZE"
                | "VACUUM"
                | "REFRESH"
        ),
    }
}

/// Words after which a statement legitimately goes on with another statement's words: a
/// subquery or action (`AS SELECT`, `DO INSTEAD INSERT`), a list (`INSERT,\nDELETE`), an event
/// (`BEFORE INSERT OR\nUPDATE`, `ON DELETE`).
const CONTINUES: &[&str] = &[
    "AS",
    "DO",
    "INSTEAD",
    "ALSO",
    "ATOMIC",
    "THEN",
    "ELSE",
    "LOOP",
    "BEGIN",
    "FOR",
    "EXECUTE",
    "EXPLAIN",
    "ANALYZE",
    "VERBOSE",
    "OR",
    "OF",
    "BEFORE",
    "AFTER",
    "ON",
    "GRANT",
    "REVOKE",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "ALL",
    "DISTINCT",
    "VACUUM",
    ",",
];

/// Statements whose elements are other statements' words at the top level: `CREATE SCHEMA s
/// CREATE TABLE …`, `ALTER DEFAULT PRIVILEGES … GRANT …`, `ALTER EXTENSION e DROP FUNCTION …`,
/// `ALTER OPERATOR FAMILY … DROP OPERATOR …`, `INSERT INTO t SELECT …`, `WITH … SELECT …`.
fn has_statement_elements(toks: &[Tok], k: usize) -> bool {
    let w = |i: usize| toks.get(i).map_or("", |t| t.word.as_str());
    let candidate = w(k);
    match (w(0), w(1)) {
        ("CREATE", "SCHEMA") => {
            w(2) != "IF"
                && (candidate == "GRANT"
                    || (candidate == "CREATE" && SCHEMA_ELEMENTS.contains(&w(k + 1))))
        }
        ("ALTER", "DEFAULT") => matches!(candidate, "GRANT" | "REVOKE"),
        // `ALTER EXTENSION e` / `ALTER DOMAIN d` … newline `DROP …`: the statement's action,
        // unless it already had one (`… DROP FUNCTION f(int)` newline `DROP FUNCTION …`).
        // Only objects with a DROP action (`ALTER SEQUENCE … OWNED BY …` has none).
        (
            "ALTER",
            "EXTENSION" | "DOMAIN" | "TABLE" | "FOREIGN" | "TYPE" | "OPERATOR" | "TEXT"
            | "PUBLICATION" | "VIEW" | "MATERIALIZED" | "INDEX",
        ) => {
            const ACTIONS: &[&str] = &[
                "ADD", "DROP", "RENAME", "ENABLE", "DISABLE", "OWNER", "SET", "RESET", "VALIDATE",
                "UPDATE", "ATTACH", "DETACH", "INHERIT", "OPTIONS", "ALTER", "OWNED",
            ];
            candidate == "DROP" && !(2..k).any(|i| ACTIONS.contains(&w(i)))
        }
        // A DO block (`DO $$…$$`, `DO LANGUAGE plpgsql $$…$$`) starts a statement; `DO INSTEAD`
        // and `ON CONFLICT DO` go on with one.
        _ if candidate == "DO" => {
            !(toks.get(k + 1).is_some_and(|t| t.is_string) || w(k + 1) == "LANGUAGE")
        }
        ("INSERT" | "WITH", _) => matches!(candidate, "SELECT" | "INSERT" | "UPDATE" | "DELETE"),
        _ => false,
    }
}

/// A known gap must not hide a missing `;`: when sqlparser stopped at a construct it lacks,
/// everything after that spot went unchecked, including a next statement run into this one
/// (`CREATE CAST (a AS b) WITH FUNCTION f(a)` + newline + `CREATE CAST …`). The offset of a line
/// that, after the failure at `failed_at`, starts a complete statement of its own (one that parses,
/// or is itself a known gap), when there is one.
pub fn run_on_statement(dialect: &dyn Dialect, statement: &str, failed_at: usize) -> Option<usize> {
    let toks = tokens(dialect, statement);
    let mut depth = 0i64;
    for (k, t) in toks.iter().enumerate() {
        match t.text.as_str() {
            "(" => depth += 1,
            ")" => depth -= 1,
            _ => {}
        }
        let line_start = statement[..t.offset].rfind('\n').map_or(0, |n| n + 1);
        // At or after the failure: sqlparser often stops right at the next statement
        // ("expected end of statement") when a gap entry matches the whole construct.
        if k == 0
            || depth != 0
            || t.offset < failed_at
            || !statement[line_start..t.offset].trim().is_empty()
            || !(STATEMENT_STARTS.contains(&t.word.as_str())
                || (t.word == "SET" && set_starts_a_statement(&toks, k)))
            || CONTINUES.contains(&toks[k - 1].word.as_str())
            || CONTINUES.contains(&toks[k - 1].text.as_str())
            || has_statement_elements(&toks, k)
        {
            continue;
        }
        if super::complete_statement(dialect, &statement[t.offset..]) {
            return Some(t.offset);
        }
    }
    None
}

/// Function options sqlparser lacks (`COST n`, `ROWS n`, `SUPPORT f`, `WINDOW`, `[NOT]
/// LEAKPROOF`) blanked out with spaces, and parameters named like a type keyword renamed,
/// keeping every position: the rest of a
/// `CREATE FUNCTION` is then checked. Only the exact keyword followed by what it takes is
/// blanked, so `COTS 100` stays an error. `None` when there is nothing to blank.
pub fn normalized(dialect: &dyn Dialect, statement: &str) -> Option<String> {
    let toks = tokens(dialect, statement);
    let word = |k: usize| toks.get(k).map_or("", |t| t.word.as_str());
    let function = word(0) == "CREATE"
        && (word(1) == "FUNCTION"
            || (word(1) == "OR" && word(2) == "REPLACE" && word(3) == "FUNCTION"));
    if !function {
        return None;
    }
    let mut out = statement.as_bytes().to_vec();
    let mut blanked = false;
    let mut renamed = false;
    let mut depth = 0usize;
    let mut blank = |from: &Tok, to: &Tok, out: &mut Vec<u8>| {
        if let Some(r) = to.source(statement) {
            out[from.offset..r.end].fill(b' ');
            blanked = true;
        }
    };
    let is_number =
        |t: &Tok| !t.text.is_empty() && t.text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let mut k = 0;
    while k < toks.len() {
        match toks[k].text.as_str() {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            _ => {}
        }
        // A parameter named like a type keyword (`f(enum text)`): renamed in place (`xnum`),
        // so sqlparser reads a name and the rest of the statement is checked.
        let param_start = k > 0 && matches!(toks[k - 1].text.as_str(), "(" | ",");
        if depth == 1
            && param_start
            && matches!(
                toks[k].word.as_str(),
                "ENUM" | "SET" | "JSON" | "BIT" | "XML"
            )
            && !word(k + 1).is_empty()
        {
            if let Some(r) = toks[k].source(statement) {
                out[r.start] = b'x';
                renamed = true;
            }
        }
        if depth == 0 && !toks[k].is_string {
            match toks[k].word.as_str() {
                "COST" | "ROWS" if toks.get(k + 1).is_some_and(is_number) => {
                    blank(&toks[k], &toks[k + 1], &mut out);
                    k += 2;
                    continue;
                }
                "SUPPORT" if toks.get(k + 1).is_some_and(|t| !t.word.is_empty()) => {
                    let mut last = k + 1;
                    while !word(last + 2).is_empty()
                        && toks.get(last + 1).is_some_and(|t| t.text == ".")
                    {
                        last += 2;
                    }
                    blank(&toks[k], &toks[last], &mut out);
                    k = last + 1;
                    continue;
                }
                "WINDOW" | "LEAKPROOF" => {
                    let from = if k > 0 && word(k - 1) == "NOT" && toks[k].word == "LEAKPROOF" {
                        k - 1
                    } else {
                        k
                    };
                    blank(&toks[from], &toks[k], &mut out);
                }
                _ => {}
            }
        }
        k += 1;
    }
    if !(blanked || renamed) {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Clauses PostgreSQL accepts and ignores but sqlparser lacks, dropped from a statement's
/// (significant) tokens before it is parsed: every other token keeps its position, so the rest
/// is parsed and read as written (the schema replay sees the table), where a `sql-unverified`
/// would leave it unknown. Today one clause: `WITHOUT OIDS` right after the `)` that closes a
/// `CREATE [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE`'s column list (or its `INHERITS (…)`
/// or `PARTITION BY …(…)`), a no-op kept for old schemas since PostgreSQL 12. Anywhere else, or
/// after a `WITH (…)` (PostgreSQL takes one or the other), the words are left for the parser to
/// reject.
pub fn drop_ignored_clauses(tokens: &mut Vec<TokenWithSpan>) {
    let word = |t: Option<&TokenWithSpan>, w: &str| matches!(t.map(|t| &t.token), Some(Token::Word(x)) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    if !word(tokens.first(), "CREATE") {
        return;
    }
    let Some(table) = tokens.iter().take(5).position(|t| word(Some(t), "TABLE")) else {
        return;
    };
    let modifiers = ["GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED"];
    if !tokens[1..table]
        .iter()
        .all(|t| modifiers.iter().any(|m| word(Some(t), m)))
    {
        return;
    }
    let mut open: Vec<usize> = Vec::new();
    let mut cut = None;
    for (k, t) in tokens.iter().enumerate().skip(table + 1) {
        match t.token {
            Token::LParen => open.push(k),
            Token::RParen => {
                let from = open.pop();
                let after_with = from.is_some_and(|o| word(tokens.get(o.wrapping_sub(1)), "WITH"));
                if open.is_empty()
                    && !after_with
                    && word(tokens.get(k + 1), "WITHOUT")
                    && word(tokens.get(k + 2), "OIDS")
                {
                    cut = Some(k + 1);
                    break;
                }
            }
            _ => {}
        }
    }
    if let Some(at) = cut {
        tokens.drain(at..at + 2);
    }
}

/// Constructs sqlparser lacks whose failure it reports far from where they stand (it backtracks
/// out of a derived table and reports its attempt at a nested join), or that are followed by more
/// SQL worth checking: `(row).*`, the SQL-standard `substring(x SIMILAR p ESCAPE e)` and a column
/// definition list `FROM f() AS (x int, y text)`. `rewritten` replaces each with what sqlparser
/// knows (`(row)`, `substring(x FROM p FOR e)`, `AS _(x, y)`); the caller parses the result
/// again and only if all of it parses is the statement `sql-unverified`, so a typo elsewhere in it
/// stays an error.
pub fn rewritten(dialect: &dyn Dialect, statement: &str) -> Option<(String, &'static str)> {
    let mut r = Rewrite::new(statement, tokens(dialect, statement));
    r.row_expansion_and_substring();
    r.column_definition_lists();
    let create = r.word(0) == "CREATE";
    let procedure = create && (r.word(1) == "PROCEDURE" || r.word(3) == "PROCEDURE");
    let operator = create && r.word(1) == "OPERATOR";
    let alter = r.word(0) == "ALTER";
    if procedure {
        r.procedure_defaults();
    }
    if operator {
        r.operator_names();
    }
    if alter {
        r.column_storage();
    }
    r.apply()
}

/// The edits [`rewritten`] makes to one statement, over its tokens with their parentheses
/// matched.
struct Rewrite<'s> {
    statement: &'s str,
    toks: Vec<Tok>,
    /// For each `(`, its matching `)`.
    matching: Vec<Option<usize>>,
    /// For each token, its innermost enclosing `(`.
    parent: Vec<Option<usize>>,
    /// (byte range, replacement), applied in order; overlapping ones keep the first.
    edits: Vec<(std::ops::Range<usize>, String)>,
    what: Option<&'static str>,
}

impl<'s> Rewrite<'s> {
    /// Matches parentheses and finds each token's innermost enclosing `(`, in one pass: every
    /// lookup is then constant time, so no statement makes this quadratic.
    fn new(statement: &'s str, toks: Vec<Tok>) -> Self {
        let mut matching: Vec<Option<usize>> = vec![None; toks.len()];
        let mut parent: Vec<Option<usize>> = vec![None; toks.len()];
        let mut stack: Vec<usize> = Vec::new();
        for (k, t) in toks.iter().enumerate() {
            if t.text == ")" {
                if let Some(o) = stack.pop() {
                    matching[o] = Some(k);
                }
            }
            parent[k] = stack.last().copied();
            if t.text == "(" {
                stack.push(k);
            }
        }
        Rewrite {
            statement,
            toks,
            matching,
            parent,
            edits: Vec::new(),
            what: None,
        }
    }

    fn closing(&self, open: usize) -> Option<usize> {
        self.matching.get(open).copied().flatten()
    }

    fn word(&self, k: usize) -> &str {
        self.toks.get(k).map_or("", |t| t.word.as_str())
    }

    fn edit(&mut self, range: std::ops::Range<usize>, with: String, what: &'static str) {
        self.edits.push((range, with));
        self.what = Some(what);
    }

    /// `(row).*` becomes `(row)`; inside `substring(…)`, `SIMILAR`/`ESCAPE` become
    /// `FROM`/`FOR` (the words directly inside the call's parentheses).
    fn row_expansion_and_substring(&mut self) {
        let statement = self.statement;
        for i in 0..self.toks.len() {
            let text = |d: usize| self.toks.get(i + d).map_or("", |t| t.text.as_str());
            if text(0) == ")" && text(1) == "." && text(2) == "*" {
                let (a, b) = (
                    self.toks[i + 1].source(statement),
                    self.toks[i + 2].source(statement),
                );
                if let (Some(a), Some(b)) = (a, b) {
                    self.edit(a.start..b.end, String::new(), "composite expansion (row).*");
                }
            }
            let with = match self.toks[i].word.as_str() {
                "SIMILAR" => "FROM",
                "ESCAPE" => "FOR",
                _ => "",
            };
            let in_substring =
                self.parent[i].is_some_and(|o| o > 0 && self.toks[o - 1].word == "SUBSTRING");
            if !with.is_empty() && in_substring {
                if let Some(r) = self.toks[i].source(statement) {
                    self.edit(r, with.to_string(), "substring(… SIMILAR … ESCAPE …)");
                }
            }
        }
    }

    /// `) AS (name type, …)`: keep the names, drop the types. The lists' names are gathered in
    /// one pass over the tokens (a name is the first token directly inside a list, or right
    /// after a `,` directly inside it).
    fn column_definition_lists(&mut self) {
        let toks = &self.toks;
        let mut lists: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
        for i in 0..toks.len().saturating_sub(2) {
            if toks[i].text == ")" && toks[i + 1].word == "AS" && toks[i + 2].text == "(" {
                lists.insert(i + 2, Vec::new());
            }
        }
        if lists.is_empty() {
            return;
        }
        for k in 1..toks.len() {
            let Some(open) = self.parent[k] else { continue };
            let first =
                k == open + 1 || (toks[k - 1].text == "," && self.parent[k - 1] == Some(open));
            if first && toks[k].text != "," {
                if let Some(names) = lists.get_mut(&open) {
                    names.push(toks[k].text.clone());
                }
            }
        }
        for (open, names) in lists {
            if let Some(close) = self.closing(open) {
                let range = self.toks[open].offset..self.toks[close].offset + 1;
                self.edit(
                    range,
                    format!("_ ({})", names.join(", ")),
                    "column definition list",
                );
            }
        }
    }

    /// `CREATE [OR REPLACE] PROCEDURE p(a int DEFAULT 1, b int = 2)`: drop the defaults.
    fn procedure_defaults(&mut self) {
        let Some(open) = self.toks.iter().position(|t| t.text == "(") else {
            return;
        };
        let Some(close) = self.closing(open) else {
            return;
        };
        let mut depth = 0usize;
        let mut from = None;
        let mut cuts = Vec::new();
        for t in &self.toks[open..=close] {
            match t.text.as_str() {
                "(" => depth += 1,
                ")" | "," if depth == 1 => {
                    if let Some(f) = from.take() {
                        cuts.push(f..t.offset);
                    }
                    if t.text == ")" {
                        depth -= 1;
                    }
                }
                ")" => depth -= 1,
                _ if depth == 1 && (t.word == "DEFAULT" || t.text == "=") => {
                    from.get_or_insert(t.offset);
                }
                _ => {}
            }
        }
        for cut in cuts {
            self.edit(cut, String::new(), "procedure parameter default");
        }
    }

    /// `CREATE OPERATOR # (NEGATOR = !#, COMMUTATOR = @>>)`: an operator name as an option
    /// value, which sqlparser splits into several symbols; stand a word in for the run.
    fn operator_names(&mut self) {
        let mut cuts = Vec::new();
        for (k, t) in self.toks.iter().enumerate() {
            if t.text != "=" || k == 0 || self.toks[k - 1].word.is_empty() {
                continue;
            }
            let run = self.toks[k + 1..]
                .iter()
                .take_while(|t| t.is_symbol())
                .count();
            if run > 1 {
                let last = &self.toks[k + run];
                cuts.push(self.toks[k + 1].offset..last.offset + last.text.len());
            }
        }
        for cut in cuts {
            self.edit(cut, "op".into(), "operator name as an option value");
        }
    }

    /// `ALTER [COLUMN] c SET (n_distinct = …)` / `RESET (…)`: a column's storage parameters.
    fn column_storage(&mut self) {
        let mut cuts = Vec::new();
        for (k, t) in self.toks.iter().enumerate().skip(3) {
            let column = self.word(k - 2) == "ALTER"
                || (self.word(k - 2) == "COLUMN" && self.word(k - 3) == "ALTER");
            let open = self.toks.get(k + 1).is_some_and(|t| t.text == "(");
            if matches!(t.word.as_str(), "SET" | "RESET") && column && open {
                if let Some(close) = self.closing(k + 1) {
                    cuts.push(t.offset..self.toks[close].offset + 1);
                }
            }
        }
        for cut in cuts {
            self.edit(cut, "SET DEFAULT 0".into(), "column storage parameters");
        }
    }

    /// The statement with the edits made, and what the last edit stood in for; `None` when
    /// nothing was rewritten.
    fn apply(mut self) -> Option<(String, &'static str)> {
        let what = self.what?;
        self.edits.sort_by_key(|(r, _)| r.start);
        let mut out = String::with_capacity(self.statement.len());
        let mut at = 0;
        for (r, with) in self.edits {
            if r.start < at {
                continue; // overlapping edits: keep the first
            }
            out.push_str(&self.statement[at..r.start]);
            out.push_str(&with);
            at = r.end;
        }
        out.push_str(&self.statement[at..]);
        Some((out, what))
    }
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

    /// Issue 27: valid PostgreSQL the default build rejected on real files; a typo in each
    /// stays an error.
    #[test]
    fn constructs_found_in_real_files() {
        for sql in [
            "CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW EXECUTE PROCEDURE f(2);",
            "CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f('a', 2);",
            "DROP INDEX CONCURRENTLY idx_a;",
            "ALTER TABLE t ADD CONSTRAINT c NOT NULL col;",
            "CREATE TABLE t2 (a int, CONSTRAINT c NOT NULL a);",
            "ALTER INDEX IF EXISTS idx_a RENAME TO idx_b;",
            "CREATE USER u WITH LOGIN REPLICATION;",
            "CREATE USER u2 NOINHERIT CREATEROLE;",
            "ALTER ROLE r SET search_path TO a, b;",
            "ALTER ROLE r SET search_path TO \"$user\", public;",
            "DROP FOREIGN DATA WRAPPER w;",
            "DROP TEXT SEARCH CONFIGURATION c;",
            "DROP LANGUAGE plperl;",
            "ANALYZE a, b;",
            "ALTER DATABASE d SET timezone TO 'UTC';",
            "CREATE FUNCTION f(enum text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        ] {
            valid(sql);
        }
        for sql in [
            "CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW EXECUTE PROCEDUR f(2);",
            "DROP INDX CONCURRENTLY idx_a;",
            "ALTER TABLE t ADD CONSTRAINT c NOT NUL col;",
            "ALTER INDX IF EXISTS idx_a RENAME TO idx_b;",
            "CREATE USER u WITH LOGNI;",
            "ALTER ROLE r SETT search_path TO a, b;",
            "DROP FOREIGN DATA WRAPER w;",
            "DROP TEXT SEARCH CONFIGURATOIN c;",
            "ANALYZ a, b;",
            "CREATE FUNCTION f(enum text) RETURN int LANGUAGE sql AS $$ SELECT 1 $$;",
        ] {
            error(sql);
        }
    }

    /// A construct sqlparser lacks does not hide a missing `;`: the next statement run into it is
    /// an error on its own line. Statements that legitimately carry other statements' words on
    /// their own lines stay valid.
    #[test]
    fn a_missing_semicolon_after_a_gap_is_an_error() {
        // (statements run together, the start of the one whose `;` before it is missing)
        for (sql, next) in [
            ("CREATE CAST (bit AS ip) WITH FUNCTION ip(bit)\nCREATE CAST (varbit AS ip) WITH FUNCTION ip(varbit);", "CREATE CAST (varbit"),
            ("ALTER EXTENSION e ADD CAST (text AS ip)\nALTER EXTENSION e ADD CAST (text AS ip6);", "ALTER EXTENSION e ADD CAST (text AS ip6"),
            ("COMMENT ON AGGREGATE a (int) IS 'x'\nCREATE TABLE t (id int);", "CREATE TABLE"),
            ("CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()\nDROP TABLE t;", "DROP TABLE"),
            ("ALTER SEQUENCE s OWNED BY t.id\nINSERT INTO t (a) VALUES (1);", "INSERT"),
            ("ALTER EXTENSION e DROP FUNCTION f(int)\nDROP FUNCTION IF EXISTS f(int);", "DROP FUNCTION IF"),
            ("DO LANGUAGE plpgsql $x$ BEGIN PERFORM 1; END $x$\nDO $y$ BEGIN PERFORM 2; END $y$;", "DO $y$"),
            ("ALTER EVENT TRIGGER t ENABLE ALWAYS\nDROP FUNCTION f(int);", "DROP FUNCTION"),
            ("COMMENT ON FUNCTION f() IS ''\nCREATE VIEW v AS SELECT * FROM f() AS (a int, b text);", "CREATE VIEW"),
            ("CREATE OPERATOR @>> (PROCEDURE = f, LEFTARG = g, RIGHTARG = g, COMMUTATOR = <<@)\nCREATE OPERATOR <<@ (PROCEDURE = h, LEFTARG = g, RIGHTARG = g, COMMUTATOR = @>>);", "CREATE OPERATOR <<@"),
            ("DO $$ BEGIN PERFORM 1; END $$\nCOMMIT;", "COMMIT"),
            ("CREATE SCHEMA IF NOT EXISTS app\nCREATE TABLE app.t (id int);", "CREATE TABLE"),
            ("CREATE SCHEMA app\nCREATE DOMAIN app.d AS text;", "CREATE DOMAIN"),
            ("CLUSTER t USING i\nANALYZE t;", "ANALYZE"),
            ("ALTER SEQUENCE s OWNED BY t.id\nDROP TABLE t;", "DROP TABLE"),
            ("ALTER EXTENSION e DROP SEQUENCE s\nSET search_path = public;", "SET search_path"),
            ("CREATE OPERATOR CLASS c DEFAULT FOR TYPE t USING hash AS\n  OPERATOR 1 = ,\n  FUNCTION 1 h(t)\nCREATE OPERATOR CLASS d DEFAULT FOR TYPE u USING hash AS\n  OPERATOR 1 = ,\n  FUNCTION 1 h(u);", "CREATE OPERATOR CLASS d"),
        ] {
            let got = outcome(sql);
            if cfg!(feature = "postgres-exact") {
                assert!(matches!(got, Outcome::Error { .. }), "{sql}: {got:?}");
                continue;
            }
            let Outcome::Error { message, at } = got else {
                panic!("{sql}: {got:?}")
            };
            // Ours after a gap, or sqlparser's own where no gap is involved.
            assert!(
                message.contains("`;` missing") || message.contains("end of statement"),
                "{message}"
            );
            assert_eq!(at.start, sql.find(next).unwrap(), "{sql}");
        }
        for sql in [
            "CREATE SCHEMA s\n  CREATE TABLE t (id int)\n  CREATE VIEW v AS\n  SELECT 1;",
            "CREATE SCHEMA s AUTHORIZATION r\n  GRANT SELECT ON TABLE t TO r;",
            "ALTER EXTENSION e\n  DROP FUNCTION f(int);",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA s\nGRANT SELECT ON TABLES TO r;",
            "CREATE RULE r AS ON INSERT TO t DO ALSO\nINSERT INTO log (a) VALUES (1);",
            "CREATE MATERIALIZED VIEW v AS\nSELECT 1 AS a\nWITH NO DATA;",
            "CREATE VIEW v AS\nSELECT 1 AS a\nWITH CHECK OPTION;",
            "CREATE TRIGGER tr BEFORE INSERT OR\nUPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();",
            "CREATE POLICY p ON t FOR\nSELECT USING (true);",
            "ALTER TABLE t\n  SET SCHEMA s;",
            "ALTER TABLE t\n  CLUSTER ON i;",
            "ALTER DOMAIN d\n  DROP CONSTRAINT c;",
            "CREATE RULE r AS ON INSERT TO t\nDO INSTEAD NOTHING;",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nSECURITY DEFINER\nAS $$ SELECT 1 $$;",
            "GRANT\nSELECT ON t TO r;",
            "CREATE OPERATOR CLASS c DEFAULT FOR TYPE t USING hash AS\n  OPERATOR 1 = ,\n  FUNCTION 1 h(t);",
        ] {
            valid(sql);
        }
    }

    /// PostgreSQL takes no trailing comma anywhere: not where sqlparser is lenient
    /// (`FUNCTION 1 f(a, b,)` in an operator class), not inside a construct that is rewritten
    /// before parsing (column storage parameters).
    #[test]
    fn a_stray_comma_before_a_paren_is_an_error() {
        for sql in [
            "CREATE OPERATOR CLASS c DEFAULT FOR TYPE t USING btree AS\n  OPERATOR 1 < ,\n  FUNCTION 1 f(t, t,);",
            "ALTER TABLE t ALTER c SET (n_distinct = -0.5,);",
            "SELECT f(1, 2,);",
        ] {
            error(sql);
        }
        valid("SELECT ',)' AS a, $$,)$$ AS b; -- ,)");
    }

    #[test]
    fn postgres_constructs_sqlparser_lacks_are_never_errors() {
        for sql in [
            "ALTER TYPE public.t SET SCHEMA oracle;",
            "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql IMMUTABLE COST 100 AS $$ SELECT 1 $$;",
            "CREATE OR REPLACE FUNCTION s.f() RETURNS SETOF int LANGUAGE sql STABLE ROWS 10 SUPPORT pg_catalog.f_support NOT LEAKPROOF AS $$ SELECT 1 $$;",
            "CREATE FUNCTION f(int) RETURNS int AS 'MODULE_PATHNAME', 'f' LANGUAGE C STRICT COST 1;",
            "ALTER TYPE t RENAME ATTRIBUTE a TO b;",
            "CREATE DOMAIN utl_file.file_type integer;",
            "CREATE DOMAIN d integer NOT NULL CHECK (VALUE > 0);",
            "SELECT x FROM dbms_pipe.f() AS (name varchar, items int);",
            "SELECT (aclexplode(relacl)).* FROM pg_class;",
            "SELECT a FROM (SELECT (aclexplode(relacl)).* FROM pg_class) AS c (a, b), pg_namespace n;",
            "SELECT substring(x similar 'interval#\"%#\"' escape '#') FROM t;",
            "CREATE PROCEDURE p(c int, size int DEFAULT -1) AS 'MODULE_PATHNAME', 'p' LANGUAGE c;",
            "CREATE OR REPLACE PROCEDURE s.p(a text, b int = NULL) LANGUAGE plpgsql AS $$ BEGIN END $$;",
            "CREATE OPERATOR # (PROCEDURE = f, LEFTARG = int, RIGHTARG = int, NEGATOR = !#);",
            "CREATE OPERATOR <<@ (PROCEDURE = f, LEFTARG = g, RIGHTARG = g, COMMUTATOR = @>>);",
            "ALTER TABLE event_auth_chain_links ALTER origin_chain_id SET (n_distinct = -0.5);",
            "ALTER TABLE t ALTER COLUMN \"c\" SET STATISTICS 100;",
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

    /// The rewrites are linear in the statement: deeply nested calls and lists (which fail to
    /// parse) finish at once instead of scanning each call's tokens again.
    #[test]
    fn rewrites_stay_linear_on_pathological_nesting() {
        let n = 20_000;
        let nested_substring = format!(
            "SELECT {}x similar 'a' escape '#'{} FORM t;",
            "substring(".repeat(n),
            ")".repeat(n)
        );
        let nested_lists = format!(
            "SELECT * FROM {} WHER;",
            "f() AS (a int, b ".repeat(n) + &")".repeat(n)
        );
        for sql in [nested_substring, nested_lists] {
            let started = std::time::Instant::now();
            let _ = crate::sql::gaps::rewritten(&sqlparser::dialect::PostgreSqlDialect {}, &sql);
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    /// Function options sqlparser lacks are blanked, so the rest of the statement is checked:
    /// no warning at all in the default build.
    #[test]
    fn function_options_are_checked_not_skipped() {
        let got = outcome(
            "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql IMMUTABLE COST 100 ROWS 5 AS $$ SELECT 1 $$;",
        );
        if !cfg!(feature = "postgres-exact") {
            assert_eq!(got, Outcome::Parsed);
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
            "CREATE DOMAIN d AZ integer;",
            "COMMENT ON FUNCTION f(int, text IS 'x';",
            "DROP AGGREGATE my_agg(int,);",
            "CREATE CAST (int AS text WITH FUNCTION f(int);",
            "DO $$ BEGIN PERFORM 1; END $$ LANGUAGE plpgsql);",
            "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql COST 100 IMMUTABL AS $$ SELECT 1 $$;",
            "CREATE FUNCTION f() RETURNS int COTS 100 LANGUAGE sql AS $$ SELECT 1 $$;",
            "CREATE FUNCTION f() RETURNS SETOF int LANGUAGE sql ROWS 10 STABEL AS $$ SELECT 1 $$;",
            "ALTER TYPE t SET SCHEMAA s;",
            "ALTER TYPE t RENAME ATTRIBUT a TO b;",
            "SELECT a FROM (SELECT (f(x)).* FORM t) AS c (a), u;",
            "SELECT (f(x)).* FROM t WHER a = 1;",
            "SELECT substring(x similar 'a#\"b#\"' escape '#') FORM t;",
            "SELECT x FROM f() AS (x int, y text) WHER x = 1;",
            "CREATE PROCEDURE p(a int DEFAULT 1) LANGUAG sql AS $$ SELECT 1 $$;",
            "CREATE OPERATOR # (PROCEDURE = f, LEFTARG = int, NEGATOR = !#, RIGHTARG = int,,);",
            "ALTER TABLE t ALTER c SET (n_distinct = -0.5) WHERE;",
        ] {
            error(sql);
        }
    }
}
