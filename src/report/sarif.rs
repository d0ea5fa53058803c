//! `--format sarif`: SARIF 2.1.0 for code-scanning uploads. One `rule` per code in the registry.

use std::io::Write;

use serde_json::{json, Value};

use super::locate;
use crate::finding::Severity;
use crate::outcome::Outcome;
use crate::registry::Rule;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
        Severity::Off => "none",
    }
}

/// A repository path as a URI reference (RFC 3986): everything but unreserved characters and
/// `/` percent-encoded, so a space or `#` in a file name stays one path.
fn uri(path: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(path, KEEP).to_string()
}

pub fn document(outcome: &Outcome) -> Value {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            let i = r.info();
            json!({
                "id": i.code,
                "name": i.code,
                "shortDescription": { "text": i.summary },
                "fullDescription": { "text": i.why },
                "helpUri": r.help_uri(),
                "defaultConfiguration": { "level": level(i.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = locate(outcome)
        .into_iter()
        .map(|l| {
            let f = l.finding;
            let text = match &f.help {
                Some(h) => format!("{}\nhelp: {h}", f.message),
                None => f.message.clone(),
            };
            let mut result = json!({
                "ruleId": f.code(),
                "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": text },
            });
            if let Some(file) = &f.file {
                let mut physical =
                    json!({ "artifactLocation": { "uri": uri(file), "uriBaseId": "%SRCROOT%" } });
                if let (Some(line), Some(col)) = (l.line, l.column) {
                    physical["region"] = json!({ "startLine": line, "startColumn": col });
                }
                result["locations"] = json!([{ "physicalLocation": physical }]);
            }
            if !f.related.is_empty() {
                let related: Vec<Value> = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut loc = json!({
                            "id": i,
                            "message": { "text": format!("{} ({})", r.message, r.rule.code()) },
                        });
                        if let Some(file) = &r.file {
                            loc["physicalLocation"] =
                                json!({ "artifactLocation": { "uri": uri(file), "uriBaseId": "%SRCROOT%" } });
                        }
                        loc
                    })
                    .collect();
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "miglint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/miglint/miglint",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(outcome))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(
            super::uri("db/my migrations/0001_a#b.sql"),
            "db/my%20migrations/0001_a%23b.sql"
        );
        assert_eq!(super::uri("m/0001_été.sql"), "m/0001_%C3%A9t%C3%A9.sql");
    }
}
