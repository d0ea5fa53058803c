//! `miglint explain CODE` and `miglint rules`, both printed from the rule registry.

use super::{emit_json, only_human_or_json, Ctx};
use crate::registry::Rule;
use crate::report::Format;
use crate::Fatal;
use std::process::ExitCode;

/// The rule a user names: its code, or the `miglint::code` header human output shows; an unknown
/// code suggests the nearest ones.
fn lookup(code: &str) -> crate::Result<Rule> {
    let bare = code.trim().strip_prefix("miglint::").unwrap_or(code.trim());
    Rule::from_code(bare).ok_or_else(|| {
        let near = Rule::nearest(bare);
        Fatal::config(
            format!("unknown rule code `{code}`"),
            if near.is_empty() {
                "`miglint rules` lists every code".to_string()
            } else {
                format!(
                    "did you mean {}? (`miglint rules` lists every code)",
                    near.iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            },
        )
    })
}

/// `explain --format json`: one rule (schema version 1).
pub fn json(code: &str) -> crate::Result<serde_json::Value> {
    let i = lookup(code)?.info();
    Ok(serde_json::json!({
        "version": 1,
        "code": i.code,
        "severity": i.severity.as_str(),
        "exits_2": i.fatal,
        "summary": i.summary,
        "why": i.why,
        "bad": i.bad,
        "good": i.good,
    }))
}

/// `rules --format json`: every rule (schema version 1).
pub fn list_json() -> serde_json::Value {
    let rules: Vec<_> = Rule::ALL
        .iter()
        .map(|r| {
            let i = r.info();
            serde_json::json!({
                "code": i.code,
                "severity": i.severity.as_str(),
                "exits_2": i.fatal,
                "protection": r.is_protection(),
                "summary": i.summary,
            })
        })
        .collect();
    serde_json::json!({ "version": 1, "rules": rules })
}

pub fn explain(code: &str) -> crate::Result<String> {
    let rule = lookup(code)?;
    let i = rule.info();
    let indent = |s: &str| {
        s.lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(format!(
        "{code} ({sev}{fatal})\n\n{summary}\n\nWhy it matters:\n    {why}\n\nBad:\n{bad}\n\nGood:\n{good}\n\n{silence}\n",
        silence = if i.fatal {
            "It ends the run (exit 2): fix the cause; it cannot be silenced.".to_string()
        } else if rule.is_protection() {
            "It protects applied and merged migrations: a comment in a migration cannot silence it; only\n[rules] in miglint.toml can re-rate it.".to_string()
        } else {
            format!("Silence it for one statement with `-- miglint-ignore {code}` on the line above, for a file with\n`-- miglint-ignore-file {code}`, or re-rate it under [rules] in miglint.toml.", code = i.code)
        },
        code = i.code,
        sev = i.severity.as_str(),
        fatal = if i.fatal { ", exits 2" } else { "" },
        summary = i.summary,
        why = i.why,
        bad = indent(i.bad),
        good = indent(i.good),
    ))
}

pub fn list() -> String {
    let width = Rule::ALL.iter().map(|r| r.code().len()).max().unwrap_or(0);
    Rule::ALL
        .iter()
        .map(|r| {
            let i = r.info();
            let sev = if i.fatal {
                "exit 2"
            } else {
                i.severity.as_str()
            };
            format!("{:width$}  {:7}  {}\n", i.code, sev, i.summary)
        })
        .collect()
}

/// The rule reference of `docs/rules.md`: a table, then a section per rule with a bad and a good example.
/// `miglint rules --markdown` prints it; a test keeps the file identical.
pub fn markdown() -> String {
    let mut s = String::from("| code | default | what it catches |\n|---|---|---|\n");
    for r in Rule::ALL {
        let i = r.info();
        let sev = if i.fatal {
            "error (exit 2)"
        } else {
            i.severity.as_str()
        };
        s.push_str(&format!(
            "| [`{}`](#{}) | {sev} | {} |\n",
            i.code, i.code, i.summary
        ));
    }
    for r in Rule::ALL {
        let i = r.info();
        s.push_str(&format!(
            "\n### `{}`\n\n{} {}\n\nBad:\n\n```\n{}\n```\n\nGood:\n\n```\n{}\n```\n",
            i.code, i.summary, i.why, i.bad, i.good
        ));
    }
    s
}

/// `explain CODE`: one rule's page.
pub fn cli(ctx: &Ctx, code: &str) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "explain")?;
    if format == Format::Json {
        emit_json(json(code)?);
    } else {
        print!("{}", explain(code)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `rules`: every rule, as a list, JSON, or the Markdown of docs/rules.md.
pub fn rules_cli(ctx: &Ctx, as_markdown: bool) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "rules")?;
    if format == Format::Json {
        emit_json(list_json());
    } else if as_markdown {
        print!("{}", markdown());
    } else {
        print!("{}", list());
    }
    Ok(ExitCode::SUCCESS)
}
