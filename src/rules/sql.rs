//! The content of one file: `invalid-encoding`, `utf8-bom`, `empty-migration`,
//! `sql-parse-error`, `sql-unverified`, `file-too-large`, `unreadable-file`.

use sqlparser::dialect::Dialect;

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::registry::Rule;
use crate::snapshot::{MigrationFile, Unreadable};
use crate::sql::{self, Analysis, Outcome};

const BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn unreadable(u: &Unreadable) -> Finding {
    if u.outside {
        // Name the link, never its target: the target may be a secret (`/proc/self/environ`).
        return Finding::new(
            Rule::UnsafePath,
            format!("`{}` is a symlink that leads outside the repository; it was not read", u.name),
        )
        .file(u.path.clone())
        .help("replace the link with the file itself; miglint reads nothing outside the repository it checks");
    }
    Finding::new(
        Rule::UnreadableFile,
        format!("`{}` cannot be read: {}", u.name, u.why),
    )
    .file(u.path.clone())
    .help("migrations must be regular files; remove the entry or restore its target")
}

/// The most tokens sqlparser may hold at once (one statement's, or a whole file's when it is
/// read whole), ≈130 bytes each with the vector's growth: ~100 MB, beside one statement's tree
/// (`sql::MAX_STATEMENT_TOKENS`), keeps a run under 512 MB.
const MAX_TOKENS: usize = 800_000;

/// `file-too-large`: a file over `max_file_size` (hashed in chunks, never loaded whole), or one
/// whose largest statement would pass the parse budget: sqlparser holds every token of a
/// statement at once, and 16 MB of `1+1+…` took 8 GB.
fn too_large(set: &SetConfig, file: &MigrationFile) -> Option<Finding> {
    if file.size > set.max_file_size || !file.is_complete() {
        return Some(Finding::new(Rule::FileTooLarge, format!("`{}` is {} bytes, over max_file_size ({}); it was hashed but not parsed", file.name, file.size, set.max_file_size))
            .file(file.path.clone())
            .help("raise `max_file_size` for this set in miglint.toml to check it, or keep bulk data out of migrations"));
    }
    // Small files cannot reach either budget: skip the scans.
    if file.bytes.len() <= sql::MAX_STATEMENT_TOKENS {
        return None;
    }
    let text = String::from_utf8_lossy(&file.bytes);
    let least = sql::psql::least_tokens(&text);
    if least > sql::MAX_STATEMENT_TOKENS {
        return Some(Finding::new(Rule::FileTooLarge, format!("`{}` holds a statement of at least {least} SQL tokens, more than miglint parses in one statement in bounded memory ({}); it was hashed but not parsed", file.name, sql::MAX_STATEMENT_TOKENS))
            .file(file.path.clone())
            .help("split the statement (several INSERTs of fewer rows, or COPY from a file the deploy loads)"));
    }
    if file.bytes.len() < MAX_TOKENS {
        return None;
    }
    let tokens = crate::sql::peak_tokens(&text);
    (tokens > MAX_TOKENS).then(|| {
        Finding::new(Rule::FileTooLarge, format!("`{}` holds a statement of about {tokens} SQL tokens, more than miglint parses in bounded memory ({MAX_TOKENS}); it was hashed but not parsed", file.name))
            .file(file.path.clone())
            .help("split it into several migrations, or keep bulk data out of migrations (COPY from a file the deploy loads)")
    })
}

