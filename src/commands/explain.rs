//! `miglint explain CODE` and `miglint rules`, both printed from the rule registry.

use crate::rules::Rule;
use crate::Fatal;

pub fn explain(code: &str) -> crate::Result<String> {
    let rule = Rule::from_code(code).ok_or_else(|| {
        Fatal::config(
            format!("unknown rule code `{code}`"),
            "`miglint rules` lists every code",
        )
    })?;
    let i = rule.info();
    let indent = |s: &str| {
        s.lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(format!(
        "{code} ({sev}{fatal})\n\n{summary}\n\nWhy it matters:\n    {why}\n\nBad:\n{bad}\n\nGood:\n{good}\n\nSilence it for one statement with `-- miglint-ignore {code}` on the line above, for a file with\n`-- miglint-ignore-file {code}`, or re-rate it under [rules] in miglint.toml.\n",
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
            format!(
                "{:width$}  {:7}  {}\n",
                i.code,
                i.severity.as_str(),
                i.summary
            )
        })
        .collect()
}

/// The README's rule reference: a table, then a section per rule with a bad and a good example.
/// `miglint rules --markdown` prints it; a test keeps the README's copy identical.
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
