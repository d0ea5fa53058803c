//! With `--features postgres-exact`, PostgreSQL's own grammar decides what is valid.
#![cfg(feature = "postgres-exact")]

mod common;
use common::*;

#[test]
fn valid_postgres_passes_and_a_mysqlism_fails_at_the_right_column() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "DO $$ BEGIN RAISE NOTICE 'hi'; END $$;\nALTER EXTENSION hstore ADD FUNCTION f(int);\nALTER SEQUENCE s OWNED BY t.id;\n",
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.codes(),
        vec!["sql-ast-skipped"],
        "said once per file, at info level"
    );
    assert_eq!(r.find("sql-ast-skipped")["severity"], "info");
    d.write(
        "m/0001_b.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1);
    let e = r.find("sql-parse-error");
    assert_eq!(
        (e["file"].as_str(), e["line"].as_u64(), e["column"].as_u64()),
        (Some("m/0001_b.sql"), Some(1), Some(40))
    );
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("PostgreSQL: syntax error at or near \"AUTOINCREMENT\""));
}

#[test]
fn postgres_rejects_what_sqlparser_accepts() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "CREATE TABLE ok (id int);\nCREATE TABLE t (\n  id INT UNSIGNED\n);\n",
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("sql-parse-error");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(3), Some(10))
    );
}

#[test]
fn version_says_the_exact_grammar_is_built_in() {
    assert!(Dir::new().run(&["--version"]).stdout.contains("built in"));
}

#[test]
fn other_dialects_are_not_judged_by_postgres() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\ndialect = \"sqlite\"\n",
    );
    assert_eq!(d.run(&["check", "--format", "json"]).code, 0);
}
