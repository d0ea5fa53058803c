//! psql scripts (issue 16): meta-commands, variables and `COPY … FROM stdin` data are read the way
//! psql reads them, so a hand-applied script checks clean and a typo is reported on its own line.

mod common;
use common::*;

const SCRIPT: &str = r#"\set ON_ERROR_STOP on
\set schema auth
BEGIN;
CREATE SCHEMA IF NOT EXISTS :"schema";
SET search_path TO :'schema';
\if :{?extra}
  SELECT 1;
\endif
CREATE TABLE roles (id bigint PRIMARY KEY, name text NOT NULL);
COPY roles (id, name) FROM stdin;
1	admin
2	reader; with a semicolon \and a backslash
\.
SELECT format('GRANT SELECT ON %I TO reader', tablename) FROM pg_tables WHERE schemaname = :'schema' \gexec
ALTER TABLE roles ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
COMMIT;
"#;

#[test]
fn a_psql_script_checks_clean() {
    let d = Dir::new();
    d.write("migrations/0000_roles.sql", SCRIPT);
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.codes().is_empty(), "{:?}", r.codes());
}

#[test]
fn a_typo_in_a_psql_script_is_reported_on_its_own_line() {
    let d = Dir::new();
    d.write(
        "migrations/0000_roles.sql",
        SCRIPT.replace("ALTER TABLE roles ADD", "ALTER TABEL roles ADD"),
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("sql-parse-error");
    assert_eq!(e["line"], 15, "{e}");
    assert_eq!(e["column"], 7, "{e}");
    // The statement before a meta-command is not swallowed: `\set …` then a typo on line 3.
    d.write(
        "migrations/0000_roles.sql",
        "\\set ON_ERROR_STOP on\n\nBEGN;\n",
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let e = r.find("sql-parse-error");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(3), Some(1)),
        "{e}"
    );
}

#[test]
fn an_unknown_meta_command_is_a_warning_and_psql_can_be_turned_off() {
    let d = Dir::new();
    d.write(
        "migrations/0000_a.sql",
        "\\sett ON_ERROR_STOP on\nSELECT 1;\n",
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let w = r.find("psql-unknown-command");
    assert_eq!(
        (w["line"].as_u64(), w["severity"].as_str()),
        (Some(1), Some("warning"))
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\npsql = false\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.codes().contains(&"sql-parse-error".to_string()));
}

#[test]
fn an_unclosed_body_comment_or_identifier_is_reported_where_it_opens() {
    let d = Dir::new();
    for (body, line, column) in [
        (
            "SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$\nSELECT 1;\n",
            2,
            36,
        ),
        ("SELECT 1;\n/* open comment\nSELECT 2;\n", 2, 1),
        ("SELECT 1;\nSELECT \"abc FROM t;\nSELECT 2;\n", 2, 8),
    ] {
        d.write("migrations/0000_a.sql", body);
        let r = d.run(&["check", "migrations", "--format", "json"]);
        let e = r.find("sql-parse-error");
        assert_eq!(
            (e["line"].as_u64(), e["column"].as_u64()),
            (Some(line), Some(column)),
            "{body:?}: {e}"
        );
    }
}

/// `\i`/`\ir` (and `\copy … FROM 'file'`, `\!`) make psql run or load another file: an edit of
/// that file after the migration was applied changes what a fresh database gets, and no checksum
/// sees it. Such a migration is an error, recorded or not, and a directive cannot excuse it.
#[test]
fn a_migration_that_reads_another_file_is_an_error() {
    let d = Dir::new();
    d.init_repo();
    d.write("sql/part.sql", "CREATE TABLE a (id int);\n");
    d.write(
        "migrations/0000_init.sql",
        "\\set ON_ERROR_STOP on\n\\ir ../sql/part.sql\nSELECT 1;\n",
    );
    let digest = sha256(d.read("migrations/0000_init.sql").as_bytes());
    d.write(
        "migrations/applied.sha256",
        format!("{digest}  0000_init.sql\n"),
    );
    d.commit_all("applied, with an include");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("psql-include");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(1)),
        "{e}"
    );
    // Every form that reads a file; stdin and a TO file do not.
    for (line, reads) in [
        ("\\i other.sql", true),
        ("\\include other.sql", true),
        ("\\include_relative other.sql", true),
        ("\\copy t FROM 'data.csv' WITH (FORMAT csv)", true),
        ("\\copy t (a, b) from program 'gunzip -c data.gz'", true),
        ("\\! psql -f other.sql", true),
        ("\\copy t FROM stdin", false),
        ("\\copy t FROM pstdin", false),
        ("\\copy t TO 'out.csv'", false),
        ("\\set x 1", false),
    ] {
        d.write(
            "migrations/0001_more.sql",
            format!("-- miglint-ignore-file psql-include\n{line}\nSELECT 1;\n"),
        );
        let r = d.run(&["check", "--format", "json"]);
        let found = r
            .diags()
            .iter()
            .any(|x| x.0 == "psql-include" && x.1.as_deref() == Some("migrations/0001_more.sql"));
        assert_eq!(found, reads, "{line}:\n{}", r.stdout);
    }
}