/// Checks one file. Returns the analysis (directives and stamps) when the file could be read as
/// SQL, so later rules (ignores, Alembic) can use it without parsing again.
pub fn check_file(
    set: &SetConfig,
    dialect: &dyn Dialect,
    file: &MigrationFile,
    parse: bool,
    cached: Option<Analysis>,
) -> (Vec<Finding>, Option<Analysis>) {
    let mut findings = Vec::new();
    if let Some(mut f) = too_large(set, file) {
        // Pending: nobody checked it, so it fails closed. Recorded: its checksum protects it.
        if !parse {
            f.rating = Some(crate::registry::Rating::Protected);
        }
        findings.push(f);
        return (findings, None);
    }
    let Some((_, text, shift)) = decode(file, &mut findings) else {
        return (findings, None);
    };
    // A psql script is read the way psql reads it (same offsets; see `sql::psql`). Meta-commands
    // matter even in an applied file: one that includes another file escapes its checksum.
    let script = if set.psql && text.contains('\\') {
        sql::psql::neutralize(text)
    } else {
        None
    };
    findings.extend(includes(file, script.as_ref(), text, shift));
    // Applied (or baseline) files are protected by their checksums and not re-checked, but
    // still analysed: the schema replay needs what they did (cached by content).
    // Variables alone (`:name`) need the rewrite too, unless the analysis is cached.
    let script = match script {
        None if set.psql && cached.is_none() => sql::psql::neutralize(text),
        script => script,
    };
    findings.extend(unknown_commands(file, script.as_ref(), text, shift));
    let written = text;
    let text = script.as_ref().map_or(text, |s| s.text.as_str());
    let sections = sections(set, dialect, written);
    let analysis = match cached {
        // A cached analysis was made from these same bytes (BOM shift included).
        Some(a) => a,
        None => {
            let mut a = sql::analyze_script((text, written), dialect, &set.placeholders, parse);
            meta_copy_stamps(&mut a, written, script.as_ref(), dialect);
            let unsent = unsent(&a, script.as_ref());
            keep_stamps_that_run(
                &mut a,
                text,
                script.as_ref(),
                &unsent,
                set.single_transaction,
            );
            keep_changes_that_run(&mut a, script.as_ref(), &unsent);
            if let Some(s) = &sections {
                keep_what_runs_forward(&mut a, s);
            }
            if shift > 0 {
                a.shift(shift);
            }
            a
        }
    };
    let at = TextAt {
        text: written,
        shift,
        script: script.as_ref(),
    };
    findings.extend(layout_findings(
        set,
        dialect,
        file,
        &at,
        &analysis,
        sections.as_ref(),
        parse,
    ));
    findings.extend(statement_findings(file, &analysis));
    findings.extend(unknown_ignore_codes(file, &analysis));
    (findings, Some(analysis))
}

/// A dbmate or goose file holds both directions: its sections as the tool reads them.
fn sections(
    set: &SetConfig,
    dialect: &dyn Dialect,
    written: &str,
) -> Option<sql::sections::Sections> {
    match set.layout {
        crate::config::Layout::Dbmate => Some(sql::sections::dbmate(written)),
        crate::config::Layout::Goose => Some(sql::sections::goose(written, &|piece| {
            sqlparser::tokenizer::Tokenizer::new(dialect, piece)
                .tokenize()
                .is_err()
        })),
        _ => None,
    }
}

/// `invalid-annotation`: what the tool refuses in the file's sections. On an applied file (the
/// tool ran it) a warning: its checksum protects it.
fn section_findings(
    set: &SetConfig,
    file: &MigrationFile,
    sections: Option<&sql::sections::Sections>,
    shift: usize,
    parse: bool,
) -> Vec<Finding> {
    let problems = sections.iter().flat_map(|s| &s.problems);
    problems
        .map(|(message, at)| {
            let mut f = Finding::new(Rule::InvalidAnnotation, message.clone())
                .file(file.path.clone())
                .at(at.start + shift..at.end + shift, "here")
                .help(format!(
                    "fix the file so {} reads it as intended; until then it fails at deploy",
                    set.layout.as_str()
                ));
            if !parse {
                f.rating = Some(crate::registry::Rating::Protected);
            }
            f
        })
        .collect()
}

/// `psql-unknown-command`: backslash commands psql does not have.
fn unknown_commands(
    file: &MigrationFile,
    script: Option<&sql::psql::Neutralized>,
    text: &str,
    shift: usize,
) -> Vec<Finding> {
    script
        .iter()
        .flat_map(|s| &s.unknown)
        .map(|at| {
            Finding::new(
                Rule::PsqlUnknownCommand,
                format!("`{}` is not a psql meta-command", &text[at.clone()]),
            )
            .file(file.path.clone())
            .at(at.start + shift..at.end + shift, "unknown command")
            .help("check the spelling (`psql -c '\\?'` lists them); set `psql = false` for the set if these files are not psql scripts")
        })
        .collect()
}

/// What the set's tool refuses in a file: its section markers, and statements that cannot run
/// in the transaction it opens.
fn layout_findings(
    set: &SetConfig,
    dialect: &dyn Dialect,
    file: &MigrationFile,
    at: &TextAt,
    analysis: &Analysis,
    sections: Option<&sql::sections::Sections>,
    parse: bool,
) -> Vec<Finding> {
    let mut findings = section_findings(set, file, sections, at.shift, parse);
    findings.extend(split_by_marker(set, file, at, analysis, sections));
    findings.extend(transaction_findings(
        set, dialect, file, at, analysis, sections, parse,
    ));
    findings
}

