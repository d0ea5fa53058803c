//! The schema a migration set builds, replayed offline from each statement's effects
//! ([`crate::sql::ddl::Change`]) in migration order: schemas, relations (tables, views,
//! materialized views, indexes, sequences; one namespace per schema, as in `pg_class`) and table
//! columns. Names resolve as PostgreSQL resolves them: folded identifiers, the search path
//! (`public` by default, reset for every file: each file is its own psql session), temporary
//! relations first.
//!
//! The model knows what it cannot see. A statement it cannot follow (a `DO` block with DDL,
//! dynamic SQL, a call of a function, an unreadable statement) makes every name *unknown* from
//! then on; an extension, a declared external schema or a name PostgreSQL generates (a serial
//! column's `_seq`, a constraint's `_pkey` index) makes a name unknown, never missing. Only a name
//! the model is sure of is reported: the replay yields a [`Problem`] only where PostgreSQL would
//! certainly fail.

use std::collections::{HashMap, HashSet};

mod functions;
mod keys;
mod shapes;

use crate::sql::ddl::{AlterOp, Change, Column, Kind, Name, Reference, Shape};
use crate::sql::keys::{Key, Plain};

/// What PostgreSQL would refuse, with its SQLSTATE class in mind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// 3F000 `schema "x" does not exist` (or no schema of the search path exists to create in).
    UndefinedSchema { name: Name },
    /// 42P01 `relation "x" does not exist` (see [`Model::near_relation`] for a likely intent).
    UndefinedRelation { name: Name },
    /// 42703 `column "c" of relation "t" does not exist`.
    UndefinedColumn {
        table: String,
        column: Column,
        near: Option<String>,
    },
    /// 2BP01 `cannot drop … because other objects depend on it`: `dependent` says what (a view
    /// that reads it, or an object in the schema).
    DependentObjects { name: Name, dependent: String },
    /// 42P06 `schema "x" already exists`.
    DuplicateSchema { name: Name },
    /// 42P07 `relation "x" already exists`.
    DuplicateRelation { name: Name, existing: Kind },
    /// 42701 `column "c" of relation "t" already exists`.
    DuplicateColumn { table: String, column: Column },
    /// 23502 when the table has rows: a `NOT NULL` column added without a default to a table
    /// an earlier migration created (the database has had time to fill it). A warning: an
    /// empty table takes it.
    RequiredColumn { table: String, column: Column },
    /// 42710 `type "x" already exists` (an enum created twice).
    DuplicateType { name: Name },
    /// 42710 `enum label "v" already exists` (`ADD VALUE` without `IF NOT EXISTS`, or
    /// `RENAME VALUE … TO` a label the enum has).
    DuplicateEnumValue { type_name: String, value: Column },
    /// 42830 `there is no unique constraint matching given keys for referenced table` (or no
    /// primary key, for a bare `REFERENCES t`); 55000 when the only match is `DEFERRABLE`.
    ForeignKeyWithoutKey {
        reference: Reference,
        deferrable: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub kind: Kind,
    /// `None` when the columns are not known (`AS SELECT`, `LIKE`, views, external tables).
    pub columns: Option<Vec<String>>,
    /// A view's relations, resolved when it was created (`None`: not known).
    pub uses: Option<Vec<(String, String)>>,
    /// The file (counted from 1 in replay order) that created it; 0 when it came from outside.
    pub file: u32,
    /// A table's unique keys, `None` when they are not all known (a table made outside the
    /// set or by `LIKE`, a key the replay could not read, a drop it could not follow).
    pub keys: Option<Vec<Key>>,
    /// A table's columns' type families and nullability, where written (not for `LIKE`, …).
    pub shapes: Vec<Shape>,
    /// A table's plain indexes, `None` when not all are known (one on an expression, …).
    pub indexes: Option<Vec<Plain>>,
    /// An index's columns (it goes when one of them is dropped); `None` when not all are
    /// plain columns (an expression, a predicate).
    pub on_columns: Option<Vec<String>>,
}

