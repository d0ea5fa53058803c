//! Scaffolds a new rule over a set's facts: `cargo run --example new_rule -- CODE FAMILY
//! [SEVERITY]` (CODE like `column-added-twice`, FAMILY one of naming, sql, schema, git, ledger,
//! history, alembic; SEVERITY error, warning or info, default error).
//!
//! It writes, in this checkout:
//! - `src/rules/<code as snake_case>.rs`: the rule's `pass` (empty) and a unit test on facts
//!   built in memory (`rules::fixture`) that fails until the pass finds something;
//! - its registry row (`src/registry.rs`, above the generator's marker) with placeholders for
//!   the summary, why, bad and good texts;
//! - its entry in `rules::SET_PASSES` and its `pub mod` line;
//! - a scenario in `tests/rule_messages.rs` (the message snapshot is written by insta);
//! - docs/rules.md regenerated from the registry (`miglint rules --markdown`).
//!
//! What is left is the rule itself: the pass's logic, the texts, and the scenario's input.
//! CONTRIBUTING.md walks through it.

use std::path::Path;
use std::process::Command;

const FAMILIES: &[&str] = &[
    "naming", "sql", "schema", "git", "ledger", "history", "alembic",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--docs") {
        regenerate_docs(Path::new(env!("CARGO_MANIFEST_DIR")));
        return;
    }
    let (code, family) = match (args.first(), args.get(1)) {
        (Some(c), Some(f)) => (c.as_str(), f.as_str()),
        _ => fail("usage: cargo run --example new_rule -- CODE FAMILY [SEVERITY]"),
    };
    let severity = args.get(2).map_or("error", String::as_str);
    if code.is_empty()
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || code.starts_with('-')
    {
        fail("CODE is kebab-case: lower-case letters, digits and `-` (like `column-added-twice`)");
    }
    if !FAMILIES.contains(&family) {
        fail(&format!("FAMILY is one of {}", FAMILIES.join(", ")));
    }
    if !["error", "warning", "info"].contains(&severity) {
        fail("SEVERITY is error, warning or info");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snake = code.replace('-', "_");
    let variant: String = code
        .split('-')
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect();
    let rule_file = root.join(format!("src/rules/{snake}.rs"));
    if rule_file.exists() {
        fail(&format!("{} exists already", rule_file.display()));
    }
    let registry = read(root, "src/registry.rs");
    if registry.contains(&format!("code: \"{code}\"")) {
        fail(&format!("`{code}` is in the registry already"));
    }

    // Everything is computed first and written last: a refusal leaves the checkout untouched.
    let rules_mod = read(root, "src/rules/mod.rs");
    let scenarios = read(root, "tests/rule_messages.rs");
    let edits = [
        (
            "src/registry.rs",
            insert_before(
                &registry,
                REGISTRY_MARKER,
                &registry_row(&variant, code, severity, family),
            ),
        ),
        (
            "src/rules/mod.rs",
            add_module(
                &insert_before(&rules_mod, PASSES_MARKER, &pass_row(code, &snake, family)),
                &snake,
            ),
        ),
        (
            "tests/rule_messages.rs",
            insert_before(&scenarios, SCENARIO_MARKER, &scenario(code, &snake)),
        ),
    ];
    write(&rule_file, &rule_source(code, &variant));
    for (path, text) in &edits {
        write(&root.join(path), text);
    }
    regenerate_docs(root);
    println!("created src/rules/{snake}.rs and the registry row `{variant}`; next:");
    println!("  1. write the pass in src/rules/{snake}.rs (its unit test fails until it finds something)");
    println!("     and the row's summary, why, bad and good in src/registry.rs");
    println!("  2. cargo test --lib rules::{snake}");
    println!("  3. give the scenario `{code}` in tests/rule_messages.rs its input, then");
    println!("     INSTA_UPDATE=always cargo test --test rule_messages   (and read the snapshot)");
    println!(
        "  4. cargo run --example new_rule -- --docs   (docs/rules.md after the texts change)"
    );
}

const REGISTRY_MARKER: &str =
    "    // new rules above this line (examples/new_rule.rs inserts here)\n";
const PASSES_MARKER: &str =
    "    // new set passes above this line (examples/new_rule.rs inserts here)\n";
const SCENARIO_MARKER: &str =
    "        other => panic!(\"no scenario for `{other}`: add one to tests/rule_messages.rs\"),\n";