/// `invalid-annotation`: a statement that runs across the down marker. The tools find their
/// markers line by line, without reading SQL, so a `-- migrate:down` (or `-- +goose Down`)
/// line inside a `$$` body or a string ends the up part there: the server gets half a
/// statement, while a SQL lexer sees one whole statement.
fn split_by_marker(
    set: &SetConfig,
    file: &MigrationFile,
    at: &TextAt,
    analysis: &Analysis,
    sections: Option<&sql::sections::Sections>,
) -> Vec<Finding> {
    let Some(marker) = sections
        .and_then(|s| s.down.first())
        .map(|r| r.start + at.shift)
    else {
        return Vec::new();
    };
    analysis
        .statements
        .iter()
        .filter(|st| st.span.start < marker && marker < st.span.end)
        .map(|st| {
            Finding::new(
                Rule::InvalidAnnotation,
                format!(
                    "{} splits this statement at its down marker, which lies inside it (in a string or `$$` body)",
                    set.layout.as_str()
                ),
            )
            .file(file.path.clone())
            .at(st.span.clone(), "cut by the marker")
            .help("the tool finds markers line by line without reading SQL: move the marker text out of the statement (e.g. indent it, or build the string another way)")
        })
        .collect()
}

/// A file's text and how far its analysis' spans are shifted from it (a byte-order mark), and
/// how psql reads it (which branches run), for a psql script.
struct TextAt<'a> {
    text: &'a str,
    shift: usize,
    script: Option<&'a sql::psql::Neutralized>,
}

/// `runs-in-transaction`: a statement PostgreSQL refuses inside a transaction block, where it
/// certainly runs in one: in a file the set's tool wraps in one (dbmate, goose and sqlx do,
/// unless the file opts out), inside a block the file itself opens with `BEGIN` (any layout),
/// or anywhere before a `COMMIT` in a set applied with `psql -1` (`single_transaction = true`).
fn transaction_findings(
    set: &SetConfig,
    dialect: &dyn Dialect,
    file: &MigrationFile,
    at: &TextAt,
    analysis: &Analysis,
    sections: Option<&sql::sections::Sections>,
    parse: bool,
) -> Vec<Finding> {
    use crate::config::Layout;
    let sqlx_tx = !at.text.starts_with("-- no-transaction");
    let tool: Option<(InTransaction, &str)> = match (set.layout, sections) {
        (Layout::Dbmate | Layout::Goose, Some(s)) => Some((
            Box::new(|i| s.in_transaction(i)),
            if set.layout == Layout::Dbmate {
                "write `transaction:false` on the block's marker line (`-- migrate:up transaction:false`)"
            } else {
                "add `-- +goose NO TRANSACTION` to the file"
            },
        )),
        (Layout::Sqlx, _) => Some((
            Box::new(move |_| sqlx_tx),
            "start the file with `-- no-transaction`",
        )),
        _ => None,
    };
    let blocks = transaction_blocks(at, analysis, set.single_transaction);
    let mut findings = Vec::new();
    for st in &analysis.statements {
        let (start, end) = (
            st.span.start.saturating_sub(at.shift),
            st.span.end.saturating_sub(at.shift),
        );
        // Where it certainly runs in a transaction block, first: reading the statement's
        // leading words tokenizes it, which every statement of every file cannot afford.
        let by_tool = tool.as_ref().filter(|t| (t.0)(start));
        let block = blocks.iter().find(|b| b.range.contains(&start));
        if by_tool.is_none() && block.is_none() {
            continue;
        }
        let Some(construct) = at
            .text
            .get(start..end)
            .and_then(|t| sql::txn::outside_transaction_only(t, dialect))
        else {
            continue;
        };
        let (why, help) = if let Some((_, opt_out)) = by_tool {
            (
                format!("{} runs this statement in one", set.layout.as_str()),
                format!("{opt_out}; then the file's statements are not rolled back together if one fails, so keep such a statement in a migration of its own"),
            )
        } else if let Some(opened) = block {
            match opened.begin {
                Some(begin) => (
                    format!("the file opens one with `BEGIN` on line {}", line_of(at.text, begin)),
                    "end the transaction (`COMMIT`) before this statement, or move it to a migration of its own without `BEGIN`".to_string(),
                ),
                None => (
                    "the set is applied with `psql -1` (`single_transaction = true`), which runs the whole file in one".to_string(),
                    "move the statement to a migration of its own and apply that file without `-1`".to_string(),
                ),
            }
        } else {
            continue;
        };
        let mut f = Finding::new(
            Rule::RunsInTransaction,
            format!("`{construct}` cannot run inside a transaction block, and {why}"),
        )
        .file(file.path.clone())
        .at(st.span.clone(), "inside a transaction block")
        .help(help);
        if !parse {
            f.rating = Some(crate::registry::Rating::Protected);
        }
        findings.push(f);
    }
    findings
}

/// Whether the set's tool runs the statement at this offset inside its transaction.
type InTransaction<'a> = Box<dyn Fn(usize) -> bool + 'a>;

/// A stretch of a file that certainly runs inside a transaction block, and the `BEGIN` that
/// opened it (`None`: psql's `-1`).
struct Block {
    range: std::ops::Range<usize>,
    begin: Option<usize>,
}

