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

/// `renumber` moves this branch's migrations past the base, and past numbers other open
/// branches claim, saying which it skipped.
#[test]
fn renumber_skips_numbers_other_open_branches_claim() {
    let d = two_open_branches("0003_add_email.sql", "0004_add_phone.sql");
    // main takes 0003 meanwhile: this branch must move, and 0004 is claimed by pr/12.
    d.git(&["checkout", "-q", "main"]);
    d.write("migrations/0003_add_name.sql", "SELECT 1;\n");
    d.commit_all("main takes 0003");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d.git(&["checkout", "-q", "feature"]);
    let args = [
        "renumber",
        "--base",
        "origin/main",
        "--against",
        "refs/remotes/pr/*",
        "--format",
        "json",
    ];
    let r = d.run(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["renames"][0]["from"], "0003_add_email.sql", "{v}");
    assert_eq!(v["renames"][0]["to"], "0005_add_email.sql", "{v}");
    assert_eq!(v["skipped"][0]["number"], "0004", "{v}");
    assert_eq!(v["skipped"][0]["claimed_by"], "refs/remotes/pr/12", "{v}");
    assert!(d.join("migrations/0005_add_email.sql").exists());
    // Human output says it on stderr (the renames were staged, as `git mv` does).
    d.git(&["reset", "-q", "--hard"]);
    let r = d.run(&args[..5]);
    assert!(
        r.stderr
            .contains("skipped 0004, which refs/remotes/pr/12 adds"),
        "{}",
        r.stderr
    );
}

/// A ref that cannot be read is said (a warning naming it), never passed over; a glob that
/// matches nothing is an info line.
#[test]
fn an_unreadable_ref_is_a_warning_and_a_glob_matching_nothing_an_info() {
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    d.write(
        ".git/refs/remotes/pr/13",
        "1234567890123456789012345678901234567890\n",
    );
    let r = check(&d, &["--against", "refs/remotes/pr/*"]);
    assert_eq!(r.code, 0, "warnings: {}", r.stdout);
    let f = r.find("against-unreadable");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("refs/remotes/pr/13"),
        "{f}"
    );
    // The readable ref is still compared.
    r.find("number-claimed");
    let r = check(&d, &["--against", "refs/remotes/nothing/*"]);
    assert_eq!(r.find("against-no-match")["severity"], "info");
}

/// A shallow clone: the other branch's history does not reach the base, so its merge-base is
/// unknown: a warning naming the ref, not a silent pass.
#[test]
fn a_ref_whose_history_is_shallow_is_named() {
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    let upstream = format!("file://{}", d.path().display());
    let c = Dir::new();
    c.git(&["clone", "-q", "--no-local", &upstream, "."]);
    c.git(&["checkout", "-q", "feature"]);
    c.git(&[
        "fetch",
        "-q",
        "--depth",
        "1",
        &upstream,
        "+refs/remotes/pr/12:refs/remotes/pr/12",
    ]);
    let r = check(&c, &["--against", "refs/remotes/pr/*"]);
    let f = r.find("against-unreadable");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("refs/remotes/pr/12"), "{msg}");
}

/// A branch merged by squash (or earlier in a merge queue) adds nothing the base lacks: no
/// claim, though its commit is not in the base.
#[test]
fn a_branch_whose_files_are_in_the_base_already_claims_nothing() {
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    d.git(&["checkout", "-q", "main"]);
    d.write(
        "migrations/0003_add_phone.sql",
        "ALTER TABLE t0 ADD COLUMN phone text;\n",
    );
    d.commit_all("squash of pr 12");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d.git(&["checkout", "-q", "feature"]);
    let r = check(&d, &["--against", "refs/remotes/pr/*"]);
    assert!(
        !r.codes().contains(&"number-claimed".to_string()),
        "{}",
        r.stdout
    );
    // this branch now meets the base itself
    assert!(
        r.codes().contains(&"number-conflict".to_string()),
        "{}",
        r.stdout
    );
}

/// The markdown summary links the other pull request (GitHub) or merge request (GitLab), as a
/// CommonMark parser reads it.
#[test]
fn the_markdown_summary_links_the_other_pull_request() {
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    let links = |env: &[(&str, &str)], reference: &str| {
        d.git(&["update-ref", reference, "pr12"]);
        let r = d.run_env(
            ".",
            &[
                "check",
                "--base",
                "origin/main",
                "--against",
                "refs/remotes/*",
                "--format",
                "markdown",
            ],
            env,
        );
        d.git(&["update-ref", "-d", reference]);
        let mut out = Vec::new();
        for e in pulldown_cmark::Parser::new(&r.stdout) {
            if let pulldown_cmark::Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) = e {
                out.push(dest_url.to_string());
            }
        }
        out
    };
    d.git(&["update-ref", "-d", "refs/remotes/pr/12"]);
    let github = [
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/app"),
    ];
    let l = links(&github, "refs/remotes/pr/12");
    assert!(
        l.contains(&"https://github.com/acme/app/pull/12".to_string()),
        "{l:?}"
    );
    let gitlab = [("CI_PROJECT_URL", "https://gitlab.example.com/acme/app")];
    let l = links(&gitlab, "refs/remotes/mr/7");
    assert!(
        l.contains(&"https://gitlab.example.com/acme/app/-/merge_requests/7".to_string()),
        "{l:?}"
    );
    // A ref that is not a review's head gets no link.
    let l = links(&github, "refs/remotes/colleague/wip");
    assert!(!l.iter().any(|u| u.contains("/pull/")), "{l:?}");
}

/// In a merge queue the base is the queue's commit (`merge_group.base_sha`), which holds the
/// earlier entries: one merged there claims nothing; this branch meets its number in the base.
#[test]
fn in_a_merge_queue_earlier_entries_count_as_merged() {
    let d = two_open_branches("0003_add_email.sql", "0003_add_phone.sql");
    d.git(&[
        "checkout",
        "-q",
        "-b",
        "gh-readonly-queue/main/pr-12",
        "main",
    ]);
    d.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #12",
        "pr12",
    ]);
    let queue = d.git(&["rev-parse", "HEAD"]).trim().to_string();
    d.git(&["checkout", "-q", "feature"]);
    let r = d.run(&[
        "check",
        "--base",
        &queue,
        "--against",
        "refs/remotes/pr/*",
        "--format",
        "json",
    ]);
    let codes = r.codes();
    assert!(
        !codes.contains(&"number-claimed".to_string()),
        "{}",
        r.stdout
    );
    assert!(
        codes.contains(&"number-conflict".to_string()),
        "{}",
        r.stdout
    );
}
