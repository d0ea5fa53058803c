//! Shared helpers: throw-away directories and git repositories, and the real binary.
#![allow(dead_code)]

pub mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;

/// (code, file, line, column) of one JSON diagnostic.
pub type Diag = (String, Option<String>, Option<u64>, Option<u64>);

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// (code, file, line, column) of every diagnostic in JSON output.
    pub fn diags(&self) -> Vec<Diag> {
        self.json()["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["file"].as_str().map(str::to_string),
                    d["line"].as_u64(),
                    d["column"].as_u64(),
                )
            })
            .collect()
    }

    pub fn codes(&self) -> Vec<String> {
        self.diags()
            .into_iter()
            .map(|d| d.0)
            .filter(|c| c != "no-base")
            .collect()
    }

    pub fn find(&self, code: &str) -> serde_json::Value {
        self.json()["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("no {code} in {}", self.stdout))
    }
}

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel)).unwrap()
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.join(rel)).unwrap();
    }

    /// Runs the real binary here with a clean CI environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args)
    }

    pub fn run_in(&self, sub: &str, args: &[&str]) -> Run {
        self.run_env(sub, args, &[])
    }

    pub fn run_env(&self, sub: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_miglint"));
        cmd.args(args).current_dir(self.join(sub));
        for k in [
            "MIGLINT_BASE",
            "GITHUB_BASE_REF",
            "GITHUB_EVENT_PATH",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
            "NO_COLOR",
            "FORCE_COLOR",
            "CLICOLOR_FORCE",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run miglint");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `git` (the tests may use the CLI; miglint itself only uses libgit2).
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_NAME", "Ada Tester")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Tester")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn init_repo(&self) -> &Self {
        self.git(&["init", "-q", "-b", "main"]);
        self.git(&["config", "core.autocrlf", "false"]);
        self
    }

    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits everything and makes it `origin/main`, the base the checks compare with.
    #[allow(dead_code)] // not every test binary has a base
    pub fn commit_as_origin_main(&self, message: &str) {
        self.commit_all(message);
        self.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    }

    /// Two branches that each added their own files: on a new branch `feature` from `main`,
    /// commits `ours`; on `main`, commits `theirs`; then checks `feature` out again.
    #[allow(dead_code)] // not every test binary diverges
    pub fn diverge(&self, ours: &[(&str, &str)], theirs: &[(&str, &str)]) -> &Self {
        self.git(&["checkout", "-q", "-b", "feature"]);
        for (path, content) in ours {
            self.write(path, content);
        }
        self.commit_all("feature");
        self.git(&["checkout", "-q", "main"]);
        for (path, content) in theirs {
            self.write(path, content);
        }
        self.commit_all("main");
        self.git(&["checkout", "-q", "feature"]);
        self
    }
}

/// `check migrations --base BASE --format json`, run in `d`.
pub fn check_json(d: &Dir, base: &str) -> Run {
    d.run(&["check", "migrations", "--base", base, "--format", "json"])
}

/// A small valid migration set in `dir`: 0000..n-1.
/// A repository that uses miglint through pre-commit: a valid set of three, committed.
#[allow(dead_code)] // only the pre-commit tests have consumers
pub fn consumer_repo() -> Dir {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 3);
    d.commit_all("consumer");
    d
}

pub fn valid_set(d: &Dir, dir: &str, n: usize) {
    for i in 0..n {
        d.write(
            &format!("{dir}/{i:04}_step_{i}.sql"),
            format!("CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL);\n"),
        );
    }
}

/// A small deterministic generator for generated corpora (the same sequence on every run).
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A program from the test venv (`MIGLINT_TEST_VENV`), or `None` to skip — which fails instead
/// when `MIGLINT_REQUIRE_TOOLS` is set (as in CI), so a missing tool cannot pass silently.
pub fn venv_tool(name: &str) -> Option<PathBuf> {
    match std::env::var_os("MIGLINT_TEST_VENV") {
        Some(venv) => Some(Path::new(&venv).join("bin").join(name)),
        None => {
            assert!(
                std::env::var_os("MIGLINT_REQUIRE_TOOLS").is_none(),
                "MIGLINT_TEST_VENV must point at a venv with {name}"
            );
            eprintln!("skipped: set MIGLINT_TEST_VENV to a venv with {name} installed");
            None
        }
    }
}