/// The stretches of the file (offsets in its text) that certainly run inside a transaction
/// block: from a `BEGIN` psql certainly sends (or the start, under `psql -1`) to the next
/// `COMMIT` or `ROLLBACK` it may send. A statement in a branch psql never runs is skipped; in a
/// branch miglint cannot evaluate, a `BEGIN` does not count and an end does.
fn transaction_blocks(at: &TextAt, analysis: &Analysis, single: bool) -> Vec<Block> {
    let inside =
        |ranges: &[std::ops::Range<usize>], i: usize| ranges.iter().any(|r| r.contains(&i));
    let (not_run, unsure) = at
        .script
        .map_or((&[][..], &[][..]), |s| (&s.not_run[..], &s.unsure[..]));
    let mut out = Vec::new();
    let mut open: Option<(usize, Option<usize>)> = single.then_some((0, None));
    for st in &analysis.statements {
        let start = st.span.start.saturating_sub(at.shift);
        if inside(not_run, start) {
            continue;
        }
        let text = at
            .text
            .get(start..st.span.end.saturating_sub(at.shift))
            .unwrap_or("");
        if !may_control_transactions(text) {
            continue;
        }
        match Tx::of(text) {
            Tx::Begin if open.is_none() && !inside(unsure, start) => {
                open = Some((start, Some(start)));
            }
            Tx::Commit | Tx::Rollback => {
                if let Some((from, begin)) = open.take() {
                    out.push(Block {
                        range: from..start,
                        begin,
                    });
                }
            }
            _ => {}
        }
    }
    if let Some((from, begin)) = open {
        out.push(Block {
            range: from..usize::MAX,
            begin,
        });
    }
    out
}

/// Whether a statement's first word is one that starts or ends a transaction (a cheap test
/// before [`Tx::of`], which reads its words).
fn may_control_transactions(text: &str) -> bool {
    let first = text
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    ["begin", "start", "commit", "end", "rollback", "abort"]
        .iter()
        .any(|w| first.eq_ignore_ascii_case(w))
}

/// The 1-based line of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Drops what a dbmate or goose file does only on a rollback from its analysis: the schema
/// replay and the stamps follow what runs forward. Statements stay (their SQL is checked). A
/// change without a span of its own (`SET search_path`) sits where the previous one was.
fn keep_what_runs_forward(analysis: &mut Analysis, sections: &sql::sections::Sections) {
    if sections.down.is_empty() {
        return;
    }
    analysis.stamps.retain(|s| !sections.is_down(s.span.start));
    let mut at = 0;
    analysis.changes.get_mut().retain(|c| {
        if let Some(r) = c.spans().first() {
            at = r.start;
        }
        !sections.is_down(at)
    });
}

/// The stamps of each `\copy <version table> … from stdin` (psql sends its rows as `COPY`
/// data), read as [`sql::stamps::copy_rows`] reads a `COPY` statement's. An unqualified table
/// after a `SET search_path` is not read (which table it names depends on the path): the
/// Alembic rule then reports the command as unverified.
fn meta_copy_stamps(
    analysis: &mut Analysis,
    written: &str,
    script: Option<&sql::psql::Neutralized>,
    dialect: &dyn Dialect,
) {
    let Some(script) = script else { return };
    let path_set = analysis
        .changes
        .get()
        .iter()
        .any(|c| matches!(c, sql::ddl::Change::SearchPath(_)));
    for (args, rows) in &script.copies {
        let statement = format!("COPY {}", &written[args.clone()]);
        let Ok(parsed) = sqlparser::parser::Parser::parse_sql(dialect, &statement) else {
            continue;
        };
        let Some(into) = parsed.first().and_then(|s| sql::stamps::copy_into(s, &[])) else {
            continue;
        };
        if path_set && !into.qualified() {
            continue;
        }
        let stamps = sql::stamps::copy_rows(&into, &written[rows.clone()], rows.start);
        analysis.stamps.extend(stamps.unwrap_or_default());
    }
    analysis.stamps.sort_by_key(|s| s.span.start);
}

