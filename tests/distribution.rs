//! The binaries users install without building (issue 17): the Python wheel maturin builds
//! (`pyproject.toml`, `bindings = "bin"`, with `postgres-exact`) installed into a fresh venv, and
//! the pre-commit mirror (`hooks/pypi-mirror`) run by the real pre-commit against a local package
//! index that stands in for PyPI. CI builds the wheel and points `MIGLINT_TEST_WHEELS` at the
//! directory holding it (and setuptools, which `pip install .` of the mirror needs).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The local package index, or `None` to skip (a failure when `MIGLINT_REQUIRE_TOOLS` is set).
fn wheels() -> Option<PathBuf> {
    match std::env::var_os("MIGLINT_TEST_WHEELS") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var_os("MIGLINT_REQUIRE_TOOLS").is_none(),
                "MIGLINT_TEST_WHEELS must point at the directory holding the built wheel"
            );
            eprintln!("skipped: set MIGLINT_TEST_WHEELS to a directory with the miglint wheel");
            None
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No index but the local one: nothing may come from the network.
fn offline<'a>(cmd: &'a mut Command, index: &Path) -> &'a mut Command {
    cmd.env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", index)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
}

#[test]
fn the_wheel_installs_a_binary_with_postgresqls_grammar() {
    let Some(index) = wheels() else { return };
    let venv = Dir::new();
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = offline(
        Command::new(venv.join("bin/pip")).args(["install", "--quiet", "miglint"]),
        &index,
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "pip install: {}", text(&out));
    let miglint = venv.join("bin/miglint");

    let out = Command::new(&miglint).arg("--version").output().unwrap();
    let version = text(&out);
    assert!(out.status.success(), "{version}");
    assert!(
        version.contains(env!("CARGO_PKG_VERSION"))
            && version.contains("exact PostgreSQL grammar: built in"),
        "the wheel must carry PostgreSQL's grammar: {version}"
    );

    // A check, decided by PostgreSQL's grammar: clean passes, a typo fails with its message.
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 2);
    d.commit_all("base");
    let check = || {
        Command::new(&miglint)
            .args(["check", "migrations"])
            .current_dir(d.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let out = check();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    d.write(
        "migrations/0002_typo.sql",
        "ALTER TABLE t0 ADD COLUMN email text,;\n",
    );
    let out = check();
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("sql-parse-error") && report.contains("PostgreSQL: syntax error"),
        "{report}"
    );
}

#[test]
fn the_pre_commit_mirror_installs_the_wheel_in_seconds() {
    let Some(index) = wheels() else { return };
    let Some(pre_commit) = venv_tool("pre-commit") else {
        return;
    };
    // The mirror as its own repository, as it is published.
    let mirror = Dir::new();
    mirror.init_repo();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pypi-mirror");
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            mirror.join(entry.file_name().to_str().unwrap()),
        )
        .unwrap();
    }
    let hooks = mirror.read(".pre-commit-hooks.yaml");
    assert!(
        hooks.contains(&format!("miglint=={}", env!("CARGO_PKG_VERSION"))),
        "the mirror pins this version: {hooks}"
    );
    mirror.commit_all("mirror");

    let home = Dir::new();
    let d = consumer_repo();
    let try_repo = || {
        let started = Instant::now();
        let out = pre_commit_try_repo(&pre_commit, mirror.path(), d.path(), home.path(), |cmd| {
            offline(cmd, &index);
        });
        (out, started.elapsed())
    };
    let (out, first) = try_repo();
    assert!(out.status.success(), "clean set must pass:\n{}", text(&out));
    // Installing a wheel, not compiling: generous for a loaded CI machine, far below a build.
    assert!(first < Duration::from_secs(90), "first run took {first:?}");

    d.write(
        "migrations/0003_broken.sql",
        "ALTER TABEL users ADD COLUMN email text;\n",
    );
    d.git(&["add", "-A"]);
    let (out, _) = try_repo();
    let report = text(&out);
    assert!(!out.status.success(), "broken set must fail:\n{report}");
    assert!(
        report.contains("miglint::sql-parse-error") && report.contains("0003_broken.sql"),
        "{report}"
    );
}

