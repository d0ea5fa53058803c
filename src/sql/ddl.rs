//! What each statement does to the schema, read from the sqlparser AST: the facts the schema
//! replay (the layer above) applies in migration order. Only the forms modelled here are facts;
//! every other statement that could create, rename or drop a relation is [`Change::Unknown`], so
//! the replay knows what it cannot see and never reports a name as missing on a guess.

use std::ops::Range;

use sqlparser::ast::{
    AlterIndexOperation, AlterTableOperation, ColumnOption, Expr, FunctionArguments, Ident,
    ObjectName, ObjectType, Query, RenameTableNameKind, SchemaName, SetExpr, Statement as Ast,
    TableConstraint, UserDefinedTypeRepresentation,
};

use super::keys::Key;
use super::privileges::{self, Privilege, Target};
use super::LineIndex;

pub use super::ident::fold;

/// A possibly schema-qualified name, folded, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Name {
    pub schema: Option<String>,
    pub name: String,
    pub span: Range<usize>,
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// A column named in a statement, folded, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    pub span: Range<usize>,
}

/// A foreign key's target: the table and the columns it names (empty: its primary key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    pub table: Name,
    pub columns: Vec<Column>,
}

/// A column's type family and nullability as a definition writes them (the schema the SQL
/// builds is compared with the one the Alembic chain builds).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    pub column: String,
    /// See [`super::types::family`]; `None`: a type miglint does not compare.
    pub family: Option<super::types::Family>,
    pub not_null: bool,
}

/// The kinds of relation the replay tracks (they share one namespace per schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::View => "view",
            Kind::MaterializedView => "materialized view",
            Kind::Index => "index",
            Kind::Sequence => "sequence",
        }
    }
}

/// One change to the schema, in statement order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Change {
    /// `SET search_path` / `set_config('search_path', …)`: for the rest of the file (one psql
    /// session).
    SearchPath(Vec<String>),
    CreateSchema {
        name: Name,
        if_not_exists: bool,
    },
    /// A relation. `columns` is `None` when they are not written out (`AS SELECT`, `LIKE`,
    /// `PARTITION OF`, `INHERITS`, views). `on` is an index's table and its plain columns.
    Create {
        kind: Kind,
        name: Name,
        if_not_exists: bool,
        or_replace: bool,
        temporary: bool,
        columns: Option<Vec<Column>>,
        on: Option<(Name, Vec<Column>)>,
        references: Vec<Reference>,
        /// A view's relations (dropped with them by `CASCADE`); `None` when not known.
        uses: Option<Vec<Name>>,
        /// A table's unique keys (`None`: not known, as for `LIKE` or a key on an
        /// expression); the key a unique index adds to its table.
        keys: Option<Vec<Key>>,
        /// A table's columns' types and nullability, as written.
        shapes: Vec<Shape>,
        /// The plain index an index adds to its table; `index_unreadable`: one the comparison
        /// with the Alembic chain cannot describe (partial, on an expression, …).
        plain: Option<Box<super::keys::Plain>>,
        index_unreadable: bool,
        /// The sequences PostgreSQL creates for a table's `serial` and identity columns:
        /// (column, generated name), where the name is `table_column_seq` in 63 bytes.
        sequences: Vec<(String, String)>,
    },
    Drop {
        kind: Option<Kind>,
        names: Vec<Name>,
        if_exists: bool,
        cascade: bool,
    },
    AlterTable {
        name: Name,
        if_exists: bool,
        ops: Vec<AlterOp>,
    },
    /// `ALTER INDEX … RENAME TO …`.
    RenameIndex {
        name: Name,
        to: String,
    },
    /// A data change (`INSERT`, `UPDATE`): the table and the columns it names must exist.
    Uses {
        table: Name,
        columns: Vec<Column>,
    },
    /// `CREATE EXTENSION` of one that may create relations, in `schema` (else the first schema
    /// of the search path): that schema may hold names the replay cannot see.
    Extension {
        name: String,
        schema: Option<String>,
        span: Range<usize>,
    },
    /// `CREATE TYPE … AS ENUM (…)`.
    CreateEnum {
        name: Name,
        labels: Vec<String>,
    },
    /// `ALTER TYPE … ADD VALUE [IF NOT EXISTS] 'v'`, or `RENAME VALUE 'from' TO 'v'`.
    EnumValue {
        name: Name,
        value: Column,
        from: Option<String>,
        if_not_exists: bool,
    },
    /// `ALTER TYPE … RENAME TO …`.
    RenameType {
        name: Name,
        to: String,
    },
    /// `DROP TYPE …` (without CASCADE, which may take tables with it: unknown).
    DropType {
        names: Vec<Name>,
    },
    /// A grant, revoke or new owner (for `miglint alembic ready`; the replay ignores it).
    Privilege(super::privileges::Privilege),
    /// `CREATE [OR REPLACE] FUNCTION`: what a call of it may do, read from its body
    /// ([`super::functions`]): `None` when it may change relations itself, else the functions
    /// it calls.
    Function {
        name: Name,
        callees: Option<Vec<String>>,
    },
    /// `DROP FUNCTION` / `DROP PROCEDURE`: calls of these names are unknown again.
    DropFunction {
        names: Vec<Name>,
    },
    /// A call of a function that is not a common built-in (`SELECT f()`, `CALL p()`,
    /// `INSERT … VALUES (f())`, a `DO` block's `PERFORM f()`): harmless only if the set defined
    /// it with a body that changes no relation.
    Call {
        name: Name,
    },
    /// Something the replay cannot follow that may create, rename or drop relations.
    Unknown {
        what: String,
        span: Range<usize>,
    },
}

impl Change {
    /// Every byte range the change holds (a cached change is checked against its file).
    pub fn spans(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        // The commonest and largest change is read in place: cloning it (keys, shapes) to
        // reuse the mutable walk cost a warm check of 10,000 files about 5%.
        if let Change::Create {
            name,
            columns,
            on,
            references,
            uses,
            ..
        } = self
        {
            out.push(name.span.clone());
            out.extend(columns.iter().flatten().map(|c| c.span.clone()));
            if let Some((t, cols)) = on {
                out.push(t.span.clone());
                out.extend(cols.iter().map(|c| c.span.clone()));
            }
            for r in references {
                out.push(r.table.span.clone());
                out.extend(r.columns.iter().map(|c| c.span.clone()));
            }
            out.extend(uses.iter().flatten().map(|r| r.span.clone()));
            return out;
        }
        self.clone().each_span(|r| out.push(r.clone()));
        out
    }

