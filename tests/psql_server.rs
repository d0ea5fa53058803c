//! Issue 27: what miglint believes a psql script does is what psql and the server do. A
//! throw-away PostgreSQL cluster (Debian's packages; `initdb` as the `postgres` user, a Unix
//! socket in a temp dir, `listen_addresses=''`, `log_statement = 'all'`) runs each generated
//! script with `psql -X -v ON_ERROR_STOP=1 -1 -f`, and the test compares, script by script:
//!
//! - the statements the server logged with miglint's statement list (text, in order);
//! - the files psql read and the programs it ran with miglint's `psql-include` findings;
//! - the Alembic version table after the run with what miglint's stamps leave in it; the script
//!   also runs without `-1` (autocommit, as by hand): a revision miglint believes is there must be
//!   there after both runs, and where no piece makes the two runs differ, the rows are equal.
//!
//! The server is the oracle: nothing here imitates it. The tests skip only when no cluster can
//! start (not root, no PostgreSQL), and fail instead when `MIGLINT_REQUIRE_TOOLS` is set (CI).

mod common;
use common::pg::{cluster, normal, Reading};
use common::Lcg;
use miglint::sql::stamps::StampKind;

/// What miglint makes of a script: the statements psql sends (text, in order), whether it
/// reads a file or runs a program, and the version table's rows after it (from `rows`).
struct Verdict {
    statements: Vec<String>,
    /// `\copy` commands that run (psql sends a `COPY … FROM STDIN` for each).
    copies: usize,
    external: bool,
    rows: Vec<String>,
}

fn miglint_verdict(script: &str, mut rows: Vec<String>) -> Verdict {
    let reading = Reading::of(script);
    for s in &reading.analysis.stamps {
        match &s.kind {
            StampKind::Update => rows.iter_mut().for_each(|r| *r = s.revision.clone()),
            StampKind::Replace(old) => rows
                .iter_mut()
                .filter(|r| *r == old)
                .for_each(|r| *r = s.revision.clone()),
            StampKind::Insert => rows.push(s.revision.clone()),
            StampKind::Delete(None) => rows.clear(),
            StampKind::Delete(Some(old)) => rows.retain(|r| r != old),
        }
    }
    rows.sort();
    // psql turns each `\copy … from stdin` that runs into `COPY … FROM STDIN` (its own
    // spelling): a meta-command, not one of the script's statements, but the server logs it.
    let copies = script
        .match_indices("\\copy ")
        .filter(|(at, _)| !reading.not_run(*at))
        .count();
    Verdict {
        copies,
        external: reading.findings.iter().any(|f| f.code() == "psql-include"),
        statements: reading.statements,
        rows,
    }
}

