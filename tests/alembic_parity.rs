//! Issue 30: miglint's static reading of `upgrade()` against the SQL real Alembic emits for it.
//! Generated projects (linear chains of revisions built from the `op.*` forms miglint reads, with
//! `sa` types, constraints, `op.f` names and `schema=`, and some forms it must refuse) are run by
//! Alembic 1.20 in offline mode (`alembic upgrade base:head --sql`, no database); both SQL texts
//! are replayed through miglint's one schema model, revision by revision, and the relations,
//! table columns and each column's type family and nullability must be equal — or miglint must have marked the revision unverified (then the
//! rest of that project is not compared). Deterministic (seeded), so a failure reproduces.

mod common;
use common::*;

use std::collections::BTreeSet;

use miglint::alembic::graph::read_revision;
use miglint::schema::Model;

/// Picks one of `items`.
fn pick<'a>(rng: &mut Lcg, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

const TYPES: &[&str] = &[
    "sa.Integer()",
    "sa.BigInteger()",
    "sa.Text()",
    "sa.String(length=50)",
    "sa.Boolean()",
    "sa.Numeric(10, 2)",
    "sa.DateTime(timezone=True)",
    "postgresql.JSONB()",
    "sa.SmallInteger()",
    "sa.Float()",
    "sa.Date()",
    "sa.DateTime()",
    "sa.Time()",
    "sa.Interval()",
    "sa.Uuid()",
    "postgresql.UUID(as_uuid=True)",
    "sa.LargeBinary()",
    "sa.JSON()",
    "sa.ARRAY(sa.Integer())",
    "sa.Unicode(20)",
    "sa.CHAR(3)",
    "sa.Enum(\"a\", \"b\", name=\"ab\")",
];

