//! Detection benchmark (README, "Exact PostgreSQL grammar"): how many real statements a build
//! accepts, and how many broken variants ("mutants") of them it rejects.
//!
//!   cargo run --release --example detection -- [--placeholder REGEX]... FILE.sql...
//!   cargo run --release --features postgres-exact --example detection -- …
//!
//! Mutants of every accepted statement: the first keyword misspelled (two letters swapped), the
//! last `)` token removed, a stray `,` inserted before the last `)` token (tokens of the SQL
//! itself: a `)` inside a string or a `$$` body is not grammar), and the `;` between it and the
//! next accepted statement of its file removed. `--show-misses` prints every mutant not rejected
//! (to stderr), with its file.

use miglint::sql::{self, Outcome};

fn rejected(text: &str, placeholders: &[regex::Regex]) -> bool {
    let a = sql::analyze(
        text,
        &sqlparser::dialect::PostgreSqlDialect {},
        placeholders,
        true,
    );
    a.tokenize_error.is_some()
        || a.statements
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Error { .. }))
}

fn mutants(stmt: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let start = stmt.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
    let word_len = stmt[start..]
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(stmt.len() - start);
    if word_len >= 2 {
        let mut w: Vec<char> = stmt[start..start + word_len].chars().collect();
        // Swap the last two letters (DROP -> DRPO; DO -> OD); never a keyword of the same meaning.
        let n = w.len();
        w.swap(n - 2, n - 1);
        if w.iter().collect::<String>() != stmt[start..start + word_len] {
            out.push((
                "misspelled first keyword",
                format!(
                    "{}{}{}",
                    &stmt[..start],
                    w.iter().collect::<String>(),
                    &stmt[start + word_len..]
                ),
            ));
        }
    }
    // The last `)` token of the SQL itself, not one inside a string or a `$$` body.
    let last_paren =
        sqlparser::tokenizer::Tokenizer::new(&sqlparser::dialect::PostgreSqlDialect {}, stmt)
            .tokenize_with_location()
            .ok()
            .and_then(|tokens| {
                tokens
                    .into_iter()
                    .rfind(|t| t.token == sqlparser::tokenizer::Token::RParen)
            })
            .map(|t| sql::LineIndex::new(stmt).offset(t.span.start.line, t.span.start.column));
    if let Some(p) = last_paren {
        out.push((
            "one `)` removed",
            format!("{}{}", &stmt[..p], &stmt[p + 1..]),
        ));
        out.push((
            "stray `,` before the last `)`",
            format!("{},{}", &stmt[..p], &stmt[p..]),
        ));
    }
    out
}

fn main() {
    let mut placeholders = Vec::new();
    let mut files = Vec::new();
    let mut show_misses = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--show-misses" {
            show_misses = true;
        } else if a == "--placeholder" {
            placeholders
                .push(regex::Regex::new(&args.next().expect("a regex")).expect("a valid regex"));
        } else {
            files.push(a);
        }
    }
    let (mut originals, mut accepted, mut unverified) = (0usize, 0usize, 0usize);
    let mut kinds: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let a = sql::analyze(
            &text,
            &sqlparser::dialect::PostgreSqlDialect {},
            &placeholders,
            true,
        );
        let mut previous: Option<&str> = None;
        for s in &a.statements {
            originals += 1;
            let stmt = &text[s.span.clone()];
            match s.outcome {
                Outcome::Error { .. } => {
                    previous = None;
                    continue;
                }
                Outcome::Unverified { .. } => unverified += 1,
                _ => {}
            }
            accepted += 1;
            let mut all = mutants(stmt);
            // `CREATE SCHEMA s` + `CREATE TABLE …` run together is valid PostgreSQL (a schema
            // element), not a typo.
            let schema = |s: &str| {
                let words: Vec<String> = s
                    .split_whitespace()
                    .take(2)
                    .map(str::to_ascii_uppercase)
                    .collect();
                words == ["CREATE", "SCHEMA"]
            };
            if let Some(before) = previous.filter(|b| !schema(b)) {
                let joined = before.trim_end().trim_end_matches(';').trim_end();
                all.push((
                    "missing `;` between two statements",
                    format!("{joined}\n{stmt}"),
                ));
            }
            previous = Some(stmt);
            for (kind, m) in all {
                let e = kinds.entry(kind).or_default();
                e.0 += 1;
                let hit = rejected(&m, &placeholders);
                e.1 += usize::from(hit);
                if show_misses && !hit {
                    eprintln!("--- {kind} in {f}:\n{m}");
                }
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "build: {}",
        if cfg!(feature = "postgres-exact") {
            "postgres-exact (PostgreSQL's grammar)"
        } else {
            "default (sqlparser)"
        }
    );
    println!("files: {}, statements: {originals}", files.len());
    println!("originals accepted: {accepted}/{originals} = {:.2}% (of which unverified warnings: {unverified})", pct(accepted, originals));
    let (total, hit) = kinds.values().fold((0, 0), |(t, h), (a, b)| (t + a, h + b));
    for (kind, (n, r)) in &kinds {
        println!("mutants rejected, {kind}: {r}/{n} = {:.2}%", pct(*r, *n));
    }
    println!(
        "mutants rejected, all: {hit}/{total} = {:.2}%",
        pct(hit, total)
    );
}
