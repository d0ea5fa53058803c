//! Rendering an [`Outcome`] once, in the format asked for. Byte spans become 1-based line and
//! column (in characters) here, in one place, for every format.

pub mod github;
pub mod graph;
pub mod human;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod status;

use std::io::Write;

use crate::finding::{Finding, LineIndex, Severity};
use crate::outcome::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
    Github,
    Sarif,
    // A pull-request summary (`$GITHUB_STEP_SUMMARY`, a PR or MR comment).
    Markdown,
    // Pictures, for `miglint graph` only.
    Mermaid,
    Dot,
}

/// A finding with its position resolved.
pub struct Located<'a> {
    pub finding: &'a Finding,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

pub fn locate(outcome: &Outcome) -> Vec<Located<'_>> {
    // One line index per file, shared by all its findings: linear in the number of findings.
    let mut indexes: std::collections::HashMap<&str, LineIndex> = Default::default();
    outcome
        .findings
        .iter()
        .map(|f| {
            let pos = match (&f.file, &f.span) {
                (Some(file), Some(span)) => outcome.sources.get(file).map(|src| {
                    indexes
                        .entry(file.as_str())
                        .or_insert_with(|| LineIndex::new(src))
                        .line_col(src, span.start)
                }),
                _ => None,
            };
            Located {
                finding: f,
                line: pos.map(|p| p.0),
                column: pos.map(|p| p.1),
            }
        })
        .collect()
}

/// "2 errors, 1 warning" with correct plurals.
pub fn counts(outcome: &Outcome) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(outcome.count(Severity::Error), "error"),
        plural(outcome.count(Severity::Warning), "warning")
    )
}

pub fn render(
    format: Format,
    outcome: &Outcome,
    color: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::render(outcome, color, out),
        Format::Json => json::render(outcome, out),
        Format::Github => github::render(outcome, out),
        Format::Sarif => sarif::render(outcome, out),
        Format::Markdown => markdown::render(outcome, out),
        Format::Mermaid => out.write_all(graph::mermaid(outcome, None).as_bytes()),
        Format::Dot => out.write_all(graph::dot(outcome).as_bytes()),
    }
}
