//! The `miglint` binary: parses arguments, calls the library, renders, and maps the outcome to the
//! exit-code contract (0 clean, 1 findings, 2 could not do its job).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use miglint::check::{self, Outcome, Workspace};
use miglint::commands;
use miglint::finding::Severity;
use miglint::report::{self, Format};
use miglint::Fatal;

const VERSION: &str = if cfg!(feature = "postgres-exact") {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (exact PostgreSQL grammar: built in)"
    )
} else {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (exact PostgreSQL grammar: not built in; sqlparser only)"
    )
};

#[derive(Parser)]
#[command(name = "miglint", version = VERSION, about = "Guards a directory of hand-written, numbered SQL migrations, offline.")]
struct Cli {
    /// Use this config file instead of discovering miglint.toml.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check migration sets (the default job).
    #[command(
        after_help = "Examples:\n  miglint check                          # the sets in miglint.toml (or migrations/)\n  miglint check --staged                 # what the next commit contains (pre-commit hook)\n  miglint check --base origin/main       # a pull request against main\n  miglint check --history --format sarif # audit every commit, for code scanning"
    )]
    Check(CheckArgs),
    /// Append ledger entries for migrations that have just been applied.
    #[command(
        after_help = "Examples:\n  psql \"$DSN\" -v ON_ERROR_STOP=1 -1 -f migrations/0003_add_email.sql && miglint record 0003\n  miglint record --through 0005          # every pending migration up to 0005"
    )]
    Record {
        /// File names or numbers of the applied migrations.
        #[arg(value_name = "FILE|NUMBER")]
        targets: Vec<String>,
        /// Record every unrecorded migration up to and including this number.
        #[arg(long, value_name = "NUMBER")]
        through: Option<String>,
        /// The set to record in (its `name` or `dir`), when several are configured.
        #[arg(long, value_name = "NAME")]
        set: Option<String>,
        /// Record even if the file is not the next unrecorded one.
        #[arg(long)]
        allow_out_of_order: bool,
    },
    /// Create the next migration file.
    #[command(
        after_help = "Examples:\n  miglint new \"add email to users\"      # creates migrations/0007_add_email_to_users.sql"
    )]
    New {
        /// What the migration does, in words; it becomes the file's snake_case name.
        #[arg(value_name = "DESCRIPTION")]
        name: String,
        /// The set to create it in (its `name` or `dir`), when several are configured.
        #[arg(long, value_name = "NAME")]
        set: Option<String>,
        /// Skip numbers that branches whose refs match this glob add (with `[git] against`).
        #[arg(long, value_name = "REF-GLOB")]
        against: Vec<String>,
    },
    /// Write a commented miglint.toml (and with --hooks, install the git hooks).
    #[command(
        after_help = "Examples:\n  miglint init                                   # write miglint.toml from what is found\n  miglint init --from-history history.csv        # adopt: seed the ledger from the database's migration_history\n  miglint init --hooks                           # install the git hooks"
    )]
    Init {
        /// Install hooks/pre-commit and hooks/pre-push into the repository instead.
        #[arg(long, conflicts_with = "from_history")]
        hooks: bool,
        /// Adopt: seed the ledger from this CSV export of the database's migration_history
        /// (`\copy migration_history to 'h.csv' csv header`), checksums compared (and write
        /// miglint.toml first when there is none).
        #[arg(long, value_name = "FILE")]
        from_history: Option<PathBuf>,
        /// The set to adopt (its `name` or `dir`; default: the one holding the export's files).
        #[arg(long, value_name = "NAME", requires = "from_history")]
        set: Option<String>,
    },
    /// Explain a rule: what it catches, why, a bad and a good example.
    #[command(
        after_help = "Examples:\n  miglint explain number-conflict\n  miglint explain miglint::number-conflict   # as the report's header shows it"
    )]
    Explain {
        /// A rule code (`miglint rules` lists them).
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// List every rule code with its default severity.
    Rules {
        /// Print the rule reference of docs/rules.md (Markdown) instead.
        #[arg(long, hide = true)]
        markdown: bool,
    },
    /// Alembic helpers.
    Alembic {
        #[command(subcommand)]
        command: AlembicCommand,
    },
    /// Draw each set's migrations and Alembic revision graph (Mermaid or Graphviz DOT).
    #[command(
        after_help = "Examples:\n  miglint graph > migrations.mmd               # Mermaid (GitHub and GitLab render it)\n  miglint graph --format dot | dot -Tsvg > migrations.svg\n  miglint graph --base origin/main              # mark what this branch adds"
    )]
    Graph {
        /// Compare with this base revision to mark new migrations (default: as for `check`).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Draw only this set (its `name` or `dir`).
        #[arg(long, value_name = "NAME")]
        set: Option<String>,
    },
    /// Show each set: migrations, recorded, pending, heads, base.
    Status {
        /// Compare with this base revision (default: as for `check`).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
    },
    /// Renumber this branch's new migrations to follow the base branch's last one.
    #[command(
        after_help = "Examples:\n  miglint renumber --dry-run              # show the plan\n  miglint renumber && git commit -m \"Renumber migrations\" && git rebase origin/main"
    )]
    Renumber {
        /// The base branch whose numbers are taken (default: as for `check`).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// The set to renumber (its `name` or `dir`), when several are configured.
        #[arg(long, value_name = "NAME")]
        set: Option<String>,
        /// Print the renames without doing them.
        #[arg(long)]
        dry_run: bool,
        /// Skip numbers that branches whose refs match this glob add (with `[git] against`).
        #[arg(long, value_name = "REF-GLOB")]
        against: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AlembicCommand {
    /// Print the heads of the Alembic revision graph, one per line.
    Heads {
        /// The set whose Alembic project to read (its `name` or `dir`), when several are configured.
        #[arg(long, value_name = "NAME")]
        set: Option<String>,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// Migration directories to check (default: the sets in miglint.toml, else migrations/).
    dirs: Vec<PathBuf>,
    /// Check the git index instead of the work tree (for pre-commit hooks).
    #[arg(long)]
    staged: bool,
    /// Compare with this base revision (default: MIGLINT_BASE, [git] base, CI variables, origin/HEAD).
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Audit the whole first-parent history of HEAD.
    #[arg(long)]
    history: bool,
    /// Warn when a number this branch adds is also added by another branch whose ref matches
    /// this glob (repeatable; e.g. 'refs/remotes/pr/*'); refs are read locally, never fetched.
    #[arg(long, value_name = "REF-GLOB")]
    against: Vec<String>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Report unrecorded (pending) migrations as errors (for deploy pipelines).
    #[arg(long)]
    require_recorded: bool,
    /// Reconcile with a CSV export of the migration_history table.
    #[arg(long, value_name = "FILE")]
    history_export: Option<PathBuf>,
    /// Check only this set.
    #[arg(long, value_name = "NAME")]
    set: Option<String>,
    /// Parse-check applied migrations too (by default a migration whose content equals its
    /// ledger entry is protected by its checksum but not re-parsed: the database ran it).
    #[arg(long)]
    all: bool,
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        || std::env::var_os("FORCE_COLOR").is_some_and(|v| v != "0")
}

/// The `--format` the command line asks for when clap could not parse the rest of it: a
/// machine-readable format (json, sarif, github, markdown), if any is named validly.
fn requested_format() -> Option<Format> {
    use clap::ValueEnum;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--format=").map(str::to_string).or_else(|| {
            (a == "--format")
                .then(|| args.get(i + 1).cloned())
                .flatten()
        })
    })?;
    Format::from_str(&value, true)
        .ok()
        .filter(|f| !matches!(f, Format::Human | Format::Mermaid | Format::Dot))
}

