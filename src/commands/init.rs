//! `miglint init`: writes a commented miglint.toml from what it finds in the repository, and with
//! `--hooks` installs the plain git hooks (respecting `core.hooksPath`). Never overwrites.

use std::collections::BTreeMap;
use std::path::Path;

use super::{emit_json, only_human_or_json, Ctx};
use crate::config::{self, FILE_NAME};
use crate::fsutil::create_new_atomic;
use crate::report::Format;
use crate::Fatal;
use serde_json::json;
use std::process::ExitCode;

pub const PRE_COMMIT: &str = include_str!("../../hooks/pre-commit");
pub const PRE_PUSH: &str = include_str!("../../hooks/pre-push");

/// A detected migration directory: its path and the digit widths of its numbered files.
#[derive(Debug, PartialEq, Eq)]
pub struct Detected {
    pub dir: String,
    pub width: usize,
    /// The lowest number found: the set's `start`.
    pub start: u64,
    pub timestamp: bool,
    /// The tool its files are written for, when not applied by hand: `sqlx` (a Cargo.toml
    /// beside it or above it depends on sqlx), or `golang-migrate` (`.up.sql` / `.down.sql`).
    pub layout: crate::config::Layout,
    pub alembic_ini: Option<String>,
    /// A compose file next to the set (`auth/auth.compose.yml`, `docker-compose.yaml`): where
    /// `MIGRATE_AT_START` would turn Alembic upgrades on.
    pub compose: Option<String>,
    /// The `…migration_history` table the set's SQL creates, for `record`'s INSERT lines.
    pub history_table: Option<String>,
}

/// Walks the tree (skipping hidden, build and dependency directories) for directories that
/// hold numbered `.sql` files.
pub fn detect(root: &Path) -> Vec<Detected> {
    let mut dirs: BTreeMap<String, BTreeMap<usize, usize>> = BTreeMap::new();
    let mut lowest: BTreeMap<String, u64> = BTreeMap::new();
    let mut paired: std::collections::BTreeSet<String> = Default::default();
    let skip = |name: &str| {
        name.starts_with('.')
            || matches!(
                name,
                "target" | "node_modules" | "venv" | "__pycache__" | "dist" | "build"
            )
    };
    let walker = walkdir::WalkDir::new(root)
        .max_depth(6)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !skip(&e.file_name().to_string_lossy()));
    for e in walker.flatten() {
        let name = e.file_name().to_string_lossy();
        if !e.file_type().is_file() || !name.ends_with(".sql") {
            continue;
        }
        let digits = name.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 || !name[digits..].starts_with('_') {
            continue;
        }
        let dir = config::relative_to(root, e.path().parent().unwrap_or(root));
        if name.ends_with(".up.sql") || name.ends_with(".down.sql") {
            paired.insert(dir.clone());
        }
        if let Ok(n) = name[..digits].parse::<u64>() {
            let low = lowest.entry(dir.clone()).or_insert(n);
            *low = (*low).min(n);
        }
        *dirs.entry(dir).or_default().entry(digits).or_default() += 1;
    }
    dirs.into_iter()
        .map(|(dir, widths)| {
            let width = widths
                .iter()
                .max_by_key(|(_, n)| **n)
                .map_or(4, |(w, _)| *w);
            let parent = dir
                .rsplit_once('/')
                .map_or(String::new(), |(p, _)| p.to_string());
            let ini = config::join(&parent, "alembic.ini");
            let texts: Vec<Vec<u8>> = std::fs::read_dir(root.join(&dir))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".sql"))
                .filter_map(|e| {
                    crate::fsutil::read_regular(
                        root,
                        &config::join(&dir, &e.file_name().to_string_lossy()),
                        1 << 20,
                    )
                    .ok()
                })
                .collect();
            Detected {
                history_table: crate::commands::record::created_history_table(
                    texts.iter().map(Vec::as_slice),
                ),
                alembic_ini: root.join(&ini).is_file().then_some(ini),
                compose: compose_next_to(root, &parent),
                timestamp: width >= 12,
                layout: layout_of(root, &dir, paired.contains(&dir), &texts),
                width,
                start: lowest.get(&dir).copied().unwrap_or(0),
                dir,
            }
        })
        .collect()
}

