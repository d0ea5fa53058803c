//! A throw-away PostgreSQL cluster for the tests whose oracle is the real server: Debian's
//! packages, `initdb` as the `postgres` user, a Unix socket in a temp dir,
//! `listen_addresses=''`, every statement logged.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The schema replay's rules and the SQLSTATE the server raises where each predicts a failure
/// (the oracle tests compare them).
pub const SCHEMA_RULES: &[(&str, &str)] = &[
    ("undefined-relation", "42P01"),
    ("undefined-column", "42703"),
    ("undefined-schema", "3F000"),
    ("duplicate-relation", "42P07"),
    ("duplicate-column", "42701"),
    ("duplicate-schema", "42P06"),
    ("duplicate-type", "42710"),
    ("duplicate-enum-value", "42710"),
    ("foreign-key-not-unique", "42830"),
    ("foreign-key-not-unique", "55000"),
    ("dependent-objects", "2BP01"),
];

/// Whether a 2BP01 message is about a table, view or schema dropped while something depends on
/// it (what `dependent-objects` models), not a column or constraint.
pub fn drops_a_whole_object(message: &str) -> bool {
    ["table", "view", "materialized view", "schema"]
        .iter()
        .any(|k| message.contains(&format!("cannot drop {k} ")))
}

/// A statement's text as psql sends it, compared loosely: whitespace collapsed, comments before
/// its first token and a trailing `;` removed. (psql drops `--` lines before a statement but
/// sends `/* … */` blocks there with it; miglint's statement starts at its first token. The
/// server skips both alike.)
pub fn normal(s: &str) -> String {
    let mut s = s.trim();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if s.starts_with("/*") {
            s = after_block_comment(s).trim_start();
        } else {
            break;
        }
    }
    let s = s.trim_end().trim_end_matches(';').trim_end();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text after the `/* … */` comment `s` starts with (PostgreSQL's block comments nest).
fn after_block_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i + 1 < b.len() {
        match &b[i..i + 2] {
            b"/*" => {
                depth += 1;
                i += 2;
            }
            b"*/" => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return &s[i..];
                }
            }
            _ => i += 1,
        }
    }
    ""
}

/// How miglint reads one psql script: its findings and analysis, and the statements it
/// believes psql sends (the neutralised text of each, normalised; `\if` branches that do not
/// run and what follows a `\q` left out).
pub struct Reading {
    pub findings: Vec<miglint::finding::Finding>,
    pub analysis: miglint::sql::Analysis,
    pub flow: Option<miglint::sql::psql::Neutralized>,
    pub statements: Vec<String>,
}

impl Reading {
    pub fn of(script: &str) -> Reading {
        let set = miglint::config::SetConfig::with_dir("m".into());
        let file = miglint::snapshot::MigrationFile::new(
            "0000_s.sql".into(),
            "m/0000_s.sql".into(),
            std::sync::Arc::from(script.as_bytes()),
        );
        let dialect = miglint::sql::dialect("postgres");
        let (findings, analysis) =
            miglint::rules::sql::check_file(&set, dialect.as_ref(), &file, true, None);
        let analysis = analysis.expect("analysed");
        let flow = miglint::sql::psql::neutralize(script);
        // The statement as psql sends it: the neutralised text (a `\g` became the `;` ending it).
        let text = flow.as_ref().map_or(script, |f| f.text.as_str());
        let statements = analysis
            .statements
            .iter()
            .filter(|s| !Self::skipped(&flow, s.span.start))
            .map(|s| normal(&text[s.span.clone()]))
            .collect();
        Reading {
            findings,
            analysis,
            flow,
            statements,
        }
    }

    /// Whether byte `at` is in a part of the script psql does not run.
    pub fn not_run(&self, at: usize) -> bool {
        Self::skipped(&self.flow, at)
    }

    /// Never sent as a query to run: a false `\if` branch, after `\q`, discarded by `\r`, or
    /// described by `\gdesc` (the server parses it but logs no statement).
    fn skipped(flow: &Option<miglint::sql::psql::Neutralized>, at: usize) -> bool {
        flow.as_ref().is_some_and(|f| {
            f.not_run
                .iter()
                .chain(&f.described)
                .any(|r| r.contains(&at))
        })
    }
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
}

impl Cluster {
    pub fn start() -> Option<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()?;
        let dir = tempfile::tempdir().ok()?;
        let (uid, gid) = postgres_ids()?;
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).ok()?;
        let data = dir.path().join("data");
        let as_postgres = |args: &[&str]| {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
        };
        as_postgres(&[
            bin.join("initdb").to_str()?,
            "-D",
            data.to_str()?,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ])?;
        let opts = format!(
            "-c listen_addresses='' -k {} -c log_statement=all -c log_line_prefix='@@ ' -c fsync=off",
            dir.path().display()
        );
        as_postgres(&[
            bin.join("pg_ctl").to_str()?,
            "-D",
            data.to_str()?,
            "-l",
            dir.path().join("log").to_str()?,
            "-w",
            "-o",
            &opts,
            "start",
        ])?;
        Some(Cluster { dir, bin })
    }

    /// `psql -X -q -v ON_ERROR_STOP=1 [-1] -f script` in `cwd` against database `db`.
    pub fn psql(&self, cwd: &Path, db: &str, args: &[&str]) -> std::process::Output {
        Command::new("psql")
            .args(["-X", "-q", "-h"])
            .arg(self.dir.path())
            .args(["-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1"])
            .args(args)
            .current_dir(cwd)
            .env("PGOPTIONS", "-c client_min_messages=error")
            .output()
            .expect("run psql")
    }

    pub fn log_len(&self) -> usize {
        std::fs::metadata(self.dir.path().join("log")).map_or(0, |m| m.len() as usize)
    }

    /// The statements the server logged after byte `from` of its log (continuation lines of
    /// one record start with a tab).
    pub fn statements_since(&self, from: usize) -> Vec<String> {
        self.records_since(from, "LOG:  statement: ")
    }

    /// The statements that failed after byte `from` of the log (the `STATEMENT:` record the
    /// server writes after an error).
    pub fn failed_since(&self, from: usize) -> Vec<String> {
        self.records_since(from, "STATEMENT:  ")
    }

    /// The log records after byte `from` whose text starts with `kind`, without it.
    fn records_since(&self, from: usize, kind: &str) -> Vec<String> {
        let log = std::fs::read(self.dir.path().join("log")).unwrap();
        let text = String::from_utf8_lossy(&log[from.min(log.len())..]).into_owned();
        let mut out: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("@@ ") {
                out.extend(current.take());
                current = rest.strip_prefix(kind).map(str::to_string);
            } else if let (Some(c), Some(more)) = (current.as_mut(), line.strip_prefix('\t')) {
                c.push('\n');
                c.push_str(more);
            }
        }
        out.extend(current);
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn postgres_ids() -> Option<(u32, u32)> {
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, "postgres"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
    };
    Some((id("-u")?, id("-g")?))
}

pub fn cluster() -> Option<Cluster> {
    let c = Cluster::start();
    if c.is_none() {
        assert!(
            std::env::var_os("MIGLINT_REQUIRE_TOOLS").is_none(),
            "a throw-away PostgreSQL cluster must start here (root, Debian's postgresql packages)"
        );
        eprintln!("skipped: no PostgreSQL cluster could start (needs root and postgresql-15)");
    }
    c
}
