//! The rule registry: one table of every code miglint can report. It drives `miglint rules`,
//! `miglint explain`, the SARIF rule list and the rule table of docs/rules.md (a test keeps them in sync),
//! so a code's documentation cannot drift from the code that reports it.

/// How bad a finding is (part of the registry: every rule has a default severity). `Off` only exists so the `[rules]` table can silence a rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Off,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A fact about a problem that configuration rates instead of the rule's default: the one place
/// severities are decided is [`severity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Rating {
    /// Only comments, whitespace, letter case or line endings changed (`cosmetic_edits`).
    Cosmetic,
    /// Escalated by what the user declared: on the command line (`--require-recorded`), or
    /// in miglint.toml (`stamp = "sql"`: an unverifiable stamp is an error).
    Required,
    /// About a recorded or baseline file, which its checksum protects and which is not
    /// parse-checked anyway: what would be an error on a pending file is a warning.
    Protected,
}

/// A finding's severity: the `[rules]` table's entry for its rule if any, else what its rating
/// says (a cosmetic edit: the set's `cosmetic_edits`), else the registry default. A command-line
/// escalation wins over the table.
pub fn severity(
    rule: Rule,
    rating: Option<Rating>,
    table: Option<Severity>,
    cosmetic_edits: Severity,
) -> Severity {
    match rating {
        Some(Rating::Required) => Severity::Error,
        Some(Rating::Cosmetic) => table.unwrap_or(cosmetic_edits),
        Some(Rating::Protected) => table.unwrap_or(Severity::Warning),
        None => table.unwrap_or(rule.info().severity),
    }
}

/// Which part of miglint judges a rule: the file under `src/rules/` that builds its findings,
/// or `Run` for the conditions of a run itself (no base, not a repository, I/O), built by the
/// engine and the commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Naming,
    Sql,
    Schema,
    Git,
    Ledger,
    History,
    Alembic,
    Run,
}

impl Family {
    /// The module under `src/rules/` (`None` for `Run`).
    pub fn module(self) -> Option<&'static str> {
        Some(match self {
            Family::Naming => "naming",
            Family::Sql => "sql",
            Family::Schema => "schema",
            Family::Git => "git",
            Family::Ledger => "ledger",
            Family::History => "history",
            Family::Alembic => "alembic",
            Family::Run => return None,
        })
    }
}

/// Everything a user, the engine and the reports need to know about one rule: one registry
/// row, so adding a rule touches its own file and this row only.
pub struct RuleInfo {
    pub code: &'static str,
    pub severity: Severity,
    /// `true` for conditions that stop miglint from doing its job: they exit 2, not 1.
    pub fatal: bool,
    pub family: Family,
    /// Protects applied and merged migrations: a directive inside a migration never silences
    /// it (the change would excuse itself); only `[rules]` may re-rate it.
    pub protection: bool,
    /// The rule whose finding on the same file explains this one (one finding per problem:
    /// this one becomes related information of that one).
    pub root: Option<Rule>,
    /// The label a migration's node carries in the graph when this rule finds it.
    pub node: Option<&'static str>,
    pub summary: &'static str,
    pub why: &'static str,
    pub bad: &'static str,
    pub good: &'static str,
}

macro_rules! rules {
    ($( $variant:ident => { code: $code:literal, severity: $sev:ident, fatal: $fatal:literal,
         family: $family:ident, $(protection: $prot:literal,)? $(root: $root:ident,)?
         $(node: $node:literal,)?
         summary: $summary:literal, why: $why:literal, bad: $bad:literal, good: $good:literal $(,)? } )*) => {
        /// A stable rule code. The string form (`code()`) is the public contract, and the form
        /// it is stored in (a cached finding survives the registry's reordering).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        pub enum Rule { $($variant,)* }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            pub fn info(self) -> &'static RuleInfo {
                match self {
                    $(Rule::$variant => &RuleInfo {
                        code: $code, severity: Severity::$sev, fatal: $fatal,
                        family: Family::$family,
                        protection: row_flag!($($prot)?),
                        root: row_rule!($($root)?),
                        node: row_text!($($node)?),
                        summary: $summary, why: $why, bad: $bad, good: $good,
                    },)*
                }
            }
        }
    };
}

/// Optional registry fields: absent is `false` / `None`.
impl From<Rule> for &'static str {
    fn from(rule: Rule) -> &'static str {
        rule.code()
    }
}

impl TryFrom<String> for Rule {
    type Error = String;
    fn try_from(code: String) -> Result<Rule, String> {
        Rule::from_code(&code).ok_or_else(|| format!("no rule `{code}`"))
    }
}

macro_rules! row_flag {
    () => {
        false
    };
    ($v:literal) => {
        $v
    };
}
macro_rules! row_rule {
    () => {
        None
    };
    ($r:ident) => {
        Some(Rule::$r)
    };
}
macro_rules! row_text {
    () => {
        None
    };
    ($t:literal) => {
        Some($t)
    };
}