/// Prints a fatal condition in the chosen format (human: on stderr) and returns exit 2.
fn fail(format: Format, fatal: Fatal) -> ExitCode {
    let outcome = Outcome::fatal(fatal);
    // A picture cannot carry an error: graph formats report it as text on stderr.
    if matches!(format, Format::Human | Format::Mermaid | Format::Dot) {
        let f = &outcome.findings[0];
        let text = report::human::render_one(
            &outcome,
            f,
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        );
        let _ = write!(std::io::stderr(), "{text}");
    } else {
        let _ = report::render(format, &outcome, false, &mut std::io::stdout().lock());
    }
    ExitCode::from(2)
}

/// Commands other than `check` print human text or one JSON document (schema version 1);
/// `github` and `sarif` describe findings on files and make no sense for them: a usage error.
fn only_human_or_json(format: Format, command: &str) -> miglint::Result<()> {
    match format {
        Format::Human | Format::Json => Ok(()),
        other => Err(unsupported(other, command, "use --format human or --format json (github, sarif and markdown are for `miglint check`, mermaid and dot for `miglint graph`)")),
    }
}

fn unsupported(format: Format, command: &str, help: &str) -> Fatal {
    Fatal::config(
        format!(
            "`miglint {command}` does not support --format {}",
            format!("{format:?}").to_lowercase()
        ),
        help,
    )
}

