//! Issue 27: psql scripts read as psql reads them, through the real binary. Each case passed
//! with exit 0 on the old main; `tests/psql_server.rs` checks the same reading against a real
//! psql and server.

mod common;
use common::*;

fn check(d: &Dir) -> Run {
    d.run(&["check", "--format", "json"])
}

fn one_file(sql: &str) -> Dir {
    let d = Dir::new();
    d.init_repo();
    d.write("migrations/0000_a.sql", sql);
    d
}

#[test]
fn a_second_meta_command_on_a_line_is_seen() {
    let d = one_file("\\echo applying \\ir ../sql/f.sql\nSELECT 1;\n");
    d.write("sql/f.sql", "DROP TABLE users;\n");
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.codes().contains(&"psql-include".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn sql_after_the_double_backslash_separator_is_parsed() {
    let d = one_file("\\set x 1 \\\\ ALTER TABEL users DROP COLUMN email;\n");
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.find("sql-parse-error")["line"], 1);
}

#[test]
fn every_form_that_runs_a_program_is_an_include() {
    for sql in [
        "SELECT 1 \\g |cat\n",
        "\\o |cat\nSELECT 1;\n",
        "SELECT 1;\n\\w |cat\n",
        "\\copy (SELECT 1) TO PROGRAM 'cat'\n",
        "\\set x `date`\nSELECT 1;\n",
    ] {
        let r = check(&one_file(sql));
        assert!(
            r.codes().contains(&"psql-include".to_string()),
            "{sql:?}: {}",
            r.stdout
        );
    }
}

#[test]
fn copy_from_stdin_rows_are_not_parsed_and_what_follows_is() {
    let d = one_file("\\copy t FROM stdin\n1\tSELEC\n\\.\nCOPY t FROM stdin;\n2\tx\n\\.\nALTER TABEL t ADD c int;\n");
    let r = check(&d);
    let errors: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|d| d.0 == "sql-parse-error")
        .collect();
    assert_eq!(errors.len(), 1, "{}", r.stdout);
    assert_eq!(
        errors[0].2,
        Some(7),
        "the typo after the data, not the rows: {}",
        r.stdout
    );
}

#[test]
fn a_directive_inside_a_non_ascii_dollar_body_is_data() {
    let d =
        one_file("SELECT $é$\n-- miglint-ignore-file\n\\ir x.sql\n$é$;\nSELEC 1;\n\\ir y.sql\n");
    let r = check(&d);
    let codes = r.codes();
    assert!(
        codes.contains(&"sql-parse-error".to_string()),
        "{}",
        r.stdout
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "psql-include").count(),
        1,
        "only the \\ir outside the body: {}",
        r.stdout
    );
}

/// The team's layout where `0001_roles.sql` is `body` (which should stamp the head).
fn stamped(body: &str) -> Run {
    let d = team_repo("20251105_000002");
    d.write("auth/migrations/0001_roles.sql", body);
    d.init_repo();
    d.commit_all("team");
    check(&d)
}

#[test]
fn a_head_stamp_that_never_runs_does_not_count() {
    let stamp = "UPDATE auth.alembic_version_auth SET version_num = '20251105_000002';\n";
    let ok = stamped(&format!("CREATE TABLE auth.roles (id int);\n{stamp}"));
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    for body in [
        format!("CREATE TABLE auth.roles (id int);\n\\q\n{stamp}"),
        format!("CREATE TABLE auth.roles (id int);\n\\if false\n{stamp}\\endif\n"),
        format!("CREATE TABLE auth.roles (id int);\n\\if :deploy\n{stamp}\\endif\n"),
        format!("BEGIN;\n{stamp}ROLLBACK;\n"),
        format!("BEGIN;\nSAVEPOINT s;\n{stamp}ROLLBACK TO SAVEPOINT s;\nCOMMIT;\n"),
        format!("{stamp}DELETE FROM auth.alembic_version_auth;\n"),
        format!("{stamp}\\set x 1 \\\\ UPDATE auth.alembic_version_auth SET version_num = '20251101_000001';\n"),
        // Lost with the old connection under `psql -1` (checked in tests/psql_server.rs).
        format!("{stamp}\\c -\n"),
        // Rolled back when a script run without `-1` ends: psql's own transaction, or one left open.
        format!("\\set AUTOCOMMIT off\n{stamp}"),
        format!("BEGIN;\n{stamp}"),
        // psql's `\copy` opens a transaction too while `AUTOCOMMIT` is off.
        "\\set AUTOCOMMIT off\nDELETE FROM auth.alembic_version_auth;\nCOMMIT;\n\\copy auth.alembic_version_auth (version_num) FROM stdin\n20251105_000002\n\\.\n".into(),
        // Discarded by `\r`, never sent.
        "UPDATE auth.alembic_version_auth SET version_num = '20251105_000002' \\r\n;\n".into(),
        // Described, never run.
        "UPDATE auth.alembic_version_auth SET version_num = '20251105_000002' \\gdesc\n".into(),
        // An older revision that may overwrite it.
        format!("{stamp}\\if :deploy\nUPDATE auth.alembic_version_auth SET version_num = '20251101_000001';\n\\endif\n"),
    ] {
        let r = stamped(&body);
        assert_eq!(r.code, 1, "{body}: {}", r.stdout);
    }
    for body in [
        format!("BEGIN;\n{stamp}COMMIT;\n"),
        format!("\\set AUTOCOMMIT off\n{stamp}COMMIT;\n"),
        format!("\\c -\n{stamp}"),
    ] {
        let r = stamped(&body);
        assert_eq!(r.code, 0, "{body}: {}", r.stdout);
    }
}