impl Rule {
    pub fn code(self) -> &'static str {
        self.info().code
    }

    pub fn from_code(code: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.code() == code)
    }

    /// See [`RuleInfo::protection`].
    pub fn is_protection(self) -> bool {
        self.info().protection
    }

    /// The known codes nearest to `code` (a typo's likely intent), best first.
    pub fn nearest(code: &str) -> Vec<&'static str> {
        let mut scored: Vec<(usize, &'static str)> = Rule::ALL
            .iter()
            .map(|r| (edit_distance(code, r.code()), r.code()))
            .filter(|(d, c)| *d <= (c.len() / 3).max(2))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, c)| c).collect()
    }

    /// The docs/rules.md anchor a rule's documentation lives under (used by SARIF's `helpUri`).
    pub fn help_uri(self) -> String {
        format!(
            "https://github.com/miglint/miglint/blob/main/docs/rules.md#{}",
            self.code()
        )
    }
}

rules! {
    InvalidName => { code: "invalid-name", severity: Error, fatal: false,
        family: Naming,
        summary: "A .sql file in the set is not named NNNN_snake_case_name.sql.",
        why: "Appliers sort files by their number; a file without one is applied in the wrong place or silently skipped.",
        bad: "migrations/5-AddEmail.sql", good: "migrations/0005_add_email.sql" }
    DuplicateNumber => { code: "duplicate-number", severity: Error, fatal: false,
        family: Naming, root: NumberConflict, node: "number conflict",
        summary: "Two migrations share a number.",
        why: "Usually two branches each added the next number; only one order can be applied, and the databases that took the other one diverge.",
        bad: "0005_add_email.sql\n0005_add_phone.sql", good: "0005_add_email.sql\n0006_add_phone.sql" }
    NumberGap => { code: "number-gap", severity: Error, fatal: false,
        family: Naming,
        summary: "Sequential numbers skip a value.",
        why: "A gap usually means a migration was lost in a merge or renamed away; appliers that stop at the first missing number never reach the rest.",
        bad: "0003_a.sql\n0005_b.sql", good: "0003_a.sql\n0004_b.sql" }
    EmptyMigration => { code: "empty-migration", severity: Warning, fatal: false,
        family: Sql,
        summary: "A migration holds no SQL statement (only whitespace or comments).",
        why: "An empty file is recorded as applied while changing nothing; it is usually an unsaved editor buffer.",
        bad: "-- TODO", good: "ALTER TABLE users ADD COLUMN email text;" }
    InvalidEncoding => { code: "invalid-encoding", severity: Error, fatal: false,
        family: Sql,
        summary: "A migration is not valid UTF-8.",
        why: "PostgreSQL rejects invalid byte sequences in a UTF-8 database at deploy time.",
        bad: "a file saved as Latin-1 containing 'café'", good: "the same file saved as UTF-8" }
    Utf8Bom => { code: "utf8-bom", severity: Error, fatal: false,
        family: Sql,
        summary: "A migration starts with a UTF-8 byte-order mark.",
        why: "psql does not strip a BOM, so the first statement of the file fails with a syntax error at deploy.",
        bad: "\\xEF\\xBB\\xBFCREATE TABLE t (id int);", good: "CREATE TABLE t (id int);" }
    UnreadableFile => { code: "unreadable-file", severity: Error, fatal: false,
        family: Sql,
        summary: "A .sql entry in the set cannot be read as a file (a directory, a dangling symlink, no permission).",
        why: "An applier that lists the directory finds it and fails, or skips it silently.",
        bad: "0003_x.sql -> missing-target.sql (dangling symlink)", good: "0003_x.sql as a regular file" }
    FileTooLarge => { code: "file-too-large", severity: Error, fatal: false,
        family: Sql,
        summary: "A migration is larger than max_file_size, or holds a statement over the parse budget (200,000 tokens), and was not parsed (a warning once it is recorded).",
        why: "Huge generated dumps make every hook run slow and one huge statement costs hundreds of MB to parse, so miglint hashes such files without parsing; a pending file it did not check could hide anything, so it fails closed until the limit is raised or the statement split. A recorded file is protected by its checksum and only warned about.",
        bad: "a 200 MB data dump in migrations/", good: "schema changes in migrations/, bulk data loaded by a separate job" }
    SqlParseError => { code: "sql-parse-error", severity: Error, fatal: false,
        family: Sql,
        summary: "A statement does not parse in the set's SQL dialect.",
        why: "A typo in a migration only fails at deploy time, half-way through a release.",
        bad: "ALTER TABEL users ADD COLUMN email text;", good: "ALTER TABLE users ADD COLUMN email text;" }
    SqlUnverified => { code: "sql-unverified", severity: Warning, fatal: false,
        family: Sql,
        summary: "Valid PostgreSQL that this build's parser cannot check (a known sqlparser gap).",
        why: "The statement is not verified; build with --features postgres-exact to check it with PostgreSQL's own grammar.",
        bad: "DO $$ BEGIN PERFORM 1; END $$;  (unchecked)", good: "the same, checked by a postgres-exact build" }
    SqlAstSkipped => { code: "sql-ast-skipped", severity: Info, fatal: false,
        family: Sql,
        summary: "PostgreSQL accepts a statement that sqlparser cannot turn into a syntax tree; AST-based rules skip it.",
        why: "Stamps and statement diffs need an AST; this statement is valid but invisible to them.",
        bad: "ALTER SEQUENCE s OWNED BY t.id;", good: "(informational; nothing to fix)" }
    UndefinedRelation => { code: "undefined-relation", severity: Error, fatal: false,
        family: Schema,
        summary: "A statement names a table, view or index that does not exist at that point of the migrations (PostgreSQL: 42P01).",
        why: "The schema replay applies every migration in order offline: this statement would fail at deploy with `relation does not exist` (a typo, a table an earlier migration renamed or dropped, or one a later migration creates).",
        bad: "-- 0001: CREATE TABLE users (id bigint);\nALTER TABLE userz ADD COLUMN email text;", good: "ALTER TABLE users ADD COLUMN email text;" }
    UndefinedColumn => { code: "undefined-column", severity: Error, fatal: false,
        family: Schema,
        summary: "A statement names a column its table does not have at that point of the migrations (PostgreSQL: 42703).",
        why: "The replay knows the table's columns from the migrations that created and altered it: dropping, renaming, altering or indexing a column it lacks fails at deploy.",
        bad: "-- 0001: CREATE TABLE users (id bigint, mail text);\nCREATE INDEX ON users (email);", good: "CREATE INDEX ON users (mail);" }
    UndefinedSchema => { code: "undefined-schema", severity: Error, fatal: false,
        family: Schema,
        summary: "A statement names a schema no migration created (PostgreSQL: 3F000).",
        why: "Creating or altering `s.t` fails at deploy when schema `s` does not exist; if another service creates it, declare it with `external = [\"s\"]` on the set.",
        bad: "CREATE TABLE billing.invoices (id bigint);", good: "CREATE SCHEMA billing;\nCREATE TABLE billing.invoices (id bigint);" }
    DuplicateRelation => { code: "duplicate-relation", severity: Error, fatal: false,
        family: Schema,
        summary: "A migration creates a table, view, index or sequence whose name is already taken in its schema (PostgreSQL: 42P07).",
        why: "Tables, views, indexes and sequences share one namespace per schema: the second CREATE fails at deploy unless it says IF NOT EXISTS.",
        bad: "-- 0001: CREATE TABLE users (id bigint);\nCREATE TABLE users (id bigint, email text);", good: "ALTER TABLE users ADD COLUMN email text;" }
    DuplicateColumn => { code: "duplicate-column", severity: Error, fatal: false,
        family: Schema,
        summary: "A migration adds (or renames to) a column its table already has (PostgreSQL: 42701).",
        why: "Two branches often add the same column; the second ALTER fails at deploy unless it says IF NOT EXISTS.",
        bad: "-- 0003: ALTER TABLE users ADD COLUMN email text;\nALTER TABLE users ADD COLUMN email text;", good: "ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;" }
    NotNullWithoutDefault => { code: "not-null-without-default", severity: Warning, fatal: false,
        family: Schema,
        summary: "A migration adds a NOT NULL column without a default to a table an earlier migration created (PostgreSQL: 23502 if it has rows).",
        why: "Every existing row would violate the constraint: the deploy fails as soon as the table holds data, which production tables do, while a fresh test database passes.",
        bad: "ALTER TABLE users ADD COLUMN plan text NOT NULL;", good: "ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';" }
    DuplicateType => { code: "duplicate-type", severity: Error, fatal: false,
        family: Schema,
        summary: "A migration creates an enum type that already exists (PostgreSQL: 42710).",
        why: "CREATE TYPE has no IF NOT EXISTS: a second CREATE TYPE of the same name fails at deploy.",
        bad: "-- 0003: CREATE TYPE mood AS ENUM ('ok');\nCREATE TYPE mood AS ENUM ('ok', 'sad');", good: "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'sad';" }
    DuplicateEnumValue => { code: "duplicate-enum-value", severity: Error, fatal: false,
        family: Schema,
        summary: "A migration adds (or renames to) a label its enum already has (PostgreSQL: 42710).",
        why: "ALTER TYPE … ADD VALUE of an existing label fails at deploy unless it says IF NOT EXISTS; two branches adding the same status are the usual cause.",
        bad: "-- 0003: ALTER TYPE status ADD VALUE 'archived';\nALTER TYPE status ADD VALUE 'archived';", good: "ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived';" }
    ForeignKeyNotUnique => { code: "foreign-key-not-unique", severity: Error, fatal: false,
        family: Schema,
        summary: "A foreign key references columns that have no primary key or unique constraint on exactly them at that point (PostgreSQL: 42830; 55000 for a deferrable one).",
        why: "PostgreSQL needs a unique, non-deferrable key on exactly the referenced columns (any order; a bare REFERENCES takes the primary key): a unique index that is partial or on an expression does not count, and dropping the key or its column takes it away. The deploy fails on the foreign key.",
        bad: "-- 0001: CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE TABLE invites (email text REFERENCES users (email));", good: "ALTER TABLE users ADD UNIQUE (email);\nCREATE TABLE invites (email text REFERENCES users (email));" }
    DependentObjects => { code: "dependent-objects", severity: Error, fatal: false,
        family: Schema,
        summary: "A migration drops a table, view or schema that a view or other objects of the set still depend on, without CASCADE (PostgreSQL: 2BP01).",
        why: "PostgreSQL refuses to drop what a view reads (or a schema that still holds objects) unless the statement says CASCADE: the deploy fails on the DROP. The replay knows which views read what, as far as their queries name it.",
        bad: "-- 0003: CREATE VIEW active_users AS SELECT * FROM users;\nDROP TABLE users;", good: "DROP VIEW active_users;\nDROP TABLE users;" }
    DuplicateSchema => { code: "duplicate-schema", severity: Error, fatal: false,
        family: Schema,
        summary: "A migration creates a schema that already exists (PostgreSQL: 42P06).",
        why: "The second CREATE SCHEMA fails at deploy unless it says IF NOT EXISTS.",
        bad: "-- 0000: CREATE SCHEMA auth;\nCREATE SCHEMA auth;", good: "CREATE SCHEMA IF NOT EXISTS auth;" }
    EmptySet => { code: "empty-set", severity: Error, fatal: false,
        family: Naming, protection: true,
        summary: "A configured migration set holds no migration at all.",
        why: "A set that finds nothing checks nothing: a moved directory or a wrong `dir` would pass silently.",
        bad: "[[set]]\ndir = \"db/migration\"   (the files are in db/migrations)", good: "[[set]]\ndir = \"db/migrations\"" }
    NumberClaimed => { code: "number-claimed", severity: Warning, fatal: false,
        family: Git,
        summary: "A number this branch adds is also added by another open branch (`--against`).",
        why: "Both pull requests are green until one merges; then the other breaks main unless it is up to date. Said early, it is a rename on a branch.",
        bad: "this branch adds 0005_add_email.sql; refs/remotes/pr/12 adds 0005_add_phone.sql", good: "one of them renumbered to 0006" }
    AgainstUnreadable => { code: "against-unreadable", severity: Warning, fatal: false,
        family: Git,
        summary: "A ref matched by `--against` could not be read (shallow history, missing objects).",
        why: "Its claims are unknown: a collision with it would pass unseen, so the gap is said rather than skipped silently.",
        bad: "refs/remotes/pr/12 fetched with --depth 1", good: "the pull requests' heads fetched with their history" }
    AgainstNoMatch => { code: "against-no-match", severity: Info, fatal: false,
        family: Git,
        summary: "An `--against` glob matched no ref.",
        why: "Nothing was compared: a typo in the glob, or the other branches were not fetched.",
        bad: "--against 'refs/remotes/prs/*' (nothing fetched there)", good: "--against 'refs/remotes/pr/*' after fetching the heads" }
    BaselineCoversNew => { code: "baseline-covers-new", severity: Error, fatal: false,
        family: Naming,
        summary: "A migration the base does not have is numbered at or below the set's `baseline`.",
        why: "A baseline stands for legacy files that already exist; a new file under it would escape the parse check, so it is checked and reported instead.",
        bad: "baseline = \"0120\"  and a new 0008_add_email.sql", good: "the new file numbered after the last migration (0121_add_email.sql)" }
    UnsafePath => { code: "unsafe-path", severity: Error, fatal: false,
        family: Sql, protection: true,
        summary: "A migration or the ledger is a symlink that leads outside the repository.",
        why: "miglint never reads or prints files outside the repository it checks: a link to /proc/self/environ would leak CI secrets into the log.",
        bad: "migrations/0003_x.sql -> /etc/passwd", good: "migrations/0003_x.sql as a regular file" }
    UnknownIgnoreCode => { code: "unknown-ignore-code", severity: Warning, fatal: false,
        family: Sql,
        summary: "An ignore directive names a code miglint does not have.",
        why: "A misspelt code silences nothing, so the finding it meant to excuse still fails the check, or the directive is stale.",
        bad: "-- miglint-ignore-file empty-migratoin", good: "-- miglint-ignore-file empty-migration" }
    UnusedIgnore => { code: "unused-ignore", severity: Warning, fatal: false,
        family: Sql,
        summary: "An ignore directive silences nothing (or names a protection code, which directives cannot silence).",
        why: "Stale directives hide future problems; protection codes (edits of applied or merged migrations) can only be re-rated in miglint.toml.",
        bad: "-- miglint-ignore-file checksum-mismatch", good: "(remove it; or re-rate the rule under [rules] in miglint.toml, reviewed like code)" }
    PsqlUnknownCommand => { code: "psql-unknown-command", severity: Warning, fatal: false,
        family: Sql,
        summary: "A backslash command that psql does not know.",
        why: "psql stops (or, without ON_ERROR_STOP, skips the line) at an unknown meta-command: usually a typo such as \\sett.",
        bad: "\\sett ON_ERROR_STOP on", good: "\\set ON_ERROR_STOP on" }
    PsqlInclude => { code: "psql-include", severity: Error, fatal: false,
        family: Sql, protection: true,
        summary: "A psql meta-command runs or loads another file (\\i, \\ir, \\copy … FROM 'file', \\!).",
        why: "The ledger's checksum covers this file only: an edit of the included file after the migration was applied changes what a fresh database gets, and nothing would notice. miglint does not check the included SQL either.",
        bad: "\\ir ../sql/functions.sql", good: "the functions' SQL in the migration itself (or a new migration for each change)" }
    ChecksumMismatch => { code: "checksum-mismatch", severity: Error, fatal: false,
        family: Ledger, protection: true, node: "changed after it was applied",
        summary: "An applied (recorded) migration no longer matches its recorded SHA-256.",
        why: "The database ran the recorded bytes; an edited file means fresh databases and production now differ.",
        bad: "editing 0001_users.sql after `miglint record 0001`", good: "leave 0001 alone and add 0007_fix_users.sql" }
    AppliedFileMissing => { code: "applied-file-missing", severity: Error, fatal: false,
        family: Ledger, protection: true,
        summary: "The ledger names an applied migration that no longer exists (deleted or renamed).",
        why: "Fresh databases built from the folder would miss a change that production has.",
        bad: "git rm migrations/0000_init.sql", good: "keep applied files; add a new migration that reverts" }
    OutOfOrder => { code: "out-of-order", severity: Error, fatal: false,
        family: Ledger, protection: true, root: NumberConflict, node: "number conflict",
        summary: "A new migration is numbered below one that is already applied or merged.",
        why: "It would be applied after newer migrations, in an order no test ever ran.",
        bad: "ledger ends at 0005, new file 0003_fix.sql", good: "new file 0006_fix.sql" }
    LockInvalid => { code: "lock-invalid", severity: Error, fatal: false,
        family: Ledger, protection: true,
        summary: "The ledger (applied.sha256) is malformed.",
        why: "A ledger that cannot be read protects nothing; it must stay exactly `sha256sum` output.",
        bad: "abc123 0001_users.sql", good: "<64 lowercase hex>  0001_users.sql" }
    UnrecordedMigrations => { code: "unrecorded-migrations", severity: Off, fatal: false,
        family: Ledger, protection: true,
        summary: "Migrations that the ledger does not record as applied (on with --require-recorded).",
        why: "In a deploy pipeline, pending migrations mean the database is behind the code.",
        bad: "0007_add_email.sql present, ledger ends at 0006", good: "apply 0007, then `miglint record 0007`" }
    HistoryMismatch => { code: "history-mismatch", severity: Error, fatal: false,
        family: History, protection: true,
        summary: "The ledger, the files and a CSV export of migration_history disagree.",
        why: "The database's own record is the ground truth of what ran; the repository must agree with it.",
        bad: "migration_history has 0003 with another checksum", good: "all three agree" }
    NoBase => { code: "no-base", severity: Info, fatal: false,
        family: Run,
        summary: "No base revision was found, so the git checks against the base branch were skipped.",
        why: "Without a base, edits to merged migrations and number conflicts go unnoticed.",
        bad: "miglint check   (no origin/HEAD, no [git] base)", good: "miglint check --base origin/main" }
    ModifiedAfterMerge => { code: "modified-after-merge", severity: Error, fatal: false,
        family: Git, protection: true, root: ChecksumMismatch, node: "changed after merge",
        summary: "A migration that exists on the base branch was changed.",
        why: "Merged migrations may already run in some environment; editing them forks the schema history.",
        bad: "editing 0002_roles.sql in a pull request", good: "adding 0008_alter_roles.sql" }
    DeletedAfterMerge => { code: "deleted-after-merge", severity: Error, fatal: false,
        family: Git, protection: true,
        summary: "A migration that exists on the base branch was deleted.",
        why: "Environments that applied it keep the change; fresh ones lose it.",
        bad: "git rm migrations/0002_roles.sql", good: "add a migration that undoes 0002" }
    RenamedAfterMerge => { code: "renamed-after-merge", severity: Error, fatal: false,
        family: Git, protection: true,
        summary: "A migration that exists on the base branch was renamed.",
        why: "Appliers key history by file name: a rename looks like a new, unapplied migration.",
        bad: "git mv 0002_roles.sql 0002_user_roles.sql", good: "keep the merged name" }
    NumberConflict => { code: "number-conflict", severity: Error, fatal: false,
        family: Git, protection: true, node: "number conflict",
        summary: "A new migration reuses a number the base branch already has under another name.",
        why: "Two branches both added the same number; after the merge one of them is never applied.",
        bad: "main has 0005_add_phone.sql, branch adds 0005_add_email.sql", good: "branch renames to 0006_add_email.sql (miglint renumber)" }
    LockRewritten => { code: "lock-rewritten", severity: Error, fatal: false,
        family: History, protection: true,
        summary: "The ledger on this branch is not the base's ledger plus appended lines.",
        why: "Recorded entries are history; rewriting them hides an edited or re-applied migration.",
        bad: "changing a digest in applied.sha256", good: "only appending lines with `miglint record`" }
    ShallowClone => { code: "shallow-clone", severity: Error, fatal: true,
        family: Run,
        summary: "The repository is shallow and the merge-base with the base is missing.",
        why: "Without history miglint would silently check nothing against the base.",
        bad: "actions/checkout with the default fetch-depth: 1", good: "actions/checkout with fetch-depth: 0" }
    BaseNotFound => { code: "base-not-found", severity: Error, fatal: true,
        family: Run,
        summary: "The base revision does not resolve.",
        why: "A required check that cannot find its base must fail loudly, not pass.",
        bad: "miglint check --base origin/mian", good: "miglint check --base origin/main" }
    RewrittenInHistory => { code: "rewritten-in-history", severity: Error, fatal: false,
        family: History, protection: true, node: "rewritten in history",
        summary: "A commit on the first-parent history changed a migration after it was first committed or recorded.",
        why: "Environments deployed between the two commits ran the old text.",
        bad: "commit b1e2… edits 0002_roles.sql a month after it landed", good: "a new migration in its own commit" }
    NotARepository => { code: "not-a-repository", severity: Error, fatal: true,
        family: Run,
        summary: "A git-based check was asked for outside a git repository.",
        why: "--staged, --base and --history read git; outside git they cannot run.",
        bad: "miglint check --staged   (in a plain directory)", good: "run it inside the repository" }
    AlembicParseError => { code: "alembic-parse-error", severity: Error, fatal: false,
        family: Alembic,
        summary: "An Alembic revision file cannot be read statically.",
        why: "miglint never runs Python; a revision whose id it cannot read makes the head unknowable.",
        bad: "revision = make_id()", good: "revision = \"20251105_000002\"" }
    AlembicMultipleHeads => { code: "alembic-multiple-heads", severity: Error, fatal: false,
        family: Alembic,
        summary: "The Alembic revision graph has more than one head.",
        why: "A single stamped head cannot describe a branched graph; `alembic upgrade head` would fail too.",
        bad: "two revisions with down_revision = 'a1'", good: "`alembic merge -m merge <h1> <h2>`" }
    AlembicMissingRevision => { code: "alembic-missing-revision", severity: Error, fatal: false,
        family: Alembic,
        summary: "A down_revision or depends_on names a revision no file defines.",
        why: "Alembic refuses to load a graph with a dangling reference.",
        bad: "down_revision = 'deadbeef'  (no such file)", good: "down_revision = an existing revision id" }
    AlembicDuplicateRevision => { code: "alembic-duplicate-revision", severity: Error, fatal: false,
        family: Alembic,
        summary: "Two revision files declare the same revision id.",
        why: "Alembic keeps one of them arbitrarily.",
        bad: "two files with revision = 'a1'", good: "unique revision ids" }
    AlembicCycle => { code: "alembic-cycle", severity: Error, fatal: false,
        family: Alembic,
        summary: "The Alembic revision graph has a cycle.",
        why: "Alembic cannot order a cyclic graph; every command fails.",
        bad: "a1 -> b2 -> a1", good: "an acyclic chain" }
    AlembicHeadMismatch => { code: "alembic-head-mismatch", severity: Error, fatal: false,
        family: Alembic,
        summary: "The revision the SQL stamps (or the declared head) is not the head of the Alembic graph.",
        why: "Alembic would think the schema is behind (or ahead) and `upgrade` would re-run or skip DDL.",
        bad: "SET version_num = '20251105_000001' while the head is 20251105_000002", good: "SET version_num = '20251105_000002'" }
    AlembicUnknownRevision => { code: "alembic-unknown-revision", severity: Error, fatal: false,
        family: Alembic,
        summary: "A stamp names a revision that no Alembic file defines.",
        why: "Alembic fails with 'Can't locate revision' on the stamped database.",
        bad: "SET version_num = 'typo123'", good: "SET version_num = an existing revision id" }
    AlembicStampTable => { code: "alembic-stamp-table", severity: Error, fatal: false,
        family: Alembic,
        summary: "A stamp targets a table other than the configured Alembic version table.",
        why: "Alembic reads its configured table; a stamp elsewhere (e.g. unqualified alembic_version) does nothing useful.",
        bad: "UPDATE alembic_version SET version_num = '…';", good: "UPDATE auth.alembic_version_auth SET version_num = '…';" }
    AlembicStampUnverified => { code: "alembic-stamp-unverified", severity: Warning, fatal: false,
        family: Alembic,
        summary: "A statement writes Alembic's version table in a form miglint cannot evaluate (a DO block, dynamic SQL, a computed value).",
        why: "The stamp it makes is invisible to the head check, so a stale or wrong revision would pass unnoticed.",
        bad: "DO $$ BEGIN UPDATE auth.alembic_version_auth SET version_num = 'abc'; END $$;", good: "UPDATE auth.alembic_version_auth SET version_num = 'abc';" }
    AlembicHeadUndeclared => { code: "alembic-head-undeclared", severity: Warning, fatal: false,
        family: Alembic,
        summary: "Alembic is configured but neither a stamp in the SQL nor `head` in the config declares a head.",
        why: "Nothing keeps Alembic's view of the schema in step with the SQL.",
        bad: "no UPDATE … SET version_num in any migration", good: "the newest migration stamps the current head" }
    AlembicUpgradeAtStart => { code: "alembic-upgrade-at-start", severity: Error, fatal: false,
        family: Alembic,
        summary: "The compose file enables Alembic upgrades at start while manual SQL is the source of truth.",
        why: "`alembic upgrade` at start would re-run DDL the manual SQL already applied: an error while the SQL folder is the source of truth (re-rate it under [rules] if Alembic runs by design).",
        bad: "MIGRATE_AT_START: \"true\"", good: "MIGRATE_AT_START: \"false\"" }
    ConfigInvalid => { code: "config-invalid", severity: Error, fatal: true,
        family: Run,
        summary: "miglint.toml (or the command line) is invalid, or there is nothing to check.",
        why: "A linter that guesses its configuration checks the wrong thing.",
        bad: "[[set]]\ndirr = \"migrations\"", good: "[[set]]\ndir = \"migrations\"" }
    IoError => { code: "io-error", severity: Error, fatal: true,
        family: Run,
        summary: "A directory, repository or file miglint needs could not be read or written.",
        why: "miglint cannot vouch for what it could not read.",
        bad: "miglint check missing-dir/", good: "miglint check migrations/" }
    RefusedWrite => { code: "refused", severity: Error, fatal: true,
        family: Run,
        summary: "A writing command (record, new, init, renumber) refused to act.",
        why: "Files are written only when it is safe: never overwriting, never out of order.",
        bad: "miglint record 0003   (0002 not recorded yet)", good: "miglint record 0002 0003" }
    InternalError => { code: "internal-error", severity: Error, fatal: true,
        family: Run,
        summary: "miglint hit a bug.",
        why: "Please report it with the input that caused it.",
        bad: "(a panic)", good: "(no panic)" }
    AlembicDdlDrift => { code: "alembic-ddl-drift", severity: Error, fatal: false,
        family: Alembic,
        summary: "An Alembic revision does not build what the SQL migration that stamps it builds (tables, columns, their type families and nullability).",
        why: "The SQL set is the source of truth and each revision is meant to mirror it; the day Alembic runs again on a fresh database, a drifted revision builds a different schema from production's.",
        bad: "-- 0005_email.sql\nALTER TABLE auth.users ADD COLUMN email text;\nUPDATE auth.alembic_version_auth SET version_num = 'c3';\n# c3.py\nop.add_column('users', sa.Column('mail', sa.Text()), schema='auth')",
        good: "# c3.py\nop.add_column('users', sa.Column('email', sa.Text()), schema='auth')" }
    AlembicRevisionUnverified => { code: "alembic-revision-unverified", severity: Warning, fatal: false,
        family: Alembic,
        summary: "miglint cannot read what an Alembic revision's upgrade() does, so it stops comparing the revisions with the SQL there.",
        why: "miglint reads upgrade() without running it: op.* calls with literal arguments and op.execute of literal SQL. Anything else (a loop, a helper, batch_alter_table, bulk_insert) could do anything; it is named, never guessed.",
        bad: "def upgrade():\n    for t in TABLES:\n        op.drop_table(t)",
        good: "def upgrade():\n    op.drop_table('a')\n    op.drop_table('b')" }
    OrphanDown => { code: "orphan-down", severity: Error, fatal: false,
        family: Naming,
        summary: "A down file whose version has no up file (golang-migrate, sqlx).",
        why: "golang-migrate reads a version without an `.up.` file as an empty migration (`migrate up` records it as applied and runs nothing); sqlx's `migrate run` skips down files. Either way the change it was meant to revert never reaches the database.",
        bad: "000004_add_email.down.sql   (no 000004_….up.sql)", good: "000004_add_email.up.sql\n000004_add_email.down.sql" }
    MissingDown => { code: "missing-down", severity: Warning, fatal: false,
        family: Naming,
        summary: "The up half of a reversible migration without its down file (golang-migrate, sqlx).",
        why: "A rollback (`migrate down`, `sqlx migrate revert`) steps past a version without a down file without reverting anything. Teams that never roll back can turn this off; sqlx's simple `.sql` migrations expect none.",
        bad: "000004_add_email.up.sql   (alone)", good: "000004_add_email.up.sql\n000004_add_email.down.sql" }
    InvalidAnnotation => { code: "invalid-annotation", severity: Error, fatal: false,
        family: Sql,
        summary: "A dbmate or goose file whose markers the tool would refuse, or a statement goose would cut.",
        why: "dbmate and goose find a file's up and down sections by comment markers, and goose splits statements at lines ending in `;`. A missing or misplaced marker, or a `$$` body outside `StatementBegin`/`StatementEnd`, fails only at deploy.",
        bad: "-- +goose Up\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;", good: "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd" }
    RunsInTransaction => { code: "runs-in-transaction", severity: Error, fatal: false,
        family: Sql,
        summary: "A statement PostgreSQL refuses inside a transaction block, where it runs in one: a file dbmate, goose or sqlx wraps in one, a `BEGIN` block of the file's own, or a set applied with `psql -1` (`single_transaction = true`).",
        why: "`CREATE INDEX CONCURRENTLY`, `VACUUM`, `CREATE DATABASE` and a few others fail with \"cannot run inside a transaction block\". dbmate, goose and sqlx wrap each migration in a transaction unless the file opts out, so the migration fails at deploy.",
        bad: "-- +goose Up\nCREATE INDEX CONCURRENTLY users_email ON users (email);", good: "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY users_email ON users (email);" }
    AlembicRolePrivileges => { code: "alembic-role-privileges", severity: Warning, fatal: false,
        family: Alembic,
        summary: "For the switch back to Alembic (`miglint alembic ready`): the SQL migrations never give the role the service connects as USAGE, CREATE on the version table's schema, or SELECT, UPDATE on the version table.",
        why: "The team's procedure requires it before MIGRATE_AT_START is turned on: `alembic upgrade` connecting as that role fails with permission denied at start. The role comes from `role =` under [set.alembic] or the database URL of the compose file; grants made outside the migrations are declared with `role_granted = true`.",
        bad: "# compose: DATABASE_URL: postgresql://auth_service:…@db/auth\nCREATE SCHEMA auth;\nCREATE TABLE auth.alembic_version_auth (version_num varchar(32) PRIMARY KEY);", good: "GRANT USAGE, CREATE ON SCHEMA auth TO auth_service;\nGRANT SELECT, INSERT, UPDATE, DELETE ON auth.alembic_version_auth TO auth_service;" }
    // new rules above this line (examples/new_rule.rs inserts here)
}

/// Levenshtein distance over characters (codes are short; quadratic is fine).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one place severities are decided: table over rating over default; the command
    /// line's escalation over everything.
    #[test]
    fn severity_is_decided_in_one_place() {
        let (w, e, i) = (Severity::Warning, Severity::Error, Severity::Info);
        assert_eq!(severity(Rule::NumberGap, None, None, w), e);
        assert_eq!(severity(Rule::NumberGap, None, Some(w), e), w);
        assert_eq!(
            severity(Rule::ChecksumMismatch, Some(Rating::Cosmetic), None, w),
            w
        );
        assert_eq!(
            severity(Rule::ChecksumMismatch, Some(Rating::Cosmetic), Some(i), w),
            i
        );
        assert_eq!(
            severity(Rule::UnrecordedMigrations, None, None, e),
            Severity::Off
        );
        assert_eq!(
            severity(
                Rule::UnrecordedMigrations,
                Some(Rating::Required),
                Some(Severity::Off),
                e
            ),
            e
        );
    }

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for rule in Rule::ALL {
            let code = rule.code();
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert_eq!(Rule::from_code(code), Some(*rule));
        }
    }
}
