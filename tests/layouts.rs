//! Issue 32: other tools' layouts, through the binary on real git repositories. golang-migrate
//! first: `{version}_{title}.up.sql` / `.down.sql`, read as golang-migrate's `source.Parse`
//! reads them (the version is the leading digits as a number, the direction the last
//! `.up.`/`.down.`, any extension), so what miglint calls one version is what the tool does.

mod common;
use common::*;

const CONFIG: &str = "[git]\nbase = \"origin/main\"\n[[set]]\ndir = \"db/migrations\"\nlayout = \"golang-migrate\"\n";

/// A real-shaped golang-migrate set (what `migrate create -ext sql -dir db/migrations -seq`
/// writes), committed as `origin/main`. Each down reverts its up, so replaying a down as if it
/// ran forward would drop what later ups use.
fn golang_repo() -> Dir {
    let d = Dir::new();
    d.init_repo();
    d.write("miglint.toml", CONFIG);
    for (name, sql) in [
        (
            "000001_create_users_table.up.sql",
            "CREATE TABLE IF NOT EXISTS users (\n    id bigserial PRIMARY KEY,\n    name text NOT NULL\n);\n",
        ),
        ("000001_create_users_table.down.sql", "DROP TABLE IF EXISTS users;\n"),
        (
            "000002_add_email_to_users.up.sql",
            "ALTER TABLE users ADD COLUMN email text;\nCREATE UNIQUE INDEX users_email_idx ON users (email);\n",
        ),
        (
            "000002_add_email_to_users.down.sql",
            "DROP INDEX users_email_idx;\nALTER TABLE users DROP COLUMN email;\n",
        ),
        (
            "000003_create_orders.up.sql",
            "BEGIN;\nCREATE TABLE orders (\n    id bigserial PRIMARY KEY,\n    user_id bigint NOT NULL REFERENCES users (id),\n    email text\n);\nCOMMIT;\n",
        ),
        ("000003_create_orders.down.sql", "DROP TABLE orders;\n"),
    ] {
        d.write(&format!("db/migrations/{name}"), sql);
    }
    d.commit_as_origin_main("golang-migrate set");
    d
}

fn check(d: &Dir) -> Run {
    d.run(&["check", "--format", "json"])
}

#[test]
fn a_valid_set_passes_and_downs_are_not_replayed() {
    let d = golang_repo();
    let r = check(&d);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stdout);
    // Version 4 uses what version 1 created and version 2 added: a replay that ran the downs
    // forward would find `users` dropped.
    d.write(
        "db/migrations/000004_backfill.up.sql",
        "UPDATE users SET email = lower(email);\n",
    );
    d.write("db/migrations/000004_backfill.down.sql", "SELECT 1;\n");
    let r = check(&d);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stdout);
    // …while a forward reference to what no up created is still found.
    d.write(
        "db/migrations/000005_typo.up.sql",
        "ALTER TABLE userz ADD COLUMN phone text;\n",
    );
    d.write(
        "db/migrations/000005_typo.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.codes(), ["undefined-relation"], "{}", r.stdout);
    assert_eq!(
        r.find("undefined-relation")["file"],
        "db/migrations/000005_typo.up.sql"
    );
}

/// golang-migrate parses the version as a number: `4_…` and `000004_…` are one version, and two
/// files of one version and direction make it refuse to start (`ErrDuplicateMigration`).
#[test]
fn duplicate_versions_across_widths_fail() {
    let d = golang_repo();
    d.write("db/migrations/000004_a.up.sql", "SELECT 1;\n");
    d.write("db/migrations/000004_a.down.sql", "SELECT 1;\n");
    d.write("db/migrations/4_b.up.sql", "SELECT 2;\n");
    d.write("db/migrations/4_b.down.sql", "SELECT 2;\n");
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let codes = r.codes();
    assert_eq!(
        codes,
        ["duplicate-number", "duplicate-number"],
        "{}",
        r.stdout
    );
    let diags = r.json()["diagnostics"].as_array().unwrap().clone();
    let of = |file: &str| {
        diags
            .iter()
            .find(|x| x["file"] == format!("db/migrations/{file}"))
            .cloned()
            .unwrap_or_else(|| panic!("no finding on {file}: {}", r.stdout))
    };
    let up = of("4_b.up.sql");
    assert!(of("4_b.down.sql")["message"]
        .as_str()
        .unwrap()
        .contains("000004_a.down.sql"));
    assert!(
        up["help"]
            .as_str()
            .unwrap()
            .contains("`000005_b.up.sql` (and its down file to version 000005)"),
        "{up}"
    );
}

