//! Cosmetic or semantic edits of protected migrations, and the legacy baseline.

mod common;
use common::*;

fn merged() -> Dir {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "migrations/0000_init.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    d.write(
        "migrations/0001_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\nALTER TABLE users ADD COLUMN age int;\n",
    );
    d.commit_all("merged");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d
}

/// The `checksum-mismatch` finding about `file` in a JSON run.
fn mismatch(r: &Run, file: &str) -> serde_json::Value {
    r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "checksum-mismatch" && x["file"] == file)
        .cloned()
        .unwrap_or_else(|| panic!("no checksum-mismatch for {file}: {}", r.stdout))
}

#[test]
fn a_whitespace_reflow_of_a_merged_migration_is_cosmetic() {
    let d = merged();
    d.write("migrations/0001_email.sql", "-- add the columns\nalter table users\n    add column email TEXT;\nALTER TABLE users ADD COLUMN age int;\n");
    let r = check_json(&d, "origin/main");
    let m = r.find("modified-after-merge");
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("only comments/whitespace/letter case changed"),
        "{m}"
    );
    assert_eq!(m["severity"], "error", "cosmetic_edits defaults to error");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\ncosmetic_edits = \"warning\"\n",
    );
    // In the same change, the setting does not rate its own edit (issue 26)…
    let r = d.run(&["check", "--base", "origin/main", "--format", "json"]);
    assert_eq!(r.find("modified-after-merge")["severity"], "error");
    // …once it has merged on its own, it does.
    let edited = d.read("migrations/0001_email.sql");
    d.git(&["checkout", "-q", "--", "migrations/0001_email.sql"]);
    d.commit_as_origin_main("cosmetic edits are warnings");
    d.write("migrations/0001_email.sql", edited);
    let r = d.run(&["check", "--base", "origin/main", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.find("modified-after-merge")["severity"], "warning");
}

#[test]
fn a_type_change_is_semantic_and_shows_both_statements() {
    let d = merged();
    d.write(
        "migrations/0001_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\nALTER TABLE users ADD COLUMN age bigint;\n",
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\ncosmetic_edits = \"warning\"\n",
    );
    let r = d.run(&["check", "--base", "origin/main", "--format", "json"]);
    assert_eq!(r.code, 1);
    let m = r.find("modified-after-merge");
    let msg = m["message"].as_str().unwrap();
    assert!(msg.contains("statement 2 changed: `ALTER TABLE users ADD COLUMN age int;` → `ALTER TABLE users ADD COLUMN age bigint;`"), "{msg}");
    assert_eq!(m["line"], 2);
}

#[test]
fn checksum_mismatch_finds_the_recorded_bytes_in_history() {
    let d = merged();
    let digest = |rel: &str| sha256(d.read(rel).as_bytes());
    d.write(
        "migrations/applied.sha256",
        format!(
            "{}  0000_init.sql\n{}  0001_email.sql\n",
            digest("migrations/0000_init.sql"),
            digest("migrations/0001_email.sql")
        ),
    );
    d.commit_all("record");
    d.write(
        "migrations/0000_init.sql",
        "create table USERS (\n  id bigint primary key\n);\n",
    );
    d.write(
        "migrations/0001_email.sql",
        "ALTER TABLE users ADD COLUMN email varchar(10);\nALTER TABLE users ADD COLUMN age int;\n",
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let of = |file: &str| mismatch(&r, file);
    assert!(of("migrations/0000_init.sql")["message"]
        .as_str()
        .unwrap()
        .contains("only comments/whitespace/letter case changed"));
    let semantic = of("migrations/0001_email.sql");
    assert!(semantic["message"].as_str().unwrap().contains("statement 1 changed: `ALTER TABLE users ADD COLUMN email text;` → `ALTER TABLE users ADD COLUMN email varchar(10);`"), "{semantic}");
    assert_eq!(semantic["line"], 1);
}

#[test]
fn history_rewrites_are_classified_too() {
    let d = merged();
    d.write(
        "migrations/0000_init.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY); -- reformatted\n",
    );
    d.commit_all("cosmetic");
    let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert!(r.find("rewritten-in-history")["message"]
        .as_str()
        .unwrap()
        .contains("only comments/whitespace"));
}

#[test]
fn a_baseline_silences_parse_findings_below_it_but_not_checksums() {
    let d = Dir::new();
    d.write(
        "m/0000_legacy.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x UNSIGNED);\nFROBNICATE;\n",
    );
    d.write("m/0001_legacy.sql", "SELEC 1;\n");
    d.write("m/0002_new.sql", "SELEC 2;\n");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\nbaseline = \"0001\"\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(
        r.diags(),
        vec![(
            "sql-parse-error".into(),
            Some("m/0002_new.sql".into()),
            Some(1),
            Some(1)
        )]
    );
    // Ledger protection still applies to baseline files.
    let line = format!("{}  0000_legacy.sql\n", sha256(b"the original bytes"));
    d.write("m/applied.sha256", line);
    let r = d.run(&["check", "--format", "json"]);
    assert!(r.codes().contains(&"checksum-mismatch".to_string()));
}

