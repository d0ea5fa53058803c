//! Just enough of alembic.ini and env.py: `script_location`, `version_locations`, and the
//! `version_table` / `version_table_schema` passed to `context.configure(...)`.

use super::python::{self, Tok, Value};
use crate::config;

#[derive(Debug, Default)]
pub struct Ini {
    /// `[alembic]` keys, continuation lines joined with `\n`.
    values: Vec<(String, String)>,
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut in_alembic = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_alembic = trimmed == "[alembic]";
                continue;
            }
            if !in_alembic || trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = ini.values.last_mut() {
                    v.push('\n');
                    v.push_str(trimmed);
                }
                continue;
            }
            if let Some((k, v)) = trimmed.split_once(['=', ':']) {
                ini.values
                    .push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        ini
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A path from the ini, relative to the repository: `%(here)s` and plain relative paths are
    /// taken relative to the ini's directory (where `alembic` is run from).
    fn resolve(ini_dir: &str, value: &str) -> String {
        let v = value.replace("%(here)s/", "").replace("%(here)s", ".");
        let joined = config::join(ini_dir, v.trim_start_matches("./"));
        config::normalize(std::path::Path::new(&joined))
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// `script_location`; `package:path` forms need Python's import system and are not resolved.
    pub fn script_location(&self, ini_dir: &str) -> Option<String> {
        let v = self.get("script_location")?;
        if v.contains(':') && !v.contains("%(here)s") {
            return None;
        }
        Some(Ini::resolve(ini_dir, v))
    }

    pub fn version_locations(&self, ini_dir: &str) -> Option<Vec<String>> {
        let v = self.get("version_locations")?;
        let sep = self
            .get("version_path_separator")
            .or_else(|| self.get("path_separator"));
        let parts: Vec<&str> = match sep {
            Some("os") | Some(":") => v.split(':').collect(),
            Some(";") => v.split(';').collect(),
            Some("newline") => v.split('\n').collect(),
            Some("space") => v.split(' ').collect(),
            _ => v.split([' ', ',', '\n']).collect(),
        };
        Some(
            parts
                .into_iter()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Ini::resolve(ini_dir, p))
                .collect(),
        )
    }
}

/// The version table env.py configures, as `schema.table` (lower-cased), or Alembic's default.
pub fn env_version_table(src: &str) -> String {
    let tokens = python::tokenize(src).unwrap_or_default();
    let assignments = python::module_assignments(src).unwrap_or_default();
    let keyword = |name: &str| -> Option<String> {
        let i = tokens.windows(2).position(|w| matches!((&w[0].tok, &w[1].tok), (Tok::Name(n), Tok::Op(o)) if n == name && o == "="))?;
        match &tokens.get(i + 2)?.tok {
            Tok::Str {
                value,
                formatted: false,
            } => Some(value.clone()),
            Tok::Name(n) if n == "None" => None,
            Tok::Name(n) => match python::last(&assignments, n).map(|a| &a.value) {
                Some(Value::Str(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    };
    let table = keyword("version_table").unwrap_or_else(|| "alembic_version".into());
    match keyword("version_table_schema") {
        Some(schema) => format!("{schema}.{table}").to_lowercase(),
        None => table.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_script_location_and_versions() {
        let ini = Ini::parse("[alembic]\nscript_location = %(here)s/alembic\nversion_locations = %(here)s/a/versions %(here)s/b\n[loggers]\nkeys = root\n");
        assert_eq!(ini.script_location("auth").as_deref(), Some("auth/alembic"));
        assert_eq!(
            ini.version_locations("auth").unwrap(),
            vec!["auth/a/versions", "auth/b"]
        );
        assert_eq!(
            Ini::parse("[alembic]\nscript_location = alembic\n")
                .script_location("")
                .as_deref(),
            Some("alembic")
        );
    }

    #[test]
    fn reads_version_table_from_env_py() {
        let src = "SCHEMA = 'auth'\ndef run():\n    context.configure(connection=c, version_table='alembic_version_auth', version_table_schema=SCHEMA)\n";
        assert_eq!(env_version_table(src), "auth.alembic_version_auth");
        assert_eq!(
            env_version_table("context.configure(url=u)\n"),
            "alembic_version"
        );
    }
}