fn registry_row(variant: &str, code: &str, severity: &str, family: &str) -> String {
    let sev = severity[..1].to_ascii_uppercase() + &severity[1..];
    let fam = family[..1].to_ascii_uppercase() + &family[1..];
    format!(
        "    {variant} => {{ code: \"{code}\", severity: {sev}, fatal: false,\n        family: {fam},\n        summary: \"TODO: what `{code}` finds, in one sentence.\",\n        why: \"TODO: why it matters (what fails at deploy, or what it lets through).\",\n        bad: \"TODO: SQL it reports\", good: \"TODO: the same, fixed\" }}\n"
    )
}

fn pass_row(code: &str, snake: &str, family: &str) -> String {
    let fam = family[..1].to_ascii_uppercase() + &family[1..];
    format!("    Pass {{\n        name: \"{code}\",\n        family: Family::{fam},\n        run: {snake}::pass,\n        memo: false,\n    }},\n")
}

fn scenario(code: &str, snake: &str) -> String {
    format!(
        "        \"{code}\" => {{\n            repo_with_set(d, 1);\n            // TODO: the input that makes `{code}` report.\n            d.write(\"m/0001_{snake}.sql\", \"SELECT 1;\\n\");\n            check(&[\"m\"])\n        }}\n"
    )
}

fn rule_source(code: &str, variant: &str) -> String {
    format!(
        r#"//! `{code}`: TODO one line on what it finds.

use crate::finding::Finding;
use crate::registry::Rule;
use crate::rules::SetFacts;

/// TODO: what the rule finds in a set's facts (`facts.migrations`, `facts.analyses`, the
/// ledger, …), and why. Build each finding with `Finding::new(Rule::{variant}, message)`,
/// `.file(path)`, `.at(span, label)` and `.help(what to do)`.
pub fn pass(facts: &SetFacts) -> Vec<Finding> {{
    let findings: Vec<Finding> = Vec::new();
    let _ = (facts, Rule::{variant});
    findings
}}

#[cfg(test)]
mod tests {{
    use super::*;
    use crate::rules::fixture;

    #[test]
    fn finds_it() {{
        // TODO: files that `{code}` must report.
        let f = fixture::set(&[("0000_a.sql", "CREATE TABLE a (id int);\n")]);
        let codes: Vec<&str> = f.run(pass).iter().map(|x| x.code()).collect();
        assert_eq!(codes, ["{code}"]);
    }}

    #[test]
    fn leaves_good_sql_alone() {{
        let f = fixture::set(&[("0000_a.sql", "CREATE TABLE a (id int);\n")]);
        assert!(f.run(pass).is_empty());
    }}
}}
"#
    )
}

/// Rewrites docs/rules.md's generated block from the registry as now compiled (`miglint rules
/// --markdown`, the output a test compares with the file).
fn regenerate_docs(root: &Path) {
    let out = Command::new("cargo")
        .args(["run", "--quiet", "--", "rules", "--markdown"])
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo: {e}")));
    if !out.status.success() {
        fail(&format!(
            "`cargo run -- rules --markdown` failed (does the new code compile?):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let generated = String::from_utf8_lossy(&out.stdout);
    let docs = read(root, "docs/rules.md");
    let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
    let (Some(a), Some(b)) = (docs.find(start), docs.find(end)) else {
        fail("docs/rules.md lost its <!-- rules:start --> / <!-- rules:end --> markers");
    };
    let text = format!("{}{generated}{}", &docs[..a + start.len()], &docs[b..]);
    write(&root.join("docs/rules.md"), &text);
}

/// Adds `pub mod NAME;` where rustfmt keeps it: in order among the other `pub mod` lines.
fn add_module(text: &str, name: &str) -> String {
    let line = format!("pub mod {name};\n");
    let mods: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|l| l.starts_with("pub mod "))
        .collect();
    match (mods.iter().find(|l| **l > line.as_str()), mods.last()) {
        (Some(next), _) => insert_before(text, next, &line),
        (None, Some(last)) => text.replacen(last, &format!("{last}{line}"), 1),
        (None, None) => fail("no `pub mod` line in src/rules/mod.rs"),
    }
}

fn insert_before(text: &str, marker: &str, what: &str) -> String {
    let Some(at) = text.find(marker) else {
        fail(&format!("marker not found: {}", marker.trim()));
    };
    format!("{}{what}{}", &text[..at], &text[at..])
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path))
        .unwrap_or_else(|e| fail(&format!("cannot read {path}: {e}")))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("new_rule: {message}");
    std::process::exit(2)
}