    /// Whether this is a data change naming the same table and columns as `previous`, so that
    /// replaying it right after `previous` can neither change the model nor fail differently.
    pub fn repeats(&self, previous: &Change) -> bool {
        match (self, previous) {
            (
                Change::Uses { table, columns },
                Change::Uses {
                    table: t,
                    columns: c,
                },
            ) => {
                table.schema == t.schema
                    && table.name == t.name
                    && columns.len() == c.len()
                    && columns.iter().zip(c).all(|(a, b)| a.name == b.name)
            }
            _ => false,
        }
    }

    /// Moves every byte range by `by` (a file read after its byte-order mark).
    pub fn shift(&mut self, by: usize) {
        self.each_span(|r| *r = r.start + by..r.end + by);
    }

    fn each_span(&mut self, mut f: impl FnMut(&mut Range<usize>)) {
        match self {
            Change::SearchPath(_) | Change::Privilege(_) => {}
            Change::CreateSchema { name, .. }
            | Change::RenameIndex { name, .. }
            | Change::CreateEnum { name, .. }
            | Change::RenameType { name, .. } => f(&mut name.span),
            Change::EnumValue { name, value, .. } => {
                f(&mut name.span);
                f(&mut value.span);
            }
            Change::DropType { names } => names.iter_mut().for_each(|n| f(&mut n.span)),
            Change::Create {
                name,
                columns,
                on,
                references,
                uses,
                ..
            } => {
                f(&mut name.span);
                columns.iter_mut().flatten().for_each(|c| f(&mut c.span));
                if let Some((t, cols)) = on {
                    f(&mut t.span);
                    cols.iter_mut().for_each(|c| f(&mut c.span));
                }
                for r in references.iter_mut() {
                    f(&mut r.table.span);
                    r.columns.iter_mut().for_each(|c| f(&mut c.span));
                }
                uses.iter_mut().flatten().for_each(|r| f(&mut r.span));
            }
            Change::Drop { names, .. } => names.iter_mut().for_each(|n| f(&mut n.span)),
            Change::AlterTable { name, ops, .. } => {
                f(&mut name.span);
                for op in ops {
                    match op {
                        AlterOp::AddColumn {
                            column, references, ..
                        } => {
                            f(&mut column.span);
                            for r in references.iter_mut() {
                                f(&mut r.table.span);
                                r.columns.iter_mut().for_each(|c| f(&mut c.span));
                            }
                        }
                        AlterOp::DropColumn { columns, .. } | AlterOp::Needs(columns) => {
                            columns.iter_mut().for_each(|c| f(&mut c.span))
                        }
                        AlterOp::RenameColumn { from: c, .. } | AlterOp::AlterColumn(c) => {
                            f(&mut c.span)
                        }
                        AlterOp::AddForeignKey(r) => {
                            f(&mut r.table.span);
                            r.columns.iter_mut().for_each(|c| f(&mut c.span));
                        }
                        AlterOp::RenameTo(_)
                        | AlterOp::Reshape { .. }
                        | AlterOp::AddKey(_)
                        | AlterOp::DropConstraint(_)
                        | AlterOp::RenameConstraint { .. }
                        | AlterOp::KeysUnknown
                        | AlterOp::Other => {}
                    }
                }
            }
            Change::Uses { table, columns } => {
                f(&mut table.span);
                columns.iter_mut().for_each(|c| f(&mut c.span));
            }
            Change::Unknown { span, .. } | Change::Extension { span, .. } => f(span),
            Change::Function { name, .. } | Change::Call { name } => f(&mut name.span),
            Change::DropFunction { names } => names.iter_mut().for_each(|n| f(&mut n.span)),
        }
    }
}

/// One action of an `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AlterOp {
    AddColumn {
        column: Column,
        if_not_exists: bool,
        references: Vec<Reference>,
        /// `NOT NULL` (or a primary key) without a default, identity or generated value: on a
        /// table that has rows, PostgreSQL refuses it (23502).
        required: bool,
        shape: Option<Shape>,
    },
    DropColumn {
        columns: Vec<Column>,
        if_exists: bool,
    },
    RenameColumn {
        from: Column,
        to: String,
    },
    /// `ALTER COLUMN c …`: the column must exist.
    AlterColumn(Column),
    /// `ALTER COLUMN c TYPE …` (a new family), `SET`/`DROP NOT NULL`.
    Reshape {
        column: String,
        family: Option<Option<super::types::Family>>,
        not_null: Option<bool>,
    },
    RenameTo(String),
    AddForeignKey(Reference),
    /// `ADD PRIMARY KEY (…)`, `ADD UNIQUE (…)`, or a key on a column added.
    AddKey(Key),
    /// `DROP CONSTRAINT name`: a key of that name goes.
    DropConstraint(String),
    RenameConstraint {
        from: String,
        to: String,
    },
    /// Columns a constraint of the statement names: they must exist once its columns are
    /// added (PostgreSQL adds constraints after columns).
    Needs(Vec<Column>),
    /// A key action the replay cannot read (a key on an expression): the table's keys are
    /// no longer known.
    KeysUnknown,
    /// Any other action: no effect the replay tracks (`SET SCHEMA` is [`Change::Unknown`]).
    Other,
}

/// A (statement, effect) list builder for one parsed statement.
pub struct Reader<'a> {
    pub lines: &'a LineIndex<'a>,
    /// The statement's byte range (for effects without a better span).
    pub span: Range<usize>,
}

