//! Issue 26: the change under review cannot configure its own judge. Each test is one row of the
//! issue's table, reproduced through the real binary (and git's own hooks, and the environment
//! GitHub Actions and GitLab CI set) on real repositories built here.

mod common;
use common::*;

use std::path::Path;

/// main: 0000–0002 applied (recorded in the ledger) and merged, with `config` as its
/// miglint.toml (none when empty); `origin/main` points at it and `feature` is checked out.
fn applied_repo(config: &str) -> Dir {
    let d = applied_set();
    if !config.is_empty() {
        d.write("miglint.toml", config);
    }
    d.commit_as_origin_main("applied migrations");
    d.git(&["checkout", "-q", "-b", "feature"]);
    d
}

const SET: &str = "[[set]]\ndir = \"migrations\"\n";
const EDITED: &str =
    "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    note text NOT NULL\n);\n";
/// A cosmetic edit: a comment only.
const COMMENTED: &str =
    "-- users\nCREATE TABLE users (\n    id bigint PRIMARY KEY,\n    note text\n);\n";
const TYPO: &str = "ALTER TABEL users ADD COLUMN email text;\n";

fn errors(r: &Run) -> Vec<String> {
    r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn json(d: &Dir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    d.run_env(".", &all, env)
}

// Row 1: the base the CI names wins over the config's, and a config base that is the checked
// commit itself is an error.
#[test]
fn the_ci_base_outranks_a_base_the_change_writes_into_its_own_config() {
    let d = applied_repo(SET);
    d.write("miglint.toml", format!("[git]\nbase = \"HEAD\"\n{SET}"));
    record(&d, "0001_users.sql", EDITED);
    d.commit_all("sneak an edit");
    let main = d.git(&["rev-parse", "origin/main"]);
    let event = d.join("event.json");
    std::fs::write(
        &event,
        format!("{{\"pull_request\": {{\"base\": {{\"sha\": \"{main}\"}}}}}}"),
    )
    .unwrap();
    let event = event.to_str().unwrap().to_string();
    let envs: [&[(&str, &str)]; 3] = [
        &[("GITHUB_EVENT_PATH", &event), ("GITHUB_BASE_REF", "main")],
        &[("GITHUB_BASE_REF", "main")],
        &[("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")],
    ];
    for env in envs {
        let r = json(&d, &[], env);
        assert_eq!(r.code, 1, "{env:?}: {}{}", r.stdout, r.stderr);
        assert!(
            !errors(&r).is_empty() && r.stdout.contains("0001_users.sql"),
            "{env:?}: {}",
            r.stdout
        );
    }
    // Outside CI the config's base is used, and it names the checked commit: nothing would be
    // compared, so it is refused.
    let r = json(&d, &[], &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("base"), "{}", r.stdout);
}

#[test]
fn the_action_and_the_gitlab_snippet_pass_the_base_explicitly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    assert!(
        action.contains("github.event.pull_request.base.sha")
            && action.contains("github.event.merge_group.base_sha"),
        "the action must name the event's base itself"
    );
    let gitlab = std::fs::read_to_string(root.join("docs/ci/gitlab-ci.yml")).unwrap();
    assert!(
        gitlab.contains("--base \"origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\""),
        "{gitlab}"
    );
}

#[test]
fn a_config_base_on_the_base_branch_itself_still_works() {
    // On main after a merge, `base = "origin/main"` is main itself: a normal push build.
    let d = applied_repo(&format!("[git]\nbase = \"origin/main\"\n{SET}"));
    d.git(&["checkout", "-q", "main"]);
    let r = json(&d, &[], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

// Row 2: moving the set's directory does not unprotect the old one.
#[test]
fn moving_the_set_dir_keeps_the_old_folder_checked_against_the_base() {
    for base_config in [SET, ""] {
        let d = applied_repo(base_config);
        d.write("miglint.toml", "[[set]]\ndir = \"db/migrations\"\n");
        d.write("db/migrations/0000_start.sql", "CREATE TABLE x (id int);\n");
        d.write("migrations/0001_users.sql", EDITED);
        d.commit_all("move the set");
        for extra in [
            &["--base", "origin/main"][..],
            &["--base", "origin/main", "--history"],
        ] {
            let r = json(&d, extra, &[]);
            assert_eq!(
                r.code, 1,
                "{base_config:?} {extra:?}: {}{}",
                r.stdout, r.stderr
            );
            let e = r.find("checksum-mismatch");
            assert_eq!(e["file"], "migrations/0001_users.sql");
            assert_eq!(e["severity"], "error");
            assert!(
                e["message"].as_str().unwrap().contains("base")
                    || r.stdout.contains("miglint.toml"),
                "the finding says the base's policy found it: {}",
                r.stdout
            );
        }
    }
}

// Row 3: a cosmetic edit stays rated at the base's level.
#[test]
fn cosmetic_edits_warning_in_the_change_does_not_downgrade_its_own_edit() {
    let d = applied_repo(SET);
    d.write(
        "miglint.toml",
        format!("{SET}cosmetic_edits = \"warning\"\n"),
    );
    d.write("migrations/0001_users.sql", COMMENTED);
    d.commit_all("comment");
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.find("checksum-mismatch")["severity"], "error");
    assert!(
        r.stdout.contains("cosmetic_edits"),
        "names the setting: {}",
        r.stdout
    );
}

// Row 4: `psql = false` does not hide an include.
#[test]
fn psql_false_and_an_ignore_do_not_hide_an_include() {
    let d = applied_repo(SET);
    d.write("miglint.toml", format!("{SET}psql = false\n"));
    d.write(
        "migrations/0003_more.sql",
        "-- miglint-ignore sql-parse-error\n\\ir ../x.sql\n",
    );
    d.write("x.sql", "DROP TABLE users;\n");
    d.commit_all("include");
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        errors(&r).contains(&"psql-include".to_string()),
        "{}",
        r.stdout
    );
}

