//! The one value every check produces. Findings are collected, filtered and sorted before anything
//! is rendered, so a rule never prints and every output format sees the same list.

use std::ops::Range;

use crate::rules::Rule;

/// How bad a finding is. `Off` only exists so the `[rules]` table can silence a rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Off,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A problem found in one file (or in the set as a whole when `file` is `None`).
///
/// `span` is a byte range into the file as it was read (bytes, not characters), so the reporter
/// can turn it into 1-based line and column in one place for every output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// Path relative to the repository root, with `/` separators.
    pub file: Option<String>,
    pub span: Option<Range<usize>>,
    /// Short text shown at the span in human output.
    pub label: Option<String>,
}

impl Finding {
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.info().severity,
            message: message.into(),
            help: None,
            file: None,
            span: None,
            label: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.span = Some(span);
        self.label = Some(label.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn code(&self) -> &'static str {
        self.rule.code()
    }
}

/// 1-based line and column (in characters) of a byte offset, as every output format reports it.
/// An offset inside a multi-byte character or past the end is clamped, never a panic.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    // Count characters, not bytes: UTF-8 continuation bytes do not start a character.
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\nçé;x".as_bytes();
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // 'ç' and 'é' are two bytes each: ';' is byte 7, character column 3.
        assert_eq!(line_col(text, 7), (2, 3));
        assert_eq!(line_col(text, 1000), (2, 5));
    }
}
