//! The unique keys a foreign key may reference, read from `CREATE TABLE`, `ALTER TABLE … ADD`
//! and `CREATE UNIQUE INDEX`.
//!
//! PostgreSQL accepts `REFERENCES t (a, b)` only when `t` has a primary key, unique constraint
//! or unique index on exactly the columns `{a, b}` (in any order) with no predicate, no
//! expression and not `DEFERRABLE` (42830, or 55000 for a deferrable one;
//! `transformFkeyCheckAttrs` in `tablecmds.c`). A bare `REFERENCES t` takes the primary key.
//! The names PostgreSQL generates for unnamed keys (`t_pkey`, `t_a_b_key`, `t_a_idx`) are
//! computed here, so a later `DROP CONSTRAINT t_a_key` can be followed; a generated name that
//! would be truncated is left unknown.

use sqlparser::ast::{
    ColumnDef, ColumnOption, ConstraintCharacteristics, CreateIndex, DeferrableInitial, Expr,
    IndexColumn, TableConstraint,
};

use super::ident::fold;

/// A unique key of a table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Key {
    /// The constraint's or index's name: as written, or as PostgreSQL generates it (see
    /// `generated`); `None` when it cannot be known.
    pub name: Option<String>,
    /// Whether `name` was generated: PostgreSQL appends a digit when it is taken, which only
    /// the model (knowing what exists) can tell.
    pub generated: bool,
    pub columns: Vec<String>,
    pub primary: bool,
    /// `DEFERRABLE` (or `INITIALLY DEFERRED`): no foreign key can use it.
    pub deferrable: bool,
}

impl Key {
    /// Whether a foreign key naming `columns` (none: the primary key) may use this key,
    /// deferrability aside.
    pub fn matches(&self, columns: &[&str]) -> bool {
        if columns.is_empty() {
            return self.primary;
        }
        self.columns.len() == columns.len()
            && columns.iter().all(|c| self.columns.iter().any(|k| k == c))
            && self.columns.iter().all(|k| columns.contains(&k.as_str()))
    }
}

/// A name PostgreSQL generates (`makeObjectName`): `table_columns_label`, unless it would be
/// longer than 63 bytes (then PostgreSQL truncates the parts, which is not followed).
fn generated(table: &str, columns: &[String], label: &str) -> Option<String> {
    let mut parts = vec![table.to_string()];
    parts.extend(columns.iter().cloned());
    parts.push(label.to_string());
    let name = parts.join("_");
    (name.len() <= 63).then_some(name)
}

fn deferrable(c: &Option<ConstraintCharacteristics>) -> bool {
    c.as_ref().is_some_and(|c| {
        c.deferrable == Some(true) || c.initially == Some(DeferrableInitial::Deferred)
    })
}

/// The plain column names of a key's column list; `None` if one is an expression, or if there
/// is none (`PRIMARY KEY USING INDEX i` names its columns elsewhere).
fn plain(columns: &[IndexColumn]) -> Option<Vec<String>> {
    if columns.is_empty() {
        return None;
    }
    columns
        .iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(id) => Some(fold(id)),
            _ => None,
        })
        .collect()
}

fn key(
    table: &str,
    name: Option<&sqlparser::ast::Ident>,
    columns: Vec<String>,
    primary: bool,
    characteristics: &Option<ConstraintCharacteristics>,
) -> Key {
    let (name, generated) = match name {
        Some(n) => (Some(fold(n)), false),
        None if primary => (generated(table, &[], "pkey"), true),
        None => (generated(table, &columns, "key"), true),
    };
    Key {
        name,
        generated,
        columns,
        primary,
        deferrable: deferrable(characteristics),
    }
}

/// What a table constraint adds to the table's keys.
pub enum Constraint {
    /// A primary key or unique constraint.
    Key(Key),
    /// A constraint that is no key (check, foreign key, exclusion).
    NoKey,
    /// A key the replay cannot read.
    Unreadable,
}

/// Reads a table constraint as a key.
pub fn constraint_key(table: &str, c: &TableConstraint) -> Constraint {
    let (name, columns, primary, characteristics) = match c {
        TableConstraint::PrimaryKey(p) => (&p.name, &p.columns, true, &p.characteristics),
        TableConstraint::Unique(u) => (&u.name, &u.columns, false, &u.characteristics),
        TableConstraint::Check(_)
        | TableConstraint::ForeignKey(_)
        | TableConstraint::Exclude(_) => return Constraint::NoKey,
        // `PRIMARY KEY USING INDEX i` turns an index into a key (and renames it): not followed.
        _ => return Constraint::Unreadable,
    };
    match plain(columns) {
        Some(columns) => {
            Constraint::Key(key(table, name.as_ref(), columns, primary, characteristics))
        }
        None => Constraint::Unreadable,
    }
}

/// The keys a column definition declares (`id bigint PRIMARY KEY`, `email text UNIQUE`).
pub fn column_keys(table: &str, c: &ColumnDef) -> Vec<Key> {
    let column = vec![fold(&c.name)];
    c.options
        .iter()
        .filter_map(|o| {
            let (name, primary, characteristics) = match &o.option {
                ColumnOption::PrimaryKey(p) => (p.name.as_ref(), true, &p.characteristics),
                ColumnOption::Unique(u) => (u.name.as_ref(), false, &u.characteristics),
                _ => return None,
            };
            let name = o.name.as_ref().or(name);
            Some(key(table, name, column.clone(), primary, characteristics))
        })
        .collect()
}

