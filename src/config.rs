//! `miglint.toml`: the model, its discovery and its validation. Unknown keys are errors (a typo in a
//! linter's config must not silently disable a check), reported with a span into the TOML.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::finding::Severity;
use crate::registry::Rule;
use crate::Fatal;

pub const FILE_NAME: &str = "miglint.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Numbering {
    #[default]
    Sequential,
    Timestamp,
}

/// How a set's directory is laid out, and so which tool applies it: the file names it reads,
/// which files are applied forward and how they are sent to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// `0001_name.sql`, one file per migration, applied by hand (usually with psql).
    #[default]
    Plain,
    /// golang-migrate: `{version}_{title}.up.{ext}` and `.down.{ext}`, any width of version.
    GolangMigrate,
    /// sqlx: `{version}_{description}.sql`, or `.up.sql`/`.down.sql` pairs; checksummed.
    Sqlx,
    /// dbmate: `{version}_{name}.sql`, `-- migrate:up` and `-- migrate:down` blocks in one file.
    Dbmate,
    /// goose: `{version}_{name}.sql`, `-- +goose Up` / `Down` sections, goose's own splitting.
    Goose,
}

/// Every layout the issue tracker has asked for; the ones not built yet are refused by name
/// (a set read with the wrong rules would be checked wrongly, silently).
const LAYOUTS_PLANNED: [&str; 5] = ["flyway", "diesel", "prisma", "drizzle", "refinery"];

/// The layouts this version reads, for messages.
const LAYOUTS: &str = "plain, golang-migrate, sqlx, dbmate, goose";

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Plain => "plain",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Sqlx => "sqlx",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
        }
    }

    /// Whether files hold both directions, in sections the tool marks.
    pub fn sectioned(self) -> bool {
        matches!(self, Layout::Dbmate | Layout::Goose)
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    git: RawGit,
    #[serde(default)]
    set: Vec<RawSet>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<Severity>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGit {
    base: Option<String>,
    #[serde(default)]
    against: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    name: Option<String>,
    dir: Spanned<String>,
    layout: Option<Spanned<String>>,
    numbering: Option<Numbering>,
    width: Option<Spanned<usize>>,
    start: Option<u64>,
    dialect: Option<Spanned<String>>,
    lock: Option<String>,
    #[serde(default)]
    placeholders: Vec<Spanned<String>>,
    baseline: Option<Spanned<String>>,
    cosmetic_edits: Option<Spanned<Severity>>,
    max_file_size: Option<u64>,
    psql: Option<bool>,
    single_transaction: Option<bool>,
    history_table: Option<String>,
    history_columns: Option<[String; 2]>,
    #[serde(default)]
    external: Vec<String>,
    alembic: Option<AlembicConfig>,
}

/// The optional `[set.alembic]` table; every path is relative to the repository root.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AlembicConfig {
    pub ini: Option<String>,
    pub versions: Option<String>,
    pub version_table: Option<String>,
    pub head: Option<String>,
    /// Heads the graph has by design (neutron-style expand/contract branches): their number…
    pub heads: Option<usize>,
    /// …or their branch labels. Then the SQL must stamp exactly those heads (one row each).
    pub branches: Option<Vec<String>>,
    pub compose: Option<String>,
    pub migrate_at_start_var: Option<String>,
    /// Where the team stamps Alembic's version table: in the SQL (`sql`), or with
    /// `alembic stamp` at deploy (`cli`). Undeclared: SQL stamps are read as they are found.
    pub stamp: Option<StampMode>,
    /// Every revision mirrors its SQL migration (`alembic-ddl-drift` on a revision whose
    /// `upgrade()` is empty or not read, too). Undeclared: the team's procedure makes mirroring
    /// optional while the SQL is the source of truth, so only revisions whose `upgrade()` does
    /// something are compared.
    #[serde(default)]
    pub mirror: bool,
    /// The role the service connects as (else read from a database URL in the compose file):
    /// `miglint alembic ready` checks the SQL grants it what `alembic upgrade` needs.
    pub role: Option<String>,
    /// The role's privileges are granted outside the migrations (by hand, by infrastructure
    /// code): `alembic ready` does not look for them in the SQL.
    #[serde(default)]
    pub role_granted: bool,
}

