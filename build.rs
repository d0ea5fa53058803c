//! Tells the test targets which external tools this machine offers, so that a test needing a
//! missing one is reported by the test harness as ignored, with what it needs, instead of
//! passing after a silent skip. (`.ci/run` provides every tool and sets `MIGLINT_REQUIRE_TOOLS`,
//! so there nothing is ignored.) The binary itself is unaffected.

fn main() {
    for cfg in [
        "miglint_test_venv",
        "miglint_test_wheels",
        "miglint_test_postgres",
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for var in ["MIGLINT_TEST_VENV", "MIGLINT_TEST_WHEELS"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    if std::env::var_os("MIGLINT_TEST_VENV").is_some() {
        println!("cargo::rustc-cfg=miglint_test_venv");
    }
    if std::env::var_os("MIGLINT_TEST_WHEELS").is_some() {
        println!("cargo::rustc-cfg=miglint_test_wheels");
    }
    // PostgreSQL's server binaries as Debian installs them (the throw-away clusters of the psql
    // and schema oracles run initdb from there).
    let postgres = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|v| v.path().join("bin/initdb").is_file());
    println!("cargo::rerun-if-changed=/usr/lib/postgresql");
    if postgres {
        println!("cargo::rustc-cfg=miglint_test_postgres");
    }
}
