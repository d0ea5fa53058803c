//! `sa.Column(…)` as the PostgreSQL DDL Alembic emits for it, as far as the schema model
//! compares it: the name, the type's family (see [`crate::sql::types::family`]) and `NOT NULL`.
//!
//! Types are rendered as SQLAlchemy's PostgreSQL dialect renders them (`sa.DateTime(timezone=True)`
//! is `TIMESTAMP WITH TIME ZONE`, `sa.Float` is `FLOAT`, an autoincrementing integer key is
//! `SERIAL`, all of one family with what is written here). A type not listed (an `sa.Enum`, a
//! `TypeDecorator`, a dialect type miglint does not know) is written `unknown_type`, which has no
//! family and is never compared.

use super::{name_of, quote, Arg};

/// The SQL type for a SQLAlchemy type expression (`sa.String(50)`, `postgresql.JSONB`, …).
fn sql_type(a: &Arg) -> String {
    let (callee, args, kwargs): (&str, &[Arg], &[(String, Arg)]) = match a {
        Arg::Name(n) => (n, &[], &[]),
        Arg::Call(f, args, kwargs) => (f, args, kwargs),
        _ => return "unknown_type".into(),
    };
    let name = callee.rsplit('.').next().unwrap_or(callee);
    let timezone = kwargs
        .iter()
        .any(|(k, v)| k == "timezone" && *v == Arg::Name("True".into()));
    let t = match name {
        "Integer" | "INTEGER" | "INT" => "integer",
        "BigInteger" | "BIGINT" => "bigint",
        "SmallInteger" | "SMALLINT" => "smallint",
        "String" | "VARCHAR" | "Unicode" | "NVARCHAR" => "varchar",
        "Text" | "TEXT" | "UnicodeText" => "text",
        "CHAR" | "NCHAR" => "char",
        "Boolean" | "BOOLEAN" => "boolean",
        "Numeric" | "NUMERIC" | "DECIMAL" => "numeric",
        "Float" | "FLOAT" | "REAL" | "DOUBLE_PRECISION" | "Double" | "DOUBLE" => "double precision",
        "DateTime" | "TIMESTAMP" if timezone => "timestamp with time zone",
        "DateTime" | "TIMESTAMP" => "timestamp",
        "Date" | "DATE" => "date",
        "Time" | "TIME" => "time",
        "Interval" | "INTERVAL" => "interval",
        "UUID" | "Uuid" => "uuid",
        "JSON" => "json",
        "JSONB" => "jsonb",
        "LargeBinary" | "BYTEA" | "BLOB" => "bytea",
        "ARRAY" => {
            return match args.first() {
                Some(item) => format!("{}[]", sql_type(item)),
                None => "unknown_type".into(),
            }
        }
        _ => "unknown_type",
    };
    t.to_string()
}

/// `"name" type [NOT NULL]` for `sa.Column(name, type, …, nullable=…, primary_key=…)`.
pub(super) fn column_sql(args: &[Arg], kwargs: &[(String, Arg)]) -> Option<String> {
    let name = quote(&name_of(args.first()?)?);
    let kw = |k: &str| kwargs.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let is = |k: &str, v: &str| kw(k) == Some(&Arg::Name(v.into()));
    // The type is the first positional argument after the name that is not a
    // `sa.ForeignKey(…)`/constraint, or `type_=`.
    let ty = kw("type_").or_else(|| {
        args.get(1).filter(|a| {
            !matches!(a, Arg::Call(f, ..) if f.ends_with("ForeignKey") || f.ends_with("Constraint") || f.ends_with("Sequence") || f.ends_with("Identity") || f.ends_with("Computed"))
        })
    });
    let ty = ty.map_or_else(|| "unknown_type".to_string(), sql_type);
    let not_null = is("nullable", "False") || is("primary_key", "True");
    // `unique=True` is a unique constraint, unless `index=True` makes it a unique index.
    let unique = is("unique", "True") && !is("index", "True");
    Some(format!(
        "{name} {ty}{}{}",
        if not_null { " NOT NULL" } else { "" },
        if unique { " UNIQUE" } else { "" }
    ))
}

