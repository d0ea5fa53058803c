//! The team's day, end to end (issue 14): a repository laid out like theirs (`auth/migrations/`,
//! the ledger table `auth.migration_history`, Alembic stamped into `auth.alembic_version_auth`, a
//! compose file), walked through the stories miglint exists for. Every message is pinned in a
//! snapshot, and every fix is the one miglint's own help gives: the restore commands are taken
//! from the JSON `help` and run with git, so advice that does not work fails the test.

mod common;
use common::*;

/// Runs `miglint args…`, asserting the exit code; returns the human output for the snapshot.
fn step(d: &Dir, args: &[&str], code: i32) -> String {
    let r = d.run(args);
    assert_eq!(r.code, code, "miglint {args:?}:\n{}{}", r.stdout, r.stderr);
    format!(
        "$ miglint {} (exit {})\n{}{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    )
}

/// The `git …` command inside backticks in the help of the `code` finding.
fn advised_git_command(d: &Dir, code: &str) -> Vec<String> {
    let r = d.run(&["check", "--format", "json"]);
    let f = r.find(code);
    let cmd = f["command"]
        .as_str()
        .unwrap_or_else(|| panic!("no command with the finding: {f}"));
    assert!(cmd.starts_with("git "), "{cmd}");
    cmd.split_whitespace().skip(1).map(str::to_string).collect()
}

fn run_advice(d: &Dir, code: &str) -> String {
    let args = advised_git_command(d, code);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.git(&args);
    format!("$ git {}\n", args.join(" "))
}

/// main: the team's repository with 0000 and 0001 applied and recorded, Alembic at its head,
/// the compose file keeping `alembic upgrade` off, and `base = "main"` in miglint.toml.
fn team_on_main() -> Dir {
    let d = team_repo("20251105_000002");
    d.write(
        "miglint.toml",
        "[git]\nbase = \"main\"\n\n[[set]]\ndir = \"auth/migrations\"\n\n[set.alembic]\ncompose = \"auth/auth.compose.yml\"\n",
    );
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    image: auth\n    environment:\n      MIGRATE_AT_START: \"false\"\n",
    );
    d.init_repo();
    let r = d.run(&["record", "--through", "1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("INSERT INTO auth.migration_history"),
        "record speaks the team's table: {}",
        r.stdout
    );
    d.commit_all("auth: init, roles (applied)");
    d
}

#[test]
fn a_number_conflict_is_renumbered_and_passes() {
    let d = team_on_main();
    let mut log = step(&d, &["check"], 0);
    d.diverge(
        &[(
            "auth/migrations/0002_add_email.sql",
            "-- 0002_add_email.sql: add email\n-- run `miglint record 0002_add_email.sql` once applied\n\nALTER TABLE auth.roles ADD COLUMN email text; -- not 0002_add_email.sql\n",
        )],
        &[(
            "auth/migrations/0002_add_phone.sql",
            "ALTER TABLE auth.roles ADD COLUMN phone text;\n",
        )],
    );

    log += &step(&d, &["check"], 1);
    log += &step(&d, &["renumber"], 0);
    // The header follows the new name; SQL (and its comments) is untouched.
    assert_eq!(
        d.read("auth/migrations/0003_add_email.sql"),
        "-- 0003_add_email.sql: add email\n-- run `miglint record 0003_add_email.sql` once applied\n\nALTER TABLE auth.roles ADD COLUMN email text; -- not 0002_add_email.sql\n"
    );
    // Staged, as `git mv` does (this small file's header changed too, so git may show the
    // rename as a deletion and an addition).
    let status = d.git(&["status", "--short"]);
    assert!(
        status.contains(
            "R  auth/migrations/0002_add_email.sql -> auth/migrations/0003_add_email.sql"
        ) || (status.contains("D  auth/migrations/0002_add_email.sql")
            && status.contains("A  auth/migrations/0003_add_email.sql")),
        "{status}"
    );
    // The next steps as printed, each command on its own line, run as they are.
    let printed = log.rsplit("$ miglint renumber").next().unwrap().to_string();
    for command in printed.lines().filter_map(|l| l.strip_prefix("  git ")) {
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("git {command}")])
            .current_dir(d.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        d.join("auth/migrations/0002_add_phone.sql").exists(),
        "rebased onto main"
    );
    log += &step(&d, &["check"], 0);
    snapshot_settings(&d).bind(|| insta::assert_snapshot!("story_number_conflict", log));
}