/// The pieces scripts are made of: psql syntax in every position (several meta-commands on a
/// line, `\\`, `\g`, quoted arguments, `\if` with constants, `\copy … from stdin` rows, `\q`),
/// includes and programs, and stamps of the version table `v`.
const PIECES: &[&str] = &[
    "SELECT 1;\n",
    "CREATE TABLE IF NOT EXISTS t (a int, b text);\n",
    "INSERT INTO t VALUES (1, 'x');\n",
    "SELECT\n  2 \\g\n",
    "SELECT 3 \\gx\n",
    "\\echo one \\echo two\n",
    "\\set x 1 \\\\ SELECT 4;\n",
    "\\echo 'quoted \\ir nothing' done\n",
    "\\qecho q \\set y 2\n",
    "\\if true\nSELECT 5;\n\\else\nSELECT 6;\n\\endif\n",
    "\\if false\nSELECT 7;\n\\elif on\nSELECT 8;\n\\endif\n",
    "\\if off\n\\ir inc.sql\nSELECT 9;\n\\endif\n",
    "\\copy t FROM stdin\n5\trow\n6\tSELEC\n\\.\n",
    "COPY t FROM stdin;\n7\tdata\n\\.\n",
    "\\ir inc.sql\n",
    "\\echo x \\ir inc.sql\n",
    "\\! true\n",
    "\\set z `true`\n",
    "SELECT 10 \\g |cat >/dev/null\n",
    "UPDATE v SET version_num = 'b1';\n",
    "UPDATE v SET version_num = 'c2' WHERE version_num = 'b1';\n",
    "\\if false\nUPDATE v SET version_num = 'zz';\n\\endif\n",
    "SELECT $é$ \\ir nothing $é$;\n",
    "BEGIN;\nUPDATE v SET version_num = 'r1';\nROLLBACK;\n",
    "BEGIN;\nSAVEPOINT s;\nUPDATE v SET version_num = 's1';\nROLLBACK TO SAVEPOINT s;\nCOMMIT;\n",
    "BEGIN;\nSAVEPOINT s;\nUPDATE v SET version_num = 's2';\nRELEASE SAVEPOINT s;\nCOMMIT;\n",
    "UPDATE v SET version_num = 'c3';\nDELETE FROM v;\nINSERT INTO v (version_num) VALUES ('c4');\n",
    "\\set q 1 \\\\ UPDATE v SET version_num = 'd4';\n",
    "SELECT 'a;b', \"weird;name\" FROM (SELECT 1 AS \"weird;name\") s;\n",
    "COPY v (version_num) FROM stdin;\ne5\n\\.\n",
    "DELETE FROM v;\nCOPY v (version_num) FROM stdin;  -- seed\ne6\ne7\n\\.\n",
    "\\copy v (version_num) FROM stdin\ng8\n\\.\n",
    // A reconnection: under `-1` psql drops the open transaction with the old connection.
    "UPDATE v SET version_num = 'k9';\n\\c -\n",
    // `\gdesc` describes the statement without running it.
    "UPDATE v SET version_num = 'gd' \\gdesc\n",
    // `\r` empties the query buffer: the statement typed so far is never sent.
    "UPDATE v SET version_num = 'rr' \\r\n;\n",
    "SELECT 11 \\reset\n",
    // The other meta-commands a migration may hold that send no query of psql's own: display
    // settings, output, help, the environment, variables from a query, includes, a query's
    // rows run as SQL.
    "\\pset format aligned\n\\timing on\n\\x\n\\a\n\\t\n\\H\n\\f '|'\n\\C title\n\\T border=1\n",
    "\\errverbose\n\\warn w\n\\copyright\n\\h SELECT\n\\?\n\\print\n\\unset x\n",
    "SELECT 12 \\p\n;\nSELECT 13 \\w /dev/null\n;\n",
    "\\o /dev/null\nSELECT 14;\n\\o\n\\cd .\n\\setenv MIGLINT_X 1\n\\getenv h HOME\n",
    "SELECT 15 AS n \\gset\n\\echo :n\n",
    "SELECT 1 AS a, 2 AS b, 3 AS c \\crosstabview\n",
    "SELECT 'SELECT 16 AS from_gexec' \\gexec\n",
    // Describe commands: psql sends catalog queries of its own (left out below).
    "\\dt\n\\d t\n\\dn\n\\df\n\\dx\n\\z\n\\l\n\\lo_list\n\\sf pg_catalog.now\n\\sv pg_catalog.pg_tables\n\\conninfo\n\\encoding UTF8\n",
    "\\i inc.sql\n",
    "\\include inc.sql \\include_relative inc.sql\n",
    // Transactions psql opens itself, and one left open when the script ends.
    "\\set AUTOCOMMIT off\nUPDATE v SET version_num = 'ac1';\n",
    "\\set AUTOCOMMIT off\nDELETE FROM v;\nCOMMIT;\n\\copy v (version_num) FROM stdin\nac2\n\\.\n",
    "\\set AUTOCOMMIT on\n",
    "BEGIN;\nUPDATE v SET version_num = 'open';\n",
    "COMMIT;\n",
    "ROLLBACK;\n",
];

/// A query psql sends for a describe command (`\d…`, `\l`, `\lo_list`, `\sf`, `\sv`, `\z`) or
/// `\encoding`: catalog reads and the client encoding, none in the script's text.
fn psql_own_query(s: &str) -> bool {
    s.contains("pg_catalog.") || s.starts_with("set client_encoding")
}

/// A fresh version table `v` holding `a0`, and an empty table `t`.
fn prepare(pg: &common::pg::Cluster, dir: &std::path::Path, db: &str) {
    let prep = pg.psql(
        dir,
        db,
        &[
            "-c",
            "DROP TABLE IF EXISTS v, t; CREATE TABLE v (version_num text); INSERT INTO v VALUES ('a0'); CREATE TABLE t (a int, b text);",
        ],
    );
    assert!(prep.status.success(), "{prep:?}");
}

