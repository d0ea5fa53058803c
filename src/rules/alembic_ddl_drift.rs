//! `alembic-ddl-drift` and `alembic-revision-unverified` (issue 30): the Alembic revisions
//! mirror the SQL. The team's procedure asks, for each SQL migration, for a revision with the same
//! DDL and a stamp of it; the day Alembic runs again (`MIGRATE_AT_START=true` on a fresh
//! database), it must build the schema production has. Both sides are replayed through the same
//! schema model (`crate::schema`): the SQL files in order, and each revision's `upgrade()` as the
//! reader turned it into SQL (`alembic::ops`). Where an SQL file stamps revision X, the two models
//! are compared (tables, their columns, and each column's type family and nullability where
//! both sides write them); a difference that
//! first appears at X is reported on the stamp, beside the revision.
//!
//! The team's procedure makes mirroring optional while the SQL is the source of truth: by
//! default only a revision whose `upgrade()` does something is judged; an empty one is a
//! placeholder that stands for what the SQL did (the chain goes on from the SQL's schema), so a
//! later revision is judged on what it does itself. `mirror = true` under `[set.alembic]` (and
//! `miglint alembic ready`) declares that every revision mirrors: a placeholder then drifts.
//!
//! Never a guess: a revision whose `upgrade()` is not read stops the comparison there (with
//! `mirror = true`, a warning naming the construct); so does anything either model cannot follow
//! (a `DO` block, an extension), a branched or merged revision graph, or a set whose SQL stamps
//! no revision.

use std::collections::{BTreeSet, HashMap};

use crate::alembic::graph::{Graph, Revision};
use crate::finding::{Finding, Related};
use crate::registry::{Rating, Rule};
use crate::rules::{AlembicFacts, SetFacts};
use crate::schema::{Model, Relation};
use crate::sql::ddl::Kind;
use crate::sql::stamps::StampKind;

/// Compares the SQL set's schema with the Alembic chain's at each revision an SQL file stamps.
pub fn pass(facts: &SetFacts) -> Vec<Finding> {
    let Some(AlembicFacts::Read(read)) = facts.alembic else {
        return Vec::new();
    };
    let Some(chain) = chain(&read.graph) else {
        return Vec::new();
    };
    let stamped = stamp_points(facts);
    if stamped.is_empty() {
        if !read.layout.mirror {
            return Vec::new();
        }
        return vec![Finding::new(Rule::AlembicRevisionUnverified, "no SQL migration stamps an Alembic revision, so no revision is compared with the SQL")
            .help("stamp each revision in the SQL migration it mirrors (UPDATE <version table> SET version_num = '<revision>';)")];
    }
    let skip = skipped(facts, &read.layout.version_table);
    let dialect = crate::sql::dialect(&facts.set.dialect);
    let mut sql = Model::new(&facts.set.external);
    let mut alembic = Model::new(&facts.set.external);
    let (mut replayed, mut known) = (0, BTreeSet::new());
    let mut placeholder = false;
    let mut findings = Vec::new();
    let mirror = read.layout.mirror;
    let last_point = chain
        .iter()
        .rposition(|r| stamped.contains_key(r.id.as_str()));
    for (i, rev) in chain.iter().enumerate() {
        if last_point.is_none_or(|last| i > last) {
            break;
        }
        let ops = match upgrade_of(rev, mirror) {
            Ok(ops) => ops,
            Err(unread) => {
                findings.extend(unread.map(|f| *f));
                break;
            }
        };
        placeholder |= ops.is_empty();
        replay_revision(&mut alembic, ops, dialect.as_ref());
        let Some((at, stamp)) = stamped.get(rev.id.as_str()) else {
            continue;
        };
        // Stamps that go back in the chain (an older revision stamped by a later file): the
        // pairing is not sure, so nothing more is compared.
        let Some(files) = facts.migrations.get(replayed..=*at) else {
            break;
        };
        let read_all = replay_sql(&mut sql, files, facts);
        replayed = at + 1;
        if !read_all || sql.opaque.is_some() || alembic.opaque.is_some() {
            break;
        }
        // An empty upgrade() is a placeholder unless every revision is declared to mirror: it
        // stands for what the SQL did, so the chain goes on from the SQL's schema and the next
        // revisions are judged on what they do themselves.
        if std::mem::take(&mut placeholder) && !mirror {
            alembic = sql.clone();
            known.clear();
            continue;
        }
        let now = differences(&sql, &alembic, &skip);
        let m = &facts.migrations[*at];
        for d in now.difference(&known) {
            findings.push(drift(d, (m, stamp.clone()), rev, (facts.applied)(&m.name)));
        }
        known = now;
    }
    findings
}

