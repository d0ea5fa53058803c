//! Hostile inputs end with a finding or exit 2, never a crash or a hang.

mod common;
use common::*;

#[test]
fn a_panic_is_exit_2_with_a_short_bug_report_message() {
    let d = Dir::new();
    valid_set(&d, "migrations", 1);
    let r = d.run_env(".", &["check"], &[("MIGLINT_FAULT", "panic")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("miglint::internal-error") && r.stderr.contains("please report it"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("stack backtrace"));
}

#[test]
#[ignore = "heavy: .ci/run runs it once (cargo test --test hostile -- --ignored)"]
fn a_100_mb_file() {
    let d = Dir::new();
    let line = "INSERT INTO events (id, payload) VALUES (1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');\n";
    d.write(
        "m/0000_huge.sql",
        line.repeat(100 * 1024 * 1024 / line.len()),
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "pending and unchecked: an error");
    assert_eq!(r.codes(), vec!["file-too-large"]);
    // Once the team accepts it unchecked, recording works: the checksum needs no parse.
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\n\n[rules]\nfile-too-large = \"warning\"\n",
    );
    let r = d.run(&["record", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Recorded, it is protected by its checksum: a warning without the [rules] entry too.
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.codes(), vec!["file-too-large"]);
}

#[test]
#[ignore = "heavy: .ci/run runs it once (cargo test --test hostile -- --ignored)"]
fn one_hundred_thousand_files_in_one_dir() {
    let d = Dir::new();
    std::fs::create_dir_all(d.join("m")).unwrap();
    for i in 0..100_000u32 {
        std::fs::write(d.join(&format!("m/{i:06}_s.sql")), "SELECT 1;\n").unwrap();
    }
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\nwidth = 6\n");
    d.remove("m/050000_s.sql");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.codes(), vec!["number-gap"]);
    assert_eq!(r.json()["summary"]["files"], 99_999);
}

fn rev(id: &str, down: &str) -> String {
    format!("revision = '{id}'\ndown_revision = {down}\n")
}

#[test]
fn a_10000_long_revision_chain_and_a_cycle() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "UPDATE alembic_version SET version_num = 'r9999';\n",
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\n[set.alembic]\nversions = \"versions\"\n",
    );
    d.write("versions/r0.py", rev("r0", "None"));
    for i in 1..10_000 {
        std::fs::write(
            d.join(&format!("versions/r{i}.py")),
            rev(&format!("r{i}"), &format!("'r{}'", i - 1)),
        )
        .unwrap();
    }
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(d.run(&["alembic", "heads"]).stdout, "r9999\n");
    // Close the chain into a cycle: r0 now comes after r9999.
    d.write("versions/r0.py", rev("r0", "'r9999'"));
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert!(
        r.codes().contains(&"alembic-cycle".to_string()),
        "{:?}",
        r.codes()
    );
}

// Issue 28: hostile input, round two. Each test reproduced the failure on the old main first.

/// Runs `check` in every format on `d`; returns (format, exit, stdout+stderr).
fn every_format(d: &Dir, args: &[&str]) -> Vec<(&'static str, i32, String)> {
    ["human", "json", "github", "sarif", "markdown"]
        .into_iter()
        .map(|f| {
            let mut all = vec!["check", "--format", f];
            all.extend_from_slice(args);
            let r = d.run(&all);
            if matches!(f, "json" | "sarif") {
                serde_json::from_str::<serde_json::Value>(&r.stdout)
                    .unwrap_or_else(|e| panic!("{f}: not one JSON document ({e}): {}", r.stderr));
            }
            (f, r.code, format!("{}{}", r.stdout, r.stderr))
        })
        .collect()
}

