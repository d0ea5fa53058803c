//! No panic on any input: property tests for every parser miglint owns, with round trips where
//! they exist. Bounded case counts keep them fast enough for CI on stable Rust.

use std::path::Path;
use std::sync::Arc;

use miglint::alembic::{graph, python};
use miglint::config::{self, Numbering};
use miglint::export::parse_csv;
use miglint::ledger;
use miglint::naming;
use miglint::sql;
use proptest::prelude::*;

/// SQL-ish text: keywords, quotes, dollar quotes, comments, semicolons, parentheses, unicode.
fn sqlish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "SELECT ",
        "CREATE TABLE t (",
        "id int",
        ", ",
        ")",
        ";",
        "'",
        "''",
        "$$",
        "$tag$",
        "--",
        "-- miglint-ignore sql-parse-error\n",
        "/*",
        "*/",
        "\n",
        "\r\n",
        "\"",
        "é",
        "\u{feff}",
        "UPDATE a.alembic_version SET version_num = 'x'",
        "INSERT INTO v (version_num) VALUES ('y')",
        "E'\\'",
        "(",
        "DO $$ BEGIN END $$",
        " ",
        "\t",
        "0",
        "1e",
        "::",
        "[",
        "]",
    ]);
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

fn check_spans(text: &str, a: &sql::Analysis) {
    for s in &a.statements {
        assert!(
            s.span.start <= s.span.end && s.span.end <= text.len(),
            "{s:?} in {text:?}"
        );
        if let sql::Outcome::Error { at, .. } = &s.outcome {
            assert!(at.start <= text.len(), "{at:?}");
        }
    }
    for st in &a.stamps {
        assert!(st.span.end <= text.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn splitter_and_parser_never_panic(text in sqlish()) {
        let a = sql::analyze(&text, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        check_spans(&text, &a);
    }

    #[test]
    fn splitter_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let a = sql::analyze(&text, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        check_spans(&text, &a);
        let _ = sql::Directives::scan_file(&text);
    }

    #[test]
    fn placeholders_keep_character_positions(text in sqlish(), ph in "[a-z]{1,8}") {
        let re = regex::Regex::new(r"\{\{.*?\}\}").unwrap();
        let with = format!("{{{{ {ph} }}}} {text}");
        let out = sql::neutralize_placeholders(&with, std::slice::from_ref(&re)).unwrap();
        prop_assert_eq!(out.chars().count(), with.chars().count());
        prop_assert_eq!(out.lines().count(), with.lines().count());
    }

    #[test]
    fn ledger_round_trips(entries in prop::collection::vec(("[a-z0-9_]{1,20}", any::<Vec<u8>>()), 0..20)) {
        let mut seen = std::collections::HashSet::new();
        let mut text = String::new();
        for (i, (slug, content)) in entries.iter().enumerate() {
            let name = format!("{i:04}_{slug}.sql");
            if seen.insert(name.clone()) {
                text.push_str(&ledger::format_line(&ledger::sha256_hex(content), &name));
            }
        }
        let (parsed, errors) = ledger::parse(text.as_bytes());
        prop_assert!(errors.is_empty());
        let again: String = parsed.entries.iter().map(|e| ledger::format_line(&e.digest, &e.name)).collect();
        prop_assert_eq!(again, text);
    }

    #[test]
    fn ledger_parse_never_panics(bytes in any::<Vec<u8>>()) {
        let (l, errors) = ledger::parse(&bytes);
        for e in &errors {
            prop_assert!(e.span.start <= bytes.len());
        }
        prop_assert!(l.entries.iter().all(|e| e.span.end <= bytes.len()));
    }

    #[test]
    fn python_reader_never_panics(src in "\\PC{0,300}") {
        let _ = python::module_assignments(&src);
        let _ = graph::read_revision("v.py", &src);
        let _ = miglint::alembic::ini::env_version_table(&src);
    }

    #[test]
    fn python_reader_reads_what_it_is_given(id in "[a-z0-9_]{1,20}", down in prop::option::of("[a-f0-9]{4,12}"), quote in prop::sample::select(vec!["'", "\"", "'''", "\"\"\""])) {
        let down_src = down.as_ref().map_or("None".to_string(), |d| format!("{quote}{d}{quote}"));
        let src = format!("\"\"\"doc\nrevision = 'fake'\n\"\"\"\n# revision = 'comment'\nrevision: str = {quote}{id}{quote}\ndown_revision = {down_src}\n");
        let rev = graph::read_revision("v.py", &src).unwrap();
        prop_assert_eq!(rev.id, id);
        prop_assert_eq!(rev.down, down.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn config_parser_never_panics(text in "\\PC{0,200}") {
        let _ = config::parse(&text, "miglint.toml", Arc::from(text.as_bytes()), Path::new("/r"), Path::new("/r"));
    }

    #[test]
    fn config_parser_survives_toml_shaped_text(keys in prop::collection::vec(prop::sample::select(vec!["dir", "width", "start", "dialect", "lock", "numbering", "baseline", "placeholders", "bogus"]), 0..6), vals in prop::collection::vec(prop::sample::select(vec!["\"m\"", "4", "-1", "\"timestamp\"", "[\"(\"]", "\"0120\"", "true"]), 6)) {
        let mut text = String::from("[[set]]\n");
        for (k, v) in keys.iter().zip(vals.iter()) {
            text.push_str(&format!("{k} = {v}\n"));
        }
        let _ = config::parse(&text, "miglint.toml", Arc::from(text.as_bytes()), Path::new("/r"), Path::new("/r"));
    }

    #[test]
    fn csv_parser_never_panics(text in "\\PC{0,200}") {
        for (span, _) in parse_csv(&text).unwrap_or_default() {
            prop_assert!(span.start <= span.end && span.end <= text.len());
            prop_assert!(text.get(span).is_some());
        }
    }

    #[test]
    fn file_name_parser(name in "\\PC{0,40}", width in 1usize..8) {
        for numbering in [Numbering::Sequential, Numbering::Timestamp] {
            if let Ok(p) = naming::parse(&name, numbering, width) {
                prop_assert!(naming::is_slug(&p.slug));
                prop_assert!(name.starts_with(&p.digits));
            }
        }
    }

    #[test]
    fn formatted_names_parse_back(n in 0u64..10_000, slug in "[a-z][a-z0-9_]{0,20}") {
        let set = config::SetConfig::with_dir("m".into());
        let name = naming::format(&set, n, &slug);
        let p = naming::parse(&name, Numbering::Sequential, 4).unwrap();
        prop_assert_eq!((p.number, p.slug), (n, slug));
    }
}

#[test]
fn deeply_nested_sql_is_a_finding_not_a_crash() {
    let depth = 5_000;
    let text = format!("SELECT {}1{};", "(".repeat(depth), ")".repeat(depth));
    // Run on a thread with a normal stack: the parser's recursion limit must stop it first.
    let outcome = std::thread::spawn(move || {
        let a = sql::analyze(&text, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        a.statements[0].outcome.clone()
    })
    .join()
    .expect("no stack overflow");
    // sqlparser's recursion limit stops it; PostgreSQL (exact builds) may accept the statement.
    assert!(
        matches!(
            outcome,
            sql::Outcome::Error { .. } | sql::Outcome::AstSkipped
        ),
        "{outcome:?}"
    );
}

#[test]
fn deeply_nested_python_is_read_without_recursion_trouble() {
    let src = format!(
        "revision = {}'x'{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let r = std::thread::spawn(move || graph::read_revision("v.py", &src).is_ok())
        .join()
        .expect("no stack overflow");
    assert!(!r, "too deep to be a literal revision");
}
