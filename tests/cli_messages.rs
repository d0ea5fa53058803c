//! Issue 14: every command honours --format, `explain` takes what the human output shows, and
//! messages say exactly what to do.

mod common;
use common::*;

fn repo() -> Dir {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 2);
    d.write("alembic.ini", "[alembic]\nscript_location = alembic\n");
    d.write("alembic/env.py", "");
    d.write(
        "alembic/versions/a1.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    d.commit_all("x");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d
}

#[test]
fn every_command_prints_one_json_document_or_refuses_the_format() {
    let d = repo();
    let cases: &[(&[&str], &str)] = &[
        (&["status"], "sets"),
        (&["alembic", "heads", "--set", "migrations"], "heads"),
        (&["explain", "number-gap"], "code"),
        (&["rules"], "rules"),
        (
            &["renumber", "--base", "origin/main", "--dry-run"],
            "renames",
        ),
    ];
    for (args, key) in cases {
        let r = d.run(&[*args, &["--format", "json"]].concat());
        let doc = r.json();
        assert_eq!(doc["version"], 1, "{args:?}: {doc}");
        assert!(!doc[*key].is_null(), "{args:?}: no `{key}` in {doc}");
        for other in ["github", "sarif"] {
            let r = d.run(&[*args, &["--format", other]].concat());
            assert_eq!(r.code, 2, "{args:?} --format {other}: {}", r.stdout);
        }
    }
    let r = d.run(&["new", "add_email", "--format", "json"]);
    assert_eq!(r.json()["created"], "migrations/0002_add_email.sql");
    let r = d.run(&["record", "0000", "--format", "json"]);
    assert_eq!(r.json()["recorded"], 1, "{}", r.stderr);
    // `rules` marks the codes that end the run with exit 2.
    let rules = d.run(&["rules", "--format", "json"]).json();
    let shallow = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "shallow-clone")
        .unwrap()
        .clone();
    assert_eq!(shallow["exits_2"], true);
    assert!(d.run(&["rules"]).stdout.contains("shallow-clone"));
    assert!(d
        .run(&["rules"])
        .stdout
        .lines()
        .any(|l| l.starts_with("shallow-clone") && l.contains("exit 2")));
}

#[test]
fn explain_accepts_the_header_form_and_suggests_for_a_typo() {
    let d = Dir::new();
    let r = d.run(&["explain", "miglint::number-conflict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("number-conflict"));
    assert!(r.stdout.contains("cannot silence it"), "{}", r.stdout);
    let r = d.run(&["explain", "number-conflcit"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `number-conflict`"),
        "{}",
        r.stderr
    );
}

#[test]
fn init_says_what_it_wrote_instead_of_printing_it() {
    let d = repo();
    let r = d.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("wrote miglint.toml with 1 set (migrations)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("[[set]]"), "{}", r.stdout);
}

#[test]
fn one_finding_per_problem_with_the_rest_as_related() {
    let d = Dir::new();
    d.init_repo();
    let body = "CREATE TABLE t (id int);\n";
    d.write("migrations/0000_init.sql", body);
    d.write(
        "migrations/applied.sha256",
        format!("{}  0000_init.sql\n", sha256(body.as_bytes())),
    );
    d.commit_all("base");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    // An applied, merged file edited: checksum-mismatch is the root cause.
    d.write("migrations/0000_init.sql", "CREATE TABLE t (id bigint);\n");
    let r = d.run(&[
        "check",
        "migrations",
        "--base",
        "origin/main",
        "--format",
        "json",
    ]);
    assert_eq!(r.codes(), vec!["checksum-mismatch"], "{}", r.stdout);
    let f = r.find("checksum-mismatch");
    assert_eq!(f["related"][0]["code"], "modified-after-merge", "{f}");
    // The human report says it once, with the related fact under help.
    let h = d.run(&["check", "migrations", "--base", "origin/main"]);
    assert_eq!(h.stdout.matches("miglint::").count(), 1, "{}", h.stdout);
    assert!(
        h.stdout.contains("also (modified-after-merge)"),
        "{}",
        h.stdout
    );
}

#[test]
fn a_missing_compose_file_is_a_config_error_naming_it() {
    let d = repo();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\n[set.alembic]\nini = \"alembic.ini\"\ncompose = \"deploy/app.compose.yml\"\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let f = r.find("config-invalid");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("deploy/app.compose.yml"),
        "{f}"
    );
}

#[test]
fn new_folds_accents_into_the_file_name() {
    let d = repo();
    let r = d.run(&["new", "ajouter l'été"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "migrations/0002_ajouter_l_ete.sql");
}

#[test]
fn every_argument_and_option_is_described_in_help() {
    let d = Dir::new();
    for cmd in [
        &["check"][..],
        &["record"],
        &["new"],
        &["init"],
        &["explain"],
        &["rules"],
        &["alembic", "heads"],
        &["status"],
        &["renumber"],
    ] {
        let r = d.run(&[cmd, &["--help"]].concat());
        assert_eq!(r.code, 0, "{cmd:?}");
        for line in r.stdout.lines() {
            let t = line.trim_start();
            if !(t.starts_with('-') || t.starts_with('<')) || !line.starts_with("  ") {
                continue;
            }
            // `  --set <NAME>  The set …`: the flag, two spaces, then words.
            let described = t
                .split_once("  ")
                .is_some_and(|(_, rest)| !rest.trim().is_empty());
            assert!(described, "{cmd:?}: undocumented `{t}`");
        }
    }
}

#[test]
fn record_inserts_into_the_teams_history_table() {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "auth/migrations/0000_init.sql",
        "CREATE SCHEMA auth;\nCREATE TABLE IF NOT EXISTS auth.migration_history (filename text PRIMARY KEY, checksum text NOT NULL);\n",
    );
    // init finds the table in the SQL and writes it down.
    let r = d.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(d
        .read("miglint.toml")
        .contains("history_table = \"auth.migration_history\""));
    let r = d.run(&["record", "0000"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(
            "INSERT INTO auth.migration_history (filename, checksum) VALUES ('0000_init.sql', '"
        ),
        "{}",
        r.stdout
    );
    // Configured table and columns win.
    d.write("auth/migrations/0001_x.sql", "SELECT 1;\n");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"auth/migrations\"\nhistory_table = \"ops.applied\"\nhistory_columns = [\"script\", \"sha256\"]\n",
    );
    let r = d.run(&["record", "0001"]);
    assert!(
        r.stdout
            .starts_with("INSERT INTO ops.applied (script, sha256) VALUES ('0001_x.sql', '"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_timestamp_set_has_one_width_and_real_times() {
    let d = Dir::new();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\nnumbering = \"timestamp\"\n",
    );
    d.write("migrations/20240101120000_a.sql", "SELECT 1;\n");
    d.write("migrations/20240102120000_b.sql", "SELECT 2;\n");
    d.write("migrations/2024_c.sql", "SELECT 3;\n");
    d.write("migrations/20241301000000_d.sql", "SELECT 4;\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let bad: Vec<String> = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["code"] == "invalid-name")
        .map(|x| x["file"].as_str().unwrap().to_string())
        .collect();
    assert!(
        bad.contains(&"migrations/2024_c.sql".to_string()),
        "{bad:?}"
    );
    assert!(
        bad.contains(&"migrations/20241301000000_d.sql".to_string()),
        "{bad:?}"
    );
    assert_eq!(bad.len(), 2, "{bad:?}");
}
