//! The Alembic head check through the real binary, on a layout like the seed's `auth/`, and
//! against the real Alembic (from PyPI) when a venv is provided (`MIGLINT_TEST_VENV`).

mod common;
use common::*;

#[test]
fn stamp_at_the_head_is_clean() {
    let d = team_repo("20251105_000002");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(d.run(&["alembic", "heads"]).stdout, "20251105_000002\n");
}

#[test]
fn stamp_one_behind_points_at_the_literal() {
    let d = team_repo("20251101_000001");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let m = r.find("alembic-head-mismatch");
    assert_eq!(
        (m["file"].as_str(), m["line"].as_u64(), m["column"].as_u64()),
        (Some("auth/migrations/0001_roles.sql"), Some(2), Some(52))
    );
    assert!(m["message"].as_str().unwrap().contains(
        "stamps `20251101_000001` but the head of auth/alembic/versions is `20251105_000002`"
    ));
    let h = d.run(&["check"]);
    assert!(
        h.stdout.contains("should be '20251105_000002'"),
        "{}",
        h.stdout
    );
}

#[test]
fn two_heads_then_merge() {
    let d = team_repo("20251105_000002");
    d.write(
        "auth/alembic/versions/branch.py",
        revision_file("20251106_000003", "'20251101_000001'"),
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let m = r.find("alembic-multiple-heads")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains("20251105_000002") && m.contains("20251106_000003"),
        "{m}"
    );
    assert!(r.find("alembic-multiple-heads")["help"]
        .as_str()
        .unwrap()
        .contains("alembic merge"));
    d.write(
        "auth/alembic/versions/merge.py",
        revision_file("20251107_000004", "('20251105_000002', '20251106_000003')"),
    );
    d.write(
        "auth/migrations/0002_stamp.sql",
        "UPDATE auth.alembic_version_auth SET version_num = '20251107_000004';\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn stamp_rules() {
    let d = team_repo("20251105_000002");
    d.write("auth/migrations/0002_bad.sql", "UPDATE alembic_version SET version_num = '20251105_000002';\nUPDATE auth.alembic_version_auth SET version_num = 'typo123';\n");
    let r = d.run(&["check", "--format", "json"]);
    let codes = r.codes();
    assert!(
        codes.contains(&"alembic-stamp-table".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"alembic-unknown-revision".to_string()),
        "{codes:?}"
    );
    // No stamp at all and no declared head: a warning.
    let d = team_repo("x");
    d.write("auth/migrations/0000_init.sql", "SELECT 1;\n");
    d.write("auth/migrations/0001_roles.sql", "SELECT 1;\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.codes(), vec!["alembic-head-undeclared"]);
    // `head` in the config must agree with the graph.
    d.write("miglint.toml", "[[set]]\ndir = \"auth/migrations\"\n[set.alembic]\nini = \"auth/alembic.ini\"\nhead = \"20251101_000001\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert!(r.codes().contains(&"alembic-head-mismatch".to_string()));
}

#[test]
fn compose_guard() {
    let d = team_repo("20251105_000002");
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"true\"\n",
    );
    d.write("miglint.toml", "[[set]]\ndir = \"auth/migrations\"\n[set.alembic]\nini = \"auth/alembic.ini\"\ncompose = \"auth/auth.compose.yml\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "an error while the SQL is the source of truth");
    let w = r.find("alembic-upgrade-at-start");
    assert_eq!(
        (w["file"].as_str(), w["line"].as_u64()),
        (Some("auth/auth.compose.yml"), Some(4))
    );
    // A team whose Alembic runs by design says so under [rules].
    d.write("miglint.toml", "[[set]]\ndir = \"auth/migrations\"\n[set.alembic]\nini = \"auth/alembic.ini\"\ncompose = \"auth/auth.compose.yml\"\n[rules]\nalembic-upgrade-at-start = \"warning\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.find("alembic-upgrade-at-start")["severity"], "warning");
}

#[test]
fn graph_rules_and_parse_errors() {
    let d = team_repo("20251105_000002");
    d.write(
        "auth/alembic/versions/dangling.py",
        revision_file("c3", "'deadbeef'"),
    );
    d.write(
        "auth/alembic/versions/dup.py",
        revision_file("20251105_000002", "'20251101_000001'"),
    );
    d.write(
        "auth/alembic/versions/broken.py",
        "revision = 'abc\ndown_revision = None\n",
    );
    d.write(
        "auth/alembic/versions/computed.py",
        "revision = make_id()\ndown_revision = None\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    let codes = r.codes();
    for c in [
        "alembic-missing-revision",
        "alembic-duplicate-revision",
        "alembic-parse-error",
    ] {
        assert!(codes.contains(&c.to_string()), "{c} in {codes:?}");
    }
    let parse: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|d| d.0 == "alembic-parse-error")
        .collect();
    assert!(
        parse
            .iter()
            .any(|d| d.1.as_deref() == Some("auth/alembic/versions/broken.py") && d.2 == Some(1)),
        "{parse:?}"
    );
    // A cycle ends with a finding, not a hang.
    let d = team_repo("20251105_000002");
    d.write(
        "auth/alembic/versions/20251101_000001_init.py",
        revision_file("20251101_000001", "'20251105_000002'"),
    );
    let r = d.run(&["check", "--format", "json"]);
    assert!(
        r.codes().contains(&"alembic-cycle".to_string()),
        "{:?}",
        r.codes()
    );
}

#[test]
fn real_world_python_forms() {
    let d = team_repo("kilo_initial");
    d.write(
        "auth/migrations/0000_init.sql",
        "CREATE SCHEMA IF NOT EXISTS auth;\n",
    );
    d.remove("auth/alembic/versions/20251101_000001_init.py");
    d.remove("auth/alembic/versions/20251105_000002_roles.py");
    d.write(
        "auth/alembic/versions/initial.py",
        "\"\"\"kilo\n\nRevises: something_else\nrevision = 'not_this'\n\"\"\"\nfrom __future__ import annotations\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from collections.abc import Sequence\n\nrevision: str = \"kilo_initial\"\ndown_revision: str | None = None  # revision = 'nope'\nbranch_labels = \"None\"\n",
    );
    d.write(
        "auth/alembic/versions/expand.py",
        "from neutron.db.migration import cli\n\nrevision = 'a1b2'\ndown_revision: tuple[str, str] | None = ('kilo_initial',)\nbranch_labels = (cli.EXPAND_BRANCH,)\ndepends_on = ('kilo_initial',)\n",
    );
    d.write(
        "auth/migrations/0001_roles.sql",
        "UPDATE auth.alembic_version_auth SET version_num = 'a1b2';\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(d.run(&["alembic", "heads"]).stdout, "a1b2\n");
}

/// Real Alembic: build graphs with `alembic revision` / `alembic merge` and compare heads.
#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic, pre-commit, PyYAML (.ci/run makes one)"
)]
fn heads_equal_real_alembic_heads() {
    let Some(alembic) = venv_tool("alembic") else {
        return;
    };
    let d = Dir::new();
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    let run = |args: &[&str]| run_tool(&alembic, d.path(), args);
    let compare = |step: &str| {
        let theirs: Vec<String> = {
            let mut v: Vec<String> = run(&["heads"])
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(String::from)
                .collect();
            v.sort();
            v
        };
        let ours = d.run(&["alembic", "heads"]);
        assert_eq!(ours.code, 0, "{}", ours.stderr);
        let ours: Vec<String> = ours.stdout.lines().map(String::from).collect();
        assert_eq!(ours, theirs, "after {step}");
    };
    run(&["init", "alembic"]);
    run(&["revision", "-m", "a", "--rev-id", "a1"]);
    compare("one revision");
    run(&["revision", "-m", "b", "--rev-id", "b1"]);
    run(&[
        "revision", "-m", "c", "--rev-id", "c1", "--head", "a1", "--splice",
    ]);
    compare("a branch");
    run(&["merge", "-m", "merge", "heads", "--rev-id", "m1"]);
    compare("merge");
    run(&[
        "revision",
        "-m",
        "d",
        "--rev-id",
        "d1",
        "--depends-on",
        "a1",
    ]);
    run(&[
        "revision",
        "-m",
        "e",
        "--rev-id",
        "e1",
        "--head",
        "base",
        "--branch-label",
        "other",
    ]);
    compare("a labelled second root");
    run(&[
        "revision",
        "-m",
        "g",
        "--rev-id",
        "g1",
        "--head",
        "base",
        "--branch-label",
        "third",
    ]);
    run(&[
        "revision",
        "-m",
        "h",
        "--rev-id",
        "h1",
        "--head",
        "other@head",
        "--depends-on",
        "g1",
    ]);
    compare("depends_on a head");
    run(&["merge", "-m", "all", "heads", "--rev-id", "z9"]);
    compare("merge of three heads");
}

/// Real Alembic's generated hex ids, default file names and merge files.
#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic, pre-commit, PyYAML (.ci/run makes one)"
)]
fn heads_equal_real_alembic_heads_with_generated_ids() {
    let Some(alembic) = venv_tool("alembic") else {
        return;
    };
    let d = Dir::new();
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    let run = |args: &[&str]| run_tool(&alembic, d.path(), args);
    run(&["init", "alembic"]);
    run(&["revision", "-m", "first"]);
    run(&["revision", "-m", "second"]);
    let first_head: String = run(&["heads"])
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    run(&["revision", "-m", "third"]);
    run(&[
        "revision",
        "-m",
        "sibling",
        "--head",
        &first_head,
        "--splice",
    ]);
    let theirs = |out: String| {
        let mut v: Vec<String> = out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect();
        v.sort();
        v.join("\n") + "\n"
    };
    assert_eq!(d.run(&["alembic", "heads"]).stdout, theirs(run(&["heads"])));
    run(&["merge", "-m", "join", "heads"]);
    assert_eq!(d.run(&["alembic", "heads"]).stdout, theirs(run(&["heads"])));
}

#[test]
fn staged_checks_read_the_alembic_project_from_the_index() {
    let d = team_repo("20251105_000002");
    d.init_repo();
    d.commit_all("auth");
    // A second head is staged, then removed from the work tree only.
    d.write(
        "auth/alembic/versions/branch.py",
        revision_file("20251106_000003", "'20251101_000001'"),
    );
    d.git(&["add", "-A"]);
    d.remove("auth/alembic/versions/branch.py");
    let staged = d.run(&["check", "--staged", "--format", "json"]);
    assert!(
        staged
            .codes()
            .contains(&"alembic-multiple-heads".to_string()),
        "{}",
        staged.stdout
    );
    let worktree = d.run(&["check", "--format", "json"]);
    assert!(
        !worktree
            .codes()
            .contains(&"alembic-multiple-heads".to_string()),
        "{}",
        worktree.stdout
    );
}

/// Issue 33, item 2: teams that stamp with `alembic stamp` at deploy say `stamp = "cli"`; then
/// the declared head must be the graph's head, and old SQL stamps no longer count (a declared
/// head gave `alembic-head-mismatch` twice). `stamp = "sql"` makes an unverifiable SQL stamp an
/// error.
#[test]
fn stamping_with_the_alembic_cli_is_declared_and_checked() {
    // The SQL stamps the first revision; the graph's head is the second.
    let d = team_repo("20251101_000001");
    let config = |extra: &str| {
        format!("[[set]]\ndir = \"auth/migrations\"\n[set.alembic]\nini = \"auth/alembic.ini\"\n{extra}")
    };
    let mismatches = |r: &Run| {
        r.codes()
            .iter()
            .filter(|c| *c == "alembic-head-mismatch")
            .count()
    };
    d.write("miglint.toml", config("head = \"20251105_000002\"\n"));
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(
        mismatches(&r),
        2,
        "undeclared: the SQL's stamp is read: {}",
        r.stdout
    );
    d.write(
        "miglint.toml",
        config("head = \"20251105_000002\"\nstamp = \"cli\"\n"),
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(mismatches(&r), 0, "{}", r.stdout);
    // A declared head that is not the graph's head.
    d.write(
        "miglint.toml",
        config("head = \"20251101_000001\"\nstamp = \"cli\"\n"),
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(mismatches(&r), 1, "{}", r.stdout);
    assert!(r.find("alembic-head-mismatch")["help"]
        .as_str()
        .unwrap()
        .contains("alembic stamp 20251105_000002"));
    // No head declared: what the deploy stamps is unknown.
    d.write("miglint.toml", config("stamp = \"cli\"\n"));
    let r = d.run(&["check", "--format", "json"]);
    r.find("alembic-head-undeclared");
    // Not a mode.
    d.write("miglint.toml", config("stamp = \"both\"\n"));
    assert_eq!(d.run(&["check"]).code, 2);
}

#[test]
fn with_stamp_sql_declared_an_unverifiable_stamp_is_an_error() {
    let d = team_repo("20251105_000002");
    d.write(
        "auth/migrations/0002_dynamic.sql",
        "DO $$ BEGIN EXECUTE 'UPDATE auth.alembic_version_auth SET version_num = ' || quote_literal('20251105_000002'); END $$;\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.find("alembic-stamp-unverified")["severity"], "warning");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"auth/migrations\"\n[set.alembic]\nini = \"auth/alembic.ini\"\nstamp = \"sql\"\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.find("alembic-stamp-unverified")["severity"], "error");
}