/// A revision's `upgrade()` as read, or why it stops the comparison (with `mirror`, a warning).
fn upgrade_of(
    rev: &Revision,
    mirror: bool,
) -> Result<&[crate::alembic::ops::OpSql], Option<Box<Finding>>> {
    match &rev.upgrade {
        Ok(Some(ops)) => Ok(ops),
        Ok(None) | Err(_) if !mirror => Err(None),
        Ok(None) => Err(Some(Box::new(unverified(
            rev,
            "it defines no upgrade()",
            rev.id_span.clone(),
        )))),
        Err(u) => Err(Some(Box::new(unverified(
            rev,
            &format!("its upgrade() has {}", u.construct),
            u.span.clone(),
        )))),
    }
}

/// Applies SQL migrations' effects, each file a session, to the SQL side's model. `false` when
/// a file was not read as SQL (unreadable, too large): what it did is unknown.
fn replay_sql(
    model: &mut Model,
    files: &[crate::rules::naming::Migration],
    facts: &SetFacts,
) -> bool {
    files
        .iter()
        .all(|m| model.replay_file(&m.name, facts.analyses.get(&m.name)))
}

/// Applies what a revision's `upgrade()` does, read as SQL, to the Alembic side's model.
fn replay_revision(
    model: &mut Model,
    ops: &[crate::alembic::ops::OpSql],
    dialect: &dyn sqlparser::dialect::Dialect,
) {
    let text: Vec<&str> = ops
        .iter()
        .map(|o| o.sql.trim().trim_end_matches(';'))
        .filter(|s| !s.is_empty())
        .collect();
    model.begin_file();
    let sql = format!("{};\n", text.join(";\n"));
    for change in crate::sql::analyze(&sql, dialect, &[], true).changes.get() {
        model.apply(change, true);
    }
}

/// The revisions from the root to the head, when the graph is one straight line.
fn chain(graph: &Graph) -> Option<Vec<&Revision>> {
    let mut children: HashMap<&str, Vec<&Revision>> = HashMap::new();
    let mut root = None;
    for r in &graph.revisions {
        match r.down.as_slice() {
            [] if root.is_none() => root = Some(r),
            [] => return None,
            [parent] => children.entry(parent.as_str()).or_default().push(r),
            _ => return None,
        }
    }
    let mut out = vec![root?];
    while let Some(next) = children.get(out[out.len() - 1].id.as_str()) {
        match next.as_slice() {
            [one] if out.len() <= graph.revisions.len() => out.push(one),
            _ => return None,
        }
    }
    (out.len() == graph.revisions.len()).then_some(out)
}

/// Per revision, the last SQL migration that stamps it (its index in `facts.migrations`) and the
/// stamp's span there.
fn stamp_points<'a>(facts: &'a SetFacts) -> HashMap<&'a str, (usize, std::ops::Range<usize>)> {
    let mut out = HashMap::new();
    for (i, m) in facts.migrations.iter().enumerate() {
        let Some(a) = facts.analyses.get(&m.name) else {
            continue;
        };
        if let Some(s) = a
            .stamps
            .iter()
            .rfind(|s| !matches!(s.kind, StampKind::Delete(_)))
        {
            out.insert(s.revision.as_str(), (i, s.span.clone()));
        }
    }
    out
}

/// Tables only one side has by design: Alembic's version table (Alembic makes it; the SQL
/// creates it so it can stamp) and the team's history table (`history_table`, or a
/// `migration_history` table in any schema, as `record` finds it).
fn skipped(facts: &SetFacts, version_table: &str) -> Vec<(Option<String>, String)> {
    let split = |t: &str| match t.rsplit_once('.') {
        Some((s, n)) => (Some(s.to_string()), n.to_string()),
        None => (Some("public".to_string()), t.to_string()),
    };
    let history = match facts.set.history_table.as_deref() {
        Some(h) => split(h),
        None => (None, "migration_history".to_string()),
    };
    vec![split(version_table), history]
}

