//! psql scripts are not plain SQL. Teams that apply migrations by hand run them with `psql`, whose
//! own lexer handles, before the server sees anything:
//!
//! - meta-commands: a backslash outside quotes starts a command that runs to the end of the line
//!   (`\set ON_ERROR_STOP on`, `\ir other.sql`, `\if … \endif`); `\g`, `\gexec`, `\gset`, …
//!   also send the statement typed so far, so they end it like `;`;
//! - variables: `:name`, `:'name'` (as a literal) and `:"name"` (as an identifier);
//! - `COPY … FROM stdin;` followed by data rows up to a line `\.`.
//!
//! [`neutralize`] rewrites such a script into SQL a parser accepts **without moving any byte or
//! character**: a meta-command becomes a `--` comment (`;--` for the `\g` family), a variable an
//! identifier or literal of the same length; `COPY` data rows are left alone (sqlparser's
//! tokenizer reads them as the statement's payload). Every span found in the result is therefore a
//! span of the original file.

use std::ops::Range;

/// psql's meta-commands (psql 17), by name.
const KNOWN: &[&str] = &[
    "a",
    "bind",
    "bind_named",
    "c",
    "connect",
    "C",
    "cd",
    "close",
    "conninfo",
    "copy",
    "copyright",
    "crosstabview",
    "d",
    "e",
    "edit",
    "echo",
    "ef",
    "encoding",
    "endpipeline",
    "errverbose",
    "ev",
    "f",
    "flush",
    "flushrequest",
    "g",
    "gdesc",
    "getenv",
    "getresults",
    "gexec",
    "gset",
    "gx",
    "h",
    "help",
    "H",
    "html",
    "i",
    "include",
    "if",
    "elif",
    "else",
    "endif",
    "ir",
    "include_relative",
    "l",
    "list",
    "lo_export",
    "lo_import",
    "lo_list",
    "lo_unlink",
    "o",
    "out",
    "p",
    "print",
    "parse",
    "password",
    "prompt",
    "pset",
    "q",
    "quit",
    "qecho",
    "r",
    "reset",
    "restrict",
    "s",
    "sendpipeline",
    "set",
    "setenv",
    "sf",
    "sv",
    "startpipeline",
    "syncpipeline",
    "t",
    "T",
    "timing",
    "unset",
    "unrestrict",
    "w",
    "write",
    "warn",
    "watch",
    "x",
    "z",
    "!",
    "?",
    ";",
];

/// Meta-commands that send the query buffer (they end a statement).
const SENDS: &[&str] = &["g", "gx", "gexec", "gset", "gdesc", "crosstabview", "watch"];

/// Meta-commands that empty the query buffer without sending it: what was typed of the
/// statement so far never reaches the server.
const DISCARDS: &[&str] = &["r", "reset"];

/// The rewritten script, the meta-commands psql does not know, and those that make psql read
/// another file or run a program (`\i`, `\ir`, `\copy … FROM 'file'`, `\!`): what they bring in
/// is not in the migration, so its checksum does not cover it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Neutralized {
    pub text: String,
    pub unknown: Vec<Range<usize>>,
    pub external: Vec<Range<usize>>,
    /// What psql never sends: branches of `\if` whose constant condition is false, and
    /// everything after a `\q` that certainly runs.
    pub not_run: Vec<Range<usize>>,
    /// What psql may or may not send: branches of an `\if` whose condition miglint cannot
    /// evaluate (a variable, a backtick, a value psql rejects).
    pub unsure: Vec<Range<usize>>,
    /// Each `\copy … from stdin`: its arguments (after `\copy`) and its data rows (up to and
    /// including the line `\.`). psql sends the rows as `COPY … FROM STDIN` data: a stamp when
    /// the table is the version table.
    pub copies: Vec<(Range<usize>, Range<usize>)>,
    /// Variable references that may stand for a name (`:"name"`, `:name`; not the literal
    /// form `:'name'`): their value is not in the file, so neither is the name.
    pub variables: Vec<Range<usize>>,
    /// Meta-commands after which the schema replay cannot follow the server, with why: `\gexec`
    /// runs a query's rows as SQL, `\c`/`\connect` opens another session (maybe on another
    /// database).
    pub opaque: Vec<(usize, &'static str)>,
    /// Each `\c`/`\connect` that runs: where it stands, and whether it may change the database
    /// (any first argument but `-`). Under `psql -1` psql drops the open transaction with the old
    /// connection, so nothing written before it is kept.
    pub connects: Vec<(usize, bool)>,
    /// Statements ended by `\gdesc`: the server parses and describes them but never runs them,
    /// so they write nothing (no stamp, no schema change) though their errors still count.
    pub described: Vec<Range<usize>>,
    /// Where a `\r` empties the query buffer: the statement ending there is never sent (its SQL
    /// after the last meta-command is in `not_run`; a statement a meta-command splits is found
    /// by this position, which its span holds).
    pub discards: Vec<usize>,
    /// Each `\set AUTOCOMMIT …` / `\unset AUTOCOMMIT` that may run: where, and whether it
    /// turns autocommit on. With it off, psql opens a transaction before each statement outside
    /// one, and what is not committed when the script ends is rolled back. A value psql may not
    /// read as on, or a command in a branch that may not run, counts as off only.
    pub autocommit: Vec<(usize, bool)>,
}