impl Relation {
    /// An index, or a sequence a serial or identity column owns: it goes with its table (`uses`)
    /// and with the column it is on (`on_columns`).
    fn owned(&self) -> bool {
        self.kind == Kind::Index || (self.kind == Kind::Sequence && self.uses.is_some())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Namespace {
    pub relations: HashMap<String, Relation>,
    /// Enum types created by the set, with their labels in order.
    pub enums: HashMap<String, Vec<String>>,
    /// May hold relations the replay cannot see (an extension's, a declared external schema).
    pub open: bool,
    /// Its existence is not certain (declared external, or learned from an applied file).
    pub maybe: bool,
    /// Every key and index name the replay has seen here (never shrinks: a name kept too long
    /// only makes a generated name unknown, see [`crate::sql::keys::Key::generated`]).
    pub key_names: HashSet<String>,
}

/// The model at one point of the replay.
#[derive(Debug, Clone)]
pub struct Model {
    pub schemas: HashMap<String, Namespace>,
    /// Why any name may now exist or be gone (the first construct the replay cannot follow).
    pub opaque: Option<String>,
    /// Relations whose existence is unknown (views a `DROP … CASCADE` may have taken).
    maybe_gone: HashSet<(String, String)>,
    path: Vec<String>,
    temp: HashMap<String, Relation>,
    /// The file being replayed (counted from 1 by [`Model::begin_file`]).
    file: u32,
    /// The functions the set defined, for its calls of them.
    functions: functions::Functions,
}

/// Where a name resolved.
enum Lookup {
    Found {
        schema: String,
    },
    /// Certainly absent; `schema` is set when the schema itself is missing.
    Missing {
        schema: Option<String>,
    },
    Unknown,
}

/// Schemas PostgreSQL always has whose contents the replay does not model.
const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

/// Suffixes of the names PostgreSQL generates for implicit objects (a serial column's
/// sequence, a constraint's index).
const GENERATED_SUFFIXES: &[&str] = &["_seq", "_pkey", "_key", "_idx", "_fkey", "_excl", "_check"];

impl Model {
    /// An empty database (`public` exists), with the relations and schemas the configuration
    /// declares external (`schema` or `schema.relation`; a bare relation is in `public`).
    pub fn new(external: &[String]) -> Model {
        let mut m = Model {
            schemas: HashMap::from([("public".to_string(), Namespace::default())]),
            opaque: None,
            maybe_gone: HashSet::new(),
            path: vec!["public".into()],
            temp: HashMap::new(),
            file: 0,
            functions: functions::Functions::default(),
        };
        for e in external {
            let e = e.trim();
            match e.split_once('.') {
                Some((schema, relation)) => {
                    let ns = m
                        .schemas
                        .entry(schema.to_string())
                        .or_insert_with(|| Namespace {
                            maybe: true,
                            ..Namespace::default()
                        });
                    ns.relations.insert(relation.to_string(), unknown_table());
                }
                None => {
                    let ns = m.schemas.entry(e.to_string()).or_default();
                    ns.open = true;
                    ns.maybe = e != "public";
                }
            }
        }
        m
    }

    /// Replays one migration file (a new psql session) from its analysis, as PostgreSQL accepted
    /// it. A file not read as SQL (no analysis, or one skipped as too large) makes what follows
    /// unknown; returns whether it was read.
    pub fn replay_file(&mut self, name: &str, analysis: Option<&crate::sql::Analysis>) -> bool {
        self.begin_file();
        let Some(analysis) = analysis.filter(|a| !a.skipped) else {
            self.apply(
                &Change::Unknown {
                    what: format!("`{name}`, which miglint could not read as SQL"),
                    span: 0..0,
                },
                true,
            );
            return false;
        };
        for change in analysis.changes.get() {
            self.apply(change, true);
        }
        true
    }

    /// A new file: a new psql session (default search path, no temporary relations).
    pub fn begin_file(&mut self) {
        self.file += 1;
        self.path = vec!["public".into()];
        self.temp.clear();
    }

    /// Applies one change; returns what PostgreSQL would refuse. With `learn` (an applied file,
    /// which PostgreSQL accepted), nothing is refused: the model is corrected instead.
    pub fn apply(&mut self, change: &Change, learn: bool) -> Vec<Problem> {
        let mut problems = Vec::new();
        match change {
            Change::SearchPath(p) => {
                self.path = p
                    .iter()
                    .filter(|s| s.as_str() != "$user")
                    .cloned()
                    .collect();
            }
            Change::CreateSchema {
                name,
                if_not_exists,
            } => match self.schemas.get_mut(&name.name) {
                Some(ns) if ns.maybe => ns.maybe = false,
                Some(_) if !if_not_exists && self.opaque.is_none() => {
                    problems.push(Problem::DuplicateSchema { name: name.clone() })
                }
                Some(_) => {}
                None => {
                    self.schemas.insert(name.name.clone(), Namespace::default());
                }
            },
            Change::Create { .. } => self.create(change, &mut problems),
            Change::Drop {
                kind,
                names,
                if_exists,
                cascade,
            } => self.drop_all(*kind, names, (*if_exists, *cascade), learn, &mut problems),
            Change::AlterTable {
                name,
                if_exists,
                ops,
            } => self.alter_table(name, *if_exists, ops, &mut problems),
            Change::RenameIndex { name, to } => {
                if let Lookup::Found { schema } = self.lookup(name, Some(Kind::Index)) {
                    self.rename(&schema, &name.name, to);
                }
                self.rename_key(name, to);
            }
            Change::Uses { table, columns } => match self.lookup(table, None) {
                Lookup::Found { schema } => {
                    self.check_columns(&schema, table, columns, &mut problems)
                }
                Lookup::Missing { schema } => problems.push(self.missing(table, schema)),
                Lookup::Unknown => {}
            },
            Change::Extension { schema, .. } => {
                let target = schema.clone().or_else(|| self.creation_schema());
                if let Some(ns) = target.and_then(|s| self.schemas.get_mut(&s)) {
                    ns.open = true;
                }
            }
            Change::CreateEnum { .. }
            | Change::EnumValue { .. }
            | Change::RenameType { .. }
            | Change::DropType { .. } => self.enum_change(change, &mut problems),
            Change::Unknown { what, .. } => {
                self.opaque.get_or_insert_with(|| what.clone());
            }
            Change::Privilege(_) => {}
            Change::Function { name, callees } => self.define_function(name, callees),
            Change::DropFunction { names } => names.iter().for_each(|n| self.drop_function(n)),
            Change::Call { name } => self.call(name),
        }
        if learn {
            for p in &problems {
                self.learn(p);
            }
            return Vec::new();
        }
        problems
    }

    /// Enum types: created, their labels added or renamed, renamed, dropped. Only an enum the
    /// set created is judged; a type made elsewhere (an extension, a `DO` block, a domain) is
    /// never reported missing.
    fn enum_change(&mut self, change: &Change, problems: &mut Vec<Problem>) {
        let sure = self.opaque.is_none();
        match change {
            Change::CreateEnum { name, labels } => {
                let Some(schema) = self.target_schema(name, false, problems) else {
                    return;
                };
                let ns = self.schemas.entry(schema).or_default();
                if ns.enums.contains_key(&name.name) && sure {
                    problems.push(Problem::DuplicateType { name: name.clone() });
                }
                ns.enums.insert(name.name.clone(), labels.clone());
            }
            Change::EnumValue {
                name,
                value,
                from,
                if_not_exists,
            } => {
                let Some(labels) = self.enum_mut(name) else {
                    return;
                };
                if labels.contains(&value.name) {
                    if from.is_some() || !if_not_exists {
                        let type_name = name.name.clone();
                        if sure {
                            problems.push(Problem::DuplicateEnumValue {
                                type_name,
                                value: value.clone(),
                            });
                        }
                    }
                    return;
                }
                match from {
                    Some(f) => labels
                        .iter_mut()
                        .filter(|l| *l == f)
                        .for_each(|l| *l = value.name.clone()),
                    None => labels.push(value.name.clone()),
                }
            }
            Change::RenameType { name, to } => {
                let Some(schema) = self.enum_schema(name) else {
                    return;
                };
                if let Some(ns) = self.schemas.get_mut(&schema) {
                    if let Some(labels) = ns.enums.remove(&name.name) {
                        ns.enums.insert(to.clone(), labels);
                    }
                }
            }
            Change::DropType { names } => {
                for name in names {
                    if let Some(schema) = self.enum_schema(name) {
                        if let Some(ns) = self.schemas.get_mut(&schema) {
                            ns.enums.remove(&name.name);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The schema of the enum `name` resolves to (its own, or the first of the search path
    /// that has it), if the set created it.
    fn enum_schema(&self, name: &Name) -> Option<String> {
        let has = |s: &String| {
            self.schemas
                .get(s)
                .is_some_and(|ns| ns.enums.contains_key(&name.name))
        };
        match &name.schema {
            Some(s) => has(s).then(|| s.clone()),
            None => self.path.iter().find(|s| has(s)).cloned(),
        }
    }

    fn enum_mut(&mut self, name: &Name) -> Option<&mut Vec<String>> {
        let schema = self.enum_schema(name)?;
        self.schemas.get_mut(&schema)?.enums.get_mut(&name.name)
    }

    /// Corrects the model with what an applied file shows exists.
    fn learn(&mut self, problem: &Problem) {
        match problem {
            Problem::UndefinedSchema { name } => {
                self.schemas.entry(name.name.clone()).or_default().maybe = true;
            }
            Problem::UndefinedRelation { name, .. } => {
                let schema = name
                    .schema
                    .clone()
                    .or_else(|| self.creation_schema())
                    .unwrap_or_else(|| "public".into());
                let ns = self.schemas.entry(schema).or_default();
                ns.relations.insert(name.name.clone(), unknown_table());
            }
            Problem::ForeignKeyWithoutKey { reference, .. } => self.learn_key(reference),
            Problem::UndefinedColumn { table, .. } => {
                for ns in self.schemas.values_mut() {
                    if let Some(r) = ns.relations.get_mut(table) {
                        r.columns = None;
                    }
                }
            }
            _ => {}
        }
    }

    /// The first schema of the search path that exists (where an unqualified name is created).
    fn creation_schema(&self) -> Option<String> {
        self.path
            .iter()
            .find(|s| self.schemas.contains_key(*s))
            .cloned()
    }

    fn relation(&self, schema: &str, name: &str) -> Option<&Relation> {
        if schema == "pg_temp" {
            return self.temp.get(name);
        }
        self.schemas.get(schema)?.relations.get(name)
    }

    fn relation_mut(&mut self, schema: &str, name: &str) -> Option<&mut Relation> {
        if schema == "pg_temp" {
            return self.temp.get_mut(name);
        }
        self.schemas.get_mut(schema)?.relations.get_mut(name)
    }

    /// Resolves `name` as PostgreSQL would. Indexes and sequences that are missing are unknown
    /// (PostgreSQL generates some), as is anything once the replay is opaque.
    fn lookup(&self, name: &Name, kind: Option<Kind>) -> Lookup {
        let found = match &name.schema {
            Some(s) if s == "pg_temp" => self.temp.contains_key(&name.name).then(|| s.clone()),
            Some(s) => self
                .schemas
                .get(s)
                .filter(|ns| ns.relations.contains_key(&name.name))
                .map(|_| s.clone()),
            None if self.temp.contains_key(&name.name) => Some("pg_temp".into()),
            None => self
                .path
                .iter()
                .find(|s| {
                    self.schemas
                        .get(*s)
                        .is_some_and(|ns| ns.relations.contains_key(&name.name))
                })
                .cloned(),
        };
        if let Some(schema) = found {
            if self
                .maybe_gone
                .contains(&(schema.clone(), name.name.clone()))
            {
                return Lookup::Unknown;
            }
            return Lookup::Found { schema };
        }
        // Alembic's version table may predate the SQL set (Alembic made it before the switch).
        let generated = GENERATED_SUFFIXES.iter().any(|s| name.name.ends_with(s))
            || name.name.starts_with("pg_")
            || name.name.starts_with("alembic_version");
        if self.opaque.is_some() || generated || matches!(kind, Some(Kind::Index | Kind::Sequence))
        {
            return Lookup::Unknown;
        }
        match &name.schema {
            Some(s) if SYSTEM_SCHEMAS.contains(&s.as_str()) || s.starts_with("pg_temp") => {
                Lookup::Unknown
            }
            Some(s) => match self.schemas.get(s) {
                None => Lookup::Missing {
                    schema: Some(s.clone()),
                },
                Some(ns) if ns.open => Lookup::Unknown,
                Some(_) => Lookup::Missing { schema: None },
            },
            // Missing only if some schema of the path exists and none may hold unseen names.
            None => {
                let exists = self.path.iter().any(|s| self.schemas.contains_key(s));
                let open = self
                    .path
                    .iter()
                    .any(|s| self.schemas.get(s).is_none_or(|ns| ns.open));
                if exists && !open {
                    Lookup::Missing { schema: None }
                } else {
                    Lookup::Unknown
                }
            }
        }
    }

    /// A known relation `name` may be a typo of, among those it could have resolved to (its
    /// schema's, or the search path's). Computed only for a reported problem, and skipped
    /// where a schema holds so many relations that a suggestion would cost more than it helps.
    /// `name` with the schema an unqualified name would be created in (the first existing
    /// schema of the search path): how `external` must name a relation, since a bare name
    /// there is a schema.
    pub fn qualified(&self, name: &Name) -> String {
        match &name.schema {
            Some(_) => name.to_string(),
            None => format!(
                "{}.{}",
                self.creation_schema().as_deref().unwrap_or("public"),
                name.name
            ),
        }
    }

    pub fn near_relation(&self, name: &Name) -> Option<String> {
        let scope: Vec<&Namespace> = match &name.schema {
            Some(s) => self.schemas.get(s).into_iter().collect(),
            None => self
                .path
                .iter()
                .filter_map(|s| self.schemas.get(s))
                .collect(),
        };
        if scope.iter().map(|ns| ns.relations.len()).sum::<usize>() > 5_000 {
            return None;
        }
        nearest(&name.name, scope.iter().flat_map(|ns| ns.relations.keys()))
    }

    /// The problem for a name that is certainly missing.
    fn missing(&self, name: &Name, schema: Option<String>) -> Problem {
        match schema {
            Some(s) => Problem::UndefinedSchema {
                name: Name {
                    schema: None,
                    name: s,
                    span: name.span.clone(),
                },
            },
            None => Problem::UndefinedRelation { name: name.clone() },
        }
    }

    /// Checks that a relation a statement names exists.
    fn require(&self, name: &Name, problems: &mut Vec<Problem>) {
        if let Lookup::Missing { schema } = self.lookup(name, None) {
            problems.push(self.missing(name, schema));
        }
    }

    /// Whether every relation of `names` may exist (reports those that certainly do not).
    fn all_exist<'n>(
        &self,
        names: impl Iterator<Item = &'n Name>,
        problems: &mut Vec<Problem>,
    ) -> bool {
        let before = problems.len();
        names.for_each(|n| self.require(n, problems));
        problems.len() == before
    }

    /// Checks a foreign key's target table, the columns it names, and that they are a key.
    fn require_reference(&self, r: &Reference, problems: &mut Vec<Problem>) {
        match self.lookup(&r.table, None) {
            Lookup::Found { schema } => {
                let before = problems.len();
                self.check_columns(&schema, &r.table, &r.columns, problems);
                if problems.len() == before {
                    self.check_key(&schema, r, problems);
                }
            }
            Lookup::Missing { schema } => problems.push(self.missing(&r.table, schema)),
            Lookup::Unknown => {}
        }
    }

    fn create(&mut self, change: &Change, problems: &mut Vec<Problem>) {
        let Change::Create {
            kind,
            name,
            if_not_exists,
            or_replace,
            temporary,
            on,
            references,
            uses,
            keys,
            sequences,
            ..
        } = change
        else {
            return;
        };
        // A view's query reads relations that must exist.
        if !self.all_exist(uses.iter().flatten(), problems) {
            return;
        }
        let mut target = name.clone();
        let mut indexed = None;
        if let Some(on) = on {
            let Some(table) = self.indexed_table(on, problems) else {
                return;
            };
            target.schema = Some(table.0.clone());
            // An unnamed index gets a name PostgreSQL chooses.
            if name.name.is_empty() {
                self.index_of(Some(table), change);
                return;
            }
            indexed = Some(table);
        }
        let Some(schema) = self.target_schema(&target, *temporary, problems) else {
            return;
        };
        let key = (schema.clone(), target.name.clone());
        let existing = self.relation(&schema, &target.name).map(|r| r.kind);
        let certain = !self.maybe_gone.remove(&key);
        match existing {
            Some(k) if *or_replace && k == *kind => {}
            Some(_) if *if_not_exists => return,
            // After a statement the replay cannot follow, the existing one may be gone.
            Some(k) if certain && self.opaque.is_none() => {
                problems.push(Problem::DuplicateRelation {
                    name: target.clone(),
                    existing: k,
                });
                return;
            }
            _ => {}
        }
        let relation = self.new_relation(change, &indexed);
        if schema == "pg_temp" {
            self.temp.insert(target.name.clone(), relation);
        } else if let Some(ns) = self.schemas.get_mut(&schema) {
            ns.relations.insert(target.name.clone(), relation);
        }
        self.add_owned_sequences(&schema, &target.name, sequences);
        match (kind, keys) {
            (Kind::Table, Some(keys)) => self.add_keys(Some((schema, target.name)), keys.iter()),
            (Kind::Table, None) => self.forget_keys(&schema, &target.name),
            _ => self.index_of(indexed, change),
        }
        for r in references {
            self.require_reference(r, problems);
        }
    }

    /// The relation a `CREATE` makes (its keys are added after).
    fn new_relation(&self, change: &Change, indexed: &Option<(String, String)>) -> Relation {
        let Change::Create {
            kind,
            columns,
            uses,
            shapes,
            ..
        } = change
        else {
            return unknown_table();
        };
        Relation {
            kind: *kind,
            columns: columns
                .as_ref()
                .map(|c| c.iter().map(|c| c.name.clone()).collect()),
            uses: self.dependencies(indexed, uses),
            file: self.file,
            keys: (*kind == Kind::Table).then(|| Some(Vec::new())).flatten(),
            shapes: shapes.clone(),
            indexes: (*kind == Kind::Table && columns.is_some()).then(Vec::new),
            on_columns: on_columns(change),
        }
    }

    /// What a new index adds to its table: a key, a plain index, or that its indexes are no
    /// longer known.
    fn index_of(&mut self, table: Option<(String, String)>, change: &Change) {
        let Change::Create {
            keys,
            plain,
            index_unreadable,
            ..
        } = change
        else {
            return;
        };
        if let Some(t) = &table {
            self.add_index(t, plain.as_deref(), *index_unreadable);
        }
        self.add_keys(table, keys.iter().flatten());
    }

    /// An index's table, with the columns it indexes checked; `None` when the statement stops
    /// there (the table is missing, or not known).
    fn indexed_table(
        &self,
        (table, cols): &(Name, Vec<Column>),
        problems: &mut Vec<Problem>,
    ) -> Option<(String, String)> {
        match self.lookup(table, None) {
            Lookup::Missing { schema } => {
                problems.push(self.missing(table, schema));
                None
            }
            Lookup::Found { schema } => {
                self.check_columns(&schema, table, cols, problems);
                Some((schema, table.name.clone()))
            }
            Lookup::Unknown => None,
        }
    }

    /// What a new relation depends on: an index's table (the index goes with it), or a view's
    /// relations (`None` when not all are known).
    fn dependencies(
        &self,
        indexed: &Option<(String, String)>,
        uses: &Option<Vec<Name>>,
    ) -> Option<Vec<(String, String)>> {
        if let Some(table) = indexed {
            return Some(vec![table.clone()]);
        }
        let resolved = |n: &Name| match self.lookup(n, None) {
            Lookup::Found { schema } => Some((schema, n.name.clone())),
            _ => None,
        };
        uses.as_ref()?.iter().map(resolved).collect()
    }

    /// The schema a new relation goes into: `pg_temp`, its qualifier (which must exist), or the
    /// first existing schema of the search path.
    fn target_schema(
        &self,
        target: &Name,
        temporary: bool,
        problems: &mut Vec<Problem>,
    ) -> Option<String> {
        if temporary {
            return Some("pg_temp".to_string());
        }
        match &target.schema {
            Some(s) if !self.schemas.contains_key(s) && self.opaque.is_none() => {
                problems.push(self.missing(target, Some(s.clone())));
                None
            }
            Some(s) => Some(s.clone()),
            None => self.creation_schema(),
        }
    }

    fn check_columns(
        &self,
        schema: &str,
        table: &Name,
        columns: &[Column],
        problems: &mut Vec<Problem>,
    ) {
        let Some(known) = self
            .relation(schema, &table.name)
            .and_then(|r| r.columns.as_ref())
        else {
            return;
        };
        for c in columns {
            if !known.contains(&c.name) && self.opaque.is_none() {
                problems.push(Problem::UndefinedColumn {
                    table: table.name.clone(),
                    column: c.clone(),
                    near: nearest(&c.name, known.iter()),
                });
            }
        }
    }

    fn drop(
        &mut self,
        kind: Option<Kind>,
        name: &Name,
        if_exists: bool,
        cascade: bool,
        problems: &mut Vec<Problem>,
    ) {
        let Some(kind) = kind else {
            // A schema.
            match self.schemas.get(&name.name) {
                Some(_) => {
                    self.schemas.remove(&name.name);
                }
                None if !if_exists && self.opaque.is_none() => {
                    problems.push(Problem::UndefinedSchema { name: name.clone() })
                }
                None => {}
            }
            return;
        };
        let lookup = self.lookup(name, Some(kind));
        if kind == Kind::Index {
            self.drop_key(name, matches!(lookup, Lookup::Found { .. }));
        }
        match lookup {
            Lookup::Found { schema } => {
                if schema == "pg_temp" {
                    self.temp.remove(&name.name);
                } else if let Some(ns) = self.schemas.get_mut(&schema) {
                    ns.relations.remove(&name.name);
                }
                let gone = (schema, name.name.clone());
                self.drop_indexes_of(&gone);
                if cascade {
                    self.drop_dependents(gone);
                }
            }
            Lookup::Missing { schema } if !if_exists => problems.push(self.missing(name, schema)),
            _ => {}
        }
    }

    /// `DROP` of each name; without CASCADE, one that other objects still need is refused (in an
    /// applied file, which PostgreSQL accepted, they were gone: they go too).
    fn drop_all(
        &mut self,
        kind: Option<Kind>,
        names: &[Name],
        (if_exists, cascade): (bool, bool),
        learn: bool,
        problems: &mut Vec<Problem>,
    ) {
        for name in names {
            let blocked = (!cascade)
                .then(|| self.dependent(kind, name, names))
                .flatten();
            match blocked {
                Some(dependent) if !learn => problems.push(Problem::DependentObjects {
                    name: name.clone(),
                    dependent,
                }),
                Some(_) => self.drop(kind, name, if_exists, true, problems),
                None => self.drop(kind, name, if_exists, cascade, problems),
            }
        }
    }

    /// What certainly depends on the relation or schema a `DROP` without CASCADE names, other
    /// than what the same statement drops: a view (or materialized view) whose query reads it;
    /// for a schema, any relation or enum the set created in it. Nothing when the replay is
    /// unsure.
    fn dependent(&self, kind: Option<Kind>, name: &Name, dropped: &[Name]) -> Option<String> {
        if self.opaque.is_some() {
            return None;
        }
        let Some(kind) = kind else {
            let ns = self.schemas.get(&name.name)?;
            let held = ns.relations.iter().find(|(n, r)| {
                r.file > 0 && !self.maybe_gone.contains(&(name.name.clone(), (*n).clone()))
            });
            return match held {
                Some((n, r)) => Some(format!("{} `{}.{n}`", r.kind.as_str(), name.name)),
                None => ns
                    .enums
                    .keys()
                    .next()
                    .map(|e| format!("type `{}.{e}`", name.name)),
            };
        };
        // Nothing reads an index; dropping one is never refused for a view.
        if kind == Kind::Index {
            return None;
        }
        let Lookup::Found { schema } = self.lookup(name, Some(kind)) else {
            return None;
        };
        let gone = (schema, name.name.clone());
        let also_dropped = |s: &str, n: &str| {
            dropped.iter().any(|d| {
                d.name == n
                    && matches!(self.lookup(d, None), Lookup::Found { schema } if schema == s)
            })
        };
        for (s, ns) in &self.schemas {
            for (n, r) in &ns.relations {
                let reads = matches!(r.kind, Kind::View | Kind::MaterializedView)
                    && r.uses.as_ref().is_some_and(|u| u.contains(&gone));
                let certain = !self.maybe_gone.contains(&(s.clone(), n.clone()));
                if reads && certain && !also_dropped(s, n) && (s, n) != (&gone.0, &gone.1) {
                    return Some(format!("{} `{s}.{n}`", r.kind.as_str()));
                }
            }
        }
        None
    }

    /// `DROP … CASCADE` of `gone`: the views that read it go too, and those that read them;
    /// a view whose relations are not known may have gone.
    fn drop_dependents(&mut self, gone: (String, String)) {
        let mut queue = vec![gone];
        while let Some(g) = queue.pop() {
            let mut dropped = Vec::new();
            for (s, ns) in &self.schemas {
                for (n, r) in &ns.relations {
                    if !matches!(r.kind, Kind::View | Kind::MaterializedView) {
                        continue;
                    }
                    match &r.uses {
                        Some(u) if u.contains(&g) => dropped.push((s.clone(), n.clone())),
                        Some(_) => {}
                        None => {
                            self.maybe_gone.insert((s.clone(), n.clone()));
                        }
                    }
                }
            }
            for (s, n) in &dropped {
                if let Some(ns) = self.schemas.get_mut(s) {
                    ns.relations.remove(n);
                }
                self.drop_indexes_of(&(s.clone(), n.clone()));
            }
            queue.extend(dropped);
        }
    }

    /// A dropped table's (or materialized view's) indexes, and the sequences of its serial and
    /// identity columns, go with it.
    fn drop_indexes_of(&mut self, gone: &(String, String)) {
        for ns in self.schemas.values_mut() {
            ns.relations
                .retain(|_, r| !(r.owned() && r.uses.as_ref().is_some_and(|u| u.contains(gone))));
        }
    }

    /// The sequences PostgreSQL creates for a new table's serial and identity columns, owned by
    /// them: only where the generated name is certainly free (on a clash PostgreSQL numbers it,
    /// which is not followed) and the schema holds nothing unseen. Never in `pg_temp`.
    fn add_owned_sequences(&mut self, schema: &str, table: &str, sequences: &[(String, String)]) {
        if schema == "pg_temp" || self.opaque.is_some() {
            return;
        }
        let file = self.file;
        let Some(ns) = self
            .schemas
            .get_mut(schema)
            .filter(|ns| !ns.open && !ns.maybe)
        else {
            return;
        };
        for (column, name) in sequences {
            if ns.relations.contains_key(name) {
                continue;
            }
            ns.relations.insert(
                name.clone(),
                Relation {
                    kind: Kind::Sequence,
                    columns: None,
                    uses: Some(vec![(schema.to_string(), table.to_string())]),
                    file,
                    keys: None,
                    shapes: Vec::new(),
                    indexes: None,
                    on_columns: Some(vec![column.clone()]),
                },
            );
        }
    }

    fn alter_table(
        &mut self,
        name: &Name,
        if_exists: bool,
        ops: &[AlterOp],
        problems: &mut Vec<Problem>,
    ) {
        let schema = match self.lookup(name, None) {
            Lookup::Found { schema } => schema,
            Lookup::Missing { schema } => {
                if !if_exists {
                    problems.push(self.missing(name, schema));
                }
                return;
            }
            Lookup::Unknown => {
                // Still check what the action needs elsewhere.
                for op in ops {
                    if let AlterOp::AddForeignKey(r) = op {
                        self.require_reference(r, problems);
                    }
                }
                return;
            }
        };
        let mut table = name.name.clone();
        // PostgreSQL adds foreign keys after every other action of the statement (so they
        // may use a key it adds).
        let (mut references, mut needs) = (Vec::new(), Vec::new());
        for op in ops {
            if let Some(p) = self.alter_op(&schema, (&mut table, &name.span), op) {
                problems.push(p);
            }
            self.key_op(&schema, &table, op);
            self.shape_op(&schema, &table, op);
            match op {
                AlterOp::AddForeignKey(r) => references.push(r),
                AlterOp::AddColumn { references: r, .. } => references.extend(r),
                AlterOp::Needs(columns) => needs.extend(columns.iter().cloned()),
                _ => {}
            }
        }
        let current = Name {
            name: table,
            ..name.clone()
        };
        self.check_columns(&schema, &current, &needs, problems);
        for r in references {
            self.require_reference(r, problems);
        }
    }

    /// One `ALTER TABLE` action on `schema.table` (renamed in place by `RENAME TO`).
    fn alter_op(
        &mut self,
        schema: &str,
        (table, span): (&mut String, &std::ops::Range<usize>),
        op: &AlterOp,
    ) -> Option<Problem> {
        let opaque = self.opaque.is_some();
        let t = table.clone();
        if let AlterOp::RenameTo(to) = op {
            if let Some(existing) = self.relation(schema, to) {
                if !opaque {
                    return Some(Problem::DuplicateRelation {
                        name: Name {
                            schema: Some(schema.to_string()),
                            name: to.clone(),
                            span: span.clone(),
                        },
                        existing: existing.kind,
                    });
                }
            }
            self.rename(schema, table, to);
            *table = to.clone();
            return None;
        }
        let file = self.file;
        let relation = self.relation_mut(schema, table)?;
        // Created by an earlier migration (or outside the set): the database may hold rows.
        let filled = relation.file < file;
        let Some(columns) = relation.columns.as_mut() else {
            return match op {
                AlterOp::AddColumn {
                    column,
                    required: true,
                    ..
                } if filled => Some(Problem::RequiredColumn {
                    table: t,
                    column: column.clone(),
                }),
                _ => None,
            };
        };
        column_op(columns, (&t, filled), op, opaque)
    }

    fn rename(&mut self, schema: &str, from: &str, to: &str) {
        if schema == "pg_temp" {
            if let Some(r) = self.temp.remove(from) {
                self.temp.insert(to.to_string(), r);
            }
        } else if let Some(ns) = self.schemas.get_mut(schema) {
            if let Some(r) = ns.relations.remove(from) {
                ns.relations.insert(to.to_string(), r);
            }
        }
        // Views and indexes follow their relation (PostgreSQL refers to it by OID).
        let old = (schema.to_string(), from.to_string());
        for ns in self.schemas.values_mut() {
            for u in ns.relations.values_mut().filter_map(|r| r.uses.as_mut()) {
                u.iter_mut()
                    .filter(|x| **x == old)
                    .for_each(|x| x.1 = to.to_string());
            }
        }
    }
}

/// One column action of an `ALTER TABLE` on `table`'s known `columns`.
fn column_op(
    columns: &mut Vec<String>,
    (t, filled): (&str, bool),
    op: &AlterOp,
    opaque: bool,
) -> Option<Problem> {
    let missing = |c: &Column, known: &Vec<String>| {
        (!opaque).then(|| Problem::UndefinedColumn {
            table: t.to_string(),
            column: c.clone(),
            near: nearest(&c.name, known.iter()),
        })
    };
    match op {
        AlterOp::AddColumn {
            column,
            if_not_exists,
            required,
            ..
        } => {
            if columns.contains(&column.name) {
                return (!if_not_exists && !opaque).then(|| Problem::DuplicateColumn {
                    table: t.to_string(),
                    column: column.clone(),
                });
            }
            columns.push(column.name.clone());
            if *required && filled {
                return Some(Problem::RequiredColumn {
                    table: t.to_string(),
                    column: column.clone(),
                });
            }
        }
        AlterOp::DropColumn {
            columns: dropped,
            if_exists,
        } => {
            for c in dropped {
                match columns.iter().position(|k| *k == c.name) {
                    Some(i) => {
                        columns.remove(i);
                    }
                    None if !if_exists => return missing(c, columns),
                    None => {}
                }
            }
        }
        AlterOp::RenameColumn { from, to } => {
            let Some(i) = columns.iter().position(|k| *k == from.name) else {
                return missing(from, columns);
            };
            if columns.contains(to) && !opaque {
                return Some(Problem::DuplicateColumn {
                    table: t.to_string(),
                    column: Column {
                        name: to.clone(),
                        span: from.span.clone(),
                    },
                });
            }
            columns[i] = to.clone();
        }
        AlterOp::AlterColumn(c) if !columns.contains(&c.name) => return missing(c, columns),
        _ => {}
    }
    None
}

/// The columns a new index is on, when all are plain (see [`Relation::on_columns`]).
fn on_columns(change: &Change) -> Option<Vec<String>> {
    match change {
        Change::Create {
            on: Some((_, columns)),
            index_unreadable: false,
            ..
        } => Some(columns.iter().map(|c| c.name.clone()).collect()),
        _ => None,
    }
}

fn unknown_table() -> Relation {
    Relation {
        kind: Kind::Table,
        columns: None,
        uses: None,
        file: 0,
        keys: None,
        shapes: Vec::new(),
        indexes: None,
        on_columns: None,
    }
}

/// The known name closest to `name` when it is a likely typo (edit distance ≤ 2, or ≤ a third
/// of its length).
fn nearest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    let limit = (name.chars().count() / 3).clamp(1, 2);
    let len = name.chars().count();
    known
        .filter(|k| k.len().abs_diff(len) <= limit)
        .map(|k| (crate::registry::edit_distance(name, k), k))
        .filter(|(d, _)| *d <= limit && *d > 0)
        .min()
        .map(|(_, k)| k.clone())
}

/// What a change does to the schema: the relations and table columns one model has that the
/// other lacks (`before` → `after`). A rename shows as a drop and an add. `unsure` when either
/// model stopped following (a `DO` block, dynamic SQL): then names may be missing from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaChange {
    /// `schema.name` with its kind (`table`, `index`, …).
    pub added: Vec<(String, Kind)>,
    pub dropped: Vec<(String, Kind)>,
    /// `schema.table.column`, for tables in both models whose columns are known.
    pub added_columns: Vec<String>,
    pub dropped_columns: Vec<String>,
    pub unsure: bool,
}

impl SchemaChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.dropped.is_empty()
            && self.added_columns.is_empty()
            && self.dropped_columns.is_empty()
    }
}

impl Model {
    /// Every relation as `schema.name` → (kind, columns).
    fn relations(&self) -> std::collections::BTreeMap<String, &Relation> {
        self.schemas
            .iter()
            .flat_map(|(s, ns)| {
                ns.relations
                    .iter()
                    .map(move |(n, r)| (format!("{s}.{n}"), r))
            })
            .collect()
    }

    /// What changes from `self` (before) to `after`.
    pub fn change_to(&self, after: &Model) -> SchemaChange {
        let (a, b) = (self.relations(), after.relations());
        let mut change = SchemaChange {
            unsure: self.opaque.is_some() || after.opaque.is_some(),
            ..SchemaChange::default()
        };
        for (name, r) in &b {
            match a.get(name) {
                None => change.added.push((name.clone(), r.kind)),
                Some(old) => {
                    if let (Some(new), Some(old)) = (&r.columns, &old.columns) {
                        let added = new.iter().filter(|c| !old.contains(c));
                        change
                            .added_columns
                            .extend(added.map(|c| format!("{name}.{c}")));
                        let dropped = old.iter().filter(|c| !new.contains(c));
                        change
                            .dropped_columns
                            .extend(dropped.map(|c| format!("{name}.{c}")));
                    }
                }
            }
        }
        for (name, r) in &a {
            if !b.contains_key(name) {
                change.dropped.push((name.clone(), r.kind));
            }
        }
        change
    }
}
