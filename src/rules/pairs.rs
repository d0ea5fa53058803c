//! `orphan-down`, `missing-down`: in a layout with reversible pairs (golang-migrate's
//! `{version}_{title}.up.sql` / `.down.sql`, sqlx's `.up.sql` / `.down.sql`), every version has
//! both halves.
//!
//! sqlx's `migrate run` skips down files, so a version with only a down file never runs
//! forward either; its simple `{version}_{description}.sql` expects no down file.
//!
//! golang-migrate reads a version with no `.up.` file as an empty migration: `migrate up`
//! records the version as applied and runs nothing (its `newMigration` falls back to a nil
//! body when `ReadUp` finds no file). The same fallback makes `migrate down` skip a version
//! with no `.down.` file silently. The first loses a schema change at deploy: an error. The
//! second only weakens rollbacks, and some teams never write downs: a warning, which
//! `[rules] missing-down = "off"` silences.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::naming;
use crate::registry::Rule;
use crate::rules::SetFacts;

pub fn pass(facts: &SetFacts) -> Vec<Finding> {
    let set = facts.set;
    let convention = naming::convention(set);
    let downs = facts.downs;
    let ups: BTreeMap<u64, &str> = facts
        .migrations
        .iter()
        .map(|m| (m.number, m.name.as_str()))
        .collect();
    let down_numbers: BTreeMap<u64, &str> =
        downs.iter().map(|m| (m.number, m.name.as_str())).collect();
    let mut findings = Vec::new();
    for m in downs {
        if ups.contains_key(&m.number) {
            continue;
        }
        findings.push(
            Finding::new(
                Rule::OrphanDown,
                format!(
                    "`{}` reverts version {} but no `.up.` file has that version",
                    m.name,
                    convention.number_text(m.number)
                ),
            )
            .file(m.path.clone())
            .help(format!(
                "{} would never run it forward: add its up file `{}`, or give this file the version of the migration it reverts",
                set.layout.as_str(),
                other_half(&m.name, ".down.", ".up.")
            )),
        );
    }
    // Only the up half of a pair expects a down file (sqlx's simple `1_a.sql` has none).
    for m in facts.migrations.iter().filter(|m| m.paired) {
        if down_numbers.contains_key(&m.number) {
            continue;
        }
        let down = other_half(&m.name, ".up.", ".down.");
        findings.push(
            Finding::new(
                Rule::MissingDown,
                format!("`{}` has no down file", m.name),
            )
            .file(m.path.clone())
            .help(format!(
                "a rollback would step past this version without reverting it: add `{down}`, or set `missing-down = \"off\"` under [rules] if this team does not write down migrations"
            )),
        );
    }
    findings
}

/// A pair's other file: the last `from` of `name` (the direction marker) turned into `to`, so
/// the version as written, the title and the extension stay (golang-migrate's `.up.psql` pairs
/// with `.down.psql`).
fn other_half(name: &str, from: &str, to: &str) -> String {
    match name.rfind(from) {
        Some(i) => format!("{}{to}{}", &name[..i], &name[i + from.len()..]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Layout;
    use crate::rules::fixture;

    const UP: &str = "CREATE TABLE a (id int);\n";
    const DOWN: &str = "DROP TABLE a;\n";

    #[test]
    fn an_up_without_down_and_a_down_without_up() {
        let f = fixture::set_in(
            Layout::GolangMigrate,
            &[
                ("000001_a.up.sql", UP),
                ("000001_a.down.sql", DOWN),
                ("000002_b.up.sql", UP),
                ("3_c.down.sql", DOWN),
            ],
        );
        let found = f.run(pass);
        let codes: Vec<(&str, &str)> = found
            .iter()
            .map(|x| (x.code(), x.file.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            codes,
            [
                ("orphan-down", "m/3_c.down.sql"),
                ("missing-down", "m/000002_b.up.sql")
            ]
        );
        assert!(found[0].help.as_deref().unwrap().contains("`3_c.up.sql`"));
    }

    #[test]
    fn pairs_match_by_version_whatever_the_width_or_title() {
        let f = fixture::set_in(
            Layout::GolangMigrate,
            &[("0001_a.up.sql", UP), ("1_revert_a.down.sql", DOWN)],
        );
        assert!(f.run(pass).is_empty());
    }

    #[test]
    fn sqlx_simple_migrations_expect_no_down() {
        let f = fixture::set_in(
            Layout::Sqlx,
            &[
                ("20250101000000_a.sql", UP),
                ("20250102000000_b.up.sql", UP),
                ("20250103000000_c.down.sql", DOWN),
            ],
        );
        let codes: Vec<&str> = f.run(pass).iter().map(|x| x.code()).collect();
        assert_eq!(codes, ["orphan-down", "missing-down"]);
    }

    #[test]
    fn plain_sets_have_no_pairs() {
        let f = fixture::set(&[("0000_a.sql", UP)]);
        assert!(f.run(pass).is_empty());
    }
}
