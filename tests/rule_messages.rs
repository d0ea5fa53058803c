//! Every rule's message, pinned (issue 14): one scenario per code, run through the real binary in
//! a real git repository, its human, JSON and GitHub output kept as an insta snapshot in
//! `tests/snapshots/`, so wording drift shows in review (`cargo insta review` after a change).
//! A test keeps the scenario list complete: a new rule without a scenario fails.
//!
//! Output that depends on the SQL grammar has one snapshot per build (suffix `exact`).

mod common;
use common::*;

/// What a scenario runs: `miglint <args…>` in the prepared directory, with extra environment.
struct Case {
    args: Vec<&'static str>,
    env: Vec<(&'static str, &'static str)>,
    /// The output depends on which grammar decides (sqlparser or PostgreSQL's).
    grammar: bool,
    /// Kept alive for scenarios that point outside the repository.
    _outside: Option<Dir>,
    /// The output formats the command takes (`alembic ready`: human and JSON).
    formats: &'static [&'static str],
}

fn check(args: &[&'static str]) -> Case {
    Case {
        args: [&["check"][..], args].concat(),
        env: Vec::new(),
        grammar: false,
        _outside: None,
        formats: &["human", "json", "github"],
    }
}

/// A set `m/` (configured) of `n` valid migrations, in a git repository with one commit.
fn repo_with_set(d: &Dir, n: usize) {
    d.init_repo();
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\n");
    valid_set(d, "m", n);
    d.commit_all("base");
}

/// A golang-migrate set `m/` with version 1 (up and down), committed.
fn golang_migrate_set(d: &Dir) {
    d.init_repo();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\nlayout = \"golang-migrate\"\n",
    );
    d.write(
        "m/000001_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    d.write("m/000001_users.down.sql", "DROP TABLE users;\n");
    d.commit_all("base");
}

/// `m/` with three migrations, the first two recorded in the ledger and committed.
fn recorded(d: &Dir) {
    repo_with_set(d, 3);
    let r = d.run(&["record", "m/0000_step_0.sql", "m/0001_step_1.sql"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    d.commit_all("record");
}

/// main has 0000..0002 (two recorded); a branch `feature` forks from it.
fn branch(d: &Dir) {
    recorded(d);
    d.git(&["checkout", "-q", "-b", "feature"]);
}

/// The scenario that produces `code`, or `None` when this build cannot produce it.
fn scenario(code: &str, d: &Dir) -> Option<Case> {
    let case = match code {
        "invalid-name" => {
            repo_with_set(d, 1);
            d.write("m/add_users.sql", "CREATE TABLE users (id int);\n");
            check(&["m"])
        }
        "duplicate-number" => {
            repo_with_set(d, 2);
            d.write("m/0001_again.sql", "CREATE TABLE again (id int);\n");
            check(&["m"])
        }
        "number-gap" => {
            repo_with_set(d, 1);
            d.write("m/0002_skip.sql", "CREATE TABLE skip (id int);\n");
            check(&["m"])
        }
        "empty-migration" => {
            repo_with_set(d, 1);
            d.write("m/0001_nothing.sql", "-- to be written\n");
            check(&["m"])
        }
        "invalid-encoding" => {
            repo_with_set(d, 1);
            d.write("m/0001_latin1.sql", b"COMMENT ON TABLE t0 IS 'caf\xe9';\n");
            check(&["m"])
        }
        "utf8-bom" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_bom.sql",
                b"\xef\xbb\xbfCREATE TABLE bom (id int);\n",
            );
            check(&["m"])
        }
        "unreadable-file" => {
            repo_with_set(d, 1);
            std::fs::create_dir_all(d.join("m/0001_dir.sql")).unwrap();
            check(&["m"])
        }
        "file-too-large" => {
            repo_with_set(d, 1);
            d.write("miglint.toml", "[[set]]\ndir = \"m\"\nmax_file_size = 64\n");
            d.write(
                "m/0001_big.sql",
                "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);\n",
            );
            check(&[])
        }
        "sql-parse-error" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_typo.sql",
                "-- add the email column\nALTER TABEL users ADD COLUMN email text;\n",
            );
            Case {
                grammar: true,
                ..check(&["m"])
            }
        }
        "sql-unverified" if !cfg!(feature = "postgres-exact") => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_do.sql",
                "DO $$ BEGIN PERFORM 1; END $$;\nCREATE TABLE after_do (id int);\n",
            );
            Case {
                grammar: true,
                ..check(&["m"])
            }
        }
        "sql-ast-skipped" if cfg!(feature = "postgres-exact") => {
            repo_with_set(d, 1);
            d.write("m/0001_cluster.sql", "CLUSTER users USING users_pkey;\n");
            Case {
                grammar: true,
                ..check(&["m"])
            }
        }
        "sql-unverified" | "sql-ast-skipped" => return None,
        "undefined-relation" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_email.sql",
                "-- t0 is created by 0000\nALTER TABLE t00 ADD COLUMN email text;\n",
            );
            check(&["m"])
        }
        "undefined-column" => {
            repo_with_set(d, 1);
            d.write("m/0001_index.sql", "CREATE INDEX t0_email ON t0 (email);\n");
            check(&["m"])
        }
        "undefined-schema" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_billing.sql",
                "CREATE TABLE billing.invoices (id bigint PRIMARY KEY);\n",
            );
            check(&["m"])
        }
        "duplicate-relation" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_again.sql",
                "CREATE TABLE t0 (id bigint PRIMARY KEY, email text);\n",
            );
            check(&["m"])
        }
        "duplicate-column" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_name.sql",
                "ALTER TABLE t0\n    ADD COLUMN name text;\n",
            );
            check(&["m"])
        }
        "not-null-without-default" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_plan.sql",
                "ALTER TABLE t0 ADD COLUMN plan text NOT NULL;\n",
            );
            check(&["m"])
        }
        "duplicate-type" => {
            repo_with_set(d, 1);
            d.write("m/0001_mood.sql", "CREATE TYPE mood AS ENUM ('ok');\n");
            d.write(
                "m/0002_mood_again.sql",
                "CREATE TYPE mood AS ENUM ('ok', 'sad');\n",
            );
            check(&["m"])
        }
        "duplicate-enum-value" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_status.sql",
                "CREATE TYPE status AS ENUM ('new', 'done');\nALTER TYPE status ADD VALUE 'archived';\n",
            );
            d.write(
                "m/0002_archived.sql",
                "ALTER TYPE status ADD VALUE 'archived';\n",
            );
            check(&["m"])
        }
        "foreign-key-not-unique" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_users.sql",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
            );
            d.write(
                "m/0002_invites.sql",
                "CREATE TABLE invites (id bigint PRIMARY KEY,\n  email text REFERENCES users (email));\n",
            );
            check(&["m"])
        }
        "dependent-objects" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_users.sql",
                "CREATE TABLE users (id bigint PRIMARY KEY, active boolean);\nCREATE VIEW active_users AS SELECT id FROM users WHERE active;\n",
            );
            d.write("m/0002_drop.sql", "DROP TABLE users;\n");
            check(&["m"])
        }
        "duplicate-schema" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_schemas.sql",
                "CREATE SCHEMA auth;\nCREATE SCHEMA auth;\n",
            );
            check(&["m"])
        }
        "empty-set" => {
            d.init_repo();
            d.write("m/README", "migrations go here\n");
            d.write("miglint.toml", "[[set]]\ndir = \"m\"\n");
            check(&[])
        }
        "unsafe-path" => {
            repo_with_set(d, 1);
            let outside = Dir::new();
            outside.write("secret.sql", "SELECT 'secret';\n");
            std::os::unix::fs::symlink(outside.join("secret.sql"), d.join("m/0001_link.sql"))
                .unwrap();
            Case {
                _outside: Some(outside),
                ..check(&["m"])
            }
        }
        "unknown-ignore-code" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_x.sql",
                "-- miglint-ignore sql-parse-eror\nCREATE TABLE x (id int);\n",
            );
            check(&["m"])
        }
        "unused-ignore" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_x.sql",
                "-- miglint-ignore sql-parse-error\nCREATE TABLE x (id int);\n",
            );
            check(&["m"])
        }
        "psql-unknown-command" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_psql.sql",
                "\\set ON_ERROR_STOP on\n\\frobnicate\nCREATE TABLE p (id int);\n",
            );
            check(&["m"])
        }
        "psql-include" => {
            repo_with_set(d, 1);
            d.write(
                "m/0001_include.sql",
                "\\set ON_ERROR_STOP on\n\\ir ../sql/functions.sql\n",
            );
            check(&["m"])
        }
        "checksum-mismatch" => {
            recorded(d);
            d.write(
                "m/0001_step_1.sql",
                "CREATE TABLE t1 (id bigint PRIMARY KEY, name text);\n",
            );
            check(&["m"])
        }
        "applied-file-missing" => {
            recorded(d);
            d.remove("m/0001_step_1.sql");
            check(&["m"])
        }
        "out-of-order" => {
            // 0000 and 0002 applied (in this order), 0001 still pending: it is numbered below
            // the newest applied migration.
            repo_with_set(d, 3);
            let line = |f: &str| format!("{}  {f}\n", sha256(d.read(&format!("m/{f}")).as_bytes()));
            d.write(
                "m/applied.sha256",
                line("0000_step_0.sql") + &line("0002_step_2.sql"),
            );
            check(&["m"])
        }
        "lock-invalid" => {
            recorded(d);
            let ledger = d.read("m/applied.sha256");
            d.write("m/applied.sha256", format!("{ledger}not a ledger line\n"));
            check(&["m"])
        }
        "unrecorded-migrations" => {
            recorded(d);
            check(&["m", "--require-recorded"])
        }
        "history-mismatch" => {
            recorded(d);
            d.write(
                "history.csv",
                format!(
                    "filename,checksum\n0000_step_0.sql,{}\n0001_step_1.sql,{}\n",
                    sha256(d.read("m/0000_step_0.sql").as_bytes()),
                    "0".repeat(64)
                ),
            );
            check(&["m", "--history-export", "history.csv"])
        }
        "no-base" => {
            repo_with_set(d, 1);
            check(&["m"])
        }
        "modified-after-merge" => {
            branch(d);
            d.write(
                "m/0002_step_2.sql",
                "CREATE TABLE t2 (id bigint PRIMARY KEY);\n",
            );
            d.commit_all("edit a merged migration");
            check(&["m", "--base", "main"])
        }
        "number-claimed" => {
            branch(d);
            d.write(
                "m/0003_phone.sql",
                "ALTER TABLE t0 ADD COLUMN phone text;\n",
            );
            d.commit_all("another open branch");
            d.git(&["update-ref", "refs/remotes/pr/12", "feature"]);
            d.git(&["checkout", "-q", "main"]);
            d.git(&["checkout", "-q", "-b", "mine"]);
            d.write(
                "m/0003_email.sql",
                "ALTER TABLE t0 ADD COLUMN email text;\n",
            );
            d.commit_all("this branch");
            check(&["m", "--base", "main", "--against", "refs/remotes/pr/*"])
        }
        "against-unreadable" => {
            branch(d);
            // A ref naming a commit whose objects are not in the repository (a shallow or
            // partial fetch): written straight into the ref store, as git would not.
            d.write(
                ".git/refs/remotes/pr/12",
                "1234567890123456789012345678901234567890\n",
            );
            check(&["m", "--base", "main", "--against", "refs/remotes/pr/*"])
        }
        "against-no-match" => {
            branch(d);
            check(&["m", "--base", "main", "--against", "refs/remotes/prs/*"])
        }
        "baseline-covers-new" => {
            d.init_repo();
            d.write(
                "miglint.toml",
                "[[set]]\ndir = \"m\"\nbaseline = \"0009\"\n",
            );
            valid_set(d, "m", 3);
            d.commit_all("base");
            d.git(&["checkout", "-q", "-b", "feature"]);
            d.write(
                "m/0003_email.sql",
                "ALTER TABLE t0 ADD COLUMN email text;\n",
            );
            d.commit_all("a new file under the baseline");
            check(&["m", "--base", "main"])
        }
        "deleted-after-merge" => {
            branch(d);
            d.remove("m/0002_step_2.sql");
            d.commit_all("delete a merged migration");
            check(&["m", "--base", "main"])
        }
        "renamed-after-merge" => {
            branch(d);
            d.git(&["mv", "m/0002_step_2.sql", "m/0002_renamed.sql"]);
            d.commit_all("rename a merged migration");
            check(&["m", "--base", "main"])
        }
        "number-conflict" => {
            branch(d);
            d.write(
                "m/0003_add_email.sql",
                "ALTER TABLE t0 ADD COLUMN email text;\n",
            );
            d.commit_all("feature");
            d.git(&["checkout", "-q", "main"]);
            d.write(
                "m/0003_add_phone.sql",
                "ALTER TABLE t0 ADD COLUMN phone text;\n",
            );
            d.commit_all("main moves on");
            d.git(&["checkout", "-q", "feature"]);
            check(&["m", "--base", "main"])
        }
        "lock-rewritten" => {
            branch(d);
            let ledger = d.read("m/applied.sha256");
            let first = ledger.lines().next().unwrap().to_string();
            d.write("m/applied.sha256", format!("{first}\n"));
            d.commit_all("drop a ledger line");
            check(&["m", "--base", "main"])
        }
        "shallow-clone" => {
            // A depth-1 clone of the branch, with main fetched at depth 1: no merge-base.
            let origin = Dir::new();
            repo_with_set(&origin, 2);
            origin.git(&["checkout", "-q", "-b", "feature"]);
            origin.write("m/0002_feature.sql", "CREATE TABLE feature (id int);\n");
            origin.commit_all("feature");
            origin.git(&["checkout", "-q", "main"]);
            origin.write("m/0002_main.sql", "CREATE TABLE main (id int);\n");
            origin.commit_all("main moves on");
            let url = format!("file://{}", origin.path().display());
            d.git(&[
                "clone", "-q", "--depth", "1", "--branch", "feature", &url, ".",
            ]);
            d.git(&[
                "fetch",
                "-q",
                "--depth",
                "1",
                "origin",
                "main:refs/remotes/origin/main",
            ]);
            Case {
                _outside: Some(origin),
                ..check(&["m", "--base", "origin/main"])
            }
        }
        "base-not-found" => {
            repo_with_set(d, 1);
            check(&["m", "--base", "origin/mian"])
        }
        "rewritten-in-history" => {
            repo_with_set(d, 2);
            d.write(
                "m/0001_step_1.sql",
                "CREATE TABLE t1 (id bigint PRIMARY KEY, name text);\n",
            );
            d.commit_all("edit 0001 in place");
            check(&["m", "--history"])
        }
        "not-a-repository" => {
            valid_set(d, "m", 1);
            check(&["m", "--staged"])
        }
        "alembic-parse-error" => {
            team(d, "20251105_000002");
            d.write("auth/alembic/versions/broken.py", "revision = (\n");
            check(&[])
        }
        "alembic-multiple-heads" => {
            team(d, "20251105_000002");
            d.write(
                "auth/alembic/versions/20251106_000003_other.py",
                revision_file("20251106_000003", "'20251101_000001'"),
            );
            check(&[])
        }
        "alembic-missing-revision" => {
            team(d, "20251105_000002");
            d.write(
                "auth/alembic/versions/20251106_000003_orphan.py",
                revision_file("20251106_000003", "'20251104_000000'"),
            );
            check(&[])
        }
        "alembic-duplicate-revision" => {
            team(d, "20251105_000002");
            d.write(
                "auth/alembic/versions/copy.py",
                revision_file("20251105_000002", "'20251101_000001'"),
            );
            check(&[])
        }
        "alembic-cycle" => {
            team(d, "20251105_000002");
            d.write(
                "auth/alembic/versions/20251101_000001_init.py",
                revision_file("20251101_000001", "'20251105_000002'"),
            );
            check(&[])
        }
        "alembic-head-mismatch" => {
            team(d, "20251101_000001");
            check(&[])
        }
        "alembic-unknown-revision" => {
            team(d, "20251231_999999");
            check(&[])
        }
        "alembic-stamp-table" => {
            team(d, "20251105_000002");
            d.write(
                "auth/migrations/0002_stamp.sql",
                "UPDATE public.alembic_version SET version_num = '20251105_000002';\n",
            );
            check(&[])
        }
        "alembic-stamp-unverified" => {
            team(d, "20251105_000002");
            d.write(
                "auth/migrations/0002_stamp.sql",
                "UPDATE auth.alembic_version_auth SET version_num = upper('20251105_000002');\n",
            );
            check(&[])
        }
        "alembic-head-undeclared" => {
            team(d, "20251105_000002");
            d.write(
                "auth/migrations/0001_roles.sql",
                "CREATE TABLE auth.roles (id bigint PRIMARY KEY);\n",
            );
            d.write(
                "auth/migrations/0000_init.sql",
                "CREATE SCHEMA IF NOT EXISTS auth;\n",
            );
            check(&[])
        }
        "alembic-upgrade-at-start" => {
            team(d, "20251105_000002");
            d.write(
                "auth/auth.compose.yml",
                "services:\n  auth:\n    image: auth\n    environment:\n      MIGRATE_AT_START: \"true\"\n",
            );
            d.write(
                "miglint.toml",
                "[[set]]\ndir = \"auth/migrations\"\n\n[set.alembic]\ncompose = \"auth/auth.compose.yml\"\n",
            );
            check(&[])
        }
        "config-invalid" => {
            repo_with_set(d, 1);
            d.write(
                "miglint.toml",
                "[[set]]\ndir = \"m\"\nnumbring = \"sequential\"\n",
            );
            check(&[])
        }
        "io-error" => {
            repo_with_set(d, 1);
            check(&["no-such-dir"])
        }
        "refused" => {
            repo_with_set(d, 3);
            Case {
                args: vec!["record", "0002"],
                ..check(&[])
            }
        }
        "internal-error" => {
            repo_with_set(d, 1);
            Case {
                env: vec![("MIGLINT_FAULT", "panic")],
                ..check(&["m"])
            }
        }
        "alembic-ddl-drift" => {
            team(d, "20251105_000002");
            // The SQL creates auth.roles; the revision it stamps creates auth.role.
            let rev = revision_file("20251105_000002", "'20251101_000001'").replace(
                "    pass\n",
                "    op.create_table(\"role\", sa.Column(\"id\", sa.BigInteger()), sa.Column(\"name\", sa.Text()), schema=\"auth\")\n",
            );
            d.write("auth/alembic/versions/20251105_000002_roles.py", rev);
            check(&[])
        }
        "alembic-revision-unverified" => {
            team(d, "20251105_000002");
            d.write(
                "miglint.toml",
                "[[set]]\ndir = \"auth/migrations\"\n\n[set.alembic]\nmirror = true\n",
            );
            let rev = revision_file("20251105_000002", "'20251101_000001'").replace(
                "    pass\n",
                "    for name in TABLES:\n        op.drop_table(name, schema=\"auth\")\n",
            );
            d.write("auth/alembic/versions/20251105_000002_roles.py", rev);
            check(&[])
        }
        "runs-in-transaction" => {
            d.init_repo();
            d.write("miglint.toml", "[[set]]\ndir = \"m\"\nlayout = \"goose\"\n");
            d.write(
                "m/00001_users.sql",
                "-- +goose Up\nCREATE TABLE users (id bigint, email text);\n\n-- +goose Down\nDROP TABLE users;\n",
            );
            d.write(
                "m/00002_email_index.sql",
                "-- +goose Up\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n\n-- +goose Down\nDROP INDEX users_email;\n",
            );
            d.commit_all("goose");
            check(&[])
        }
        "invalid-annotation" => {
            d.init_repo();
            d.write("miglint.toml", "[[set]]\ndir = \"m\"\nlayout = \"goose\"\n");
            d.write(
                "m/00001_touch.sql",
                "-- +goose Up\nCREATE FUNCTION touch() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n\n-- +goose Down\nDROP FUNCTION touch();\n",
            );
            d.commit_all("goose");
            check(&[])
        }
        "orphan-down" | "missing-down" => {
            golang_migrate_set(d);
            if code == "orphan-down" {
                d.write(
                    "m/000002_add_email.down.sql",
                    "ALTER TABLE users DROP COLUMN email;\n",
                );
            } else {
                d.write(
                    "m/000002_add_email.up.sql",
                    "ALTER TABLE users ADD COLUMN email text;\n",
                );
            }
            check(&[])
        }
        "alembic-role-privileges" => {
            team(d, "20251105_000002");
            d.write(
                "miglint.toml",
                "[[set]]\ndir = \"auth/migrations\"\n\n[set.alembic]\nrole = \"auth_service\"\n",
            );
            d.write(
                "auth/migrations/0002_grants.sql",
                "GRANT USAGE ON SCHEMA auth TO auth_service;\n",
            );
            d.commit_all("grants");
            Case {
                args: vec!["alembic", "ready"],
                formats: &["human", "json"],
                ..check(&[])
            }
        }
        other => panic!("no scenario for `{other}`: add one to tests/rule_messages.rs"),
    };
    Some(case)
}

