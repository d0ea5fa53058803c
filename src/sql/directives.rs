//! Ignore directives, typed like ruff's `noqa` and squawk's ignores:
//!
//! - `-- miglint-ignore CODE…` directly above a statement silences CODE inside that statement;
//! - `-- miglint-ignore-file CODE…` anywhere silences CODE for the whole file;
//! - without codes a directive silences every code it may silence;
//! - text after a second `--` is the reason (`-- miglint-ignore-file empty-migration -- kept`).
//!
//! A directive lives inside the change it would excuse, so it can never silence the codes that
//! protect applied or merged migrations ([`crate::registry::Rule::is_protection`]): only `[rules]` in
//! `miglint.toml` may re-rate those. Which directive silenced what is tracked so that directives
//! that silence nothing are reported (`unused-ignore`), like ruff's RUF100.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directive {
    /// The directive's comment, as a byte range of the file (for `unused-ignore`).
    pub span: Range<usize>,
    /// `true` for `miglint-ignore-file`.
    pub file_wide: bool,
    /// The codes named; empty means every code.
    pub codes: Vec<String>,
    /// The statement a `miglint-ignore` covers (the first one after it); `None` until known.
    pub statement: Option<Range<usize>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directives {
    pub list: Vec<Directive>,
}

/// Reads a directive comment (`comment` is the text after `--`): `(file_wide, codes)`.
fn parse(comment: &str) -> Option<(bool, Vec<String>)> {
    let comment = comment.trim_start();
    let (file_wide, rest) = if let Some(r) = comment.strip_prefix("miglint-ignore-file") {
        (true, r)
    } else {
        (false, comment.strip_prefix("miglint-ignore")?)
    };
    if !(rest.is_empty() || rest.starts_with([' ', '\t', ':', '\r'])) {
        return None;
    }
    // The reason follows a second `--`; it documents, it does not name codes.
    let codes_text = rest.split("--").next().unwrap_or("");
    let codes = codes_text
        .trim_start_matches(':')
        .split([' ', ',', '\t', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        // The human report's header form (`miglint::number-gap`) names the same code.
        .map(|s| s.strip_prefix("miglint::").unwrap_or(s).to_string())
        .collect();
    Some((file_wide, codes))
}

impl Directives {
    /// Finds every directive line by line, so they work even when the file does not tokenize
    /// (an unterminated string must still be silenceable by a directive before it). A line
    /// inside a string, quoted identifier, `$$` body or block comment is text, not a directive:
    /// it would otherwise silence the file from inside an `INSERT`'s value.
    pub fn scan_file(text: &str) -> Directives {
        let mut d = Directives::default();
        // Nearly every file has none: one SIMD search instead of a pass over its lines.
        if memchr::memmem::find(text.as_bytes(), b"miglint-ignore").is_none() {
            return d;
        }
        let literals = super::psql::literals(text);
        let inside = |at: usize| {
            let i = literals.partition_point(|l| l.range.end <= at);
            literals.get(i).is_some_and(|l| l.range.start <= at)
        };
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if let Some(comment) = trimmed.trim_end().strip_prefix("--") {
                let start = offset + (line.len() - trimmed.len());
                if let Some((file_wide, codes)) = parse(comment).filter(|_| !inside(start)) {
                    let end = offset + line.trim_end().len();
                    d.list.push(Directive {
                        span: start..end.max(start + 1),
                        file_wide,
                        codes,
                        statement: None,
                    });
                }
            }
            offset += line.len();
        }
        d
    }

    /// Binds each statement directive to the first statement that starts after it.
    pub fn bind_statements(&mut self, statements: &[Range<usize>]) {
        for d in self.list.iter_mut().filter(|d| !d.file_wide) {
            d.statement = statements.iter().find(|s| s.start >= d.span.end).cloned();
        }
    }

    /// The index of the directive that silences a finding with `code` at byte `offset` (if
    /// any). Protection codes are never silenced here.
    pub fn suppressor(&self, code: &str, offset: Option<usize>) -> Option<usize> {
        if crate::registry::Rule::from_code(code).is_some_and(|r| r.is_protection()) {
            return None;
        }
        let names = |d: &Directive| d.codes.is_empty() || d.codes.iter().any(|c| c == code);
        self.list.iter().position(|d| {
            names(d)
                && (d.file_wide
                    || matches!((&d.statement, offset), (Some(s), Some(o))
                        if s.start <= o && o < s.end.max(s.start + 1)))
        })
    }

    /// Moves every span by `by` bytes (a stripped BOM).
    pub fn shift(&mut self, by: usize) {
        for d in &mut self.list {
            d.span = d.span.start + by..d.span.end + by;
            if let Some(s) = &mut d.statement {
                *s = s.start + by..s.end + by;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_directive_with_reason() {
        let d = Directives::scan_file(
            "SELECT 1;\n-- miglint-ignore-file empty-migration, number-gap -- legacy\n",
        );
        assert_eq!(d.list[0].codes, vec!["empty-migration", "number-gap"]);
        assert_eq!(d.suppressor("number-gap", None), Some(0));
        assert_eq!(d.suppressor("sql-parse-error", Some(0)), None);
        // `miglint-ignore-filex` is not the directive.
        assert!(Directives::scan_file("-- miglint-ignore-filex a")
            .list
            .is_empty());
    }

    #[test]
    fn statement_directive_covers_its_statement_only() {
        let text = "SELECT 1;\n-- miglint-ignore sql-parse-error\nSELEC 2;\nSELEC 3;\n";
        let mut d = Directives::scan_file(text);
        d.bind_statements(&[0..9, 45..53, 54..62]);
        assert_eq!(d.suppressor("sql-parse-error", Some(47)), Some(0));
        assert_eq!(d.suppressor("sql-parse-error", Some(55)), None);
        assert_eq!(d.suppressor("number-gap", Some(47)), None);
    }

    /// A directive is a comment of the script, not text inside a string, a quoted identifier,
    /// a `$$` body or a block comment: there it silences nothing.
    #[test]
    fn a_directive_inside_a_literal_is_not_a_directive() {
        for text in [
            "INSERT INTO n (b) VALUES ('\n-- miglint-ignore-file\n');\nSELEC 1;\n",
            "CREATE FUNCTION f() RETURNS int AS $$\n-- miglint-ignore-file\nSELECT 1 $$ LANGUAGE sql;\n",
            "SELECT 1 AS \"\n-- miglint-ignore-file\n\";\n",
            "/*\n-- miglint-ignore-file\n*/\nSELEC 1;\n",
        ] {
            assert!(Directives::scan_file(text).list.is_empty(), "{text}");
        }
        // Before an unterminated string it still counts.
        let d = Directives::scan_file("-- miglint-ignore-file\nSELECT 'oops;\n");
        assert_eq!(d.list.len(), 1);
    }

    #[test]
    fn protection_is_never_silenced() {
        let d = Directives::scan_file("-- miglint-ignore-file\n");
        assert_eq!(d.suppressor("empty-migration", None), Some(0));
        for code in [
            "checksum-mismatch",
            "modified-after-merge",
            "unrecorded-migrations",
        ] {
            assert_eq!(d.suppressor(code, None), None, "{code}");
        }
    }
}
