//! Issue 15: Alembic as Alembic reads it. Each case is a project layout that real Alembic (from
//! the test venv) reads; miglint must print the same heads, or report `alembic-parse-error` —
//! never a different head with exit 0.

mod common;
use common::*;

/// A project: alembic.ini (given), an empty env.py, revision files (path under versions/, body).
fn project(ini: &str, files: &[(&str, &str)]) -> Dir {
    let d = Dir::new();
    d.write("alembic.ini", ini);
    d.write("alembic/env.py", "");
    for (path, body) in files {
        d.write(&format!("alembic/versions/{path}"), body);
    }
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    d
}

const INI: &str = "[alembic]\nscript_location = alembic\n";

/// miglint's heads, or `Err(message)` when it reports a parse error.
fn ours(d: &Dir) -> Result<Vec<String>, String> {
    let r = d.run(&["alembic", "heads"]);
    if r.code == 0 {
        let mut v: Vec<String> = r.stdout.lines().map(String::from).collect();
        v.sort();
        Ok(v)
    } else {
        assert!(
            r.stderr.contains("alembic-parse-error"),
            "{}{}",
            r.stdout,
            r.stderr
        );
        Err(r.stderr)
    }
}

/// Real Alembic's heads, when the venv is there.
fn theirs(d: &Dir) -> Option<Result<Vec<String>, String>> {
    let alembic = venv_tool("alembic")?;
    let out = std::process::Command::new(alembic)
        .arg("heads")
        .current_dir(d.path())
        .output()
        .unwrap();
    Some(if out.status.success() {
        let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect();
        v.sort();
        Ok(v)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

/// miglint reads these forms exactly: the same heads as expected and as real Alembic.
fn agree(d: &Dir, expect: &[&str]) {
    let mine = ours(d).unwrap_or_else(|e| panic!("miglint refused a supported form: {e}"));
    assert_eq!(mine, expect, "miglint");
    if let Some(real) = theirs(d) {
        assert_eq!(Ok(mine), real, "miglint vs Alembic");
    }
}

#[test]
fn recursive_version_locations() {
    let ini = "[alembic]\nscript_location = alembic\nrecursive_version_locations = true\n";
    let d = project(
        ini,
        &[
            ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
            ("b2.py", "revision = 'b2'\ndown_revision = 'a1'\n"),
            ("2025/c3.py", "revision = 'c3'\ndown_revision = 'b2'\n"),
        ],
    );
    agree(&d, &["c3"]);
}

#[test]
fn statements_separated_by_semicolons() {
    let d = project(
        INI,
        &[
            ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
            ("b2.py", "revision = 'b2'\nx = 1; down_revision = 'a1'\n"),
            ("c3.py", "revision = \"c3\" ; down_revision = \"b2\"\n"),
            ("d4.py", "revision = 'd4';\ndown_revision = 'c3';\n"),
        ],
    );
    agree(&d, &["d4"]);
}

#[test]
fn string_escapes_are_decoded_as_python_does() {
    let d = project(
        INI,
        &[
            ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
            ("b2.py", "revision = 'b\\x32'\ndown_revision = 'a\\61'\n"),
            (
                "c3.py",
                "revision = 'c\\u0033'\ndown_revision = ('b' '2')\n",
            ),
        ],
    );
    agree(&d, &["c3"]);
    // A named escape cannot be evaluated without Unicode's name table: an error, not a guess.
    d.write(
        "alembic/versions/d4.py",
        "revision = 'd\\N{DIGIT FOUR}'\ndown_revision = 'c3'\n",
    );
    assert!(ours(&d).is_err());
}

#[test]
fn tuple_targets() {
    let d = project(
        INI,
        &[
            ("a1.py", "revision, down_revision = 'a1', None\n"),
            ("b2.py", "(revision, down_revision) = ('b2', 'a1')\n"),
        ],
    );
    agree(&d, &["b2"]);
}

#[test]
fn assignments_in_blocks_or_missing_are_errors_never_guesses() {
    let d = project(
        INI,
        &[
            ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
            (
                "b2.py",
                "import os\nrevision = 'b2'\nif os.environ.get('X'):\n    down_revision = 'a1'\nelse:\n    down_revision = None\n",
            ),
        ],
    );
    assert!(ours(&d).is_err());
    d.write("alembic/versions/b2.py", "revision = 'b2'\n");
    assert!(ours(&d).is_err());
    // A local variable inside a function is not the module's.
    d.write(
        "alembic/versions/b2.py",
        "revision = 'b2'\ndown_revision = 'a1'\ndef upgrade():\n    down_revision = 'zz'\n",
    );
    agree(&d, &["b2"]);
}

#[test]
fn ini_is_read_with_configparser_semantics() {
    let ini = "[DEFAULT]\nbase = %(here)s\n\n[alembic]\nScript_Location = %(base)s/alembic\n# a comment\n";
    let d = project(
        ini,
        &[
            ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
            ("b2.py", "revision = 'b2'\ndown_revision = 'a1'\n"),
        ],
    );
    agree(&d, &["b2"]);
}

#[cfg(unix)]
#[test]
fn an_unreadable_revision_file_is_a_finding() {
    let d = project(
        INI,
        &[
            ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
            ("b2.py", "revision = 'b2'\ndown_revision = 'a1'\n"),
        ],
    );
    std::os::unix::fs::symlink("missing.py", d.join("alembic/versions/c3.py")).unwrap();
    let r = d.run(&["alembic", "heads"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("c3.py"), "{}", r.stderr);
}
