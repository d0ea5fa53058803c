//! `undefined-relation`, `undefined-column`, `undefined-schema`, `duplicate-relation`,
//! `duplicate-column`, `duplicate-schema`, `foreign-key-not-unique`, …: what would only fail at deploy, found by replaying
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
        for change in analysis.changes.get() {
            for problem in model.apply(change, learn) {
                let (near, declare_as) = match &problem {
                    Problem::UndefinedRelation { name } => {
                        (model.near_relation(name), model.qualified(name))
                    }
                    _ => (None, String::new()),
                };
                findings.push(finding(m, problem, near, &declare_as));
            }
        }
    }
    findings
}

/// `declare_as`: for a missing relation, its name as `external` takes it (schema-qualified: a
/// bare name there is a schema).
fn finding(
    m: &Migration,
    problem: Problem,
    near_relation: Option<String>,
    declare_as: &str,
) -> Finding {
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
            format!("{}create it in an earlier migration or fix the name; {}", did_you_mean(&near_relation), declare(declare_as)),
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
        Problem::DuplicateType { name } => duplicate_type(name),
        Problem::DuplicateEnumValue { type_name, value } => duplicate_label(type_name, value),
        Problem::ForeignKeyWithoutKey {
            reference,
            deferrable,
        } => foreign_key(reference, deferrable),
        Problem::DependentObjects { name, dependent } => dependent_objects(name, dependent),
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

/// What a finding says: its rule, message, span, label and help.
type Parts = (Rule, String, std::ops::Range<usize>, &'static str, String);

/// The finding parts for a drop that other objects still need.
fn dependent_objects(name: crate::sql::ddl::Name, dependent: String) -> Parts {
    (
        Rule::DependentObjects,
        format!("`{name}` cannot be dropped at this point: {dependent} depends on it (PostgreSQL fails with 2BP01)"),
        name.span.clone(),
        "still needed",
        format!("drop {dependent} first (or recreate it after), or write DROP … CASCADE if it may go too"),
    )
}

/// The finding parts for an enum type created twice.
fn duplicate_type(name: crate::sql::ddl::Name) -> Parts {
    (
        Rule::DuplicateType,
        format!("type `{name}` already exists at this point: an earlier migration creates it (PostgreSQL fails with 42710)"),
        name.span.clone(),
        "already exists",
        "use another name, or drop the earlier type first (CREATE TYPE has no IF NOT EXISTS)".to_string(),
    )
}

/// The finding parts for an enum label added twice.
fn duplicate_label(type_name: String, value: crate::sql::ddl::Column) -> Parts {
    (
        Rule::DuplicateEnumValue,
        format!("enum `{type_name}` already has the label '{}' at this point (PostgreSQL fails with 42710)", value.name),
        value.span.clone(),
        "already a label",
        "remove this duplicate, or write ADD VALUE IF NOT EXISTS if another branch adds the same label".to_string(),
    )
}

/// The finding parts for a foreign key to columns without a usable key.
fn foreign_key(r: crate::sql::ddl::Reference, deferrable: bool) -> Parts {
    let table = r.table.to_string();
    let columns: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    let span = match (r.columns.first(), r.columns.last()) {
        (Some(a), Some(b)) => a.span.start..b.span.end.max(a.span.start),
        _ => r.table.span.clone(),
    };
    let target = if columns.is_empty() {
        format!("`{table}`")
    } else {
        format!("`{table} ({})`", columns.join(", "))
    };
    let (message, label) = match (deferrable, columns.is_empty()) {
        (true, _) => (
            format!("the foreign key references {target}, whose only matching key is DEFERRABLE at this point: PostgreSQL refuses to use it (55000)"),
            "deferrable key",
        ),
        (false, true) => (
            format!("the foreign key references {target} without columns, which takes its primary key, and it has none at this point (PostgreSQL fails with 42830)"),
            "no primary key",
        ),
        (false, false) => (
            format!("the foreign key references {target}, which has no primary key or unique constraint on exactly these columns at this point (PostgreSQL fails with 42830)"),
            "no unique key on these columns",
        ),
    };
    let help = if columns.is_empty() {
        format!(
            "name the referenced columns, or give `{table}` a primary key in an earlier migration"
        )
    } else {
        format!(
            "add a non-deferrable key in an earlier migration (ALTER TABLE {table} ADD UNIQUE ({})), or reference a key it has",
            columns.join(", ")
        )
    };
    (Rule::ForeignKeyNotUnique, message, span, label, help)
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

    #[test]
    fn a_foreign_key_needs_a_unique_key_on_exactly_its_columns() {
        let users = "CREATE TABLE users (id bigint PRIMARY KEY, email text, org int, n int);";
        let fk = |cols: &str| {
            format!("CREATE TABLE r (a int, b int, FOREIGN KEY (a) REFERENCES users {cols});")
        };
        // The primary key, named or implied; a unique constraint in any column order.
        assert!(codes(&[users, &fk("(id)")]).is_empty());
        assert!(codes(&[users, &fk("")]).is_empty());
        let pair = "ALTER TABLE users ADD CONSTRAINT u UNIQUE (org, email);";
        let two =
            "CREATE TABLE r2 (e text, o int, FOREIGN KEY (e, o) REFERENCES users (email, org));";
        assert!(codes(&[users, pair, two]).is_empty());
        // Not a key: a plain column, a subset, a partial or expression index, a deferrable one.
        assert_eq!(codes(&[users, &fk("(n)")]), ["foreign-key-not-unique"]);
        let one = "CREATE TABLE r2 (e text REFERENCES users (email));";
        assert_eq!(codes(&[users, pair, one]), ["foreign-key-not-unique"]);
        let partial = "CREATE UNIQUE INDEX ON users (email) WHERE email IS NOT NULL;";
        assert_eq!(codes(&[users, partial, one]), ["foreign-key-not-unique"]);
        let lower = "CREATE UNIQUE INDEX ON users (lower(email));";
        assert_eq!(codes(&[users, lower, one]), ["foreign-key-not-unique"]);
        let deferred = "ALTER TABLE users ADD UNIQUE (email) DEFERRABLE INITIALLY DEFERRED;";
        let found = replay(&[users, deferred, one]);
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("DEFERRABLE"), "{found:?}");
        // A unique index, or a key added by the same ALTER, counts.
        let index = "CREATE UNIQUE INDEX users_email ON users (email);";
        assert!(codes(&[users, index, one]).is_empty());
        let same = "ALTER TABLE users ADD COLUMN code int UNIQUE, ADD FOREIGN KEY (n) REFERENCES users (code);";
        assert!(codes(&[users, same]).is_empty());
        // A bare REFERENCES to a table without a primary key.
        assert_eq!(
            codes(&[
                "CREATE TABLE k (id int UNIQUE);",
                "CREATE TABLE r (a int REFERENCES k);"
            ]),
            ["foreign-key-not-unique"]
        );
        // Self-references see the table's own keys.
        assert!(
            codes(&["CREATE TABLE tree (id int PRIMARY KEY, up int REFERENCES tree);"]).is_empty()
        );
    }

    #[test]
    fn keys_follow_drops_and_renames() {
        let users = "CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE);";
        let one = "CREATE TABLE r (e text REFERENCES users (email));";
        // Dropped by its generated name, by dropping its column, by DROP INDEX.
        let drop = "ALTER TABLE users DROP CONSTRAINT users_email_key;";
        assert_eq!(codes(&[users, drop, one]), ["foreign-key-not-unique"]);
        let column =
            "ALTER TABLE users DROP COLUMN email; ALTER TABLE users ADD COLUMN email text;";
        assert_eq!(codes(&[users, column, one]), ["foreign-key-not-unique"]);
        let index = "CREATE UNIQUE INDEX ue ON users (email);";
        let plain = "CREATE TABLE u2 (id int PRIMARY KEY, email text);";
        let one2 = "CREATE TABLE r (e text REFERENCES u2 (email));";
        let idx = "CREATE UNIQUE INDEX ue ON u2 (email);";
        assert_eq!(
            codes(&[plain, idx, "DROP INDEX ue;", one2]),
            ["foreign-key-not-unique"]
        );
        // Renamed column and constraint: the key follows.
        let renamed = "ALTER TABLE users RENAME COLUMN email TO mail; ALTER TABLE users RENAME CONSTRAINT users_email_key TO k;";
        let mail = "CREATE TABLE r (e text REFERENCES users (mail));";
        assert!(codes(&[users, renamed, mail]).is_empty());
        assert_eq!(
            codes(&[users, renamed, "ALTER TABLE users DROP CONSTRAINT k;", mail]),
            ["foreign-key-not-unique"]
        );
        // Another constraint's drop (a check) leaves the keys.
        assert!(codes(&[
            users,
            "ALTER TABLE users DROP CONSTRAINT users_email_check;",
            one,
            index
        ])
        .is_empty());
    }

    #[test]
    fn keys_the_replay_cannot_follow_are_never_reported() {
        let one = "CREATE TABLE r (e text REFERENCES users (email));";
        // Made by LIKE, a DO block, an unknown index drop while a key's name is not known.
        assert!(codes(&[
            "CREATE TABLE base (email text UNIQUE);",
            "CREATE TABLE users (LIKE base INCLUDING ALL);",
            one
        ])
        .is_empty());
        assert!(codes(&[
            "CREATE TABLE users (email text);",
            "DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD UNIQUE (email)'; END $$;",
            one
        ])
        .is_empty());
        let long = "x".repeat(60);
        assert!(codes(&[
            &format!("CREATE TABLE users (email text, {long} int UNIQUE);"),
            "DROP INDEX some_index_miglint_never_saw;",
            one
        ])
        .is_empty());
        // A key on an expression in ALTER TABLE is not read: the keys are unknown.
        assert!(codes(&[
            "CREATE TABLE users (email text);",
            "ALTER TABLE users ADD CONSTRAINT k PRIMARY KEY USING INDEX i;",
            one
        ])
        .is_empty());
    }

    #[test]
    fn indexes_and_views_go_with_their_table_even_after_a_rename() {
        // Found by the server oracle: the index stayed in the model after its table's drop.
        assert!(codes(&[
            "CREATE TABLE a (id int); CREATE INDEX i ON a (id); DROP TABLE a;",
            "CREATE TABLE b (id int); CREATE INDEX i ON b (id);"
        ])
        .is_empty());
        assert!(codes(&[
            "CREATE TABLE a (id int); CREATE INDEX i ON a (id); CREATE VIEW v AS SELECT * FROM a;",
            "ALTER TABLE a RENAME TO b; DROP TABLE b CASCADE;",
            "CREATE TABLE c (id int); CREATE INDEX i ON c (id); CREATE VIEW v AS SELECT 1 AS x;"
        ])
        .is_empty());
        // The index itself is still there while its table is.
        assert_eq!(
            codes(&[
                "CREATE TABLE a (id int); CREATE INDEX i ON a (id);",
                "ALTER TABLE a RENAME TO b; CREATE INDEX i ON b (id);"
            ]),
            ["duplicate-relation"]
        );
    }

    #[test]
    fn owners_and_grants_do_not_stop_the_replay() {
        assert_eq!(
            codes(&[
                "CREATE SCHEMA s AUTHORIZATION app; ALTER SCHEMA s OWNER TO other; GRANT USAGE ON SCHEMA s TO app;",
                "ALTER TABLE s.missing ADD COLUMN a int;"
            ]),
            ["undefined-relation"]
        );
        // A schema's rename is still not followed.
        assert!(codes(&[
            "CREATE SCHEMA s; ALTER SCHEMA s RENAME TO t;",
            "ALTER TABLE t.missing ADD COLUMN a int;"
        ])
        .is_empty());
    }

    #[test]
    fn an_index_goes_with_a_dropped_column() {
        // PostgreSQL drops the indexes on a dropped column, so the name is free again.
        assert!(codes(&[
            "CREATE TABLE t (a int, b int); CREATE INDEX i ON t (a); CREATE UNIQUE INDEX u ON t (a, b);",
            "ALTER TABLE t DROP COLUMN a;",
            "CREATE INDEX i ON t (b); CREATE INDEX u ON t (b);"
        ])
        .is_empty());
        // One on an expression may or may not have gone: never reported.
        assert!(codes(&[
            "CREATE TABLE t (a int, b int); CREATE INDEX e ON t ((a + 1));",
            "ALTER TABLE t DROP COLUMN a;",
            "CREATE INDEX e ON t (b);"
        ])
        .is_empty());
        // An index on another column stays.
        assert_eq!(
            codes(&[
                "CREATE TABLE t (a int, b int); CREATE INDEX i ON t (b);",
                "ALTER TABLE t DROP COLUMN a;",
                "CREATE INDEX i ON t (b);"
            ]),
            ["duplicate-relation"]
        );
    }
}
