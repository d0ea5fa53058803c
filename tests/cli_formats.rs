//! Output formats through the real binary: GitHub workflow commands and SARIF (validated against
//! the official schema when `MIGLINT_SARIF_SCHEMA` and `MIGLINT_TEST_VENV` are provided).

mod common;
use common::*;

fn broken_set() -> Dir {
    let d = Dir::new();
    d.write("m/0000_init.sql", "CREATE TABLE a (id int);\n");
    d.write(
        "m/0001_two.sql",
        "ALTER TABEL a ADD COLUMN b int;\nSELECT 1;\nCREATE TABLE b (id int,, x int);\n",
    );
    d.write("m/0003_gap, with: odd%name.sql", "SELECT 1;\n");
    d.write("m/0004_empty.sql", "-- nothing\n");
    d
}

/// A tiny parser of GitHub workflow commands, undoing GitHub's escapes.
/// (command, properties, message) of one workflow command.
type Command = (String, Vec<(String, String)>, String);

fn parse_command(line: &str) -> Option<Command> {
    let rest = line.strip_prefix("::")?;
    let (head, message) = rest.split_once("::")?;
    let (command, props) = head.split_once(' ').unwrap_or((head, ""));
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_string(), unescape(v))
        })
        .collect();
    Some((command.to_string(), props, unescape(message)))
}

#[test]
fn github_format_gives_one_annotation_per_finding() {
    let d = broken_set();
    let json = d.run(&["check", "m", "--format", "json"]);
    let expected = json.diags();
    let r = d.run(&["check", "m", "--format", "github"]);
    assert_eq!(r.code, 1);
    let commands: Vec<_> = r.stdout.lines().filter_map(parse_command).collect();
    assert_eq!(commands.len(), expected.len(), "{}", r.stdout);
    for ((command, props, message), (code, file, line, col)) in commands.iter().zip(&expected) {
        let get = |k: &str| props.iter().find(|p| p.0 == k).map(|p| p.1.clone());
        assert_eq!(get("file"), file.clone());
        assert_eq!(get("line").map(|l| l.parse::<u64>().unwrap()), *line);
        assert_eq!(get("col").map(|l| l.parse::<u64>().unwrap()), *col);
        assert_eq!(get("title"), Some(format!("miglint({code})")));
        assert!(command == "error" || command == "warning");
        assert!(message.contains("help:"));
    }
    // The odd file name survives the property escapes.
    assert!(commands
        .iter()
        .any(|c| c.1.iter().any(|p| p.1 == "m/0003_gap, with: odd%name.sql")));
    assert!(
        r.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("miglint: 4 errors, 1 warning"),
        "{}",
        r.stdout
    );
}

#[test]
fn sarif_has_one_rule_per_code_and_locations() {
    let d = broken_set();
    let r = d.run(&["check", "m", "--format", "sarif"]);
    assert_eq!(r.code, 1);
    let sarif = r.json();
    assert_eq!(sarif["version"], "2.1.0");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let listed = d.run(&["rules"]).stdout.lines().count();
    assert_eq!(rules.len(), listed);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let parse = results
        .iter()
        .find(|r| r["ruleId"] == "sql-parse-error")
        .unwrap();
    let loc = &parse["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "m/0001_two.sql");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(loc["region"]["startColumn"], 7);
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(rules[idx]["helpUri"]
            .as_str()
            .unwrap()
            .contains("docs/rules.md#"));
    }
    validate_sarif(&r.stdout);
    // A clean run and a fatal run are valid SARIF too.
    let clean = Dir::new();
    valid_set(&clean, "m", 2);
    validate_sarif(&clean.run(&["check", "m", "--format", "sarif"]).stdout);
    let fatal = clean.run(&["check", "missing", "--format", "sarif"]);
    assert_eq!(fatal.code, 2);
    validate_sarif(&fatal.stdout);
    // One finding per problem: the related facts travel as relatedLocations.
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "m", 2);
    d.commit_all("base");
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    d.diverge(
        &[
            ("m/0002_mine.sql", "SELECT 2;\n"),
            ("m/0002_dup.sql", "SELECT 3;\n"),
        ],
        &[("m/0002_theirs.sql", "SELECT 4;\n")],
    );
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    let r = d.run(&["check", "m", "--base", "origin/main", "--format", "sarif"]);
    assert!(r.stdout.contains("relatedLocations"), "{}", r.stdout);
    validate_sarif(&r.stdout);
}

/// Validates against the official SARIF 2.1.0 JSON schema with Python's `jsonschema`.
fn validate_sarif(doc: &str) {
    let (Some(schema), Some(venv)) = (
        std::env::var_os("MIGLINT_SARIF_SCHEMA"),
        std::env::var_os("MIGLINT_TEST_VENV"),
    ) else {
        assert!(
            std::env::var_os("MIGLINT_REQUIRE_TOOLS").is_none(),
            "MIGLINT_SARIF_SCHEMA and MIGLINT_TEST_VENV are required"
        );
        eprintln!("skipped schema validation: set MIGLINT_SARIF_SCHEMA and MIGLINT_TEST_VENV");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let doc_path = dir.path().join("out.sarif");
    std::fs::write(&doc_path, doc).unwrap();
    let script = "import json,sys,jsonschema\nschema=json.load(open(sys.argv[1]))\ndoc=json.load(open(sys.argv[2]))\ncls=jsonschema.validators.validator_for(schema)\nerrors=list(cls(schema).iter_errors(doc))\nfor e in errors[:5]: print(e.message, list(e.path))\nsys.exit(1 if errors else 0)\n";
    let out = std::process::Command::new(std::path::Path::new(&venv).join("bin/python"))
        .args(["-c", script])
        .arg(&schema)
        .arg(&doc_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF does not validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
