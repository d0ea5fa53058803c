//! Alembic stamps in the SQL: `UPDATE <table> SET version_num = '<rev>'` or
//! `INSERT INTO <table> (version_num) VALUES ('<rev>')`, read from the sqlparser AST.

use std::ops::Range;

use sqlparser::ast::{
    AssignmentTarget, CopyOption, CopySource, CopyTarget, Expr, ObjectName, SetExpr,
    Statement as Ast, TableFactor, TableObject, Value,
};

use super::LineIndex;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    /// The version table as written, normalised: unquoted identifiers lower-cased, `.`-joined.
    pub table: String,
    /// The revision written (empty for a delete).
    pub revision: String,
    /// The revision literal, quotes included (the statement's start for a delete).
    pub span: Range<usize>,
    /// What the statement does to the table's rows (one row per head).
    pub kind: StampKind,
    /// The `search_path` in effect (from `SET [LOCAL] search_path` / `set_config` earlier in the
    /// file), for an unqualified table name; empty when the file sets none.
    pub search_path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StampKind {
    /// `UPDATE … SET version_num = 'x'` (every row).
    Update,
    /// `UPDATE … SET version_num = 'x' WHERE version_num = 'y'` (the row of head `y`).
    Replace(String),
    /// `INSERT … VALUES ('x')` / `INSERT … SELECT 'x'`: a new row.
    Insert,
    /// `DELETE` / `TRUNCATE`: every row, or the row of one head (`WHERE version_num = 'y'`).
    Delete(Option<String>),
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
        Expr::Value(v) => {
            let text = match &v.value {
                Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => s.clone(),
                Value::DollarQuotedString(d) => d.value.clone(),
                _ => return None,
            };
            let start = lines.offset(v.span.start.line, v.span.start.column);
            let end = lines.offset(v.span.end.line, v.span.end.column);
            Some((text, start..end.max(start + 1)))
        }
        Expr::Nested(inner) => literal(inner, lines),
        // `'x'::varchar`
        Expr::Cast { expr, .. } => literal(expr, lines),
        _ => None,
    }
}

/// The rows an UPDATE/DELETE filter leaves to the write: `Some(None)` every row (no filter,
/// `WHERE true`), `Some(Some(y))` the row of head `y`, `None` when miglint cannot tell (`WHERE
/// false`, any other condition): then the statement is no stamp and the rule warns.
fn rows_filter(selection: Option<&Expr>, lines: &LineIndex) -> Option<Option<String>> {
    match selection {
        None => Some(None),
        Some(w) if is_true(w) => Some(None),
        Some(w) => version_filter(w, lines).map(Some),
    }
}

/// `WHERE true`: a filter that keeps every row.
fn is_true(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => matches!(v.value, Value::Boolean(true)),
        Expr::Nested(inner) => is_true(inner),
        _ => false,
    }
}

/// `version_num = 'y'` (either side), for UPDATE/DELETE filters.
fn version_filter(expr: &Expr, lines: &LineIndex) -> Option<String> {
    let Expr::BinaryOp { left, op, right } = expr else {
        return None;
    };
    if *op != sqlparser::ast::BinaryOperator::Eq {
        return None;
    }
    let is_col = |e: &Expr| match e {
        Expr::Identifier(id) => id.value.eq_ignore_ascii_case("version_num"),
        Expr::CompoundIdentifier(ids) => ids
            .last()
            .is_some_and(|id| id.value.eq_ignore_ascii_case("version_num")),
        _ => false,
    };
    if is_col(left) {
        literal(right, lines).map(|l| l.0)
    } else if is_col(right) {
        literal(left, lines).map(|l| l.0)
    } else {
        None
    }
}

/// A `search_path` value list: identifiers and string literals (`'a, b'` holds several).
fn schemas(values: &[Expr]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| match v {
            Expr::Identifier(id) if id.quote_style.is_none() => vec![id.value.to_lowercase()],
            Expr::Identifier(id) => vec![id.value.clone()],
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => s
                    .split(',')
                    .map(|p| p.trim().trim_matches('"').to_lowercase())
                    .filter(|p| !p.is_empty())
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
        .collect()
}

/// `SELECT set_config('search_path', 'auth', …)`: the schemas it sets.
fn set_config(stmt: &Ast) -> Option<Vec<String>> {
    let Ast::Query(q) = stmt else { return None };
    let SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    select.projection.iter().find_map(|item| {
        let (sqlparser::ast::SelectItem::UnnamedExpr(Expr::Function(f))
        | sqlparser::ast::SelectItem::ExprWithAlias {
            expr: Expr::Function(f),
            ..
        }) = item
        else {
            return None;
        };
        if !f.name.to_string().eq_ignore_ascii_case("set_config") {
            return None;
        }
        let sqlparser::ast::FunctionArguments::List(list) = &f.args else {
            return None;
        };
        let arg = |i: usize| match list.args.get(i) {
            Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(e))) => {
                Some(e.clone())
            }
            _ => None,
        };
        let name = arg(0)?;
        let is_path = matches!(&name, Expr::Value(v) if matches!(&v.value, Value::SingleQuotedString(s) if s.eq_ignore_ascii_case("search_path")));
        if !is_path {
            return None;
        }
        Some(schemas(&[arg(1)?]))
    })
}