/// A stamp counts as written only where psql certainly sends it and the server certainly keeps
/// it. One psql never sends (a false `\if` branch, after `\q`, ended by `\gdesc`: described,
/// never run) or that is undone however the file is run (a later `ROLLBACK`, `ROLLBACK TO
/// SAVEPOINT`, or a `\connect`: the server rolls back the closed connection's open transaction)
/// is dropped. One that may or may not take effect (an `\if` miglint cannot evaluate, undone
/// under `psql -1` but not in autocommit or the other way round, after a `\connect` that may
/// name another database) is a delete that may run: it may wipe what it would overwrite, so a
/// write becomes the delete of the rows it replaces and an insert is dropped; a delete counts.
fn keep_stamps_that_run(
    analysis: &mut Analysis,
    text: &str,
    script: Option<&sql::psql::Neutralized>,
    described: &[std::ops::Range<usize>],
    single_transaction: bool,
) {
    use sql::stamps::StampKind;
    if analysis.stamps.is_empty() {
        return;
    }
    let inside =
        |ranges: &[std::ops::Range<usize>], at: usize| ranges.iter().any(|r| r.contains(&at));
    let (not_run, unsure) = script.map_or((&[][..], &[][..]), |s| (&s.not_run[..], &s.unsure[..]));
    let (single, auto) = rollbacks(analysis, text, script, single_transaction);
    // What is written after a connection to another database may not be written here.
    let elsewhere: Vec<std::ops::Range<usize>> = script
        .map_or(&[][..], |s| &s.connects[..])
        .iter()
        .filter(|(_, other_database)| *other_database)
        .map(|&(at, _)| at..text.len())
        .collect();
    let stamps = std::mem::take(&mut analysis.stamps);
    analysis.stamps = stamps
        .into_iter()
        .filter_map(|mut s| {
            let at = s.span.start;
            let undone_single = inside(&single, at);
            let undone_auto = !single_transaction && inside(&auto, at);
            if inside(not_run, at)
                || inside(described, at)
                || (undone_single && (single_transaction || undone_auto))
            {
                return None;
            }
            let may = inside(unsure, at) || undone_single || undone_auto || inside(&elsewhere, at);
            if may {
                s.kind = match s.kind {
                    StampKind::Update => StampKind::Delete(None),
                    StampKind::Replace(old) => StampKind::Delete(Some(old)),
                    StampKind::Insert => return None,
                    delete @ StampKind::Delete(_) => delete,
                };
            }
            Some(s)
        })
        .collect();
}

/// What the server receives but never runs (a statement ended by `\gdesc`) or never receives (the
/// statement a `\r` discards): no stamp or schema change there takes effect.
fn unsent(
    analysis: &Analysis,
    script: Option<&sql::psql::Neutralized>,
) -> Vec<std::ops::Range<usize>> {
    let Some(script) = script else {
        return Vec::new();
    };
    let discarded = analysis
        .statements
        .iter()
        .filter(|st| script.discards.iter().any(|at| st.span.contains(at)))
        .map(|st| st.span.clone());
    script.described.iter().cloned().chain(discarded).collect()
}

/// The byte ranges a rollback undoes when the file runs under `psql -1`, and in autocommit (none
/// for a set declared as applied with `psql -1`).
fn rollbacks(
    analysis: &Analysis,
    text: &str,
    script: Option<&sql::psql::Neutralized>,
    single_transaction: bool,
) -> (Vec<std::ops::Range<usize>>, Vec<std::ops::Range<usize>>) {
    let not_run = script.map_or(&[][..], |s| &s.not_run[..]);
    let mut statements: Vec<(usize, Tx)> = analysis
        .statements
        .iter()
        .filter(|st| !not_run.iter().any(|r| r.contains(&st.span.start)))
        .map(|st| {
            (
                st.span.start,
                Tx::of(text.get(st.span.clone()).unwrap_or("")),
            )
        })
        .collect();
    if let Some(s) = script {
        // A `\connect` closes the old connection: the server rolls back its open transaction.
        statements.extend(s.connects.iter().map(|&(at, _)| (at, Tx::Rollback)));
        statements.extend(
            s.autocommit
                .iter()
                .map(|&(at, on)| (at, Tx::Autocommit(on))),
        );
        // A `\copy` sends a `COPY` of its own: with `AUTOCOMMIT` off it opens a transaction too.
        statements.extend(
            s.copies
                .iter()
                .filter(|(args, _)| !not_run.iter().any(|r| r.contains(&args.start)))
                .map(|(args, _)| (args.start, Tx::Other)),
        );
        statements.sort_by_key(|(at, _)| *at);
    }
    let auto = if single_transaction {
        Vec::new()
    } else {
        undone(&statements, false)
    };
    (undone(&statements, true), auto)
}