#[test]
fn a_missing_pair_is_found_both_ways() {
    let d = golang_repo();
    d.write(
        "db/migrations/000004_add_phone.up.sql",
        "ALTER TABLE users ADD COLUMN phone text;\n",
    );
    d.write(
        "db/migrations/5_drop_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let diags = r.diags();
    assert!(diags
        .iter()
        .any(|x| x.0 == "orphan-down"
            && x.1.as_deref() == Some("db/migrations/5_drop_phone.down.sql")));
    assert!(diags.iter().any(|x| x.0 == "missing-down"
        && x.1.as_deref() == Some("db/migrations/000004_add_phone.up.sql")));
    // A team without downs turns the warning off (on the base: a change cannot relax the
    // policy that judges it); the orphan stays an error.
    d.write(
        "miglint.toml",
        format!("{CONFIG}[rules]\nmissing-down = \"off\"\n"),
    );
    d.git(&["add", "miglint.toml"]);
    d.git(&["commit", "-q", "-m", "no downs here"]);
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    let r = check(&d);
    assert_eq!(r.codes(), ["orphan-down"], "{}", r.stdout);
    d.remove("db/migrations/5_drop_phone.down.sql");
    let r = check(&d);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stdout);
}

/// Files golang-migrate skips without a word (`source.Parse` fails, the driver `continue`s)
/// are errors: they look like migrations and never run.
#[test]
fn a_file_golang_migrate_ignores_is_an_invalid_name() {
    let d = golang_repo();
    d.write(
        "db/migrations/000004_add_phone.sql",
        "ALTER TABLE users ADD COLUMN phone text;\n",
    );
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = r.find("invalid-name");
    assert!(f["message"].as_str().unwrap().contains("never runs"), "{f}");
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("`000004_add_phone.up.sql`"),
        "{f}"
    );
}

/// golang-migrate runs `{version}_{title}.up.{ext}` whatever the extension: such a file is
/// checked like a `.sql` one, and a psql meta-command in it (sent to the server as it is) is a
/// syntax error, not a directive.
#[test]
fn every_file_golang_migrate_runs_is_read_as_the_server_reads_it() {
    let d = golang_repo();
    d.write(
        "db/migrations/000004_seed.up.psql",
        "\\set ON_ERROR_STOP 1\nINSERT INTO users (name) VALUES ('a');\n",
    );
    d.write(
        "db/migrations/000004_seed.down.psql",
        "DELETE FROM users;\n",
    );
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = r.find("sql-parse-error");
    assert_eq!(f["file"], "db/migrations/000004_seed.up.psql");
    assert_eq!(f["line"], 1);
}

#[test]
fn bad_sql_in_a_down_file_fails() {
    let d = golang_repo();
    d.write(
        "db/migrations/000004_add_phone.up.sql",
        "ALTER TABLE users ADD COLUMN phone text;\n",
    );
    d.write(
        "db/migrations/000004_add_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone\nDROP INDEX users_email_idx;\n",
    );
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let diags = r.diags();
    assert!(
        diags.iter().any(
            |x| x.1.as_deref() == Some("db/migrations/000004_add_phone.down.sql")
                && x.0.starts_with("sql-")
        ),
        "{}",
        r.stdout
    );
}

