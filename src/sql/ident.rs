//! Identifiers as PostgreSQL reads them.

/// An identifier as PostgreSQL stores it: unquoted ones folded to lower case (ASCII letters
/// only, as in a UTF-8 database), every name cut to 63 bytes (NAMEDATALEN).
pub fn fold(id: &sqlparser::ast::Ident) -> String {
    let value = if id.quote_style.is_none() {
        id.value.to_ascii_lowercase()
    } else {
        id.value.clone()
    };
    truncate(value)
}

fn truncate(mut s: String) -> String {
    if s.len() > 63 {
        let mut end = 63;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
