//! Alembic stamps in the SQL: `UPDATE <table> SET version_num = '<rev>'` or
//! `INSERT INTO <table> (version_num) VALUES ('<rev>')`, read from the sqlparser AST.

use std::ops::Range;

use sqlparser::ast::{
    AssignmentTarget, Expr, ObjectName, SetExpr, Statement as Ast, TableFactor, TableObject, Value,
};

use super::LineIndex;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    /// The version table as written, normalised: unquoted identifiers lower-cased, `.`-joined.
    pub table: String,
    pub revision: String,
    /// The revision literal, quotes included.
    pub span: Range<usize>,
}

/// Normalises an SQL object name the way PostgreSQL resolves it.
pub fn normalize_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(id) if id.quote_style.is_none() => id.value.to_lowercase(),
            Some(id) => id.value.clone(),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn is_version_column(name: &ObjectName) -> bool {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .is_some_and(|id| id.value.eq_ignore_ascii_case("version_num"))
}

fn literal(expr: &Expr, lines: &LineIndex) -> Option<(String, Range<usize>)> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => {
                let start = lines.offset(v.span.start.line, v.span.start.column);
                let end = lines.offset(v.span.end.line, v.span.end.column);
                Some((s.clone(), start..end.max(start + 1)))
            }
            _ => None,
        },
        Expr::Nested(inner) => literal(inner, lines),
        _ => None,
    }
}

/// Appends the stamps one parsed statement makes.
pub fn collect(stmt: &Ast, lines: &LineIndex, out: &mut Vec<Stamp>) {
    match stmt {
        Ast::Update(update) => {
            let TableFactor::Table { name, .. } = &update.table.relation else {
                return;
            };
            for a in &update.assignments {
                if let AssignmentTarget::ColumnName(col) = &a.target {
                    if is_version_column(col) {
                        if let Some((revision, span)) = literal(&a.value, lines) {
                            out.push(Stamp {
                                table: normalize_name(name),
                                revision,
                                span,
                            });
                        }
                    }
                }
            }
        }
        Ast::Insert(insert) => {
            let TableObject::TableName(name) = &insert.table else {
                return;
            };
            let index = if insert.columns.is_empty() {
                // `INSERT INTO alembic_version VALUES ('x')` only stamps an alembic table.
                if !normalize_name(name).contains("alembic_version") {
                    return;
                }
                0
            } else {
                match insert.columns.iter().position(is_version_column) {
                    Some(i) => i,
                    None => return,
                }
            };
            let Some(source) = &insert.source else { return };
            let SetExpr::Values(values) = source.body.as_ref() else {
                return;
            };
            for row in &values.rows {
                if let Some((revision, span)) =
                    row.content.get(index).and_then(|e| literal(e, lines))
                {
                    out.push(Stamp {
                        table: normalize_name(name),
                        revision,
                        span,
                    });
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::analyze;

    #[test]
    fn finds_update_and_insert_stamps() {
        let text = "UPDATE auth.alembic_version_auth SET version_num = '20251105_000002';\nINSERT INTO \"Auth\".alembic_version (version_num) VALUES ('abc');\nUPDATE t SET x = 'no';";
        let a = analyze(text, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        assert_eq!(a.stamps.len(), 2);
        assert_eq!(a.stamps[0].table, "auth.alembic_version_auth");
        assert_eq!(a.stamps[0].revision, "20251105_000002");
        assert_eq!(&text[a.stamps[0].span.clone()], "'20251105_000002'");
        assert_eq!(a.stamps[1].table, "Auth.alembic_version");
    }
}
