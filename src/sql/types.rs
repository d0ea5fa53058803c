//! Column types by family, as far as two schemas are compared (the SQL migrations against the
//! Alembic chain that mirrors them).
//!
//! A family groups the spellings and sizes of one kind of value (`int`, `int4`, `bigint`,
//! `serial` are all integers; `varchar(50)`, `text`, `character varying` are text): two sides
//! that differ in family build a different schema, whatever the sizes. A type outside the
//! families below (a domain, an enum, an extension's type) has none and is never compared.

/// The family of a type as written in SQL, or `None` when it is not one miglint compares.
pub fn family(written: &str) -> Option<String> {
    let lower = written.trim().to_ascii_lowercase();
    let (base, array) = match lower.strip_suffix("[]") {
        Some(b) => (b.trim_end(), true),
        None => (lower.as_str(), false),
    };
    // The name without its modifiers: `varchar(50)` → `varchar`, `timestamp(3) with time zone`
    // → `timestamp with time zone`.
    let mut name = String::new();
    let mut depth = 0;
    for ch in base.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => name.push(ch),
            _ => {}
        }
    }
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    let family = match name {
        "smallint" | "int2" | "integer" | "int" | "int4" | "bigint" | "int8" | "smallserial"
        | "serial2" | "serial" | "serial4" | "bigserial" | "serial8" => "integer",
        "text" | "varchar" | "character varying" | "char" | "character" | "bpchar" => "text",
        "boolean" | "bool" => "boolean",
        "numeric" | "decimal" | "real" | "float4" | "float8" | "double precision" | "float" => {
            "numeric"
        }
        "timestamp" | "timestamp without time zone" => "timestamp",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "date" => "date",
        "time" | "time without time zone" | "timetz" | "time with time zone" => "time",
        "interval" => "interval",
        "uuid" => "uuid",
        "json" | "jsonb" => "json",
        "bytea" => "bytea",
        _ => return None,
    };
    Some(if array {
        format!("{family}[]")
    } else {
        family.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::family;

    #[test]
    fn spellings_and_sizes_share_a_family() {
        for (a, b) in [
            ("INT", "bigint"),
            ("serial", "INTEGER"),
            ("varchar(50)", "TEXT"),
            ("CHARACTER VARYING(20)", "text"),
            ("NUMERIC(10, 2)", "double precision"),
            ("timestamp(3) with time zone", "TIMESTAMPTZ"),
            ("TIMESTAMP WITHOUT TIME ZONE", "timestamp"),
            ("int[]", "BIGINT[]"),
        ] {
            assert_eq!(family(a), family(b), "{a} / {b}");
            assert!(family(a).is_some(), "{a}");
        }
        assert_ne!(family("timestamp"), family("timestamptz"));
        assert_ne!(family("text"), family("integer"));
        assert_ne!(family("int[]"), family("int"));
        assert_eq!(family("mood"), None);
        assert_eq!(family("public.citext"), None);
    }
}
