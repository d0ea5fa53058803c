//! What a revision's `upgrade()` does, read statically (issue 30): a sequence of `op.*` calls
//! with literal arguments and `sa.*` constructors, each turned into the PostgreSQL statement
//! Alembic would emit for it as far as the schema model needs (relations, columns, indexes), so
//! the same SQL reader and model replay both sides. Anything else in `upgrade()` makes the
//! revision *unverified*, naming the construct: never a guess.
//!
//! Names are always double-quoted in the SQL written here: SQLAlchemy quotes a name exactly
//! when PostgreSQL would otherwise fold it, so a quoted name is the name Alembic creates.
//! Columns are written with their type's family and `NOT NULL` (see `ops/columns.rs`).

use std::ops::Range;

use super::python::{Tok, Token};

mod columns;

/// One `op.*` call and the SQL it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpSql {
    /// Empty for calls that change nothing the model holds (constraints, comments).
    pub sql: String,
    /// The call in the revision file.
    pub span: Range<usize>,
}

/// Why a revision's `upgrade()` is not read: the construct and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    pub construct: String,
    pub span: Range<usize>,
}

/// An argument value as far as it is literal.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Str(String),
    Literal(String),
    List(Vec<Arg>),
    /// `name(…)` or `a.b(…)`: the dotted callee, positional and keyword arguments.
    Call(String, Vec<Arg>, Vec<(String, Arg)>),
    /// A dotted name used as a value (`sa.Integer`, `True`).
    Name(String),
}

/// Reads `upgrade()` of a revision file's tokens. `Ok(None)` when the file defines none.
pub fn read_upgrade(tokens: &[Token], src: &str) -> Result<Option<Vec<OpSql>>, Unverified> {
    let Some(body) = upgrade_body(tokens) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for line in body {
        let span = line[0].span.start..line[line.len() - 1].span.end;
        let unverified = |what: &str| Unverified {
            construct: format!("{what}: `{}`", clip(&src[span.clone()])),
            span: span.clone(),
        };
        // A docstring, `pass`, or `...`.
        if matches!(line, [t] if matches!(&t.tok, Tok::Str { .. }) || t.tok == Tok::Name("pass".into()) || t.tok == Tok::Op("...".into()))
        {
            continue;
        }
        let (arg, used) = parse(line, 0, 0).ok_or_else(|| {
            unverified("a statement that is not an op.* call with literal arguments")
        })?;
        if used != line.len() {
            return Err(unverified("a statement that is not one op.* call"));
        }
        let Arg::Call(callee, args, kwargs) = arg else {
            return Err(unverified("a statement that is not an op.* call"));
        };
        let Some(name) = callee.strip_prefix("op.") else {
            return Err(unverified("a call miglint does not read"));
        };
        let call = Call {
            args: &args,
            kwargs: &kwargs,
        };
        let sql = translate(name, &call).ok_or_else(|| {
            unverified(&format!("op.{name} with arguments miglint does not read"))
        })?;
        out.push(OpSql { sql, span });
    }
    Ok(Some(out))
}

/// The logical lines of `def upgrade(…):`'s body (its statements at deeper indentation).
fn upgrade_body(tokens: &[Token]) -> Option<Vec<&[Token]>> {
    let lines: Vec<&[Token]> = tokens
        .split(|t| t.tok == Tok::Newline)
        .filter(|l| !l.is_empty())
        .collect();
    let at = lines.iter().position(|l| {
        l[0].column == 0
            && matches!(&l[0].tok, Tok::Name(n) if n == "def")
            && matches!(l.get(1).map(|t| &t.tok), Some(Tok::Name(n)) if n == "upgrade")
    })?;
    let header = lines[at];
    let colon = header.iter().rposition(|t| t.tok == Tok::Op(":".into()))?;
    let mut body: Vec<&[Token]> = Vec::new();
    if colon + 1 < header.len() {
        // `def upgrade(): op.drop_table("t")` on one line.
        body.push(&header[colon + 1..]);
        return Some(body);
    }
    body.extend(
        lines[at + 1..]
            .iter()
            .take_while(|l| l[0].column > 0)
            .copied(),
    );
    Some(body)
}

