//! The `miglint` binary: parses arguments, calls the library, renders, and maps the outcome to the
//! exit-code contract (0 clean, 1 findings, 2 could not do its job).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use miglint::check::{self, Outcome};
use miglint::commands::{self, Ctx};
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
    /// Print the schema a set builds, as the offline replay models it (schemas, tables with
    /// their columns, views, indexes, sequences).
    #[command(
        after_help = "Examples:\n  miglint schema                       # after the last migration\n  miglint schema --at 12               # after migration 0012\n  miglint schema --format json         # the model as one JSON document (docs/formats.md)"
    )]
    Schema {
        /// The set to replay (its `name` or `dir`), when several are configured.
        #[arg(long, value_name = "NAME")]
        set: Option<String>,
        /// Stop after the migration with this number.
        #[arg(long, value_name = "NUMBER")]
        at: Option<u64>,
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
    /// Whether Alembic can drive upgrades again: every revision mirrors its SQL migration, the
    /// graph is sound, the SQL stamps its head, and MIGRATE_AT_START is still off. Lists each
    /// blocker; exit 0 only when there is none.
    Ready {
        /// The set to judge (its `name` or `dir`), when several are configured.
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
    /// Reconcile with a CSV export of the migration_history table (or sqlx's _sqlx_migrations).
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
        Command::Check(a) => commands::check::cli(&ctx, &a.dirs, a.options(), a.deny_warnings),
        Command::Record {
            targets,
            through,
            set,
            allow_out_of_order,
        } => commands::record::cli(
            &ctx,
            commands::record::RecordArgs {
                targets: targets.clone(),
                through: through.clone(),
                set: set.clone(),
                allow_out_of_order: *allow_out_of_order,
            },
        ),
        Command::New { name, set, against } => {
            commands::new::cli(&ctx, name, set.as_deref(), against)
        }
        Command::Init {
            from_history: Some(export),
            set,
            ..
        } => commands::adopt::cli(&ctx, export, set.as_deref()),
        Command::Init { hooks: true, .. } => commands::init::hooks_cli(&ctx),
        Command::Init { hooks: false, .. } => commands::init::cli(&ctx),
        Command::Explain { code } => commands::explain::cli(&ctx, code),
        Command::Rules { markdown } => commands::explain::rules_cli(&ctx, *markdown),
        Command::Alembic {
            command: AlembicCommand::Heads { set },
        } => commands::heads::cli(&ctx, set.as_deref()),
        Command::Alembic {
            command: AlembicCommand::Ready { set },
        } => commands::ready::cli(&ctx, set.as_deref()),
        Command::Graph { base, set } => commands::graph::cli(&ctx, base, set),
        Command::Schema { set, at } => commands::schema::cli(&ctx, set.as_deref(), *at),
        Command::Status { base } => commands::status::cli(&ctx, base.as_deref()),
        Command::Renumber {
            base,
            set,
            dry_run,
            against,
        } => commands::renumber::cli(&ctx, (base.as_deref(), set.as_deref()), *dry_run, against),
    };
    result.unwrap_or_else(|fatal| fail(format, fatal))
}

impl CheckArgs {
    /// The engine's options for these arguments (the input source chosen once, here).
    fn options(&self) -> check::Options {
        check::Options {
            source: if self.staged {
                check::Source::Index
            } else {
                check::Source::WorkTree
            },
            base: self.base.clone(),
            history: self.history,
            require_recorded: self.require_recorded,
            history_export: self.history_export.clone(),
            set: self.set.clone(),
            all: self.all,
            read_only_cache: false,
            against: self.against.clone(),
            mirror: false,
        }
    }
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
