//! Human output: miette's graphical reports, with the source snippet, a label at the exact span
//! and the `help:` line; plain (no colour) when stdout is not a terminal or NO_COLOR is set.

use std::fmt;
use std::io::Write;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use super::counts;
use crate::check::Outcome;
use crate::finding::{Finding, Severity};

/// A finding shaped for miette.
#[derive(Debug)]
struct Report {
    finding: Finding,
    source: Option<NamedSource<String>>,
    span: Option<(usize, usize)>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.finding.file, &self.source) {
            // Without a snippet, say which file it is about in the message itself.
            (Some(file), None) => write!(f, "{}: {}", file, self.finding.message),
            _ => write!(f, "{}", self.finding.message),
        }
    }
}

impl std::error::Error for Report {}

impl Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("miglint::{}", self.finding.code())))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info | Severity::Off => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.finding
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (start, len) = self.span?;
        let label = self.finding.label.clone();
        Some(Box::new(std::iter::once(LabeledSpan::new(
            label, start, len,
        ))))
    }
}

/// Clamps a byte range to char boundaries of `text` (spans come from raw bytes; the text shown
/// may be a lossy conversion).
fn clamp(text: &str, span: &std::ops::Range<usize>) -> (usize, usize) {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.max(start).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    (start, end - start)
}

fn to_report(outcome: &Outcome, f: &Finding) -> Report {
    let source = f
        .file
        .as_ref()
        .zip(f.span.as_ref())
        .and_then(|(file, _)| outcome.sources.get(file).map(|b| (file, b)));
    match (source, &f.span) {
        (Some((file, bytes)), Some(span)) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let span = clamp(&text, span);
            Report {
                finding: f.clone(),
                source: Some(NamedSource::new(file, text)),
                span: Some(span),
            }
        }
        _ => Report {
            finding: f.clone(),
            source: None,
            span: None,
        },
    }
}

pub fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if std::env::var_os("NO_GRAPHICS").is_some() {
        GraphicalTheme::none()
    } else if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme).with_width(100)
}

/// Renders one diagnostic (also used for fatal errors on stderr).
pub fn render_one(outcome: &Outcome, f: &Finding, color: bool) -> String {
    let mut s = String::new();
    if handler(color)
        .render_report(&mut s, &to_report(outcome, f))
        .is_err()
    {
        s = format!("{}: {}\n", f.code(), f.message);
    }
    s
}

pub fn render(outcome: &Outcome, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    for f in &outcome.findings {
        writeln!(out, "{}", render_one(outcome, f, color))?;
    }
    let files = format!(
        "{} file{}",
        outcome.files,
        if outcome.files == 1 { "" } else { "s" }
    );
    if outcome.count(Severity::Error) + outcome.count(Severity::Warning) == 0 {
        writeln!(out, "miglint: {files} checked, no problems")
    } else {
        writeln!(out, "miglint: {} in {files}", counts(outcome))
    }
}