/// A table or column one side has and the other lacks (`in_sql`: the SQL side has it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    Table {
        table: String,
        in_sql: bool,
    },
    Column {
        table: String,
        column: String,
        in_sql: bool,
    },
    /// The column is of another type family on each side.
    Type {
        table: String,
        column: String,
        sql: String,
        alembic: String,
    },
    /// The column is NOT NULL on one side only.
    Nullable {
        table: String,
        column: String,
        sql_not_null: bool,
    },
    /// A primary key or unique key (its columns, sorted) one side has.
    Key {
        table: String,
        columns: String,
        primary: bool,
        in_sql: bool,
    },
    /// A plain index (its columns, in order) one side has.
    Index {
        table: String,
        columns: String,
        in_sql: bool,
    },
}

fn tables(model: &Model) -> HashMap<(String, String), &Relation> {
    let mut out = HashMap::new();
    for (schema, ns) in &model.schemas {
        for (name, rel) in &ns.relations {
            if rel.kind == Kind::Table {
                out.insert((schema.clone(), name.clone()), rel);
            }
        }
    }
    out
}

/// The same table in another schema, when one of the two is `public`: an `op.*` call without
/// `schema=` lands where the connection's search path points (often the service's own schema),
/// which miglint cannot know, so such a pair is the same table, not a drift.
fn elsewhere<'m>(
    other: &HashMap<(String, String), &'m Relation>,
    schema: &str,
    name: &str,
) -> Option<&'m Relation> {
    let mut same_name = other
        .iter()
        .filter(|((s, n), _)| n == name && (s == "public" || schema == "public"));
    match (same_name.next(), same_name.next()) {
        (Some((_, r)), None) => Some(r),
        _ => None,
    }
}

fn differences(
    sql: &Model,
    alembic: &Model,
    skip: &[(Option<String>, String)],
) -> BTreeSet<Difference> {
    let skipped = |schema: &str, name: &str| {
        skip.iter()
            .any(|(s, n)| n == name && s.as_deref().is_none_or(|s| s == schema))
    };
    let open = |m: &Model, s: &str| m.schemas.get(s).is_some_and(|ns| ns.open);
    let (a, b) = (tables(sql), tables(alembic));
    let mut out = BTreeSet::new();
    for (side, other, in_sql) in [(&a, &b, true), (&b, &a, false)] {
        for ((schema, name), ours) in side {
            let key = (schema.clone(), name.clone());
            if skipped(schema, name) || open(sql, schema) || open(alembic, schema) {
                continue;
            }
            let table = format!("{schema}.{name}");
            match other
                .get(&key)
                .copied()
                .or_else(|| elsewhere(other, schema, name))
            {
                None => {
                    out.insert(Difference::Table { table, in_sql });
                }
                Some(theirs) => column_differences(&table, ours, theirs, in_sql, &mut out),
            }
        }
    }
    out
}

/// Columns one side's table has and the other's lacks; for the SQL side's pass, columns of
/// another type family or nullability (where both sides know them).
fn column_differences(
    table: &str,
    ours: &Relation,
    theirs: &Relation,
    in_sql: bool,
    out: &mut BTreeSet<Difference>,
) {
    let (Some(our_columns), Some(their_columns)) = (&ours.columns, &theirs.columns) else {
        return;
    };
    for c in our_columns.iter().filter(|c| !their_columns.contains(c)) {
        out.insert(Difference::Column {
            table: table.to_string(),
            column: c.clone(),
            in_sql,
        });
    }
    key_differences(table, ours, theirs, in_sql, out);
    if !in_sql {
        return;
    }
    for s in &ours.shapes {
        let Some(t) = theirs.shapes.iter().find(|t| t.column == s.column) else {
            continue;
        };
        let column = s.column.clone();
        if let (Some(sql), Some(alembic)) = (s.family, t.family) {
            if sql != alembic {
                out.insert(Difference::Type {
                    table: table.to_string(),
                    column: column.clone(),
                    sql: sql.to_string(),
                    alembic: alembic.to_string(),
                });
            }
        }
        if s.not_null != t.not_null {
            out.insert(Difference::Nullable {
                table: table.to_string(),
                column,
                sql_not_null: s.not_null,
            });
        }
    }
}

