//! `--format json`: exactly one JSON document on stdout (schema version 1).

use std::io::Write;

use serde::Serialize;

use super::locate;
use crate::check::Outcome;
use crate::finding::Severity;

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    diagnostics: Vec<Diag<'a>>,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a str>,
}

#[derive(Serialize)]
struct Diag<'a> {
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    files: usize,
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let doc = Doc {
        version: 1,
        diagnostics: locate(outcome)
            .into_iter()
            .map(|l| Diag {
                code: l.finding.code(),
                severity: l.finding.severity.as_str(),
                message: &l.finding.message,
                help: l.finding.help.as_deref(),
                file: l.finding.file.as_deref(),
                line: l.line,
                column: l.column,
            })
            .collect(),
        summary: Summary {
            errors: outcome.count(Severity::Error),
            warnings: outcome.count(Severity::Warning),
            infos: outcome.count(Severity::Info),
            files: outcome.files,
        },
        base: outcome.base.as_deref(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
