//! `--format github`: GitHub Actions workflow commands, one annotation per finding.

use std::io::Write;

use super::{counts, locate};
use crate::finding::{escape_controls, escape_name, Severity};
use crate::outcome::Outcome;

/// Escapes a workflow command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (the data escapes plus `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    for l in locate(outcome) {
        let f = &*super::with_places(outcome, l.finding);
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Off => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = &f.file {
            props.push(format!("file={}", escape_property(&escape_name(file))));
        }
        if let Some(line) = l.line {
            props.push(format!("line={line}"));
        }
        if let Some(col) = l.column {
            props.push(format!("col={col}"));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("miglint({})", f.code()))
        ));
        // The CI log is a terminal too: no escape sequence from a file reaches it.
        let message = match &f.help {
            Some(h) => format!(
                "{}\nhelp: {}",
                escape_controls(&f.message),
                escape_controls(h)
            ),
            None => escape_controls(&f.message).into_owned(),
        };
        let mut message = message;
        if let Some(c) = &f.command {
            message.push_str(&format!("\nrun: {}", escape_controls(c)));
        }
        if let Some(d) = &f.diff {
            message.push_str(&format!("\n{}", escape_controls(d).trim_end()));
        }
        for r in &f.related {
            message.push_str(&format!(
                "\nalso ({}): {}",
                r.rule.code(),
                escape_controls(&r.message)
            ));
        }
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&message)
        )?;
    }
    writeln!(
        out,
        "miglint: {} in {} files",
        counts(outcome),
        outcome.files
    )
}
