//! Issue 19, part 1: what the database already ran is protected (hashed, compared) but not
//! re-parsed, unless it stamps Alembic's version table or `--all` asks for everything.

mod common;
use common::*;

#[test]
fn an_applied_file_is_protected_but_not_reparsed() {
    let d = Dir::new();
    // sqlparser cannot read this statement; the database ran it, so it is valid there.
    let body = "ALTER TABLE t ALTER COLUMN a SET COMPRESSION lz4;\nSELEC 1;\n";
    d.write("migrations/0000_a.sql", body);
    d.write(
        "migrations/applied.sha256",
        format!("{}  0000_a.sql\n", sha256(body.as_bytes())),
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // --all checks it anyway.
    let r = d.run(&["check", "migrations", "--all", "--format", "json"]);
    assert!(
        r.codes().contains(&"sql-parse-error".to_string()),
        "{}",
        r.stdout
    );
    // Changed after it was applied: protected (checksum-mismatch), and parsed again.
    d.write("migrations/0000_a.sql", format!("{body}SELEC 2;\n"));
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let codes = r.codes();
    assert!(
        codes.contains(&"checksum-mismatch".to_string()),
        "{codes:?}"
    );
    assert!(codes.contains(&"sql-parse-error".to_string()), "{codes:?}");
}

#[test]
fn an_applied_file_that_stamps_alembic_is_still_read() {
    let d = Dir::new();
    d.write("alembic.ini", "[alembic]\nscript_location = alembic\n");
    d.write("alembic/env.py", "");
    d.write(
        "alembic/versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    d.write(
        "alembic/versions/b2.py",
        "revision = 'b2'\ndown_revision = 'a1'\n",
    );
    let body = "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\nINSERT INTO alembic_version (version_num) VALUES ('a1');\n";
    d.write("migrations/0000_a.sql", body);
    d.write(
        "migrations/applied.sha256",
        format!("{}  0000_a.sql\n", sha256(body.as_bytes())),
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let m = r.find("alembic-head-mismatch");
    assert_eq!(m["file"], "migrations/0000_a.sql", "{m}");
}
