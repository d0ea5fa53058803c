//! A small sample of the accuracy benchmark (issue 16), run in CI by both builds: realistic
//! PostgreSQL migrations written for this test (`tests/fixtures/corpus/`: psql meta-commands,
//! `COPY … FROM stdin`, DO blocks, procedures with defaults, domains without `AS`, `(row).*`,
//! `substring(… SIMILAR …)`, column storage parameters, `WITH NO DATA`) must give no
//! `sql-parse-error`, and misspelling the first keyword of any statement must be an error on that
//! statement's line — never a warning. The full corpus (1,542 files) is `examples/corpus.rs`.

mod common;
use common::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corpus");

fn sample() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn set_of(files: &[(String, String)]) -> Dir {
    let d = Dir::new();
    d.init_repo();
    for (name, text) in files {
        d.write(&format!("migrations/{name}"), text);
    }
    d
}

#[test]
fn the_sample_checks_without_a_false_error() {
    let files = sample();
    assert!(files.len() >= 4);
    let d = set_of(&files);
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let errors: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|x| x.0 != "sql-unverified" && x.0 != "sql-ast-skipped" && x.0 != "no-base")
        .collect();
    assert!(errors.is_empty(), "{}", r.stdout);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// Lines that start a statement: at column 0, an ASCII letter, after a line ending in `;` (or
/// first in the file). The fixtures keep every other line indented or non-alphabetic.
fn statement_starts(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .filter(|&i| {
            lines[i].starts_with(|c: char| c.is_ascii_uppercase())
                && (i == 0 || lines[i - 1].trim_end().ends_with(';'))
        })
        .collect()
}

/// `text` with its line `at` (0-based) replaced by `edit` of it.
fn with_line(text: &str, at: usize, edit: impl Fn(&str) -> String) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == at {
                format!("{}\n", edit(l))
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

#[test]
fn a_misspelt_first_keyword_is_an_error_on_its_line() {
    let files = sample();
    let mut mutants = 0;
    for (k, (name, text)) in files.iter().enumerate() {
        for line in statement_starts(text) {
            let mutated = with_line(text, line, |l| format!("X{l}"));
            let mut set = files.clone();
            set[k].1 = mutated;
            let d = set_of(&set);
            let r = d.run(&["check", "migrations", "--format", "json"]);
            let at = (line + 1) as u64;
            assert!(
                r.diags().iter().any(|x| x.0 == "sql-parse-error"
                    && x.1.as_deref() == Some(&format!("migrations/{name}"))
                    && x.2 == Some(at)),
                "{name}:{at} misspelt must be an error there:\n{}",
                r.stdout
            );
            mutants += 1;
        }
    }
    assert!(mutants >= 25, "only {mutants} statements mutated");
}

/// Two statements run together (the `;` at the end of a line removed) are an error in the file,
/// in both builds: a construct the default build cannot check must not hide it (issue 16).
#[test]
fn a_missing_semicolon_is_an_error_never_a_warning() {
    let files = sample();
    let mut mutants = 0;
    for (k, (name, text)) in files.iter().enumerate() {
        for line in statement_starts(text).into_iter().filter(|&l| l > 0) {
            let mutated = with_line(text, line - 1, |l| {
                l.trim_end().trim_end_matches(';').to_string()
            });
            let mut set = files.clone();
            set[k].1 = mutated;
            let d = set_of(&set);
            let r = d.run(&["check", "migrations", "--format", "json"]);
            assert!(
                r.diags().iter().any(|x| x.0 == "sql-parse-error"
                    && x.1.as_deref() == Some(&format!("migrations/{name}"))),
                "{name}: the `;` before line {} removed must be an error:\n{}",
                line + 1,
                r.stdout
            );
            mutants += 1;
        }
    }
    assert!(mutants >= 20, "only {mutants} statements joined");
}