/// Keys (primary, unique: column sets) and plain indexes (column lists, names aside) one side's
/// table has and the other's lacks, where both sides know them all. One on a column the other
/// side lacks is left out: that column's own difference says it.
fn key_differences(
    table: &str,
    ours: &Relation,
    theirs: &Relation,
    in_sql: bool,
    out: &mut BTreeSet<Difference>,
) {
    let shared = |columns: &[String]| {
        columns.iter().all(|c| {
            [ours, theirs]
                .iter()
                .all(|r| r.columns.as_ref().is_some_and(|k| k.contains(c)))
        })
    };
    if let (Some(a), Some(b)) = (&ours.keys, &theirs.keys) {
        let set = |keys: &Vec<crate::sql::keys::Key>| -> BTreeSet<(bool, Vec<String>)> {
            keys.iter()
                .map(|k| {
                    let mut c = k.columns.clone();
                    c.sort();
                    (k.primary, c)
                })
                .collect()
        };
        for (primary, columns) in set(a).difference(&set(b)).filter(|(_, c)| shared(c)) {
            out.insert(Difference::Key {
                table: table.to_string(),
                columns: columns.join(", "),
                primary: *primary,
                in_sql,
            });
        }
    }
    if let (Some(a), Some(b)) = (&ours.indexes, &theirs.indexes) {
        let mut left: Vec<&Vec<String>> = b.iter().map(|i| &i.columns).collect();
        for i in a {
            match left.iter().position(|c| **c == i.columns) {
                Some(at) => {
                    left.remove(at);
                }
                None if shared(&i.columns) => {
                    out.insert(Difference::Index {
                        table: table.to_string(),
                        columns: i.columns.join(", "),
                        in_sql,
                    });
                }
                None => {}
            }
        }
    }
}

/// What a difference says, and the table it is about.
fn describe<'d>(d: &'d Difference, upto: &str, chain: &str) -> (String, &'d String) {
    match d {
        Difference::Table { table, in_sql } => (
            format!("table `{table}` {}", built(*in_sql, upto, chain)),
            table,
        ),
        Difference::Column {
            table,
            column,
            in_sql,
        } => (
            format!("column `{column}` of `{table}` {}", built(*in_sql, upto, chain)),
            table,
        ),
        Difference::Type {
            table,
            column,
            sql,
            alembic,
        } => (
            format!("column `{column}` of `{table}` is of type family {sql} in {upto} but {alembic} in {chain}"),
            table,
        ),
        Difference::Key {
            table,
            columns,
            primary,
            in_sql,
        } => (
            format!(
                "the {} ({columns}) of `{table}` {}",
                if *primary { "primary key" } else { "unique key" },
                built(*in_sql, upto, chain)
            ),
            table,
        ),
        Difference::Index {
            table,
            columns,
            in_sql,
        } => (
            format!(
                "an index on ({columns}) of `{table}` {}",
                built(*in_sql, upto, chain)
            ),
            table,
        ),
        Difference::Nullable {
            table,
            column,
            sql_not_null,
        } => {
            let (a, b) = if *sql_not_null { ("NOT NULL", "nullable") } else { ("nullable", "NOT NULL") };
            (format!("column `{column}` of `{table}` is {a} in {upto} but {b} in {chain}"), table)
        }
    }
}

fn drift(
    d: &Difference,
    (m, stamp): (&crate::rules::naming::Migration, std::ops::Range<usize>),
    rev: &Revision,
    applied: bool,
) -> Finding {
    let upto = format!("the SQL migrations up to `{}`", m.name);
    let chain = format!("the Alembic chain up to `{}`", rev.id);
    let (what, table) = describe(d, &upto, &chain);
    let op = match &rev.upgrade {
        Ok(Some(ops)) => ops
            .iter()
            .rfind(|o| mentions(&o.sql, table))
            .map(|o| o.span.clone()),
        _ => None,
    };
    let mut f = Finding::new(Rule::AlembicDdlDrift, format!("{what}: Alembic would build a different schema"))
        .file(m.path.clone())
        .at(stamp, format!("stamps `{}`", rev.id))
        .help(format!("make revision `{}`'s upgrade() do what the SQL does (one revision with identical DDL per SQL migration), or fix the SQL", rev.id));
    f.related.push(Related {
        rule: Rule::AlembicDdlDrift,
        message: format!("revision `{}`", rev.id),
        file: Some(rev.file.clone()),
        span: Some(op.unwrap_or_else(|| rev.id_span.clone())),
    });
    if applied {
        // Already on the base and in the database: the change under review did not cause it.
        f.rating = Some(Rating::Protected);
    }
    f
}

