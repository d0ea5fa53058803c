//! Column types by family, as far as two schemas are compared (the SQL migrations against the
//! Alembic chain that mirrors them).
//!
//! A family groups the spellings and sizes of one kind of value (`int`, `int4`, `bigint`,
//! `serial` are all integers; `varchar(50)`, `text`, `character varying` are text): two sides
//! that differ in family build a different schema, whatever the sizes. A type outside the
//! families below (a domain, an enum, an extension's type) has none and is never compared.

/// A type family (see the module's doc): a small value, written as its name in the analysis
/// cache (`"integer"`, `"text[]"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Family {
    base: usize,
    array: bool,
}

/// The families' names, and the spellings of each (lower case, modifiers removed).
const FAMILIES: &[(&str, &[&str])] = &[
    (
        "integer",
        &[
            "smallint",
            "int2",
            "integer",
            "int",
            "int4",
            "bigint",
            "int8",
            "smallserial",
            "serial2",
            "serial",
            "serial4",
            "bigserial",
            "serial8",
        ],
    ),
    (
        "text",
        &[
            "text",
            "varchar",
            "character varying",
            "char",
            "character",
            "bpchar",
        ],
    ),
    ("boolean", &["boolean", "bool"]),
    (
        "numeric",
        &[
            "numeric",
            "decimal",
            "real",
            "float4",
            "float8",
            "double precision",
            "float",
        ],
    ),
    ("timestamp", &["timestamp", "timestamp without time zone"]),
    ("timestamptz", &["timestamptz", "timestamp with time zone"]),
    ("date", &["date"]),
    (
        "time",
        &[
            "time",
            "time without time zone",
            "timetz",
            "time with time zone",
        ],
    ),
    ("interval", &["interval"]),
    ("uuid", &["uuid"]),
    ("json", &["json", "jsonb"]),
    ("bytea", &["bytea"]),
];

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = FAMILIES[self.base].0;
        if self.array {
            write!(f, "{name}[]")
        } else {
            write!(f, "{name}")
        }
    }
}

impl From<Family> for String {
    fn from(f: Family) -> String {
        f.to_string()
    }
}

impl TryFrom<String> for Family {
    type Error = String;
    fn try_from(s: String) -> Result<Family, String> {
        let (name, array) = match s.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (s.as_str(), false),
        };
        FAMILIES
            .iter()
            .position(|(n, _)| *n == name)
            .map(|base| Family { base, array })
            .ok_or_else(|| format!("unknown type family `{s}`"))
    }
}

/// The family of a type as written in SQL, or `None` when it is not one miglint compares.
pub fn family(written: &str) -> Option<Family> {
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
    let base = FAMILIES
        .iter()
        .position(|(_, spellings)| spellings.contains(&name))?;
    Some(Family { base, array })
}

#[cfg(test)]
mod tests {
    use super::{family, Family};

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
        // As the analysis cache writes it.
        let f = family("int[]").unwrap();
        assert_eq!(String::from(f), "integer[]");
        assert_eq!(Family::try_from("integer[]".to_string()), Ok(f));
        assert!(Family::try_from("nosuch".to_string()).is_err());
    }
}
