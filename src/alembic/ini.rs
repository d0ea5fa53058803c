//! Just enough of alembic.ini and env.py: `script_location`, `version_locations`, and the
//! `version_table` / `version_table_schema` passed to `context.configure(...)`.

use super::python::{self, Tok, Value};
use crate::config;

/// `alembic.ini` as Python's `configparser` reads it for Alembic: sections, case-insensitive
/// keys, `[DEFAULT]` values visible in every section, `=` or `:` delimiters, full-line `#`/`;`
/// comments, indented continuation lines, and basic interpolation (`%(key)s`, `%%`, and
/// `%(here)s`, which Alembic defines as the ini file's directory).
#[derive(Debug, Default)]
pub struct Ini {
    /// (section, lower-cased key, raw value), in file order.
    values: Vec<(String, String, String)>,
}

/// Stands for `%(here)s` until a path is resolved against the ini's directory.
const HERE: char = '\u{1}';

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut last_indent = 0usize;
        for line in text.lines() {
            let trimmed = line.trim();
            let indent = line.len() - line.trim_start().len();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if indent > last_indent {
                if let Some((sec, _, v)) = ini.values.last_mut() {
                    if Some(sec.as_str()) == section.as_deref() {
                        v.push('\n');
                        v.push_str(trimmed);
                        continue;
                    }
                }
            }
            if trimmed.starts_with('[') && trimmed.ends_with(']') {
                section = Some(trimmed[1..trimmed.len() - 1].to_string());
                continue;
            }
            let Some(sec) = &section else { continue };
            if let Some(at) = trimmed.find(['=', ':']) {
                let (k, v) = trimmed.split_at(at);
                ini.values.push((
                    sec.clone(),
                    k.trim().to_lowercase(),
                    v[1..].trim().to_string(),
                ));
                last_indent = indent;
            }
        }
        ini
    }

    /// `[tool.alembic]` of a pyproject.toml as the same key/value model (`None` without that
    /// table): lists (`version_locations = [...]`) become newline-separated values, booleans
    /// `true`/`false`; `%(here)s` is interpolated as in the ini.
    pub fn from_pyproject(text: &str) -> Result<Option<Ini>, String> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let Some(table) = doc
            .get("tool")
            .and_then(|t| t.get("alembic"))
            .and_then(|t| t.as_table())
        else {
            return Ok(None);
        };
        let mut ini = Ini::default();
        for (k, v) in table {
            let value = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Array(items) => {
                    ini.values.push((
                        "alembic".into(),
                        format!("{}_separator", k.to_lowercase()),
                        "newline".into(),
                    ));
                    items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                }
                _ => continue,
            };
            ini.values.push(("alembic".into(), k.to_lowercase(), value));
        }
        Ok(Some(ini))
    }

    /// The raw value of `key` in `[alembic]`, else in `[DEFAULT]` (the last one wins).
    fn raw(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        let find = |sec: &str| {
            self.values
                .iter()
                .rev()
                .find(|(s, k, _)| s == sec && *k == key)
                .map(|(_, _, v)| v.as_str())
        };
        find(section).or_else(|| find("DEFAULT"))
    }

    /// The interpolated value of `key` in `[alembic]`; `Err` when interpolation fails (as it
    /// would in Alembic).
    pub fn get(&self, key: &str) -> Result<Option<String>, String> {
        match self.raw("alembic", key) {
            None => Ok(None),
            Some(v) => self.interpolate(v, 0).map(Some),
        }
    }

    fn interpolate(&self, value: &str, depth: usize) -> Result<String, String> {
        if depth > 10 {
            return Err(format!("interpolation of `{value}` is too deeply nested"));
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(p) = rest.find('%') {
            out.push_str(&rest[..p]);
            let after = &rest[p + 1..];
            if let Some(r) = after.strip_prefix('%') {
                out.push('%');
                rest = r;
            } else if let Some(r) = after.strip_prefix('(') {
                let close = r
                    .find(")s")
                    .ok_or_else(|| format!("bad interpolation syntax in `{value}`"))?;
                let name = r[..close].to_lowercase();
                if name == "here" {
                    out.push(HERE);
                } else {
                    let v = self.raw("alembic", &name).ok_or_else(|| {
                        format!("`%({name})s` names no key of [alembic] or [DEFAULT]")
                    })?;
                    out.push_str(&self.interpolate(v, depth + 1)?);
                }
                rest = &r[close + 2..];
            } else {
                return Err(format!("a lone `%` in `{value}` (write `%%`)"));
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A path from the ini, relative to the repository: `%(here)s` and plain relative paths are
    /// taken relative to the ini's directory (where `alembic` is run from).
    fn resolve(ini_dir: &str, value: &str) -> String {
        let here_slash = format!("{HERE}/");
        let v = value.replace(&here_slash, "").replace(HERE, ".");
        let joined = config::join(ini_dir, v.trim_start_matches("./"));
        config::normalize(std::path::Path::new(&joined))
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// `script_location`; `package:path` forms need Python's import system and are not resolved.
    pub fn script_location(&self, ini_dir: &str) -> Result<Option<String>, String> {
        let Some(v) = self.get("script_location")? else {
            return Ok(None);
        };
        if v.contains(':') && !v.starts_with(HERE) {
            return Ok(None);
        }
        Ok(Some(Ini::resolve(ini_dir, &v)))
    }

    pub fn version_locations(&self, ini_dir: &str) -> Result<Option<Vec<String>>, String> {
        let Some(v) = self.get("version_locations")? else {
            return Ok(None);
        };
        let sep = match self.raw("alembic", "version_locations_separator") {
            Some(list) => Some(list.to_string()),
            None => match self.get("version_path_separator")? {
                Some(s) => Some(s),
                None => self.get("path_separator")?,
            },
        };
        let parts: Vec<&str> = match sep.as_deref() {
            Some("os") | Some(":") => v.split(':').collect(),
            Some(";") => v.split(';').collect(),
            Some("newline") => v.split('\n').collect(),
            Some("space") => v.split(' ').collect(),
            _ => v.split([' ', ',', '\n']).collect(),
        };
        Ok(Some(
            parts
                .into_iter()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Ini::resolve(ini_dir, p))
                .collect(),
        ))
    }

    /// `recursive_version_locations` (configparser's boolean words).
    pub fn recursive(&self) -> Result<bool, String> {
        Ok(matches!(
            self.get("recursive_version_locations")?
                .map(|v| v.to_lowercase())
                .as_deref(),
            Some("true" | "1" | "yes" | "on")
        ))
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
        assert_eq!(
            ini.script_location("auth").unwrap().as_deref(),
            Some("auth/alembic")
        );
        assert_eq!(
            ini.version_locations("auth").unwrap().unwrap(),
            vec!["auth/a/versions", "auth/b"]
        );
        assert_eq!(
            Ini::parse("[alembic]\nscript_location = alembic\n")
                .script_location("")
                .unwrap()
                .as_deref(),
            Some("alembic")
        );
    }

    #[test]
    fn configparser_semantics() {
        // Case-insensitive keys, [DEFAULT], %(key)s and %% interpolation, continuation lines.
        let ini = Ini::parse(
            "[DEFAULT]\nbase = %(here)s/db\n[alembic]\nScript_Location = %(base)s/alembic\nversion_locations =\n    %(base)s/v1\n    %(base)s/v2\nrecursive_version_locations = TRUE\nnote = 100%%\n",
        );
        assert_eq!(
            ini.script_location("svc").unwrap().as_deref(),
            Some("svc/db/alembic")
        );
        assert_eq!(
            ini.version_locations("svc").unwrap().unwrap(),
            vec!["svc/db/v1", "svc/db/v2"]
        );
        assert!(ini.recursive().unwrap());
        assert_eq!(ini.get("note").unwrap().as_deref(), Some("100%"));
        assert!(Ini::parse("[alembic]\nscript_location = %(nope)s/x\n")
            .script_location("")
            .is_err());
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