/// Parses one value starting at `i`; returns it and the index after it.
fn parse(t: &[Token], i: usize, depth: usize) -> Option<(Arg, usize)> {
    if depth > 16 {
        return None;
    }
    match &t.get(i)?.tok {
        Tok::Str {
            value,
            formatted: false,
        } => {
            // Implicit concatenation: "a" "b".
            let mut s = value.clone();
            let mut j = i + 1;
            while let Some(Tok::Str {
                value,
                formatted: false,
            }) = t.get(j).map(|x| &x.tok)
            {
                s.push_str(value);
                j += 1;
            }
            Some((Arg::Str(s), j))
        }
        Tok::Number(n) => Some((Arg::Literal(n.clone()), i + 1)),
        Tok::Op(o) if o == "-" => match &t.get(i + 1)?.tok {
            Tok::Number(n) => Some((Arg::Literal(format!("-{n}")), i + 2)),
            _ => None,
        },
        Tok::Op(o) if o == "[" || o == "(" => {
            let close = if o == "[" { "]" } else { ")" };
            let (items, _, j) = arguments(t, i + 1, close, depth)?;
            Some((Arg::List(items), j))
        }
        Tok::Name(_) => {
            let mut name = String::new();
            let mut j = i;
            loop {
                let Tok::Name(n) = &t.get(j)?.tok else {
                    return None;
                };
                name.push_str(n);
                j += 1;
                if t.get(j).map(|x| &x.tok) == Some(&Tok::Op(".".into())) {
                    name.push('.');
                    j += 1;
                } else {
                    break;
                }
            }
            if t.get(j).map(|x| &x.tok) == Some(&Tok::Op("(".into())) {
                let (args, kwargs, end) = arguments(t, j + 1, ")", depth)?;
                return Some((Arg::Call(name, args, kwargs), end));
            }
            Some((Arg::Name(name), j))
        }
        _ => None,
    }
}

type Arguments = (Vec<Arg>, Vec<(String, Arg)>, usize);

/// Comma-separated arguments up to `close`: positional, then `key=value`.
fn arguments(t: &[Token], mut i: usize, close: &str, depth: usize) -> Option<Arguments> {
    let (mut args, mut kwargs) = (Vec::new(), Vec::new());
    loop {
        if t.get(i)?.tok == Tok::Op(close.into()) {
            return Some((args, kwargs, i + 1));
        }
        let keyword = match (&t.get(i)?.tok, t.get(i + 1).map(|x| &x.tok)) {
            (Tok::Name(k), Some(Tok::Op(eq))) if eq == "=" => Some(k.clone()),
            _ => None,
        };
        let start = if keyword.is_some() { i + 2 } else { i };
        let (value, next) = parse(t, start, depth + 1)?;
        match keyword {
            Some(k) => kwargs.push((k, value)),
            None if kwargs.is_empty() => args.push(value),
            None => return None,
        }
        i = next;
        match &t.get(i)?.tok {
            Tok::Op(o) if o == "," => i += 1,
            Tok::Op(o) if o == close => {}
            _ => return None,
        }
    }
}

/// An `op.*` call's arguments.
struct Call<'a> {
    args: &'a [Arg],
    kwargs: &'a [(String, Arg)],
}

