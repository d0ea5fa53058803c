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

/// The seed's layout, with the SQL given: auth/alembic.ini, env.py configuring
/// `auth.alembic_version_auth`, revisions a1 → b2, and auth/migrations.
fn auth(sql: &[&str], extra_config: &str) -> Dir {
    let d = Dir::new();
    d.write(
        "auth/alembic.ini",
        "[alembic]\nscript_location = %(here)s/alembic\n",
    );
    d.write(
        "auth/alembic/env.py",
        "from alembic import context\ncontext.configure(version_table='alembic_version_auth', version_table_schema='auth')\n",
    );
    d.write(
        "auth/alembic/versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    d.write(
        "auth/alembic/versions/b2.py",
        "revision = 'b2'\ndown_revision = 'a1'\n",
    );
    for (i, body) in sql.iter().enumerate() {
        d.write(&format!("auth/migrations/{i:04}_m{i}.sql"), body);
    }
    d.write(
        "miglint.toml",
        format!("[[set]]\ndir = \"auth/migrations\"\n{extra_config}"),
    );
    d
}

const INIT: &str = "CREATE SCHEMA auth;\nCREATE TABLE auth.alembic_version_auth (version_num varchar(32) PRIMARY KEY);\nINSERT INTO auth.alembic_version_auth (version_num) VALUES ('a1');\n";