/// Meta-commands that run or load another file's content.
const READS_FILE: &[&str] = &["i", "include", "ir", "include_relative", "lo_import", "!"];

/// Whether the meta-command `name` with arguments `args` brings in something from outside the
/// script: an include, a large-object import, a shell command, or `\copy … FROM` a file or a
/// program (not `stdin`/`pstdin`, which are the script's own input).
fn reads_outside(name: &str, args: &str) -> bool {
    if READS_FILE.contains(&name) {
        return true;
    }
    if name != "copy" {
        return false;
    }
    let words = lower_words(args);
    // `TO PROGRAM` and `FROM PROGRAM` run a shell command on the client.
    if words.iter().any(|w| w == "program") {
        return true;
    }
    match words.iter().position(|w| w == "from") {
        Some(i) => !matches!(
            words.get(i + 1).map(String::as_str),
            Some("stdin" | "pstdin")
        ),
        None => false,
    }
}

/// Whether `name` is a psql meta-command (the `\d` family takes suffixes: `\dt+`, `\dx`).
fn known(name: &str) -> bool {
    KNOWN.contains(&name) || (name.starts_with('d') && name.len() <= 4) || name.starts_with("lo_")
}

/// Rewrites psql syntax (see the module doc), or `None` when the script has none.
pub fn neutralize(text: &str) -> Option<Neutralized> {
    if !text.contains(['\\', ':']) {
        return None;
    }
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut n = Neutralized::default();
    // Where the last meta-command ended: a described statement starts after it.
    let mut meta_end = 0;
    let mut discarded = Vec::new();
    let mut changed = false;
    let mut i = 0;
    let mut stmt_start = 0;
    let mut flow = Flow::default();
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => i = line_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment_end(b, i),
            b'\'' => {
                let escapes =
                    i > 0 && matches!(b[i - 1], b'E' | b'e') && !word_byte_before(b, i - 1);
                i = quote_end(b, i, b'\'', escapes);
            }
            b'"' => i = quote_end(b, i, b'"', false),
            b'$' => i = dollar_end(b, i),
            b';' => {
                i += 1;
                if let Some(end) = blank_copy_rows(text, &mut out, stmt_start, i) {
                    changed = true;
                    i = end;
                }
                stmt_start = i;
            }
            b'\\' => {
                let (end, sends, name_end) =
                    meta_command(text, &mut out, i, (&mut n.unknown, &mut n.external));
                let (name, args) = (&text[i + 1..name_end], &text[name_end..end]);
                flow.command(name, args, i, end);
                n.session_command(name, args, i);
                let args_end = line_end(b, name_end).min(end);
                if name == "copy" && args_end < end {
                    n.copies
                        .push((name_end..args_end, (args_end + 1).min(end)..end));
                }
                if sends {
                    if name == "gdesc" {
                        n.described.push(stmt_start.max(meta_end)..i);
                    }
                    if DISCARDS.contains(&name) {
                        // Never sent: not parsed, no stamp or change.
                        discarded.push(stmt_start.max(meta_end)..i);
                        n.discards.push(i);
                    }
                    stmt_start = end;
                }
                changed = true;
                meta_end = end;
                i = end;
            }
            b':' => match n.variable(b, &mut out, i) {
                0 => i += 1,
                len => {
                    changed = true;
                    i += len;
                }
            },
            _ => i += 1,
        }
    }
    (n.not_run, n.unsure) = flow.finish(b.len());
    n.not_run.extend(discarded);
    n.keep_what_may_run();
    // Only ASCII bytes, or every byte of a character, were replaced by ASCII bytes: still valid
    // UTF-8, same offsets.
    n.text = String::from_utf8(out).unwrap_or_else(|_| text.to_string());
    changed.then_some(n)
}

impl Neutralized {
    /// A variable reference at `i` (`:name`, `:'name'`, `:"name"`) becomes an identifier or
    /// literal of the same length in `out`; its length, or 0 when there is none.
    fn variable(&mut self, b: &[u8], out: &mut [u8], i: usize) -> usize {
        let len = variable_len(b, i);
        if len == 0 {
            return 0;
        }
        if b[i + 1] != b'\'' {
            self.variables.push(i..i + len);
        }
        match b[i + 1] {
            q @ (b'\'' | b'"') => {
                out[i] = q;
                out[i + 1] = b'x';
            }
            _ => out[i] = b'x',
        }
        len
    }

    /// Records what a meta-command does to the session: `AUTOCOMMIT`, `\gexec`, `\connect`.
    fn session_command(&mut self, name: &str, args: &str, at: usize) {
        if let Some(on) = autocommit_set(name, args) {
            self.autocommit.push((at, on));
        }
        match name {
            "gexec" => self
                .opaque
                .push((at, "psql's \\gexec (it runs a query's rows as SQL)")),
            "c" | "connect" => {
                self.opaque.push((
                    at,
                    "psql's \\connect (what follows runs in another session, maybe on another database)",
                ));
                let db = args.split_whitespace().next();
                self.connects.push((at, db.is_some_and(|d| d != "-")));
            }
            _ => {}
        }
    }