/// The layout of a detected set: goose or dbmate when its files carry their markers, sqlx when a `Cargo.toml` in its directory or above it (up to
/// the root) names the `sqlx` crate, golang-migrate when its files come in `.up.sql` /
/// `.down.sql` pairs, else plain.
fn layout_of(root: &Path, dir: &str, paired: bool, texts: &[Vec<u8>]) -> crate::config::Layout {
    use crate::config::Layout;
    // A tool's markers in the files themselves say the most.
    let marked = |marker: &str| {
        texts.iter().any(|t| {
            String::from_utf8_lossy(t)
                .lines()
                .any(|l| l.starts_with(marker))
        })
    };
    if marked("-- +goose Up") {
        return Layout::Goose;
    }
    if marked("-- migrate:up") {
        return Layout::Dbmate;
    }
    let mut at = Some(dir);
    while let Some(d) = at {
        let manifest = config::join(d, "Cargo.toml");
        let text = crate::fsutil::read_regular(root, &manifest, 1 << 20).unwrap_or_default();
        let names_sqlx = String::from_utf8_lossy(&text)
            .lines()
            .any(|l| l.trim_start().starts_with("sqlx") || l.contains("[dependencies.sqlx]"));
        if names_sqlx {
            return Layout::Sqlx;
        }
        at = match d.rsplit_once('/') {
            Some((parent, _)) => Some(parent),
            None if !d.is_empty() => Some(""),
            None => None,
        };
    }
    if paired {
        Layout::GolangMigrate
    } else {
        Layout::Plain
    }
}

/// The first compose file (by name) in `dir`: `compose.yml`, `docker-compose.yaml`,
/// `auth.compose.yml`, … (a name holding `compose`, ending in `.yml` or `.yaml`).
fn compose_next_to(root: &Path, dir: &str) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("compose") && (n.ends_with(".yml") || n.ends_with(".yaml")))
        .collect();
    names.sort();
    names.into_iter().next().map(|n| config::join(dir, &n))
}

pub fn render(detected: &[Detected]) -> String {
    let mut s = String::from(
        "# miglint configuration — see docs/configuration.md.\n\n[git]\n# The branch pull requests merge into; merged migrations must not change.\n# base = \"origin/main\"\n",
    );
    if detected.is_empty() {
        s.push_str("\n# No numbered migrations found; add a set per migration directory:\n[[set]]\ndir = \"migrations\"\n");
    }
    for d in detected {
        s.push_str(&format!("\n[[set]]\ndir = \"{}\"\n", d.dir));
        use crate::config::Layout;
        match d.layout {
            Layout::GolangMigrate => {
                s.push_str("layout = \"golang-migrate\"   # {version}_{title}.up.sql / .down.sql\n")
            }
            Layout::Sqlx => s.push_str(
                "layout = \"sqlx\"   # {version}_{description}.sql, or .up.sql / .down.sql\n",
            ),
            Layout::Dbmate => {
                s.push_str("layout = \"dbmate\"   # -- migrate:up / -- migrate:down in each file\n")
            }
            Layout::Goose => {
                s.push_str("layout = \"goose\"   # -- +goose Up / -- +goose Down in each file\n")
            }
            Layout::Plain => {}
        }
        let default_start = if d.layout == Layout::Plain { 0 } else { 1 };
        if d.timestamp {
            s.push_str("numbering = \"timestamp\"\n");
        } else {
            s.push_str(&format!(
                "numbering = \"sequential\"\nwidth = {}\n",
                d.width
            ));
            if d.start != default_start {
                s.push_str(&format!("start = {}\n", d.start));
            }
        }
        s.push_str("dialect = \"postgres\"\n# lock = \"<dir>/applied.sha256\"   # the ledger of applied migrations\n");
        match &d.history_table {
            // A tool keeps its own table (`schema_migrations`, `_sqlx_migrations`).
            _ if d.layout != Layout::Plain => {}
            Some(t) => s.push_str(&format!("history_table = \"{}\"   # found in the SQL; `record` prints INSERTs into it\n", t.replace('"', "\\\""))),
            None => s.push_str("# history_table = \"migration_history\"   # the table `record`'s INSERT lines target\n"),
        }
        if let Some(ini) = &d.alembic_ini {
            s.push_str(&format!("\n[set.alembic]\nini = \"{ini}\"\n# version_table = \"schema.alembic_version\"   # read from env.py when absent\n# head = \"<revision>\"\n"));
            match &d.compose {
                Some(c) => s.push_str(&format!("compose = \"{c}\"   # MIGRATE_AT_START must stay false: the SQL is the source of truth\n")),
                None => s.push_str("# compose = \"<dir>/<name>.compose.yml\"   # guards MIGRATE_AT_START\n"),
            }
        }
    }
    s.push_str("\n[rules]\n# number-gap = \"warning\"\n# empty-migration = \"off\"\n");
    s
}

