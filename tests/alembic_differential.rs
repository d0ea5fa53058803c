//! Differential test (issue 15): generated Alembic projects — revision files in every syntactic
//! form miglint claims to read, and alembic.ini files in configparser's forms — are read by
//! miglint and by real Alembic (`ScriptDirectory` via `alembic heads`, from the test venv); any
//! divergence fails. Deterministic (seeded), so a failure reproduces.

mod common;
use common::*;

/// xorshift64*: small, seeded, good enough to pick forms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A Python string literal for `s` in one of Python's forms.
fn literal(rng: &mut Rng, s: &str) -> String {
    match rng.below(7) {
        0 => format!("'{s}'"),
        1 => format!("\"{s}\""),
        2 => format!("'''{s}'''"),
        3 => format!("\"\"\"{s}\"\"\""),
        // Implicit concatenation of two halves.
        4 if s.len() > 1 => format!("'{}' \"{}\"", &s[..1], &s[1..]),
        // Every character as a \x escape.
        5 => format!(
            "'{}'",
            s.bytes().map(|b| format!("\\x{b:02x}")).collect::<String>()
        ),
        // Octal escapes.
        _ => format!(
            "\"{}\"",
            s.bytes().map(|b| format!("\\{b:o}")).collect::<String>()
        ),
    }
}

fn down_value(rng: &mut Rng, downs: &[String]) -> String {
    match downs {
        [] => "None".into(),
        [one] if rng.below(3) > 0 => literal(rng, one),
        many => {
            let items: Vec<String> = many.iter().map(|d| literal(rng, d)).collect();
            if rng.below(2) == 0 {
                format!("({},)", items.join(", "))
            } else {
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// A revision file assigning `id` and `downs` in a randomly chosen layout.
fn revision_file(rng: &mut Rng, id: &str, downs: &[String]) -> String {
    let rev = literal(rng, id);
    let down = down_value(rng, downs);
    let decoy = "\"\"\"Decoy docstring.\n\nrevision = 'nope'\ndown_revision = 'nope'\n\"\"\"\n# down_revision = 'nope'\n";
    let body = match rng.below(5) {
        0 => format!("revision = {rev}\ndown_revision = {down}\n"),
        1 => format!("revision: str = {rev}\ndown_revision: Union[str, Sequence[str], None] = {down}\nbranch_labels = None\ndepends_on = None\n"),
        2 => format!("revision = {rev}; down_revision = {down}\n"),
        3 => format!("revision, down_revision = {rev}, {down}\n"),
        _ => format!("x = 1; revision = {rev}\nif True:\n    pass\ndown_revision = \\\n    {down}\n"),
    };
    format!("{decoy}from typing import Sequence, Union\n{body}\ndef upgrade():\n    revision = 'local'\n")
}

/// An alembic.ini in one of configparser's forms, all naming `alembic/` next to the ini.
fn ini(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "[alembic]\nscript_location = alembic\n".into(),
        1 => "[alembic]\nScript_Location: %(here)s/alembic\n".into(),
        2 => "[DEFAULT]\nroot = %(here)s\n\n[alembic]\n; a comment\nscript_location = %(root)s/alembic\n".into(),
        _ => "[alembic]\nname = alembic\nscript_location = %(here)s/%(name)s\nfile_template = %%(rev)s_%%(slug)s\n".into(),
    }
}

#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic, pre-commit, PyYAML (.ci/run makes one)"
)]
fn generated_projects_read_like_alembic_reads_them() {
    let Some(alembic) = venv_tool("alembic") else {
        return;
    };
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut branched, mut merged) = (0, 0);
    for case in 0..24 {
        let d = Dir::new();
        d.write("alembic.ini", ini(&mut rng));
        d.write("alembic/env.py", "");
        d.write("migrations/0000_a.sql", "SELECT 1;\n");
        // A random DAG: each revision's parents are among the earlier ones (merges included).
        let n = 2 + rng.below(7);
        let ids: Vec<String> = (0..n).map(|i| format!("r{case}x{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            let downs: Vec<String> = match i {
                0 => Vec::new(),
                _ if rng.below(5) == 0 && i >= 2 => {
                    let a = rng.below(i);
                    let b = (a + 1 + rng.below(i - 1)) % i;
                    if a == b {
                        vec![ids[a].clone()]
                    } else {
                        vec![ids[a].clone(), ids[b].clone()]
                    }
                }
                _ => vec![ids[rng.below(i)].clone()],
            };
            merged += usize::from(downs.len() > 1);
            d.write(
                &format!("alembic/versions/{id}.py"),
                revision_file(&mut rng, id, &downs),
            );
        }
        let out = std::process::Command::new(&alembic)
            .arg("heads")
            .current_dir(d.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "case {case}: Alembic failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(String::from))
            .collect();
        theirs.sort();
        let ours = d.run(&["alembic", "heads"]);
        assert_eq!(ours.code, 0, "case {case}: {}", ours.stderr);
        let ours: Vec<String> = ours.stdout.lines().map(String::from).collect();
        assert_eq!(ours, theirs, "case {case}: miglint vs Alembic");
        branched += usize::from(theirs.len() > 1);
    }
    // The generator must exercise branches and merges, or the comparison proves little.
    assert!(
        branched > 3 && merged > 3,
        "{branched} branched, {merged} merges"
    );
}