/// The version table's rows, sorted.
fn version_rows(pg: &common::pg::Cluster, dir: &std::path::Path, db: &str) -> Vec<String> {
    let rows = pg.psql(
        dir,
        db,
        &["-At", "-c", "SELECT version_num FROM v ORDER BY 1"],
    );
    String::from_utf8_lossy(&rows.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A deterministic stream of piece indexes (no dependency on a random-number crate).
fn scripts() -> Vec<String> {
    let mut rng = Lcg(27);
    let mut out: Vec<String> = PIECES.iter().map(|p| p.to_string()).collect();
    while out.len() < 320 {
        let n = 2 + rng.below(5);
        let mut s: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        if rng.below(6) == 0 {
            s.push_str("\\q\nUPDATE v SET version_num = 'after_quit';\n");
        }
        out.push(s);
    }
    out
}

#[test]
#[cfg_attr(
    not(miglint_test_postgres),
    ignore = "needs PostgreSQL 15 (initdb under /usr/lib/postgresql; .ci/run installs it)"
)]
// Statements, includes and stamps come from the same psql reading in both builds (the exact
// grammar only judges validity): the two runs of every script cost CI 100 s, once is enough.
#[cfg_attr(
    feature = "postgres-exact",
    ignore = "build-independent; runs in the default build"
)]
fn psql_and_the_server_do_what_miglint_says_on_generated_scripts() {
    let Some(pg) = cluster() else { return };
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("inc.sql"), "SELECT 'included';\n").unwrap();
    let mut failures = Vec::new();
    for (i, script) in scripts().iter().enumerate() {
        // One database, reset before each script (a new database per script took 100 s).
        let db = "scripts";
        if i == 0 {
            let setup = pg.psql(work.path(), "postgres", &["-c", "CREATE DATABASE scripts"]);
            assert!(setup.status.success(), "{setup:?}");
        }
        prepare(&pg, work.path(), db);
        let path = work.path().join(format!("s{i}.sql"));
        std::fs::write(&path, script).unwrap();
        let from = pg.log_len();
        let run = pg.psql(work.path(), db, &["-1", "-f", path.to_str().unwrap()]);
        assert!(
            run.status.success(),
            "psql rejected generated script {i}:\n{script}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        // `-1` wraps the script in the BEGIN and COMMIT psql sends first and last.
        let mut logged: Vec<String> = pg
            .statements_since(from)
            .iter()
            .map(|s| normal(s))
            .collect();
        assert_eq!(
            logged.first().map(String::as_str),
            Some("BEGIN"),
            "{logged:?}"
        );
        logged.remove(0);
        if logged.last().map(String::as_str) == Some("COMMIT") {
            logged.pop();
        }
        let included = logged.iter().any(|s| s.contains("'included'"));
        // What an included file and a `\gexec` send is not the script's own text.
        let server_statements: Vec<String> = logged
            .into_iter()
            .filter(|s| !s.contains("'included'") && s != "SELECT 16 AS from_gexec")
            .filter(|s| !psql_own_query(s))
            .collect();
        let server_rows = version_rows(&pg, work.path(), db);
        // The same script run by hand, without `-1` (autocommit).
        prepare(&pg, work.path(), db);
        let auto = pg.psql(work.path(), db, &["-f", path.to_str().unwrap()]);
        assert!(auto.status.success(), "{auto:?}");
        let auto_rows = version_rows(&pg, work.path(), db);
        let program = script.contains("\\!") || script.contains('`') || script.contains("|cat");
        let ours = miglint_verdict(script, vec!["a0".into()]);
        let mut server_statements = server_statements;
        for _ in 0..ours.copies {
            match server_statements
                .iter()
                .position(|s| s.starts_with("COPY ") && s.ends_with(" FROM STDIN"))
            {
                Some(p) => {
                    server_statements.remove(p);
                }
                None => failures.push(format!("script {i}: a \\copy psql did not send:\n{script}")),
            }
        }
        // With `AUTOCOMMIT` off psql sends a `BEGIN` of its own before a statement outside a
        // transaction: not one of the script's statements.
        let mut ours = ours;
        if script.contains("AUTOCOMMIT off") {
            for list in [&mut server_statements, &mut ours.statements] {
                list.retain(|s| s != "BEGIN");
            }
        }
        let runs_outside = included || program;
        if ours.statements != server_statements {
            failures.push(format!(
                "script {i} statements:\n{script}\nserver: {server_statements:?}\nmiglint: {:?}",
                ours.statements
            ));
        }
        if ours.external != runs_outside {
            failures.push(format!(
                "script {i} psql-include: miglint {} but psql {}:\n{script}",
                ours.external, runs_outside
            ));
        }
        // A revision miglint believes is in the table must be there however the script runs. A
        // stamp that only one way keeps may wipe what it overwrites (miglint then believes less);
        // without one, miglint's rows are exactly the server's.
        let mode_dependent = ["\\c -", "AUTOCOMMIT", "'open'", "ROLLBACK;"]
            .iter()
            .any(|p| script.contains(p));
        let wrong = ours
            .rows
            .iter()
            .any(|r| !server_rows.contains(r) || !auto_rows.contains(r))
            || (!mode_dependent && (ours.rows != server_rows || server_rows != auto_rows));
        if wrong {
            failures.push(format!(
                "script {i} version table: server {server_rows:?} (-1), {auto_rows:?} (autocommit), miglint {:?}:\n{script}",
                ours.rows
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
}