/// The schema changes psql certainly sends: none from a false `\if` branch, after `\q` or in
/// `unsent` (see [`unsent`]); one in a branch miglint cannot evaluate, or one whose statement
/// names something through a psql variable (its value is not in the file), is unknown; a
/// `\gexec` (which runs the rows of a query as SQL) or a `\connect` makes what follows unknown.
fn keep_changes_that_run(
    analysis: &mut Analysis,
    script: Option<&sql::psql::Neutralized>,
    unsent: &[std::ops::Range<usize>],
) {
    use sql::ddl::Change;
    let Some(script) = script else { return };
    let inside =
        |ranges: &[std::ops::Range<usize>], at: usize| ranges.iter().any(|r| r.contains(&at));
    let first = |c: &Change| c.spans().first().map_or(0, |r| r.start);
    // The statements that hold a variable reference.
    let with_variable: Vec<std::ops::Range<usize>> = analysis
        .statements
        .iter()
        .map(|s| s.span.clone())
        .filter(|s| script.variables.iter().any(|v| s.contains(&v.start)))
        .collect();
    let mut kept = Vec::with_capacity(analysis.changes.get().len());
    for c in analysis.changes.get_mut().drain(..) {
        let at = first(&c);
        if inside(&script.not_run, at) || inside(unsent, at) {
            continue;
        }
        let unknown = |what: &str| Change::Unknown {
            what: what.into(),
            span: at..at,
        };
        if inside(&script.unsure, at) {
            kept.push(unknown(
                "a statement inside a psql \\if miglint cannot evaluate",
            ));
        } else if names_a_variable(&c, &with_variable, &script.variables) {
            kept.push(unknown("a name given by a psql variable"));
        } else {
            kept.push(c);
        }
    }
    for &(at, what) in &script.opaque {
        let i = kept
            .iter()
            .position(|c| first(c) > at)
            .unwrap_or(kept.len());
        kept.insert(
            i,
            Change::Unknown {
                what: what.into(),
                span: at..at,
            },
        );
    }
    analysis.changes = crate::sql::Changes::new(kept);
}

/// Whether a variable may give one of the names `change` reads or writes: one inside a name it
/// carries, or anywhere in its statement unless it only reads (a read's names all carry spans;
/// a definition may hold names that do not, such as a `RENAME TO` target).
fn names_a_variable(
    change: &sql::ddl::Change,
    statements: &[std::ops::Range<usize>],
    variables: &[std::ops::Range<usize>],
) -> bool {
    let spans = change.spans();
    let Some(at) = spans.first().map(|r| r.start) else {
        return false;
    };
    let Some(statement) = statements.iter().find(|s| s.contains(&at)) else {
        return false;
    };
    let touches =
        |r: &std::ops::Range<usize>| variables.iter().any(|v| v.start < r.end && r.start < v.end);
    spans.iter().any(touches)
        || (!matches!(change, sql::ddl::Change::Uses { .. }) && touches(statement))
}

/// What a statement does to the transaction, read from its first words.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tx {
    Begin,
    Commit,
    Rollback,
    Savepoint(String),
    RollbackTo(String),
    /// psql's `AUTOCOMMIT` variable set on (`true`) or off: not a statement.
    Autocommit(bool),
    Other,
}

impl Tx {
    fn of(statement: &str) -> Tx {
        let words: Vec<String> = statement
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .take(5)
            .map(|w| w.trim_matches('"').to_ascii_lowercase())
            .collect();
        let w = |i: usize| words.get(i).map_or("", String::as_str);
        let name_after = |i: usize| {
            let i = if w(i) == "savepoint" { i + 1 } else { i };
            w(i).to_string()
        };
        match w(0) {
            "begin" => Tx::Begin,
            "start" if w(1) == "transaction" => Tx::Begin,
            "commit" | "end" => Tx::Commit,
            "savepoint" => Tx::Savepoint(w(1).to_string()),
            "rollback" | "abort" => {
                let i = if matches!(w(1), "work" | "transaction") {
                    2
                } else {
                    1
                };
                if w(i) == "to" {
                    Tx::RollbackTo(name_after(i + 1))
                } else {
                    Tx::Rollback
                }
            }
            _ => Tx::Other,
        }
    }
}

/// The byte ranges whose effects a later rollback undoes, for a script that starts inside a
/// transaction (`psql -1`, whose final `COMMIT` commits whatever is open) or not (autocommit,
/// where what is open when the script ends is rolled back, and psql opens a transaction before
/// each statement while its `AUTOCOMMIT` is off).
fn undone(statements: &[(usize, Tx)], single: bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut tx_start = single.then_some(0);
    let mut savepoints: Vec<(String, usize)> = Vec::new();
    let mut implicit = false;
    for (at, tx) in statements {
        if let Tx::Autocommit(on) = tx {
            implicit = !on;
            continue;
        }
        if implicit && tx_start.is_none() && !matches!(tx, Tx::Commit | Tx::Rollback) {
            tx_start = Some(*at);
        }
        match tx {
            Tx::Begin if tx_start.is_none() => tx_start = Some(*at),
            Tx::Commit => {
                tx_start = None;
                savepoints.clear();
            }
            Tx::Rollback => {
                if let Some(start) = tx_start.take() {
                    out.push(start..*at);
                }
                savepoints.clear();
            }
            Tx::Savepoint(name) if tx_start.is_some() => savepoints.push((name.clone(), *at)),
            Tx::RollbackTo(name) => {
                if let Some(&(_, from)) = savepoints.iter().rev().find(|(n, _)| n == name) {
                    out.push(from..*at);
                }
            }
            _ => {}
        }
    }
    if let (false, Some(start)) = (single, tx_start) {
        out.push(start..usize::MAX);
    }
    out
}

