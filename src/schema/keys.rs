//! The unique keys of the tables the set creates, followed through the replay so that a
//! foreign key to columns without one is found before PostgreSQL refuses it (42830, 55000);
//! and their plain indexes (compared with the schema the Alembic chain builds).
//!
//! Keys are only ever *forgotten* when the replay is unsure (a table's keys become `None`):
//! a key the model lacks would be a false alarm, one it keeps too long only a missed one.

use super::{Lookup, Model, Problem};
use crate::sql::ddl::{AlterOp, Kind, Name, Reference};
use crate::sql::keys::{Key, Plain};

impl Model {
    /// Whether a relation, key or index may hold `name` in `schema` (then PostgreSQL would
    /// generate another). A hash lookup: the check runs for every key a table gets.
    fn taken(&self, schema: &str, name: &str) -> bool {
        self.schemas
            .get(schema)
            .is_none_or(|ns| ns.relations.contains_key(name) || ns.key_names.contains(name))
    }

    /// Notes the names of keys and indexes `schema` now holds.
    fn note_names<'n>(&mut self, schema: &str, names: impl Iterator<Item = &'n Option<String>>) {
        if let Some(ns) = self.schemas.get_mut(schema) {
            ns.key_names.extend(names.flatten().cloned());
        }
    }

    /// Adds keys to `table` (if its keys are known). A generated name already taken gets a
    /// digit from PostgreSQL, which is not followed: that key's name becomes unknown.
    pub(super) fn add_keys<'k>(
        &mut self,
        table: Option<(String, String)>,
        keys: impl Iterator<Item = &'k Key>,
    ) {
        let Some((schema, table)) = table else {
            return;
        };
        let mut added = Vec::new();
        for k in keys {
            let mut k = k.clone();
            if k.generated && k.name.as_ref().is_some_and(|n| self.taken(&schema, n)) {
                k.name = None;
            }
            added.push(k);
        }
        self.note_names(&schema, added.iter().map(|k| &k.name));
        if let Some(keys) = self
            .relation_mut(&schema, &table)
            .and_then(|r| r.keys.as_mut())
        {
            keys.extend(added);
        }
    }

    /// Adds what an index adds to its table's plain indexes: itself, or (one the comparison
    /// cannot describe) that they are no longer known.
    pub(super) fn add_index(
        &mut self,
        (schema, table): &(String, String),
        plain: Option<&Plain>,
        unreadable: bool,
    ) {
        let plain = plain.map(|p| {
            let mut p = p.clone();
            if p.generated && p.name.as_ref().is_some_and(|n| self.taken(schema, n)) {
                p.name = None;
            }
            p
        });
        if let Some(p) = &plain {
            self.note_names(schema, std::iter::once(&p.name));
        }
        let Some(relation) = self.relation_mut(schema, table) else {
            return;
        };
        if unreadable {
            relation.indexes = None;
        } else if let (Some(indexes), Some(p)) = (relation.indexes.as_mut(), plain) {
            indexes.push(p);
        }
    }

    /// The keys of `schema.table` are no longer known.
    pub(super) fn forget_keys(&mut self, schema: &str, table: &str) {
        if let Some(r) = self.relation_mut(schema, table) {
            r.keys = None;
        }
    }

    /// What one `ALTER TABLE` action does to the keys of `schema.table`.
    pub(super) fn key_op(&mut self, schema: &str, table: &str, op: &AlterOp) {
        if let AlterOp::RenameConstraint { to, .. } = op {
            self.note_names(schema, std::iter::once(&Some(to.clone())));
        }
        if let AlterOp::DropColumn { columns, .. } = op {
            let dropped: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            self.drop_column_indexes((schema, table), &dropped);
        }
        if let AlterOp::RenameColumn { from, to } = op {
            self.rename_index_columns((schema, table), &from.name, to);
        }
        // `ALTER COLUMN … DROP IDENTITY` drops the column's sequence: after any change of a
        // column the replay does not follow in detail, its sequence is no longer known.
        if let AlterOp::AlterColumn(c) = op {
            self.forget_sequences_of((schema, table), &c.name);
        }
        if let AlterOp::AddKey(k) = op {
            self.add_keys(
                Some((schema.to_string(), table.to_string())),
                std::iter::once(k),
            );
            return;
        }
        let Some(relation) = self.relation_mut(schema, table) else {
            return;
        };
        // PostgreSQL drops the indexes on a dropped column; a renamed one is renamed in them.
        if let Some(indexes) = relation.indexes.as_mut() {
            match op {
                AlterOp::DropColumn { columns, .. } => {
                    indexes.retain(|i| !columns.iter().any(|c| i.columns.contains(&c.name)))
                }
                AlterOp::RenameColumn { from, to } => indexes
                    .iter_mut()
                    .flat_map(|i| i.columns.iter_mut())
                    .filter(|c| **c == from.name)
                    .for_each(|c| *c = to.clone()),
                _ => {}
            }
        }
        let Some(keys) = relation.keys.as_mut() else {
            return;
        };
        match op {
            AlterOp::DropConstraint(name) => {
                let before = keys.len();
                keys.retain(|k| k.name.as_ref() != Some(name));
                // It may have been a key whose name is not known.
                if keys.len() == before && keys.iter().any(|k| k.name.is_none()) {
                    relation.keys = None;
                }
            }
            AlterOp::RenameConstraint { from, to } => keys
                .iter_mut()
                .filter(|k| k.name.as_ref() == Some(from))
                .for_each(|k| k.name = Some(to.clone())),
            // PostgreSQL drops the indexes and constraints on a dropped column.
            AlterOp::DropColumn { columns, .. } => {
                keys.retain(|k| !columns.iter().any(|c| k.columns.contains(&c.name)))
            }
            AlterOp::RenameColumn { from, to } => keys
                .iter_mut()
                .flat_map(|k| k.columns.iter_mut())
                .filter(|c| **c == from.name)
                .for_each(|c| *c = to.clone()),
            AlterOp::KeysUnknown => relation.keys = None,
            _ => {}
        }
    }

    /// PostgreSQL drops the indexes that use a dropped column; one whose columns are not all
    /// known may have gone.
    fn drop_column_indexes(&mut self, (schema, table): (&str, &str), dropped: &[&str]) {
        let of = (schema.to_string(), table.to_string());
        let Some(ns) = self.schemas.get_mut(schema) else {
            return;
        };
        let mut unsure = Vec::new();
        ns.relations.retain(|name, r| {
            let on_table = r.owned() && r.uses.as_ref().is_some_and(|u| u.contains(&of));
            match &r.on_columns {
                _ if !on_table => true,
                Some(columns) => !columns.iter().any(|c| dropped.contains(&c.as_str())),
                None => {
                    unsure.push((schema.to_string(), name.clone()));
                    true
                }
            }
        });
        self.maybe_gone.extend(unsure);
    }

    /// Forgets the sequences `column` of `schema.table` owns (they become unknown, never
    /// missing: sequence names are not reported as missing).
    fn forget_sequences_of(&mut self, (schema, table): (&str, &str), column: &str) {
        let of = (schema.to_string(), table.to_string());
        if let Some(ns) = self.schemas.get_mut(schema) {
            ns.relations.retain(|_, r| {
                !(r.kind == Kind::Sequence
                    && r.uses.as_ref().is_some_and(|u| u.contains(&of))
                    && r.on_columns.iter().flatten().any(|c| c == column))
            });
        }
    }

    /// A renamed column is renamed in the indexes on it (so that dropping it under its new
    /// name drops them).
    fn rename_index_columns(&mut self, (schema, table): (&str, &str), from: &str, to: &str) {
        let of = (schema.to_string(), table.to_string());
        let Some(ns) = self.schemas.get_mut(schema) else {
            return;
        };
        let on_table =
            |r: &super::Relation| r.owned() && r.uses.as_ref().is_some_and(|u| u.contains(&of));
        for r in ns.relations.values_mut().filter(|r| on_table(r)) {
            for c in r.on_columns.iter_mut().flatten().filter(|c| *c == from) {
                *c = to.to_string();
            }
        }
    }

    /// The schemas an index name may be in: its qualifier, or the search path.
    fn index_schemas(&self, name: &Name) -> Vec<String> {
        match &name.schema {
            Some(s) => vec![s.clone()],
            None => self.path.clone(),
        }
    }

    /// `ALTER INDEX … RENAME TO`: a key of that name (in the first schema that has one) is
    /// renamed.
    pub(super) fn rename_key(&mut self, name: &Name, to: &str) {
        for schema in self.index_schemas(name) {
            let Some(ns) = self.schemas.get_mut(&schema) else {
                continue;
            };
            let mut renamed = false;
            for r in ns.relations.values_mut() {
                let names = (r.keys.iter_mut().flatten().map(|k| &mut k.name))
                    .chain(r.indexes.iter_mut().flatten().map(|i| &mut i.name));
                for n in names.filter(|n| n.as_deref() == Some(name.name.as_str())) {
                    *n = Some(to.to_string());
                    renamed = true;
                }
            }
            if renamed {
                ns.key_names.insert(to.to_string());
                return;
            }
        }
    }

    /// `DROP INDEX`: a key of that name goes. An index the model does not know may be a key
    /// whose name it does not know: those tables' keys are forgotten.
    pub(super) fn drop_key(&mut self, name: &Name, known: bool) {
        let schemas = self.index_schemas(name);
        for schema in &schemas {
            let Some(ns) = self.schemas.get_mut(schema) else {
                continue;
            };
            let mut dropped = false;
            let named = Some(name.name.as_str());
            for r in ns.relations.values_mut() {
                if let Some(keys) = r.keys.as_mut() {
                    let before = keys.len();
                    keys.retain(|k| k.name.as_deref() != named);
                    dropped |= keys.len() != before;
                }
                if let Some(indexes) = r.indexes.as_mut() {
                    let before = indexes.len();
                    indexes.retain(|i| i.name.as_deref() != named);
                    dropped |= indexes.len() != before;
                }
            }
            if dropped {
                return;
            }
        }
        if known {
            return;
        }
        for schema in &schemas {
            if let Some(ns) = self.schemas.get_mut(schema) {
                for r in ns.relations.values_mut() {
                    if r.keys.iter().flatten().any(|k| k.name.is_none()) {
                        r.keys = None;
                    }
                    if r.indexes.iter().flatten().any(|i| i.name.is_none()) {
                        r.indexes = None;
                    }
                }
            }
        }
    }

    /// A foreign key to `schema.table` needs a key on exactly its columns (any order), or a
    /// primary key when it names none; a `DEFERRABLE` key does not count.
    pub(super) fn check_key(&self, schema: &str, r: &Reference, problems: &mut Vec<Problem>) {
        if self.opaque.is_some() {
            return;
        }
        let Some(keys) = self
            .relation(schema, &r.table.name)
            .filter(|t| t.kind == crate::sql::ddl::Kind::Table)
            .and_then(|t| t.keys.as_ref())
        else {
            return;
        };
        let wanted: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
        let usable: Vec<&Key> = keys.iter().filter(|k| k.matches(&wanted)).collect();
        if usable.iter().any(|k| !k.deferrable) {
            return;
        }
        problems.push(Problem::ForeignKeyWithoutKey {
            reference: r.clone(),
            deferrable: !usable.is_empty(),
        });
    }

    /// Forgets the keys of the table `reference` names (an applied file showed a foreign key
    /// to it works).
    pub(super) fn learn_key(&mut self, reference: &Reference) {
        if let Lookup::Found { schema } = self.lookup(&reference.table, None) {
            self.forget_keys(&schema, &reference.table.name);
        }
    }
}
