//! What calling a function may do to the schema, read from the text of its body.
//!
//! A call of a function the replay knows nothing about may create, rename or drop anything, so
//! it makes every later name unknown. Real sets define small helpers and call them at the top
//! level (`SELECT updatedbversion('1.14.3')`): when the set itself defined the function and its
//! body holds no DDL, no dynamic SQL and no call of anything but built-ins or other such
//! helpers, the call changes no relation and the replay goes on seeing. The body is read as
//! text, conservatively: a word that might be DDL, or an identifier followed by `(` that is not
//! a known keyword or built-in, counts against it (a false suspicion only keeps today's
//! blindness; a missed one would be a false alarm later).

/// What a call may do, read from a body or a statement: `None` when it may change relations,
/// the search path or privileges itself; otherwise the functions it calls (bare, folded names),
/// each of which must be harmless too.
pub type Callees = Option<Vec<String>>;

/// A function body in `language` (`sql`, `plpgsql`; anything else is not read).
pub fn body_callees(language: &str, body: &str) -> Callees {
    let plpgsql = language.eq_ignore_ascii_case("plpgsql");
    if !plpgsql && !language.eq_ignore_ascii_case("sql") {
        return None;
    }
    // Read with its strings: `EXECUTE 'CREATE …'`, `set_config('search_path', …)`.
    if may_act(body, plpgsql) {
        return None;
    }
    Some(calls_in(&blank_literals(body)?))
}

/// The body of a `DO` block (`DO [LANGUAGE l] 'body'` / `$$body$$`), plpgsql unless it says.
pub fn do_block_callees(statement: &str) -> Callees {
    let rest = statement.trim_start();
    let rest = rest
        .get(..2)
        .filter(|w| w.eq_ignore_ascii_case("do"))
        .map(|_| &rest[2..])?;
    let mut language = "plpgsql".to_string();
    let mut rest = rest.trim_start();
    if rest.len() > 8 && rest[..8].eq_ignore_ascii_case("language") {
        let after = rest[8..].trim_start();
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        language = after[..end].to_string();
        rest = after[end..].trim_start();
    }
    let (body, after) = string_literal(rest)?;
    let after = after.trim_start();
    // `DO 'body' LANGUAGE l`.
    if after
        .get(..8)
        .is_some_and(|w| w.eq_ignore_ascii_case("language"))
    {
        language = after[8..].trim().trim_end_matches(';').trim().to_string();
    }
    body_callees(&language, &body)
}

/// The calls in the text of a statement miglint could not read (its strings and comments
/// blanked: they are data, not calls); `None` when its literals do not close.
pub fn statement_callees(statement: &str) -> Callees {
    blank_literals(statement).map(|t| calls_in(&t))
}

