//! `undefined-relation`, `undefined-column`, `undefined-schema`, `duplicate-relation`,
//! `duplicate-column`, `duplicate-schema`: what would only fail at deploy, found by replaying
//! every migration of a set in order ([`crate::schema::Model`]).
//!
//! Files the database already ran (recorded as they are, below the baseline, or merged on the
//! base) are replayed too, but never reported: PostgreSQL accepted them, so where the model
//! disagrees it learns from them (a relation they use exists, whoever made it).

use std::collections::HashMap;

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::registry::Rule;
use crate::rules::naming::Migration;
use crate::schema::{Model, Problem};
use crate::sql::Analysis;

/// The schema replay as a set pass.
pub fn pass(facts: &super::SetFacts) -> Vec<Finding> {
    check(facts.set, facts.migrations, facts.analyses, facts.applied)
}

/// Replays `migrations` (sorted) with their analyses; `applied` says which files the database
/// already ran. A file without an analysis (unreadable, too large) makes the rest unknown.
pub fn check(
    set: &SetConfig,
    migrations: &[Migration],
    analyses: &HashMap<String, Analysis>,
    applied: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut model = Model::new(&set.external);
    let mut findings = Vec::new();
    for m in migrations {
        let Some(analysis) = analyses.get(&m.name).filter(|a| !a.skipped) else {
            model.replay_file(&m.name, None);
            continue;
        };
        model.begin_file();
        let learn = applied(&m.name);
        for change in &analysis.changes {
            for problem in model.apply(change, learn) {
                let near = match &problem {
                    Problem::UndefinedRelation { name } => model.near_relation(name),
                    _ => None,
                };
                findings.push(finding(m, problem, near));
            }
        }
    }
    findings
}

