//! Issue 31 (first part): numbers claimed by other open branches (`--against`), through the
//! binary, on real repositories with pull-request refs as the action would fetch them.

mod common;
use common::*;

/// main (origin/main) with 0000–0002; `refs/remotes/pr/12` adds `theirs` on its own branch;
/// `feature` (checked out) adds `ours`.
fn two_open_branches(ours: &str, theirs: &str) -> Dir {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 3);
    d.commit_as_origin_main("main");
    d.git(&["checkout", "-q", "-b", "pr12"]);
    d.write(
        &format!("migrations/{theirs}"),
        "ALTER TABLE t0 ADD COLUMN phone text;\n",
    );
    d.commit_all("pr 12");
    d.git(&["update-ref", "refs/remotes/pr/12", "pr12"]);
    d.git(&["checkout", "-q", "main"]);
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write(
        &format!("migrations/{ours}"),
        "ALTER TABLE t0 ADD COLUMN email text;\n",
    );
    d.commit_all("feature");
    d
}

fn check(d: &Dir, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--base", "origin/main", "--format", "json"];
    args.extend_from_slice(extra);
    d.run(&args)
}

#[test]
fn a_number_another_open_branch_adds_is_claimed() {
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    // Without --against nothing is known about other branches.
    assert!(!check(&d, &[])
        .codes()
        .contains(&"number-claimed".to_string()));
    let r = check(&d, &["--against", "refs/remotes/pr/*"]);
    assert_eq!(r.code, 0, "a warning by default: {}", r.stdout);
    let f = r.find("number-claimed");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["file"], "migrations/0003_add_email.sql");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("refs/remotes/pr/12") && msg.contains("0003_add_phone.sql"),
        "{msg}"
    );
    // The same from the config, and configurable to an error.
    d.write(
        "miglint.toml",
        "[git]\nagainst = [\"refs/remotes/pr/*\"]\n[[set]]\ndir = \"migrations\"\n[rules]\nnumber-claimed = \"error\"\n",
    );
    let r = check(&d, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
}

#[test]
fn other_numbers_merged_refs_and_our_own_ref_are_not_claims() {
    let d = two_open_branches("0003_add_email.sql", "0004_add_phone.sql");
    assert!(!check(&d, &["--against", "refs/remotes/pr/*"])
        .codes()
        .contains(&"number-claimed".to_string()));
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    // Our own branch under the glob, and a ref already merged into main.
    d.git(&["update-ref", "refs/remotes/pr/13", "feature"]);
    d.git(&["update-ref", "refs/remotes/pr/7", "main"]);
    d.git(&["update-ref", "-d", "refs/remotes/pr/12"]);
    let r = check(&d, &["--against", "refs/remotes/pr/*"]);
    assert!(
        !r.codes().contains(&"number-claimed".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn new_skips_a_number_another_open_branch_claims_and_says_so() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 3);
    d.commit_as_origin_main("main");
    d.git(&["checkout", "-q", "-b", "pr12"]);
    d.write("migrations/0003_add_phone.sql", "SELECT 1;\n");
    d.commit_all("pr 12");
    d.git(&["update-ref", "refs/remotes/pr/12", "pr12"]);
    d.git(&["checkout", "-q", "main"]);
    d.git(&["checkout", "-q", "-b", "feature"]);
    let env = [("MIGLINT_BASE", "origin/main")];
    let r = d.run_env(
        ".",
        &[
            "new",
            "add email",
            "--against",
            "refs/remotes/pr/*",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["created"], "migrations/0004_add_email.sql", "{v}");
    assert_eq!(v["skipped"][0]["number"], "0003");
    assert_eq!(v["skipped"][0]["claimed_by"], "refs/remotes/pr/12");
    // Without refs to look at, the next number as before.
    d.remove("migrations/0004_add_email.sql");
    let r = d.run_env(".", &["new", "add name"], &env);
    assert_eq!(
        r.stdout.trim(),
        "migrations/0003_add_name.sql",
        "{}",
        r.stderr
    );
}