/// A stamp as found in a statement, before it is given the file's search path.
type Found<'a> = (&'a ObjectName, String, Range<usize>, StampKind);

/// Appends the stamps one parsed statement makes; `search_path` carries `SET search_path`
/// from statement to statement within a file (psql runs a file in one session).
pub fn collect(stmt: &Ast, lines: &LineIndex, out: &mut Vec<Stamp>, search_path: &mut Vec<String>) {
    let found = match stmt {
        Ast::Set(sqlparser::ast::Set::SingleAssignment {
            variable, values, ..
        }) if variable.to_string().eq_ignore_ascii_case("search_path") => {
            *search_path = schemas(values);
            return;
        }
        Ast::Query(query) => {
            // `WITH … UPDATE/INSERT/DELETE`: the statement under the WITH clause stamps as it
            // would alone (a write inside a CTE is reported as unverified by the rule).
            if let SetExpr::Update(inner) | SetExpr::Insert(inner) | SetExpr::Delete(inner) =
                &*query.body
            {
                return collect(inner, lines, out, search_path);
            }
            if let Some(path) = set_config(stmt) {
                *search_path = path;
            }
            return;
        }
        Ast::Update(update) => update_stamps(update, lines),
        Ast::Insert(insert) => insert_stamps(insert, lines),
        Ast::Delete(delete) => delete_stamps(delete, lines),
        Ast::Truncate(t) => t
            .table_names
            .iter()
            .map(|target| (&target.name, String::new(), 0..0, StampKind::Delete(None)))
            .collect(),
        _ => return,
    };
    out.extend(
        found
            .into_iter()
            .map(|(table, revision, span, kind)| Stamp {
                table: normalize_name(table),
                revision,
                span,
                kind,
                search_path: search_path.clone(),
            }),
    );
}

/// A `COPY … FROM stdin` into the version table: where its data rows hold the revision. Set by
/// the statement, consumed by the data block that follows it ([`copy_rows`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInto {
    table: String,
    /// The index of `version_num` among a row's fields.
    column: usize,
    search_path: Vec<String>,
}

impl CopyInto {
    /// Whether the table is named with its schema.
    pub fn qualified(&self) -> bool {
        self.table.contains('.')
    }
}

/// `COPY v [(…, version_num, …)] FROM stdin` in the text format with its default delimiter.
/// Other formats and options are not read: no stamp, so the rule reports the statement as
/// unverified instead of guessing.
pub fn copy_into(stmt: &Ast, search_path: &[String]) -> Option<CopyInto> {
    let Ast::Copy {
        source: CopySource::Table {
            table_name,
            columns,
        },
        to: false,
        target: CopyTarget::Stdin,
        options,
        legacy_options,
        ..
    } = stmt
    else {
        return None;
    };
    let text_format =
        |o: &CopyOption| matches!(o, CopyOption::Format(f) if f.value.eq_ignore_ascii_case("text"));
    if !legacy_options.is_empty() || !options.iter().all(text_format) {
        return None;
    }
    let table = normalize_name(table_name);
    let column = if columns.is_empty() {
        // As for `INSERT INTO alembic_version VALUES …`: only an alembic table, first column.
        table.contains("alembic_version").then_some(0)?
    } else {
        columns
            .iter()
            .position(|c| c.value.eq_ignore_ascii_case("version_num"))?
    };
    Some(CopyInto {
        table,
        column,
        search_path: search_path.to_vec(),
    })
}