/// See [`AlembicConfig::stamp`].
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StampMode {
    /// The SQL stamps the head: every stamp must be readable (an unverifiable one is an error).
    Sql,
    /// `alembic stamp <head>` runs at deploy: the SQL stamps nothing that counts; `head` in
    /// miglint.toml declares what is stamped and must be the graph's head.
    Cli,
}

/// One migration directory and how to read it.
#[derive(Debug, Clone)]
pub struct SetConfig {
    pub name: String,
    /// Relative to the root, `/`-separated (absolute only when the set lies outside the root).
    pub dir: String,
    pub layout: Layout,
    pub numbering: Numbering,
    pub width: usize,
    pub start: u64,
    pub dialect: String,
    /// Ledger path relative to the root.
    pub lock: String,
    pub placeholders: Vec<regex::Regex>,
    /// Migrations numbered up to and including this one are not parse-checked.
    pub baseline: Option<u64>,
    /// Severity of a protected migration's cosmetic (comment/whitespace/case-only) edit.
    pub cosmetic_edits: Severity,
    pub max_file_size: u64,
    /// Read files as psql scripts (meta-commands, variables, `COPY … FROM stdin` data); on by
    /// default for PostgreSQL sets, since hand-applied migrations run through psql.
    pub psql: bool,
    /// The files are applied with `psql -1` (`--single-transaction`): every statement before an
    /// explicit `COMMIT` runs in one transaction block (`runs-in-transaction` judges them).
    pub single_transaction: bool,
    /// The database table that records applied migrations, for the SQL `record` prints
    /// (`None`: detected from the SQL that creates a `…migration_history` table).
    pub history_table: Option<String>,
    /// Its (file name, checksum) columns.
    pub history_columns: [String; 2],
    /// Schemas (`billing`) and relations (`auth.users`, `users` in `public`) that exist in the
    /// database without a migration of this set creating them: the schema replay takes them
    /// as given instead of reporting them missing.
    pub external: Vec<String>,
    pub alembic: Option<AlembicConfig>,
}