/// Acting on an edit of an applied file (issue 33): the finding points at the line that
/// changed, not the statement's first line; a unified diff shows recorded → now; the restore
/// command is printed alone on its line, whole, in human, JSON, GitHub and markdown output,
/// however narrow the terminal, and restores the recorded bytes when run as printed.
#[test]
fn an_edit_of_an_applied_file_shows_the_changed_line_a_diff_and_a_whole_command() {
    let d = merged();
    let long = "ALTER TABLE users\n    ADD COLUMN email text,\n    ADD COLUMN age int,\n    ADD COLUMN phone text;\n";
    d.write("migrations/0001_email.sql", long);
    d.commit_all("long");
    let r = d.run(&["record", "--through", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    d.commit_all("record");
    d.write(
        "migrations/0001_email.sql",
        long.replace("age int", "age bigint"),
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let f = r.find("checksum-mismatch");
    assert_eq!(f["line"], 3, "the changed line: {f}");
    let diff = f["diff"].as_str().unwrap();
    assert!(
        diff.contains("-    ADD COLUMN age int,\n+    ADD COLUMN age bigint,"),
        "{diff}"
    );
    let command = f["command"].as_str().unwrap().to_string();
    assert!(command.starts_with("git checkout "), "{command}");
    let human = d.run_env(".", &["check", "migrations"], &[("COLUMNS", "30")]);
    assert!(
        human.stdout.lines().any(|l| l.trim() == command),
        "{}",
        human.stdout
    );
    let github = d.run(&["check", "migrations", "--format", "github"]);
    assert!(
        github.stdout.contains(&format!("%0Arun: {command}")),
        "{}",
        github.stdout
    );
    let md = d.run(&["check", "migrations", "--format", "markdown"]);
    assert!(
        md.stdout.contains(&format!("```sh\n  {command}\n")),
        "{}",
        md.stdout
    );
    // Run as printed, it restores the recorded bytes.
    let out = std::process::Command::new("sh")
        .args(["-c", &command])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.run(&["check", "migrations"]).code, 0);
}

/// Issue 27: a CRLF inside a string literal is data psql sends and the server stores, so an
/// applied file whose line endings were converted is a different migration when one falls in a
/// literal, and only then; `cosmetic_edits = "warning"` must not downgrade it.
#[test]
fn a_line_ending_inside_a_literal_is_not_cosmetic() {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\ncosmetic_edits = \"warning\"\n",
    );
    let outside = "CREATE TABLE notes (body text);\r\nINSERT INTO notes VALUES ('one line');\r\n";
    let inside = "INSERT INTO notes VALUES ('first\r\nsecond');\r\n";
    d.write("migrations/0000_notes.sql", outside);
    d.write("migrations/0001_seed.sql", inside);
    d.write(
        "migrations/applied.sha256",
        format!(
            "{}  0000_notes.sql\n{}  0001_seed.sql\n",
            sha256(outside.as_bytes()),
            sha256(inside.as_bytes())
        ),
    );
    d.commit_all("applied from a CRLF checkout");
    // An editor (or dos2unix) converts both files to LF.
    d.write("migrations/0000_notes.sql", outside.replace("\r\n", "\n"));
    d.write("migrations/0001_seed.sql", inside.replace("\r\n", "\n"));
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let of = |file: &str| mismatch(&r, file);
    let cosmetic = of("migrations/0000_notes.sql");
    assert_eq!(cosmetic["severity"], "warning", "{cosmetic}");
    assert!(
        cosmetic["message"]
            .as_str()
            .unwrap()
            .contains("only line endings changed"),
        "{cosmetic}"
    );
    let data = of("migrations/0001_seed.sql");
    assert_eq!(data["severity"], "error", "{data}");
    let message = data["message"].as_str().unwrap();
    assert!(
        message.contains("statement 1 changed") && !message.contains("only line endings"),
        "{message}"
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
}