/// The `run` scripts of `action.yml`'s steps, read with PyYAML (from the test venv).
fn action_scripts() -> Option<Vec<(String, String)>> {
    let python = venv_tool("python")?;
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; a = yaml.safe_load(open(sys.argv[1])); print(json.dumps([[s.get('name', ''), s['run']] for s in a['runs']['steps'] if 'run' in s]))",
            concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The composite action's steps, run as GitHub runs them: bash, the inputs as environment, the
/// runner's files (`GITHUB_PATH`, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), the install step
/// taking the wheel from the local index.
#[test]
fn the_action_installs_checks_and_writes_the_summary() {
    let Some(index) = wheels() else { return };
    let Some(scripts) = action_scripts() else {
        return;
    };
    assert_eq!(scripts.len(), 2, "{scripts:?}");
    let runner = Dir::new();
    for f in ["path", "output", "summary"] {
        runner.write(f, "");
    }
    let run = |script: &str, dir: &Path, extra: &[(&str, &str)]| {
        let path = format!(
            "{}:{}",
            runner.read("path").lines().collect::<Vec<_>>().join(":"),
            std::env::var("PATH").unwrap()
        );
        let mut cmd = Command::new("bash");
        cmd.args(["-e", "-c", script])
            .current_dir(dir)
            .env("PATH", path)
            .env("RUNNER_TEMP", runner.path())
            .env("GITHUB_PATH", runner.join("path"))
            .env("GITHUB_OUTPUT", runner.join("output"))
            .env("GITHUB_STEP_SUMMARY", runner.join("summary"))
            .env("NO_COLOR", "1")
            .env_remove("MIGLINT_BASE")
            .env_remove("GITHUB_BASE_REF")
            .env_remove("GITHUB_EVENT_PATH");
        offline(&mut cmd, &index);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let install = run(
        &scripts[0].1,
        runner.path(),
        &[("MIGLINT_VERSION", env!("CARGO_PKG_VERSION"))],
    );
    assert!(install.status.success(), "install: {}", text(&install));
    assert!(runner.read("path").contains("miglint-venv"));

    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 2);
    d.commit_all("base");
    let inputs = [
        ("MIGLINT_ARGS", ""),
        ("MIGLINT_INPUT_BASE", ""),
        ("MIGLINT_SUMMARY", "true"),
        ("MIGLINT_SARIF", "miglint.sarif"),
    ];
    let out = run(&scripts[1].1, d.path(), &inputs);
    assert!(out.status.success(), "clean: {}", text(&out));
    assert!(runner.read("output").contains("exit-code=0"));
    assert!(runner.read("summary").contains("✅ miglint: no problems"));
    let sarif: serde_json::Value = serde_json::from_str(&d.read("miglint.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    d.write(
        "migrations/0002_typo.sql",
        "ALTER TABEL t0 ADD COLUMN email text;\n",
    );
    let out = run(&scripts[1].1, d.path(), &inputs);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("::error file=migrations/0002_typo.sql,line=1"),
        "{log}"
    );
    assert!(runner.read("output").contains("exit-code=1"));
    assert!(runner.read("summary").contains("sql-parse-error"));
}

/// Every place that pins a released version names this one, so a release bumps them together.
#[test]
fn pinned_versions_follow_the_crate() {
    let version = env!("CARGO_PKG_VERSION");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, pin) in [
        ("action.yml", format!("default: \"{version}\"")),
        ("docs/ci/gitlab-ci.yml", format!("miglint=={version}")),
        (
            "hooks/pypi-mirror/.pre-commit-hooks.yaml",
            format!("miglint=={version}"),
        ),
        (
            "hooks/pypi-mirror/pyproject.toml",
            format!("version = \"{version}\""),
        ),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(text.contains(&pin), "{file} must pin {pin}");
    }
}