    /// Drops what psql never runs (a branch it skips, after `\q`); an `AUTOCOMMIT` turned on in
    /// a branch that may not run does not count.
    fn keep_what_may_run(&mut self) {
        let skipped = |at: usize| self.not_run.iter().any(|g| g.contains(&at));
        let unsure = |at: usize| self.unsure.iter().any(|g| g.contains(&at));
        self.external.retain(|r| !skipped(r.start));
        self.opaque.retain(|(at, _)| !skipped(*at));
        self.connects.retain(|(at, _)| !skipped(*at));
        self.described.retain(|r| !skipped(r.end));
        self.discards.retain(|&at| !skipped(at));
        self.autocommit
            .retain(|&(at, on)| !(skipped(at) || on && unsure(at)));
    }
}

/// `Some(on)` when the meta-command sets psql's `AUTOCOMMIT` (the name is case-sensitive;
/// `\set` joins its value's words): on only for a value psql reads as true; `\unset` restores the
/// default, on.
fn autocommit_set(name: &str, args: &str) -> Option<bool> {
    let mut words = args.split_whitespace();
    if words.next() != Some("AUTOCOMMIT") {
        return None;
    }
    match name {
        "unset" => Some(true),
        "set" => Some(constant_bool(&words.collect::<String>()) == Some(true)),
        _ => None,
    }
}

/// Meta-commands whose argument is the rest of the line, backslashes included (psql's
/// `OT_WHOLE_LINE`): `\!`, `\copy`, `\h`, and the `\ef`/`\sf` family.
const WHOLE_LINE: &[&str] = &["!", "copy", "h", "help", "ef", "ev", "sf", "sv"];

/// Meta-commands whose argument may be `|command` (psql's `OT_FILEPIPE`): the rest of the line
/// then runs as a shell command.
const FILE_PIPE: &[&str] = &["g", "gx", "o", "out", "w", "write"];

/// Meta-commands that start a program: an editor, whatever the arguments.
const RUNS_EDITOR: &[&str] = &["e", "edit", "ef", "ev"];

/// Blanks the meta-command at `i` in `out` (a command that sends the query buffer becomes a
/// `;`, any other spaces; offsets are kept). Its arguments end, as psql's lexer has it, at the
/// line's end or at the next unquoted backslash: a second meta-command may follow on the same
/// line, and `\\` resumes SQL there. Records unknown commands and those that read a file or run
/// a program. Returns where the command ends, whether it sends the buffer, and where its name
/// ends (its arguments follow).
fn meta_command(
    text: &str,
    out: &mut [u8],
    i: usize,
    (unknown, external): (&mut Vec<Range<usize>>, &mut Vec<Range<usize>>),
) -> (usize, bool, usize) {
    let b = text.as_bytes();
    let line = line_end(b, i);
    // `\\`: the separator; SQL continues after it.
    if b.get(i + 1) == Some(&b'\\') {
        out[i] = b' ';
        out[i + 1] = b' ';
        return (i + 2, false, i + 1);
    }
    let name_end = (i + 1..line)
        .find(|&j| !(b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'+'))
        .unwrap_or(line);
    let name_end = if name_end == i + 1 && line > i + 1 && !b[i + 1].is_ascii_whitespace() {
        i + 2 // `\!`, `\?`, `\;`: one punctuation character
    } else {
        name_end
    };
    let name = text[i + 1..name_end].trim_end_matches('+');
    if !known(name) {
        unknown.push(i..name_end.max(i + 1));
    }
    let (mut end, runs) = arguments(b, name, name_end, line);
    if runs || RUNS_EDITOR.contains(&name) || reads_outside(name, &text[name_end..end]) {
        external.push(i..end);
    }
    // Either way the statement typed so far ends here.
    let sends = SENDS.contains(&name) || DISCARDS.contains(&name);
    // `\copy … from stdin` reads its rows from the script itself, up to a line `\.`.
    if name == "copy" && from_stdin(&text[name_end..end]) {
        end = stdin_rows_end(text, end);
    }
    for slot in &mut out[i..end] {
        if *slot != b'\n' {
            *slot = b' ';
        }
    }
    if sends {
        out[i] = b';';
    }
    (end, sends, name_end)
}