impl Reader<'_> {
    fn span_of(&self, id: &sqlparser::ast::Ident) -> Range<usize> {
        let s = &id.span;
        if s.start.line == 0 {
            return self.span.start..self.span.start;
        }
        let start = self.lines.offset(s.start.line, s.start.column);
        let end = self.lines.offset(s.end.line, s.end.column);
        start..end.max(start)
    }

    fn name(&self, name: &ObjectName) -> Option<Name> {
        let parts: Vec<&sqlparser::ast::Ident> =
            name.0.iter().map(|p| p.as_ident()).collect::<Option<_>>()?;
        let (schema, last) = match parts.as_slice() {
            [last] => (None, *last),
            [schema, last] => (Some(fold(schema)), *last),
            // `db.schema.table`: PostgreSQL accepts only the current database's name.
            [_, schema, last] => (Some(fold(schema)), *last),
            _ => return None,
        };
        let first = self.span_of(parts[0]);
        let end = self.span_of(last).end;
        Some(Name {
            schema,
            name: fold(last),
            span: first.start..end.max(first.start),
        })
    }

    fn column(&self, id: &sqlparser::ast::Ident) -> Column {
        Column {
            name: fold(id),
            span: self.span_of(id),
        }
    }

    fn reference(&self, fk: &sqlparser::ast::ForeignKeyConstraint) -> Option<Reference> {
        Some(Reference {
            table: self.name(&fk.foreign_table)?,
            columns: fk.referred_columns.iter().map(|c| self.column(c)).collect(),
        })
    }

    fn unknown(&self, what: impl Into<String>) -> Change {
        Change::Unknown {
            what: what.into(),
            span: self.span.clone(),
        }
    }

    /// The effects of one statement. Names that cannot be read (a function in a name) make the
    /// statement unknown.
    pub fn read(&self, stmt: &Ast) -> Vec<Change> {
        match stmt {
            Ast::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => self.create_schema(schema_name, *if_not_exists),
            Ast::CreateTable(t) => self.create_table(t),
            Ast::CreateType {
                name,
                representation: Some(UserDefinedTypeRepresentation::Enum { labels }),
            } => match self.name(name) {
                Some(name) => vec![Change::CreateEnum {
                    name,
                    labels: labels.iter().map(|l| l.value.clone()).collect(),
                }],
                None => vec![self.unknown("CREATE TYPE")],
            },
            Ast::AlterType(t) => self.alter_type(t),
            Ast::CreateIndex(i) => self.create_index(i),
            Ast::CreateView(v) => self.create_view(v),
            Ast::CreateSequence {
                if_not_exists,
                name,
                temporary,
                ..
            } => self.create(Kind::Sequence, name, *if_not_exists, false, *temporary),
            Ast::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => self.drop(*object_type, names, *if_exists, *cascade),
            Ast::AlterTable(a) => self.alter_table(a),
            Ast::AlterIndex {
                name,
                operation: AlterIndexOperation::RenameIndex { index_name },
            } => match (self.name(name), self.name(index_name)) {
                (Some(name), Some(to)) => vec![Change::RenameIndex { name, to: to.name }],
                _ => vec![self.unknown("ALTER INDEX")],
            },
            Ast::CreateExtension(e) if extension_makes_no_relations(&e.name.value) => Vec::new(),
            Ast::CreateExtension(e) => vec![Change::Extension {
                name: fold(&e.name),
                schema: e.schema.as_ref().map(fold),
                span: self.span.clone(),
            }],
            Ast::Grant(_)
            | Ast::Revoke(_)
            | Ast::GrantRole(_)
            | Ast::RevokeRole(_)
            | Ast::AlterDefaultPrivileges(_)
            | Ast::AlterSchema(_) => self.privileges(stmt),
            Ast::Query(q) => self.query(q),
            Ast::Insert(_) | Ast::Update(_) | Ast::Delete(_) | Ast::Call(_) => {
                self.data_change(stmt)
            }
            Ast::CreateFunction(_) | Ast::DropFunction(_) | Ast::DropProcedure { .. } => {
                self.function_change(stmt)
            }
            Ast::Truncate(t) if !t.if_exists => self.data_change(stmt),
            stmt if no_relation_effects(stmt) => Vec::new(),
            other => {
                let text = other.to_string();
                if statement_may_change_relations(&text) {
                    vec![self.unknown(statement_kind(&text))]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `CALL`: the relations and columns they name or
    /// read must exist, and the functions they call may do anything (see [`Change::Call`]).
    fn data_change(&self, stmt: &Ast) -> Vec<Change> {
        let mut changes = match stmt {
            Ast::Insert(i) => self.insert(i),
            Ast::Update(u) => self.update(u),
            Ast::Delete(d) => self.reads(d),
            Ast::Truncate(t) => t
                .table_names
                .iter()
                .filter_map(|target| self.name(&target.name))
                .map(|table| Change::Uses {
                    table,
                    columns: Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        changes.extend(self.calls(stmt));
        changes
    }

    /// `CREATE FUNCTION` (what a call of it may do) and `DROP FUNCTION`/`PROCEDURE`.
    fn function_change(&self, stmt: &Ast) -> Vec<Change> {
        let descs = match stmt {
            Ast::CreateFunction(f) => {
                return self
                    .name(&f.name)
                    .map(|name| Change::Function {
                        name,
                        callees: function_callees(f),
                    })
                    .into_iter()
                    .collect();
            }
            Ast::DropFunction(d) => &d.func_desc,
            Ast::DropProcedure { proc_desc, .. } => proc_desc,
            _ => return Vec::new(),
        };
        let names: Vec<Name> = descs.iter().filter_map(|f| self.name(&f.name)).collect();
        if names.is_empty() {
            return Vec::new();
        }
        vec![Change::DropFunction { names }]
    }

    /// `CREATE SCHEMA [name] [AUTHORIZATION role]`: the schema, and its owner when named.
    fn create_schema(&self, schema_name: &SchemaName, if_not_exists: bool) -> Vec<Change> {
        let name = match schema_name {
            SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => self.name(n),
            // `CREATE SCHEMA AUTHORIZATION role`: named after the role.
            SchemaName::UnnamedAuthorization(role) => Some(Name {
                schema: None,
                name: fold(role),
                span: self.span_of(role),
            }),
        };
        let owner = match schema_name {
            SchemaName::NamedAuthorization(_, role) | SchemaName::UnnamedAuthorization(role) => {
                Some(fold(role))
            }
            SchemaName::Simple(_) => None,
        };
        match name {
            Some(name) => {
                let mut made = vec![Change::CreateSchema {
                    name: name.clone(),
                    if_not_exists,
                }];
                made.extend(owner.map(|role| {
                    Change::Privilege(Privilege::Owner {
                        on: Target::Schema(name.name),
                        role,
                    })
                }));
                made
            }
            None => vec![self.unknown("CREATE SCHEMA")],
        }
    }

    /// Grants, revokes, role memberships, default privileges, `ALTER SCHEMA … OWNER TO`.
    fn privileges(&self, stmt: &Ast) -> Vec<Change> {
        let privilege = match stmt {
            Ast::Grant(g) => privileges::grant(false, &g.privileges, &g.objects, &g.grantees),
            Ast::Revoke(r) => privileges::grant(true, &r.privileges, &r.objects, &r.grantees),
            Ast::GrantRole(g) => privileges::membership(&g.grantees),
            Ast::RevokeRole(r) => privileges::membership(&r.grantees),
            Ast::AlterSchema(a) => return self.alter_schema(a),
            _ => Privilege::Unknown { roles: None },
        };
        vec![Change::Privilege(privilege)]
    }

    fn create(
        &self,
        kind: Kind,
        name: &ObjectName,
        if_not_exists: bool,
        or_replace: bool,
        temporary: bool,
    ) -> Vec<Change> {
        match self.name(name) {
            Some(name) => vec![Change::Create {
                kind,
                name,
                if_not_exists,
                or_replace,
                temporary,
                columns: None,
                on: None,
                references: Vec::new(),
                uses: None,
                keys: None,
                shapes: Vec::new(),
                plain: None,
                index_unreadable: false,
                sequences: Vec::new(),
            }],
            None => vec![self.unknown(format!("CREATE {}", kind.as_str().to_uppercase()))],
        }
    }

    fn create_table(&self, t: &sqlparser::ast::CreateTable) -> Vec<Change> {
        let Some(name) = self.name(&t.name) else {
            return vec![self.unknown("CREATE TABLE")];
        };
        let derived = t.query.is_some()
            || t.like.is_some()
            || t.inherits.is_some()
            || t.partition_of.is_some();
        let columns = (!derived).then(|| t.columns.iter().map(|c| self.column(&c.name)).collect());
        let keys = (!derived)
            .then(|| super::keys::table_keys(&name.name, t))
            .flatten();
        // A key or foreign key naming a column the table does not define (42703).
        let own: Vec<String> = t.columns.iter().map(|c| fold(&c.name)).collect();
        let undefined: Vec<Column> = t
            .constraints
            .iter()
            .flat_map(|c| self.constrained_columns(c))
            .filter(|c| !own.contains(&c.name))
            .collect();
        let mut references = Vec::new();
        for c in &t.columns {
            for o in &c.options {
                if let ColumnOption::ForeignKey(fk) = &o.option {
                    references.extend(self.reference(fk));
                }
            }
        }
        for c in &t.constraints {
            if let TableConstraint::ForeignKey(fk) = c {
                references.extend(self.reference(fk));
            }
        }
        let name_again = name.clone();
        // `CREATE TABLE … AS SELECT`: what the query reads must exist.
        let mut made = t
            .query
            .as_ref()
            .map_or_else(Vec::new, |q| self.reads(q.as_ref()));
        made.push(Change::Create {
            kind: Kind::Table,
            name,
            if_not_exists: t.if_not_exists,
            or_replace: t.or_replace,
            temporary: t.temporary,
            columns,
            on: None,
            references,
            uses: None,
            plain: None,
            index_unreadable: false,
            sequences: if derived {
                Vec::new()
            } else {
                owned_sequences(&name_again.name, &t.columns)
            },
            shapes: if derived {
                Vec::new()
            } else {
                shapes(t, keys.as_deref())
            },
            keys,
        });
        if !derived && !t.if_not_exists && !undefined.is_empty() {
            made.push(Change::Uses {
                table: name_again,
                columns: undefined,
            });
        }
        // Its query runs when the table is filled: the functions it calls may do anything.
        if let Some(q) = &t.query {
            made.extend(self.calls(q.as_ref()));
        }
        made
    }

    fn create_index(&self, i: &sqlparser::ast::CreateIndex) -> Vec<Change> {
        let Some(table) = self.name(&i.table_name) else {
            return vec![self.unknown("CREATE INDEX")];
        };
        // Only plain column references are checked; expressions are not.
        let columns = i
            .columns
            .iter()
            .filter_map(|c| match &c.column.expr {
                Expr::Identifier(id) => Some(self.column(id)),
                _ => None,
            })
            .collect();
        // An unnamed index gets a generated name: it cannot collide in a way worth modelling.
        let name = match &i.name {
            Some(n) => match self.name(n) {
                // An index lives in its table's schema.
                Some(mut n) => {
                    n.schema = n.schema.or_else(|| table.schema.clone());
                    Some(n)
                }
                None => return vec![self.unknown("CREATE INDEX")],
            },
            None => None,
        };
        vec![Change::Create {
            kind: Kind::Index,
            name: name.unwrap_or_else(|| Name {
                schema: table.schema.clone(),
                name: String::new(),
                span: table.span.clone(),
            }),
            if_not_exists: i.if_not_exists,
            or_replace: false,
            temporary: false,
            columns: None,
            keys: Some(super::keys::index_key(&table.name, i).into_iter().collect()),
            shapes: Vec::new(),
            plain: super::keys::index_plain(&table.name, i).map(Box::new),
            index_unreadable: super::keys::index_unreadable(i),
            sequences: Vec::new(),
            on: Some((table, columns)),
            references: Vec::new(),
            uses: None,
        }]
    }

    fn create_view(&self, v: &sqlparser::ast::CreateView) -> Vec<Change> {
        let kind = if v.materialized {
            Kind::MaterializedView
        } else {
            Kind::View
        };
        let mut made = self.create(kind, &v.name, v.if_not_exists, v.or_replace, v.temporary);
        // The relations the query reads (a `WITH` query's names may be its own: not known).
        let mut reads = Reads {
            reader: self,
            names: Some(Vec::new()),
        };
        let _ = sqlparser::ast::Visit::visit(v.query.as_ref(), &mut reads);
        let uses = reads.names;
        if let Some(Change::Create { uses: u, .. }) = made.first_mut() {
            *u = uses;
        }
        // A materialized view runs its query when created (unless `WITH NO DATA`, which is
        // not told apart here: a call counts either way).
        if v.materialized {
            made.extend(self.calls(v.query.as_ref()));
        }
        made
    }

    /// `ALTER TYPE`: enum values added or renamed, the type renamed.
    fn alter_type(&self, t: &sqlparser::ast::AlterType) -> Vec<Change> {
        use sqlparser::ast::AlterTypeOperation as Op;
        let Some(name) = self.name(&t.name) else {
            return vec![self.unknown("ALTER TYPE")];
        };
        vec![match &t.operation {
            Op::Rename(r) => Change::RenameType {
                name,
                to: fold(&r.new_name),
            },
            Op::AddValue(v) => Change::EnumValue {
                name,
                value: self.label(&v.value),
                from: None,
                if_not_exists: v.if_not_exists,
            },
            Op::RenameValue(v) => Change::EnumValue {
                name,
                value: self.label(&v.to),
                from: Some(v.from.value.clone()),
                if_not_exists: false,
            },
        }]
    }

    /// An enum label (a string literal, kept as written) and where it is.
    fn label(&self, id: &Ident) -> Column {
        Column {
            name: id.value.clone(),
            span: self.span_of(id),
        }
    }

    fn drop(
        &self,
        object_type: ObjectType,
        names: &[ObjectName],
        if_exists: bool,
        cascade: bool,
    ) -> Vec<Change> {
        let kind = match object_type {
            ObjectType::Table => Some(Kind::Table),
            ObjectType::View => Some(Kind::View),
            ObjectType::MaterializedView => Some(Kind::MaterializedView),
            ObjectType::Index => Some(Kind::Index),
            ObjectType::Sequence => Some(Kind::Sequence),
            ObjectType::Schema => None,
            ObjectType::Type if !cascade => {
                return match names.iter().map(|n| self.name(n)).collect() {
                    Some(names) => vec![Change::DropType { names }],
                    None => vec![self.unknown("DROP TYPE")],
                };
            }
            // Types, roles, …: not relations; a dropped type may take tables with it (CASCADE).
            _ if cascade => return vec![self.unknown(format!("DROP {object_type} … CASCADE"))],
            _ => return Vec::new(),
        };
        let Some(names) = names.iter().map(|n| self.name(n)).collect() else {
            return vec![self.unknown(format!("DROP {object_type}"))];
        };
        vec![Change::Drop {
            kind,
            names,
            if_exists,
            cascade,
        }]
    }

    fn alter_table(&self, a: &sqlparser::ast::AlterTable) -> Vec<Change> {
        let Some(name) = self.name(&a.name) else {
            return vec![self.unknown("ALTER TABLE")];
        };
        // `ALTER FOREIGN TABLE` and the like: not modelled.
        if a.table_type.is_some() {
            return vec![self.unknown("ALTER … TABLE")];
        }
        let (mut ops, mut owners) = (Vec::new(), Vec::new());
        for op in &a.operations {
            if let AlterTableOperation::AddColumn { column_def, .. } = op {
                let keys = super::keys::column_keys(&name.name, column_def);
                // The column first: its keys name it.
                ops.push(self.add_column(op));
                ops.extend(keys.into_iter().map(AlterOp::AddKey));
                continue;
            }
            if let AlterTableOperation::AlterColumn { column_name, op } = op {
                ops.push(AlterOp::AlterColumn(self.column(column_name)));
                ops.extend(reshape(fold(column_name), op));
                continue;
            }
            if let AlterTableOperation::OwnerTo { new_owner } = op {
                owners.push(Change::Privilege(privileges::owner(
                    privileges::table(&a.name),
                    new_owner,
                )));
                continue;
            }
            if let AlterTableOperation::AddConstraint { constraint, .. } = op {
                ops.push(self.add_constraint(&name.name, constraint));
                let needs = self.constrained_columns(constraint);
                if !needs.is_empty() {
                    ops.push(AlterOp::Needs(needs));
                }
                continue;
            }
            match self.plain_op(op) {
                Ok(o) => ops.push(o),
                Err(what) => return vec![self.unknown(what)],
            }
        }
        let mut made = vec![Change::AlterTable {
            name,
            if_exists: a.if_exists,
            ops,
        }];
        made.extend(owners);
        made
    }

    /// An `ALTER TABLE` action that is one [`AlterOp`]; `Err` names one the replay cannot
    /// follow (then the whole statement is unknown).
    fn plain_op(&self, op: &AlterTableOperation) -> Result<AlterOp, &'static str> {
        Ok(match op {
            AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                ..
            } => AlterOp::DropColumn {
                columns: column_names.iter().map(|c| self.column(c)).collect(),
                if_exists: *if_exists,
            },
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => AlterOp::RenameColumn {
                from: self.column(old_column_name),
                to: fold(new_column_name),
            },
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::As(n) | RenameTableNameKind::To(n)) = table_name;
                match self.name(n) {
                    Some(n) => AlterOp::RenameTo(n.name),
                    None => return Err("ALTER TABLE … RENAME"),
                }
            }
            AlterTableOperation::DropConstraint { name: c, .. } => AlterOp::DropConstraint(fold(c)),
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                AlterOp::RenameConstraint {
                    from: fold(old_name),
                    to: fold(new_name),
                }
            }
            // Partitions attach or detach whole tables: not followed.
            AlterTableOperation::AttachPartitionOf { .. }
            | AlterTableOperation::DetachPartitionOf { .. } => {
                return Err("ALTER TABLE … PARTITION")
            }
            _ => AlterOp::Other,
        })
    }

    /// `ALTER SCHEMA … OWNER TO`; a rename is not followed.
    fn alter_schema(&self, a: &sqlparser::ast::AlterSchema) -> Vec<Change> {
        use sqlparser::ast::AlterSchemaOperation as Op;
        let name = self.name(&a.name).map(|n| n.name);
        let mut made = Vec::new();
        for op in &a.operations {
            match (op, &name) {
                (Op::OwnerTo { owner }, Some(schema)) => made.push(Change::Privilege(
                    privileges::owner(Target::Schema(schema.clone()), owner),
                )),
                _ => return vec![self.unknown("ALTER SCHEMA")],
            }
        }
        made
    }

    /// `ADD CONSTRAINT`: a foreign key, a key, or neither.
    fn add_constraint(&self, table: &str, constraint: &TableConstraint) -> AlterOp {
        if let TableConstraint::ForeignKey(fk) = constraint {
            return match self.reference(fk) {
                Some(r) => AlterOp::AddForeignKey(r),
                None => AlterOp::Other,
            };
        }
        use super::keys::Constraint;
        match super::keys::constraint_key(table, constraint) {
            Constraint::Key(key) => AlterOp::AddKey(key),
            Constraint::NoKey => AlterOp::Other,
            Constraint::Unreadable => AlterOp::KeysUnknown,
        }
    }

    /// The table's own columns a key or foreign key names (they must exist: 42703).
    fn constrained_columns(&self, constraint: &TableConstraint) -> Vec<Column> {
        let idents: Vec<&Ident> = match constraint {
            TableConstraint::PrimaryKey(p) => key_idents(&p.columns),
            TableConstraint::Unique(u) => key_idents(&u.columns),
            TableConstraint::ForeignKey(fk) => fk.columns.iter().collect(),
            _ => Vec::new(),
        };
        idents.into_iter().map(|id| self.column(id)).collect()
    }

    /// `ADD COLUMN`: the column, whether it needs a default, the tables it references.
    fn add_column(&self, op: &AlterTableOperation) -> AlterOp {
        let AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            ..
        } = op
        else {
            return AlterOp::Other;
        };
        AlterOp::AddColumn {
            column: self.column(&column_def.name),
            if_not_exists: *if_not_exists,
            required: required(column_def),
            shape: Some(shape(column_def)),
            references: column_def
                .options
                .iter()
                .filter_map(|o| match &o.option {
                    ColumnOption::ForeignKey(fk) => self.reference(fk),
                    _ => None,
                })
                .collect(),
        }
    }

    /// `INSERT INTO t (a, b) …`: `t` and its named columns must exist.
    fn insert(&self, i: &sqlparser::ast::Insert) -> Vec<Change> {
        let sqlparser::ast::TableObject::TableName(name) = &i.table else {
            return Vec::new();
        };
        let Some(table) = self.name(name) else {
            return Vec::new();
        };
        let columns = i
            .columns
            .iter()
            .filter_map(|c| match c.0.as_slice() {
                [part] => part.as_ident().map(|id| self.column(id)),
                _ => None,
            })
            .collect();
        let mut changes = vec![Change::Uses { table, columns }];
        if let Some(source) = &i.source {
            changes.extend(self.reads(source.as_ref()));
        }
        changes
    }

    /// `UPDATE t SET a = …`: `t` and the columns it sets must exist.
    fn update(&self, u: &sqlparser::ast::Update) -> Vec<Change> {
        let sqlparser::ast::TableFactor::Table { name, .. } = &u.table.relation else {
            return Vec::new();
        };
        let Some(table) = self.name(name) else {
            return Vec::new();
        };
        let columns = u
            .assignments
            .iter()
            .filter_map(|a| match &a.target {
                sqlparser::ast::AssignmentTarget::ColumnName(n) if n.0.len() == 1 => {
                    n.0[0].as_ident().map(|id| self.column(id))
                }
                _ => None,
            })
            .collect();
        vec![Change::Uses { table, columns }]
    }

    /// A top-level query: `SELECT … INTO t` creates a table; a call of a function that is not
    /// one of PostgreSQL's common built-ins may do anything (`SELECT create_hypertable(…)`).
    fn query(&self, q: &Query) -> Vec<Change> {
        // The relations it reads are looked up before anything runs (42P01 comes first).
        let mut changes = self.reads(q);
        if let SetExpr::Select(s) = q.body.as_ref() {
            if let Some(into) = &s.into {
                let target = match into.targets.as_slice() {
                    [Expr::Identifier(id)] => Some(ObjectName::from(vec![id.clone()])),
                    [Expr::CompoundIdentifier(ids)] => Some(ObjectName::from(ids.clone())),
                    _ => None,
                };
                changes.extend(match target {
                    Some(t) => self.create(Kind::Table, &t, false, false, into.temporary),
                    None => vec![self.unknown("SELECT … INTO")],
                });
                return changes;
            }
        }
        changes.extend(self.calls(q));
        changes
    }

    /// The calls a statement makes of functions that are not common built-ins, in expressions
    /// and as table functions (`FROM f()`); a name it cannot read is unknown.
    fn calls<V: sqlparser::ast::Visit>(&self, node: &V) -> Vec<Change> {
        let mut calls = Calls {
            reader: self,
            changes: Vec::new(),
        };
        let _ = node.visit(&mut calls);
        calls.changes
    }

    /// The relations a statement reads (its `FROM`, `USING` and subqueries), each of which
    /// must exist: nothing when one of its names is a `WITH` query's or cannot be read.
    fn reads<V: sqlparser::ast::Visit>(&self, node: &V) -> Vec<Change> {
        let mut reads = Reads {
            reader: self,
            names: Some(Vec::new()),
        };
        let _ = node.visit(&mut reads);
        reads
            .names
            .unwrap_or_default()
            .into_iter()
            .map(|table| Change::Uses {
                table,
                columns: Vec::new(),
            })
            .collect()
    }
}

