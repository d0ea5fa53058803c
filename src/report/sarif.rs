//! `--format sarif`: SARIF 2.1.0 for code-scanning uploads. One `rule` per code in the registry.

use std::io::Write;

use serde::Serialize;

use super::{locate, Located};
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

// The document is written as it is serialized, result by result: a run with hundreds of
// thousands of findings (a hostile ledger) must not hold a JSON tree of them (1.8 GB for
// 200,000 findings when it did). Fields are declared in alphabetical order, the order the
// earlier `serde_json::Value` maps gave, so the bytes are unchanged.

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    column_kind: &'static str,
    results: Results<'a>,
    tool: Tool,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    information_uri: &'static str,
    name: &'static str,
    rules: Vec<RuleDescriptor>,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    default_configuration: Level,
    full_description: Text<'static>,
    help_uri: String,
    id: &'static str,
    name: &'static str,
    short_description: Text<'static>,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

/// The results, serialized one at a time from the outcome.
struct Results<'a>(&'a Outcome);

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(locate(self.0).iter().map(SarifResult::new))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<[Location; 1]>,
    message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation>,
    rule_id: &'a str,
    rule_index: usize,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_column: usize,
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation {
    id: usize,
    message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
}

fn artifact(file: &str) -> ArtifactLocation {
    ArtifactLocation {
        uri: uri(file),
        uri_base_id: "%SRCROOT%",
    }
}

impl<'a> SarifResult<'a> {
    fn new(l: &Located<'a>) -> SarifResult<'a> {
        let f = l.finding;
        let text = match &f.help {
            Some(h) => format!("{}\nhelp: {h}", f.message),
            None => f.message.clone(),
        };
        let locations = f.file.as_deref().map(|file| {
            let region = match (l.line, l.column) {
                (Some(line), Some(col)) => Some(Region {
                    start_column: col,
                    start_line: line,
                }),
                _ => None,
            };
            [Location {
                physical_location: PhysicalLocation {
                    artifact_location: artifact(file),
                    region,
                },
            }]
        });
        let related_locations = f
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| RelatedLocation {
                id: i,
                message: Message {
                    text: format!("{} ({})", r.message, r.rule.code()),
                },
                physical_location: r.file.as_deref().map(|file| PhysicalLocation {
                    artifact_location: artifact(file),
                    region: None,
                }),
            })
            .collect();
        SarifResult {
            level: level(f.severity),
            locations,
            message: Message { text },
            related_locations,
            rule_id: f.code(),
            rule_index: Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0),
        }
    }
}

fn document(outcome: &Outcome) -> Log<'_> {
    let rules = Rule::ALL
        .iter()
        .map(|r| {
            let i = r.info();
            RuleDescriptor {
                default_configuration: Level {
                    level: level(i.severity),
                },
                full_description: Text { text: i.why },
                help_uri: r.help_uri(),
                id: i.code,
                name: i.code,
                short_description: Text { text: i.summary },
            }
        })
        .collect();
    Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            column_kind: "unicodeCodePoints",
            results: Results(outcome),
            tool: Tool {
                driver: Driver {
                    information_uri: "https://github.com/miglint/miglint",
                    name: "miglint",
                    rules,
                    version: env!("CARGO_PKG_VERSION"),
                },
            },
        }],
        version: "2.1.0",
    }
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, &document(outcome))?;
    writeln!(out)?;
    out.flush()
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