/// An applied up file is protected by the ledger and by the base; a merged down file may be
/// fixed (it runs only on an explicit rollback, and golang-migrate checksums nothing).
#[test]
fn edits_of_applied_and_merged_files() {
    let d = golang_repo();
    // A down file is never applied, so never recorded.
    let r = d.run(&["record", "db/migrations/000001_create_users_table.down.sql"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("is a down file"), "{}", r.stderr);
    let r = d.run(&["record", "1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // golang-migrate keeps its own one-row record: no INSERT into a history table nobody made.
    assert_eq!(r.stdout, "", "{}", r.stderr);
    assert_eq!(
        d.read("db/migrations/applied.sha256"),
        format!(
            "{}  000001_create_users_table.up.sql\n",
            sha256(
                d.read("db/migrations/000001_create_users_table.up.sql")
                    .as_bytes()
            )
        )
    );
    d.commit_as_origin_main("record 1");
    d.git(&["checkout", "-q", "-b", "feature"]);
    d.write(
        "db/migrations/000001_create_users_table.up.sql",
        "CREATE TABLE IF NOT EXISTS users (\n    id bigserial PRIMARY KEY,\n    name text\n);\n",
    );
    d.write(
        "db/migrations/000002_add_email_to_users.down.sql",
        "DROP INDEX IF EXISTS users_email_idx;\nALTER TABLE users DROP COLUMN IF EXISTS email;\n",
    );
    d.commit_all("edit");
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let files: Vec<(String, String)> = r
        .diags()
        .into_iter()
        .filter(|x| x.0 != "no-base")
        .map(|x| (x.0, x.1.unwrap_or_default()))
        .collect();
    assert!(
        files.contains(&(
            "checksum-mismatch".into(),
            "db/migrations/000001_create_users_table.up.sql".into()
        )),
        "{files:?}"
    );
    assert!(
        files.iter().all(|(_, f)| !f.ends_with(".down.sql")),
        "{files:?}"
    );
}

/// Two branches that each add version 4 (up and down): one conflict, on the up file, with a
/// rename that moves both; `renumber` moves both.
#[test]
fn a_version_added_on_both_branches_conflicts_and_renumbers_as_a_pair() {
    let d = golang_repo();
    d.diverge(
        &[
            (
                "db/migrations/000004_add_phone.up.sql",
                "ALTER TABLE users ADD COLUMN phone text;\n",
            ),
            (
                "db/migrations/000004_add_phone.down.sql",
                "ALTER TABLE users DROP COLUMN phone;\n",
            ),
        ],
        &[
            (
                "db/migrations/000004_add_age.up.sql",
                "ALTER TABLE users ADD COLUMN age int;\n",
            ),
            (
                "db/migrations/000004_add_age.down.sql",
                "ALTER TABLE users DROP COLUMN age;\n",
            ),
        ],
    );
    d.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    let r = check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.codes(), ["number-conflict"], "{}", r.stdout);
    let f = r.find("number-conflict");
    assert_eq!(f["file"], "db/migrations/000004_add_phone.up.sql");
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("`000005_add_phone.up.sql` (and its down file to version 000005)"),
        "{f}"
    );
    let r = d.run(&["renumber"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(d.join("db/migrations/000005_add_phone.up.sql").is_file());
    assert!(d.join("db/migrations/000005_add_phone.down.sql").is_file());
    assert!(!d.join("db/migrations/000004_add_phone.down.sql").exists());
}

#[test]
fn new_writes_the_pair_and_init_detects_the_layout() {
    let d = golang_repo();
    let r = d.run(&["new", "add phone"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "db/migrations/000004_add_phone.up.sql",
            "db/migrations/000004_add_phone.down.sql"
        ]
    );
    // A fresh repository with the same files: `init` writes the layout, and the set it
    // configures checks clean (the new pair holds only comments: empty-migration warnings).
    let e = Dir::new();
    e.init_repo();
    for f in std::fs::read_dir(d.join("db/migrations"))
        .unwrap()
        .flatten()
    {
        let name = f.file_name().to_string_lossy().into_owned();
        e.write(
            &format!("db/migrations/{name}"),
            std::fs::read(f.path()).unwrap(),
        );
    }
    let r = e.run(&["init"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let config = e.read("miglint.toml");
    assert!(config.contains("layout = \"golang-migrate\""), "{config}");
    assert!(config.contains("width = 6"), "{config}");
    let r = e.run(&["check", "--format", "json"]);
    assert!(
        r.codes().iter().all(|c| c == "empty-migration"),
        "{}",
        r.stdout
    );
}

/// A layout this version does not read is refused by name (exit 2), never checked as plain.
#[test]
fn an_unsupported_layout_stops_the_run() {
    let d = golang_repo();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"db/migrations\"\nlayout = \"flyway\"\n",
    );
    let r = d.run(&["check"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("layout `flyway` is not supported"),
        "{}",
        r.stderr
    );
}

// ---- sqlx -------------------------------------------------------------------------------

const SQLX_CONFIG: &str =
    "[[set]]\ndir = \"migrations\"\nlayout = \"sqlx\"\nnumbering = \"timestamp\"\n";

/// A repository holding exactly what sqlx-cli 0.9 applied to a throw-away PostgreSQL 15
/// (`tests/fixtures/sqlx-0.9`: a simple migration, a reversible pair whose up file has CRLF line
/// endings) and the `_sqlx_migrations` table it wrote, exported with
/// `psql --csv -c 'SELECT * FROM _sqlx_migrations ORDER BY version'`.
fn sqlx_repo() -> Dir {
    let d = Dir::new();
    d.init_repo();
    d.write("miglint.toml", SQLX_CONFIG);
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sqlx-0.9");
    for f in std::fs::read_dir(fixture.join("migrations"))
        .unwrap()
        .flatten()
    {
        let name = f.file_name().to_string_lossy().into_owned();
        d.write(
            &format!("migrations/{name}"),
            std::fs::read(f.path()).unwrap(),
        );
    }
    d.write(
        "_sqlx_migrations.csv",
        std::fs::read(fixture.join("_sqlx_migrations.csv")).unwrap(),
    );
    d.commit_all("sqlx set");
    d
}

fn sqlx_check(d: &Dir) -> Run {
    d.run(&[
        "check",
        "--history-export",
        "_sqlx_migrations.csv",
        "--format",
        "json",
    ])
}

/// sqlx hashes every byte (SHA-384): the real export accepts the files as applied, and a final
/// newline or a CRLF→LF conversion is predicted as sqlx's own refusal, with both checksums.
#[test]
fn sqlx_checksums_of_a_real_export_are_predicted() {
    let d = sqlx_repo();
    let r = sqlx_check(&d);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stdout);

    let users = d.read("migrations/20250101000000_users.sql");
    d.write("migrations/20250101000000_users.sql", format!("{users}\n"));
    let up = d.read("migrations/20250102000000_email.up.sql");
    assert!(up.contains("\r\n"), "the fixture keeps sqlx's CRLF bytes");
    d.write(
        "migrations/20250102000000_email.up.sql",
        up.replace("\r\n", "\n"),
    );
    let r = sqlx_check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let msgs: Vec<String> = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["code"] == "history-mismatch")
        .map(|x| x["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs.len(), 2, "{}", r.stdout);
    assert!(msgs[0].contains("migration 20250101000000") && msgs[0].contains("has been modified"));
    assert!(msgs[1].contains("migration 20250102000000"));
    let f = r.find("history-mismatch");
    assert_eq!(f["file"], "_sqlx_migrations.csv");
    assert_eq!(f["line"], 2);
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("c72d83fd3fa44d3458d479ba249777d97527fde4ccd1e1483878051ba8ee6f15fcf7964f412c5d17e122e4397248e42a"),
        "{f}"
    );
}

/// A `migration_history` export is not sqlx's table: reconciling it by file name against a sqlx
/// set would judge nothing, so the run says it did not.
#[test]
fn an_export_of_another_table_is_not_read_as_sqlx() {
    let d = sqlx_repo();
    d.write(
        "_sqlx_migrations.csv",
        "filename,checksum\n20250101000000_users.sql,ab\n",
    );
    let r = sqlx_check(&d);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.find("history-mismatch")["message"]
        .as_str()
        .unwrap()
        .contains("is not the history table of this `sqlx` set"));
}

#[test]
fn sqlx_names_pairs_and_new_files() {
    let d = sqlx_repo();
    // A simple migration needs no down file; a reversible one does.
    d.write(
        "migrations/20250103000000_phone.up.sql",
        "ALTER TABLE users ADD COLUMN phone text;\n",
    );
    // sqlx skips a name whose extension is not `.sql` exactly, and stops every run on a version
    // it cannot parse.
    d.write("migrations/20250104000000_age.SQL", "SELECT 1;\n");
    d.write("migrations/V5_x.sql", "SELECT 1;\n");
    // Versions are numbers: the same one twice is a conflict in sqlx's table.
    d.write("migrations/20250101000000_again.sql", "SELECT 1;\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let diags = r.diags();
    let on = |code: &str, file: &str| {
        diags
            .iter()
            .any(|x| x.0 == code && x.1.as_deref() == Some(&format!("migrations/{file}")[..]))
    };
    assert!(
        on("missing-down", "20250103000000_phone.up.sql"),
        "{}",
        r.stdout
    );
    assert!(!diags
        .iter()
        .any(|x| x.0 == "missing-down"
            && x.1.as_deref() == Some("migrations/20250101000000_users.sql")));
    assert!(on("invalid-name", "20250104000000_age.SQL"), "{}", r.stdout);
    assert!(on("invalid-name", "V5_x.sql"), "{}", r.stdout);
    assert!(
        on("duplicate-number", "20250101000000_users.sql")
            || on("duplicate-number", "20250101000000_again.sql"),
        "{}",
        r.stdout
    );
    let v5 = r.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["file"] == "migrations/V5_x.sql")
        .cloned()
        .unwrap();
    assert!(
        v5["message"].as_str().unwrap().contains("stops every"),
        "{v5}"
    );

    // `new` follows the newest migration's form, as `sqlx migrate add` does: a pair now.
    for f in [
        "20250104000000_age.SQL",
        "V5_x.sql",
        "20250101000000_again.sql",
    ] {
        d.remove(&format!("migrations/{f}"));
    }
    let r = d.run(&["new", "add age"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[0].ends_with("_add_age.up.sql") && lines[1].ends_with("_add_age.down.sql"));
}

/// The oracle: sqlx-cli itself, when `MIGLINT_SQLX` names its binary (not in CI: building
/// sqlx-cli takes longer than the whole CI budget; run by hand, see docs/layouts.md). Each
/// edit is applied with `sqlx migrate run` against a throw-away PostgreSQL, and miglint's
/// prediction from the exported table must match sqlx's verdict.
#[test]
fn sqlx_itself_agrees_with_the_prediction() {
    let Some(sqlx) = std::env::var_os("MIGLINT_SQLX") else {
        eprintln!("skipped: set MIGLINT_SQLX to a sqlx-cli binary to compare with sqlx itself");
        return;
    };
    let Some(pg) = pg::cluster() else { return };
    type Edit = fn(&str) -> String;
    let edits: [(&str, Edit); 4] = [
        ("unchanged", |t| t.to_string()),
        ("final newline", |t| format!("{t}\n")),
        ("comment", |t| format!("-- reviewed\n{t}")),
        ("crlf", |t| t.replace('\n', "\r\n")),
    ];
    let mut checked = Vec::new();
    for (i, (what, edit)) in edits.iter().enumerate() {
        let d = sqlx_repo();
        let db = format!("s{i}");
        let out = pg.psql(
            d.path(),
            "postgres",
            &["-c", &format!("CREATE DATABASE {db}")],
        );
        assert!(out.status.success());
        let url = format!(
            "postgres://postgres@localhost/{db}?host={}",
            pg.dir.path().display()
        );
        let sqlx_run = || {
            std::process::Command::new(&sqlx)
                .args(["migrate", "run", "--source", "migrations"])
                .env("DATABASE_URL", &url)
                .current_dir(d.path())
                .output()
                .unwrap()
        };
        assert!(sqlx_run().status.success(), "{what}: first run");
        let csv = pg.psql(
            d.path(),
            &db,
            &[
                "--csv",
                "-c",
                "SELECT * FROM _sqlx_migrations ORDER BY version",
            ],
        );
        d.write("_sqlx_migrations.csv", &csv.stdout);
        let path = "migrations/20250101000000_users.sql";
        let text = d.read(path);
        d.write(path, edit(&text));
        let predicted_refusal = sqlx_check(&d)
            .codes()
            .contains(&"history-mismatch".to_string());
        let second = sqlx_run();
        let refused = !second.status.success();
        assert_eq!(
            predicted_refusal,
            refused,
            "{what}: miglint predicted refusal {predicted_refusal}, sqlx: {}",
            String::from_utf8_lossy(&second.stderr)
        );
        if refused {
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&second.stdout),
                String::from_utf8_lossy(&second.stderr)
            );
            assert!(
                said.contains("previously applied but has been modified"),
                "{what}: {said}"
            );
        }
        checked.push((*what, refused));
    }
    eprintln!("sqlx refused (as predicted): {checked:?}");
    assert_eq!(
        checked.iter().filter(|c| c.1).count(),
        3,
        "every edit but none changes sqlx's checksum"
    );
}

/// `init` in a Rust project that depends on sqlx configures the sqlx layout, and the set it
/// writes checks the real fixture clean.
#[test]
fn init_detects_a_sqlx_project() {
    let d = sqlx_repo();
    d.remove("miglint.toml");
    d.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    let r = d.run(&["init"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let config = d.read("miglint.toml");
    assert!(config.contains("layout = \"sqlx\""), "{config}");
    assert!(config.contains("numbering = \"timestamp\""), "{config}");
    assert!(!config.contains("history_table"), "{config}");
    let r = sqlx_check(&d);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

// ---- dbmate and goose: both directions in one file --------------------------------------

/// A real-shaped dbmate set (`dbmate new` names, `-- migrate:up` / `-- migrate:down`), or a
/// goose one (`goose create -s`: `00001_name.sql`, `-- +goose Up` / `Down`), committed.
fn sectioned_repo(layout: &str, files: &[(&str, &str)]) -> Dir {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "miglint.toml",
        format!("[[set]]\ndir = \"db/migrations\"\nlayout = \"{layout}\"\n"),
    );
    for (name, sql) in files {
        d.write(&format!("db/migrations/{name}"), sql);
    }
    d.commit_all(layout);
    d
}

const DBMATE: [(&str, &str); 2] = [
    (
        "20250101120000_create_users.sql",
        "-- migrate:up\nCREATE TABLE users (\n  id bigserial PRIMARY KEY,\n  name text NOT NULL\n);\n\n-- migrate:down\nDROP TABLE users;\n",
    ),
    (
        "20250102120000_add_email.sql",
        "-- migrate:up transaction:false\nALTER TABLE users ADD COLUMN email text;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n\n-- migrate:down\nDROP INDEX users_email;\nALTER TABLE users DROP COLUMN email;\n",
    ),
];

const GOOSE: [(&str, &str); 2] = [
    (
        "00001_create_users.sql",
        "-- +goose Up\nCREATE TABLE users (\n  id bigserial PRIMARY KEY,\n  name text NOT NULL\n);\n\n-- +goose Down\nDROP TABLE users;\n",
    ),
    (
        "00002_touch.sql",
        "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.name := lower(NEW.name);\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd\nALTER TABLE users ADD COLUMN email text;\n\n-- +goose Down\nALTER TABLE users DROP COLUMN email;\nDROP FUNCTION touch();\n",
    ),
];

/// The down sections drop what the up sections create: replayed forward, a later migration
/// would find `users` gone. Only the up sections are replayed; both are SQL-checked.
#[test]
fn dbmate_and_goose_sets_replay_only_their_up_sections() {
    for (layout, files, next) in [
        ("dbmate", &DBMATE, "20250103120000_backfill.sql"),
        ("goose", &GOOSE, "00003_backfill.sql"),
    ] {
        let d = sectioned_repo(layout, files);
        let r = d.run(&["check", "--format", "json"]);
        assert_eq!(r.code, 0, "{layout}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.codes(), Vec::<String>::new(), "{layout}: {}", r.stdout);
        let (up, down) = if layout == "dbmate" {
            ("-- migrate:up", "-- migrate:down")
        } else {
            ("-- +goose Up", "-- +goose Down")
        };
        d.write(
            &format!("db/migrations/{next}"),
            format!("{up}\nUPDATE users SET email = lower(email);\nALTER TABLE userz ADD COLUMN x int;\n\n{down}\nALTER TABLE users DROP COLUMN x\nSELECT 1;\n"),
        );
        let r = d.run(&["check", "--format", "json"]);
        assert_eq!(r.code, 1, "{layout}: {}", r.stdout);
        let diags = r.diags();
        let at = |code: &str| {
            diags
                .iter()
                .find(|x| x.0 == code)
                .map(|x| x.2)
                .unwrap_or_else(|| panic!("{layout}: no {code} in {}", r.stdout))
        };
        // The typo in the up section is found at its line; the missing `;` in the down section
        // is a syntax error at its line.
        assert_eq!(at("undefined-relation"), Some(3), "{layout}");
        assert!(
            diags
                .iter()
                .any(|x| x.0.starts_with("sql-") && x.2 >= Some(6)),
            "{layout}: {}",
            r.stdout
        );
    }
}

#[test]
fn markers_the_tool_refuses_are_errors() {
    let cases: [(&str, &str, &str); 5] = [
        ("dbmate", "CREATE TABLE a (id int);\n-- migrate:up\nSELECT 1;\n-- migrate:down\n", "preceding"),
        ("dbmate", "-- migrate:up\nCREATE TABLE a (id int);\n", "down block"),
        ("goose", "CREATE TABLE a (id int);\n", "start with"),
        ("goose", "-- +goose Up\nCREATE TABLE a (id int)\n-- +goose Down\nDROP TABLE a;\n", "semicolon"),
        // The function body is cut at `RETURN 1;`: goose sends half a statement.
        ("goose", "-- +goose Up\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n", "cut short"),
    ];
    for (layout, text, says) in cases {
        let name = if layout == "dbmate" {
            "20250101120000_a.sql"
        } else {
            "00001_a.sql"
        };
        let d = sectioned_repo(layout, &[(name, text)]);
        let r = d.run(&["check", "--format", "json"]);
        assert_eq!(r.code, 1, "{layout} {text:?}: {}", r.stdout);
        let f = r.find("invalid-annotation");
        assert!(
            f["message"].as_str().unwrap().contains(says),
            "{layout} {text:?}: {f}"
        );
    }
}

/// goose and dbmate read versions as numbers; goose refuses two files of one version across
/// widths, and a name it cannot read is an error, not a file that silently never runs.
#[test]
fn sectioned_names_and_versions() {
    let d = sectioned_repo("goose", &GOOSE);
    d.write("db/migrations/2_again.sql", "-- +goose Up\nSELECT 1;\n");
    d.write("db/migrations/add_x.sql", "-- +goose Up\nSELECT 1;\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let diags = r.diags();
    assert!(
        diags.iter().any(|x| x.0 == "duplicate-number"),
        "{}",
        r.stdout
    );
    assert!(
        diags
            .iter()
            .any(|x| x.0 == "invalid-name" && x.1.as_deref() == Some("db/migrations/add_x.sql")),
        "{}",
        r.stdout
    );
    // `init` recognises both tools by their markers.
    for (layout, files) in [("dbmate", &DBMATE), ("goose", &GOOSE)] {
        let e = sectioned_repo(layout, files);
        e.remove("miglint.toml");
        let r = e.run(&["init"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            e.read("miglint.toml")
                .contains(&format!("layout = \"{layout}\"")),
            "{}",
            e.read("miglint.toml")
        );
        let r = e.run(&["check"]);
        assert_eq!(r.code, 0, "{layout}: {}{}", r.stdout, r.stderr);
    }
}

/// The oracle for `runs-in-transaction`: PostgreSQL 15 itself. Each statement runs inside
/// `BEGIN … COMMIT`; the server's refusal ("cannot run inside a transaction block") must be
/// exactly miglint's finding on a goose file that holds the statement (goose wraps it in a
/// transaction), and `-- +goose NO TRANSACTION` must clear it.
#[test]
fn statements_refused_in_a_transaction_are_the_servers() {
    let Some(pg) = pg::cluster() else { return };
    let d = Dir::new();
    d.write("setup.sql", "CREATE DATABASE app;\n");
    assert!(pg
        .psql(d.path(), "postgres", &["-f", "setup.sql"])
        .status
        .success());
    d.write(
        "schema.sql",
        "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\nCREATE MATERIALIZED VIEW v AS SELECT a FROM t;\nCREATE UNIQUE INDEX v_a ON v (a);\n",
    );
    assert!(pg
        .psql(d.path(), "app", &["-f", "schema.sql"])
        .status
        .success());
    let statements = [
        "CREATE INDEX CONCURRENTLY i2 ON t (a);",
        "create unique index concurrently if not exists i3 on t (a);",
        "DROP INDEX CONCURRENTLY IF EXISTS i_none;",
        "REINDEX TABLE CONCURRENTLY t;",
        "REINDEX (VERBOSE) INDEX CONCURRENTLY i;",
        "REINDEX DATABASE app;",
        "VACUUM t;",
        "VACUUM (ANALYZE) t;",
        "CREATE DATABASE other;",
        "DROP DATABASE IF EXISTS d_none;",
        "DROP TABLESPACE IF EXISTS ts_none;",
        "ALTER SYSTEM RESET work_mem;",
        "CREATE INDEX i4 ON t (a);",
        "ANALYZE t;",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY v;",
        "CLUSTER t USING i;",
        "DROP INDEX IF EXISTS i_none;",
    ];
    let mut refused_count = 0;
    for (n, stmt) in statements.iter().enumerate() {
        d.write("case.sql", format!("BEGIN;\n{stmt}\nCOMMIT;\n"));
        let out = pg.psql(d.path(), "app", &["-f", "case.sql"]);
        let server =
            String::from_utf8_lossy(&out.stderr).contains("cannot run inside a transaction block");
        let repo = sectioned_repo(
            "goose",
            &[(
                &format!("{:05}_case.sql", n + 1),
                &format!("-- +goose Up\n{stmt}\n"),
            )],
        );
        let r = repo.run(&["check", "--format", "json"]);
        let flagged = r.codes().contains(&"runs-in-transaction".to_string());
        assert_eq!(
            flagged, server,
            "{stmt}: miglint {flagged}, server {server}: {}",
            r.stdout
        );
        refused_count += usize::from(server);
        if flagged {
            repo.write(
                &format!("db/migrations/{:05}_case.sql", n + 1),
                format!("-- +goose NO TRANSACTION\n-- +goose Up\n{stmt}\n"),
            );
            let r = repo.run(&["check", "--format", "json"]);
            assert!(
                !r.codes().contains(&"runs-in-transaction".to_string()),
                "{stmt}: {}",
                r.stdout
            );
        }
    }
    assert_eq!(
        refused_count, 12,
        "the server refused the forms miglint names"
    );
}

/// dbmate reads `transaction:false` per block, sqlx reads `-- no-transaction` on the first line.
#[test]
fn each_tool_opts_out_its_own_way() {
    let stmt = "CREATE INDEX CONCURRENTLY users_name ON users (id);\n";
    let d = sectioned_repo("dbmate", &DBMATE);
    // DBMATE's second file already opts out (`-- migrate:up transaction:false`): clean.
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stdout);
    d.write(
        "db/migrations/20250103120000_idx.sql",
        format!("-- migrate:up\n{stmt}\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY IF EXISTS users_name;\n"),
    );
    let r = d.run(&["check", "--format", "json"]);
    // The default build cannot check `DROP INDEX CONCURRENTLY` (a warning); the down block opts
    // out, so only the up block's index is refused.
    let tx: Vec<_> = r
        .diags()
        .into_iter()
        .filter(|x| x.0 == "runs-in-transaction")
        .collect();
    assert_eq!(tx.len(), 1, "{}", r.stdout);
    assert_eq!(tx[0].2, Some(2));

    let s = sqlx_repo();
    s.write("migrations/20250103000000_idx.sql", stmt);
    let r = s.run(&["check", "--format", "json"]);
    assert_eq!(r.codes(), ["runs-in-transaction"], "{}", r.stdout);
    assert!(r.find("runs-in-transaction")["help"]
        .as_str()
        .unwrap()
        .contains("-- no-transaction"));
    s.write(
        "migrations/20250103000000_idx.sql",
        format!("-- no-transaction\n{stmt}"),
    );
    let r = s.run(&["check", "--format", "json"]);
    assert_eq!(r.codes(), Vec::<String>::new(), "{}", r.stdout);
}

/// dbmate and goose find their markers line by line: a marker line inside a `$$` body cuts the
/// up part there, whatever a SQL lexer says.
#[test]
fn a_marker_inside_a_statement_cuts_it() {
    for (layout, name, up, down) in [
        (
            "dbmate",
            "20250101120000_f.sql",
            "-- migrate:up",
            "-- migrate:down",
        ),
        (
            "goose",
            "00001_f.sql",
            "-- +goose Up\n-- +goose StatementBegin",
            "-- +goose Down",
        ),
    ] {
        let text = format!(
            "{up}\nCREATE FUNCTION doc() RETURNS text AS $$\nSELECT '\n{down}\n'::text;\n$$ LANGUAGE sql;\n"
        );
        let d = sectioned_repo(layout, &[(name, &text)]);
        let r = d.run(&["check", "--format", "json"]);
        assert_eq!(r.code, 1, "{layout}: {}", r.stdout);
        assert!(
            r.json()["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["code"] == "invalid-annotation"
                    && x["message"]
                        .as_str()
                        .unwrap()
                        .contains(if layout == "dbmate" {
                            "splits this statement"
                        } else {
                            "inside a `StatementBegin` block"
                        })),
            "{layout}: {}",
            r.stdout
        );
    }
}

/// `runs-in-transaction` in plain sets, against PostgreSQL 15: a statement refused in a
/// transaction block is flagged where the file itself opens one with `BEGIN` (psql run without
/// `-1`), and, with `single_transaction = true`, anywhere psql's `-1` transaction is still open
/// (an explicit `COMMIT` ends it). Each case must be flagged exactly when the server refuses it.
#[test]
fn plain_files_in_a_transaction_block_are_judged_as_the_server_runs_them() {
    let Some(pg) = pg::cluster() else { return };
    let d = Dir::new();
    d.write("setup.sql", "CREATE DATABASE plain_tx;\n");
    assert!(pg
        .psql(d.path(), "postgres", &["-f", "setup.sql"])
        .status
        .success());
    d.write("schema.sql", "CREATE TABLE t (a int);\n");
    assert!(pg
        .psql(d.path(), "plain_tx", &["-f", "schema.sql"])
        .status
        .success());
    let cases: &[(&str, bool)] = &[
        ("BEGIN;\nCREATE INDEX CONCURRENTLY c1 ON t (a);\nCOMMIT;\n", false),
        ("CREATE INDEX CONCURRENTLY c2 ON t (a);\n", false),
        ("CREATE INDEX CONCURRENTLY c3 ON t (a);\n", true),
        ("BEGIN;\nCREATE TABLE u4 (a int);\nCOMMIT;\nCREATE INDEX CONCURRENTLY c4 ON t (a);\n", true),
        ("\\if false\nBEGIN;\n\\endif\nCREATE INDEX CONCURRENTLY c5 ON t (a);\n", false),
        ("START TRANSACTION;\nVACUUM t;\nEND;\n", false),
        ("BEGIN;\nCREATE TABLE u7 (a int);\nROLLBACK;\nVACUUM t;\n", false),
        ("-- BEGIN;\nVACUUM t;\n", false),
        ("DO $$ BEGIN PERFORM 1; END $$;\nVACUUM t;\n", false),
        ("BEGIN;\nSELECT 1;\nCOMMIT;\nbegin work;\nDROP INDEX CONCURRENTLY IF EXISTS nope;\nCOMMIT;\n", false),
        ("SELECT 1;\nREINDEX TABLE CONCURRENTLY t;\n", true),
    ];
    let mut refused_count = 0;
    for (n, (text, single)) in cases.iter().enumerate() {
        d.write("case.sql", text);
        let args: &[&str] = if *single {
            &["-1", "-f", "case.sql"]
        } else {
            &["-f", "case.sql"]
        };
        let out = pg.psql(d.path(), "plain_tx", args);
        let server =
            String::from_utf8_lossy(&out.stderr).contains("cannot run inside a transaction block");
        let repo = Dir::new();
        repo.write(
            "miglint.toml",
            format!("[[set]]\ndir = \"migrations\"\nsingle_transaction = {single}\n"),
        );
        repo.write("migrations/0000_t.sql", "CREATE TABLE t (a int);\n");
        repo.write(&format!("migrations/{:04}_case.sql", n + 1), text);
        let r = repo.run(&["check", "--format", "json"]);
        let flagged = r.codes().contains(&"runs-in-transaction".to_string());
        assert_eq!(
            flagged, server,
            "case {n} {text:?} (-1: {single}): miglint {flagged}, server {server}: {}",
            r.stdout
        );
        refused_count += usize::from(server);
    }
    assert_eq!(refused_count, 5, "the cases exercise both outcomes");
}
