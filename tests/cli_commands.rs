//! `rules`, `explain`, `new`, `init`, `status` and the rule reference in docs/rules.md.

mod common;
use common::*;

#[test]
fn explain_exists_for_every_listed_rule() {
    let d = Dir::new();
    let rules = d.run(&["rules"]);
    assert_eq!(rules.code, 0);
    let codes: Vec<String> = rules
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(codes.len() >= 30);
    for code in &codes {
        let e = d.run(&["explain", code]);
        assert_eq!(e.code, 0, "{code}");
        assert!(
            e.stdout.contains("Why it matters")
                && e.stdout.contains("Bad:")
                && e.stdout.contains("Good:"),
            "{code}"
        );
    }
    assert_eq!(d.run(&["explain", "no-such-rule"]).code, 2);
}

#[test]
fn docs_rule_reference_matches_the_registry() {
    let d = Dir::new();
    let generated = d.run(&["rules", "--markdown"]).stdout;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let start = readme
        .find("<!-- rules:start -->\n")
        .expect("docs/rules.md has the rules block")
        + "<!-- rules:start -->\n".len();
    let end = readme.find("<!-- rules:end -->").unwrap();
    assert_eq!(
        &readme[start..end],
        generated,
        "regenerate with `cargo run -- rules --markdown`"
    );
}

#[test]
fn severities_can_be_re_rated() {
    let d = Dir::new();
    d.write("m/0000_a.sql", "-- empty\n");
    d.write("m/0002_b.sql", "SELECT 1;\n");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\n[rules]\nnumber-gap = \"warning\"\nempty-migration = \"off\"\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.find("number-gap")["severity"], "warning");
    assert!(!r.codes().contains(&"empty-migration".to_string()));
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\n[rules]\nnumber-gapp = \"warning\"\n",
    );
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.find("config-invalid")["line"], 4);
}

#[test]
fn new_creates_the_next_file_and_refuses_to_overwrite() {
    let d = Dir::new();
    valid_set(&d, "migrations", 7);
    let r = d.run(&["new", "Add Email!"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "migrations/0007_add_email.sql");
    assert!(d.join("migrations/0007_add_email.sql").exists());
    // A timestamp set uses the current UTC time.
    let t = Dir::new();
    t.write("db/20200101000000_first.sql", "SELECT 1;\n");
    t.write(
        "miglint.toml",
        "[[set]]\ndir = \"db\"\nnumbering = \"timestamp\"\n",
    );
    let r = t.run(&["new", "second"]);
    assert_eq!(r.code, 0);
    let name = r.stdout.trim().strip_prefix("db/").unwrap().to_string();
    assert!(
        name.starts_with("20")
            && name.ends_with("_second.sql")
            && name.len() == "YYYYMMDDHHMMSS_second.sql".len(),
        "{name}"
    );
    // A name with nothing to slugify, or a missing set directory, is exit 2.
    assert_eq!(d.run(&["new", "!!!"]).code, 2);
    assert_eq!(Dir::new().run(&["new", "x"]).code, 2);
}

#[test]
fn init_detects_sets_and_alembic_and_refuses_to_overwrite() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "auth/migrations", 3);
    d.write("billing/sql/001_a.sql", "SELECT 1;");
    d.write(
        "auth/alembic.ini",
        "[alembic]\nscript_location = %(here)s/alembic\n",
    );
    d.write(
        "auth/alembic/versions/a.py",
        "revision = 'a'\ndown_revision = None\n",
    );
    d.write(
        "auth/migrations/0003_stamp.sql",
        "UPDATE alembic_version SET version_num = 'a';\n",
    );
    let r = d.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let toml = d.read("miglint.toml");
    assert!(
        toml.contains("dir = \"auth/migrations\"")
            && toml.contains("dir = \"billing/sql\"")
            && toml.contains("width = 3")
    );
    assert!(toml.contains("ini = \"auth/alembic.ini\""));
    // The written config is valid and checks the repository.
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(d.run(&["init"]).code, 2, "refuses to overwrite");
    assert_eq!(d.read("miglint.toml"), toml);
}

#[test]
fn status_reports_each_set() {
    let d = Dir::new();
    valid_set(&d, "migrations", 3);
    let line = format!(
        "{}  0000_step_0.sql\n",
        sha256(d.read("migrations/0000_step_0.sql").as_bytes())
    );
    d.write("migrations/applied.sha256", line);
    let r = d.run(&["status", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let set = &r.json()["sets"][0];
    assert_eq!(set["migrations"], 3);
    assert_eq!(set["recorded"], 1);
    assert_eq!(set["pending"].as_array().unwrap().len(), 2);
    assert_eq!(set["last"], "0002_step_2.sql");
    let h = d.run(&["status"]);
    assert!(
        h.stdout
            .contains("pending         0001_step_1.sql, 0002_step_2.sql"),
        "{}",
        h.stdout
    );
}

#[test]
fn version_says_whether_the_exact_grammar_is_built_in() {
    let r = Dir::new().run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("exact PostgreSQL grammar"));
}