/// A constant `\if` condition as psql reads it (`ParseVariableBool`): `true`/`false`, `yes`/`no`,
/// `on`/`off`, `1`/`0`, any unique prefix, any case; `None` for anything else (a variable, a
/// backtick, a value psql rejects).
fn constant_bool(arg: &str) -> Option<bool> {
    let v = arg.trim().trim_matches('\'').to_ascii_lowercase();
    if v.is_empty() || arg.contains([':', '`']) {
        return None;
    }
    let prefix_of = |word: &str, min: usize| v.len() >= min && word.starts_with(v.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || v == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// Whether text runs: certainly, certainly not, or miglint cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    Yes,
    No,
    Unsure,
}

/// One open `\if`: whether its current branch runs, and whether an earlier branch did.
#[derive(Debug, Clone, Copy)]
struct Branch {
    current: Runs,
    taken: Runs,
}

/// psql's conditional and quit commands, followed through the script: the ranges that never
/// run and those that may not.
#[derive(Debug, Default)]
struct Flow {
    open: Vec<Branch>,
    /// Where the current state began, and the state.
    since: usize,
    quit: Option<usize>,
    not_run: Vec<Range<usize>>,
    unsure: Vec<Range<usize>>,
}

impl Flow {
    fn state(&self) -> Runs {
        if self.quit.is_some() || self.open.iter().any(|b| b.current == Runs::No) {
            Runs::No
        } else if self.open.iter().any(|b| b.current == Runs::Unsure) {
            Runs::Unsure
        } else {
            Runs::Yes
        }
    }

    /// Closes the range of the state that held up to `at`.
    fn mark(&mut self, before: Runs, at: usize) {
        let range = self.since..at;
        match before {
            Runs::No if !range.is_empty() => self.not_run.push(range),
            Runs::Unsure if !range.is_empty() => self.unsure.push(range),
            _ => {}
        }
        self.since = at;
    }

    /// The meta-command `name` with `args`, at `start..end`.
    fn command(&mut self, name: &str, args: &str, start: usize, end: usize) {
        if self.quit.is_some() {
            return;
        }
        let before = self.state();
        let cond = || match constant_bool(args) {
            Some(true) => Runs::Yes,
            Some(false) => Runs::No,
            None => Runs::Unsure,
        };
        match name {
            "if" => {
                let c = if before == Runs::No { Runs::No } else { cond() };
                self.open.push(Branch {
                    current: c,
                    taken: c,
                });
            }
            "elif" | "else" => {
                let c = if name == "else" { Runs::Yes } else { cond() };
                if let Some(b) = self.open.last_mut() {
                    b.current = match b.taken {
                        Runs::Yes => Runs::No,
                        Runs::Unsure => Runs::Unsure,
                        Runs::No => c,
                    };
                    b.taken = match (b.taken, c) {
                        (Runs::Yes, _) | (_, Runs::Yes) => Runs::Yes,
                        (Runs::No, Runs::No) => Runs::No,
                        _ => Runs::Unsure,
                    };
                }
            }
            "endif" => {
                self.open.pop();
            }
            "q" | "quit" if before != Runs::No => {
                if before == Runs::Yes {
                    self.mark(before, start);
                    self.quit = Some(start);
                    self.since = start;
                    return;
                }
                // A `\q` that may run: what follows may not.
                self.open.push(Branch {
                    current: Runs::Unsure,
                    taken: Runs::Unsure,
                });
            }
            _ => return,
        }
        let after = self.state();
        if after != before {
            self.mark(before, if after == Runs::Yes { start } else { end });
        }
    }

    fn finish(mut self, len: usize) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        let state = self.state();
        self.mark(state, len);
        (self.not_run, self.unsure)
    }
}

/// A meta-command's arguments as lower-case words.
fn lower_words(args: &str) -> Vec<String> {
    args.split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Whether `\copy` arguments read from the script's own input.
fn from_stdin(args: &str) -> bool {
    lower_words(args)
        .windows(2)
        .any(|w| w[0] == "from" && matches!(w[1].as_str(), "stdin" | "pstdin"))
}

/// After the line that ends at `at`, the end of the data rows: past the line `\.`, or the end.
fn stdin_rows_end(text: &str, at: usize) -> usize {
    let mut pos = text[at..].find('\n').map_or(text.len(), |p| at + p + 1);
    for line in text[pos..].split_inclusive('\n') {
        let end = pos + line.len();
        if line.trim_end_matches(['\n', '\r']) == "\\." {
            return end;
        }
        pos = end;
    }
    text.len()
}

/// Where the arguments of meta-command `name` (which ends at `from`) end, and whether one of
/// them runs a program (a backtick, or `|command` for the file-or-pipe commands).
fn arguments(b: &[u8], name: &str, from: usize, line: usize) -> (usize, bool) {
    if WHOLE_LINE.contains(&name) {
        return (line, false);
    }
    let mut j = from;
    let mut first = true;
    let mut runs = false;
    while j < line {
        match b[j] {
            c if c.is_ascii_whitespace() => j += 1,
            b'\\' => return (j, runs),
            b'|' if first && FILE_PIPE.contains(&name) => return (line, true),
            b'\'' => {
                j = quote(b, j, b'\'', true).unwrap_or(line).min(line);
                first = false;
            }
            b'"' => {
                j = quote(b, j, b'"', false).unwrap_or(line).min(line);
                first = false;
            }
            b'`' => {
                runs = true;
                j = b[j + 1..line]
                    .iter()
                    .position(|&c| c == b'`')
                    .map_or(line, |p| j + 2 + p);
                first = false;
            }
            _ => {
                while j < line && !b[j].is_ascii_whitespace() && !matches!(b[j], b'\\' | b'`') {
                    j += 1;
                }
                first = false;
            }
        }
    }
    (line, runs)
}

/// Whether the byte before `i` continues an identifier (PostgreSQL's identifier bytes: ASCII
/// letters, digits, `_`, `$`, and every byte of a non-ASCII character).
fn word_byte_before(b: &[u8], i: usize) -> bool {
    i > 0 && is_ident_byte(b[i - 1])
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The index of the newline ending the line at `i` (or the end).
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p)
}

