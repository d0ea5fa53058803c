//! The applied-migration ledger through the real binary: record, immutability, sha256sum.

mod common;
use common::*;

fn set_with_three() -> Dir {
    let d = Dir::new();
    d.write(
        "m/0000_init.sql",
        "CREATE TABLE migration_history (filename text PRIMARY KEY, checksum text NOT NULL);\n",
    );
    d.write(
        "m/0001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    d.write(
        "m/0002_roles.sql",
        "CREATE TABLE roles (id bigint PRIMARY KEY);\nCREATE TABLE grants (id bigint);\n",
    );
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\n");
    d
}

#[test]
fn record_appends_sha256sum_lines_and_prints_inserts() {
    let d = set_with_three();
    let r = d.run(&["record", "0000", "1", "0002_roles.sql"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    let digest = sha256(d.read("m/0001_users.sql").as_bytes());
    assert_eq!(lines[1], format!("INSERT INTO migration_history (filename, checksum) VALUES ('0001_users.sql', '{digest}');"));
    let ledger = d.read("m/applied.sha256");
    assert!(ledger.ends_with('\n'));
    assert_eq!(
        ledger.lines().nth(1).unwrap(),
        format!("{digest}  0001_users.sql")
    );
    // The real sha256sum agrees with the ledger.
    let out = std::process::Command::new("sha256sum")
        .arg("-c")
        .arg("applied.sha256")
        .current_dir(d.join("m"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(d.run(&["check", "--format", "json"]).code, 0);
}

#[test]
fn record_refuses_out_of_order_duplicates_and_broken_files() {
    let d = set_with_three();
    let r = d.run(&["record", "0001"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("not the next unrecorded migration (next is `0000_init.sql`)"),
        "{}",
        r.stderr
    );
    assert_eq!(d.run(&["record", "--through", "0001"]).code, 0);
    let before = d.read("m/applied.sha256");
    let r = d.run(&["record", "0001"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already recorded"));
    d.write("m/0002_roles.sql", "CREATE TABEL roles (id int);\n");
    let r = d.run(&["record", "0002"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("has findings"), "{}", r.stderr);
    assert_eq!(
        d.read("m/applied.sha256"),
        before,
        "a refused record writes nothing"
    );
    // --allow-out-of-order lets an operator record what the database really applied.
    d.write("m/0002_roles.sql", "CREATE TABLE roles (id int);\n");
    d.write("m/0003_more.sql", "SELECT 1;\n");
    assert_eq!(d.run(&["record", "0003", "--allow-out-of-order"]).code, 0);
}

#[test]
fn record_keeps_existing_lines_when_the_last_has_no_newline() {
    let d = set_with_three();
    let line = format!(
        "{}  0000_init.sql",
        sha256(d.read("m/0000_init.sql").as_bytes())
    );
    d.write("m/applied.sha256", &line);
    assert_eq!(d.run(&["record", "1"]).code, 0);
    let ledger = d.read("m/applied.sha256");
    assert!(ledger.starts_with(&format!("{line}\n")));
    assert_eq!(ledger.lines().count(), 2);
}

#[test]
fn the_done_when_story() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "--through", "2"]).code, 0);
    // Edit 0001 → checksum-mismatch with both digests.
    let recorded = sha256(d.read("m/0001_users.sql").as_bytes());
    d.write(
        "m/0001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    );
    let now = sha256(d.read("m/0001_users.sql").as_bytes());
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let m = r.find("checksum-mismatch");
    assert_eq!(m["file"], "m/0001_users.sql");
    assert!(
        m["message"].as_str().unwrap().contains(&recorded)
            && m["message"].as_str().unwrap().contains(&now)
    );
    // CRLF in 0002 → the help names line endings and core.autocrlf.
    let lf = d.read("m/0002_roles.sql");
    d.write("m/0002_roles.sql", lf.replace('\n', "\r\n"));
    let r = d.run(&["check", "--format", "json"]);
    let crlf = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["file"] == "m/0002_roles.sql")
        .cloned()
        .unwrap();
    assert_eq!(crlf["code"], "checksum-mismatch");
    let help = crlf["help"].as_str().unwrap();
    assert!(
        help.contains("line endings")
            && help.contains("core.autocrlf")
            && help.contains(".gitattributes"),
        "{help}"
    );
    // Delete 0000 → applied-file-missing at the ledger line.
    d.remove("m/0000_init.sql");
    let r = d.run(&["check", "--format", "json"]);
    let missing = r.find("applied-file-missing");
    assert_eq!(
        (missing["file"].as_str(), missing["line"].as_u64()),
        (Some("m/applied.sha256"), Some(1))
    );
}

#[test]
fn rename_of_an_applied_file_names_the_new_name() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "--through", "2"]).code, 0);
    std::fs::rename(d.join("m/0001_users.sql"), d.join("m/0001_people.sql")).unwrap();
    let r = d.run(&["check", "--format", "json"]);
    assert!(r.find("applied-file-missing")["message"]
        .as_str()
        .unwrap()
        .contains("renamed to `0001_people.sql`"));
}