fn emit_json(value: serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
}

fn print_outcome(format: Format, outcome: &Outcome, deny_warnings: bool) -> ExitCode {
    // Block-buffered: tens of thousands of findings are written in large chunks, not per line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if report::render(format, outcome, color(), &mut out).is_err() || out.flush().is_err() {
        return ExitCode::from(2);
    }
    let failing =
        outcome.count(Severity::Error) > 0 || deny_warnings && outcome.count(Severity::Warning) > 0;
    ExitCode::from(u8::from(failing))
}

fn run(cli: Cli) -> ExitCode {
    let format = cli.format;
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return fail(format, Fatal::io("the current directory", e)),
    };
    let ctx = Ctx {
        format,
        cwd,
        config: cli.config.clone(),
    };
    let result = match &cli.command {
        Command::Check(a) => check(&ctx, a),
        Command::Record {
            targets,
            through,
            set,
            allow_out_of_order,
        } => record(&ctx, targets, through, set, allow_out_of_order),
        Command::New { name, set, against } => new(&ctx, name, set, against),
        Command::Init {
            from_history: Some(export),
            set,
            ..
        } => adopt(&ctx, export, set),
        Command::Init { hooks: true, .. } => init_hooks(&ctx),
        Command::Init { hooks: false, .. } => init_config(&ctx),
        Command::Explain { code } => explain(&ctx, code),
        Command::Rules { markdown } => rules(&ctx, markdown),
        Command::Alembic {
            command: AlembicCommand::Heads { set },
        } => alembic_heads(&ctx, set),
        Command::Graph { base, set } => graph(&ctx, base, set),
        Command::Status { base } => status(&ctx, base),
        Command::Renumber {
            base,
            set,
            dry_run,
            against,
        } => renumber(&ctx, (base, set), dry_run, against),
    };
    result.unwrap_or_else(|fatal| fail(format, fatal))
}

/// What every command needs besides its own arguments.
struct Ctx {
    format: Format,
    cwd: PathBuf,
    config: Option<PathBuf>,
}

impl Ctx {
    fn open(&self, dirs: &[PathBuf]) -> miglint::Result<Workspace> {
        Workspace::open(&self.cwd, self.config.as_deref(), dirs)
    }
}