/// "is built by" the side that has it "but not by" the other (`in_sql`: the SQL side has it).
fn built(in_sql: bool, upto: &str, chain: &str) -> String {
    let (with, without) = if in_sql { (upto, chain) } else { (chain, upto) };
    format!("is built by {with} but not by {without}")
}

/// Whether an op's SQL names `schema.table` (quoted as the reader writes it).
fn mentions(sql: &str, table: &str) -> bool {
    let name = table.rsplit('.').next().unwrap_or(table);
    sql.contains(&format!("\"{name}\""))
}

fn unverified(rev: &Revision, why: &str, span: std::ops::Range<usize>) -> Finding {
    Finding::new(Rule::AlembicRevisionUnverified, format!("revision `{}` is not compared with the SQL from here on: {why}", rev.id))
        .file(rev.file.clone())
        .at(span, "not read")
        .help("write upgrade() as op.* calls with literal arguments (or op.execute of literal SQL) so miglint can check it mirrors the SQL")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fixture;

    const INIT: &str = "CREATE SCHEMA auth;\nCREATE TABLE auth.migration_history (filename text PRIMARY KEY, checksum text);\nCREATE TABLE auth.alembic_version_auth (version_num varchar(32) PRIMARY KEY);\nCREATE TABLE auth.users (id int PRIMARY KEY, name text);\nINSERT INTO auth.alembic_version_auth VALUES ('a1');\n";
    const A1: &str = "revision = 'a1'\ndown_revision = None\n\ndef upgrade():\n    op.execute('CREATE SCHEMA auth')\n    op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('name', sa.Text()), schema='auth')\n";

    fn c3(column: &str) -> String {
        format!("revision = 'c3'\ndown_revision = 'a1'\n\ndef upgrade():\n    op.add_column('users', sa.Column('{column}', sa.Text()), schema='auth')\n")
    }

    fn found(files: &[(&str, &str)], revisions: &[(&str, &str)]) -> Vec<Finding> {
        fixture::set(files)
            .alembic("auth.alembic_version_auth", revisions)
            .run(pass)
    }

    fn found_mirrored(files: &[(&str, &str)], revisions: &[(&str, &str)]) -> Vec<Finding> {
        fixture::set(files)
            .alembic("auth.alembic_version_auth", revisions)
            .mirrored()
            .run(pass)
    }

    #[test]
    fn an_empty_upgrade_is_a_placeholder_unless_every_revision_mirrors() {
        let empty = "revision = 'c3'\ndown_revision = 'a1'\n\ndef upgrade():\n    pass\n";
        let files = [("0000_init.sql", INIT), ("0001_email.sql", EMAIL)];
        let revisions = [("v/a1.py", A1), ("v/c3.py", empty)];
        assert!(found(&files, &revisions).is_empty());
        let f = found_mirrored(&files, &revisions);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message.starts_with("column `email` of `auth.users`"),
            "{f:?}"
        );
    }

    const EMAIL: &str = "ALTER TABLE auth.users ADD COLUMN email text;\nUPDATE auth.alembic_version_auth SET version_num = 'c3';\n";

    #[test]
    fn a_revision_that_adds_another_column_drifts() {
        let c3 = c3("mail");
        let f = found(
            &[("0000_init.sql", INIT), ("0001_email.sql", EMAIL)],
            &[("v/a1.py", A1), ("v/c3.py", &c3)],
        );
        let messages: Vec<&str> = f.iter().map(|x| x.message.as_str()).collect();
        assert_eq!(f.len(), 2, "{messages:?}");
        assert!(f.iter().all(|x| x.code() == "alembic-ddl-drift"));
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("column `email` of `auth.users` is built by the SQL")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("column `mail` of `auth.users` is built by the Alembic")),
            "{messages:?}"
        );
        assert_eq!(f[0].file.as_deref(), Some("m/0001_email.sql"));
        assert_eq!(f[0].related[0].file.as_deref(), Some("v/c3.py"));
    }

    #[test]
    fn a_column_of_another_type_family_or_nullability_drifts() {
        let rev = |column: &str| {
            format!("revision = 'c3'\ndown_revision = 'a1'\n\ndef upgrade():\n    op.add_column('users', {column}, schema='auth')\n")
        };
        let messages = |column: &str| -> Vec<String> {
            found(
                &[("0000_init.sql", INIT), ("0001_email.sql", EMAIL)],
                &[("v/a1.py", A1), ("v/c3.py", &rev(column))],
            )
            .into_iter()
            .map(|f| f.message)
            .collect()
        };
        // Same family (text, varchar(255)), same nullability: no drift.
        assert!(messages("sa.Column('email', sa.String(length=255))").is_empty());
        let typed = messages("sa.Column('email', sa.Integer())");
        assert_eq!(typed.len(), 1, "{typed:?}");
        assert!(typed[0].contains("type family text in the SQL migrations up to `0001_email.sql` but integer in the Alembic chain"), "{typed:?}");
        let required = messages("sa.Column('email', sa.Text(), nullable=False)");
        assert_eq!(required.len(), 1, "{required:?}");
        assert!(
            required[0].contains("is nullable in the SQL"),
            "{required:?}"
        );
        // A type miglint does not compare (an enum) is never a drift.
        assert!(messages("sa.Column('email', sa.Enum('a', name='e'))").is_empty());
    }

    #[test]
    fn a_key_or_index_one_side_lacks_drifts() {
        let sql = |extra: &str| {
            format!("ALTER TABLE auth.users ADD COLUMN email text;\n{extra}UPDATE auth.alembic_version_auth SET version_num = 'c3';\n")
        };
        let rev = |extra: &str| {
            format!("revision = 'c3'\ndown_revision = 'a1'\n\ndef upgrade():\n    op.add_column('users', sa.Column('email', sa.Text()), schema='auth')\n{extra}")
        };
        let messages = |sql: &str, rev: &str| -> Vec<String> {
            found(
                &[("0000_init.sql", INIT), ("0001_email.sql", sql)],
                &[("v/a1.py", A1), ("v/c3.py", rev)],
            )
            .into_iter()
            .map(|f| f.message)
            .collect()
        };
        // The same key or index under other names (or a unique index for a constraint): no drift.
        let unique = "    op.create_unique_constraint('uq_users_email', 'users', ['email'], schema='auth')\n";
        assert!(messages(
            &sql("ALTER TABLE auth.users ADD UNIQUE (email);\n"),
            &rev(unique)
        )
        .is_empty());
        assert!(messages(
            &sql("CREATE UNIQUE INDEX ON auth.users (email);\n"),
            &rev(unique)
        )
        .is_empty());
        let index = "    op.create_index('ix_users_email', 'users', ['email'], schema='auth')\n";
        assert!(messages(
            &sql("CREATE INDEX users_email ON auth.users (email);\n"),
            &rev(index)
        )
        .is_empty());
        // One side only.
        let m = messages(
            &sql("ALTER TABLE auth.users ADD UNIQUE (email);\n"),
            &rev(""),
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("the unique key (email) of `auth.users` is built by the SQL"),
            "{m:?}"
        );
        let m = messages(&sql(""), &rev(index));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("an index on (email) of `auth.users` is built by the Alembic chain"),
            "{m:?}"
        );
        // An index the comparison cannot describe (an expression) leaves the table's indexes out.
        assert!(messages(
            &sql("CREATE INDEX ON auth.users (lower(email));\n"),
            &rev(index)
        )
        .is_empty());
    }

    #[test]
    fn after_placeholders_a_revision_is_judged_on_what_it_does() {
        let placeholder = "revision = 'a1'\ndown_revision = None\n\ndef upgrade():\n    pass\n";
        let files = [("0000_init.sql", INIT), ("0001_email.sql", EMAIL)];
        let f = found(
            &files,
            &[("v/a1.py", placeholder), ("v/c3.py", &c3("mail"))],
        );
        let messages: Vec<&str> = f.iter().map(|x| x.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages
                .iter()
                .all(|m| m.contains("`mail`") || m.contains("`email`")),
            "{messages:?}"
        );
        assert!(found(
            &files,
            &[("v/a1.py", placeholder), ("v/c3.py", &c3("email"))]
        )
        .is_empty());
        // Declared mirrors: the placeholder itself drifts (auth.users is missing from Alembic).
        let f = found_mirrored(
            &files,
            &[("v/a1.py", placeholder), ("v/c3.py", &c3("email"))],
        );
        assert!(
            f.iter()
                .any(|x| x.message.starts_with("table `auth.users`")),
            "{f:?}"
        );
    }

    #[test]
    fn a_revision_without_schema_is_where_the_search_path_puts_it() {
        // `op.add_column("users", …)` without schema=: the service's search path decides.
        let c3 = "revision = 'c3'\ndown_revision = 'a1'\n\ndef upgrade():\n    op.create_table('sessions', sa.Column('id', sa.Integer()))\n";
        let sql = "CREATE TABLE auth.sessions (id int);\nUPDATE auth.alembic_version_auth SET version_num = 'c3';\n";
        let f = found(
            &[("0000_init.sql", INIT), ("0001_sessions.sql", sql)],
            &[("v/a1.py", A1), ("v/c3.py", c3)],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn stamps_that_go_back_in_the_chain_stop_the_comparison() {
        let back = "UPDATE auth.alembic_version_auth SET version_num = 'a1';\n";
        let init = INIT.replace("VALUES ('a1')", "VALUES ('c3')");
        let f = found(
            &[("0000_init.sql", &init), ("0001_back.sql", back)],
            &[("v/a1.py", A1), ("v/c3.py", &c3("mail"))],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_file_not_read_as_sql_stops_the_comparison() {
        // Too large or unreadable: what it created is unknown, not missing.
        let mut f = fixture::set(&[("0000_init.sql", INIT), ("0001_email.sql", EMAIL)]).alembic(
            "auth.alembic_version_auth",
            &[("v/a1.py", A1), ("v/c3.py", &c3("email"))],
        );
        f.analyses.remove("0000_init.sql");
        assert!(f.run(pass).is_empty());
    }

    #[test]
    fn mirrored_revisions_pass() {
        let c3 = c3("email");
        let f = found(
            &[("0000_init.sql", INIT), ("0001_email.sql", EMAIL)],
            &[("v/a1.py", A1), ("v/c3.py", &c3)],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn what_is_not_read_is_unverified_and_stops_the_comparison() {
        let looped = "revision = 'c3'\ndown_revision = 'a1'\n\ndef upgrade():\n    for c in COLUMNS:\n        op.add_column('users', c, schema='auth')\n";
        let files = [("0000_init.sql", INIT), ("0001_email.sql", EMAIL)];
        let revisions = [("v/a1.py", A1), ("v/c3.py", looped)];
        let f = found_mirrored(&files, &revisions);
        let codes: Vec<&str> = f.iter().map(|x| x.code()).collect();
        assert_eq!(codes, ["alembic-revision-unverified"]);
        // Undeclared, mirroring is optional: a revision not read is simply not compared.
        assert!(found(&files, &revisions).is_empty());
        // A DO block on the SQL side: nothing is compared from there on.
        let opaque = format!("{INIT}DO $$ BEGIN EXECUTE 'CREATE TABLE auth.x (a int)'; END $$;\n");
        let f = found(
            &[("0000_init.sql", &opaque), ("0001_email.sql", EMAIL)],
            &[("v/a1.py", A1), ("v/c3.py", &c3("mail"))],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn without_stamps_or_with_branches_nothing_is_compared() {
        let c3 = c3("mail");
        let unstamped = "ALTER TABLE auth.users ADD COLUMN email text;\n";
        let init = INIT.replace("INSERT INTO auth.alembic_version_auth VALUES ('a1');\n", "");
        assert!(found(
            &[("0000_init.sql", &init), ("0001_email.sql", unstamped)],
            &[("v/a1.py", A1), ("v/c3.py", &c3)]
        )
        .is_empty());
        let b3 = "revision = 'b3'\ndown_revision = 'a1'\n\ndef upgrade():\n    pass\n";
        assert!(found(
            &[("0000_init.sql", INIT), ("0001_email.sql", EMAIL)],
            &[("v/a1.py", A1), ("v/c3.py", &c3), ("v/b3.py", b3)]
        )
        .is_empty());
    }
}
