//! Issue 33, item 1: adoption from the team's `migration_history` export, end to end on a
//! repository shaped like the team's, running docs/adopting.md's step 2 as written. The export's
//! checksums come from `sha256sum`, as the team's deploy computes them.

mod common;
use common::*;
use std::process::Command;

/// `filename,checksum,applied_by,applied_at` rows for `files`, checksums from `sha256sum`.
fn export(d: &Dir, files: &[&str]) -> String {
    let mut csv = String::from("filename,checksum,applied_by,applied_at\n");
    for f in files {
        let out = Command::new("sha256sum")
            .arg(format!("auth/migrations/{f}"))
            .current_dir(d.path())
            .output()
            .unwrap();
        let sum = String::from_utf8(out.stdout).unwrap();
        let sum = sum.split_whitespace().next().unwrap().to_string();
        csv.push_str(&format!("{f},{sum},deploy,2026-11-01 10:00:00+00\n"));
    }
    csv
}

fn team() -> Dir {
    let d = team_repo("20251105_000002");
    d.remove("miglint.toml");
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"false\"\n",
    );
    d.write(
        "auth/migrations/0002_add_email.sql",
        "ALTER TABLE auth.roles ADD COLUMN email text;\n",
    );
    d.init_repo();
    d.commit_all("the team's repository");
    d
}

/// The `sh` block of docs/adopting.md's step 2, line by line.
fn documented_steps() -> Vec<String> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/adopting.md")).unwrap();
    let step = &doc[doc.find("## 2. Seed the ledger").unwrap()..];
    let block = &step[step.find("```sh\n").unwrap() + 6..];
    block[..block.find("```").unwrap()]
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_documented_adoption_seeds_the_ledger_and_protects_applied_files() {
    let d = team();
    d.write(
        "history.csv",
        export(&d, &["0000_init.sql", "0001_roles.sql"]),
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_miglint"))
        .parent()
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut printed = String::new();
    for line in documented_steps() {
        let out = Command::new("sh")
            .args(["-c", &line])
            .current_dir(d.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env_remove("MIGLINT_BASE")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{line}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push_str(&text);
    }
    assert_eq!(
        d.read("auth/migrations/applied.sha256"),
        format!(
            "{}  0000_init.sql\n{}  0001_roles.sql\n",
            sha256(d.read("auth/migrations/0000_init.sql").as_bytes()),
            sha256(d.read("auth/migrations/0001_roles.sql").as_bytes())
        )
    );
    assert!(
        printed.contains("recorded 2 applied migrations of auth/migrations"),
        "{printed}"
    );
    assert!(printed.contains("(1 pending)"), "{printed}");
    // The printed next steps carry the commit command the doc runs, on its own line.
    assert!(
        printed.lines().any(|l| l.trim()
            == "git add miglint.toml auth/migrations/applied.sha256 && git commit -m \"Adopt miglint\""),
        "{printed}"
    );
    let config = d.read("miglint.toml");
    assert!(
        config.contains("compose = \"auth/auth.compose.yml\""),
        "{config}"
    );
    // From now on an applied file cannot change unnoticed.
    d.write(
        "auth/migrations/0001_roles.sql",
        "CREATE TABLE auth.roles (id bigint PRIMARY KEY);\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(
        r.find("checksum-mismatch")["file"],
        "auth/migrations/0001_roles.sql"
    );
    // Adoption happens once.
    let again = d.run(&["init", "--from-history", "history.csv"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already records"), "{}", again.stderr);
}

#[test]
fn a_checksum_mismatch_or_a_gap_is_reported_and_nothing_is_recorded() {
    let d = team();
    let mut csv = export(&d, &["0000_init.sql", "0001_roles.sql"]);
    // The database applied other bytes of 0001 than the file now holds.
    d.write(
        "auth/migrations/0001_roles.sql",
        "CREATE TABLE auth.roles (id bigint PRIMARY KEY, name text);\n",
    );
    d.write("history.csv", &csv);
    let r = d.run(&["init", "--from-history", "history.csv", "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = r.json();
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{v}");
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .contains("`0001_roles.sql` differs"),
        "{v}"
    );
    assert!(
        !d.join("auth/migrations/applied.sha256").exists(),
        "nothing recorded"
    );
    // A file before applied ones without a row, and a row without a file.
    d.git(&["checkout", "-q", "--", "."]);
    csv = export(&d, &["0000_init.sql", "0002_add_email.sql"]);
    csv.push_str("0009_gone.sql,00,deploy,2026-11-02 10:00:00+00\n");
    d.write("history.csv", &csv);
    let r = d.run(&["init", "--from-history", "history.csv", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let text = r.json()["problems"].to_string();
    assert!(
        text.contains("`0001_roles.sql` comes before applied migrations"),
        "{text}"
    );
    assert!(text.contains("applied `0009_gone.sql`"), "{text}");
    assert!(!d.join("auth/migrations/applied.sha256").exists());
}

/// One `migration_history` table serving two sets: with `--set`, the rows of the other set's
/// files are left to it, not reported as missing files.
#[test]
fn a_history_shared_by_two_sets_adopts_each_set_alone() {
    let d = team();
    d.write(
        "billing/migrations/0000_invoices.sql",
        "CREATE TABLE invoices (id bigint PRIMARY KEY);\n",
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"auth/migrations\"\n[[set]]\ndir = \"billing/migrations\"\n",
    );
    d.commit_all("two sets");
    let mut csv = export(&d, &["0000_init.sql", "0001_roles.sql"]);
    let billing = sha256(d.read("billing/migrations/0000_invoices.sql").as_bytes());
    csv.push_str(&format!(
        "0000_invoices.sql,{billing},deploy,2026-11-01 10:00:00+00\n"
    ));
    d.write("history.csv", &csv);
    let r = d.run(&[
        "init",
        "--from-history",
        "history.csv",
        "--set",
        "auth/migrations",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.json()["recorded"].as_array().unwrap().len(),
        2,
        "{}",
        r.stdout
    );
    let r = d.run(&[
        "init",
        "--from-history",
        "history.csv",
        "--set",
        "billing/migrations",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["recorded"][0], "0000_invoices.sql", "{}", r.stdout);
}
