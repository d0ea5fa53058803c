//! `miglint schema` (issue 29): the model the offline replay builds, at the last migration or at
//! `--at NUMBER`, as text (pinned) and as one JSON document (docs/formats.md).

mod common;
use common::*;

fn set() -> Dir {
    let d = Dir::new();
    d.init_repo();
    d.write("migrations/0000_init.sql", "CREATE SCHEMA app;\nCREATE TABLE app.users (id int PRIMARY KEY, mail text);\nCREATE INDEX users_mail_idx ON app.users (mail);\n");
    d.write("migrations/0001_rename.sql", "ALTER TABLE app.users RENAME COLUMN mail TO email;\nCREATE VIEW app.active AS SELECT id FROM app.users;\nCREATE TABLE app.copy AS SELECT * FROM app.users;\nCREATE TYPE app.status AS ENUM ('new', 'done');\nALTER TYPE app.status ADD VALUE 'archived';\n");
    d.write(
        "migrations/0002_dynamic.sql",
        "DO $$ BEGIN EXECUTE 'CREATE TABLE app.x (a int)'; END $$;\nCREATE SEQUENCE app.counter;\n",
    );
    d.commit_all("set");
    d
}

#[test]
fn the_model_at_the_end_and_at_a_number() {
    let d = set();
    let end = d.run(&["schema"]);
    assert_eq!(end.code, 0, "{}", end.stderr);
    snapshot_settings(&d).bind(|| insta::assert_snapshot!("schema-command-human", end.stdout));
    let at = d.run(&["schema", "--at", "0", "--format", "json"]);
    assert_eq!(at.code, 0, "{}", at.stderr);
    let doc: serde_json::Value = serde_json::from_str(&at.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["at"], "0000_init.sql");
    assert_eq!(doc["unsure"], serde_json::Value::Null);
    let app = doc["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "app")
        .unwrap();
    let users = app["relations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "users")
        .unwrap();
    assert_eq!(users["kind"], "table");
    assert_eq!(users["columns"], serde_json::json!(["id", "mail"]));
    // After the DO block, the model says it is unsure instead of listing only what it saw.
    let end: serde_json::Value =
        serde_json::from_str(&d.run(&["schema", "--format", "json"]).stdout).unwrap();
    assert!(end["unsure"].as_str().is_some(), "{end}");
}

#[test]
fn a_number_the_set_does_not_have_is_an_error() {
    let d = set();
    let r = d.run(&["schema", "--at", "7"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("has no migration numbered 7"),
        "{}",
        r.stderr
    );
}