/// The keys of a `CREATE TABLE` with its columns written out; `None` if one cannot be read.
pub fn table_keys(table: &str, t: &sqlparser::ast::CreateTable) -> Option<Vec<Key>> {
    let mut keys: Vec<Key> = t
        .columns
        .iter()
        .flat_map(|c| column_keys(table, c))
        .collect();
    for c in &t.constraints {
        match constraint_key(table, c) {
            Constraint::Key(k) => keys.push(k),
            Constraint::NoKey => {}
            Constraint::Unreadable => return None,
        }
    }
    Some(keys)
}

/// An index's name as written, or as PostgreSQL generates it (`t_a_b_idx`); whether generated.
fn index_name(table: &str, i: &CreateIndex, columns: &[String]) -> (Option<String>, bool) {
    match &i.name {
        Some(n) => (n.0.last().and_then(|p| p.as_ident()).map(fold), false),
        None => (generated(table, columns, "idx"), true),
    }
}

/// The key a `CREATE UNIQUE INDEX` adds: none for an index that is not unique, is partial or
/// indexes an expression (a foreign key cannot use it).
pub fn index_key(table: &str, i: &CreateIndex) -> Option<Key> {
    if !i.unique || i.predicate.is_some() {
        return None;
    }
    let columns = plain(&i.columns)?;
    let (name, generated) = index_name(table, i, &columns);
    Some(Key {
        name,
        generated,
        columns,
        primary: false,
        deferrable: false,
    })
}

/// A plain (not unique) btree index of a table on plain columns, in order: what the schema the
/// SQL builds is compared with the Alembic chain's on (names aside).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Plain {
    /// As written, or generated (`t_a_b_idx`, see [`Key::generated`]); `None`: not known.
    pub name: Option<String>,
    pub generated: bool,
    pub columns: Vec<String>,
}

/// Whether an index is one the comparison cannot describe: partial, on an expression, of
/// another method than btree, or with `INCLUDE` columns.
pub fn index_unreadable(i: &CreateIndex) -> bool {
    let btree = i
        .using
        .as_ref()
        .is_none_or(|u| u.to_string().eq_ignore_ascii_case("btree"));
    i.predicate.is_some() || !btree || !i.include.is_empty() || plain(&i.columns).is_none()
}

/// The plain index a `CREATE INDEX` adds (not unique, and readable).
pub fn index_plain(table: &str, i: &CreateIndex) -> Option<Plain> {
    if i.unique || index_unreadable(i) {
        return None;
    }
    let columns = plain(&i.columns)?;
    let (name, generated) = index_name(table, i, &columns);
    Some(Plain {
        name,
        generated,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> sqlparser::ast::Statement {
        let dialect = sqlparser::dialect::PostgreSqlDialect {};
        sqlparser::parser::Parser::parse_sql(&dialect, sql)
            .unwrap()
            .remove(0)
    }

    /// (name, columns, primary, deferrable)
    type Row = (Option<String>, Vec<String>, bool, bool);

    fn keys_of(sql: &str) -> Option<Vec<Row>> {
        let sqlparser::ast::Statement::CreateTable(t) = parse(sql) else {
            panic!("not a table")
        };
        let keys = table_keys("t", &t)?;
        Some(
            keys.into_iter()
                .map(|k| (k.name, k.columns, k.primary, k.deferrable))
                .collect(),
        )
    }

    #[test]
    fn column_and_table_keys_with_their_names() {
        let keys = keys_of(
            "CREATE TABLE t (id int PRIMARY KEY, Email text CONSTRAINT e UNIQUE, a int, b int, \
             UNIQUE (a, b) DEFERRABLE, CHECK (a > 0))",
        )
        .unwrap();
        assert_eq!(
            keys,
            [
                (Some("t_pkey".into()), vec!["id".into()], true, false),
                (Some("e".into()), vec!["email".into()], false, false),
                (
                    Some("t_a_b_key".into()),
                    vec!["a".into(), "b".into()],
                    false,
                    true
                ),
            ]
        );
    }

    #[test]
    fn a_long_generated_name_is_unknown() {
        let long = "c".repeat(60);
        let keys = keys_of(&format!("CREATE TABLE t ({long} int UNIQUE)")).unwrap();
        assert_eq!(keys[0].0, None);
    }

    #[test]
    fn unique_indexes_that_a_foreign_key_cannot_use_add_no_key() {
        let index = |sql: &str| match parse(sql) {
            sqlparser::ast::Statement::CreateIndex(i) => index_key("t", &i),
            _ => panic!("not an index"),
        };
        assert!(index("CREATE INDEX i ON t (a)").is_none());
        assert!(index("CREATE UNIQUE INDEX i ON t (a) WHERE a > 0").is_none());
        assert!(index("CREATE UNIQUE INDEX i ON t (lower(a))").is_none());
        let k = index("CREATE UNIQUE INDEX ON t (a, b)").unwrap();
        assert_eq!(k.name.as_deref(), Some("t_a_b_idx"));
        assert!(k.matches(&["b", "a"]) && !k.matches(&["a"]) && !k.matches(&[]));
    }
}
