//! Hostile inputs end with a finding or exit 2, never a crash or a hang.

mod common;
use common::*;

#[test]
fn a_panic_is_exit_2_with_a_short_bug_report_message() {
    let d = Dir::new();
    valid_set(&d, "migrations", 1);
    let r = d.run_env(".", &["check"], &[("MIGLINT_FAULT", "panic")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("miglint::internal-error") && r.stderr.contains("please report it"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("stack backtrace"));
}

#[test]
#[ignore = "heavy: .ci/run runs it once (cargo test --test hostile -- --ignored)"]
fn a_100_mb_file() {
    let d = Dir::new();
    let line = "INSERT INTO events (id, payload) VALUES (1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');\n";
    d.write(
        "m/0000_huge.sql",
        line.repeat(100 * 1024 * 1024 / line.len()),
    );
    let r = d.run(&["check", "m", "--format", "json"]);
    assert_eq!(r.code, 1, "pending and unchecked: an error");
    assert_eq!(r.codes(), vec!["file-too-large"]);
    // Once the team accepts it unchecked, recording works: the checksum needs no parse.
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\n\n[rules]\nfile-too-large = \"warning\"\n",
    );
    let r = d.run(&["record", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Recorded, it is protected by its checksum: a warning without the [rules] entry too.
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.codes(), vec!["file-too-large"]);
}

#[test]
#[ignore = "heavy: .ci/run runs it once (cargo test --test hostile -- --ignored)"]
fn one_hundred_thousand_files_in_one_dir() {
    let d = Dir::new();
    std::fs::create_dir_all(d.join("m")).unwrap();
    for i in 0..100_000u32 {
        std::fs::write(d.join(&format!("m/{i:06}_s.sql")), "SELECT 1;\n").unwrap();
    }
    d.write("miglint.toml", "[[set]]\ndir = \"m\"\nwidth = 6\n");
    d.remove("m/050000_s.sql");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.codes(), vec!["number-gap"]);
    assert_eq!(r.json()["summary"]["files"], 99_999);
}

fn rev(id: &str, down: &str) -> String {
    format!("revision = '{id}'\ndown_revision = {down}\n")
}

#[test]
fn a_10000_long_revision_chain_and_a_cycle() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "UPDATE alembic_version SET version_num = 'r9999';\n",
    );
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"m\"\n[set.alembic]\nversions = \"versions\"\n",
    );
    d.write("versions/r0.py", rev("r0", "None"));
    for i in 1..10_000 {
        std::fs::write(
            d.join(&format!("versions/r{i}.py")),
            rev(&format!("r{i}"), &format!("'r{}'", i - 1)),
        )
        .unwrap();
    }
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(d.run(&["alembic", "heads"]).stdout, "r9999\n");
    // Close the chain into a cycle: r0 now comes after r9999.
    d.write("versions/r0.py", rev("r0", "'r9999'"));
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    assert!(
        r.codes().contains(&"alembic-cycle".to_string()),
        "{:?}",
        r.codes()
    );
}
