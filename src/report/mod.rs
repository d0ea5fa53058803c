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

/// Where a related fact is, when it is in another file than its finding (a revision beside the SQL
/// that stamps it): `path:line:column`, or the path alone without a position. `None` for a
/// fact about the finding's own file, which its excerpt already shows.
pub fn related_place(
    outcome: &Outcome,
    finding: &crate::finding::Finding,
    r: &crate::finding::Related,
) -> Option<String> {
    let file = r
        .file
        .as_deref()
        .filter(|f| Some(*f) != finding.file.as_deref())?;
    let shown = crate::finding::escape_name(file);
    Some(match (&r.span, outcome.sources.get(file)) {
        (Some(span), Some(src)) => {
            let (line, column) = LineIndex::new(src).line_col(src, span.start);
            format!("{shown}:{line}:{column}")
        }
        _ => shown,
    })
}

/// `f` with each related fact in another file naming where it is (`… at path:line:column`),
/// for the text formats (human, GitHub, markdown): the other side of a drift, side by side.
pub fn with_places<'a>(
    outcome: &Outcome,
    f: &'a crate::finding::Finding,
) -> std::borrow::Cow<'a, crate::finding::Finding> {
    let places: Vec<Option<String>> = f
        .related
        .iter()
        .map(|r| related_place(outcome, f, r))
        .collect();
    if places.iter().all(Option::is_none) {
        return std::borrow::Cow::Borrowed(f);
    }
    let mut owned = f.clone();
    for (r, place) in owned.related.iter_mut().zip(places) {
        if let Some(place) = place {
            r.message = format!("{} at {place}", r.message);
        }
    }
    std::borrow::Cow::Owned(owned)
}

/// The 1-based line and column of a related fact in another file (see [`related_place`]).
pub fn related_line_col(
    outcome: &Outcome,
    finding: &crate::finding::Finding,
    r: &crate::finding::Related,
) -> Option<(usize, usize)> {
    let file = r
        .file
        .as_deref()
        .filter(|f| Some(*f) != finding.file.as_deref())?;
    let src = outcome.sources.get(file)?;
    Some(LineIndex::new(src).line_col(src, r.span.as_ref()?.start))
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
