//! The foundation, through the real binary: numbering, parsing, encodings, formats, exit codes.

mod common;
use common::*;

#[test]
fn clean_set_exits_0_in_both_formats() {
    let d = Dir::new();
    valid_set(&d, "migrations", 3);
    let r = d.run(&["check"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("3 files checked, no problems"));
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0);
    let j = r.json();
    assert_eq!(j["version"], 1);
    assert_eq!(j["summary"]["errors"], 0);
    assert_eq!(j["summary"]["files"], 3);
}

#[test]
fn five_findings_with_codes_lines_and_columns() {
    let d = Dir::new();
    d.write("m/0000_init.sql", "CREATE TABLE a (id int);\n");
    d.write(
        "m/0001_two.sql",
        "ALTER TABEL a ADD COLUMN b int;\nSELECT 1;\nCREATE TABLE b (id int,, x int);\n",
    );
    d.write("m/0001_dup.sql", "SELECT 1;\n");
    d.write("m/0003_gap.sql", "SELECT 1;\n");
    d.write("m/Bad-Name.sql", "SELECT 1;\n");
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1);
    let diags = r.diags();
    let expect = |code: &str, file: &str, line: u64, col: u64| {
        assert!(
            diags.contains(&(
                code.to_string(),
                Some(file.to_string()),
                Some(line),
                Some(col)
            )),
            "missing {code} {file}:{line}:{col} in {diags:?}"
        );
    };
    expect("duplicate-number", "m/0001_two.sql", 1, 1);
    expect("sql-parse-error", "m/0001_two.sql", 1, 7);
    expect("sql-parse-error", "m/0001_two.sql", 3, 24);
    expect("number-gap", "m/0003_gap.sql", 1, 1);
    expect("invalid-name", "m/Bad-Name.sql", 1, 1);
    assert_eq!(diags.len(), 5, "{diags:?}");
    assert!(r.find("number-gap")["help"]
        .as_str()
        .unwrap()
        .contains("0002_gap.sql"));

    // The same in human form: a miette report per finding with code, snippet, label and help.
    let h = d.run(&["check", "m"]);
    assert_eq!(h.code, 1);
    assert!(h.stdout.contains("miglint::sql-parse-error"));
    assert!(h.stdout.contains("[m/0001_two.sql:3:24]"), "{}", h.stdout);
    assert!(h.stdout.contains("syntax error here"));
    assert!(
        h.stdout
            .contains("help: if `0003_gap.sql` is new on this branch, rename it to"),
        "{}",
        h.stdout
    );
    assert!(h.stdout.contains("5 errors, 0 warnings in 5 files"));
    assert!(
        !h.stdout.contains("\u{1b}["),
        "NO_COLOR output must have no escape codes"
    );
}

#[test]
fn diagnostics_are_sorted_by_file_line_column_code() {
    let d = Dir::new();
    d.write("m/0000_b.sql", "SELEC 1;\nSELEC 2;\n");
    d.write("m/0002_a.sql", "SELEC 1;\n");
    let r = d.run(&["check", "m", "--format", "json"]);
    let diags = r.diags();
    let mut sorted = diags.clone();
    sorted.sort_by(|a, b| (&a.1, a.2, a.3, &a.0).cmp(&(&b.1, b.2, b.3, &b.0)));
    assert_eq!(diags, sorted);
    assert_eq!(diags.len(), 4);
}

#[test]
fn ignore_directives_work_for_statements_and_files() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "SELECT 1;\n-- miglint-ignore sql-parse-error\nFROBNICATE everything;\nSELEC 2;\n",
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.codes(), vec!["sql-parse-error"]);
    assert_eq!(r.diags()[0].2, Some(4));
    d.write(
        "m/0000_a.sql",
        "-- miglint-ignore-file sql-parse-error\nSELEC 1;\nSELEC 2;\n",
    );
    d.write(
        "m/0002_b.sql",
        "-- miglint-ignore-file number-gap\nSELECT 1;\n",
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn encodings_bom_crlf_empty() {
    let d = Dir::new();
    d.write("m/0000_bom.sql", b"\xEF\xBB\xBFCREATE TABLE a (id int);\n");
    d.write("m/0001_latin1.sql", b"INSERT INTO a VALUES ('caf\xE9');\n");
    d.write(
        "m/0002_crlf.sql",
        b"CREATE TABLE b (id int);\r\nCREATE TABLE c (id int);\r\n",
    );
    d.write("m/0003_empty.sql", b"");
    d.write("m/0004_comments.sql", b"-- TODO\n");
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1);
    let diags = r.diags();
    assert!(diags.contains(&(
        "utf8-bom".into(),
        Some("m/0000_bom.sql".into()),
        Some(1),
        Some(1)
    )));
    let enc = r.find("invalid-encoding");
    assert!(
        enc["message"].as_str().unwrap().contains("byte offset 26"),
        "{enc}"
    );
    assert!(diags
        .iter()
        .any(|d| d.0 == "empty-migration" && d.1.as_deref() == Some("m/0003_empty.sql")));
    assert!(diags
        .iter()
        .any(|d| d.0 == "empty-migration" && d.1.as_deref() == Some("m/0004_comments.sql")));
    assert!(
        !diags
            .iter()
            .any(|d| d.1.as_deref() == Some("m/0002_crlf.sql")),
        "CRLF is fine: {diags:?}"
    );
    // Human output survives invalid UTF-8 too.
    let h = d.run(&["check", "m"]);
    assert_eq!(h.code, 1);
    assert!(h.stdout.contains("miglint::invalid-encoding"));
}