impl SetConfig {
    /// The defaults used for `miglint check DIR` without a config file.
    pub fn with_dir(dir: String) -> SetConfig {
        SetConfig {
            name: dir.clone(),
            lock: join(&dir, "applied.sha256"),
            dir,
            layout: Layout::Plain,
            numbering: Numbering::Sequential,
            width: 4,
            start: 0,
            dialect: "postgres".into(),
            placeholders: Vec::new(),
            baseline: None,
            cosmetic_edits: Severity::Error,
            max_file_size: 16 * 1024 * 1024,
            psql: true,
            single_transaction: false,
            history_table: None,
            history_columns: ["filename".into(), "checksum".into()],
            external: Vec::new(),
            alembic: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where findings' paths are relative to: the git work tree root, else the current directory.
    pub root: PathBuf,
    /// The config file read, if any.
    pub path: Option<PathBuf>,
    pub base: Option<String>,
    /// Ref globs of other open branches whose new migrations this one's must not collide with.
    pub against: Vec<String>,
    pub sets: Vec<SetConfig>,
    pub severities: BTreeMap<Rule, Severity>,
    /// The bytes the config was read from (empty without a file): comparing them with the
    /// base's tells whether the change under review touches its own policy.
    pub text: Arc<[u8]>,
}

/// Joins two `/`-separated relative paths.
pub fn join(a: &str, b: &str) -> String {
    if a.is_empty() || a == "." {
        b.to_string()
    } else {
        format!("{}/{}", a.trim_end_matches('/'), b)
    }
}

/// Makes `path` relative to `root` with `/` separators (or leaves it absolute when outside).
pub fn relative_to(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    if path.is_absolute() && rel == path {
        path.to_string_lossy().replace('\\', "/")
    } else if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

pub use crate::fsutil::normalize;

/// Walks up from `start` to `stop` (inclusive) looking for `miglint.toml`.
pub fn discover(start: &Path, stop: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if d == stop {
            break;
        }
        dir = d.parent();
    }
    None
}

const DIALECTS: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "sqlite",
    "generic",
    "ansi",
    "mssql",
    "snowflake",
    "bigquery",
    "redshift",
    "duckdb",
    "hive",
    "clickhouse",
    "databricks",
];

/// Reads and validates a config file. `root` is where set paths end up relative to.
pub fn load(path: &Path, root: &Path) -> crate::Result<Config> {
    let bytes = std::fs::read(path).map_err(|e| Fatal::io(path.display(), e))?;
    load_bytes(&bytes, path, root)
}

/// [`load`] of bytes read elsewhere (the git index, a commit): `path` is where they belong.
pub fn load_bytes(bytes: &[u8], path: &Path, root: &Path) -> crate::Result<Config> {
    let shown = relative_to(root, path);
    let source: Arc<[u8]> = Arc::from(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Fatal::config(format!("{shown} is not valid UTF-8"), "save it as UTF-8").in_source(
            &shown,
            source.clone(),
            e.valid_up_to()..e.valid_up_to() + 1,
            "invalid byte",
        )
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let mut config = parse(text, &shown, source.clone(), base_dir, root)?;
    config.path = Some(path.to_path_buf());
    confine_paths(&config, root, &shown)?;
    for set in &config.sets {
        let alembic = set.alembic.as_ref();
        // A file the config names explicitly must exist: a typo would silently switch its
        // check off (`compose`) or read nothing (`ini`).
        for (key, p) in [
            ("alembic ini", alembic.and_then(|a| a.ini.as_ref())),
            ("alembic compose", alembic.and_then(|a| a.compose.as_ref())),
        ] {
            if let Some(p) = p {
                if !root.join(p).is_file() {
                    return Err(Fatal::config(
                        format!("`{key}` in {shown} names `{p}`, which does not exist"),
                        "fix the path (relative to miglint.toml), or remove the key",
                    ));
                }
            }
        }
    }
    Ok(config)
}

/// The `miglint.toml` another revision has (the base's merge-base), as the policy that also
/// judges a change: validated like the work tree's, but files it names need not exist now (a
/// change that deletes them is judged by it). `None` when it does not parse: the base's own
/// check reports that, and there is no policy to hold the change to.
pub fn load_at_base(bytes: &[u8], path: &Path, root: &Path) -> Option<Config> {
    let text = std::str::from_utf8(bytes).ok()?;
    let shown = relative_to(root, path);
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let mut config = parse(text, &shown, Arc::from(bytes), base_dir, root).ok()?;
    config.path = Some(path.to_path_buf());
    confine_paths(&config, root, &shown).ok()?;
    Some(config)
}

/// Every path each set names (`dir`, `lock`, the Alembic ini, versions and compose) confined to
/// the repository (see [`confine`]).
fn confine_paths(config: &Config, root: &Path, shown: &str) -> crate::Result<()> {
    for set in &config.sets {
        let alembic = set.alembic.as_ref();
        let paths = [
            ("dir", Some(&set.dir)),
            ("lock", Some(&set.lock)),
            ("alembic ini", alembic.and_then(|a| a.ini.as_ref())),
            (
                "alembic versions",
                alembic.and_then(|a| a.versions.as_ref()),
            ),
            ("alembic compose", alembic.and_then(|a| a.compose.as_ref())),
        ];
        for (key, p) in paths {
            if let Some(p) = p {
                confine(root, shown, key, p)?;
            }
        }
    }
    Ok(())
}

/// The settings two versions of a `miglint.toml` disagree on, as `key: value here, value at
/// the base` lines (`set "dir".key` inside a `[[set]]`), for findings that the base's policy
/// adds to a change: a reviewer sees which setting the change would need to land first.
pub fn changed_settings(base: &str, now: &str) -> Vec<String> {
    fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            toml::Value::Array(items)
                if items.iter().all(toml::Value::is_table) && !items.is_empty() =>
            {
                for (i, item) in items.iter().enumerate() {
                    let id = item
                        .get("dir")
                        .and_then(toml::Value::as_str)
                        .map_or(i.to_string(), |d| format!("{d:?}"));
                    flatten(&format!("{prefix} {id}"), item, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let table = |text: &str| {
        let mut out = BTreeMap::new();
        if let Ok(v) = toml::from_str::<toml::Value>(text) {
            flatten("", &v, &mut out);
        }
        out
    };
    let (base, now) = (table(base), table(now));
    let keys: std::collections::BTreeSet<&String> = base.keys().chain(now.keys()).collect();
    keys.into_iter()
        .filter(|k| base.get(*k) != now.get(*k))
        .map(|k| {
            let show = |v: Option<&String>| v.map_or("unset".to_string(), |v| format!("`{v}`"));
            format!(
                "{k}: {} here, {} at the base",
                show(now.get(k)),
                show(base.get(k))
            )
        })
        .collect()
}

/// Every path the config names must stay inside the repository, symlinks resolved: miglint reads
/// (and `record` writes) nothing outside the repository it checks.
fn confine(root: &Path, shown: &str, key: &str, rel: &str) -> crate::Result<()> {
    let lexically_outside = Path::new(rel).is_absolute() || rel == ".." || rel.starts_with("../");
    if lexically_outside || !crate::fsutil::inside(root, &root.join(rel)) {
        return Err(Fatal::config(
            format!("`{key}` in {shown} names `{rel}`, which resolves outside the repository"),
            "point it at a path inside the repository; miglint never reads or writes outside it",
        ));
    }
    Ok(())
}

/// Where a config error points: the file as shown and its bytes.
struct At<'a> {
    shown: &'a str,
    source: Arc<[u8]>,
}

impl At<'_> {
    fn err(&self, msg: String, help: &str, span: std::ops::Range<usize>, label: &str) -> Fatal {
        Fatal::config(msg, help).in_source(self.shown, self.source.clone(), span, label)
    }
}

/// Parses config text; pure apart from path arithmetic, so it is testable without files.
pub fn parse(
    text: &str,
    shown: &str,
    source: Arc<[u8]>,
    base_dir: &Path,
    root: &Path,
) -> crate::Result<Config> {
    let at = At {
        shown,
        source: source.clone(),
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        at.err(
            format!("invalid {shown}: {}", e.message().trim()),
            "see docs/configuration.md for every key",
            span,
            "here",
        )
    })?;
    let mut sets: Vec<SetConfig> = Vec::new();
    for raw_set in raw.set {
        let dir_span = raw_set.dir.span();
        let set = parse_set(raw_set, &at, base_dir, root)?;
        if sets.iter().any(|s| s.dir == set.dir) {
            return Err(at.err(
                format!("set `{}` is configured twice", set.dir),
                "keep one [[set]] per directory",
                dir_span,
                "duplicate",
            ));
        }
        sets.push(set);
    }
    Ok(Config {
        root: root.to_path_buf(),
        path: None,
        base: raw.git.base,
        against: raw.git.against,
        sets,
        severities: parse_severities(raw.rules, &at)?,
        text: source,
    })
}

/// One `[[set]]`: paths made relative to the root, every value validated where it is written.
fn parse_set(raw_set: RawSet, at: &At, base_dir: &Path, root: &Path) -> crate::Result<SetConfig> {
    let dir = relative_to(root, &normalize(&base_dir.join(raw_set.dir.get_ref())));
    let mut set = SetConfig::with_dir(dir.clone());
    numbering(&mut set, &raw_set, at)?;
    set.name = raw_set.name.unwrap_or_else(|| dir.clone());
    if let Some(d) = raw_set.dialect {
        set.dialect = parse_dialect(&d, at)?;
    }
    // golang-migrate sends a file to the server as it is: no psql reads it.
    set.psql = raw_set
        .psql
        .unwrap_or(set.dialect == "postgres" && set.layout == Layout::Plain);
    set.single_transaction = raw_set.single_transaction.unwrap_or(false);
    set.history_table = raw_set.history_table;
    if let Some(c) = raw_set.history_columns {
        set.history_columns = c;
    }
    // Folded as PostgreSQL folds unquoted names.
    set.external = raw_set
        .external
        .iter()
        .map(|e| e.trim().to_ascii_lowercase())
        .collect();
    if let Some(lock) = raw_set.lock {
        set.lock = relative_to(root, &normalize(&base_dir.join(lock)));
    }
    for p in raw_set.placeholders {
        let re = regex::Regex::new(p.get_ref()).map_err(|e| {
            at.err(
                format!("invalid placeholder pattern: {e}"),
                "placeholders are regular expressions, e.g. '\\{\\{.*?\\}\\}'",
                p.span(),
                "bad regex",
            )
        })?;
        set.placeholders.push(re);
    }
    if let Some(b) = raw_set.baseline {
        let n = b.get_ref().trim().parse::<u64>().map_err(|_| {
            at.err(
                format!("baseline `{}` is not a migration number", b.get_ref()),
                "write the number of the last legacy migration, e.g. baseline = \"0120\"",
                b.span(),
                "not a number",
            )
        })?;
        set.baseline = Some(n);
    }
    if let Some(c) = raw_set.cosmetic_edits {
        if !matches!(c.get_ref(), Severity::Error | Severity::Warning) {
            return Err(at.err("cosmetic_edits must be \"error\" or \"warning\"".into(), "cosmetic edits of applied files still change their checksum; they cannot be ignored entirely", c.span(), "here"));
        }
        set.cosmetic_edits = *c.get_ref();
    }
    if let Some(m) = raw_set.max_file_size {
        set.max_file_size = m;
    }
    // Paths in [set.alembic] are relative to the config file, like `dir` and `lock`.
    set.alembic = raw_set.alembic.map(|mut a| {
        let fix = |p: &mut Option<String>| {
            if let Some(v) = p {
                *v = relative_to(root, &normalize(&base_dir.join(&*v)));
            }
        };
        fix(&mut a.ini);
        fix(&mut a.versions);
        fix(&mut a.compose);
        a
    });
    Ok(set)
}

/// The layout and how its files are numbered: `layout`, `numbering`, `width`, `start`.
fn numbering(set: &mut SetConfig, raw_set: &RawSet, at: &At) -> crate::Result<()> {
    if let Some(l) = &raw_set.layout {
        set.layout = parse_layout(l, at)?;
    }
    match set.layout {
        // What `migrate create -seq` writes: `-digits 6`, counting from 1.
        Layout::GolangMigrate => (set.width, set.start) = (6, 1),
        // What `sqlx migrate add -s` writes: 4 digits from 1 (sqlx reads a version as > 0).
        Layout::Sqlx => set.start = 1,
        // `goose create -s`: `%05d` from 1.
        Layout::Goose => (set.width, set.start) = (5, 1),
        Layout::Dbmate | Layout::Plain => {}
    }
    // `dbmate new` only writes timestamps.
    let default = match set.layout {
        Layout::Dbmate => Numbering::Timestamp,
        _ => Numbering::Sequential,
    };
    set.numbering = raw_set.numbering.unwrap_or(default);
    if let Some(w) = &raw_set.width {
        if !(1..=18).contains(w.get_ref()) {
            return Err(at.err(
                "width must be between 1 and 18".into(),
                "use the number of digits in your file names, e.g. 4 for 0001_x.sql",
                w.span(),
                "out of range",
            ));
        }
        set.width = *w.get_ref();
    }
    set.start = raw_set.start.unwrap_or(set.start);
    Ok(())
}

/// A `layout` value; a planned but unbuilt layout is refused by name, never read as `plain`.
fn parse_layout(l: &Spanned<String>, at: &At) -> crate::Result<Layout> {
    match l.get_ref().as_str() {
        "plain" => Ok(Layout::Plain),
        "golang-migrate" => Ok(Layout::GolangMigrate),
        "sqlx" => Ok(Layout::Sqlx),
        "dbmate" => Ok(Layout::Dbmate),
        "goose" => Ok(Layout::Goose),
        other if LAYOUTS_PLANNED.contains(&other) => Err(at.err(
            format!("layout `{other}` is not supported by this version of miglint"),
            &format!("supported layouts: {LAYOUTS}; checking these files with another layout's rules would be wrong, so miglint stops"),
            l.span(),
            "not supported yet",
        )),
        other => Err(at.err(
            format!("unknown layout `{other}`"),
            &format!("use one of: {LAYOUTS}"),
            l.span(),
            "unknown layout",
        )),
    }
}

/// A `dialect` value: one of [`DIALECTS`], case-insensitively; `postgresql` is `postgres`.
fn parse_dialect(d: &Spanned<String>, at: &At) -> crate::Result<String> {
    let name = d.get_ref().to_ascii_lowercase();
    if !DIALECTS.contains(&name.as_str()) {
        return Err(at.err(
            format!("unknown dialect `{}`", d.get_ref()),
            &format!("use one of: {}", DIALECTS.join(", ")),
            d.span(),
            "unknown dialect",
        ));
    }
    Ok(if name == "postgresql" {
        "postgres".into()
    } else {
        name
    })
}

/// The `[rules]` table of a miglint.toml as another revision has it (the base's), read
/// leniently: only the severities of known codes. What cannot be read counts as no re-rating:
/// the defaults, the strictest reference.
pub fn severities_in(text: &str) -> BTreeMap<Rule, Severity> {
    #[derive(serde::Deserialize)]
    struct RulesOnly {
        #[serde(default)]
        rules: BTreeMap<String, Severity>,
    }
    toml::from_str::<RulesOnly>(text)
        .map(|r| {
            r.rules
                .into_iter()
                .filter_map(|(code, sev)| Some((Rule::from_code(&code)?, sev)))
                .collect()
        })
        .unwrap_or_default()
}

/// The `[rules]` table: known codes only, and never a code that stops miglint from working.
fn parse_severities(
    rules: BTreeMap<Spanned<String>, Spanned<Severity>>,
    at: &At,
) -> crate::Result<BTreeMap<Rule, Severity>> {
    let mut severities = BTreeMap::new();
    for (code, sev) in rules {
        let rule = Rule::from_code(code.get_ref()).ok_or_else(|| {
            at.err(
                format!("unknown rule code `{}`", code.get_ref()),
                "`miglint rules` lists every code",
                code.span(),
                "unknown code",
            )
        })?;
        if rule.info().fatal {
            return Err(at.err(
                format!(
                    "`{}` stops miglint from working and cannot be re-rated",
                    rule.code()
                ),
                "remove this line",
                code.span(),
                "not configurable",
            ));
        }
        severities.insert(rule, *sev.get_ref());
    }
    Ok(severities)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> crate::Result<Config> {
        parse(
            text,
            "miglint.toml",
            Arc::from(text.as_bytes()),
            Path::new("/r"),
            Path::new("/r"),
        )
    }

    #[test]
    fn full_config_round_trip() {
        let c = parse_str(
            "[git]\nbase = \"origin/main\"\n[[set]]\ndir = \"auth/migrations\"\nwidth = 4\ndialect = \"postgres\"\n[set.alembic]\nhead = \"x\"\n[rules]\nnumber-gap = \"warning\"\n",
        )
        .unwrap();
        assert_eq!(c.base.as_deref(), Some("origin/main"));
        assert_eq!(c.sets[0].dir, "auth/migrations");
        assert_eq!(c.sets[0].lock, "auth/migrations/applied.sha256");
        assert_eq!(
            c.sets[0].alembic.as_ref().unwrap().head.as_deref(),
            Some("x")
        );
        assert_eq!(c.severities[&Rule::NumberGap], Severity::Warning);
    }

    #[test]
    fn unknown_key_points_into_the_toml() {
        let text = "[[set]]\ndirr = \"m\"\n";
        let err = parse_str(text).unwrap_err();
        assert_eq!(err.finding.rule, Rule::ConfigInvalid);
        let span = err.finding.span.unwrap();
        assert!(text[span].contains("dirr"));
    }

    #[test]
    fn unknown_rule_code_is_an_error() {
        let err = parse_str("[rules]\nnumber-gapp = \"off\"\n").unwrap_err();
        assert!(err.finding.message.contains("number-gapp"));
    }
}