/// What a generated project holds so far: tables (schema, name, columns) and indexes.
#[derive(Default)]
struct State {
    tables: Vec<(Option<&'static str>, String, Vec<String>)>,
    indexes: Vec<(Option<&'static str>, String, String)>,
    /// Unique constraints added by `op.create_unique_constraint`: (schema, name, table).
    uniques: Vec<(Option<&'static str>, String, String)>,
    counter: usize,
}

fn schema_kw(schema: Option<&str>) -> String {
    schema.map_or(String::new(), |s| format!(", schema=\"{s}\""))
}

fn column(rng: &mut Lcg, name: &str) -> String {
    let extra = pick(
        rng,
        &[
            "",
            ", nullable=False",
            ", server_default=sa.text(\"0\")",
            ", comment=\"a column\"",
            ", unique=True",
            ", index=True",
            ", index=True, unique=True",
        ],
    );
    let ty = pick(rng, TYPES);
    let extra = if extra.contains("server_default") && !ty.contains("Integer") {
        ""
    } else {
        extra
    };
    format!("sa.Column(\"{name}\", {ty}{extra})")
}

/// One `op.*` call valid for `state` (and the state after it), or an unreadable form.
fn op(rng: &mut Lcg, s: &mut State) -> String {
    s.counter += 1;
    let n = s.counter;
    let choice = match rng.below(14) {
        _ if s.tables.is_empty() => 0,
        // Unreadable forms: one draw in about 36.
        11 if rng.below(3) > 0 => 2,
        c => c,
    };
    let t = if s.tables.is_empty() {
        0
    } else {
        rng.below(s.tables.len())
    };
    match choice {
        0 | 1 => {
            let schema = [None, Some("app")][rng.below(2)];
            let name = format!("t{n}");
            let cols: Vec<String> = (0..1 + rng.below(3)).map(|i| format!("c{n}_{i}")).collect();
            let mut args: Vec<String> =
                vec![format!("sa.Column(\"id\", sa.Integer(), nullable=False)")];
            args.extend(cols.iter().map(|c| column(rng, c)));
            args.push("sa.PrimaryKeyConstraint(\"id\")".into());
            if rng.below(3) == 0 {
                args.push(format!(
                    "sa.UniqueConstraint(\"{}\", name=op.f(\"uq_{name}\"))",
                    cols[0]
                ));
            }
            let mut all = vec!["id".to_string()];
            all.extend(cols);
            s.tables.push((schema, name.clone(), all));
            format!(
                "op.create_table(\n        \"{name}\",\n        {}{}\n    )",
                args.join(",\n        "),
                schema_kw(schema)
            )
        }
        2 | 3 => {
            let (schema, table, cols) = &mut s.tables[t];
            let c = format!("a{n}");
            cols.push(c.clone());
            format!(
                "op.add_column(\"{table}\", {}{})",
                column(rng, &c),
                schema_kw(*schema)
            )
        }
        4 => {
            let (schema, table, cols) = &mut s.tables[t];
            if cols.len() < 3 {
                return "op.execute(\"SELECT 1\")".to_string();
            }
            let c = cols.remove(cols.len() - 1);
            s.indexes.retain(|(_, _, on)| on != &format!("{table}.{c}"));
            format!("op.drop_column(\"{table}\", \"{c}\"{})", schema_kw(*schema))
        }
        5 => {
            let (schema, table, cols) = &mut s.tables[t];
            let last = cols.len() - 1;
            let new = format!("r{n}");
            let old = std::mem::replace(&mut cols[last], new.clone());
            let table = table.clone();
            for (_, _, on) in &mut s.indexes {
                if *on == format!("{table}.{old}") {
                    *on = format!("{table}.{new}");
                }
            }
            format!("op.alter_column(\"{table}\", \"{old}\", new_column_name=\"{new}\", existing_type=sa.Text(){})", schema_kw(*schema))
        }
        6 => {
            let (schema, table, cols) = &s.tables[t];
            let c = cols[cols.len() - 1].clone();
            let change = match rng.below(3) {
                0 => "nullable=True".to_string(),
                1 => "nullable=False".to_string(),
                _ => format!("type_={}, existing_type=sa.Text()", pick(rng, &TYPES[..8])),
            };
            format!(
                "op.alter_column(\"{table}\", \"{c}\", {change}{})",
                schema_kw(*schema)
            )
        }
        7 => {
            let (schema, table, cols) = s.tables[t].clone();
            let c = &cols[cols.len() - 1];
            let name = format!("ix_{table}_{c}");
            s.indexes
                .push((schema, name.clone(), format!("{table}.{c}")));
            let unique = pick(rng, &["", ", unique=False", ", unique=True"]);
            format!(
                "op.create_index(op.f(\"{name}\"), \"{table}\", [\"{c}\"]{unique}{})",
                schema_kw(schema)
            )
        }
        8 if !s.indexes.is_empty() => {
            let (schema, name, on) = s.indexes.remove(rng.below(s.indexes.len()));
            let table = on.split('.').next().unwrap().to_string();
            format!(
                "op.drop_index(op.f(\"{name}\"), table_name=\"{table}\"{})",
                schema_kw(schema)
            )
        }
        9 => {
            let (schema, table, _) = s.tables.remove(t);
            s.indexes
                .retain(|(_, _, on)| !on.starts_with(&format!("{table}.")));
            format!("op.drop_table(\"{table}\"{})", schema_kw(schema))
        }
        10 => {
            let (schema, table, _) = &mut s.tables[t];
            let new = format!("n{n}");
            let old = std::mem::replace(table, new.clone());
            for (_, _, on) in &mut s.indexes {
                if let Some(rest) = on.strip_prefix(&format!("{old}.")) {
                    *on = format!("{new}.{rest}");
                }
            }
            format!(
                "op.rename_table(\"{old}\", \"{new}\"{})",
                schema_kw(*schema)
            )
        }
        12 => {
            let (schema, table, cols) = s.tables[t].clone();
            let c = &cols[cols.len() - 1];
            let name = format!("uq_{table}_{c}_{n}");
            s.uniques.push((schema, name.clone(), table.clone()));
            format!(
                "op.create_unique_constraint(op.f(\"{name}\"), \"{table}\", [\"{c}\"]{})",
                schema_kw(schema)
            )
        }
        13 if !s.uniques.is_empty() => {
            let (schema, name, table) = s.uniques.remove(rng.below(s.uniques.len()));
            // The table may have been renamed or dropped since: then it is not generated.
            if !s
                .tables
                .iter()
                .any(|(sc, t, _)| *sc == schema && *t == table)
            {
                return "op.execute(\"SELECT 1\")".to_string();
            }
            format!(
                "op.drop_constraint(op.f(\"{name}\"), \"{table}\", type_=\"unique\"{})",
                schema_kw(schema)
            )
        }
        13 => "op.execute(\"SELECT 1\")".to_string(),
        _ => {
            // Forms miglint must refuse (never guess): a loop, a batch block, bulk data.
            let (_, table, _) = &s.tables[t];
            let form = pick(rng, &[
                "for name in [\"x\"]:\n        op.execute(\"SELECT 1\")",
                "with op.batch_alter_table(\"TABLE\") as batch:\n        batch.add_column(sa.Column(\"z\", sa.Text()))",
                "op.bulk_insert(sa.table(\"TABLE\"), [])",
            ]);
            form.replace("TABLE", table)
        }
    }
}

fn revision(id: &str, down: Option<&str>, body: &[String]) -> String {
    let down = down.map_or("None".to_string(), |d| format!("'{d}'"));
    format!(
        "\"\"\"generated\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n\nrevision = '{id}'\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    {}\n\n\ndef downgrade() -> None:\n    pass\n",
        body.join("\n    ")
    )
}

/// Relations (schema, name, kind) and table columns, without Alembic's own version table and
/// without sequences: SQLAlchemy renders an integer primary key as `SERIAL`, whose sequence the
/// replay of Alembic's SQL follows, while the static reading of `op.*` calls does not derive
/// SQLAlchemy's autoincrement rules (`alembic-ddl-drift` compares tables only).
fn picture(model: &Model) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (schema, ns) in &model.schemas {
        for (name, rel) in &ns.relations {
            if name == "alembic_version" || rel.kind == miglint::sql::ddl::Kind::Sequence {
                continue;
            }
            out.insert(format!("{schema}.{name} {:?}", rel.kind));
            for c in rel.columns.iter().flatten() {
                out.insert(format!("{schema}.{name}.{c}"));
            }
            // Keys (primary or unique, columns sorted) and plain indexes (columns in order),
            // where the model knows them all.
            for k in rel.keys.iter().flatten() {
                let mut c = k.columns.clone();
                c.sort();
                out.insert(format!("{schema}.{name} key primary={} {c:?}", k.primary));
            }
            if rel.kind == miglint::sql::ddl::Kind::Table && rel.keys.is_none() {
                out.insert(format!("{schema}.{name} keys unknown"));
            }
            let mut plain: Vec<&Vec<String>> =
                rel.indexes.iter().flatten().map(|i| &i.columns).collect();
            plain.sort();
            for cols in plain {
                out.insert(format!("{schema}.{name} index {cols:?}"));
            }
            // Each column's type family and nullability (what `alembic-ddl-drift` compares).
            for sh in &rel.shapes {
                out.insert(format!(
                    "{schema}.{name}.{} {:?} not_null={}",
                    sh.column, sh.family, sh.not_null
                ));
            }
        }
    }
    out
}

fn replay(model: &mut Model, sql: &str) {
    let dialect = miglint::sql::dialect("postgres");
    let analysis = miglint::sql::analyze(sql, dialect.as_ref(), &[], true);
    assert!(
        analysis.statements.iter().all(|s| matches!(
            s.outcome,
            miglint::sql::Outcome::Parsed | miglint::sql::Outcome::AstSkipped
        )),
        "miglint could not parse SQL it compares:\n{sql}"
    );
    model.begin_file();
    for change in analysis.changes.get() {
        model.apply(change, true);
    }
}

#[test]
#[cfg_attr(
    not(miglint_test_venv),
    ignore = "needs MIGLINT_TEST_VENV: a venv with Alembic (.ci/run makes one)"
)]
fn upgrade_read_statically_builds_what_alembic_emits() {
    let Some(alembic) = venv_tool("alembic") else {
        return;
    };
    let mut rng = Lcg(0x0a1e_3b1c_9a71_7730);
    let (mut read, mut unverified, mut compared_ops) = (0, 0, 0);
    for project in 0..30 {
        let d = Dir::new();
        d.write("alembic.ini", "[alembic]\nscript_location = alembic\n");
        d.write("alembic/env.py", "from alembic import context\n\ncontext.configure(dialect_name=\"postgresql\", literal_binds=True)\nwith context.begin_transaction():\n    context.run_migrations()\n");
        let mut state = State::default();
        let mut revisions = Vec::new();
        for i in 0..12 {
            let id = format!("p{project}r{i:02}");
            let mut body = Vec::new();
            if i == 0 {
                body.push("op.execute(\"CREATE SCHEMA app\")".to_string());
            }
            for _ in 0..1 + rng.below(3) {
                body.push(op(&mut rng, &mut state));
            }
            let down = (i > 0).then(|| format!("p{project}r{:02}", i - 1));
            let text = revision(&id, down.as_deref(), &body);
            d.write(&format!("alembic/versions/{id}.py"), &text);
            revisions.push((id, text));
        }
        let out = std::process::Command::new(&alembic)
            .args(["upgrade", "base:head", "--sql"])
            .current_dir(d.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "project {project}: Alembic failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let emitted = String::from_utf8_lossy(&out.stdout).into_owned();
        // Alembic writes `-- Running upgrade <from> -> <id>` before each revision's SQL.
        let mut theirs_by_rev = std::collections::HashMap::new();
        for part in emitted.split("-- Running upgrade").skip(1) {
            let (head, sql) = part.split_once('\n').unwrap();
            let id = head.split("->").nth(1).unwrap().trim().to_string();
            theirs_by_rev.insert(id, sql.to_string());
        }
        let (mut ours, mut theirs) = (Model::new(&[]), Model::new(&[]));
        for (id, text) in &revisions {
            let rev = read_revision(&format!("alembic/versions/{id}.py"), text).unwrap();
            let ops = match rev.upgrade {
                Ok(Some(ops)) => ops,
                Ok(None) => panic!("{id}: upgrade() not found"),
                Err(_) => {
                    unverified += 1;
                    break;
                }
            };
            read += 1;
            compared_ops += ops.len();
            let sql: Vec<&str> = ops
                .iter()
                .map(|o| o.sql.trim().trim_end_matches(';'))
                .filter(|s| !s.is_empty())
                .collect();
            replay(&mut ours, &format!("{};\n", sql.join(";\n")));
            replay(&mut theirs, &theirs_by_rev[id]);
            assert!(
                ours.opaque.is_none() && theirs.opaque.is_none(),
                "{id}: a model went opaque"
            );
            assert_eq!(
                picture(&ours),
                picture(&theirs),
                "project {project}, revision {id}: miglint's reading and Alembic's SQL build different schemas\n--- revision\n{text}\n--- Alembic emitted\n{}",
                theirs_by_rev[id]
            );
        }
    }
    eprintln!("{read} revisions read ({compared_ops} op calls) and equal to Alembic's SQL; {unverified} unverified");
    // The generator must exercise both outcomes, or the comparison proves little.
    assert!(
        read >= 100 && unverified >= 5 && compared_ops >= 200,
        "{read} read ({compared_ops} calls), {unverified} unverified"
    );
}

/// The team's two revisions, mirroring its two SQL migrations (`roles` with `column`).
fn write_mirrors(d: &Dir, column: &str) {
    d.write(
        "auth/alembic/versions/20251101_000001_init.py",
        revision_file("20251101_000001", "None").replace(
            "    pass\n",
            "    op.execute(\"CREATE SCHEMA IF NOT EXISTS auth\")\n",
        ),
    );
    d.write(
        "auth/alembic/versions/20251105_000002_roles.py",
        revision_file("20251105_000002", "'20251101_000001'").replace(
            "    pass\n",
            &format!("    op.create_table(\n        \"roles\",\n        sa.Column(\"id\", sa.BigInteger(), nullable=False),\n        sa.Column(\"{column}\", sa.Text(), nullable=False),\n        sa.PrimaryKeyConstraint(\"id\"),\n        sa.UniqueConstraint(\"{column}\"),\n        schema=\"auth\",\n    )\n"),
        ),
    );
}

/// The team's layout (`auth/migrations` + `auth/alembic`), every revision declared a mirror:
/// mirrored revisions pass; a revision that names another column fails on the SQL's stamp, with
/// the revision's line beside it (JSON `related`).
#[test]
fn a_seed_shaped_project_passes_mirrored_and_fails_drifted() {
    let mirror = |column: &str| {
        let d = team_repo("20251105_000002");
        d.write(
            "miglint.toml",
            "[[set]]\ndir = \"auth/migrations\"\n\n[set.alembic]\nmirror = true\n",
        );
        write_mirrors(&d, column);
        d.init_repo();
        d.commit_all("team");
        d.run(&["check", "--format", "json"])
    };
    let mirrored = mirror("name");
    assert_eq!(mirrored.code, 0, "{}", mirrored.stdout);
    let drifted = mirror("title");
    assert_eq!(drifted.code, 1, "{}", drifted.stdout);
    let findings: Vec<_> = drifted
        .diags()
        .into_iter()
        .filter(|d| d.0 == "alembic-ddl-drift")
        .collect();
    assert_eq!(
        findings.len(),
        2,
        "name in the SQL, title in the revision: {}",
        drifted.stdout
    );
    let f = drifted.find("alembic-ddl-drift");
    assert_eq!(f["file"], "auth/migrations/0001_roles.sql");
    assert_eq!(f["line"], 2);
    let related = &f["related"][0];
    assert_eq!(
        related["file"],
        "auth/alembic/versions/20251105_000002_roles.py"
    );
    assert!(
        related["line"].as_u64().unwrap() > 20,
        "the op.create_table call: {related}"
    );
}

/// `miglint alembic ready` (issue 30): exit 1 listing each blocker — placeholder revisions that
/// mirror nothing, a drifted one, `MIGRATE_AT_START=true` — and 0 once every revision mirrors its
/// SQL and the switch is still off.
#[test]
fn alembic_ready_lists_the_blockers_and_passes_once_fixed() {
    let d = team_repo("20251105_000002");
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"auth/migrations\"\n\n[set.alembic]\ncompose = \"auth/auth.compose.yml\"\n",
    );
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"true\"\n",
    );
    d.init_repo();
    d.commit_all("team");
    // Placeholder revisions pass `check` (mirroring is optional) but block the switch back.
    let ready = d.run(&["alembic", "ready", "--format", "json"]);
    assert_eq!(ready.code, 1, "{}", ready.stdout);
    let codes = ready.codes();
    assert!(
        codes.contains(&"alembic-ddl-drift".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"alembic-upgrade-at-start".to_string()),
        "{codes:?}"
    );
    let human = d.run(&["alembic", "ready"]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("not ready to switch back to Alembic"),
        "{}",
        human.stdout
    );
    // Fixed: revisions that mirror the SQL, and the switch still off.
    d.write(
        "auth/auth.compose.yml",
        "services:\n  auth:\n    environment:\n      MIGRATE_AT_START: \"false\"\n",
    );
    write_mirrors(&d, "name");
    d.commit_all("mirror");
    let ready = d.run(&["alembic", "ready"]);
    assert_eq!(ready.code, 0, "{}{}", ready.stdout, ready.stderr);
    assert!(
        ready.stdout.contains(
            "ready: the Alembic revisions mirror the SQL migrations up to `20251105_000002`"
        ),
        "{}",
        ready.stdout
    );
}