/// `psql-include`: meta-commands that run or load another file, which the checksum does not
/// cover.
fn includes(
    file: &MigrationFile,
    script: Option<&sql::psql::Neutralized>,
    text: &str,
    shift: usize,
) -> Vec<Finding> {
    script
        .iter()
        .flat_map(|s| &s.external)
        .map(|at| {
            Finding::new(
                Rule::PsqlInclude,
                format!("`{}` makes psql run or load what is not in this migration: its checksum does not cover that, and miglint does not check it", text[at.clone()].trim_end()),
            )
            .file(file.path.clone())
            .at(at.start + shift..at.end + shift, "reads another file")
            .help("put that SQL (or data) in the migration itself; if the other file is immutable by other means, re-rate `psql-include` under [rules] in miglint.toml")
        })
        .collect()
}

/// The file's text after an optional BOM (`utf8-bom`), with the BOM's length; `None` when it is
/// not UTF-8 (`invalid-encoding`).
fn decode<'a>(
    file: &'a MigrationFile,
    findings: &mut Vec<Finding>,
) -> Option<(&'a [u8], &'a str, usize)> {
    let bytes: &[u8] = &file.bytes;
    let (body, shift) = match bytes.strip_prefix(BOM) {
        Some(rest) => {
            findings.push(
                Finding::new(Rule::Utf8Bom, format!("`{}` starts with a UTF-8 byte-order mark", file.name))
                    .file(file.path.clone())
                    .at(0..3, "byte-order mark")
                    .help("psql does not strip a BOM, so the first statement fails at deploy; save the file as UTF-8 without BOM"),
            );
            (rest, 3)
        }
        None => (bytes, 0),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = shift + e.valid_up_to();
            findings.push(
                Finding::new(Rule::InvalidEncoding, format!("`{}` is not valid UTF-8 (invalid byte 0x{:02X} at byte offset {at})", file.name, bytes[at]))
                    .file(file.path.clone())
                    .at(at..at + e.error_len().unwrap_or(1), "invalid UTF-8")
                    .help("re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`); PostgreSQL rejects invalid byte sequences"),
            );
            return None;
        }
    };
    Some((body, text, shift))
}

/// `sql-parse-error`, `empty-migration`, `sql-ast-skipped`, `sql-unverified`: what the analysis
/// says about the file's statements.
fn statement_findings(file: &MigrationFile, analysis: &Analysis) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some((message, at)) = &analysis.tokenize_error {
        findings.push(
            Finding::new(
                Rule::SqlParseError,
                format!("SQL cannot be tokenized: {message}"),
            )
            .file(file.path.clone())
            .at(at.clone(), "here")
            .help("close the string, quoted identifier or $$ body that starts here"),
        );
    } else if analysis.statements.is_empty() {
        findings.push(
            Finding::new(
                Rule::EmptyMigration,
                format!("`{}` contains no SQL statement", file.name),
            )
            .file(file.path.clone())
            .help("add the migration's SQL, or delete the file if it was created by mistake"),
        );
    }
    let mut ast_skipped = false;
    for (i, stmt) in analysis.statements.iter().enumerate() {
        match &stmt.outcome {
            Outcome::Parsed => {}
            // Said once per file: the statement is valid, only invisible to AST-based rules.
            Outcome::AstSkipped if !ast_skipped => {
                ast_skipped = true;
                findings.push(
                    Finding::new(Rule::SqlAstSkipped, format!("statement {} is valid PostgreSQL that sqlparser cannot parse; AST-based checks (Alembic stamps, statement diffs) skip it and any like it in this file", i + 1))
                        .file(file.path.clone())
                        .at(stmt.span.start..stmt.span.start + 1, "valid, not AST-checked")
                        .help("nothing to fix; if it stamps Alembic's version table, declare the head with `head` under [set.alembic]"),
                );
            }
            Outcome::AstSkipped => {}
            Outcome::Error { message, at } => findings.push(
                Finding::new(Rule::SqlParseError, format!("statement {} does not parse: {message}", i + 1))
                    .file(file.path.clone())
                    .at(at.clone(), "syntax error here")
                    .help("fix the statement; if PostgreSQL accepts it, put `-- miglint-ignore sql-parse-error` on the line above it"),
            ),
            Outcome::Unverified { construct } => {
                findings.push(Finding::new(Rule::SqlUnverified, format!("statement {} ({construct}) is valid PostgreSQL that this build cannot check", i + 1))
                    .file(file.path.clone())
                    .at(stmt.span.start..stmt.span.start + 1, construct.to_string())
                    .help("build miglint with `--features postgres-exact` to check it with PostgreSQL's own grammar"));
            }
        }
    }
    findings
}