fn finding(m: &Migration, problem: Problem, near_relation: Option<String>) -> Finding {
    let declare = |name: &str| {
        format!("if it exists outside this set's migrations, declare it on the set in miglint.toml: external = [\"{name}\"]")
    };
    let did_you_mean = |near: &Option<String>| {
        near.as_ref()
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default()
    };
    let (rule, message, span, label, help) = match problem {
        Problem::UndefinedRelation { name } => (
            Rule::UndefinedRelation,
            format!("relation `{name}` does not exist at this point: no earlier migration creates it (PostgreSQL fails with 42P01)"),
            name.span.clone(),
            "no such relation",
            format!("{}create it in an earlier migration or fix the name; {}", did_you_mean(&near_relation), declare(&name.to_string())),
        ),
        Problem::UndefinedColumn { table, column, near } => (
            Rule::UndefinedColumn,
            format!("column `{}` of `{table}` does not exist at this point (PostgreSQL fails with 42703)", column.name),
            column.span.clone(),
            "no such column",
            format!("{}add the column in an earlier migration or fix the name", did_you_mean(&near)),
        ),
        Problem::UndefinedSchema { name } => (
            Rule::UndefinedSchema,
            format!("schema `{}` does not exist at this point: no earlier migration creates it (PostgreSQL fails with 3F000)", name.name),
            name.span.clone(),
            "no such schema",
            format!("create it first (CREATE SCHEMA IF NOT EXISTS {}); {}", name.name, declare(&name.name)),
        ),
        Problem::DuplicateRelation { name, existing } => (
            Rule::DuplicateRelation,
            format!("`{name}` already exists at this point (a {} an earlier statement created; PostgreSQL fails with 42P07)", existing.as_str()),
            name.span.clone(),
            "already exists",
            "use another name, drop the earlier one first, or write IF NOT EXISTS if both are the same object".to_string(),
        ),
        Problem::DuplicateColumn { table, column } => (
            Rule::DuplicateColumn,
            format!("column `{}` of `{table}` already exists at this point (PostgreSQL fails with 42701)", column.name),
            column.span.clone(),
            "already exists",
            "remove this duplicate, or write ADD COLUMN IF NOT EXISTS if another branch adds the same column".to_string(),
        ),
        Problem::RequiredColumn { table, column } => (
            Rule::NotNullWithoutDefault,
            format!("column `{}` is added to `{table}` as NOT NULL without a default: an earlier migration created the table, and if it has rows PostgreSQL fails with 23502", column.name),
            column.span.clone(),
            "NOT NULL, no default",
            "add it with a DEFAULT (or as nullable, backfill it with UPDATE, then SET NOT NULL)".to_string(),
        ),
        Problem::DuplicateType { name } => (
            Rule::DuplicateType,
            format!("type `{name}` already exists at this point: an earlier migration creates it (PostgreSQL fails with 42710)"),
            name.span.clone(),
            "already exists",
            "use another name, or drop the earlier type first (CREATE TYPE has no IF NOT EXISTS)".to_string(),
        ),
        Problem::DuplicateEnumValue { type_name, value } => (
            Rule::DuplicateEnumValue,
            format!("enum `{type_name}` already has the label '{}' at this point (PostgreSQL fails with 42710)", value.name),
            value.span.clone(),
            "already a label",
            "remove this duplicate, or write ADD VALUE IF NOT EXISTS if another branch adds the same label".to_string(),
        ),
        Problem::DuplicateSchema { name } => (
            Rule::DuplicateSchema,
            format!("schema `{}` already exists at this point (PostgreSQL fails with 42P06)", name.name),
            name.span.clone(),
            "already exists",
            format!("write CREATE SCHEMA IF NOT EXISTS {}", name.name),
        ),
    };
    Finding::new(rule, message)
        .file(m.path.clone())
        .at(span, label)
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze;

    /// The codes the replay reports for files given as SQL, all pending.
    fn replay(files: &[&str]) -> Vec<(String, String)> {
        let set = SetConfig::with_dir("m".into());
        let dialect = crate::sql::dialect("postgres");
        let mut analyses = HashMap::new();
        let mut migrations = Vec::new();
        for (i, sql) in files.iter().enumerate() {
            let name = format!("{i:04}_x.sql");
            analyses.insert(name.clone(), analyze(sql, dialect.as_ref(), &[], true));
            migrations.push(Migration {
                name: name.clone(),
                path: format!("m/{name}"),
                number: i as u64,
                slug: "x".into(),
                digits: 4,
                paired: false,
            });
        }
        check(&set, &migrations, &analyses, &|_| false)
            .into_iter()
            .map(|f| (f.rule.code().to_string(), f.message))
            .collect()
    }

    fn codes(files: &[&str]) -> Vec<String> {
        replay(files).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn a_not_null_column_without_default_on_an_earlier_table_is_a_warning() {
        let early = "CREATE TABLE users (id int PRIMARY KEY);";
        assert_eq!(
            codes(&[early, "ALTER TABLE users ADD COLUMN plan text NOT NULL;"]),
            ["not-null-without-default"]
        );
        // A default, identity, generated or serial column fills the rows; a table created in
        // the same file is empty; a nullable column is fine.
        assert!(codes(&[
            early,
            "ALTER TABLE users ADD COLUMN a text NOT NULL DEFAULT 'x', ADD COLUMN b bigint GENERATED ALWAYS AS IDENTITY, ADD COLUMN c bigserial, ADD COLUMN d text, ADD COLUMN e int NOT NULL GENERATED ALWAYS AS (id * 2) STORED;",
            "CREATE TABLE fresh (id int); ALTER TABLE fresh ADD COLUMN x int NOT NULL;",
        ])
        .is_empty());
    }

    #[test]
    fn enum_labels_and_types_added_twice() {
        assert_eq!(
            codes(&[
                "CREATE SCHEMA app; CREATE TYPE app.status AS ENUM ('new', 'done');",
                "ALTER TYPE app.status ADD VALUE 'archived';",
                "ALTER TYPE app.status ADD VALUE 'archived';",
            ]),
            ["duplicate-enum-value"]
        );
        assert_eq!(
            codes(&[
                "CREATE TYPE mood AS ENUM ('ok');",
                "CREATE TYPE mood AS ENUM ('ok', 'sad');"
            ]),
            ["duplicate-type"]
        );
        assert_eq!(
            codes(&[
                "CREATE TYPE s AS ENUM ('a', 'b');",
                "ALTER TYPE s RENAME VALUE 'a' TO 'b';"
            ]),
            ["duplicate-enum-value"]
        );
        // Valid: IF NOT EXISTS, a rename freeing a label, a dropped and re-created type, a
        // renamed type, search_path, and a type the set never created.
        assert!(codes(&[
            "CREATE TYPE s AS ENUM ('a');",
            "ALTER TYPE s ADD VALUE IF NOT EXISTS 'a'; ALTER TYPE s RENAME VALUE 'a' TO 'z'; ALTER TYPE s ADD VALUE 'a';",
            "DROP TYPE s; CREATE TYPE s AS ENUM ('a');",
            "ALTER TYPE s RENAME TO t; CREATE TYPE s AS ENUM ('x');",
            "CREATE SCHEMA k; SET search_path TO k; CREATE TYPE s AS ENUM ('q');",
            "ALTER TYPE nowhere ADD VALUE 'x';",
        ])
        .is_empty());
        // Labels changed where the replay cannot see (dynamic SQL): nothing is reported after.
        assert!(codes(&[
            "CREATE TYPE s AS ENUM ('a');",
            "DO $$ BEGIN EXECUTE format('ALTER TYPE s RENAME VALUE %L TO %L', 'a', 'b'); END $$;",
            "ALTER TYPE s ADD VALUE 'a';",
        ])
        .is_empty());
    }

    #[test]
    fn a_clean_chain_has_no_finding() {
        assert!(codes(&[
            "CREATE SCHEMA auth; CREATE TABLE auth.users (id bigint PRIMARY KEY, mail text);",
            "SET search_path TO auth; ALTER TABLE users RENAME COLUMN mail TO email; CREATE INDEX users_email ON users (email);",
            "ALTER TABLE auth.users RENAME TO accounts; ALTER TABLE auth.accounts ADD COLUMN name text;",
            "CREATE TABLE orders (id bigint, account bigint REFERENCES auth.accounts (id));",
            "DROP INDEX auth.users_email; DROP TABLE orders; ALTER TABLE IF EXISTS nope ADD COLUMN x int;",
        ])
        .is_empty());
    }

    #[test]
    fn deploy_failures_are_found() {
        assert_eq!(
            codes(&[
                "CREATE TABLE users (id bigint);",
                "ALTER TABLE userz ADD COLUMN email text;"
            ]),
            ["undefined-relation"]
        );
        assert_eq!(
            codes(&[
                "CREATE TABLE users (id bigint);",
                "ALTER TABLE users ADD COLUMN id int;"
            ]),
            ["duplicate-column"]
        );
        assert_eq!(
            codes(&[
                "CREATE TABLE users (id bigint);",
                "CREATE TABLE users (id bigint);"
            ]),
            ["duplicate-relation"]
        );
        assert_eq!(
            codes(&[
                "CREATE TABLE users (id bigint);",
                "CREATE INDEX ON users (email);"
            ]),
            ["undefined-column"]
        );
        assert_eq!(
            codes(&["CREATE TABLE billing.x (id int);"]),
            ["undefined-schema"]
        );
        assert_eq!(
            codes(&["CREATE SCHEMA a;", "CREATE SCHEMA a;"]),
            ["duplicate-schema"]
        );
        // Search paths end with the file (each file is its own psql session).
        assert_eq!(
            codes(&[
                "CREATE SCHEMA a; SET search_path TO a; CREATE TABLE t (id int);",
                "ALTER TABLE t ADD COLUMN x int;"
            ]),
            ["undefined-relation"]
        );
        let near = replay(&["CREATE TABLE users (id bigint);", "DROP TABLE userz;"]);
        assert_eq!(near.len(), 1);
    }

    #[test]
    fn a_run_of_the_same_data_change_is_replayed_once() {
        let inserts: String = (0..1000)
            .map(|i| format!("INSERT INTO logs (a) VALUES ({i});\n"))
            .collect();
        assert_eq!(codes(&[&inserts]), ["undefined-relation"]);
        let mixed = "CREATE TABLE t (a int);\nINSERT INTO t (a) VALUES (1);\nINSERT INTO t (b) VALUES (1);\n";
        assert_eq!(codes(&[mixed]), ["undefined-column"]);
    }

    #[test]
    fn what_the_replay_cannot_see_is_never_reported() {
        // A DO block with DDL, a function call, an extension: names may exist.
        assert!(codes(&[
            "DO $$ BEGIN EXECUTE 'CREATE TABLE t (id int)'; END $$;",
            "ALTER TABLE t ADD COLUMN x int;"
        ])
        .is_empty());
        assert!(codes(&[
            "SELECT create_hypertable('m', 'ts');",
            "ALTER TABLE m ADD COLUMN x int;"
        ])
        .is_empty());
        assert!(codes(&[
            "CREATE EXTENSION postgis;",
            "ALTER TABLE spatial_ref_sys OWNER TO app;"
        ])
        .is_empty());
        // Names PostgreSQL generates.
        assert!(codes(&[
            "CREATE TABLE t (id serial PRIMARY KEY);",
            "ALTER INDEX t_pkey RENAME TO t_pk; DROP SEQUENCE t_id_seq CASCADE;"
        ])
        .is_empty());
        // Table functions and a query's own `WITH` names are not relations to require.
        assert!(codes(&[
            "CREATE VIEW nums AS SELECT g FROM generate_series(1, 3) AS g;",
            "CREATE VIEW w AS SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT * FROM x) AS s;",
        ])
        .is_empty());
        assert_eq!(
            codes(&["CREATE VIEW v AS SELECT * FROM nosuch JOIN generate_series(1, 2) g ON true;"]),
            ["undefined-relation"]
        );
        // Columns of a table made from a query are not known.
        assert!(codes(&[
            "CREATE TABLE t AS SELECT 1 AS a;",
            "ALTER TABLE t DROP COLUMN b;"
        ])
        .is_empty());
    }
}