#[test]
fn unrecorded_file_below_the_last_recorded_is_out_of_order() {
    let d = set_with_three();
    d.write("m/0003_a.sql", "SELECT 1;\n");
    assert_eq!(d.run(&["record", "--through", "3"]).code, 0);
    // A branch that was created earlier brings 0002 under another name… simulate: delete the
    // record of 0002 by building a ledger without it.
    let ledger: String = d
        .read("m/applied.sha256")
        .lines()
        .filter(|l| !l.ends_with("0002_roles.sql"))
        .map(|l| format!("{l}\n"))
        .collect();
    d.write("m/applied.sha256", ledger);
    let r = d.run(&["check", "--format", "json"]);
    let o = r.find("out-of-order");
    assert_eq!(o["file"], "m/0002_roles.sql");
    assert!(
        o["help"].as_str().unwrap().contains("0004_roles.sql"),
        "{o}"
    );
}

#[test]
fn corrupt_ledger_is_lock_invalid_at_the_line() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "--through", "2"]).code, 0);
    let mut lines: Vec<String> = d
        .read("m/applied.sha256")
        .lines()
        .map(String::from)
        .collect();
    lines[1] = lines[1].replacen("  ", " ", 1);
    lines[2] = format!("XYZ{}", &lines[2][3..]);
    d.write("m/applied.sha256", lines.join("\n") + "\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let invalid: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|d| d.0 == "lock-invalid")
        .map(|d| (d.2, d.3))
        .collect();
    assert_eq!(invalid, vec![(Some(2), Some(1)), (Some(3), Some(1))]);
    // Entries out of order and path separators are invalid too.
    let a = format!(
        "{}  0001_users.sql\n{}  0000_init.sql\n{}  ../x.sql\n",
        sha256(b"a"),
        sha256(b"b"),
        sha256(b"c")
    );
    d.write("m/applied.sha256", a);
    let r = d.run(&["check", "--format", "json"]);
    let msgs: Vec<String> = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["code"] == "lock-invalid")
        .map(|x| x["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        msgs.iter().any(|m| m.contains("not in migration order")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("path separator")),
        "{msgs:?}"
    );
}

#[test]
fn a_record_killed_mid_write_leaves_the_old_ledger_intact() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "0"]).code, 0);
    let before = d.read("m/applied.sha256");
    for point in ["mid-write", "before-rename"] {
        let r = d.run_env(".", &["record", "1"], &[("MIGLINT_FAULT", point)]);
        assert_ne!(r.code, 0, "the fault hook must kill the run");
        assert_eq!(d.read("m/applied.sha256"), before, "killed at {point}");
    }
    // A killed run leaves at most a hidden temp file, never a half-written ledger; the lock it
    // held is recognised as stale (its process is gone) and does not block the next run.
    assert_eq!(d.run(&["record", "1"]).code, 0);
    assert_eq!(d.read("m/applied.sha256").lines().count(), 2);
    assert_eq!(
        d.run(&["check"]).code,
        0,
        "hidden temp files are not migrations"
    );
}

