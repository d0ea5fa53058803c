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
#[cfg_attr(
    not(miglint_test_wheels),
    ignore = "needs MIGLINT_TEST_WHEELS: a directory with the built wheel (.ci/run builds it)"
)]
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
#[cfg_attr(
    not(all(miglint_test_venv, miglint_test_wheels)),
    ignore = "needs MIGLINT_TEST_VENV and MIGLINT_TEST_WHEELS: a venv with pre-commit and PyYAML, the built wheel (.ci/run makes both)"
)]
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
#[cfg_attr(
    not(all(miglint_test_venv, miglint_test_wheels)),
    ignore = "needs MIGLINT_TEST_VENV and MIGLINT_TEST_WHEELS: a venv with pre-commit and PyYAML, the built wheel (.ci/run makes both)"
)]
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

/// An origin whose main has 0000–0002 and two open reviews under `prefix` (`refs/pull`,
/// `refs/merge-requests`): 12 adds `0003_add_phone`, 13 adds `0003_add_email`. Returns it and
/// main's commit.
fn origin_with_reviews(prefix: &str) -> (Dir, String) {
    let origin = Dir::new();
    origin.init_repo();
    valid_set(&origin, "migrations", 3);
    let main = origin.commit_all("main");
    for (n, file) in [(12, "0003_add_phone.sql"), (13, "0003_add_email.sql")] {
        origin.git(&["checkout", "-q", "-b", &format!("b{n}"), &main]);
        origin.write(&format!("migrations/{file}"), "SELECT 1;\n");
        let head = origin.commit_all(&format!("review {n}"));
        origin.git(&["update-ref", &format!("{prefix}/{n}/head"), &head]);
    }
    origin.git(&["checkout", "-q", "main"]);
    (origin, main)
}

/// A clone of `origin` checked out at review 13's head, as CI checks it out.
fn clone_at_review(origin: &Dir, prefix: &str) -> Dir {
    let d = Dir::new();
    d.git(&["clone", "-q", &origin.path().display().to_string(), "."]);
    d.git(&[
        "fetch",
        "-q",
        "origin",
        &format!("+{prefix}/13/head:refs/heads/review13"),
    ]);
    d.git(&["checkout", "-q", "review13"]);
    d
}

