//! Corpus benchmark (issue 16): the verdict of this build on every file, as miglint's `check`
//! reads it (psql scripts, placeholders). Run it under both builds and compare: the
//! `postgres-exact` build (PostgreSQL's own grammar) is the oracle for validity.
//!
//!   cargo run --release --example corpus -- [--placeholder REGEX]... FILE.sql... > default.tsv
//!   cargo run --release --features postgres-exact --example corpus -- … > exact.tsv
//!
//! One line per file: `path<TAB>verdict<TAB>detail`, verdict `ok`, `unverified` (a known
//! sqlparser gap, a warning; the detail lists the constructs) or `error` (with the first message).

use std::sync::Arc;

use miglint::config::SetConfig;
use miglint::rules::Rule;
use miglint::snapshot::MigrationFile;

fn main() {
    let mut set = SetConfig::with_dir("corpus".into());
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--placeholder" {
            set.placeholders
                .push(regex::Regex::new(&args.next().expect("a regex")).expect("a valid regex"));
        } else {
            files.push(a);
        }
    }
    set.max_file_size = 64 << 20;
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let file = MigrationFile::new("0000_x.sql".into(), f.clone(), Arc::from(bytes));
        let (findings, _) = miglint::rules::sql::check_file(&set, &dialect, &file, true, None);
        let error = findings.iter().find(|x| {
            matches!(
                x.rule,
                Rule::SqlParseError | Rule::InvalidEncoding | Rule::Utf8Bom
            )
        });
        // The constructs sqlparser lacks, from the warnings' "statement N (construct) is …".
        let mut constructs: Vec<&str> = findings
            .iter()
            .filter(|x| x.rule == Rule::SqlUnverified)
            .filter_map(|x| {
                let open = x.message.find(" (")?;
                let close = x.message.find(") is valid")?;
                x.message.get(open + 2..close)
            })
            .collect();
        constructs.sort_unstable();
        constructs.dedup();
        let (verdict, detail) = match (error, constructs.is_empty()) {
            (Some(e), _) => ("error", e.message.replace(['\t', '\n'], " ")),
            (None, false) => ("unverified", constructs.join("; ")),
            (None, true) => ("ok", String::new()),
        };
        println!("{f}\t{verdict}\t{detail}");
    }
}