impl Call<'_> {
    fn kw(&self, key: &str) -> Option<&Arg> {
        self.kwargs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string at position `i`, or keyword `key`.
    fn text(&self, i: usize, key: &str) -> Option<String> {
        name_of(self.args.get(i).or_else(|| self.kw(key))?)
    }

    /// `schema=` (a string or None).
    fn schema(&self) -> Option<Option<String>> {
        match self.kw("schema") {
            None => Some(None),
            Some(Arg::Name(n)) if n == "None" => Some(None),
            Some(a) => Some(Some(name_of(a)?)),
        }
    }

    fn qualified(&self, table: &str) -> Option<String> {
        Some(match self.schema()? {
            Some(s) => format!("{}.{}", quote(&s), quote(table)),
            None => quote(table),
        })
    }

    /// `text` when keyword `key` is `True`, else nothing.
    fn flag(&self, key: &str, text: &'static str) -> &'static str {
        match self.kw(key) {
            Some(Arg::Name(n)) if n == "True" => text,
            _ => "",
        }
    }

    /// Only keyword arguments in `known` appear.
    fn only(&self, known: &[&str]) -> bool {
        self.kwargs.iter().all(|(k, _)| known.contains(&k.as_str()))
    }
}

/// A name: a string, or `op.f("name")` / `sa.quoted_name("name", …)`.
fn name_of(a: &Arg) -> Option<String> {
    match a {
        Arg::Str(s) => Some(s.clone()),
        Arg::Call(f, args, _) if f == "op.f" || f == "sa.quoted_name" || f == "quoted_name" => {
            name_of(args.first()?)
        }
        _ => None,
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The keyword arguments of each `op.*` call that do not change what the model holds.
const COLUMN_OPTIONS: &[&str] = &[
    "schema",
    "existing_type",
    "existing_nullable",
    "existing_server_default",
    "existing_comment",
    "nullable",
    "type_",
    "server_default",
    "comment",
    "postgresql_using",
    "autoincrement",
    "existing_autoincrement",
];

/// The SQL `op.NAME(…)` stands for, or `None` when a form is not read.
fn translate(name: &str, c: &Call) -> Option<String> {
    let drop_column_options = [
        "schema",
        "if_exists",
        "existing_type",
        "existing_nullable",
        "existing_server_default",
    ];
    let drop_index_options = [
        "table_name",
        "schema",
        "if_exists",
        "postgresql_concurrently",
    ];
    match name {
        "create_table" => create_table(c),
        "drop_table" if c.only(&["schema", "if_exists"]) => Some(format!(
            "DROP TABLE {}{};",
            c.flag("if_exists", "IF EXISTS "),
            c.qualified(&c.text(0, "table_name")?)?
        )),
        "rename_table" if c.only(&["schema"]) => Some(format!(
            "ALTER TABLE {} RENAME TO {};",
            c.qualified(&c.text(0, "old_table_name")?)?,
            quote(&c.text(1, "new_table_name")?)
        )),
        "add_column" if c.only(&["schema", "if_not_exists"]) => add_column(c),
        "drop_column" if c.only(&drop_column_options) => Some(format!(
            "ALTER TABLE {} DROP COLUMN {};",
            c.qualified(&c.text(0, "table_name")?)?,
            quote(&c.text(1, "column_name")?)
        )),
        "alter_column" if c.only(&[&["new_column_name"][..], COLUMN_OPTIONS].concat()) => {
            alter_column(c)
        }
        "create_index" => create_index(c),
        "drop_index" if c.only(&drop_index_options) => {
            let index = c.text(0, "index_name")?;
            Some(format!("DROP INDEX {};", c.qualified(&index)?))
        }
        "create_unique_constraint" => add_key("UNIQUE", c),
        "create_primary_key" => add_key("PRIMARY KEY", c),
        "drop_constraint" if c.only(&["schema", "type_", "if_exists"]) => Some(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}{};",
            c.qualified(&c.text(1, "table_name")?)?,
            c.flag("if_exists", "IF EXISTS "),
            quote(&c.text(0, "constraint_name")?)
        )),
        // Foreign keys, checks and comments: nothing the model compares.
        "create_foreign_key"
        | "create_check_constraint"
        | "create_table_comment"
        | "drop_table_comment" => Some(String::new()),
        "execute" if c.args.len() == 1 && c.kwargs.is_empty() => match &c.args[0] {
            Arg::Str(s) => Some(s.clone()),
            Arg::Call(f, args, _) if (f == "sa.text" || f == "text") && args.len() == 1 => {
                name_of(&args[0])
            }
            _ => None,
        },
        _ => None,
    }
}

/// `op.create_table(name, sa.Column(…)…, sa.…Constraint(…)…, schema=…)`.
fn create_table(c: &Call) -> Option<String> {
    let name = c.text(0, "table_name")?;
    let table = c.qualified(&name)?;
    let label = label(c, &name)?;
    let (mut columns, mut keys, mut indexes, mut primary) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut primary_name = Vec::new();
    for a in c.args.get(1..)? {
        match a {
            Arg::Call(f, args, kwargs) if f.ends_with("Column") => {
                columns.push(columns::column_sql(args, kwargs)?);
                indexes.extend(columns::column_index(&label, &table, args, kwargs));
                if kwargs
                    .iter()
                    .any(|(k, v)| k == "primary_key" && *v == Arg::Name("True".into()))
                {
                    primary.push(args.first()?.clone());
                }
            }
            // One primary key, whether its columns say so or a constraint does.
            Arg::Call(f, args, kwargs) if f.ends_with("PrimaryKeyConstraint") => {
                primary.extend(args.iter().cloned());
                primary_name.extend(kwargs.iter().filter(|(k, _)| k == "name").cloned());
            }
            Arg::Call(f, args, kwargs) if f.ends_with("UniqueConstraint") => {
                keys.push(columns::key_sql("UNIQUE", args, kwargs)?);
            }
            // Foreign keys and checks: not compared.
            Arg::Call(f, _, _)
                if f.ends_with("ForeignKeyConstraint") || f.ends_with("CheckConstraint") => {}
            _ => return None,
        }
    }
    if !primary.is_empty() {
        keys.insert(0, columns::key_sql("PRIMARY KEY", &primary, &primary_name)?);
    }
    columns.extend(keys);
    let known = ["schema", "comment", "if_not_exists", "info"];
    let read = c.kwargs.iter().all(|(k, _)| {
        known.contains(&k.as_str())
            || (k.starts_with("postgresql_") && k != "postgresql_partition_by")
    });
    read.then(|| {
        let mut sql = format!(
            "CREATE TABLE {}{table} ({});",
            c.flag("if_not_exists", "IF NOT EXISTS "),
            columns.join(", ")
        );
        for i in indexes {
            sql.push(' ');
            sql.push_str(&i);
        }
        sql
    })
}

/// A table's label in SQLAlchemy's naming convention: `schema_table`, or `table`.
fn label(c: &Call, table: &str) -> Option<String> {
    Some(match c.schema()? {
        Some(s) => format!("{s}_{table}"),
        None => table.to_string(),
    })
}

/// `op.create_unique_constraint(name, table, columns, schema=…)` and
/// `op.create_primary_key(…)`: `ALTER TABLE … ADD CONSTRAINT`.
fn add_key(kind: &str, c: &Call) -> Option<String> {
    let table = c.qualified(&c.text(1, "table_name")?)?;
    let Arg::List(cols) = c.args.get(2).or_else(|| c.kw("columns"))? else {
        return None;
    };
    let name = c.args.first().or_else(|| c.kw("constraint_name"))?.clone();
    let mut kwargs = vec![("name".to_string(), name)];
    kwargs.extend(
        c.kwargs
            .iter()
            .filter(|(k, _)| k == "deferrable" || k == "initially")
            .cloned(),
    );
    let read = c.kwargs.iter().all(|(k, _)| {
        [
            "schema",
            "deferrable",
            "initially",
            "constraint_name",
            "table_name",
            "columns",
        ]
        .contains(&k.as_str())
    });
    read.then_some(())?;
    Some(format!(
        "ALTER TABLE {table} ADD {};",
        columns::key_sql(kind, cols, &kwargs)?
    ))
}

/// `op.add_column(table, sa.Column(name, …), schema=…)`; an `index=True` column gets its index.
fn add_column(c: &Call) -> Option<String> {
    let Some(Arg::Call(f, args, kwargs)) = c.args.get(1).or_else(|| c.kw("column")) else {
        return None;
    };
    f.ends_with("Column").then_some(())?;
    let name = c.text(0, "table_name")?;
    let table = c.qualified(&name)?;
    let mut sql = format!(
        "ALTER TABLE {table} ADD COLUMN {};",
        columns::column_sql(args, kwargs)?
    );
    if let Some(index) = columns::column_index(&label(c, &name)?, &table, args, kwargs) {
        sql.push(' ');
        sql.push_str(&index);
    }
    Some(sql)
}

/// `op.alter_column(table, column, new_column_name=…, nullable=…, type_=…, …)`; defaults
/// and comments are not in the model, but the column must exist.
fn alter_column(c: &Call) -> Option<String> {
    let table = c.qualified(&c.text(0, "table_name")?)?;
    let column = quote(&c.text(1, "column_name")?);
    // Alembic alters the column first, then renames it.
    let mut sql = columns::alter_sql(&table, &column, c.kwargs);
    match c.kw("new_column_name") {
        Some(new) => sql.push(format!(
            "ALTER TABLE {table} RENAME COLUMN {column} TO {};",
            quote(&name_of(new)?)
        )),
        None if sql.is_empty() => sql.push(format!("UPDATE {table} SET {column} = {column};")),
        None => {}
    }
    Some(sql.join(" "))
}

/// `op.create_index(name, table, [columns], unique=…, schema=…, postgresql_…=…)`.
fn create_index(c: &Call) -> Option<String> {
    let index = c.text(0, "index_name")?;
    let table = c.qualified(&c.text(1, "table_name")?)?;
    let Arg::List(cols) = c.args.get(2).or_else(|| c.kw("columns"))? else {
        return None;
    };
    let cols: Vec<String> = cols
        .iter()
        .map(|a| name_of(a).map(|n| quote(&n)))
        .collect::<Option<_>>()?;
    let read = c.kwargs.iter().all(|(k, _)| {
        ["schema", "unique", "if_not_exists"].contains(&k.as_str()) || k.starts_with("postgresql_")
    });
    read.then(|| {
        format!(
            "CREATE {}INDEX {} ON {table} ({});",
            c.flag("unique", "UNIQUE "),
            quote(&index),
            cols.join(", ")
        )
    })
}

fn clip(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Result<Option<Vec<String>>, String> {
        let tokens = super::super::python::tokenize(src).unwrap();
        read_upgrade(&tokens, src)
            .map(|o| o.map(|v| v.into_iter().map(|s| s.sql).collect()))
            .map_err(|u| u.construct)
    }

    #[test]
    fn reads_the_common_op_calls() {
        let src = r#"
revision = "b2"
down_revision = "a1"

def upgrade() -> None:
    """Adds users."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255)),
        sa.PrimaryKeyConstraint("id"),
        schema="auth",
    )
    op.add_column("users", sa.Column("name", sa.Text()), schema="auth")
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True, schema="auth")
    op.alter_column("users", "name", new_column_name="full_name", schema="auth")
    op.execute("CREATE SCHEMA audit")
    op.create_foreign_key("fk", "a", "b", ["x"], ["id"])


def downgrade() -> None:
    op.drop_table("users", schema="auth")
"#;
        assert_eq!(
            read(src).unwrap().unwrap(),
            [
                r#"CREATE TABLE "auth"."users" ("id" integer NOT NULL, "email" varchar, PRIMARY KEY ("id"));"#,
                r#"ALTER TABLE "auth"."users" ADD COLUMN "name" text;"#,
                r#"CREATE UNIQUE INDEX "ix_users_email" ON "auth"."users" ("email");"#,
                r#"ALTER TABLE "auth"."users" RENAME COLUMN "name" TO "full_name";"#,
                "CREATE SCHEMA audit",
                "",
            ]
        );
    }

    #[test]
    fn anything_else_is_unverified_never_guessed() {
        for body in [
            "    for t in TABLES:\n        op.drop_table(t)\n",
            "    op.drop_table(name)\n",
            "    op.add_column('t', column)\n",
            "    with op.batch_alter_table('t') as b:\n        b.drop_column('c')\n",
            "    helper()\n",
            "    op.bulk_insert(t, [])\n",
            "    op.execute(f'DROP TABLE {x}')\n",
            "    op.drop_column('t', 'c', mystery=1)\n",
            "    op.create_table('t', *columns)\n",
        ] {
            let src = format!("def upgrade():\n{body}\n");
            assert!(read(&src).is_err(), "{body}");
        }
        assert_eq!(read("revision = 'x'\n").unwrap(), None);
        assert_eq!(read("def upgrade():\n    pass\n").unwrap(), Some(vec![]));
    }
}