#[test]
fn an_edit_of_an_applied_migration_is_restored_as_advised() {
    let d = team_on_main();
    d.git(&["checkout", "-q", "-b", "feature"]);
    let roles = d.read("auth/migrations/0001_roles.sql");
    d.write(
        "auth/migrations/0001_roles.sql",
        roles.replace(
            "name text NOT NULL UNIQUE",
            "name text NOT NULL UNIQUE, email text",
        ),
    );
    d.commit_all("edit an applied migration");
    let mut log = step(&d, &["check"], 1);
    // One problem, one finding: the merged-file fact is related, not a second error.
    let json = d.run(&["check", "--format", "json"]);
    let codes: Vec<String> = json.diags().into_iter().map(|x| x.0).collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "checksum-mismatch").count(),
        1,
        "{codes:?}"
    );
    assert!(
        !codes.iter().any(|c| c == "modified-after-merge"),
        "{codes:?}"
    );
    log += &run_advice(&d, "checksum-mismatch");
    assert_eq!(d.read("auth/migrations/0001_roles.sql"), roles);
    log += &step(&d, &["check"], 0);
    snapshot_settings(&d).bind(|| insta::assert_snapshot!("story_edit_applied", log));
}

#[test]
fn a_line_ending_change_says_so_and_is_restored() {
    let d = team_on_main();
    let init = d.read("auth/migrations/0000_init.sql");
    d.write("auth/migrations/0000_init.sql", init.replace('\n', "\r\n"));
    let mut log = step(&d, &["check"], 1);
    let r = d.run(&["check", "--format", "json"]);
    let f = r.find("checksum-mismatch");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("only line endings changed"),
        "{f}"
    );
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("no new migration is needed"),
        "{f}"
    );
    log += &run_advice(&d, "checksum-mismatch");
    assert_eq!(d.read("auth/migrations/0000_init.sql"), init);
    log += &step(&d, &["check"], 0);
    snapshot_settings(&d).bind(|| insta::assert_snapshot!("story_line_endings", log));
}

#[test]
fn a_new_alembic_revision_is_restamped_in_a_new_migration() {
    let d = team_on_main();
    d.write(
        "auth/alembic/versions/20251110_000003_sessions.py",
        revision_file("20251110_000003", "'20251105_000002'"),
    );
    let mut log = step(&d, &["check"], 1);
    let r = d.run(&["check", "--format", "json"]);
    let help = r.find("alembic-head-mismatch")["help"]
        .as_str()
        .unwrap()
        .to_string();
    // The help's SQL, in a new migration created by `miglint new`.
    let sql = &help[help.find("UPDATE ").unwrap()..];
    log += &step(&d, &["new", "restamp alembic"], 0);
    d.write(
        "auth/migrations/0002_restamp_alembic.sql",
        format!("{sql}\n"),
    );
    log += &step(&d, &["check"], 0);
    log += &step(&d, &["alembic", "heads"], 0);
    snapshot_settings(&d).bind(|| insta::assert_snapshot!("story_restamp", log));
}

#[test]
fn turning_alembic_upgrades_on_is_flagged() {
    let d = team_on_main();
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    image: auth\n    environment:\n      MIGRATE_AT_START: \"true\"\n",
    );
    // An error: `alembic upgrade` at start would re-run applied DDL (issue 33).
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "an error: {}", r.stdout);
    assert_eq!(r.find("alembic-upgrade-at-start")["severity"], "error");
    let log = step(&d, &["check"], 1);
    snapshot_settings(&d).bind(|| insta::assert_snapshot!("story_upgrade_at_start", log));
}

/// `init` on the team's layout finds the set, its Alembic project and the compose file next
/// to it (issue 33), and the config it writes guards `MIGRATE_AT_START` as written.
#[test]
fn init_finds_the_compose_file_next_to_the_set() {
    let d = team_repo("20251105_000002");
    d.remove("miglint.toml");
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"true\"\n",
    );
    d.init_repo();
    let r = d.run(&["init"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let config = d.read("miglint.toml");
    assert!(
        config.contains("ini = \"auth/alembic.ini\"")
            && config.contains("compose = \"auth/auth.compose.yml\""),
        "{config}"
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(
        r.find("alembic-upgrade-at-start")["file"],
        "auth/auth.compose.yml"
    );
}