#[test]
fn new_and_init_killed_mid_write_create_nothing() {
    let d = set_with_three();
    let r = d.run_env(
        ".",
        &["new", "add email"],
        &[("MIGLINT_FAULT", "mid-write")],
    );
    assert_ne!(r.code, 0);
    assert!(!d.join("m/0003_add_email.sql").exists());
    std::fs::remove_file(d.join("miglint.toml")).unwrap();
    let r = d.run_env(".", &["init"], &[("MIGLINT_FAULT", "mid-write")]);
    assert_ne!(r.code, 0);
    assert!(!d.join("miglint.toml").exists());
}

#[test]
fn concurrent_records_do_not_interleave() {
    let d = set_with_three();
    for i in 3..40 {
        d.write(&format!("m/{i:04}_n{i}.sql"), format!("SELECT {i};\n"));
    }
    // Many racing `record --through N` runs: the lock serialises them, the result is exactly the
    // sha256sum of every file, once, in order.
    let handles: Vec<_> = (0..8)
        .map(|k| {
            let exe = env!("CARGO_BIN_EXE_miglint");
            let dir = d.path().to_path_buf();
            std::thread::spawn(move || {
                std::process::Command::new(exe)
                    .args(["record", "--through", &(5 * k + 4).to_string()])
                    .current_dir(dir)
                    .output()
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let ledger = d.read("m/applied.sha256");
    let names: Vec<&str> = ledger.lines().map(|l| &l[66..]).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "no duplicates, in order");
    assert_eq!(names.len(), 40);
}

#[test]
fn history_export_is_reconciled() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "--through", "1"]).code, 0);
    let c0 = sha256(d.read("m/0000_init.sql").as_bytes());
    let csv = format!("filename,checksum,applied_by,applied_at\n0000_init.sql,{c0},ops,2025-11-05\n0001_users.sql,{},ops,2025-11-05\n0002_roles.sql,{},ops,\"2025-11-06, late\"\n", "0".repeat(64), "1".repeat(64));
    d.write("history.csv", csv);
    let r = d.run(&[
        "check",
        "--history-export",
        "history.csv",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let hm: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|d| d.0 == "history-mismatch")
        .collect();
    // 0001: db vs ledger and db vs disk; 0002: applied but not recorded, and db vs disk.
    assert!(hm.iter().any(|d| d.2 == Some(3)), "{hm:?}");
    assert!(hm.iter().any(|d| d.2 == Some(4)), "{hm:?}");
    assert!(
        !hm.iter().any(|d| d.2 == Some(2)),
        "0000 agrees everywhere: {hm:?}"
    );
}

#[test]
fn require_recorded_turns_pending_into_errors() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "0"]).code, 0);
    assert_eq!(d.run(&["check"]).code, 0);
    let r = d.run(&["check", "--require-recorded", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.codes(),
        vec!["unrecorded-migrations", "unrecorded-migrations"]
    );
}

/// The export is read fail-closed: a directory, a FIFO or a file without the columns is exit 2
/// with what could not be read, never an empty (passing) reconciliation.
#[test]
fn an_unreadable_history_export_is_exit_2() {
    let d = set_with_three();
    assert_eq!(d.run(&["record", "--through", "1"]).code, 0);
    std::fs::create_dir_all(d.join("export-dir")).unwrap();
    d.write("no-columns.csv", "name,sum\n0000_init.sql,abc\n");
    #[cfg(unix)]
    {
        let fifo = d.join("export.fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let r = d.run(&[
            "check",
            "--history-export",
            "export.fifo",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        assert!(
            r.stdout.contains("a FIFO") || r.stdout.contains("fifo"),
            "{}",
            r.stdout
        );
    }
    for export in ["export-dir", "no-columns.csv", "missing.csv"] {
        let r = d.run(&["check", "--history-export", export, "--format", "json"]);
        assert_eq!(r.code, 2, "{export}: {}", r.stdout);
    }
}