fn check(ctx: &Ctx, a: &CheckArgs) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    if matches!(format, Format::Mermaid | Format::Dot) {
        return Err(unsupported(format, "check", "pictures are drawn by `miglint graph --format mermaid|dot`; `check --format markdown` embeds the Mermaid one"));
    }
    let source = if a.staged {
        check::Source::Index
    } else {
        check::Source::WorkTree
    };
    let ws = Workspace::open_from(&ctx.cwd, ctx.config.as_deref(), &a.dirs, source)?;
    let opts = check::Options {
        source,
        base: a.base.clone(),
        history: a.history,
        require_recorded: a.require_recorded,
        history_export: a.history_export.as_ref().map(|p| ctx.cwd.join(p)),
        set: a.set.clone(),
        all: a.all,
        read_only_cache: false,
        against: a.against.clone(),
    };
    let outcome = check::run(&ws, &opts)?;
    Ok(print_outcome(format, &outcome, a.deny_warnings))
}

fn record(
    ctx: &Ctx,
    targets: &[String],
    through: &Option<String>,
    set: &Option<String>,
    allow_out_of_order: &bool,
) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "record")?;
    let ws = ctx.open(&[])?;
    let args = commands::record::RecordArgs {
        targets: targets.to_vec(),
        through: through.clone(),
        set: set.clone(),
        allow_out_of_order: *allow_out_of_order,
    };
    let lines = commands::record::run(&ws, &args)?;
    if format == Format::Json {
        emit_json(json!({ "version": 1, "recorded": lines.len(), "sql": lines }));
    } else {
        eprintln!("miglint: recorded {} migration{} in the ledger; run these on the database's migration_history if the applier did not:", lines.len(), if lines.len() == 1 { "" } else { "s" });
        for l in lines {
            println!("{l}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new(
    ctx: &Ctx,
    name: &str,
    set: &Option<String>,
    against: &[String],
) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "new")?;
    let ws = ctx.open(&[])?;
    let created = commands::new::run(&ws, name, set.as_deref(), against)?;
    if format == Format::Json {
        let skipped: Vec<_> = created
            .skipped
            .iter()
            .map(|(n, by)| json!({ "number": n, "claimed_by": by }))
            .collect();
        emit_json(json!({ "version": 1, "created": created.path, "skipped": skipped }));
    } else {
        for (n, by) in &created.skipped {
            eprintln!("miglint: skipped {n}, which {by} adds");
        }
        println!("{}", created.path);
    }
    Ok(ExitCode::SUCCESS)
}

fn init_hooks(ctx: &Ctx) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "init")?;
    let ws = ctx.open(&[PathBuf::from(".")]);
    let repo = match ws.as_ref().ok().and_then(|w| w.repo.as_deref()) {
        Some(repo) => repo,
        None => {
            return Err(Fatal::new(
                miglint::rules::Rule::NotARepository,
                "`init --hooks` needs a git repository",
                "run it inside the repository",
            ))
        }
    };
    let lines = commands::init::install_hooks(repo)?;
    if format == Format::Json {
        emit_json(json!({ "version": 1, "hooks": lines }));
    } else {
        for line in lines {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `init --from-history`: miglint.toml (when missing), then the ledger seeded from the export.
fn adopt(ctx: &Ctx, export: &std::path::Path, set: &Option<String>) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "init")?;
    let root = match miglint::git::open(&ctx.cwd) {
        Ok(Some(repo)) => miglint::vcs::Vcs::work_dir(&repo).to_path_buf(),
        _ => ctx.cwd.clone(),
    };
    let config = ctx
        .config
        .clone()
        .unwrap_or_else(|| root.join(miglint::config::FILE_NAME));
    let wrote = if config.exists() {
        None
    } else {
        Some(commands::init::run(&root)?.0)
    };
    let ws = ctx.open(&[])?;
    let export = miglint::export::read(&root, &ctx.cwd.join(export))?;
    let set = match set {
        Some(name) => ws.select_set(Some(name))?,
        None => commands::adopt::choose_set(&ws, &export)?,
    };
    let adoption = commands::adopt::run(&ws, set, &export)?;
    let shown = miglint::config::relative_to(&root, &config);
    let next = commands::adopt::next_steps(&adoption, &shown);
    let ok = adoption.problems.is_empty();
    if format == Format::Json {
        emit_json(json!({
            "version": 1, "wrote_config": wrote, "set": set.dir, "ledger": adoption.ledger,
            "recorded": adoption.recorded, "pending": adoption.pending,
            "problems": adoption.problems, "next": if ok { next } else { Vec::new() },
        }));
    } else if ok {
        if let Some(path) = &wrote {
            println!("miglint: wrote {path}");
        }
        println!(
            "miglint: recorded {} applied migration{} of {} in {} ({} pending)",
            adoption.recorded.len(),
            if adoption.recorded.len() == 1 {
                ""
            } else {
                "s"
            },
            set.dir,
            adoption.ledger,
            adoption.pending.len()
        );
        println!("next:");
        for step in &next {
            println!("  {step}");
        }
    } else {
        for p in &adoption.problems {
            eprintln!("miglint: {}", miglint::finding::escape_controls(p));
        }
        eprintln!("miglint: nothing was recorded; fix the above and run it again");
    }
    Ok(ExitCode::from(u8::from(!ok)))
}