fn block_comment_end(b: &[u8], i: usize) -> usize {
    block_comment(b, i).unwrap_or(b.len())
}

/// The end of a block comment starting at `i` (they nest), or `None` if it never closes.
fn block_comment(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The end of a quoted string or identifier starting at `i` (a doubled quote is an escape; in an
/// `E''` string so is a backslash).
fn quote_end(b: &[u8], i: usize, q: u8, backslash: bool) -> usize {
    quote(b, i, q, backslash).unwrap_or(b.len())
}

fn quote(b: &[u8], i: usize, q: u8, backslash: bool) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        if backslash && b[j] == b'\\' {
            j += 2;
        } else if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
            } else {
                return Some(j + 1);
            }
        } else {
            j += 1;
        }
    }
    None
}

/// The end of a `$tag$ … $tag$` body starting at `i`, or `i + 1` when `$` starts none (`$1`).
fn dollar_end(b: &[u8], i: usize) -> usize {
    match dollar(b, i) {
        None => i + 1,
        Some(end) => end.unwrap_or(b.len()),
    }
}

/// `None` when the `$` at `i` opens no dollar quote (`$1`, `a$b`); otherwise the end of the body,
/// `Some(None)` when it never closes.
fn dollar(b: &[u8], i: usize) -> Option<Option<usize>> {
    if word_byte_before(b, i) || b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    // A tag is PostgreSQL's `[A-Za-z\200-\377_][A-Za-z\200-\377_0-9]*`: non-ASCII letters too.
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    if j >= b.len() || b[j] != b'$' {
        return None;
    }
    let tag = &b[i..=j];
    Some(
        b[j + 1..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map(|p| j + 1 + p + tag.len()),
    )
}

/// A string, quoted identifier, `$$` body or block comment: where it opens and ends (the end of
/// the text when it never closes), and what it is.
pub struct Literal {
    pub range: Range<usize>,
    pub what: &'static str,
    pub closed: bool,
}

/// Every literal of the text, in order, as psql's lexer finds them (`--` comments skipped).
pub fn literals(text: &str) -> Vec<Literal> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' && b.get(i + 1) == Some(&b'-') {
            i = line_end(b, i);
            continue;
        }
        let Some((end, what)) = literal_at(b, i) else {
            i += 1;
            continue;
        };
        let closed = end.is_some();
        let end = end.unwrap_or(b.len());
        out.push(Literal {
            range: i..end,
            what,
            closed,
        });
        i = end;
    }
    out
}

/// The literal or block comment that opens at `i`, if one does: where it ends (`None` when it
/// never closes) and what it is.
fn literal_at(b: &[u8], i: usize) -> Option<(Option<usize>, &'static str)> {
    match b[i] {
        b'/' if b.get(i + 1) == Some(&b'*') => Some((block_comment(b, i), "block comment")),
        q @ (b'\'' | b'"') => {
            let escapes = q == b'\''
                && i > 0
                && matches!(b[i - 1], b'E' | b'e')
                && !word_byte_before(b, i - 1);
            let what = if q == b'"' {
                "quoted identifier"
            } else {
                "string"
            };
            Some((quote(b, i, q, escapes), what))
        }
        b'$' => dollar(b, i).map(|end| (end, "dollar-quoted body")),
        _ => None,
    }
}

/// Where psql cuts a script into statements.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cuts {
    /// The offsets just past each `;` outside strings, quoted identifiers, `$$` bodies and
    /// comments, and just past each `COPY … FROM stdin` data block.
    pub ends: Vec<usize>,
    /// `COPY … FROM stdin` data: from the line after the statement's `;` to just past the line
    /// `\.` (or the end of the script). Rows are data, never SQL: a quote in a row opens no
    /// literal, and the rows are never tokenized (each byte would be a token).
    pub data: Vec<Range<usize>>,
}

/// Where psql ends each statement of `text`. `None` when a literal never closes (the tokenizer
/// then reports it for the whole file), or when text follows a `COPY … FROM stdin;` on its own
/// line (rare; the caller reads such a file whole).
pub fn statement_cuts(text: &str) -> Option<Cuts> {
    let b = text.as_bytes();
    let mut cuts = Cuts::default();
    let (mut i, mut start) = (0, 0);
    while i < b.len() {
        if b[i] == b'-' && b.get(i + 1) == Some(&b'-') {
            i = line_end(b, i);
            continue;
        }
        if let Some((end, _)) = literal_at(b, i) {
            i = end?;
            continue;
        }
        if b[i] != b';' {
            i += 1;
            continue;
        }
        i += 1;
        cuts.ends.push(i);
        if let Some(data_end) = copy_data(text, text, start, i) {
            let rest = &text[i..line_end(b, i)];
            if !(rest.trim().is_empty() || rest.trim_start().starts_with("--")) {
                return None;
            }
            let data_start = (line_end(b, i) + 1).min(b.len());
            cuts.data.push(data_start..data_end);
            cuts.ends.push(data_end);
            i = data_end;
        }
        start = i;
    }
    Some(cuts)
}