/// `unused-ignore`: directives that silenced nothing (`used[i]` says whether directive `i` did),
/// and directives naming a protection code, which no directive may silence.
pub fn unused_ignores(path: &str, d: &crate::sql::Directives, used: &[bool]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (dir, &was_used) in d.list.iter().zip(used) {
        let protected: Vec<&str> = dir
            .codes
            .iter()
            .filter(|c| Rule::from_code(c).is_some_and(|r| r.is_protection()))
            .map(String::as_str)
            .collect();
        let known = dir.codes.is_empty() || dir.codes.iter().any(|c| Rule::from_code(c).is_some());
        let finding = if let Some(first) = protected.first() {
            Finding::new(
                Rule::UnusedIgnore,
                format!("`{first}` protects applied and merged migrations; a directive cannot silence it"),
            )
            .help("remove the directive; if the team really wants to re-rate the rule, do it under [rules] in miglint.toml, where it is reviewed like code")
        } else if !was_used && known {
            Finding::new(Rule::UnusedIgnore, "this ignore directive silences nothing")
                .help("remove it; stale directives hide the next real problem")
        } else {
            continue;
        };
        out.push(
            finding
                .file(path.to_string())
                .at(dir.span.clone(), "directive"),
        );
    }
    out
}

/// `unknown-ignore-code`: a directive naming a code that does not exist, with a did-you-mean.
fn unknown_ignore_codes(file: &MigrationFile, analysis: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    for d in &analysis.directives.list {
        for code in d.codes.iter().filter(|c| Rule::from_code(c).is_none()) {
            let near = Rule::nearest(code);
            let help = match near.as_slice() {
                [] => "run `miglint rules` for the list of codes".to_string(),
                [one] => format!("did you mean `{one}`?"),
                many => format!(
                    "did you mean one of {}?",
                    many.iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(
                Finding::new(
                    Rule::UnknownIgnoreCode,
                    format!("the ignore directive names `{code}`, which is not a miglint code"),
                )
                .file(file.path.clone())
                .at(d.span.clone(), "unknown code")
                .help(help),
            );
        }
    }
    out
}

impl Analysis {
    /// Moves every span by `by` bytes (for a file whose BOM was stripped before analysis).
    pub fn shift(&mut self, by: usize) {
        let mv = |r: &mut std::ops::Range<usize>| *r = r.start + by..r.end + by;
        for s in &mut self.statements {
            mv(&mut s.span);
            if let Outcome::Error { at, .. } = &mut s.outcome {
                mv(at);
            }
        }
        if let Some((_, at)) = &mut self.tokenize_error {
            mv(at);
        }
        self.directives.shift(by);
        for c in self.changes.get_mut() {
            c.shift(by);
        }
        for st in &mut self.stamps {
            mv(&mut st.span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn run(bytes: &[u8]) -> Vec<(&'static str, Option<usize>)> {
        let set = SetConfig::with_dir("m".into());
        let file = MigrationFile::new("0000_a.sql".into(), "m/0000_a.sql".into(), Arc::from(bytes));
        check_file(
            &set,
            &sqlparser::dialect::PostgreSqlDialect {},
            &file,
            true,
            None,
        )
        .0
        .into_iter()
        .map(|f| (f.code(), f.span.map(|s| s.start)))
        .collect()
    }

    #[test]
    fn bom_is_reported_and_the_rest_still_parses() {
        assert_eq!(run(b"\xEF\xBB\xBFSELECT 1;"), vec![("utf8-bom", Some(0))]);
        assert_eq!(
            run(b"\xEF\xBB\xBFSELEC 1;"),
            vec![("utf8-bom", Some(0)), ("sql-parse-error", Some(3))]
        );
    }

    #[test]
    fn invalid_utf8_gives_the_offset() {
        assert_eq!(
            run(b"SELECT 'caf\xE9';"),
            vec![("invalid-encoding", Some(11))]
        );
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert_eq!(run(b""), vec![("empty-migration", None)]);
        assert_eq!(run(b"-- nothing yet\n"), vec![("empty-migration", None)]);
    }

    #[test]
    fn crlf_is_fine() {
        assert!(run(b"SELECT 1;\r\nSELECT 2;\r\n").is_empty());
    }
}