fn init_config(ctx: &Ctx) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "init")?;
    let root = match miglint::git::open(&ctx.cwd) {
        Ok(Some(repo)) => miglint::vcs::Vcs::work_dir(&repo).to_path_buf(),
        _ => ctx.cwd.clone(),
    };
    let (path, text) = commands::init::run(&root)?;
    let advice = commands::init::gitattributes_advice(&root);
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

fn explain(ctx: &Ctx, code: &str) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "explain")?;
    if format == Format::Json {
        emit_json(commands::explain::json(code)?);
    } else {
        print!("{}", commands::explain::explain(code)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn rules(ctx: &Ctx, markdown: &bool) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "rules")?;
    if format == Format::Json {
        emit_json(commands::explain::list_json());
    } else if *markdown {
        print!("{}", commands::explain::markdown());
    } else {
        print!("{}", commands::explain::list());
    }
    Ok(ExitCode::SUCCESS)
}

fn alembic_heads(ctx: &Ctx, set: &Option<String>) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "alembic heads")?;
    let ws = ctx.open(&[])?;
    let (heads, outcome) = commands::heads::run(&ws, set.as_deref())?;
    if format == Format::Json {
        let mut doc = report::json::value(&outcome);
        doc["heads"] = json!(heads);
        emit_json(doc);
    } else {
        if !outcome.findings.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = report::human::render(&outcome, false, &mut err);
        }
        for h in heads {
            println!("{h}");
        }
    }
    Ok(ExitCode::from(u8::from(outcome.count(Severity::Error) > 0)))
}

fn graph(ctx: &Ctx, base: &Option<String>, set: &Option<String>) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    let format = match format {
        Format::Human | Format::Mermaid => Format::Mermaid,
        Format::Dot => Format::Dot,
        other => {
            return Err(unsupported(
                other,
                "graph",
                "use --format mermaid (the default) or --format dot",
            ))
        }
    };
    let ws = ctx.open(&[])?;
    let opts = check::Options {
        base: base.clone(),
        set: set.clone(),
        ..check::Options::default()
    };
    let outcome = check::run(&ws, &opts)?;
    let mut out = std::io::stdout().lock();
    report::render(format, &outcome, false, &mut out)
        .and_then(|()| out.flush())
        .map_err(|e| Fatal::io("standard output", e))?;
    Ok(ExitCode::SUCCESS)
}

