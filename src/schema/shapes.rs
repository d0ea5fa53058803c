//! The type family and nullability of each column of the tables the set creates, followed
//! through `ALTER TABLE` (compared with the schema the Alembic chain builds).

use super::Model;
use crate::sql::ddl::AlterOp;

impl Model {
    /// What one `ALTER TABLE` action does to the shapes of `schema.table`'s columns.
    pub(super) fn shape_op(&mut self, schema: &str, table: &str, op: &AlterOp) {
        let Some(relation) = self.relation_mut(schema, table) else {
            return;
        };
        let shapes = &mut relation.shapes;
        match op {
            // `ADD COLUMN IF NOT EXISTS` of a column it has changes nothing.
            AlterOp::AddColumn {
                shape: Some(shape), ..
            } if !shapes.iter().any(|s| s.column == shape.column) => shapes.push(shape.clone()),
            AlterOp::DropColumn { columns, .. } => {
                shapes.retain(|s| !columns.iter().any(|c| c.name == s.column))
            }
            AlterOp::RenameColumn { from, to } => shapes
                .iter_mut()
                .filter(|s| s.column == from.name)
                .for_each(|s| s.column = to.clone()),
            AlterOp::Reshape {
                column,
                family,
                not_null,
            } => {
                for s in shapes.iter_mut().filter(|s| s.column == *column) {
                    if let Some(f) = family {
                        s.family = *f;
                    }
                    if let Some(n) = not_null {
                        s.not_null = *n;
                    }
                }
            }
            // A primary key makes its columns NOT NULL.
            AlterOp::AddKey(k) if k.primary => shapes
                .iter_mut()
                .filter(|s| k.columns.contains(&s.column))
                .for_each(|s| s.not_null = true),
            _ => {}
        }
    }
}
