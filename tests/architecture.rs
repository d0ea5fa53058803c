//! ARCHITECTURE.md's layers, held by a checker that reads `src/` as Rust (`checker.rs`, on
//! `syn`): each module imports only from the layers above it, no module is outside the layers,
//! no cycle, git2 only in `src/git/`, no function over 80 lines. Each loophole a grep-based
//! check had is planted in a temp copy of `src/` and must make the checker fail.

use std::path::Path;

#[path = "architecture/checker.rs"]
mod checker;

const MAX_FN_LINES: usize = 80;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn architecture_md() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap()
}

#[test]
fn the_tree_keeps_the_documented_layers() {
    let found = checker::violations(&root().join("src"), &architecture_md(), MAX_FN_LINES);
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert!(
        checker::layers(&architecture_md()).len() >= 15,
        "the layer block of ARCHITECTURE.md is read"
    );
}

/// A copy of `src/` with `plant` appended to `file` (relative to `src/`).
fn planted(file: &str, plant: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in walkdir::WalkDir::new(root().join("src")) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(root().join("src")).unwrap();
        let to = tmp.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    let target = tmp.path().join(file);
    let mut text = std::fs::read_to_string(&target).unwrap();
    text.push_str(plant);
    std::fs::write(&target, text).unwrap();
    tmp
}

#[test]
fn every_loophole_of_the_old_check_is_caught() {
    let long_body = "    let _x = 1;\n".repeat(MAX_FN_LINES);
    let cases: Vec<(&str, String, &str)> = vec![
        // An upward import through a `use` group.
        ("registry.rs", "\nuse crate::{check, finding};\n".into(), "imports `check`"),
        // `super::super::` from a nested module.
        (
            "rules/sql.rs",
            "\npub fn planted() -> usize { let _ = super::super::report::render; 0 }\n".into(),
            "imports `report`",
        ),
        // Non-test code after a file's first `#[cfg(test)]` item.
        (
            "registry.rs",
            "\n#[cfg(test)]\nmod planted_tests {}\n\npub fn after_tests() { let _ = crate::commands::init::run; }\n".into(),
            "imports `commands",
        ),
        // A long function with a restricted visibility.
        (
            "rules/sql.rs",
            format!("\npub(in crate::rules) fn planted_long() {{\n{long_body}}}\n"),
            "`planted_long` has",
        ),
        // git2 renamed.
        ("check.rs", "\nuse git2 as g;\n".into(), "git2 outside"),
        // A module in no layer.
        ("planted_layerless.rs", String::new(), "in no layer"),
    ];
    for (file, plant, expected) in cases {
        let tmp = if file == "planted_layerless.rs" {
            let tmp = planted("lib.rs", "");
            std::fs::write(tmp.path().join(file), "pub fn f() {}\n").unwrap();
            tmp
        } else {
            planted(file, &plant)
        };
        let found = checker::violations(tmp.path(), &architecture_md(), MAX_FN_LINES);
        assert!(
            found.iter().any(|v| v.contains(expected)),
            "{file}: planted {plant:?}, expected a violation containing {expected:?}, got {found:?}"
        );
    }
}

#[test]
fn a_cycle_is_caught() {
    let tmp = planted("ledger.rs", "\nuse crate::fsutil::write_atomic as _w;\n");
    let found = checker::violations(tmp.path(), &architecture_md(), MAX_FN_LINES);
    assert!(
        found.iter().any(|v| v.contains("cycle")),
        "fsutil -> ledger -> fsutil: {found:?}"
    );
}

/// A rule's findings are built in `src/rules/` (readers hand facts to the rules; the engine,
/// the reports and the commands build none): `Finding::new(Rule::X, …)` anywhere else is
/// allowed only for a rule of the `Run` family (no base, not a repository, I/O).
#[test]
fn findings_are_built_only_by_the_rules() {
    use miglint::registry::{Family, Rule};
    let built =
        regex::Regex::new(r"Finding::new\(\s*(?:crate::registry::)?Rule::([A-Z][A-Za-z0-9]*)\b")
            .unwrap();
    let mut outside = Vec::new();
    for entry in walkdir::WalkDir::new(root().join("src")) {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        if path.extension().is_none_or(|e| e != "rs") || rel.starts_with("src/rules/") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for cap in built.captures_iter(&text) {
            let rule = Rule::ALL
                .iter()
                .find(|r| format!("{r:?}") == cap[1])
                .unwrap_or_else(|| panic!("{rel}: unknown rule {}", &cap[1]));
            if rule.info().family != Family::Run {
                outside.push(format!("{rel}: {} ({:?})", rule.code(), rule.info().family));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "findings built outside src/rules/:\n{}",
        outside.join("\n")
    );
}

/// `examples/new_rule.rs` writes at markers in these files: they stay where it looks for them
/// (the generator refuses, untouched, when one is missing; this says so before anyone runs it).
#[test]
fn the_rule_generator_finds_its_markers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let generator = read("examples/new_rule.rs");
    for (file, marker) in [
        ("src/registry.rs", "    // new rules above this line (examples/new_rule.rs inserts here)\n"),
        ("src/rules/mod.rs", "    // new set passes above this line (examples/new_rule.rs inserts here)\n"),
        ("tests/rule_messages.rs", "        other => panic!(\"no scenario for `{other}`: add one to tests/rule_messages.rs\"),\n"),
        ("docs/rules.md", "<!-- rules:start -->\n"),
    ] {
        assert!(read(file).contains(marker), "{file} lost the generator's marker {marker:?}");
        let escaped = marker.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        assert!(
            generator.contains(&escaped) || generator.contains(marker.trim_end()),
            "examples/new_rule.rs no longer writes at {marker:?}"
        );
    }
    assert!(read("src/rules/mod.rs").contains("\npub mod "));
}