#[test]
fn stamps_in_every_form_a_team_writes() {
    for (sql, clean) in [
        // search_path, plain and LOCAL, and set_config.
        ("SET search_path TO auth, public;\nUPDATE alembic_version_auth SET version_num = 'b2';\n", true),
        ("BEGIN;\nSET LOCAL search_path = 'auth';\nUPDATE alembic_version_auth SET version_num = 'b2';\nCOMMIT;\n", true),
        ("SELECT set_config('search_path', 'auth', false);\nUPDATE alembic_version_auth SET version_num = 'b2';\n", true),
        // INSERT … SELECT, a dollar-quoted literal, DELETE/TRUNCATE + INSERT, ON CONFLICT.
        ("DELETE FROM auth.alembic_version_auth;\nINSERT INTO auth.alembic_version_auth (version_num) SELECT 'b2';\n", true),
        ("TRUNCATE auth.alembic_version_auth;\nINSERT INTO auth.alembic_version_auth (version_num) VALUES ($$b2$$) ON CONFLICT DO NOTHING;\n", true),
        // The newest stamp is the stale one: found, in the new forms too.
        ("DELETE FROM auth.alembic_version_auth;\nINSERT INTO auth.alembic_version_auth (version_num) SELECT 'a1';\n", false),
        ("UPDATE auth.alembic_version_auth SET version_num = $$a1$$;\n", false),
        // An INSERT that leaves the old row: the table holds a1 and b2, and real Alembic says
        // "Requested revision b2 overlaps with other requested revisions a1".
        ("INSERT INTO auth.alembic_version_auth (version_num) VALUES ('b2');\n", false),
        // A statement under a WITH clause stamps like the plain one.
        ("WITH t AS (SELECT 1) UPDATE auth.alembic_version_auth SET version_num = 'b2';\n", true),
        ("WITH t AS (SELECT 1) INSERT INTO auth.alembic_version_auth (version_num) SELECT 'a1';\n", false),
    ] {
        let d = auth(&[INIT, sql], "");
        let r = d.run(&["check", "--format", "json"]);
        if clean {
            assert_eq!(r.code, 0, "{sql}\n{}", r.stdout);
        } else {
            let m = r.find("alembic-head-mismatch");
            assert_eq!(m["file"], "auth/migrations/0001_m1.sql", "{sql}: {m}");
            assert!(m["line"].as_u64().unwrap() >= 1);
        }
    }
    // Unqualified without a search_path names public.alembic_version_auth: the wrong table.
    let d = auth(
        &[
            INIT,
            "UPDATE alembic_version_auth SET version_num = 'b2';\n",
        ],
        "",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert!(
        r.codes().contains(&"alembic-stamp-table".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn a_stamp_miglint_cannot_evaluate_is_a_warning_never_ignored() {
    let d = auth(
        &[INIT, "UPDATE auth.alembic_version_auth SET version_num = 'b2';\nDO $$ BEGIN UPDATE auth.alembic_version_auth SET version_num = 'a1'; END $$;\n"],
        "",
    );
    let r = d.run(&["check", "--format", "json"]);
    let w = r.find("alembic-stamp-unverified");
    assert_eq!(
        (w["line"].as_u64(), w["severity"].as_str()),
        (Some(2), Some("warning")),
        "{w}"
    );
    // A data-modifying CTE writes the table from inside a WITH clause.
    let d = auth(
        &[INIT, "UPDATE auth.alembic_version_auth SET version_num = 'b2';\nWITH s AS (UPDATE auth.alembic_version_auth SET version_num = 'a1' RETURNING 1) SELECT * FROM s;\n"],
        "",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(
        r.find("alembic-stamp-unverified")["line"],
        2,
        "{}",
        r.stdout
    );
    // A filter miglint cannot evaluate may match no row (`WHERE false`): the statement is not
    // counted as a stamp, so the stale stamp before it is the declared head (an error), and a
    // warning says why. `WHERE true` and `WHERE version_num = '…'` are evaluated.
    for (sql, stale) in [
        (
            "UPDATE auth.alembic_version_auth SET version_num = 'b2' WHERE false;\n",
            true,
        ),
        (
            "UPDATE auth.alembic_version_auth SET version_num = 'b2' FROM auth.x WHERE x.ok;\n",
            true,
        ),
        (
            "INSERT INTO auth.alembic_version_auth (version_num) SELECT 'b2' WHERE false;\n",
            true,
        ),
        (
            "INSERT INTO auth.alembic_version_auth (version_num) SELECT 'b2' LIMIT 0;\n",
            true,
        ),
        (
            "UPDATE auth.alembic_version_auth SET version_num = 'b2' WHERE true;\n",
            false,
        ),
        (
            "UPDATE auth.alembic_version_auth SET version_num = 'b2' WHERE version_num = 'a1';\n",
            false,
        ),
    ] {
        let d = auth(
            &[
                INIT,
                "UPDATE auth.alembic_version_auth SET version_num = 'a1';\n",
                sql,
            ],
            "",
        );
        let r = d.run(&["check", "--format", "json"]);
        if stale {
            assert_eq!(r.code, 1, "{sql}\n{}", r.stdout);
            assert_eq!(
                r.find("alembic-head-mismatch")["file"],
                "auth/migrations/0001_m1.sql",
                "{sql}"
            );
            assert_eq!(
                r.find("alembic-stamp-unverified")["file"],
                "auth/migrations/0002_m2.sql",
                "{sql}"
            );
        } else {
            assert_eq!(r.code, 0, "{sql}\n{}", r.stdout);
        }
    }
}

/// neutron's layout: expand and contract branches from one root, labels computed at runtime.
fn neutron(stamps: &str, config: &str) -> Dir {
    let d = auth(&[INIT, stamps], config);
    d.write("auth/alembic/versions/e1.py", "from neutron.db.migration import cli\nrevision = 'e1'\ndown_revision = 'b2'\nbranch_labels = (cli.EXPAND_BRANCH,)\n");
    d.write(
        "auth/alembic/versions/e2.py",
        "revision = 'e2'\ndown_revision = 'e1'\n",
    );
    d.write("auth/alembic/versions/c1.py", "from neutron.db.migration import cli\nrevision = 'c1'\ndown_revision = 'b2'\nbranch_labels = (cli.CONTRACT_BRANCH,)\n");
    d
}

#[test]
fn expand_and_contract_heads_by_design() {
    let both = "DELETE FROM auth.alembic_version_auth;\nINSERT INTO auth.alembic_version_auth (version_num) VALUES ('e2'), ('c1');\n";
    // Without the declaration, two heads are an error.
    let r = neutron(both, "").run(&["check", "--format", "json"]);
    assert!(
        r.codes().contains(&"alembic-multiple-heads".to_string()),
        "{}",
        r.stdout
    );
    // Declared: both heads stamped is clean…
    let cfg = "[set.alembic]\nheads = 2\n";
    let d = neutron(both, cfg);
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let heads = d.run(&["alembic", "heads"]);
    assert_eq!(heads.stdout, "c1\ne2\n");
    if let Some(alembic) = venv_tool("alembic") {
        let out = std::process::Command::new(alembic)
            .args(["-c", "auth/alembic.ini", "heads"])
            .current_dir(d.path())
            .output()
            .unwrap();
        // Alembic cannot import neutron's `cli` module; where it can, it prints the same two.
        if out.status.success() {
            let mut theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next().map(String::from))
                .collect();
            theirs.sort();
            assert_eq!(theirs, vec!["c1", "e2"]);
        }
    }
    // …one branch moved with a per-head UPDATE is clean too…
    let moved = "DELETE FROM auth.alembic_version_auth;\nINSERT INTO auth.alembic_version_auth (version_num) VALUES ('e1'), ('c1');\nUPDATE auth.alembic_version_auth SET version_num = 'e2' WHERE version_num = 'e1';\n";
    assert_eq!(neutron(moved, cfg).run(&["check"]).code, 0);
    // …a stale branch is a mismatch at the newest stamp…
    let stale = "DELETE FROM auth.alembic_version_auth;\nINSERT INTO auth.alembic_version_auth (version_num) VALUES ('e1'), ('c1');\n";
    let r = neutron(stale, cfg).run(&["check", "--format", "json"]);
    assert!(r.find("alembic-head-mismatch")["message"]
        .as_str()
        .unwrap()
        .contains("e1"));
    // …and a third head is an error.
    let d = neutron(both, cfg);
    d.write(
        "auth/alembic/versions/x1.py",
        "revision = 'x1'\ndown_revision = 'b2'\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert!(
        r.codes().contains(&"alembic-multiple-heads".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn tool_alembic_in_pyproject_toml() {
    let d = Dir::new();
    d.write(
        "pyproject.toml",
        "[project]\nname = \"svc\"\n\n[tool.alembic]\nscript_location = \"%(here)s/db/alembic\"\nversion_locations = [\"%(here)s/db/alembic/versions\", \"%(here)s/db/extra\"]\n",
    );
    d.write(
        "alembic.ini",
        "[alembic]\nsqlalchemy.url = postgresql://x/y\n",
    );
    d.write("db/alembic/env.py", "");
    d.write(
        "db/alembic/versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    d.write("db/extra/b2.py", "revision = 'b2'\ndown_revision = 'a1'\n");
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    agree(&d, &["b2"]);
}

/// Issue 30: every binding of `revision`/`down_revision`/`branch_labels`/`depends_on` that
/// miglint does not evaluate is `alembic-parse-error` at that spot. Each form below makes real
/// Alembic see another graph than the plain assignments suggest (heads b2 and c3, or a load
/// error), so reading only the assignments would be a guess.
#[test]
#[cfg_attr(
    feature = "postgres-exact",
    ignore = "Python is read alike in both builds; runs in the default build"
)]
fn bindings_miglint_does_not_evaluate_are_errors_never_guesses() {
    let ini = "[alembic]\nscript_location = alembic\nprepend_sys_path = .\n";
    let forms = [
        "(down_revision := 'a1')",
        "for down_revision in ['a1']: pass",
        "for down_revision in ['a1']:\n    pass",
        "import contextlib\nwith contextlib.nullcontext('a1') as down_revision: pass",
        "from helpers import PARENT as down_revision",
        "from helpers import *",
        "import helpers as down_revision",
        "globals()['down_revision'] = 'a1'",
        "vars()['down_revision'] = 'a1'",
        "locals()['down_revision'] = 'a1'",
        "exec(\"down_revision = 'a1'\")",
        "eval(\"(down_revision := 'a1')\")",
        "def f():\n    global down_revision\n    down_revision = 'a1'\nf()",
        "def f(): global down_revision; down_revision = 'a1'\nf()",
        "try:\n    raise ValueError('a1')\nexcept ValueError as down_revision:\n    pass",
        "del down_revision",
        "if True: down_revision = 'a1'",
        "while True: down_revision = 'a1'; break",
        "x, *down_revision = 'b2', 'a1'",
        "(x, (down_revision, y)) = (1, ('a1', 2))",
        "down_revision *= 0",
        "down_revision = ['b2']\ndown_revision[:] = ['a1']",
        "down_revision = ['b2']\ndown_revision.clear()",
        "down_revision = ['b2']\nparents = down_revision\nparents.clear()",
        "down_revision = ['b2']\ndef f():\n    down_revision.clear()\nf()",
        "match 'a1':\n    case down_revision:\n        pass",
        "def down_revision(): pass",
        "class down_revision: pass",
        "import types, sys\nsetattr(sys.modules[__name__], 'down_revision', 'a1')",
    ];
    for form in forms {
        let d = project(
            ini,
            &[
                ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
                ("b2.py", "revision = 'b2'\ndown_revision = 'a1'\n"),
                (
                    "c3.py",
                    &format!("revision = 'c3'\ndown_revision = ('b2',)\n{form}\n"),
                ),
            ],
        );
        d.write("helpers.py", "PARENT = 'a1'\ndown_revision = 'a1'\n");
        let r = d.run(&["alembic", "heads", "--format", "json"]);
        assert_eq!(r.code, 1, "{form}: {}{}", r.stdout, r.stderr);
        let finding = r.find("alembic-parse-error");
        assert_eq!(finding["file"], "alembic/versions/c3.py", "{form}");
        // At that spot: the line of the form, not the plain assignment (line 2).
        assert!(finding["line"].as_u64().unwrap() >= 3, "{form}: {finding}");
        if let Some(real) = theirs(&d) {
            assert_ne!(
                real,
                Ok(vec!["c3".to_string()]),
                "{form}: Alembic agrees with a plain read"
            );
        }
    }
}

/// Reading these names, or binding them where the module's never changes, stays exact.
#[test]
#[cfg_attr(
    feature = "postgres-exact",
    ignore = "Python is read alike in both builds; runs in the default build"
)]
fn reads_and_local_bindings_of_the_names_are_not_errors() {
    let forms = [
        "str(down_revision)",
        "x = down_revision",
        "parent = down_revision[0]",
        "def upgrade():\n    revision = 'zz'\n    for down_revision in []:\n        pass",
        "def upgrade(down_revision=None):\n    return down_revision",
        "class X:\n    down_revision = 'zz'",
        "y = [down_revision for down_revision in ['zz']]",
        "def upgrade():\n    op.execute(text('x'), revision='zz')",
        "def g(): return context.revision",
        "def f(): pass; down_revision = 'zz'",
        "if False: pass\nelse: pass",
    ];
    for form in forms {
        let d = project(
            INI,
            &[
                ("a1.py", "revision = 'a1'\ndown_revision = None\n"),
                ("b2.py", "revision = 'b2'\ndown_revision = 'a1'\n"),
                (
                    "c3.py",
                    &format!("revision = 'c3'\ndown_revision = ('b2',)\n{form}\n"),
                ),
            ],
        );
        let mine = ours(&d).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(mine, ["c3"], "{form}");
        if let Some(real) = theirs(&d) {
            assert_eq!(real, Ok(mine), "{form}: miglint vs Alembic");
        }
    }
}
