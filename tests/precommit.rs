//! The real pre-commit framework (from PyPI) running this repository's `.pre-commit-hooks.yaml`
//! with `pre-commit try-repo`: it builds miglint with cargo (`language: rust`), runs on a commit
//! of any file and shows a passing run's warnings, and fails, showing the diagnostic, on a
//! broken migration.

mod common;
use common::*;

#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic, pre-commit, PyYAML (.ci/run makes one)"
)]
fn pre_commit_try_repo_passes_clean_and_fails_broken() {
    let Some(pre_commit) = venv_tool("pre-commit") else {
        return;
    };
    let this_repo = env!("CARGO_MANIFEST_DIR");
    if !std::path::Path::new(this_repo).join(".git").exists() {
        assert!(
            std::env::var_os("MIGLINT_REQUIRE_TOOLS").is_none(),
            "try-repo needs this checkout to be a git repository"
        );
        return;
    }
    // One cargo target dir for every build pre-commit makes, so the second run reuses the first.
    let target = std::env::var("MIGLINT_PRECOMMIT_TARGET")
        .unwrap_or_else(|_| format!("{this_repo}/target/precommit"));
    let home = Dir::new();
    let d = consumer_repo();
    let try_repo = || {
        pre_commit_try_repo(
            &pre_commit,
            std::path::Path::new(this_repo),
            d.path(),
            home.path(),
            |cmd| {
                cmd.env("CARGO_TARGET_DIR", &target);
            },
        )
    };
    // First run, as a commit would run it (staged files only, no --all-files): only a README is
    // staged, and a committed migration is empty (a warning). The hook runs anyway
    // (`always_run`: a commit of the compose file or pyproject.toml alone must be checked too),
    // passes, and shows the warning (`verbose`: pre-commit hides a passing hook's output).
    d.write("migrations/0003_wip.sql", "-- nothing yet\n");
    d.commit_all("an empty migration");
    d.write("README.md", "docs\n");
    d.git(&["add", "README.md"]);
    let out = std::process::Command::new(&pre_commit)
        .args(["try-repo", this_repo, "miglint", "--color", "never"])
        .current_dir(d.path())
        .env("PRE_COMMIT_HOME", home.path())
        .env("CARGO_TARGET_DIR", &target)
        .env("NO_COLOR", "1")
        .env_remove("MIGLINT_BASE")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("GITHUB_EVENT_PATH")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "a warning passes:\n{text}");
    assert!(!text.contains("no files to check"), "the hook ran:\n{text}");
    assert!(
        text.contains("miglint::empty-migration"),
        "the warning is shown:\n{text}"
    );

    d.write(
        "migrations/0004_broken.sql",
        "ALTER TABEL users ADD COLUMN email text;\n",
    );
    d.git(&["add", "-A"]);
    let out = try_repo();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "broken set must fail:\n{text}");
    assert!(
        text.contains("miglint::sql-parse-error") && text.contains("0004_broken.sql"),
        "{text}"
    );
}
