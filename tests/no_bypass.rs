//! Issue 12: the guard cannot be walked around. Each test is one row of the table,
//! reproduced through the real binary (and git's own hooks) on real repositories.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

/// main: 0000–0002 applied (recorded in the ledger) and merged; `origin/main` points at it.
fn applied_repo() -> Dir {
    let d = applied_set();
    d.commit_as_origin_main("applied migrations");
    d
}

const EDIT: &str = "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    note text NOT NULL\n);\n";

#[test]
fn the_pre_commit_hook_blocks_every_commit_form_that_carries_an_applied_edit() {
    let d = applied_repo();
    let r = d.run(&["init", "--hooks"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Each commit form, from a clean state: the edit of an applied file must be refused.
    type Form = &'static [&'static str];
    let forms: &[(Form, Form)] = &[
        (&[], &["commit", "-q", "-am", "x"]),
        (
            &[],
            &["commit", "-q", "-m", "x", "migrations/0001_users.sql"],
        ),
        (
            &[],
            &[
                "commit",
                "-q",
                "--only",
                "-m",
                "x",
                "migrations/0001_users.sql",
            ],
        ),
        (
            &[],
            &[
                "commit",
                "-q",
                "--include",
                "-m",
                "x",
                "migrations/0001_users.sql",
            ],
        ),
        (
            &["add", "migrations/0001_users.sql"],
            &["commit", "-q", "-m", "x"],
        ),
        (
            &["add", "migrations/0001_users.sql"],
            &["commit", "-q", "--amend", "--no-edit"],
        ),
    ];
    for (prep, form) in forms {
        d.write("migrations/0001_users.sql", EDIT);
        if !prep.is_empty() {
            d.git(prep);
        }
        let out = git_with_hooks(&d, form);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "`git {form:?}` let an applied edit through:\n{text}"
        );
        assert!(text.contains("checksum-mismatch"), "{form:?}: {text}");
        d.git(&["checkout", "-q", "HEAD", "--", "migrations/0001_users.sql"]);
        d.git(&["reset", "-q"]);
    }
    // A clean commit passes through the same hook.
    d.write(
        "migrations/0003_more.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    let out = git_with_hooks(
        &d,
        &[
            "commit",
            "-q",
            "--include",
            "-m",
            "ok",
            "migrations/0003_more.sql",
        ],
    );
    // --include needs the path tracked: add it first.
    if !out.status.success() {
        d.git(&["add", "migrations/0003_more.sql"]);
        let out = git_with_hooks(&d, &["commit", "-q", "-m", "ok"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // An edit hidden in the work tree only (not staged) does not block an unrelated commit...
    d.write("migrations/0002_roles.sql", "DROP TABLE roles;\n");
    d.write("notes.txt", "x\n");
    d.git(&["add", "notes.txt"]);
    let out = git_with_hooks(&d, &["commit", "-q", "-m", "notes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ...but `commit -a` carries it and is refused.
    let out = git_with_hooks(&d, &["commit", "-q", "-am", "sneak"]);
    assert!(!out.status.success());
}

#[test]
fn a_merge_commit_carrying_an_applied_edit_is_blocked() {
    let d = applied_repo();
    assert_eq!(d.run(&["init", "--hooks"]).code, 0);
    d.git(&["checkout", "-q", "-b", "side"]);
    d.write("migrations/0001_users.sql", EDIT);
    d.git(&["commit", "-q", "--no-verify", "-am", "bad side"]);
    d.git(&["checkout", "-q", "main"]);
    d.write("other.txt", "x\n");
    d.git(&["add", "other.txt"]);
    assert!(git_with_hooks(&d, &["commit", "-q", "-m", "main moves"])
        .status
        .success());
    let out = git_with_hooks(&d, &["merge", "--no-ff", "--no-edit", "side"]);
    assert!(
        !out.status.success(),
        "merge let the edit through: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_environment_selects_the_repository_and_index() {
    let d = applied_repo();
    let elsewhere = Dir::new();
    let git_dir = d.join(".git");
    let env = [
        ("GIT_DIR", git_dir.to_str().unwrap()),
        ("GIT_WORK_TREE", d.path().to_str().unwrap()),
    ];
    d.write("migrations/0001_users.sql", EDIT);
    d.git(&["add", "-A"]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miglint"));
    cmd.args(["check", "--staged", "--format", "json"])
        .current_dir(elsewhere.path())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("checksum-mismatch"), "{stdout}");
    // A plain check from elsewhere runs on the named work tree, with the git checks.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miglint"));
    cmd.args(["check", "--base", "origin/main", "--format", "json"])
        .current_dir(elsewhere.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let stdout = String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned();
    assert!(stdout.contains("modified-after-merge"), "{stdout}");
    // A temporary index (what `git commit -a` hands its hooks) is what --staged reads.
    d.git(&["reset", "-q"]);
    let tmp_index = d.join(".git/tmp-index");
    std::fs::copy(d.join(".git/index"), &tmp_index).unwrap();
    let r = d.run_env(
        ".",
        &["check", "--staged", "--format", "json"],
        &[("GIT_INDEX_FILE", tmp_index.to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    Command::new("git")
        .args(["add", "migrations/0001_users.sql"])
        .current_dir(d.path())
        .env("GIT_INDEX_FILE", &tmp_index)
        .status()
        .unwrap();
    let r = d.run_env(
        ".",
        &["check", "--staged", "--format", "json"],
        &[("GIT_INDEX_FILE", tmp_index.to_str().unwrap())],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.codes().contains(&"checksum-mismatch".to_string()));
}

#[test]
fn directives_cannot_silence_protection() {
    let d = applied_repo();
    d.write(
        "migrations/0001_users.sql",
        format!("{EDIT}-- miglint-ignore-file\n"),
    );
    let r = d.run(&[
        "check",
        "migrations",
        "--base",
        "origin/main",
        "--history",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let codes = r.codes();
    assert!(
        codes.contains(&"checksum-mismatch".to_string()),
        "{codes:?}"
    );
    // The merged-file fact travels with the root cause (one finding per problem).
    let f = r.find("checksum-mismatch");
    assert_eq!(f["related"][0]["code"], "modified-after-merge", "{f}");
    // The file-wide directive silenced nothing it may silence: it is reported as unused.
    assert!(codes.contains(&"unused-ignore".to_string()), "{codes:?}");
    d.git(&["checkout", "-q", "--", "migrations"]);

    d.write(
        "migrations/0003_pending.sql",
        "-- miglint-ignore-file unrecorded-migrations\nALTER TABLE users ADD COLUMN email text;\n",
    );
    let r = d.run(&[
        "check",
        "migrations",
        "--require-recorded",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.codes().contains(&"unrecorded-migrations".to_string()));

    // A typo in a directive is a warning with a suggestion; a reason after `--` is allowed.
    d.write(
        "migrations/0003_pending.sql",
        "-- miglint-ignore-file empty-migratoin\n-- miglint-ignore-file empty-migration -- kept for the audit trail\n",
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let u = r.find("unknown-ignore-code");
    assert!(
        u["help"].as_str().unwrap().contains("empty-migration"),
        "{u}"
    );
    assert!(
        !r.codes().contains(&"empty-migration".to_string()),
        "{:?}",
        r.codes()
    );
    assert!(
        !r.codes().contains(&"unused-ignore".to_string()),
        "{:?}",
        r.codes()
    );
}

#[test]
fn a_set_at_the_repository_root_is_checked_from_every_source() {
    let d = Dir::new();
    d.init_repo();
    d.write("miglint.toml", "[[set]]\ndir = \".\"\n");
    d.write("0000_init.sql", "CREATE TABLE t (id int);\n");
    d.commit_as_origin_main("root set");
    d.write("0001_typo.sql", "ALTER TABEL t ADD COLUMN x int;\n");
    d.git(&["add", "-A"]);
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.codes().contains(&"sql-parse-error".to_string()));
    d.git(&["reset", "-q", "--hard"]);
    d.write("0000_init.sql", "CREATE TABLE t (id bigint);\n");
    let r = d.run(&["check", "--base", "origin/main", "--format", "json"]);
    assert!(
        r.codes().contains(&"modified-after-merge".to_string()),
        "{:?}",
        r.codes()
    );
    d.commit_all("edit");
    let r = d.run(&["check", "--history", "--format", "json"]);
    assert!(
        r.codes().contains(&"rewritten-in-history".to_string()),
        "{:?}",
        r.codes()
    );
}

#[test]
fn a_configured_set_with_no_migrations_is_not_a_pass() {
    let d = Dir::new();
    d.init_repo();
    d.write("miglint.toml", "[[set]]\ndir = \"db/migrations\"\n");
    d.write("db/migrations/README", "x\n");
    d.commit_all("empty");
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.codes().contains(&"empty-set".to_string()), "{}", r.stdout);
}

#[test]
fn a_set_inside_a_submodule_is_refused_clearly() {
    let sub = Dir::new();
    sub.init_repo();
    sub.write("migrations/0000_init.sql", "CREATE TABLE t (id int);\n");
    sub.commit_all("sub");
    let d = Dir::new();
    d.init_repo();
    d.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.path().to_str().unwrap(),
        "vendor/db",
    ]);
    d.write("miglint.toml", "[[set]]\ndir = \"vendor/db/migrations\"\n");
    d.commit_all("with submodule");
    for args in [
        &["check", "--staged"][..],
        &["check", "--base", "main"][..],
        &["check"][..],
    ] {
        let r = d.run(&[args, &["--format", "json"]].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(r.stdout.contains("submodule"), "{}", r.stdout);
    }
    // A submodule recorded in the index but not checked out (no `.git` in the work tree): the
    // work tree holds no set to read, and the index names the submodule. Neither passes.
    std::fs::remove_dir_all(d.path().join("vendor/db")).unwrap();
    std::fs::create_dir_all(d.path().join("vendor/db")).unwrap();
    for args in [&["check", "--staged"][..], &["check"][..]] {
        let r = d.run(&[args, &["--format", "json"]].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
    }
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert!(r.stdout.contains("submodule"), "{}", r.stdout);
}

#[test]
fn the_same_path_added_on_both_sides_with_different_sql_conflicts() {
    let d = applied_repo();
    d.diverge(
        &[(
            "migrations/0003_add_email.sql",
            "ALTER TABLE users ADD COLUMN email text;\n",
        )],
        &[(
            "migrations/0003_add_email.sql",
            "ALTER TABLE users ADD COLUMN email varchar(200);\n",
        )],
    );
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    let r = check_json(&d, "main");
    assert_eq!(r.code, 1, "{}", r.stdout);
    let c = r.find("number-conflict");
    assert_eq!(c["file"], "migrations/0003_add_email.sql");
    assert!(
        c["message"].as_str().unwrap().contains("varchar(200)"),
        "{c}"
    );
}

#[test]
fn an_autocrlf_checkout_gives_the_result_of_an_lf_checkout() {
    let d = applied_repo();
    let clone = Dir::new();
    let out = Command::new("git")
        .args(["clone", "-q", "-c", "core.autocrlf=true"])
        .arg(d.path())
        .arg(clone.path().join("c"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", clone.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let c = clone.join("c");
    let raw = std::fs::read(c.join("migrations/0001_users.sql")).unwrap();
    assert!(
        raw.windows(2).any(|w| w == b"\r\n"),
        "the checkout converted line endings"
    );
    let r = clone.run_in(
        "c",
        &[
            "check",
            "--base",
            "origin/main",
            "--history",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    // A real edit is still found, in the canonical form.
    std::fs::write(
        c.join("migrations/0001_users.sql"),
        EDIT.replace('\n', "\r\n"),
    )
    .unwrap();
    let r = clone.run_in("c", &["check", "--base", "origin/main", "--format", "json"]);
    assert!(
        r.codes().contains(&"checksum-mismatch".to_string()),
        "{:?}",
        r.codes()
    );
    // `record` accepts the clean checkout and records what git stores (LF bytes).
    std::fs::write(c.join("migrations/0001_users.sql"), raw).unwrap();
    std::fs::write(c.join("migrations/0003_x.sql"), "SELECT 1;\r\n").unwrap();
    let r = clone.run_in("c", &["record", "0003"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ledger = std::fs::read_to_string(c.join("migrations/applied.sha256")).unwrap();
    assert!(ledger.contains(&sha256(b"SELECT 1;\n")), "{ledger}");
}

#[test]
fn only_ascii_case_changes_are_cosmetic() {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "migrations/0000_init.sql",
        "CREATE TABLE straße (id int);\n",
    );
    d.commit_as_origin_main("x");
    d.write(
        "migrations/0000_init.sql",
        "CREATE TABLE STRASSE (id int);\n",
    );
    let r = check_json(&d, "origin/main");
    let m = r.find("modified-after-merge");
    assert!(
        !m["message"].as_str().unwrap().contains("only comments"),
        "{m}"
    );
    d.write(
        "migrations/0000_init.sql",
        "create table straße (ID INT);\n",
    );
    let r = check_json(&d, "origin/main");
    let m = r.find("modified-after-merge");
    assert!(
        m["message"].as_str().unwrap().contains("only comments"),
        "{m}"
    );
}

#[test]
fn the_pre_commit_framework_hooks_check_what_is_staged() {
    let hooks = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for entry in hooks
        .lines()
        .filter(|l| l.trim_start().starts_with("entry:"))
    {
        assert!(entry.contains("--staged"), "{entry}");
    }
    // The consequence: an untracked work-in-progress file does not block a commit.
    let d = applied_repo();
    d.write("migrations/0003_wip.sql", "ALTER TABEL oops;\n");
    let r = d.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn an_unreadable_commit_on_the_audited_line_fails_closed() {
    let d = applied_repo();
    d.write("x.txt", "x\n");
    d.commit_all("next");
    // A commit whose committer line git accepts but libgit2 rejects.
    let tree = d.git(&["rev-parse", "HEAD^{tree}"]);
    let parent = d.git(&["rev-parse", "HEAD"]);
    let raw = format!(
        "tree {tree}\nparent {parent}\nauthor Ada <a@example.com> 1700000000 +0000\ncommitter Ada <a@example.com> 99999999999999999999 +0000\n\nodd\n"
    );
    let f = d.join("raw-commit");
    std::fs::write(&f, raw).unwrap();
    let id = d.git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        "--literally",
        f.to_str().unwrap(),
    ]);
    d.git(&["update-ref", "refs/heads/main", &id]);
    std::fs::remove_file(&f).unwrap();
    let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains(&id[..10]), "{}", r.stdout);
}

#[test]
fn renumber_then_every_check_passes_before_the_rebase() {
    let d = applied_repo();
    d.diverge(
        &[(
            "migrations/0003_add_email.sql",
            "ALTER TABLE users ADD COLUMN email text;\n",
        )],
        &[
            (
                "migrations/0003_add_phone.sql",
                "ALTER TABLE users ADD COLUMN phone text;\n",
            ),
            (
                "migrations/0004_add_age.sql",
                "ALTER TABLE users ADD COLUMN age int;\n",
            ),
        ],
    );
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    let r = check_json(&d, "origin/main");
    assert!(r.codes().contains(&"number-conflict".to_string()));
    let out = d.run(&["renumber", "--base", "origin/main"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        (out.stdout.clone() + &out.stderr).contains("git rebase origin/main"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // renumber records the rename in the index, as `git mv` does.
    let status = d.git(&["status", "--porcelain"]);
    assert!(
        status.contains("R  migrations/0003_add_email.sql -> migrations/0005_add_email.sql"),
        "{status}"
    );
    d.git(&["add", "-A"]);
    for args in [
        &["check", "--base", "origin/main"][..],
        &["check", "--staged", "--base", "origin/main"][..],
    ] {
        let r = d.run(&[args, &["--format", "json"]].concat());
        assert_eq!(r.code, 0, "{args:?}: {}", r.stdout);
    }
}

#[test]
fn no_help_proposes_renaming_an_applied_or_merged_file() {
    let d = applied_repo();
    d.write("migrations/0003_more.sql", "SELECT 1;\n");
    let body = "SELECT 1;\n";
    let mut ledger = d.read("migrations/applied.sha256");
    ledger.push_str(&format!("{}  0003_more.sql\n", sha256(body.as_bytes())));
    d.write("migrations/applied.sha256", ledger);
    d.commit_as_origin_main("0003");
    // Delete an applied file.
    d.remove("migrations/0002_roles.sql");
    let r = check_json(&d, "origin/main");
    for diag in r.json()["diagnostics"].as_array().unwrap() {
        let help = diag["help"].as_str().unwrap_or("");
        assert!(!help.contains("rename `0003_more.sql`"), "{diag}");
        assert!(!help.contains("to `0002_more.sql`"), "{diag}");
    }
    let deleted = r.find("deleted-after-merge");
    assert_eq!(
        deleted["command"], "git checkout origin/main -- migrations/0002_roles.sql",
        "{deleted}"
    );
    d.git(&["checkout", "-q", "--", "migrations"]);
    // Rename a merged one.
    std::fs::rename(
        d.join("migrations/0001_users.sql"),
        d.join("migrations/0004_users.sql"),
    )
    .unwrap();
    let r = check_json(&d, "origin/main");
    assert_eq!(r.code, 1);
    for diag in r.json()["diagnostics"].as_array().unwrap() {
        let help = diag["help"].as_str().unwrap_or("");
        assert!(!help.contains("rename `0002_roles.sql`"), "{diag}");
        assert!(!help.contains("rename `0003_more.sql`"), "{diag}");
    }
}

/// A merged (not recorded) file with a name the convention rejects: renaming it is itself
/// `renamed-after-merge`, so the advice is to keep it, as a warning nothing has to fix.
#[test]
fn a_merged_file_with_an_invalid_name_is_not_told_to_rename() {
    let d = applied_repo();
    d.write("migrations/0003_AddRoles.sql", "SELECT 1;\n");
    d.commit_as_origin_main("merged with a bad name");
    let r = check_json(&d, "origin/main");
    let w = r.find("invalid-name");
    assert!(!w["help"].as_str().unwrap().contains("rename it"), "{w}");
    assert_eq!(w["severity"], "warning", "{w}");
    // A new file with such a name is still told the right name, as an error.
    d.write("migrations/0004_AddMore.sql", "SELECT 1;\n");
    let r = check_json(&d, "origin/main");
    let new = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "invalid-name" && x["file"] == "migrations/0004_AddMore.sql")
        .cloned()
        .unwrap();
    assert!(
        new["help"]
            .as_str()
            .unwrap()
            .contains("rename it to `0004_"),
        "{new}"
    );
    assert_eq!(new["severity"], "error", "{new}");
}

#[test]
fn init_proposes_lf_line_endings_for_sql() {
    let d = applied_repo();
    let r = d.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("*.sql text eol=lf"), "{}", r.stderr);
    std::fs::remove_file(d.join("miglint.toml")).unwrap();
    d.write(".gitattributes", "*.sql text eol=lf\n");
    let r = d.run(&["init"]);
    assert!(!r.stderr.contains("eol=lf"), "{}", r.stderr);
}

/// psql does not care about the extension, and a case-insensitive file system globs `*.sql` to
/// `0001_b.SQL` too: a migration named so must not escape every check.
#[test]
fn a_migration_with_an_upper_case_extension_is_not_skipped() {
    let d = Dir::new();
    d.write("m/0000_a.sql", "SELECT 1;\n");
    d.write("m/0001_b.SQL", "SELEC 1;\n");
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("invalid-name");
    assert_eq!(e["file"], "m/0001_b.SQL", "{e}");
    assert!(
        e["help"].as_str().unwrap().contains("0001_b.sql"),
        "names the lower-case file: {e}"
    );
    assert!(
        r.codes().contains(&"sql-parse-error".to_string()),
        "{}",
        r.stdout
    );
    // Recorded under that name, it keeps it: no rename advice (an applier would run it again),
    // and a warning, not an error that nothing could ever fix.
    d.write("m/0001_b.SQL", "SELECT 1;\n");
    let ledger: String = ["0000_a.sql", "0001_b.SQL"]
        .iter()
        .map(|n| format!("{}  {n}\n", sha256(d.read(&format!("m/{n}")).as_bytes())))
        .collect();
    d.write("m/applied.sha256", ledger);
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let w = r.find("invalid-name");
    assert_eq!(w["severity"], "warning", "{w}");
    assert!(!w["help"].as_str().unwrap().contains("rename it"), "{w}");
}

/// `[rules]` may re-rate protection codes, but not in the change that needs it: with a base, a
/// protection finding is rated at least as the base's miglint.toml (or the defaults) rates it.
/// The re-rating lands on its own first, reviewed; then it applies.
#[test]
fn a_change_cannot_lower_its_own_protection_in_miglint_toml() {
    let d = applied_repo();
    d.write("miglint.toml", "[[set]]\ndir = \"migrations\"\n");
    d.commit_as_origin_main("config");
    let weakened = "[[set]]\ndir = \"migrations\"\n\n[rules]\nchecksum-mismatch = \"off\"\nmodified-after-merge = \"off\"\n";
    // The edit and the re-rating in one change: still an error, and the message says why.
    d.write("miglint.toml", weakened);
    d.write(
        "migrations/0001_users.sql",
        "CREATE TABLE users (id int);\n",
    );
    let r = check_json(&d, "origin/main");
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("checksum-mismatch");
    assert_eq!(e["severity"], "error", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("miglint.toml"),
        "{e}"
    );
    // The re-rating alone passes; once it is on the base, it applies.
    d.git(&["checkout", "-q", "--", "migrations"]);
    assert_eq!(check_json(&d, "origin/main").code, 0);
    d.commit_as_origin_main("re-rate, reviewed");
    d.write(
        "migrations/0001_users.sql",
        "CREATE TABLE users (id int);\n",
    );
    let r = check_json(&d, "origin/main");
    assert!(
        !r.codes().contains(&"checksum-mismatch".to_string()),
        "{}",
        r.stdout
    );
}

/// The floor is about what the change touches: a condition the base already has (a legacy
/// edit recorded long ago) may be re-rated by the very change that adopts the re-rating, or no
/// re-rating could ever land green.
#[test]
fn re_rating_a_condition_the_base_already_has_is_not_blocked() {
    let d = applied_repo();
    // Merged long ago: 0001 edited after it was recorded.
    d.write(
        "migrations/0001_users.sql",
        "CREATE TABLE users (id int);\n",
    );
    d.commit_as_origin_main("legacy edit");
    assert_eq!(check_json(&d, "origin/main").code, 1);
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\n\n[rules]\nchecksum-mismatch = \"warning\"\n",
    );
    let r = check_json(&d, "origin/main");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.find("checksum-mismatch")["severity"], "warning");
}