/// The stamps of a `COPY … FROM stdin` data block (`rows`, starting at byte `at` of the file):
/// each line up to `\.` adds a row. `None` when a row is not read exactly (a backslash escape
/// or `\N`, a carriage return, too few fields): then no row of the block counts.
pub fn copy_rows(into: &CopyInto, rows: &str, at: usize) -> Option<Vec<Stamp>> {
    let mut out = Vec::new();
    let mut offset = at;
    for line in rows.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.strip_suffix('\n').unwrap_or(line);
        if body == "\\." {
            break;
        }
        if body.contains(['\\', '\r']) {
            return None;
        }
        let fields: Vec<&str> = body.split('\t').collect();
        let field = fields.get(into.column)?;
        let field_at = start
            + fields[..into.column]
                .iter()
                .map(|f| f.len() + 1)
                .sum::<usize>();
        out.push(Stamp {
            table: into.table.clone(),
            revision: field.to_string(),
            span: field_at..field_at + field.len(),
            kind: StampKind::Insert,
            search_path: into.search_path.clone(),
        });
    }
    Some(out)
}

/// `UPDATE t SET version_num = 'x' [WHERE version_num = 'y']`.
fn update_stamps<'a>(update: &'a sqlparser::ast::Update, lines: &LineIndex) -> Vec<Found<'a>> {
    let TableFactor::Table { name, .. } = &update.table.relation else {
        return Vec::new();
    };
    // Which rows it writes must be known: all of them, or the row of one head. A join or any
    // other filter (`WHERE false`) may write none, so it is no stamp (the rule warns).
    if update.from.is_some() || !update.table.joins.is_empty() {
        return Vec::new();
    }
    let Some(filter) = rows_filter(update.selection.as_ref(), lines) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for a in &update.assignments {
        if let AssignmentTarget::ColumnName(col) = &a.target {
            if is_version_column(col) {
                if let Some((revision, span)) = literal(&a.value, lines) {
                    let kind = match &filter {
                        Some(y) => StampKind::Replace(y.clone()),
                        None => StampKind::Update,
                    };
                    found.push((name, revision, span, kind));
                }
            }
        }
    }
    found
}

/// `INSERT INTO t (version_num) VALUES ('x'), …` or `INSERT … SELECT 'x'`.
fn insert_stamps<'a>(insert: &'a sqlparser::ast::Insert, lines: &LineIndex) -> Vec<Found<'a>> {
    let TableObject::TableName(name) = &insert.table else {
        return Vec::new();
    };
    let index = if insert.columns.is_empty() {
        // `INSERT INTO alembic_version VALUES ('x')` only stamps an alembic table.
        if !normalize_name(name).contains("alembic_version") {
            return Vec::new();
        }
        0
    } else {
        match insert.columns.iter().position(is_version_column) {
            Some(i) => i,
            None => return Vec::new(),
        }
    };
    let Some(source) = &insert.source else {
        return Vec::new();
    };
    let literals: Vec<(String, Range<usize>)> = match source.body.as_ref() {
        SetExpr::Values(values) => values
            .rows
            .iter()
            .filter_map(|row| row.content.get(index).and_then(|e| literal(e, lines)))
            .collect(),
        // `INSERT … SELECT 'x'` (without FROM, a filter or a limit: exactly one row).
        SetExpr::Select(select)
            if select.from.is_empty()
                && select.selection.as_ref().is_none_or(is_true)
                && select.having.is_none()
                && source.limit_clause.is_none()
                && source.fetch.is_none() =>
        {
            match select.projection.get(index) {
                Some(sqlparser::ast::SelectItem::UnnamedExpr(e))
                | Some(sqlparser::ast::SelectItem::ExprWithAlias { expr: e, .. }) => {
                    literal(e, lines).into_iter().collect()
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    literals
        .into_iter()
        .map(|(revision, span)| (name, revision, span, StampKind::Insert))
        .collect()
}

/// `DELETE FROM t [WHERE version_num = 'y']`: removes rows a later stamp may re-add.
fn delete_stamps<'a>(delete: &'a sqlparser::ast::Delete, lines: &LineIndex) -> Vec<Found<'a>> {
    let tables = match &delete.from {
        sqlparser::ast::FromTable::WithFromKeyword(t)
        | sqlparser::ast::FromTable::WithoutKeyword(t) => t,
    };
    // As for UPDATE: every row, or one head's row; any other filter is no stamp (the rule warns).
    let Some(filter) = rows_filter(delete.selection.as_ref(), lines) else {
        return Vec::new();
    };
    if delete.using.is_some() {
        return Vec::new();
    }
    let start = delete.delete_token.0.span.start;
    let at = lines.offset(start.line, start.column);
    tables
        .iter()
        .filter_map(|t| match &t.relation {
            TableFactor::Table { name, .. } => Some((
                name,
                String::new(),
                at..at + 1,
                StampKind::Delete(filter.clone()),
            )),
            _ => None,
        })
        .collect()
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