#[test]
fn a_stale_literal_stamp_in_a_do_block_is_an_error() {
    let stale = stamped("CREATE TABLE auth.roles (id int);\nDO $$ BEGIN UPDATE auth.alembic_version_auth SET version_num = '20251101_000001'; END $$;\n");
    assert_eq!(stale.code, 1, "{}", stale.stdout);
    assert_eq!(stale.find("alembic-head-mismatch")["severity"], "error");
    let head = stamped("CREATE TABLE auth.roles (id int);\nUPDATE auth.alembic_version_auth SET version_num = '20251105_000002';\nDO $$ BEGIN UPDATE auth.alembic_version_auth SET version_num = '20251105_000002'; END $$;\n");
    assert!(
        !head.codes().contains(&"alembic-head-mismatch".to_string()),
        "{}",
        head.stdout
    );
}

/// A stamp through `COPY … FROM stdin` rows is judged by its rows, as the server reads them: a
/// head is a stamp (no warning), a stale revision is `alembic-head-mismatch` (it was only an
/// unverified warning, exit 0), and rows miglint does not read exactly stay unverified.
#[test]
fn a_stamp_through_copy_rows_is_judged_by_its_rows() {
    let copy = |rows: &str| {
        format!("CREATE TABLE auth.roles (id int);\nDELETE FROM auth.alembic_version_auth;\nCOPY auth.alembic_version_auth (version_num) FROM stdin;\n{rows}\\.\n")
    };
    let head = stamped(&copy("20251105_000002\n"));
    assert_eq!(head.code, 0, "{}", head.stdout);
    assert!(
        !head
            .codes()
            .contains(&"alembic-stamp-unverified".to_string()),
        "{}",
        head.stdout
    );
    let stale = stamped(&copy("20251101_000001\n"));
    assert_eq!(stale.code, 1, "{}", stale.stdout);
    let f = stale.find("alembic-head-mismatch");
    assert_eq!(f["severity"], "error", "{f}");
    assert_eq!(f["line"], 4, "the row: {f}");
    let escaped = stamped(&copy("20251105\\_000002\n"));
    assert!(
        escaped
            .codes()
            .contains(&"alembic-stamp-unverified".to_string()),
        "{}",
        escaped.stdout
    );
}

/// The same through psql's `\copy … from stdin`, whose rows psql sends as `COPY` data: it was
/// not seen at all (a stale revision passed with exit 0, not even a warning); rows it does not
/// read exactly are unverified.
#[test]
fn a_stamp_through_psql_copy_rows_is_judged_by_its_rows() {
    let copy = |args: &str, rows: &str| {
        format!("CREATE TABLE auth.roles (id int);\nDELETE FROM auth.alembic_version_auth;\n\\copy {args} FROM stdin\n{rows}\\.\n")
    };
    let table = "auth.alembic_version_auth (version_num)";
    let head = stamped(&copy(table, "20251105_000002\n"));
    assert_eq!(head.code, 0, "{}", head.stdout);
    let stale = stamped(&copy(table, "20251101_000001\n"));
    assert_eq!(stale.code, 1, "{}", stale.stdout);
    assert_eq!(
        stale.find("alembic-head-mismatch")["line"],
        4,
        "{}",
        stale.stdout
    );
    let escaped = stamped(&copy(table, "20251101\\_000001\n"));
    assert!(
        escaped
            .codes()
            .contains(&"alembic-stamp-unverified".to_string()),
        "{}",
        escaped.stdout
    );
}