// Row 5: re-rating, a baseline or a dialect in the change do not let its typo through.
#[test]
fn settings_in_the_change_do_not_hide_a_typo_in_a_new_migration() {
    for setting in [
        format!("{SET}[rules]\nsql-parse-error = \"off\"\n"),
        format!("{SET}baseline = \"9000\"\n"),
        format!("{SET}dialect = \"generic\"\n"),
        format!("{SET}[rules]\nsql-parse-error = \"warning\"\n"),
    ] {
        let d = applied_repo(SET);
        d.write("miglint.toml", &setting);
        d.write("migrations/0003_email.sql", TYPO);
        d.commit_all("typo");
        let r = json(&d, &["--base", "origin/main"], &[]);
        assert_eq!(r.code, 1, "{setting}: {}{}", r.stdout, r.stderr);
        assert!(
            errors(&r).contains(&"sql-parse-error".to_string()),
            "{setting}: {}",
            r.stdout
        );
    }
}

#[test]
fn a_change_that_tightens_a_rule_is_judged_by_the_stricter_policy() {
    let d = applied_repo(&format!("{SET}[rules]\nnumber-gap = \"warning\"\n"));
    d.write("miglint.toml", SET);
    d.write("migrations/0005_gap.sql", "SELECT 1;\n");
    d.commit_all("gap");
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.find("number-gap")["severity"], "error", "{}", r.stdout);
}