/// The relations a query reads: plain table references, not table functions
/// (`generate_series(…)`); `None` once a `WITH` (whose names are the query's own) is seen.
struct Reads<'r, 'a> {
    reader: &'r Reader<'a>,
    names: Option<Vec<Name>>,
}

impl sqlparser::ast::Visitor for Reads<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> std::ops::ControlFlow<()> {
        if query.with.is_some() {
            self.names = None;
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(
        &mut self,
        factor: &sqlparser::ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        if let sqlparser::ast::TableFactor::Table {
            name, args: None, ..
        } = factor
        {
            let name = self.reader.name(name);
            match (&mut self.names, name) {
                (Some(names), Some(n)) => names.push(n),
                _ => self.names = None,
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// The calls of functions a statement makes (see [`Reader::calls`]).
struct Calls<'r, 'a> {
    reader: &'r Reader<'a>,
    changes: Vec<Change>,
}

impl Calls<'_, '_> {
    fn call(&mut self, name: &ObjectName) {
        let text = name.to_string().to_ascii_lowercase();
        if super::functions::builtin_function(&text) {
            return;
        }
        self.changes.push(match self.reader.name(name) {
            Some(name) => Change::Call { name },
            None => self.reader.unknown(format!("a call of {text}()")),
        });
    }
}

impl sqlparser::ast::Visitor for Calls<'_, '_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> std::ops::ControlFlow<()> {
        if let Expr::Function(f) = e {
            if !matches!(f.args, FunctionArguments::Subquery(_)) {
                self.call(&f.name);
            }
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(
        &mut self,
        factor: &sqlparser::ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        match factor {
            sqlparser::ast::TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | sqlparser::ast::TableFactor::Function { name, .. } => self.call(name),
            _ => {}
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, stmt: &Ast) -> std::ops::ControlFlow<()> {
        if let Ast::Call(f) = stmt {
            self.call(&f.name);
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// What a call of a function created by `CREATE FUNCTION` may do: its body read as text in
/// its language (`sql` when it has none, as for `RETURN …` and `BEGIN ATOMIC` bodies); `None`
/// for a body held elsewhere (a C function's object file).
fn function_callees(f: &sqlparser::ast::CreateFunction) -> super::functions::Callees {
    use sqlparser::ast::CreateFunctionBody as Body;
    let language = f
        .language
        .as_ref()
        .map_or_else(|| "sql".to_string(), |l| l.value.clone());
    let text = match f.function_body.as_ref()? {
        Body::AsBeforeOptions {
            body,
            link_symbol: None,
        }
        | Body::AsAfterOptions(body) => literal_text(body)?,
        Body::AsBeforeOptions { .. } => return None,
        Body::Return(e) => e.to_string(),
        Body::AsBeginEnd(b) | Body::BeginAtomic(b) => b.to_string(),
        Body::AsReturnExpr(_) | Body::AsReturnSelect(_) => return None,
    };
    super::functions::body_callees(&language, &text)
}

/// The value of a string literal (`'…'`, `$$…$$`).
fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::SingleQuotedString(s)
            | sqlparser::ast::Value::EscapedStringLiteral(s) => Some(s.clone()),
            sqlparser::ast::Value::DollarQuotedString(d) => Some(d.value.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Extensions that create functions, types and operators but no relation.
fn extension_makes_no_relations(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "pgcrypto"
            | "uuid-ossp"
            | "citext"
            | "hstore"
            | "pg_trgm"
            | "btree_gin"
            | "btree_gist"
            | "unaccent"
            | "fuzzystrmatch"
            | "intarray"
            | "ltree"
            | "cube"
            | "earthdistance"
            | "tablefunc"
            | "plpgsql"
            | "isn"
            | "seg"
            | "vector"
    )
}

/// Statements that create, rename or drop no relation (data changes, grants, comments,
/// functions, roles, settings, transaction control other than a rollback).
fn no_relation_effects(stmt: &Ast) -> bool {
    matches!(
        stmt,
        Ast::Truncate(_)
            | Ast::Grant { .. }
            | Ast::Revoke { .. }
            | Ast::Comment { .. }
            | Ast::CreateTrigger(_)
            | Ast::DropTrigger(_)
            | Ast::CreateRole(_)
            | Ast::CreateType { .. }
            | Ast::CreateDomain(_)
            | Ast::CreatePolicy(_)
            | Ast::StartTransaction { .. }
            | Ast::Commit { .. }
            | Ast::Set(_)
            | Ast::Analyze(_)
            | Ast::Copy { .. }
            | Ast::Lock(_)
            | Ast::Discard { .. }
            | Ast::Savepoint { .. }
            | Ast::ReleaseSavepoint { .. }
    )
}

/// The sequences PostgreSQL creates for `serial` columns and identity columns (without
/// options, which may name the sequence): `table_column_seq`, kept only when it fits in 63
/// bytes (PostgreSQL then truncates the parts, and numbers the name on a clash: not followed).
fn owned_sequences(table: &str, columns: &[sqlparser::ast::ColumnDef]) -> Vec<(String, String)> {
    let owns = |c: &sqlparser::ast::ColumnDef| {
        let ty = c.data_type.to_string().to_ascii_lowercase();
        matches!(
            ty.as_str(),
            "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
        ) || c.options.iter().any(|o| {
            matches!(
                &o.option,
                ColumnOption::Generated {
                    generation_expr: None,
                    sequence_options,
                    ..
                } if sequence_options.as_ref().is_none_or(|s| s.is_empty())
            )
        })
    };
    columns
        .iter()
        .filter(|c| owns(c))
        .filter_map(|c| {
            let column = fold(&c.name);
            let name = format!("{table}_{column}_seq");
            (name.len() <= 63).then_some((column, name))
        })
        .collect()
}

/// A column definition every existing row would violate: `NOT NULL` or a primary key, with no
/// `DEFAULT`, identity, generated value or serial type to fill the rows.
/// A column definition's type family and nullability.
fn shape(c: &sqlparser::ast::ColumnDef) -> Shape {
    Shape {
        column: fold(&c.name),
        family: super::types::family(&c.data_type.to_string()),
        not_null: c.options.iter().any(|o| {
            matches!(
                o.option,
                ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
            )
        }),
    }
}

/// The shapes of a table's columns; a primary key's columns are NOT NULL.
fn shapes(t: &sqlparser::ast::CreateTable, keys: Option<&[Key]>) -> Vec<Shape> {
    let primary: Vec<&String> = keys
        .unwrap_or_default()
        .iter()
        .filter(|k| k.primary)
        .flat_map(|k| &k.columns)
        .collect();
    t.columns
        .iter()
        .map(|c| {
            let mut s = shape(c);
            s.not_null |= primary.contains(&&s.column);
            s
        })
        .collect()
}

/// What `ALTER COLUMN` changes of a column's shape.
fn reshape(column: String, op: &sqlparser::ast::AlterColumnOperation) -> Option<AlterOp> {
    use sqlparser::ast::AlterColumnOperation as Op;
    let (family, not_null) = match op {
        Op::SetNotNull => (None, Some(true)),
        Op::DropNotNull => (None, Some(false)),
        Op::SetDataType { data_type, .. } => {
            (Some(super::types::family(&data_type.to_string())), None)
        }
        _ => return None,
    };
    Some(AlterOp::Reshape {
        column,
        family,
        not_null,
    })
}

/// The plain column names of a key's column list.
fn key_idents(columns: &[sqlparser::ast::IndexColumn]) -> Vec<&Ident> {
    columns
        .iter()
        .filter_map(|c| match &c.column.expr {
            Expr::Identifier(id) => Some(id),
            _ => None,
        })
        .collect()
}

fn required(c: &sqlparser::ast::ColumnDef) -> bool {
    let filled = c.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::Default(_) | ColumnOption::Identity(_) | ColumnOption::Generated { .. }
        )
    });
    let serial = matches!(
        c.data_type.to_string().to_ascii_lowercase().as_str(),
        "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
    );
    let not_null = c.options.iter().any(|o| {
        matches!(o.option, ColumnOption::NotNull)
            || matches!(&o.option, ColumnOption::PrimaryKey(_))
    });
    not_null && !filled && !serial
}

/// Whether SQL text the replay does not model (a `DO` body, a statement it cannot read) may
/// create, rename or drop a relation or schema: DDL words, `EXECUTE` (dynamic SQL), `RENAME`,
/// `SELECT … INTO`, `ROLLBACK` (which undoes what came before); or change an enum's labels
/// (`ALTER TYPE`, `DROP TYPE`).
pub fn may_change_relations(text: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"(?is)\b(create|drop|alter|import)\b.*?\b(table|index|view|sequence|schema|extension)\b|\b(execute|rename|rollback|into)\b|\b(alter|drop)\s+type\b",
        )
        .expect("valid regex")
    })
    .is_match(text)
}

/// Whether a whole statement miglint could not read may change relations, schemas or enum
/// labels: never for the statements that only annotate, inspect or maintain what exists
/// (`COMMENT`, `SECURITY LABEL`, `ANALYZE`, `VACUUM`, `REINDEX`, `CLUSTER`, `REFRESH`, `LOCK`,
/// `NOTIFY`, `LISTEN`, `SHOW`, `CHECKPOINT`) or add a rule (whose actions PostgreSQL limits to
/// `SELECT`, `INSERT`, `UPDATE`, `DELETE` and `NOTIFY`), whose text (a comment's prose says
/// "create table" as often as not) must not make the rest of the set unknown; otherwise as
/// [`may_change_relations`] reads its text. `GRANT` and `REVOKE` are not among them: privileges
/// are modelled too.
pub fn statement_may_change_relations(text: &str) -> bool {
    static INERT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let Some(rest) = after_comments(text) else {
        return may_change_relations(text);
    };
    let inert = INERT.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^(comment|security\s+label|analy[sz]e|vacuum|reindex|cluster|refresh|lock|notify|listen|unlisten|show|checkpoint|create\s+(or\s+replace\s+)?rule|drop\s+rule)\b",
        )
        .expect("valid regex")
    });
    !inert.is_match(rest) && may_change_relations(text)
}

/// The statement from its first word on, after the comments a chunk may start with; `None` for
/// a nested or unclosed comment (no first word to trust).
fn after_comments(text: &str) -> Option<&str> {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            let (body, r) = after.split_once("*/")?;
            if body.contains("/*") {
                return None;
            }
            rest = r.trim_start();
        } else {
            return Some(rest);
        }
    }
}