/// The team's layout (`auth/…`, Alembic) as a git repository with one commit.
fn team(d: &Dir, stamp: &str) {
    let t = team_repo(stamp);
    for entry in walkdir::WalkDir::new(t.path()).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(t.path()).unwrap();
        if entry.file_type().is_file() {
            d.write(rel.to_str().unwrap(), std::fs::read(entry.path()).unwrap());
        }
    }
    d.init_repo();
    d.commit_all("team");
}

#[test]
fn every_rule_message_is_pinned() {
    for rule in miglint::rules::Rule::ALL {
        let code = rule.code();
        let d = Dir::new();
        let Some(case) = scenario(code, &d) else {
            continue;
        };
        let mut doc = String::new();
        let mut codes = Vec::new();
        for format in case.formats {
            let format = *format;
            let mut args = case.args.clone();
            if format != "human" {
                args.extend(["--format", format]);
            }
            let r = d.run_env(".", &args, &case.env);
            if format == "json" {
                codes = r.diags().into_iter().map(|d| d.0).collect();
            }
            doc.push_str(&format!(
                "── miglint {} (exit {}) ──\n{}{}",
                args.join(" "),
                r.code,
                r.stdout,
                if r.stderr.is_empty() {
                    String::new()
                } else {
                    format!("── stderr ──\n{}", r.stderr)
                }
            ));
        }
        assert!(
            codes.iter().any(|c| c == code),
            "the `{code}` scenario must produce `{code}`, got {codes:?}\n{doc}"
        );
        let mut s = snapshot_settings(&d);
        if case.grammar && cfg!(feature = "postgres-exact") {
            s.set_snapshot_suffix("exact");
        }
        s.bind(|| insta::assert_snapshot!(code, doc));
    }
}