#[test]
fn a_clean_change_with_an_unchanged_config_is_clean() {
    let d = applied_repo(&format!("{SET}cosmetic_edits = \"warning\"\n"));
    d.write(
        "migrations/0003_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    d.commit_all("ok");
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// Writes `migrations/<name>` and records it in the ledger: its line replaced, or appended.
fn record(d: &Dir, name: &str, body: &str) {
    d.write(&format!("migrations/{name}"), body);
    let ledger = d.read("migrations/applied.sha256");
    let mut lines: Vec<String> = ledger
        .lines()
        .filter(|l| !l.ends_with(name))
        .map(str::to_string)
        .collect();
    lines.push(format!("{}  {name}", sha256(body.as_bytes())));
    d.write("migrations/applied.sha256", lines.join("\n") + "\n");
}

// Row 6: a file recorded on the branch and changed in a later commit of the branch.
#[test]
fn base_audits_every_commit_of_the_branch() {
    let d = applied_repo(SET);
    record(
        &d,
        "0003_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    let recorded = d.commit_all("add and record 0003");
    record(
        &d,
        "0003_email.sql",
        "ALTER TABLE users ADD COLUMN email text NOT NULL;\n",
    );
    let changed = d.commit_all("edit 0003");
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let f = r.find("rewritten-in-history");
    assert_eq!(f["severity"], "error");
    let text = f.to_string();
    assert!(
        text.contains(&recorded[..10]) && text.contains(&changed[..10]),
        "names both commits: {text}"
    );
}

#[test]
fn the_hook_refuses_the_commit_that_changes_a_file_recorded_on_the_branch() {
    let d = applied_repo(SET);
    d.git(&[
        "update-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
    ]);
    let r = d.run(&["init", "--hooks"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    record(
        &d,
        "0003_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    d.git(&["add", "-A"]);
    let out = git_with_hooks(&d, &["commit", "-q", "-m", "add and record"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    record(
        &d,
        "0003_email.sql",
        "ALTER TABLE users ADD COLUMN email text NOT NULL;\n",
    );
    d.git(&["add", "-A"]);
    let out = git_with_hooks(&d, &["commit", "-q", "-m", "edit"]);
    assert!(
        !out.status.success(),
        "the hook let it through: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("rewritten-in-history")
            || String::from_utf8_lossy(&out.stderr).contains("rewritten-in-history")
    );
}

// Row 7: committed content is judged by the bytes git stores.
#[test]
fn a_crlf_blob_under_eol_lf_is_judged_as_stored() {
    let d = Dir::new();
    d.init_repo();
    d.write(".gitattributes", "*.sql text eol=lf\n");
    let body = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
    d.write("migrations/0000_users.sql", body);
    d.write(
        "migrations/applied.sha256",
        format!("{}  0000_users.sql\n", sha256(body.as_bytes())),
    );
    d.commit_as_origin_main("applied");
    d.git(&["checkout", "-q", "-b", "feature"]);
    // A CRLF blob, stored as is (no filters), then checked out as git would.
    let crlf = body.replace('\n', "\r\n");
    d.write("crlf.tmp", &crlf);
    let id = d.git(&["hash-object", "-w", "--no-filters", "crlf.tmp"]);
    d.remove("crlf.tmp");
    d.git(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{id},migrations/0000_users.sql"),
    ]);
    d.git(&["commit", "-q", "-m", "crlf"]);
    d.git(&["checkout", "-q", "--", "migrations/0000_users.sql"]);
    d.write("migrations/0000_users.sql", &crlf);
    // What a fresh clone's sha256sum says.
    assert_ne!(sha256(crlf.as_bytes()), sha256(body.as_bytes()));
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        errors(&r).contains(&"checksum-mismatch".to_string()),
        "{}",
        r.stdout
    );
}

// Row 8: the default `migrations` linked outside the repository is never read.
#[test]
fn a_default_migrations_dir_linked_outside_is_refused() {
    let outside = Dir::new();
    outside.write("0000_secret.sql", "SELECT 'TOPSECRET' FROM;\n");
    let d = Dir::new();
    d.init_repo();
    std::os::unix::fs::symlink(outside.path(), d.join("migrations")).unwrap();
    for format in ["json", "human"] {
        let r = d.run(&["check", "--format", format]);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(!all.contains("TOPSECRET"), "{format}: {all}");
        assert!(all.contains("unsafe-path"), "{format}: {all}");
        assert_ne!(r.code, 0, "{format}: {all}");
    }
}

// Row 9: the hook reads every input from the index.
#[test]
fn staged_reads_the_config_from_the_index() {
    let d = Dir::new();
    d.init_repo();
    let body = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
    d.write("migrations/0000_users.sql", body);
    d.write(
        "migrations/applied.sha256",
        format!("{}  0000_users.sql\n", sha256(body.as_bytes())),
    );
    d.write("miglint.toml", SET);
    d.commit_all("applied");
    // Staged: an edit of the applied file. Unstaged: a config that switches the check off.
    d.write(
        "migrations/0000_users.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    d.git(&["add", "migrations/0000_users.sql"]);
    d.write(
        "miglint.toml",
        format!("{SET}[rules]\nchecksum-mismatch = \"off\"\n"),
    );
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        errors(&r).contains(&"checksum-mismatch".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn staged_reads_the_compose_file_from_the_index() {
    let d = team_repo("20251105_000002");
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"false\"\n",
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"auth/migrations\"\n[set.alembic]\ncompose = \"auth/auth.compose.yml\"\n",
    );
    d.init_repo();
    d.commit_all("team");
    let clean = d.run(&["check", "--staged", "--format", "json"]);
    assert!(
        !clean.stdout.contains("alembic-upgrade-at-start"),
        "{}",
        clean.stdout
    );
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"true\"\n",
    );
    d.git(&["add", "-A"]);
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"false\"\n",
    );
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(
        r.find("alembic-upgrade-at-start")["file"],
        "auth/auth.compose.yml",
        "{}{}",
        r.stdout,
        r.stderr
    );
}

// Row 10: a baseline covers only what exists at the base.
#[test]
fn a_baseline_does_not_cover_a_new_file() {
    let d = applied_repo(&format!("{SET}baseline = \"0120\"\n"));
    d.write("migrations/0003_email.sql", TYPO);
    d.commit_all("typo under the baseline");
    let r = json(&d, &["--base", "origin/main"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let errs = errors(&r);
    assert!(
        errs.contains(&"sql-parse-error".to_string()),
        "{}",
        r.stdout
    );
    assert!(
        errs.contains(&"baseline-covers-new".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn the_configuration_docs_baseline_example_has_no_trap() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let line = docs.lines().find(|l| l.starts_with("baseline")).unwrap();
    assert!(line.contains("exist at the base"), "{line}");
}