/// `against-open-prs: true`: the check step lists the open pull requests with `gh` (stubbed
/// here, as GitHub's CLI answers `--jq '.[].number'`), fetches their heads from `origin` into
/// refs/remotes/pr/*, and warns with a link in the summary when one adds this change's number.
/// A `gh` that fails stops the step with exit 2: claims that could not be read are never a pass.
#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic, pre-commit, PyYAML (.ci/run makes one)"
)]
fn the_action_compares_with_open_pull_requests() {
    let Some(scripts) = action_scripts() else {
        return;
    };
    let (origin, main) = origin_with_reviews("refs/pull");
    let d = clone_at_review(&origin, "refs/pull");

    let runner = Dir::new();
    for f in ["output", "summary"] {
        runner.write(f, "");
    }
    let bin = Dir::new();
    let miglint = env!("CARGO_BIN_EXE_miglint");
    let run = |gh: &str| {
        bin.write("gh", format!("#!/bin/sh\n{gh}\n"));
        Command::new("chmod")
            .args(["+x", &bin.join("gh").display().to_string()])
            .status()
            .unwrap();
        let dir = Path::new(miglint).parent().unwrap().display().to_string();
        let path = format!(
            "{}:{dir}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap()
        );
        Command::new("bash")
            .args(["-e", "-c", &scripts[1].1])
            .current_dir(d.path())
            .env("PATH", path)
            .env("GITHUB_OUTPUT", runner.join("output"))
            .env("GITHUB_STEP_SUMMARY", runner.join("summary"))
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("MIGLINT_ARGS", "")
            .env("MIGLINT_INPUT_BASE", "")
            .env("MIGLINT_EVENT_BASE", &main)
            .env("MIGLINT_SUMMARY", "true")
            .env("MIGLINT_SARIF", "")
            .env("MIGLINT_AGAINST_OPEN_PRS", "true")
            .env("NO_COLOR", "1")
            .env_remove("MIGLINT_BASE")
            .output()
            .unwrap()
    };
    // The stub answers only the call the action makes.
    let out = run(r#"[ "$1 $2" = "pr list" ] && printf '12\n13\n' || exit 9"#);
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "a warning: {log}");
    assert!(
        log.contains("::warning file=migrations/0003_add_email.sql"),
        "{log}"
    );
    assert!(log.contains("refs/remotes/pr/12"), "{log}");
    let summary = runner.read("summary");
    let links: Vec<String> = pulldown_cmark::Parser::new(&summary)
        .filter_map(|e| match e {
            pulldown_cmark::Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect();
    assert!(
        links.contains(&"https://github.com/acme/app/pull/12".to_string()),
        "{summary}"
    );
    // Its own pull request (13) is this branch: no claim against itself.
    assert!(!log.contains("refs/remotes/pr/13 also adds"), "{log}");

    let out = run("echo 'HTTP 401: Bad credentials' >&2; exit 1");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("could not list the open pull requests"));
}

/// The GitLab snippet with `MIGLINT_GITLAB_TOKEN`: it lists the open merge requests through the
/// API (a local server answering as GitLab does), fetches their heads into refs/remotes/mr/*,
/// and the check warns about the number merge request 12 adds too. A listing that fails stops
/// the job with exit 2.
#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic, pre-commit, PyYAML (.ci/run makes one)"
)]
fn the_gitlab_snippet_compares_with_open_merge_requests() {
    let Some(python) = venv_tool("python") else {
        return;
    };
    let steps = Command::new(&python)
        .args([
            "-c",
            "import json, sys, yaml; j = yaml.safe_load(open(sys.argv[1]))['miglint']; print(json.dumps([j['before_script'][3], j['script'][2]]))",
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci/gitlab-ci.yml"),
        ])
        .output()
        .unwrap();
    let steps: Vec<String> = serde_json::from_slice(&steps.stdout).unwrap();
    let (origin, _) = origin_with_reviews("refs/merge-requests");
    let d = clone_at_review(&origin, "refs/merge-requests");
    // The API: GET /api/v4/projects/7/merge_requests?state=opened… (the query is not a path).
    let api = Dir::new();
    api.write(
        "api/v4/projects/7/merge_requests",
        r#"[{"iid": 12}, {"iid": 13}]"#,
    );
    let mut server = Command::new(&python)
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(api.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let port = first
        .split(" port ")
        .nth(1)
        .and_then(|p| p.split_whitespace().next())
        .unwrap()
        .to_string();
    let miglint_dir = Path::new(env!("CARGO_BIN_EXE_miglint"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let python_dir = python.parent().unwrap().display().to_string();
    let run = |project: &str| {
        Command::new("bash")
            .args(["-e", "-c", &format!("{}\n{}", steps[0], steps[1])])
            .current_dir(d.path())
            .env(
                "PATH",
                format!(
                    "{python_dir}:{miglint_dir}:{}",
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("MIGLINT_GITLAB_TOKEN", "glpat-test")
            .env("CI_API_V4_URL", format!("http://127.0.0.1:{port}/api/v4"))
            .env("CI_PROJECT_ID", project)
            .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            .env("NO_COLOR", "1")
            .env_remove("MIGLINT_BASE")
            .output()
            .unwrap()
    };
    let out = run("7");
    let missing = run("8");
    server.kill().ok();
    server.wait().ok();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "a warning: {log}");
    assert!(
        log.contains("number-claimed") && log.contains("refs/remotes/mr/12"),
        "{log}"
    );
    assert!(!log.contains("refs/remotes/mr/13 also"), "{log}");
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("could not list the open merge requests"));
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