/// The calls a statement miglint could not read makes, for one that changes no relation itself:
/// a `DO` block's (read as its body), and those of a query or data change, whose strings and
/// comments are data. Other statements run no function when they run. What cannot be read
/// (another language, an unclosed literal) is unknown.
pub fn unread_calls(text: &str, span: &Range<usize>) -> Vec<Change> {
    let Some(rest) = after_comments(text) else {
        return Vec::new();
    };
    let lead = rest
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let callees = match lead.as_str() {
        "do" => super::functions::do_block_callees(rest),
        "select" | "insert" | "update" | "delete" | "with" | "call" | "values" | "merge"
        | "table" => super::functions::statement_callees(rest),
        _ => return Vec::new(),
    };
    match callees {
        None => vec![Change::Unknown {
            what: format!(
                "a {} statement miglint cannot read",
                lead.to_ascii_uppercase()
            ),
            span: span.clone(),
        }],
        Some(names) => names
            .into_iter()
            .map(|name| Change::Call {
                name: Name {
                    schema: None,
                    name,
                    span: span.clone(),
                },
            })
            .collect(),
    }
}

/// The statement's leading words, for an unknown effect's message.
fn statement_kind(text: &str) -> String {
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statements_that_may_change_the_schema_make_it_unknown() {
        for inert in [
            "COMMENT ON TABLE t IS $$ create table, drop table $$",
            "-- lead\n/* c */ comment on function f(int) is 'drops the table'",
            "ANALYZE t",
            "REFRESH MATERIALIZED VIEW v",
            "CREATE OR REPLACE RULE r AS ON INSERT TO t DO INSTEAD INSERT INTO u VALUES (new.a)",
        ] {
            assert!(!statement_may_change_relations(inert), "{inert}");
        }
        for live in [
            "ALTER SEQUENCE s RENAME TO t",
            "-- comment on\nDROP TABLE t",
            "/* a /* nested */ comment */ DROP TABLE t",
            "GRANT ALL ON TABLE t TO r; CREATE TABLE u ()",
            "CREATE RULEBOOK; DROP TABLE t",
            "commentary; DROP TABLE t",
        ] {
            assert!(statement_may_change_relations(live), "{live}");
        }
    }

    #[test]
    fn a_create_gives_the_spans_the_walk_gives() {
        let sql = "CREATE TABLE t (id int PRIMARY KEY, r int REFERENCES u (id), UNIQUE (r));\nCREATE UNIQUE INDEX i ON t (r);\nCREATE VIEW v AS SELECT * FROM t;\n";
        let dialect = crate::sql::dialect("postgres");
        let a = crate::sql::analyze(sql, dialect.as_ref(), &[], true);
        let creates: Vec<&Change> = a
            .changes
            .get()
            .iter()
            .filter(|c| matches!(c, Change::Create { .. }))
            .collect();
        assert_eq!(creates.len(), 3);
        for c in creates {
            let mut walked = Vec::new();
            c.clone().each_span(|r| walked.push(r.clone()));
            assert_eq!(c.spans(), walked);
        }
    }
}
