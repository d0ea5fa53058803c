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
    let named = |prefix: &str| {
        cache
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .count()
    };
    assert_eq!(
        (named("analysis-"), named("passes-"), cache.len()),
        (1, 1, 2),
        "one analysis cache and one memo of the replay per set: {cache:?}"
    );
    let written: Vec<_> = cache
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(d.run(&["check"]).code, 0);
    let again: Vec<_> = cache
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(again, written, "a full hit rewrites neither");

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
    let files = cache_files(&d);
    assert_eq!(files.len(), 2, "{files:?}");
    for garbage in [
        &b"{not json"[..],
        b"",
        b"{\"fingerprint\":\"x\",\"entries\":{}}",
        b"\xff\xfe",
    ] {
        for f in &files {
            std::fs::write(f, garbage).unwrap();
        }
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

/// The schema replay's findings are reused only while everything it reads is unchanged: each
/// file's content, the order, which files the database ran, and the set's settings.
#[test]
fn the_replay_memo_follows_files_records_and_settings() {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "migrations/0000_users.sql",
        "CREATE TABLE users (id bigint);\n",
    );
    d.write(
        "migrations/0001_orders.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n",
    );
    for i in 0..2 {
        age(
            &d,
            &format!("migrations/000{i}_{}.sql", ["users", "orders"][i]),
            3600,
        );
    }
    let cold = d.run(&["check", "--format", "json"]);
    assert_eq!(cold.codes(), vec!["undefined-relation"], "{}", cold.stdout);
    // The advice names the relation as `external` reads it (a bare name there is a schema).
    let help = cold.find("undefined-relation")["help"].to_string();
    assert!(help.contains(r#"external = [\"public.orders\"]"#), "{help}");
    let warm = d.run(&["check", "--format", "json"]);
    assert_eq!(
        cold.stdout, warm.stdout,
        "the memo gives what the replay gave"
    );

    // A setting the replay reads.
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\nexternal = [\"public.orders\"]\n",
    );
    assert_eq!(d.run(&["check"]).code, 0);
    d.remove("miglint.toml");
    assert_eq!(d.run(&["check"]).code, 1);

    // An earlier file's content (same size, older mtime).
    d.write(
        "migrations/0000_users.sql",
        "CREATE TABLE orders(id bigint);\n",
    );
    age(&d, "migrations/0000_users.sql", 7200);
    assert_eq!(d.run(&["check"]).code, 0);
    d.write(
        "migrations/0000_users.sql",
        "CREATE TABLE users (id bigint);\n",
    );
    age(&d, "migrations/0000_users.sql", 7200);
    assert_eq!(d.run(&["check"]).code, 1);

    // Recording the file: the database ran it, so the replay learns from it instead.
    for file in ["migrations/0000_users.sql", "migrations/0001_orders.sql"] {
        let r = d.run(&["record", file]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    let r = d.run(&["check", "--format", "json"]);
    assert!(
        !r.codes().contains(&"undefined-relation".to_string()),
        "{}",
        r.stdout
    );
}
