//! Syntax of other databases that sqlparser's PostgreSQL dialect parses but PostgreSQL rejects:
//! found in the AST, so a column named `unsigned` or `engine` is never mistaken for it.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CreateTableOptions, OnInsert, SetExpr, Statement,
};
use sqlparser::tokenizer::Token;

/// What foreign syntax `stmt` (parsed from `text`) uses, if any.
pub fn syntax(stmt: &Statement, text: &str) -> Option<&'static str> {
    match stmt {
        Statement::Insert(insert) => {
            if !insert.into {
                return Some("INSERT without INTO (MySQL)");
            }
            if matches!(insert.on, Some(OnInsert::DuplicateKeyUpdate(_))) {
                return Some("ON DUPLICATE KEY UPDATE (MySQL)");
            }
            None
        }
        Statement::CreateTable(ct) => {
            for col in &ct.columns {
                if col.data_type.to_string().contains("UNSIGNED") {
                    return Some("an UNSIGNED integer type (MySQL)");
                }
                for opt in &col.options {
                    if let ColumnOption::DialectSpecific(tokens) = &opt.option {
                        if tokens
                            .iter()
                            .any(|t| matches!(t, Token::Word(w) if is_auto(&w.value)))
                        {
                            return Some(AUTO);
                        }
                    }
                }
            }
            // sqlparser drops AUTOINCREMENT from the AST: find the word in the text, unless a
            // column is really called that.
            let named = |w: &str| {
                ct.columns
                    .iter()
                    .any(|c| c.name.value.eq_ignore_ascii_case(w))
            };
            if text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| is_auto(w) && !named(w))
            {
                return Some(AUTO);
            }
            if matches!(&ct.table_options, CreateTableOptions::Plain(o) if !o.is_empty()) {
                return Some("a table option such as ENGINE= (MySQL)");
            }
            None
        }
        Statement::AlterTable(at) => at.operations.iter().find_map(|op| match op {
            AlterTableOperation::ModifyColumn { .. } => {
                Some("MODIFY COLUMN (MySQL; use ALTER COLUMN)")
            }
            AlterTableOperation::ChangeColumn { .. } => Some("CHANGE COLUMN (MySQL)"),
            _ => None,
        }),
        Statement::Query(q) => match q.body.as_ref() {
            SetExpr::Select(s) if s.top.is_some() => Some("SELECT TOP (T-SQL; use LIMIT)"),
            _ => None,
        },
        _ => None,
    }
}

const AUTO: &str = "AUTO_INCREMENT/AUTOINCREMENT (MySQL/SQLite; use GENERATED … AS IDENTITY)";

fn is_auto(word: &str) -> bool {
    word.eq_ignore_ascii_case("AUTO_INCREMENT") || word.eq_ignore_ascii_case("AUTOINCREMENT")
}

#[cfg(test)]
mod tests {
    use crate::sql::{analyze, Outcome};

    fn outcome(sql: &str) -> Outcome {
        let a = analyze(sql, &sqlparser::dialect::PostgreSqlDialect {}, &[], true);
        a.statements[0].outcome.clone()
    }

    #[test]
    fn foreign_syntax_is_an_error_and_lookalikes_are_not() {
        for sql in [
            "INSERT ITNO t (a) SELECT 1;",
            "CREATE TABLE t (id int AUTOINCREMENT);",
            "CREATE TABLE t (id int UNSIGNED);",
            "CREATE TABLE t (id int AUTO_INCREMENT);",
            "CREATE TABLE t (id int) ENGINE=InnoDB;",
            "ALTER TABLE t MODIFY COLUMN a text;",
            "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1;",
            "SELECT TOP 1 * FROM t;",
        ] {
            assert!(matches!(outcome(sql), Outcome::Error { .. }), "{sql}");
        }
        for sql in [
            "CREATE TABLE t (unsigned int, engine text, top int, auto_increment int);",
            "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING;",
            "UPDATE t SET engine = 'x';",
            "SELECT top FROM t LIMIT 1;",
        ] {
            let got = outcome(sql);
            assert!(!matches!(got, Outcome::Error { .. }), "{sql}: {got:?}");
        }
    }

    #[test]
    fn deep_nesting_postgres_accepts_is_not_an_error() {
        let sql = format!("SELECT {}1{};", "(".repeat(200), ")".repeat(200));
        assert!(matches!(
            outcome(&sql),
            Outcome::Parsed | Outcome::AstSkipped
        ));
    }
}
