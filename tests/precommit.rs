//! The real pre-commit framework (from PyPI) running this repository's `.pre-commit-hooks.yaml`
//! with `pre-commit try-repo`: it builds miglint with cargo (`language: rust`), passes on a clean
//! consumer repository and fails, showing the diagnostic, on a broken one.

mod common;
use common::*;

#[test]
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
    let out = try_repo();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "clean set must pass:\n{text}");
    assert!(text.contains("miglint"), "{text}");

    d.write(
        "migrations/0003_broken.sql",
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
        text.contains("miglint::sql-parse-error") && text.contains("0003_broken.sql"),
        "{text}"
    );
}