fn kwarg<'a>(kwargs: &'a [(String, Arg)], key: &str) -> Option<&'a Arg> {
    kwargs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// `CREATE [UNIQUE] INDEX ix_<label>_<column>` for a `sa.Column(…, index=True)` (SQLAlchemy's
/// default naming convention, `ix_%(column_0_label)s`; the label is `schema_table` or `table`).
pub(super) fn column_index(
    label: &str,
    qualified: &str,
    args: &[Arg],
    kwargs: &[(String, Arg)],
) -> Option<String> {
    if kwarg(kwargs, "index") != Some(&Arg::Name("True".into())) {
        return None;
    }
    let column = name_of(args.first()?)?;
    let unique = kwarg(kwargs, "unique") == Some(&Arg::Name("True".into()));
    Some(format!(
        "CREATE {}INDEX {} ON {qualified} ({});",
        if unique { "UNIQUE " } else { "" },
        quote(&format!("ix_{label}_{column}")),
        quote(&column)
    ))
}

/// `[CONSTRAINT name] UNIQUE (…)` (or `PRIMARY KEY`) for a constraint's columns and keyword
/// arguments (`name=`, `deferrable=`, `initially=`); `None` when one is not a plain name.
pub(super) fn key_sql(kind: &str, columns: &[Arg], kwargs: &[(String, Arg)]) -> Option<String> {
    let names: Vec<String> = columns
        .iter()
        .map(|a| name_of(a).map(|n| quote(&n)))
        .collect::<Option<_>>()?;
    let name = match kwarg(kwargs, "name") {
        None => String::new(),
        Some(Arg::Name(n)) if n == "None" => String::new(),
        Some(n) => format!("CONSTRAINT {} ", quote(&name_of(n)?)),
    };
    let deferrable = kwarg(kwargs, "deferrable") == Some(&Arg::Name("True".into()))
        || kwarg(kwargs, "initially")
            .is_some_and(|i| name_of(i).is_some_and(|i| i.eq_ignore_ascii_case("deferred")));
    Some(format!(
        "{name}{kind} ({}){}",
        names.join(", "),
        if deferrable { " DEFERRABLE" } else { "" }
    ))
}
/// `ALTER COLUMN` statements for `op.alter_column`'s `nullable=` and `type_=`.
pub(super) fn alter_sql(table: &str, column: &str, kwargs: &[(String, Arg)]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in kwargs {
        match (k.as_str(), v) {
            ("nullable", Arg::Name(n)) if n == "False" => out.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;"
            )),
            ("nullable", Arg::Name(n)) if n == "True" => out.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;"
            )),
            ("type_", ty) => out.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE {};",
                sql_type(ty)
            )),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: &str, args: Vec<Arg>, kwargs: Vec<(&str, Arg)>) -> Arg {
        Arg::Call(
            f.into(),
            args,
            kwargs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        )
    }

    #[test]
    fn types_render_in_their_family() {
        let tz = call(
            "sa.DateTime",
            vec![],
            vec![("timezone", Arg::Name("True".into()))],
        );
        assert_eq!(sql_type(&tz), "timestamp with time zone");
        let s = call("sa.String", vec![Arg::Literal("50".into())], vec![]);
        assert_eq!(sql_type(&s), "varchar");
        let arr = call(
            "postgresql.ARRAY",
            vec![Arg::Name("sa.Integer".into())],
            vec![],
        );
        assert_eq!(sql_type(&arr), "integer[]");
        assert_eq!(sql_type(&call("sa.Enum", vec![], vec![])), "unknown_type");
    }

    #[test]
    fn a_column_is_not_null_when_it_says_so_or_is_a_primary_key() {
        let col = |kw: Vec<(&str, Arg)>| {
            let args = vec![Arg::Str("id".into()), Arg::Name("sa.Integer".into())];
            let kw: Vec<(String, Arg)> = kw.into_iter().map(|(k, v)| (k.into(), v)).collect();
            column_sql(&args, &kw).unwrap()
        };
        assert_eq!(col(vec![]), "\"id\" integer");
        assert_eq!(
            col(vec![("nullable", Arg::Name("False".into()))]),
            "\"id\" integer NOT NULL"
        );
        assert_eq!(
            col(vec![("primary_key", Arg::Name("True".into()))]),
            "\"id\" integer NOT NULL"
        );
    }
}