/// A lower bound of the tokens in the largest statement of `text` (statements cut at every `;`
/// outside literals and comments, which can only make them smaller), counted without
/// tokenizing: a budget refusal must never rest on an overestimate. Counted: each `,` `(` `)`
/// `[` `]`, each literal, each run of operator characters (not the sign of an exponent), and
/// each word or number that follows one of these or whitespace. Every counted item begins a
/// token of its own; what is not counted (a word after `.` or `::`) only lowers the bound.
/// `COPY` rows are data, not a syntax tree: a file that mentions `copy` at all gets 0 here and
/// is bounded after tokenizing instead.
pub fn least_tokens(text: &str) -> usize {
    let b = text.as_bytes();
    if b.windows(4).any(|w| w.eq_ignore_ascii_case(b"copy")) {
        return 0;
    }
    let literals = literals(text);
    let mut literal = literals.iter().peekable();
    let (mut largest, mut count, mut i) = (0, 0, 0);
    while i < b.len() {
        let prev = i.checked_sub(1).map(|p| b[p]);
        if let Some(l) = literal.next_if(|l| l.range.start <= i) {
            // `E'…'`, `U&'…'`, `x'…'`: the prefix was counted as the token already.
            let prefixed = prev.is_some_and(|p| is_ident_byte(p) || p == b'&');
            count += usize::from(l.what != "block comment" && !prefixed);
            i = l.range.end.max(i + 1);
            continue;
        }
        let separated = prev.is_none_or(|p| p.is_ascii_whitespace() || b",()[];".contains(&p));
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => i = line_end(b, i),
            b';' => {
                largest = largest.max(count);
                count = 0;
            }
            b',' | b'(' | b')' | b'[' | b']' => count += 1,
            c if b"+-*/<>=~!%^&|".contains(&c) => {
                let operator_before = prev.is_some_and(|p| b"+-*/<>=~!%^&|".contains(&p));
                let exponent = matches!(prev, Some(b'e' | b'E'));
                let unicode_prefix = c == b'&' && matches!(prev, Some(b'U' | b'u'));
                count += usize::from(!operator_before && !exponent && !unicode_prefix);
            }
            c if is_ident_byte(c) && c != b'$' => count += usize::from(separated),
            _ => {}
        }
        i += 1;
    }
    largest.max(count)
}

/// Where the first string, quoted identifier, `$$` body or block comment that never closes
/// opens, and what it is: the tokenizer only notices at the end of the file, but the mistake is
/// where it opens.
pub fn unterminated(text: &str) -> Option<(usize, &'static str)> {
    literals(text)
        .into_iter()
        .find(|l| !l.closed)
        .map(|l| (l.range.start, l.what))
}

/// The length of a psql variable reference at `i` (`:name`, `:'name'`, `:"name"`), or 0. A `::`
/// cast, a slice bound (`a[1:n]`) or a `:=` are not variables.
fn variable_len(b: &[u8], i: usize) -> usize {
    let prev = i.checked_sub(1).map(|p| b[p]);
    if prev
        .is_some_and(|p| p.is_ascii_alphanumeric() || matches!(p, b'_' | b':' | b']' | b')' | b'$'))
    {
        return 0;
    }
    let name = |start: usize| {
        let first_ok = b
            .get(start)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
        if !first_ok {
            return 0;
        }
        b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count()
    };
    match b.get(i + 1) {
        Some(&q @ (b'\'' | b'"')) => {
            let n = name(i + 2);
            if n > 0 && b.get(i + 2 + n) == Some(&q) {
                n + 3
            } else {
                0
            }
        }
        _ => {
            let n = name(i + 1);
            if n > 0 {
                n + 1
            } else {
                0
            }
        }
    }
}

/// After the `;` ending at `i` a statement that began at `start`: if it is `COPY … FROM
/// STDIN`, blanks its data rows in `out` and returns where they end (past `\.`). The rows are
/// neither SQL nor psql syntax; the `\.` stays, as sqlparser reads the payload up to it (its
/// COPY payload reading swallowed the statement after; the server oracle in
/// tests/psql_server.rs found it). The statement is read from what is rewritten so far:
/// meta-commands before it are blanks there, as they are not in psql's query buffer.
fn blank_copy_rows(text: &str, out: &mut [u8], start: usize, i: usize) -> Option<usize> {
    let so_far = std::str::from_utf8(&out[..i]).unwrap_or(text);
    let end = copy_data(so_far, text, start, i)?;
    let rows = text[i..].find('\n').map_or(end, |p| i + p + 1);
    let terminator = text[rows..end].rfind("\\.").map_or(end, |p| rows + p);
    for slot in &mut out[rows..terminator] {
        if *slot != b'\n' {
            *slot = b' ';
        }
    }
    Some(end)
}

