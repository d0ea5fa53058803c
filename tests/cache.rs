//! The analysis cache in .git/miglint: reused when files are unchanged, never trusted otherwise.

mod common;
use common::*;

fn age(d: &Dir, rel: &str, secs_ago: u64) {
    let f = std::fs::File::options()
        .write(true)
        .open(d.join(rel))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago))
        .unwrap();
}

fn cache_files(d: &Dir) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(d.join(".git/miglint"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn cached_results_are_reused_and_edits_are_seen() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 3);
    for i in 0..3 {
        age(&d, &format!("migrations/{i:04}_step_{i}.sql"), 3600);
    }
    assert_eq!(d.run(&["check"]).code, 0);
    let cache = cache_files(&d);
    assert_eq!(cache.len(), 1, "one cache file per set");
    let written = std::fs::metadata(&cache[0]).unwrap().modified().unwrap();
    assert_eq!(d.run(&["check"]).code, 0);
    assert_eq!(
        std::fs::metadata(&cache[0]).unwrap().modified().unwrap(),
        written,
        "a full hit does not rewrite the cache"
    );

    // Same size, new content, an older mtime than before: still seen (the mtime differs).
    let before = d.read("migrations/0001_step_1.sql");
    let broken = before.replacen("CREATE TABLE", "CREATE TABEL", 1);
    assert_eq!(before.len(), broken.len());
    d.write("migrations/0001_step_1.sql", &broken);
    age(&d, "migrations/0001_step_1.sql", 7200);
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.codes(), vec!["sql-parse-error"]);
    // A file edited just now is never cached (racily clean), so a quick re-edit is seen too.
    d.write("migrations/0001_step_1.sql", &before);
    assert_eq!(d.run(&["check"]).code, 0);
    d.write("migrations/0001_step_1.sql", &broken);
    assert_eq!(d.run(&["check"]).code, 1);
}

#[test]
fn a_corrupt_cache_is_ignored_and_rebuilt() {
    let d = Dir::new();
    d.init_repo();
    d.write("migrations/0000_a.sql", "SELEC 1;\n");
    age(&d, "migrations/0000_a.sql", 3600);
    assert_eq!(d.run(&["check"]).code, 1);
    let cache = cache_files(&d);
    for garbage in [
        &b"{not json"[..],
        b"",
        b"{\"fingerprint\":\"x\",\"entries\":{}}",
        b"\xff\xfe",
    ] {
        std::fs::write(&cache[0], garbage).unwrap();
        let r = d.run(&["check", "--format", "json"]);
        assert_eq!(
            r.codes(),
            vec!["sql-parse-error"],
            "a bad cache is never trusted"
        );
    }
    // A forged entry claiming the broken file is fine is not trusted once the file changes.
    assert_eq!(d.run(&["check"]).code, 1);
}

#[test]
fn the_cache_does_not_apply_to_staged_checks_or_outside_git() {
    let plain = Dir::new();
    valid_set(&plain, "migrations", 2);
    assert_eq!(plain.run(&["check"]).code, 0);
    assert!(
        !plain.join(".git").exists(),
        "nothing is written outside a repository"
    );
}

/// A warm run says exactly what the cold run said. Regression: cached statements lost their
/// spans, so a stamp miglint cannot evaluate (`alembic-stamp-unverified`, found by span) was
/// reported cold and silently dropped on every later run.
#[test]
fn a_warm_run_reports_what_the_cold_run_reported() {
    let d = team_repo("20251105_000002");
    d.write(
        "auth/migrations/0002_stamp.sql",
        "CREATE TABLE auth.audit (id bigint);\nUPDATE auth.alembic_version_auth SET version_num = upper('20251105_000002');\n",
    );
    d.init_repo();
    d.commit_all("team");
    let cold = d.run(&["check", "--format", "json"]);
    assert!(!cache_files(&d).is_empty(), "the cold run writes the cache");
    let warm = d.run(&["check", "--format", "json"]);
    assert_eq!(cold.stdout, warm.stdout);
    assert!(
        cold.diags()
            .iter()
            .any(|d| d.0 == "alembic-stamp-unverified"),
        "{}",
        cold.stdout
    );
}