pub fn run(root: &Path) -> crate::Result<(String, String)> {
    let path = root.join(FILE_NAME);
    let detected = detect(root);
    let text = render(&detected);
    create_new_atomic(&path, text.as_bytes())?;
    Ok((FILE_NAME.to_string(), text))
}

/// A proposal for `.gitattributes` when it does not pin `*.sql` line endings yet: with
/// `*.sql text eol=lf` every checkout (Windows included) holds the bytes git stores, so the file
/// a DBA applies is the file the ledger recorded.
pub fn gitattributes_advice(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(".gitattributes")).unwrap_or_default();
    let pinned = text.lines().any(|l| {
        let mut parts = l.split_whitespace();
        parts.next() == Some("*.sql") && parts.any(|a| a == "eol=lf" || a == "-text")
    });
    (!pinned).then(|| {
        "miglint: consider adding `*.sql text eol=lf` to .gitattributes, so every checkout (Windows included) holds the bytes git stores and the ledger records".to_string()
    })
}

/// Installs the hooks where the repository runs them; returns one line per hook saying what was
/// done.
pub fn install_hooks(repo: &dyn crate::vcs::Vcs) -> crate::Result<Vec<String>> {
    let hooks_dir = repo.hooks_dir();
    std::fs::create_dir_all(&hooks_dir).map_err(|e| Fatal::io(hooks_dir.display(), e))?;
    let mut done = Vec::new();
    // git runs `pre-merge-commit`, not `pre-commit`, when `git merge` commits by itself: the same
    // check of the index guards merges.
    for (name, body) in [
        ("pre-commit", PRE_COMMIT),
        ("pre-merge-commit", PRE_COMMIT),
        ("pre-push", PRE_PUSH),
    ] {
        let path = hooks_dir.join(name);
        match std::fs::read(&path) {
            Ok(existing) if existing == body.as_bytes() => done.push(format!("{} is already installed", path.display())),
            Ok(_) => {
                return Err(Fatal::refused(
                    format!("{} exists and is not miglint's hook", path.display()),
                    "merge it by hand: call `miglint check --staged` (pre-commit) or `miglint check` (pre-push) from your hook",
                ))
            }
            Err(_) => {
                create_new_atomic(&path, body.as_bytes())?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|e| Fatal::io(path.display(), e))?;
                }
                done.push(format!("installed {}", path.display()));
            }
        }
    }
    Ok(done)
}

pub fn hooks_cli(ctx: &Ctx) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "init")?;
    let ws = ctx.open(&[std::path::PathBuf::from(".")]);
    let repo = match ws.as_ref().ok().and_then(|w| w.repo.as_deref()) {
        Some(repo) => repo,
        None => {
            return Err(Fatal::new(
                crate::rules::Rule::NotARepository,
                "`init --hooks` needs a git repository",
                "run it inside the repository",
            ))
        }
    };
    let lines = install_hooks(repo)?;
    if format == Format::Json {
        emit_json(json!({ "version": 1, "hooks": lines }));
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn cli(ctx: &Ctx) -> crate::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "init")?;
    let root = match crate::git::open(&ctx.cwd) {
        Ok(Some(repo)) => crate::vcs::Vcs::work_dir(&repo).to_path_buf(),
        _ => ctx.cwd.clone(),
    };
    let (path, text) = run(&root)?;
    let advice = gitattributes_advice(&root);
    let sets: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("dir = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    if format == Format::Json {
        emit_json(json!({ "version": 1, "wrote": path, "sets": sets, "advice": advice }));
    } else {
        println!(
            "miglint: wrote {path} with {} set{}{}; review it, then run `miglint check`",
            sets.len(),
            if sets.len() == 1 { "" } else { "s" },
            if sets.is_empty() {
                String::new()
            } else {
                format!(" ({})", sets.join(", "))
            }
        );
        if let Some(advice) = advice {
            eprintln!("{advice}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