/// Runs a venv tool in `dir`, asserting success; returns stdout.
pub fn run_tool(tool: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        tool.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An Alembic revision file as `alembic revision` writes it.
pub fn revision_file(id: &str, down: &str) -> String {
    format!(
        "\"\"\"{id}\n\nRevision ID: {id}\nRevises: {down}\nCreate Date: 2025-11-05\n\n\"\"\"\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n# revision identifiers, used by Alembic.\nrevision: str = '{id}'\ndown_revision: Union[str, Sequence[str], None] = {down}\nbranch_labels: Union[str, Sequence[str], None] = None\ndepends_on: Union[str, Sequence[str], None] = None\n\n\ndef upgrade() -> None:\n    pass\n"
    )
}

/// The team's layout: auth/migrations (the ledger table `auth.migration_history`),
/// auth/alembic.ini, auth/alembic/env.py (version table `auth.alembic_version_auth`), versions/;
/// `0001_roles.sql` stamps `stamp`. Not a git repository yet.
pub fn team_repo(stamp: &str) -> Dir {
    let d = Dir::new();
    d.write("auth/alembic.ini", "[alembic]\nscript_location = %(here)s/alembic\nprepend_sys_path = .\n\n[loggers]\nkeys = root\n");
    d.write(
        "auth/alembic/env.py",
        "from alembic import context\n\nSCHEMA = \"auth\"\n\ndef run_migrations_online():\n    context.configure(\n        connection=connection,\n        target_metadata=target_metadata,\n        version_table=\"alembic_version_auth\",\n        version_table_schema=SCHEMA,\n    )\n",
    );
    d.write(
        "auth/alembic/versions/20251101_000001_init.py",
        revision_file("20251101_000001", "None"),
    );
    d.write(
        "auth/alembic/versions/20251105_000002_roles.py",
        revision_file("20251105_000002", "'20251101_000001'"),
    );
    d.write("auth/migrations/0000_init.sql", "CREATE SCHEMA IF NOT EXISTS auth;\nCREATE TABLE auth.migration_history (\n    filename text PRIMARY KEY,\n    checksum text NOT NULL,\n    applied_by text NOT NULL DEFAULT current_user,\n    applied_at timestamptz NOT NULL DEFAULT now()\n);\nCREATE TABLE IF NOT EXISTS auth.alembic_version_auth (version_num varchar(32) NOT NULL PRIMARY KEY);\nINSERT INTO auth.alembic_version_auth (version_num) VALUES ('20251101_000001');\n");
    d.write("auth/migrations/0001_roles.sql", format!("CREATE TABLE auth.roles (id bigint PRIMARY KEY, name text NOT NULL UNIQUE);\nUPDATE auth.alembic_version_auth SET version_num = '{stamp}';\n"));
    d.write("miglint.toml", "[[set]]\ndir = \"auth/migrations\"\n");
    d
}

/// Stable text: temporary paths, commit ids and dates vary from run to run.
pub fn snapshot_settings(d: &Dir) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    let tmp = regex::escape(&d.path().display().to_string());
    s.add_filter(&tmp, "[REPO]");
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.add_filter(r"\b[0-9a-f]{40}\b", "[COMMIT]");
    s.add_filter(r"\b[0-9a-f]{7,12}\b", "[SHORT-COMMIT]");
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( ?[+-]\d{2}:?\d{2}| ?UTC|Z)?",
        "[DATE]",
    );
    s.add_filter(r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]");
    // Source locations in internal errors move with every edit of the file.
    s.add_filter(r"(src/[a-z_/]+\.rs):\d+", "$1:[LINE]");
    s
}

/// `pre-commit try-repo REPO miglint --all-files` run in `consumer`, with its own
/// `PRE_COMMIT_HOME` and no CI base in the environment; `configure` adds what the test needs.
pub fn pre_commit_try_repo(
    pre_commit: &Path,
    repo: &Path,
    consumer: &Path,
    home: &Path,
    configure: impl FnOnce(&mut Command),
) -> std::process::Output {
    let mut cmd = Command::new(pre_commit);
    cmd.args([
        "try-repo",
        repo.to_str().unwrap(),
        "miglint",
        "--all-files",
        "--color",
        "never",
    ])
    .current_dir(consumer)
    .env("PRE_COMMIT_HOME", home)
    .env("NO_COLOR", "1")
    .env_remove("MIGLINT_BASE")
    .env_remove("GITHUB_BASE_REF")
    .env_remove("GITHUB_EVENT_PATH");
    configure(&mut cmd);
    cmd.output().unwrap()
}

/// `git` with the installed hooks able to find this build of miglint on PATH, and no CI base
/// in the environment.
pub fn git_with_hooks(d: &Dir, args: &[&str]) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_miglint")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("git")
        .args(args)
        .current_dir(d.path())
        .env("PATH", path)
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", d.path())
        .env("NO_COLOR", "1")
        .env_remove("MIGLINT_BASE")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
        .output()
        .unwrap()
}

/// A new repository with `migrations/` 0000–0002 (`init`, `users`, `roles`) recorded in the
/// ledger, nothing committed yet.
pub fn applied_set() -> Dir {
    let d = Dir::new();
    d.init_repo();
    let mut ledger = String::new();
    for (i, name) in ["init", "users", "roles"].iter().enumerate() {
        let body =
            format!("CREATE TABLE {name} (\n    id bigint PRIMARY KEY,\n    note text\n);\n");
        let file = format!("{i:04}_{name}.sql");
        d.write(&format!("migrations/{file}"), &body);
        ledger.push_str(&format!("{}  {file}\n", sha256(body.as_bytes())));
    }
    d.write("migrations/applied.sha256", ledger);
    d
}
