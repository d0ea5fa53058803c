//! The one value every check produces. Findings are collected, filtered and sorted before anything
//! is rendered, so a rule never prints and every output format sees the same list.

use std::ops::Range;

use crate::registry::{Rating, Rule};

pub use crate::registry::Severity;

/// A problem found in one file (or in the set as a whole when `file` is `None`).
///
/// `span` is a byte range into the file as it was read (bytes, not characters), so the reporter
/// can turn it into 1-based line and column in one place for every output format.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Other facts about the same problem, reported with it rather than as findings of their own
    /// (one finding per problem: the root cause, with the rest as related information).
    pub related: Vec<Related>,
    /// What configuration rates about this problem (the severity is decided in
    /// `registry::severity`, when findings are finished).
    pub rating: Option<Rating>,
    /// Another branch's git ref this finding is about (`refs/remotes/pr/12`): reports that know
    /// the forge link it to that pull or merge request.
    pub reference: Option<String>,
    /// The exact command that fixes it (a restore), printed on its own line, never wrapped, in
    /// every format, so that it can be copied as it is.
    pub command: Option<String>,
    /// What changed, as a unified diff (before → now), for an edit of a protected file.
    pub diff: Option<String>,
    /// Another file this finding is about that is not in the checked tree, as it is named to a
    /// reader (`0005_add_phone.sql on origin/main: the same number`): pictures draw it beside
    /// the finding's file.
    pub counterpart: Option<String>,
}

/// A fact attached to a finding (miette `related`, SARIF `relatedLocations`, JSON `related`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Related {
    pub rule: Rule,
    pub message: String,
    pub file: Option<String>,
    pub span: Option<Range<usize>>,
}

impl Finding {
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        let message = message.into();
        Finding {
            rule,
            severity: rule.info().severity,
            message: bounded(&message).into_owned(),
            help: None,
            file: None,
            span: None,
            label: None,
            related: Vec::new(),
            rating: None,
            reference: None,
            command: None,
            diff: None,
            counterpart: None,
        }
    }

    /// Folds `other` (about the same problem) into this finding as related information.
    pub fn absorb(&mut self, other: Finding) {
        self.related.push(Related {
            rule: other.rule,
            message: other.message,
            file: other.file,
            span: other.span,
        });
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(bounded(&help.into()).into_owned());
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

    pub fn counterpart(mut self, counterpart: impl Into<String>) -> Self {
        self.counterpart = Some(counterpart.into());
        self
    }

    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    pub fn code(&self) -> &'static str {
        self.rule.code()
    }
}

/// 1-based line and column (in characters) of a byte offset, as every output format reports it.
/// An offset inside a multi-byte character or past the end is clamped, never a panic. For many
/// offsets into one text, build a [`LineIndex`] once instead.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(text, offset)
}

/// Where each line of a text starts: built once per file and shared by sorting and every
/// renderer, so locating n findings costs O(n log lines), not O(n × file size).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// Characters before each multiple of [`CHUNK`] bytes: a column on a 1 MB line costs at
    /// most one chunk's scan, so n findings on one line cost O(n), not O(n × line length).
    chars_before: Vec<usize>,
}

/// Bytes between two character-count checkpoints of a [`LineIndex`].
const CHUNK: usize = 1024;

impl LineIndex {
    pub fn new(text: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        let mut chars_before = Vec::with_capacity(text.len() / CHUNK + 1);
        let mut total = 0;
        for chunk in text.chunks(CHUNK) {
            chars_before.push(total);
            total += count_chars(chunk);
        }
        chars_before.push(total);
        LineIndex {
            starts,
            chars_before,
        }
    }

    /// Characters in `text[..offset]`.
    fn chars_to(&self, text: &[u8], offset: usize) -> usize {
        let k = offset / CHUNK;
        let base = self.chars_before.get(k).copied().unwrap_or(0);
        base + count_chars(&text[(k * CHUNK).min(offset)..offset])
    }

    /// 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Byte where 0-based `line` starts (the text's end past the last line).
    pub fn start_of(&self, line: usize, text_len: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(text_len)
    }

    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line and column (characters) of `offset` in `text` (the text indexed).
    pub fn line_col(&self, text: &[u8], offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.starts[line].min(offset);
        // Count characters, not bytes: UTF-8 continuation bytes do not start a character.
        let column = self.chars_to(text, offset) - self.chars_to(text, start) + 1;
        (line + 1, column)
    }
}

/// Characters in UTF-8 bytes (continuation bytes do not start one).
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// Text from a file or a finding, made safe for a terminal or a CI log: control characters
/// (ESC, BEL, lone CR, C1 controls) and bidirectional overrides become visible escapes
/// (`\u{1b}`), so a migration cannot retitle a terminal, clear it, or hide text.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A file name as printed: [`escape_controls`], and newline and tab too (a name is one line, and
/// a newline in it could start a line of its own in a CI log).
pub fn escape_name(s: &str) -> String {
    escape_controls(s).replace('\n', "\\n").replace('\t', "\\t")
}

/// Control characters other than newline and tab, and the bidi overrides ("Trojan Source").
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Longest message or help miglint prints (characters); longer text is summarised.
pub const MAX_TEXT: usize = 2_000;

/// `s`, cut to [`MAX_TEXT`] characters with a note of what was left out.
pub fn bounded(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_TEXT) {
        None => std::borrow::Cow::Borrowed(s),
        Some((cut, _)) => {
            let rest = s[cut..].chars().count();
            std::borrow::Cow::Owned(format!("{}… ({rest} more characters)", &s[..cut]))
        }
    }
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

    #[test]
    fn controls_are_escaped_and_text_is_bounded() {
        assert_eq!(
            escape_controls("a\u{1b}]0;x\u{7}b\n"),
            "a\\u{1b}]0;x\\u{7}b\n"
        );
        let long = "x".repeat(MAX_TEXT + 10);
        assert!(bounded(&long).ends_with("(10 more characters)"));
    }
}
