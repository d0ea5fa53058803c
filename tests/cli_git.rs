//! Git-history immutability through the real binary, on real repositories built in temp dirs.

mod common;
use common::*;

/// While `feature` is checked out, `main` (and `origin/main`) gains these files in one commit.
fn main_gains(d: &Dir, files: &[(&str, &str)], message: &str) {
    d.git(&["checkout", "-q", "main"]);
    for (path, content) in files {
        d.write(path, content);
    }
    d.commit_all(message);
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d.git(&["checkout", "-q", "feature"]);
}

/// main: 0000–0004 merged; `origin/main` points at it.
fn merged_repo() -> Dir {
    let d = Dir::new();
    d.init_repo();
    for (i, name) in ["init", "users", "roles", "grants", "audit"]
        .iter()
        .enumerate()
    {
        d.write(
            &format!("migrations/{i:04}_{name}.sql"),
            format!("CREATE TABLE {name} (\n    id bigint PRIMARY KEY,\n    note text\n);\n"),
        );
    }
    d.commit_all("base migrations");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d
}

#[test]
fn a_branch_gets_all_four_findings_and_the_renumber_hint() {
    let d = merged_repo();
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write(
        "migrations/0001_users.sql",
        "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    email text\n);\n",
    );
    d.remove("migrations/0002_roles.sql");
    std::fs::rename(
        d.join("migrations/0003_grants.sql"),
        d.join("migrations/0003_permissions.sql"),
    )
    .unwrap();
    d.write(
        "migrations/0005_add_email.sql",
        "ALTER TABLE users ADD COLUMN email2 text;\n",
    );
    d.commit_all("feature work");
    // Meanwhile main gained its own 0005.
    main_gains(
        &d,
        &[(
            "migrations/0005_add_phone.sql",
            "ALTER TABLE users ADD COLUMN phone text;\n",
        )],
        "main moves on",
    );

    let r = check_json(&d, "origin/main");
    assert_eq!(r.code, 1, "{}", r.stdout);
    let m = r.find("modified-after-merge");
    assert_eq!(
        (m["file"].as_str(), m["line"].as_u64()),
        (Some("migrations/0001_users.sql"), Some(3)),
        "first changed line"
    );
    assert!(m["help"].as_str().unwrap().contains("new migration"));
    assert_eq!(
        r.find("deleted-after-merge")["file"],
        "migrations/0002_roles.sql"
    );
    assert_eq!(
        r.find("renamed-after-merge")["file"],
        "migrations/0003_permissions.sql"
    );
    let c = r.find("number-conflict");
    assert_eq!(c["file"], "migrations/0005_add_email.sql");
    assert!(
        c["help"]
            .as_str()
            .unwrap()
            .contains("rename to `0006_add_email.sql`"),
        "{c}"
    );
    // The base is found without --base too, through origin/HEAD or the config.
    d.write(
        "miglint.toml",
        "[git]\nbase = \"origin/main\"\n[[set]]\ndir = \"migrations\"\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert!(r.codes().contains(&"number-conflict".to_string()));
    // And through MIGLINT_BASE.
    std::fs::remove_file(d.join("miglint.toml")).unwrap();
    let r = d.run_env(
        ".",
        &["check", "--format", "json"],
        &[("MIGLINT_BASE", "origin/main")],
    );
    assert!(r.codes().contains(&"number-conflict".to_string()));
    // And through GITHUB_BASE_REF (→ origin/<it>).
    let r = d.run_env(
        ".",
        &["check", "--format", "json"],
        &[("GITHUB_BASE_REF", "main")],
    );
    assert!(r.codes().contains(&"number-conflict".to_string()));
}

#[test]
fn renumber_fixes_a_number_conflict_so_check_passes() {
    let d = merged_repo();
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write(
        "migrations/0005_add_email.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    d.write(
        "migrations/0006_index_email.sql",
        "CREATE INDEX users_email ON users (email);\n",
    );
    d.commit_all("feature");
    main_gains(
        &d,
        &[(
            "migrations/0005_add_phone.sql",
            "ALTER TABLE users ADD COLUMN phone text;\n",
        )],
        "main",
    );
    d.git(&["merge", "-q", "--no-edit", "main"]);
    let r = check_json(&d, "origin/main");
    assert_eq!(r.code, 1);
    let dry = d.run(&["renumber", "--base", "origin/main", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains("would rename 0005_add_email.sql -> 0006_add_email.sql"),
        "{}",
        dry.stdout
    );
    assert!(
        d.join("migrations/0005_add_email.sql").exists(),
        "dry run changes nothing"
    );
    let r = d.run(&["renumber", "--base", "origin/main"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .contains("renamed 0006_index_email.sql -> 0007_index_email.sql"));
    let r = check_json(&d, "origin/main");
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn renumber_refuses_recorded_files() {
    let d = merged_repo();
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write("migrations/0004_mine.sql", "SELECT 1;\n");
    let digest = sha256(d.read("migrations/0004_mine.sql").as_bytes());
    d.write(
        "migrations/applied.sha256",
        format!("{digest}  0004_mine.sql\n"),
    );
    let r = d.run(&["renumber", "--base", "origin/main"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("recorded as applied"), "{}", r.stderr);
}

#[test]
fn out_of_order_against_the_base_tip() {
    let d = merged_repo();
    d.git(&["checkout", "-q", "-b", "feature", "HEAD~0"]);
    main_gains(
        &d,
        &[
            ("migrations/0005_a.sql", "SELECT 1;\n"),
            ("migrations/0006_b.sql", "SELECT 1;\n"),
        ],
        "main gets 5 and 6",
    );
    d.write("migrations/0005_mine.sql", "SELECT 1;\n");
    let r = check_json(&d, "origin/main");
    assert!(
        r.codes().contains(&"number-conflict".to_string()),
        "{:?}",
        r.codes()
    );
    assert!(r.find("number-conflict")["help"]
        .as_str()
        .unwrap()
        .contains("0007_mine.sql"));
}

#[test]
fn lock_rewritten_when_the_ledger_is_not_appended_to() {
    let d = merged_repo();
    let line = |n: &str| {
        format!(
            "{}  {n}\n",
            sha256(d.read(&format!("migrations/{n}")).as_bytes())
        )
    };
    d.write(
        "migrations/applied.sha256",
        line("0000_init.sql") + &line("0001_users.sql"),
    );
    d.commit_all("record");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d.write(
        "migrations/applied.sha256",
        line("0000_init.sql") + &line("0001_users.sql") + &line("0002_roles.sql"),
    );
    assert!(!d
        .run(&[
            "check",
            "migrations",
            "--base",
            "origin/main",
            "--format",
            "json"
        ])
        .codes()
        .contains(&"lock-rewritten".to_string()));
    d.write("migrations/applied.sha256", line("0001_users.sql"));
    let r = check_json(&d, "origin/main");
    let l = r.find("lock-rewritten");
    assert_eq!(
        (l["file"].as_str(), l["line"].as_u64()),
        (Some("migrations/applied.sha256"), Some(1))
    );
}

#[test]
fn shallow_clone_is_exit_2_with_the_fix() {
    let d = merged_repo();
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write("migrations/0005_x.sql", "SELECT 1;\n");
    d.commit_all("f1");
    d.write("migrations/0006_y.sql", "SELECT 1;\n");
    d.commit_all("f2");
    d.git(&["checkout", "-q", "main"]);
    d.write("migrations/0005_z.sql", "SELECT 1;\n");
    d.commit_all("m1");
    d.git(&["checkout", "-q", "feature"]);
    let clone = Dir::new();
    let url = format!("file://{}", d.path().display());
    clone.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        "--no-single-branch",
        "--branch",
        "feature",
        &url,
        "c",
    ]);
    let r = clone.run_in(
        "c",
        &[
            "check",
            "migrations",
            "--base",
            "origin/main",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    let s = r.find("shallow-clone");
    assert!(
        s["help"].as_str().unwrap().contains("fetch-depth: 0")
            && s["help"]
                .as_str()
                .unwrap()
                .contains("git fetch --unshallow")
    );
    let h = clone.run_in("c", &["check", "migrations", "--base", "origin/main"]);
    assert!(h.stderr.contains("miglint::shallow-clone"), "{}", h.stderr);
}

#[test]
fn base_not_found_and_no_base() {
    let d = merged_repo();
    let r = check_json(&d, "origin/mian");
    assert_eq!(r.code, 2);
    assert!(r.find("base-not-found")["message"]
        .as_str()
        .unwrap()
        .contains("`origin/mian`"));
    let r = check_json(&d, "nosuch");
    assert!(
        r.find("base-not-found")["message"]
            .as_str()
            .unwrap()
            .contains("`origin/nosuch`"),
        "tried names are listed"
    );
    // No base named and no origin/HEAD: one info finding, exit 0.
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.find("no-base")["severity"], "info");
    // Outside git, --base is a clear error.
    let plain = Dir::new();
    valid_set(&plain, "migrations", 1);
    let r = plain.run(&["check", "--base", "main"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not-a-repository"), "{}", r.stderr);
    assert_eq!(plain.run(&["check", "--staged"]).code, 2);
}

#[test]
fn staged_sees_the_index_not_the_work_tree() {
    let d = merged_repo();
    let original = d.read("migrations/0001_users.sql");
    d.write(
        "migrations/0001_users.sql",
        original.replace("note text", "note varchar(10)"),
    );
    d.git(&["add", "migrations/0001_users.sql"]);
    d.write("migrations/0001_users.sql", &original);
    d.write("migrations/0005_unstaged_broken.sql", "SELEC 1;\n");
    let r = d.run(&["check", "--staged", "--base", "main", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.codes(),
        vec!["modified-after-merge"],
        "the unstaged broken file is not checked"
    );
    let r = check_json(&d, "main");
    assert_eq!(
        r.codes(),
        vec!["sql-parse-error"],
        "the work tree has the revert and the broken file"
    );
    // A staged broken file is caught by --staged.
    d.git(&["add", "migrations/0005_unstaged_broken.sql"]);
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert!(r.codes().contains(&"sql-parse-error".to_string()));
}

#[test]
fn history_names_the_commit_that_rewrote_a_migration() {
    let d = merged_repo();
    d.write("migrations/0005_more.sql", "SELECT 1;\n");
    d.commit_all("add 0005");
    let content = d.read("migrations/0002_roles.sql");
    d.write(
        "migrations/0002_roles.sql",
        content.replace("note text", "note text NOT NULL"),
    );
    let bad = d.commit_all("sneaky edit");
    d.write("migrations/0006_x.sql", "SELECT 1;\n");
    d.commit_all("add 0006");
    let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert_eq!(r.code, 1);
    let f = r.find("rewritten-in-history");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(&bad[..10]) && msg.contains("Ada Tester"),
        "{msg}"
    );
    assert_eq!(f["file"], "migrations/0002_roles.sql");
    assert_eq!(
        r.codes()
            .iter()
            .filter(|c| *c == "rewritten-in-history")
            .count(),
        1
    );
}

#[test]
fn github_merge_group_payload_selects_the_base() {
    let d = merged_repo();
    let first = d.git(&["rev-parse", "HEAD"]);
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write("migrations/0005_mine.sql", "SELECT 1;\n");
    d.commit_all("feature");
    // origin/main moves on, but the merge queue's base_sha is the first commit.
    main_gains(&d, &[("migrations/0005_theirs.sql", "SELECT 1;\n")], "main");
    d.write(
        "event.json",
        format!("{{\"merge_group\": {{\"base_sha\": \"{first}\", \"head_sha\": \"x\"}}}}"),
    );
    let ev = d.join("event.json");
    let r = d.run_env(
        ".",
        &["check", "migrations", "--format", "json"],
        &[
            ("GITHUB_EVENT_PATH", ev.to_str().unwrap()),
            ("GITHUB_BASE_REF", "main"),
        ],
    );
    assert_eq!(
        r.code, 0,
        "the payload's base_sha wins over GITHUB_BASE_REF: {}",
        r.stdout
    );
    assert!(
        r.json()["base"].as_str().unwrap().contains(&first[..10])
            || r.json()["base"].as_str().unwrap().starts_with(&first[..10])
    );
    // A pull_request payload's base.sha is used the same way.
    let tip = d.git(&["rev-parse", "main"]);
    d.write(
        "event.json",
        format!("{{\"pull_request\": {{\"base\": {{\"sha\": \"{tip}\"}}}}}}"),
    );
    let r = d.run_env(
        ".",
        &["check", "migrations", "--format", "json"],
        &[("GITHUB_EVENT_PATH", ev.to_str().unwrap())],
    );
    assert!(
        r.codes().contains(&"number-conflict".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn init_hooks_installs_and_refuses_to_overwrite() {
    let d = merged_repo();
    let r = d.run(&["init", "--hooks"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hook = d.join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("miglint check --staged"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert!(std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111 != 0);
    }
    assert_eq!(
        d.run(&["init", "--hooks"]).code,
        0,
        "same content: already installed"
    );
    d.write(".git/hooks/pre-commit", "#!/bin/sh\necho mine\n");
    let r = d.run(&["init", "--hooks"]);
    assert_eq!(r.code, 2);
    // core.hooksPath is respected.
    d.git(&["config", "core.hooksPath", ".githooks"]);
    assert_eq!(d.run(&["init", "--hooks"]).code, 0);
    assert!(d.join(".githooks/pre-push").exists());
}

#[test]
fn the_pre_commit_hook_blocks_a_bad_commit() {
    let d = merged_repo();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_miglint"))
        .parent()
        .unwrap()
        .to_path_buf();
    assert_eq!(d.run(&["init", "--hooks"]).code, 0);
    d.write("migrations/0005_bad.sql", "SELEC 1;\n");
    d.git(&["add", "-A"]);
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("git")
        .args(["commit", "-q", "-m", "bad"])
        .current_dir(d.path())
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@x")
        .env("GIT_COMMITTER_NAME", "A")
        .env("GIT_COMMITTER_EMAIL", "a@x")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the hook must block the commit");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("sql-parse-error"), "{printed}");
    // Without miglint on PATH the hook says so.
    let out = std::process::Command::new("sh")
        .arg(".git/hooks/pre-commit")
        .current_dir(d.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not on PATH"));
}

#[test]
fn history_audits_resume_and_never_lose_findings() {
    let d = merged_repo();
    let edit = |rel: &str| {
        let c = d.read(rel);
        d.write(rel, c.replace("note text", "note text NOT NULL"));
    };
    edit("migrations/0002_roles.sql");
    let first_bad = d.commit_all("edit 0002");
    let audit = || {
        let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
        let mut msgs: Vec<String> = r.json()["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["code"] == "rewritten-in-history")
            .map(|x| x["message"].as_str().unwrap().to_string())
            .collect();
        msgs.sort();
        msgs
    };
    let once = audit();
    assert_eq!(once.len(), 1);
    assert_eq!(
        audit(),
        once,
        "a resumed audit with no new commits reports the same"
    );
    // A new rewrite after the saved point is found, and the old finding is kept.
    edit("migrations/0003_grants.sql");
    let second_bad = d.commit_all("edit 0003");
    let twice = audit();
    assert_eq!(twice.len(), 2, "{twice:?}");
    assert!(
        twice.iter().any(|m| m.contains(&first_bad[..10]))
            && twice.iter().any(|m| m.contains(&second_bad[..10]))
    );
    // Rewritten history (HEAD no longer descends from the saved point) is audited in full.
    d.git(&["reset", "-q", "--hard", "HEAD~1"]);
    assert_eq!(audit(), once);
    // A corrupt saved state is ignored.
    for e in std::fs::read_dir(d.join(".git/miglint")).unwrap().flatten() {
        std::fs::write(e.path(), b"{broken").unwrap();
    }
    assert_eq!(audit(), once);
}

/// Issue 14: a revert that restores a migration's first committed text is not a second
/// "changed" error: it is a fact of the rewrite it undoes.
#[test]
fn a_revert_in_history_is_a_fact_of_the_rewrite_it_undoes() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 2);
    d.commit_all("base");
    let original = d.read("migrations/0001_step_1.sql");
    d.write(
        "migrations/0001_step_1.sql",
        "CREATE TABLE t1 (id bigint PRIMARY KEY);\n",
    );
    d.commit_all("edit in place");
    // An audit between the two commits: the next one resumes from its saved state.
    let first = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert_eq!(first.code, 1, "{}", first.stdout);
    d.write("migrations/0001_step_1.sql", &original);
    d.commit_all("revert the edit");
    let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let rewrites: Vec<_> = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "rewritten-in-history")
        .cloned()
        .collect();
    assert_eq!(rewrites.len(), 1, "{}", r.stdout);
    let related = rewrites[0]["related"].as_array().unwrap();
    assert!(
        related.iter().any(|x| x["message"]
            .as_str()
            .unwrap()
            .contains("restored its first committed text")),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("no longer matches"), "{}", r.stdout);
}

/// `--staged` reads large sets' blobs in parallel: still exactly the index's bytes, file by file.
#[test]
fn staged_checks_of_large_sets_read_each_staged_blob() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 700);
    d.commit_all("base");
    // Staged: a typo in 0650 and a new 0700; the work tree has 0650 fixed again.
    d.write(
        "migrations/0650_step_650.sql",
        "ALTER TABEL t1 ADD COLUMN x int;\n",
    );
    d.write("migrations/0700_new.sql", "CREATE TABLE t700 (id int);\n");
    d.git(&["add", "-A"]);
    d.write(
        "migrations/0650_step_650.sql",
        "CREATE TABLE t650 (id bigint PRIMARY KEY, name text NOT NULL);\n",
    );
    let r = d.run(&["check", "migrations", "--staged", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let errors: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|x| x.0 == "sql-parse-error")
        .collect();
    assert_eq!(errors.len(), 1, "{}", r.stdout);
    assert_eq!(errors[0].1.as_deref(), Some("migrations/0650_step_650.sql"));
    assert_eq!(r.json()["summary"]["files"], 701);
    assert_eq!(
        d.run(&["check", "migrations"]).code,
        0,
        "the work tree is clean"
    );
}