fn status(ctx: &Ctx, base: &Option<String>) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "status")?;
    let ws = ctx.open(&[])?;
    let rows = commands::status::run(&ws, base.as_deref())?;
    if format == Format::Json {
        emit_json(json!({ "version": 1, "sets": rows }));
    } else {
        print!("{}", report::status::render_human(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn renumber(
    ctx: &Ctx,
    (base, set): (&Option<String>, &Option<String>),
    dry_run: &bool,
    against: &[String],
) -> miglint::Result<ExitCode> {
    let format = ctx.format;
    only_human_or_json(format, "renumber")?;
    let ws = ctx.open(&[])?;
    let plan = commands::renumber::plan(&ws, base.as_deref(), set.as_deref(), against)?;
    let skipped: Vec<_> = plan
        .skipped
        .iter()
        .map(|(n, by)| json!({ "number": n, "claimed_by": by }))
        .collect();
    if !plan.renames.is_empty() && !dry_run {
        commands::renumber::apply(&ws, set.as_deref(), &plan.renames)?;
    }
    // The renames are staged, and git refuses to rebase with staged changes: commit first.
    let next = format!(
        "commit the renames, then bring {}'s migrations into this branch (or `git merge {}` instead of the rebase):",
        plan.base, plan.base
    );
    let commands = [
        format!("git commit -m \"Renumber migrations after {}\"", plan.base),
        format!("git rebase {}", plan.base),
    ];
    if format == Format::Json {
        let renames: Vec<_> = plan
            .renames
            .iter()
            .map(|(from, to)| json!({ "from": from, "to": to }))
            .collect();
        emit_json(
            json!({ "version": 1, "dry_run": dry_run, "renames": renames, "skipped": skipped, "base": plan.base, "next": (!plan.renames.is_empty()).then_some(next), "commands": if plan.renames.is_empty() { &[][..] } else { &commands[..] } }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if plan.renames.is_empty() {
        println!("nothing to renumber: every new migration already follows the base");
        return Ok(ExitCode::SUCCESS);
    }
    for (n, by) in &plan.skipped {
        eprintln!("miglint: skipped {n}, which {by} adds");
    }
    for (from, to) in &plan.renames {
        println!(
            "{}{from} -> {to}",
            if *dry_run {
                "would rename "
            } else {
                "renamed "
            }
        );
    }
    // The base's own files are not on this branch yet; checks already count their
    // numbers as taken, and this brings the files themselves in.
    // Each command on its own line, never wrapped, to copy as it is.
    println!("next: {next}");
    for c in &commands {
        println!("  {c}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The output format, for the panic hook: even a bug keeps the output contract (one valid JSON or
/// SARIF document on stdout, exit 2).
static FORMAT: std::sync::OnceLock<Format> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    // A panic is a bug: say so briefly and keep the exit-code contract (2), not Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let fatal = Fatal::new(
            miglint::rules::Rule::InternalError,
            format!("miglint hit a bug ({payload}{location})"),
            "please report it at https://github.com/miglint/miglint/issues with the files that triggered it",
        );
        let format = FORMAT.get().copied().unwrap_or(Format::Human);
        if format == Format::Human {
            eprintln!(
                "miglint::internal-error: {}\n  help: {}",
                fatal.finding.message,
                fatal.finding.help.as_deref().unwrap_or("")
            );
        } else {
            let outcome = Outcome::fatal(fatal);
            let mut out = std::io::stdout().lock();
            let _ = report::render(format, &outcome, false, &mut out);
            let _ = out.flush();
        }
        std::process::exit(2);
    }));
    // Deeply nested SQL recurses in the parser; give worker threads room.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(16 << 20)
        .build_global();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // A usage error under `--format json|sarif` is still one document on stdout.
            if let Some(format) = e.use_stderr().then(requested_format).flatten() {
                let text = e.render().to_string();
                let first = text
                    .lines()
                    .next()
                    .unwrap_or("invalid arguments")
                    .trim_start_matches("error: ");
                return fail(
                    format,
                    Fatal::config(
                        format!("invalid arguments: {first}"),
                        "see `miglint --help` and `miglint <command> --help`",
                    ),
                );
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let _ = FORMAT.set(cli.format);
    // Test hook, compiled into debug builds only (see fsutil): a panic keeps the contract.
    #[cfg(debug_assertions)]
    if std::env::var("MIGLINT_FAULT").is_ok_and(|v| v == "panic") {
        panic!("injected fault");
    }
    run(cli)
}

/// mimalloc: parsing allocates a String per token; glibc malloc took ~20% of a 10,000-file check.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