#[test]
fn warnings_exit_0_unless_denied() {
    let d = Dir::new();
    d.write("m/0000_a.sql", "-- nothing\n");
    assert_eq!(d.run(&["check", "m"]).code, 0);
    assert_eq!(d.run(&["check", "m", "--deny-warnings"]).code, 1);
}

#[test]
fn exit_2_when_the_tool_cannot_work() {
    let d = Dir::new();
    // No config and no migrations/.
    let r = d.run(&["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("miglint::config-invalid") && r.stderr.contains("help:"),
        "{}",
        r.stderr
    );
    // Missing directory.
    let r = d.run(&["check", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("miglint::io-error"));
    // Bad arguments.
    assert_eq!(d.run(&["check", "--frobnicate"]).code, 2);
    // JSON mode still prints one JSON document.
    let r = d.run(&["check", "nope", "--format", "json"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["diagnostics"][0]["code"], "io-error");
}

#[test]
fn config_errors_point_into_the_toml() {
    let d = Dir::new();
    valid_set(&d, "db/migrations", 1);
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"db/migrations\"\nwidht = 4\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 2);
    let diag = r.find("config-invalid");
    assert_eq!(diag["file"], "miglint.toml");
    assert_eq!(diag["line"], 3);
    assert!(diag["message"].as_str().unwrap().contains("widht"));
    let h = d.run(&["check"]);
    assert!(h.stderr.contains("miglint.toml:3:1"), "{}", h.stderr);
}

#[test]
fn config_sets_width_start_and_timestamp_numbering() {
    let d = Dir::new();
    d.write("a/001_x.sql", "SELECT 1;");
    d.write("a/002_y.sql", "SELECT 1;");
    d.write("b/20250101000000_x.sql", "SELECT 1;");
    d.write("b/20250301000000_y.sql", "SELECT 1;");
    d.write("miglint.toml", "[[set]]\ndir = \"a\"\nwidth = 3\nstart = 1\n[[set]]\ndir = \"b\"\nnumbering = \"timestamp\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    d.write("b/20250301000000_z.sql", "SELECT 1;");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.codes(), vec!["duplicate-number"]);
}

#[test]
fn config_is_found_from_a_subdirectory_of_the_repo() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "svc/migrations", 2);
    d.write("miglint.toml", "[[set]]\ndir = \"svc/migrations\"\n");
    std::fs::create_dir_all(d.join("svc/src")).unwrap();
    let r = d.run_in("svc/src", &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["summary"]["files"], 2);
}

#[test]
fn hostile_directory_entries() {
    let d = Dir::new();
    valid_set(&d, "m", 2);
    std::fs::create_dir_all(d.join("m/0002_dir.sql")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("missing-target.sql", d.join("m/0003_dangling.sql")).unwrap();
    d.write("m/README.md", "not a migration");
    d.write("m/.0004_hidden.sql", "garbage");
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1);
    let unreadable: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|d| d.0 == "unreadable-file")
        .map(|d| d.1.unwrap())
        .collect();
    assert!(unreadable.contains(&"m/0002_dir.sql".to_string()));
    #[cfg(unix)]
    assert!(unreadable.contains(&"m/0003_dangling.sql".to_string()));
}

#[test]
fn a_50_mb_file_is_checked_without_trouble() {
    let d = Dir::new();
    let stmt = "INSERT INTO t (id, name) VALUES (1, 'some realistic text value here');\n";
    let big = stmt.repeat(50 * 1024 * 1024 / stmt.len());
    d.write("m/0000_big.sql", &big);
    let r = d.run(&["check", "m", "--format", "json"]);
    // Over the default max_file_size (16 MiB): not a hang or a crash, and, since nobody checked
    // this pending file, an error.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.codes(), vec!["file-too-large"]);
}

#[test]
fn placeholders_are_neutralised_keeping_positions() {
    let d = Dir::new();
    d.write("m/0000_a.sql", "CREATE SCHEMA {{ index .Options \"Namespace\" }};\nCREATE EXTENSION x SCHEMA @extschema@;\nSELEC 1;\n");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\nplaceholders = ['\\{\\{.*?\\}\\}', '@[A-Za-z_]+@']\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(
        r.diags(),
        vec![(
            "sql-parse-error".into(),
            Some("m/0000_a.sql".into()),
            Some(3),
            Some(1)
        )]
    );
}

#[cfg(not(feature = "postgres-exact"))]
#[test]
fn known_sqlparser_gaps_are_unverified_warnings() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "DO $$ BEGIN RAISE NOTICE 'hi'; END $$;\nALTER EXTENSION hstore ADD FUNCTION f(int);\nALTER SEQUENCE s OWNED BY t.id;\n",
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.codes().iter().all(|c| c == "sql-unverified"),
        "{:?}",
        r.codes()
    );
}
