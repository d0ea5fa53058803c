//! Human output: miette's graphical reports, with the source snippet, a label at the exact span
//! and the `help:` line; plain (no colour) when stdout is not a terminal or NO_COLOR is set.

use std::fmt;
use std::io::Write;

use std::collections::HashMap;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::counts;
use crate::finding::{escape_controls, is_unsafe_char, Finding, LineIndex, Severity};
use crate::outcome::Outcome;

/// One file's text as shown in reports, prepared once and shared by all its findings: invalid
/// UTF-8 and unsafe characters (terminal escapes, bidi overrides) are replaced by `?` byte for
/// byte, so every span still points at the same bytes; lines are indexed once, and miette is given
/// only the lines around a span (never a copy of the file per finding).
#[derive(Debug)]
pub struct Shown {
    name: String,
    text: String,
    lines: LineIndex,
}

impl Shown {
    pub fn new(name: &str, bytes: &[u8]) -> Shown {
        let mut text = String::with_capacity(bytes.len());
        let mut rest = bytes;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    push_safe(&mut text, valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    push_safe(&mut text, std::str::from_utf8(valid).unwrap_or_default());
                    let bad = e.error_len().unwrap_or(after.len());
                    text.extend(std::iter::repeat_n('?', bad));
                    rest = &after[bad..];
                }
            }
        }
        let lines = LineIndex::new(text.as_bytes());
        Shown {
            name: crate::finding::escape_name(name),
            text,
            lines,
        }
    }
}

/// Appends `s`, replacing each unsafe character by as many `?` as it has bytes (a CR before LF
/// is a line ending and stays).
fn push_safe(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let line_end = c == '\r' && chars.peek() == Some(&'\n');
        if is_unsafe_char(c) && !line_end {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
}

impl SourceCode for Shown {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let len = self.text.len();
        let start = span.offset().min(len);
        let end = (span.offset() + span.len()).min(len);
        if span.offset() > len {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.lines.line_of(start).saturating_sub(before);
        let last_line = self
            .lines
            .line_of(end.saturating_sub(usize::from(end > start)));
        let last = (last_line + after).min(self.lines.lines() - 1);
        let from = self.lines.start_of(first, len);
        let mut to = self.lines.start_of(last + 1, len);
        // Leave the line's own newline out, as miette's own sources do.
        while to > from && matches!(self.text.as_bytes()[to - 1], b'\n' | b'\r') {
            to -= 1;
        }
        let to = to.max(end);
        // A very long line (a minified migration, 85 KB on one line) is shown as a window around
        // the span: miette pads to the label's column, and a column beyond u16 range is a panic.
        let (from, to, column) = if to - from > WINDOW * 4 {
            let at = |i: usize| {
                let mut i = i.min(len);
                while !self.text.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let line_start = self.lines.start_of(self.lines.line_of(start), len);
            let w_from = at(start.saturating_sub(WINDOW).max(from));
            let w_to = at((end.max(start) + WINDOW).min(to));
            let column = self.lines.line_col(self.text.as_bytes(), start).1 - 1;
            // Only the window's own line is shown: no lines before or after it.
            let w_from = w_from.max(line_start);
            (w_from, w_to.max(end), column)
        } else {
            (
                from,
                to,
                self.lines.line_col(self.text.as_bytes(), start).1 - 1,
            )
        };
        let first = if to - from > 0 && from > self.lines.start_of(first, len) {
            self.lines.line_of(from)
        } else {
            first
        };
        let last = self.lines.line_of(to.saturating_sub(1).max(from));
        // miette reads the span's own position (its header) from line and column: the column is
        // that of the span's start (0-based, in characters), the line the first one returned.
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[from..to],
            (from, to - from).into(),
            first,
            column,
            last - first + 1,
        )))
    }
}

/// A finding shaped for miette.
#[derive(Debug)]
struct Report<'s> {
    finding: Finding,
    source: Option<&'s Shown>,
    span: Option<(usize, usize)>,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = escape_controls(&self.finding.message);
        match (&self.finding.file, &self.source) {
            // Without a snippet, say which file it is about in the message itself.
            (Some(file), None) => write!(f, "{}: {message}", crate::finding::escape_name(file)),
            _ => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
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
        let mut text = self.finding.help.clone().unwrap_or_default();
        for r in &self.finding.related {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("also ({}): {}", r.rule.code(), r.message));
        }
        (!text.is_empty())
            .then(|| Box::new(escape_controls(&text).into_owned()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (start, len) = self.span?;
        let label = self
            .finding
            .label
            .as_deref()
            .map(|l| escape_controls(l).into_owned());
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

/// Bytes of context shown either side of a span on a very long line, and the longest label drawn.
const WINDOW: usize = 160;

fn to_report<'s>(shown: Option<&'s Shown>, f: &Finding) -> Report<'s> {
    match (shown, &f.span) {
        // A file whose text was not kept (over max_file_size) has nothing to show.
        (Some(src), Some(span)) if !src.text.is_empty() => Report {
            finding: f.clone(),
            source: Some(src),
            // A label wider than the window is drawn over its start only.
            span: Some(clamp(
                &src.text,
                &(span.start..span.end.min(span.start + WINDOW)),
            )),
        },
        _ => Report {
            finding: f.clone(),
            source: None,
            span: None,
        },
    }
}

/// The shown text of every file that findings point into, prepared once.
fn shown_sources(outcome: &Outcome) -> HashMap<&str, Shown> {
    let mut out = HashMap::new();
    for f in &outcome.findings {
        if let (Some(file), Some(_)) = (&f.file, &f.span) {
            if !out.contains_key(file.as_str()) {
                if let Some(bytes) = outcome.sources.get(file) {
                    out.insert(file.as_str(), Shown::new(file, bytes));
                }
            }
        }
    }
    out
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
    let shown = shown_sources(outcome);
    render_with(outcome, &shown, f, color)
}

fn render_with(
    outcome: &Outcome,
    shown: &HashMap<&str, Shown>,
    f: &Finding,
    color: bool,
) -> String {
    let mut s = String::new();
    let src = f.file.as_deref().and_then(|p| shown.get(p));
    if handler(color)
        .render_report(&mut s, &to_report(src, f))
        .is_err()
    {
        s = format!("{}: {}\n", f.code(), escape_controls(&f.message));
    }
    s.push_str(&unwrapped(f));
    // The other side of the problem in another file (a revision beside the SQL), unwrapped so
    // the path can be copied.
    for r in &f.related {
        if let Some(place) = super::related_place(outcome, f, r) {
            s.push_str(&format!(
                "  at: {place} ({})\n",
                escape_controls(&r.message)
            ));
        }
    }
    s
}

/// What must never be wrapped, after the report: the command to run (on its own line, to copy
/// as it is, whatever the terminal's width) and the diff of an edit.
fn unwrapped(f: &Finding) -> String {
    let mut s = String::new();
    if let Some(c) = &f.command {
        s.push_str(&format!("  run:\n    {}\n", escape_controls(c)));
    }
    if let Some(d) = &f.diff {
        s.push_str("  diff:\n");
        for line in d.lines() {
            s.push_str(&format!("    {}\n", escape_controls(line)));
        }
    }
    s
}

pub fn render(outcome: &Outcome, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let shown = shown_sources(outcome);
    for f in &outcome.findings {
        writeln!(out, "{}", render_with(outcome, &shown, f, color))?;
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
