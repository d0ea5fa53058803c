//! `--format json`: exactly one JSON document on stdout (schema version 1).

use std::io::Write;

use serde::Serialize;

use super::locate;
use crate::finding::Severity;
use crate::outcome::Outcome;

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
    /// Other facts about the same problem (see `check::one_per_problem`).
    related: Vec<RelatedDiag<'a>>,
    /// The command that fixes it, to run as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    /// A unified diff of an edit of a protected file (before → now).
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
}

#[derive(Serialize)]
struct RelatedDiag<'a> {
    code: &'a str,
    message: &'a str,
    file: Option<&'a str>,
    /// Where it is, when it is in another file than the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    files: usize,
}

/// The document as a value, for commands that add their own keys (`alembic heads`).
pub fn value(outcome: &Outcome) -> serde_json::Value {
    serde_json::to_value(doc(outcome)).unwrap_or_default()
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &doc(outcome))?;
    writeln!(out)
}

fn doc(outcome: &Outcome) -> Doc<'_> {
    Doc {
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
                command: l.finding.command.as_deref(),
                diff: l.finding.diff.as_deref(),
                related: l
                    .finding
                    .related
                    .iter()
                    .map(|r| {
                        let at = super::related_line_col(outcome, l.finding, r);
                        RelatedDiag {
                            code: r.rule.code(),
                            message: &r.message,
                            file: r.file.as_deref(),
                            line: at.map(|a| a.0),
                            column: at.map(|a| a.1),
                        }
                    })
                    .collect(),
            })
            .collect(),
        summary: Summary {
            errors: outcome.count(Severity::Error),
            warnings: outcome.count(Severity::Warning),
            infos: outcome.count(Severity::Info),
            files: outcome.files,
        },
        base: outcome.base.as_deref(),
    }
}