#[test]
fn a_deep_operator_chain_is_a_finding_not_a_stack_overflow() {
    let d = Dir::new();
    d.write(
        "m/0000_deep.sql",
        format!("SELECT {}1;\n", "1+".repeat(300_000)),
    );
    for (f, code, _) in every_format(&d, &["m"]) {
        assert_eq!(code, 1, "{f}");
    }
    // 600 KB of it is over the statement budget; a shorter chain is still too deep to parse.
    let r = d.run(&["check", "m", "--format", "json"]);
    r.find("file-too-large");
    d.write(
        "m/0000_deep.sql",
        format!("SELECT {}1;\n", "1+".repeat(50_000)),
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert!(r.find("sql-parse-error")["message"]
        .as_str()
        .unwrap()
        .contains("operators"));
    // A long chain that real SQL might have still parses.
    d.write(
        "m/0000_deep.sql",
        format!(
            "SELECT 1 WHERE {};\n",
            (0..9_000)
                .map(|i| format!("a = {i}"))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn many_errors_on_one_long_line_are_linear() {
    let d = Dir::new();
    let line: Vec<String> = (0..30_000).map(|i| format!("SELEC {i};")).collect();
    d.write("m/0000_one_line.sql", line.join(" "));
    let started = std::time::Instant::now();
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["summary"]["errors"], 30_000);
    // Not a timing assertion of speed (benches do that): a generous bound that the quadratic
    // version (minutes) could not meet, even in a debug build.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn a_valid_migration_on_one_long_line_renders() {
    let d = Dir::new();
    let rows: Vec<String> = (0..7_000).map(|i| format!("({i}, 'abc')")).collect();
    d.write(
        "m/0000_one_line.sql",
        format!(
            "INSERT INTO t VALUES {}; ALTER SEQUENCE s OWNED BY t.id; SELECT 1;",
            rows.join(",")
        ),
    );
    for (f, code, out) in every_format(&d, &["m"]) {
        assert!(!out.contains("miglint hit a bug ("), "{f}: {out}");
        assert!(code == 0 || code == 1, "{f}: {code} {out}");
    }
}

#[test]
fn a_gap_of_a_trillion_numbers_is_one_finding() {
    let d = Dir::new();
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\nwidth = 12\n");
    d.write("m/000000000000_a.sql", "SELECT 1;\n");
    d.write("m/000900000000_b.sql", "SELECT 1;\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let gap = r.find("number-gap");
    assert!(
        gap["message"]
            .as_str()
            .unwrap()
            .contains("000000000001–000899999999"),
        "{gap}"
    );
}

#[test]
fn a_number_wider_than_width_is_never_told_to_keep_its_name() {
    let d = Dir::new();
    d.write("m/0000_a.sql", "SELECT 1;\n");
    d.write("m/12345_b.sql", "SELECT 1;\n");
    let r = d.run(&["check", "m", "--format", "json"]);
    let help = r.find("invalid-name")["help"].as_str().unwrap().to_string();
    assert!(!help.contains("`12345_b.sql`"), "{help}");
}

/// Names no file system refuses but every report must print safely.
const NASTY_NAMES: &[&str] = &[
    "0001_x\u{1b}]52;c;aGk=\u{7}y.sql",
    "0002_x\n::error::pwn.sql",
    "0003_<img src=x onerror=alert(1)>`](javascript:x).sql",
    "0004_a </details> #b.sql",
];

#[test]
fn names_and_sql_never_inject_escapes_workflow_commands_or_html() {
    let d = Dir::new();
    d.write("m/0000_a.sql", "SELECT 1;\n");
    for name in NASTY_NAMES {
        d.write(
            &format!("m/{name}"),
            "SELEC `</details><img src=x onerror=alert(1)>](javascript:alert(1));\n",
        );
    }
    for (f, _, out) in every_format(&d, &["m"]) {
        let bad: Vec<char> = out
            .chars()
            .filter(|&c| (c < ' ' && c != '\n' && c != '\t') || c == '\u{7f}')
            .collect();
        assert!(bad.is_empty(), "{f}: control characters {bad:?}");
        if f == "github" {
            for line in out.lines() {
                assert!(
                    !line.starts_with("::")
                        || line.starts_with("::error file=")
                        || line.starts_with("::notice ")
                        || line.starts_with("::warning "),
                    "{line}"
                );
                assert!(!line.starts_with("::error::"), "{line}");
            }
        }
    }
    let md = d.run(&["check", "m", "--format", "markdown"]).stdout;
    assert_no_raw_html_from_input(&md);
}

/// Renders CommonMark and fails on any HTML other than the few tags the report writes itself.
fn assert_no_raw_html_from_input(md: &str) {
    use pulldown_cmark::{Event, Parser, Tag};
    for event in Parser::new(md) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => {
                let t = h.trim();
                assert!(
                    [
                        "<code>",
                        "</code>",
                        "<details>",
                        "</details>",
                        "<summary>",
                        "</summary>"
                    ]
                    .iter()
                    .any(|ok| t.starts_with(ok))
                        || t.starts_with("<details open>"),
                    "raw HTML from input: {t}"
                );
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                assert!(
                    dest_url.starts_with("https://"),
                    "a link from input: {dest_url}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn argument_errors_under_json_are_one_json_document() {
    let d = Dir::new();
    for args in [
        &["check", "--format", "json", "--bogus"][..],
        &["check", "--format=json", "--max-bogus", "x"][..],
        &["--format", "sarif", "check", "--nope"][..],
    ] {
        let r = d.run(args);
        assert_eq!(r.code, 2, "{args:?}");
        let v: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}{}", r.stdout, r.stderr));
        assert!(v.to_string().contains("invalid arguments"), "{v}");
    }
}

#[test]
fn check_with_a_graph_format_says_where_graphs_come_from() {
    let d = Dir::new();
    valid_set(&d, "migrations", 1);
    for f in ["mermaid", "dot"] {
        let r = d.run(&["check", "--format", f]);
        assert_eq!(r.code, 2);
        assert!(r.stdout.is_empty(), "{f}: no empty graph: {}", r.stdout);
        assert!(r.stderr.contains("miglint graph"), "{f}: {}", r.stderr);
    }
}

#[test]
fn a_file_of_more_tokens_than_the_budget_is_hashed_not_parsed() {
    let d = Dir::new();
    let body = format!("SELECT {};\n", vec!["1+1+1+1+1+1+1"; 300_000].join(",\n"));
    d.write("m/0000_dense.sql", &body);
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "pending and unchecked: an error: {}", r.stderr);
    let f = r.find("file-too-large");
    assert!(f["message"].as_str().unwrap().contains("tokens"), "{f}");
}

/// sqlparser's tree costs up to ~1,800 bytes per token at peak: 600 KB of `SELECT 1,1,…` (a
/// valid statement) took 500 MB and passed. A statement over the budget is refused unparsed:
/// before tokenizing when a lower bound of its tokens shows it, after when only the count does.
#[test]
fn one_statement_over_the_parse_budget_is_refused_before_its_tree_is_built() {
    let d = Dir::new();
    d.write(
        "m/0000_list.sql",
        format!("SELECT {}1;\n", "1,".repeat(300_000)),
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = r.find("file-too-large");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("at least 600002 SQL tokens"),
        "{f}"
    );
    // Words after `.` are not in the lower bound: counted after tokenizing, refused before parsing.
    d.write(
        "m/0000_list.sql",
        format!("SELECT a{};\n", ".a".repeat(150_000)),
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let e = r.find("sql-parse-error");
    assert!(
        e["message"].as_str().unwrap().contains("300003 SQL tokens"),
        "{e}"
    );
    // Under the budget, a long list is parsed.
    d.write(
        "m/0000_list.sql",
        format!("SELECT {}1;\n", "1,".repeat(50_000)),
    );
    assert_eq!(d.run(&["check", "m"]).code, 0);
}

/// The budget is per statement (the file is tokenized one statement at a time): a data
/// migration of many small statements is parsed whatever its token total, and a typo in it is
/// still found on its line.
#[test]
#[cfg_attr(
    feature = "postgres-exact",
    ignore = "build-independent; runs in the default build"
)]
fn many_small_statements_are_parsed_whatever_their_total() {
    let d = Dir::new();
    // About 3.2 million tokens in all: over the budget of one statement, and over the whole-file
    // budget miglint had before it read statements one at a time.
    let row = (0..100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    // A `'\.'` pattern or a word `atomic` no longer forces a whole-file read.
    let mut body =
        String::from("CREATE TABLE t AS SELECT 1 AS atomic;\nSELECT 1 WHERE 'a.b' ~ '\\.';\n");
    body.extend((0..16_000).map(|i| format!("INSERT INTO t VALUES ({row}, {i});\n")));
    d.write("m/0000_data.sql", &body);
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    body.push_str("INSERT INTO t (a) VALUS (1);\n");
    d.write("m/0000_data.sql", &body);
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("sql-parse-error");
    assert_eq!(e["line"], 16_003, "{e}");
}

/// Everything a file can hold or be called, through every format (issue 28): never a panic,
/// exit 0, 1 or 2, one valid JSON/SARIF document, no control byte in human, github or
/// markdown output, and markdown that renders no HTML or link from input.
mod arbitrary_input {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        (
            "[0-9]{1,6}",
            prop::collection::vec(
                prop::sample::select(vec![
                    "a",
                    "_",
                    " ",
                    "\u{1b}",
                    "\u{7}",
                    "\n",
                    "\t",
                    "\r",
                    "`",
                    "<",
                    ">",
                    "]",
                    "(",
                    ")",
                    "#",
                    "|",
                    "*",
                    "&",
                    "$",
                    "é",
                    "\u{202e}",
                    "::error::x",
                    "</details>",
                    "%0A",
                    "\\",
                    "'",
                    "\"",
                ]),
                0..6,
            ),
        )
            .prop_map(|(n, parts)| format!("{n}_{}.sql", parts.concat()))
            .prop_filter("a file name", |n| !n.contains('/') && n.len() < 200)
    }

    fn config() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "",
            "[[set]]\ndir = \"m\"\n",
            "[[set]]\ndir = \"m\"\nwidth = 12\n",
            "[[set]]\ndir = \"m\"\npsql = false\nbaseline = \"3\"\n",
            "[[set]]\ndir = \"m\"\n[rules]\nsql-parse-error = \"warning\"\n",
            "[[set]]\ndir = \"m\"\nbogus = 1\n",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        #[test]
        fn every_format_holds_its_contract(
            files in prop::collection::vec((name(), any::<Vec<u8>>()), 1..4),
            cfg in config(),
        ) {
            let d = Dir::new();
            if !cfg.is_empty() {
                d.write("miglint.toml", &cfg);
            }
            std::fs::create_dir_all(d.join("m")).unwrap();
            for (n, bytes) in &files {
                std::fs::write(d.join("m").join(n), bytes).unwrap();
            }
            for f in ["human", "json", "github", "sarif", "markdown"] {
                let r = d.run(&["check", "m", "--format", f]);
                prop_assert!([0, 1, 2].contains(&r.code), "{f}: exit {}", r.code);
                prop_assert!(!r.stderr.contains("miglint hit a bug ("), "{f}: {}", r.stderr);
                match f {
                    "json" | "sarif" => {
                        prop_assert!(serde_json::from_str::<serde_json::Value>(&r.stdout).is_ok(), "{f}: {}", r.stdout);
                    }
                    _ => {
                        let out = format!("{}{}", r.stdout, r.stderr);
                        let bad: Vec<char> = out
                            .chars()
                            .filter(|&c| (c < ' ' && c != '\n' && c != '\t') || c == '\u{7f}')
                            .collect();
                        prop_assert!(bad.is_empty(), "{f}: control characters {bad:?} in {out}");
                        if f == "markdown" {
                            assert_no_raw_html_from_input(&r.stdout);
                        }
                        if f == "github" {
                            for line in r.stdout.lines() {
                                prop_assert!(!line.starts_with("::error::"), "{line}");
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `COPY … FROM stdin` rows are data: a seed migration of several MB of rows (quotes, `;` and
/// words that look like SQL in them) is read statement by statement with its rows skipped, not
/// refused as `file-too-large` because the rows counted as tokens of a whole-file read.
#[test]
fn megabytes_of_copy_rows_are_data_not_tokens() {
    let d = Dir::new();
    let mut body = String::from("CREATE TABLE t (a int, b text);\nCOPY t (a, b) FROM stdin;\n");
    body.extend((0..200_000).map(|i| format!("{i}\tO'Brien; SELEC {i} $$\n")));
    body.push_str("\\.\nCREATE INDEX t_a ON t (a);\n");
    d.write("m/0000_seed.sql", &body);
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    body.push_str("ALTER TABEL t ADD COLUMN c int;\n");
    d.write("m/0000_seed.sql", &body);
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let e = r.find("sql-parse-error");
    assert_eq!(e["line"], 200_005, "{e}");
}