/// Functions whose call creates, renames or drops no relation: PostgreSQL 15's own (the names
/// in `pg_catalog`, which an unqualified call finds first) and a few extensions'.
pub fn builtin_function(name: &str) -> bool {
    static CATALOG: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let catalog = CATALOG.get_or_init(|| {
        include_str!("pg_catalog_functions.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect()
    });
    let (schema, bare) = match name.rsplit_once('.') {
        Some((s, b)) => (Some(s), b),
        None => (None, name),
    };
    let bare = bare.trim_matches('"');
    (matches!(schema, None | Some("pg_catalog")) && catalog.contains(bare))
        || HARMLESS_EXTENSION_FUNCTIONS.contains(&bare)
}

/// Functions of the extensions that make no relation (pgcrypto, uuid-ossp, pg_trgm, unaccent,
/// fuzzystrmatch), called in data changes as often as built-ins.
const HARMLESS_EXTENSION_FUNCTIONS: &[&str] = &[
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v3",
    "uuid_generate_v4",
    "uuid_generate_v5",
    "uuid_nil",
    "crypt",
    "gen_salt",
    "digest",
    "hmac",
    "gen_random_bytes",
    "pgp_sym_encrypt",
    "pgp_sym_decrypt",
    "similarity",
    "word_similarity",
    "unaccent",
    "levenshtein",
    "soundex",
    "metaphone",
    "dmetaphone",
    "difference",
];

/// Words that make a body act on the schema, the session or privileges, read in its strings
/// too: DDL, dynamic SQL (`EXECUTE`), transaction control, `SELECT … INTO` in a SQL function (in
/// PL/pgSQL it assigns variables), the search path, `RESET`/`DISCARD`, grants, `CALL`.
fn may_act(text: &str, plpgsql: bool) -> bool {
    static ACTS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static INTO: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let acts = ACTS.get_or_init(|| {
        regex::Regex::new(
            r"(?i)\b(create|drop|alter|import|execute|rename|rollback|commit|savepoint|search_path|reset|discard|grant|revoke|set\s+role|set\s+session|call)\b",
        )
        .expect("valid regex")
    });
    if acts.is_match(text) {
        return true;
    }
    if plpgsql {
        return false;
    }
    let into = INTO
        .get_or_init(|| regex::Regex::new(r"(?i)\b(insert|merge)\s+into\b").expect("valid regex"));
    into.replace_all(text, " ")
        .to_ascii_lowercase()
        .contains("into")
}

/// Identifiers followed by `(` that are neither keywords nor built-ins, nor a table's column
/// list (`INSERT INTO t (a, b)`, `REFERENCES t (id)`, an alias's `AS t (a)`).
fn calls_in(text: &str) -> Vec<String> {
    static CALL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let call = CALL.get_or_init(|| {
        regex::Regex::new(
            r#"(?:([A-Za-z_][A-Za-z0-9_$]*|"[^"]+")\s*\.\s*)?([A-Za-z_][A-Za-z0-9_$]*|"[^"]+")\s*\("#,
        )
        .expect("valid regex")
    });
    let mut out: Vec<String> = Vec::new();
    for c in call.captures_iter(text) {
        let whole = c.get(0).expect("a match");
        let word = c.get(2).expect("a name").as_str();
        let name = if let Some(quoted) = word.strip_prefix('"') {
            quoted.trim_end_matches('"').to_string()
        } else {
            word.to_ascii_lowercase()
        };
        let schema = c.get(1).map(|s| s.as_str().to_ascii_lowercase());
        if schema.is_none() && KEYWORDS.contains(&name.as_str()) {
            continue;
        }
        let qualified = match &schema {
            Some(s) => format!("{s}.{name}"),
            None => name.clone(),
        };
        if builtin_function(&qualified) {
            continue;
        }
        let before = text[..whole.start()]
            .trim_end()
            .rsplit(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if matches!(
            before.as_str(),
            "into" | "references" | "table" | "as" | "index"
        ) {
            continue;
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Words that precede `(` without being a call: SQL and PL/pgSQL keywords, and type names that
/// take a modifier (`varchar(10)`).
const KEYWORDS: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "between",
    "bit",
    "by",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "conflict",
    "decimal",
    "distinct",
    "do",
    "else",
    "elsif",
    "exists",
    "extract",
    "filter",
    "float",
    "for",
    "foreach",
    "from",
    "group",
    "having",
    "if",
    "in",
    "interval",
    "is",
    "join",
    "key",
    "lateral",
    "like",
    "loop",
    "not",
    "numeric",
    "on",
    "or",
    "over",
    "overlay",
    "partition",
    "perform",
    "position",
    "primary",
    "query",
    "raise",
    "return",
    "returning",
    "returns",
    "row",
    "select",
    "set",
    "some",
    "substring",
    "then",
    "time",
    "timestamp",
    "trim",
    "union",
    "unique",
    "using",
    "values",
    "varbit",
    "varchar",
    "when",
    "where",
    "while",
    "window",
    "with",
    "within",
];

/// The text with string literals, dollar-quoted bodies and comments replaced by spaces (lengths
/// kept; quoted identifiers stay, they may name a function), as psql's lexer finds them
/// ([`super::psql::literals`]); `None` when one does not close.
fn blank_literals(text: &str) -> Option<String> {
    let literals = super::psql::literals(text);
    if literals.iter().any(|l| !l.closed) {
        return None;
    }
    let mut out = text.as_bytes().to_vec();
    let mut blank = |r: std::ops::Range<usize>| {
        for b in &mut out[r] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut from = 0;
    let ends = literals
        .iter()
        .map(|l| (l.range.clone(), l.what != "quoted identifier"))
        .chain(std::iter::once((text.len()..text.len(), false)));
    for (range, data) in ends {
        // `--` comments lie between literals (the lexer skips them whole).
        let mut at = from;
        while let Some(dash) = text[at..range.start].find("--") {
            let start = at + dash;
            let end = text[start..range.start]
                .find('\n')
                .map_or(range.start, |n| start + n);
            blank(start..end);
            at = end;
        }
        if data {
            blank(range.clone());
        }
        from = range.end;
    }
    String::from_utf8(out).ok()
}

/// The value of the string literal `rest` starts with (`'…'`, `E'…'` or `$tag$…$tag$`) and what
/// follows it.
fn string_literal(rest: &str) -> Option<(String, &str)> {
    let first = super::psql::literals(rest).into_iter().next()?;
    let at = usize::from(rest.starts_with(['e', 'E']));
    if first.range.start != at
        || !first.closed
        || !matches!(first.what, "string" | "dollar-quoted body")
    {
        return None;
    }
    let literal = &rest[first.range.clone()];
    let body = if let Some(after) = literal.strip_prefix('$') {
        let tag = after.find('$')? + 2;
        literal.get(tag..literal.len() - tag)?.to_string()
    } else {
        literal[1..literal.len() - 1].replace("''", "'")
    };
    Some((body, &rest[first.range.end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_that_only_reads_and_writes_rows_calls_nothing() {
        let body = "BEGIN
            IF EXISTS (SELECT * FROM icinga_dbversion WHERE name = 'idoutils') THEN
                UPDATE icinga_dbversion SET version = version_i, modify_time = NOW() WHERE name = 'x';
            ELSE
                INSERT INTO icinga_dbversion (dbversion_id, name) VALUES ('1', 'f(x)');
            END IF;
            SELECT count(*) INTO n FROM t;
            RETURN;
        END;";
        assert_eq!(body_callees("plpgsql", body), Some(vec![]));
    }

    #[test]
    fn what_may_act_on_the_schema_is_not_harmless() {
        for body in [
            "BEGIN EXECUTE 'CREATE TABLE t (id int)'; END",
            "BEGIN CREATE TABLE t (id int); END",
            "BEGIN PERFORM set_config('search_path', 'app', false); END",
            "BEGIN RESET ALL; END",
            "BEGIN GRANT SELECT ON t TO r; END",
            "BEGIN ALTER TABLE t RENAME TO u; END",
        ] {
            assert_eq!(body_callees("plpgsql", body), None, "{body}");
        }
        assert_eq!(body_callees("sql", "SELECT a INTO newtable FROM t"), None);
        assert_eq!(body_callees("c", "whatever"), None);
        assert_eq!(body_callees("plpgsql", "BEGIN 'unclosed; END"), None);
    }

    #[test]
    fn calls_of_other_functions_are_named() {
        let body = "BEGIN PERFORM make_parts(); x := app.helper(1) + length('a(b)'); \
                    RETURN QUERY SELECT * FROM \"MixedCase\"(2); END";
        assert_eq!(
            body_callees("plpgsql", body),
            Some(vec![
                "make_parts".into(),
                "helper".into(),
                "MixedCase".into()
            ])
        );
    }

    #[test]
    fn a_do_block_is_read_as_its_body() {
        assert_eq!(
            do_block_callees("DO $$ BEGIN PERFORM make_parts(); END $$"),
            Some(vec!["make_parts".into()])
        );
        assert_eq!(
            do_block_callees("do language plpgsql 'BEGIN PERFORM f(); END'"),
            Some(vec!["f".into()])
        );
        assert_eq!(
            do_block_callees("DO 'BEGIN NULL; END' LANGUAGE plperl"),
            None
        );
        assert_eq!(
            do_block_callees("DO $x$ BEGIN EXECUTE 'DROP TABLE t'; END $x$"),
            None
        );
    }

    #[test]
    fn strings_and_comments_hold_no_calls() {
        assert_eq!(
            statement_callees("SELECT 'f(x)' -- g(y)\n, /* h( */ k(1)"),
            Some(vec!["k".into()])
        );
    }
}