/// If the statement `text[start..end]` is `COPY … FROM STDIN`, where its data ends: after the line
/// `\.` (or at the end of the script, where psql stops reading too).
fn copy_data(rewritten: &str, text: &str, start: usize, end: usize) -> Option<usize> {
    let stmt = rewritten.get(start..end)?;
    // Called for every statement of every script: words are compared in place, and the first
    // one settles most statements.
    let mut words = stmt
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ';'))
        .filter(|w| !w.is_empty());
    if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("COPY")) {
        return None;
    }
    let mut after_from = false;
    let is_copy = words.any(|w| {
        let stdin = after_from && w.eq_ignore_ascii_case("STDIN");
        after_from = w.eq_ignore_ascii_case("FROM");
        stdin
    });
    if !is_copy {
        return None;
    }
    let data_start = text[end..].find('\n').map_or(text.len(), |p| end + p + 1);
    let mut pos = data_start;
    for line in text[data_start..].split_inclusive('\n') {
        pos += line.len();
        if line.trim_end_matches(['\n', '\r']) == "\\." {
            return Some(pos);
        }
    }
    Some(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        neutralize(s).map_or(s.to_string(), |n| n.text)
    }

    /// The bound must never pass the real count (sqlparser's significant tokens of the largest
    /// statement), or a budget refusal would rest on a guess.
    #[test]
    fn least_tokens_never_exceeds_what_sqlparser_holds() {
        use sqlparser::dialect::PostgreSqlDialect;
        use sqlparser::tokenizer::{Token, Tokenizer};
        let real = |sql: &str| {
            let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
                .tokenize()
                .unwrap();
            let mut largest = 0;
            let mut count = 0;
            for t in tokens {
                match t {
                    Token::Whitespace(_) | Token::EOF => {}
                    Token::SemiColon => {
                        largest = count.max(largest);
                        count = 0;
                    }
                    _ => count += 1,
                }
            }
            largest.max(count)
        };
        for sql in [
            "SELECT 1,2,3;",
            "SELECT 1+1+1-2*3/4;",
            "SELECT a.b.c, x::int, 1e-5, 1.5e+3, .5, -1 FROM t WHERE a<>b AND c>=d;",
            "SELECT E'a\\'b', U&'d\\0061', x'1f', B'01', N'x', $$ a; b $$, $q$;$q$ FROM \"T\".\"u\";",
            "INSERT INTO t VALUES (1, 'a', true), (2, 'b', false); -- c, d, (e)\nSELECT 1;",
            "/* a, b, c */ SELECT /* ( */ 1 /* ) */;",
            "SELECT ARRAY[1,2][1], a->>'k', a #> '{x}', b || c, $1, :x;",
            "CREATE TABLE t (id int PRIMARY KEY, n text NOT NULL DEFAULT 'x');",
            "SELECT count(*), f(a => 1), g(b := 2) FROM t;",
        ] {
            let least = least_tokens(sql);
            assert!(least <= real(sql), "{sql}: {least} > {}", real(sql));
            assert!(least > 0, "{sql}");
        }
        assert_eq!(
            least_tokens(&format!("SELECT {}1;", "1,".repeat(1000))),
            2002
        );
        assert_eq!(least_tokens("COPY t FROM stdin;\n1,2,3\n\\.\n"), 0);
        assert!(least_tokens(&format!("SELECT {}1;", "1+".repeat(1000))) >= 1000);
    }

    #[test]
    fn meta_commands_become_blanks_and_keep_offsets() {
        let s = "\\set ON_ERROR_STOP on\nBEGIN;\nSELECT 1 \\gexec\n\\ir other.sql\n";
        let out = n(s);
        assert_eq!(out.len(), s.len());
        assert_eq!(
            out,
            "                     \nBEGIN;\nSELECT 1 ;     \n             \n"
        );
    }

    #[test]
    fn a_meta_command_ends_at_the_next_backslash_and_a_double_one_resumes_sql() {
        let r = neutralize("\\echo applying \\ir ../sql/f.sql\n").unwrap();
        assert_eq!(r.external, vec![15..31], "{r:?}");
        let s = "\\set x 1 \\\\ ALTER TABEL users DROP COLUMN email;\n";
        assert_eq!(
            n(s),
            " ".repeat(12) + "ALTER TABEL users DROP COLUMN email;\n"
        );
        // Quoted arguments keep their backslashes.
        let r = neutralize("\\echo 'a \\ir x' done\n").unwrap();
        assert!(r.external.is_empty(), "{r:?}");
    }

    #[test]
    fn every_form_that_runs_a_program_or_reads_a_file_is_external() {
        for s in [
            "SELECT 1 \\g |cat\n",
            "\\o |cat\n",
            "\\w |cat\n",
            "\\copy (SELECT 1) TO PROGRAM 'cat'\n",
            "\\set x `date`\n",
            "\\! ls\n",
            "\\i x.sql\n",
            "\\e\n",
            "\\copy t FROM 'f.csv'\n",
        ] {
            assert_eq!(neutralize(s).unwrap().external.len(), 1, "{s:?}");
        }
        for s in ["SELECT 1 \\g out.txt\n", "\\o out.txt\n", "\\echo |x\n"] {
            assert!(neutralize(s).unwrap().external.is_empty(), "{s:?}");
        }
    }

    #[test]
    fn copy_from_stdin_rows_are_data_not_sql() {
        let s = "\\copy t FROM stdin\n1\tSELEC\n2\t\\ir x\n\\.\nSELECT 1;\n";
        let r = neutralize(s).unwrap();
        assert!(r.external.is_empty(), "{r:?}");
        assert_eq!(r.text.trim_start(), "SELECT 1;\n");
        assert_eq!(r.text.len(), s.len());
    }

    #[test]
    fn non_ascii_dollar_tags_and_identifiers_are_read_as_postgresql_does() {
        let s = "SELECT $é$ \\ir x $é$, é$a$;\n\\ir y.sql\n";
        let r = neutralize(s).unwrap();
        let included: Vec<&str> = r.external.iter().map(|x| &s[x.clone()]).collect();
        assert_eq!(included, vec!["\\ir y.sql"]);
    }

    #[test]
    fn if_branches_and_quit_mark_what_never_runs() {
        let s = "A;\n\\if false\nB;\n\\else\nC;\n\\endif\n\\if :v\nD;\n\\endif\n\\q\nE;\n";
        let r = neutralize(s).unwrap();
        let at = |x: &str| s.find(x).unwrap();
        let runs = |x: &str| {
            let i = at(x);
            if r.not_run.iter().any(|g| g.contains(&i)) {
                "no"
            } else if r.unsure.iter().any(|g| g.contains(&i)) {
                "unsure"
            } else {
                "yes"
            }
        };
        assert_eq!(
            ["A;", "B;", "C;", "D;", "E;"].map(runs),
            ["yes", "no", "yes", "unsure", "no"],
            "{r:?}"
        );
    }

    #[test]
    fn names_from_variables_and_session_changes_are_recorded() {
        let s = "\\set s app\nALTER TABLE :\"s\".t ADD b int DEFAULT :'v';\nSELECT 1 \\gexec\n\\c - bob\n\\if false\n\\c other\n\\endif\n\\connect other\n";
        let n = neutralize(s).unwrap();
        let vars: Vec<&str> = n.variables.iter().map(|r| &s[r.clone()]).collect();
        assert_eq!(vars, [":\"s\""], "the literal form names nothing");
        let at = |w: &str| s.find(w).unwrap();
        assert_eq!(
            n.opaque.iter().map(|o| o.0).collect::<Vec<_>>(),
            [at("\\gexec"), at("\\c -"), at("\\connect")]
        );
        assert_eq!(n.connects, [(at("\\c -"), false), (at("\\connect"), true)]);
        let s = "\\echo x\nUPDATE v SET a = 1 \\gdesc\nSELECT 1 \\g\n";
        let n = neutralize(s).unwrap();
        let described: Vec<&str> = n.described.iter().map(|r| s[r.clone()].trim()).collect();
        assert_eq!(described, ["UPDATE v SET a = 1"]);
    }

    #[test]
    fn variables_keep_their_length() {
        assert_eq!(
            n("CREATE SCHEMA :\"s\"; SELECT :'v', :n, a::int, x[1:n];"),
            "CREATE SCHEMA \"xs\"; SELECT 'xv', xn, a::int, x[1:n];"
        );
        // Inside strings, comments and dollar bodies nothing changes.
        let s = "SELECT ':v', $$ \\set :v $$; -- :v \\x\n";
        assert_eq!(n(s), s);
    }

    #[test]
    fn statements_are_cut_around_copy_rows() {
        let s = "COPY t FROM stdin;\n1\tit's; $$\n\\.\nSELECT ';';\n";
        let cuts = statement_cuts(s).unwrap();
        let rows = s.find('1').unwrap();
        let after = s.find("SELECT").unwrap();
        assert_eq!(cuts.ends, vec![rows - 1, after, s.len() - 1]);
        assert_eq!(cuts.data, vec![rows..after]);
        // No terminator: the rows run to the end, as psql reads them.
        let cuts = statement_cuts("COPY t FROM stdin;\n1\t'\n").unwrap();
        assert_eq!(cuts.data.len(), 1);
        // Text after the `;` on the COPY line: read whole, never guessed.
        assert_eq!(statement_cuts("COPY t FROM stdin; SELECT 1;\n\\.\n"), None);
        // A quote outside rows that never closes: read whole.
        assert_eq!(statement_cuts("SELECT 'a;\n"), None);
    }

    #[test]
    fn copy_data_is_blanked_up_to_the_terminator() {
        let s = "COPY t (a, b) FROM stdin;\n1\t\\x :v\n\\.\n\\set a 1\nSELECT :v;\n";
        assert_eq!(
            n(s),
            "COPY t (a, b) FROM stdin;\n       \n\\.\n        \nSELECT xv;\n"
        );
    }

    #[test]
    fn unterminated_constructs_are_found_where_they_open() {
        assert_eq!(
            unterminated("SELECT 1;\nSELECT $$ x;\n"),
            Some((17, "dollar-quoted body"))
        );
        assert_eq!(unterminated("SELECT $f$ x $f$;"), None);
        assert_eq!(
            unterminated("SELECT 1; /* a /* b */\n"),
            Some((10, "block comment"))
        );
        assert_eq!(
            unterminated("SELECT \"ab FROM t;"),
            Some((7, "quoted identifier"))
        );
        assert_eq!(unterminated("SELECT 'it''s';"), None);
        assert_eq!(unterminated("SELECT $1, a$b;"), None);
    }

    #[test]
    fn unknown_meta_commands_are_reported() {
        let r = neutralize("\\sett x 1\n\\set y 2\n\\dt+\n").unwrap();
        assert_eq!(r.unknown, vec![0..5]);
    }
}
