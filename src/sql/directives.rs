//! Ignore directives: `-- miglint-ignore CODE…` in the comments directly above a statement
//! silences CODE for findings inside that statement; `-- miglint-ignore-file CODE…` anywhere in a
//! file silences CODE for the whole file. Without codes, a directive silences every code.

use std::ops::Range;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directives {
    /// Codes silenced for the whole file; an empty string means "every code".
    pub file: Vec<String>,
    /// Statement spans and the codes silenced inside them.
    pub statements: Vec<(Range<usize>, Vec<String>)>,
}

/// Reads the codes of a directive comment (`comment` is the text after `--`).
fn codes_of(comment: &str, keyword: &str) -> Option<Vec<String>> {
    let rest = comment.trim().strip_prefix(keyword)?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t', ':'])) {
        return None;
    }
    let codes: Vec<String> = rest
        .trim_start_matches(':')
        .split([' ', ',', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some(if codes.is_empty() {
        vec![String::new()]
    } else {
        codes
    })
}

impl Directives {
    /// File-level directives are found line by line, so they work even when the file does not
    /// tokenize (an unterminated string must still be silenceable).
    pub fn scan_file(text: &str) -> Directives {
        let mut d = Directives::default();
        for line in text.lines() {
            if let Some(comment) = line.trim_start().strip_prefix("--") {
                if let Some(codes) = codes_of(comment, "miglint-ignore-file") {
                    d.file.extend(codes);
                }
            }
        }
        d
    }

    /// Records the statement-level directives among the comments that precede a statement.
    pub fn add_statement(&mut self, span: Range<usize>, comments: &[String]) {
        let codes: Vec<String> = comments
            .iter()
            .filter_map(|c| codes_of(c, "miglint-ignore"))
            .flatten()
            .collect();
        if !codes.is_empty() {
            self.statements.push((span, codes));
        }
    }

    /// Whether a finding with `code` at byte `offset` (if any) is silenced.
    pub fn suppresses(&self, code: &str, offset: Option<usize>) -> bool {
        let hit = |codes: &[String]| codes.iter().any(|c| c.is_empty() || c == code);
        if hit(&self.file) {
            return true;
        }
        let Some(offset) = offset else { return false };
        self.statements.iter().any(|(span, codes)| {
            span.start <= offset && offset < span.end.max(span.start + 1) && hit(codes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_directive() {
        let d = Directives::scan_file(
            "SELECT 1;\n-- miglint-ignore-file empty-migration, number-gap\n",
        );
        assert!(d.suppresses("number-gap", None));
        assert!(!d.suppresses("sql-parse-error", Some(0)));
        // `miglint-ignore-filex` is not the directive.
        assert!(Directives::scan_file("-- miglint-ignore-filex a")
            .file
            .is_empty());
    }

    #[test]
    fn statement_directive_covers_its_statement_only() {
        let mut d = Directives::default();
        d.add_statement(10..20, &[" miglint-ignore sql-parse-error\n".into()]);
        assert!(d.suppresses("sql-parse-error", Some(15)));
        assert!(!d.suppresses("sql-parse-error", Some(25)));
        assert!(!d.suppresses("number-gap", Some(15)));
    }
}
