//! PostgreSQL's own grammar (libpg_query, via the `pg_query` crate) as the authority on whether a
//! statement is valid, built with `--features postgres-exact`. sqlparser still provides the AST.
//!
//! The crate's safe API says yes or no; the error position lives only in the C result
//! (`PgQueryError::cursorpos`, 1-based, in characters), so the error path calls libpg_query's
//! `pg_query_split_with_parser` directly. The library is linked by the `pg_query` crate.

use std::ffi::{c_char, c_int, CStr, CString};

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQuerySplitStmt {
    stmt_location: c_int,
    stmt_len: c_int,
}

#[repr(C)]
struct PgQuerySplitResult {
    stmts: *mut *mut PgQuerySplitStmt,
    n_stmts: c_int,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

extern "C" {
    fn pg_query_split_with_parser(input: *const c_char) -> PgQuerySplitResult;
    fn pg_query_free_split_result(result: PgQuerySplitResult);
}

/// PostgreSQL's verdict on `sql`: `Ok` when its grammar accepts it, else its message and the
/// 0-based character offset of the error (when PostgreSQL gives one).
pub fn check(sql: &str) -> Result<(), (String, Option<usize>)> {
    if pg_query::split_with_parser(sql).is_ok() {
        return Ok(());
    }
    // NUL bytes cannot reach C; PostgreSQL would reject them anyway.
    let Ok(input) = CString::new(sql) else {
        return Err((
            "the statement contains a NUL byte".into(),
            sql.find('\0').map(|b| sql[..b].chars().count()),
        ));
    };
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is
    // freed exactly once with the library's own function, after its fields have been copied.
    unsafe {
        let result = pg_query_split_with_parser(input.as_ptr());
        let verdict = if result.error.is_null() {
            Ok(())
        } else {
            let e = &*result.error;
            let message = if e.message.is_null() {
                "syntax error".to_string()
            } else {
                CStr::from_ptr(e.message).to_string_lossy().into_owned()
            };
            let at = (e.cursorpos > 0).then(|| e.cursorpos as usize - 1);
            Err((message, at))
        };
        pg_query_free_split_result(result);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_postgres_accepts() {
        assert!(check("DO $$ BEGIN PERFORM 1; END $$").is_ok());
        assert!(check("ALTER EXTENSION hstore ADD FUNCTION f(int)").is_ok());
        assert!(check("ALTER SEQUENCE s OWNED BY t.id").is_ok());
    }

    #[test]
    fn rejects_mysqlisms_with_a_position() {
        let (msg, at) = check("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)").unwrap_err();
        assert!(msg.contains("syntax error"), "{msg}");
        // 0-based character 39 is column 40, where AUTOINCREMENT starts.
        assert_eq!(at, Some(39));
    }
}
