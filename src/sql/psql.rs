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

/// The rewritten script, the meta-commands psql does not know, and those that make psql read
/// another file or run a program (`\i`, `\ir`, `\copy … FROM 'file'`, `\!`): what they bring in
/// is not in the migration, so its checksum does not cover it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Neutralized {
    pub text: String,
    pub unknown: Vec<Range<usize>>,
    pub external: Vec<Range<usize>>,
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
    let words: Vec<String> = args
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
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
    let mut unknown = Vec::new();
    let mut external = Vec::new();
    let mut changed = false;
    let mut i = 0;
    let mut stmt_start = 0;
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
                // The data rows are not SQL and not psql syntax: left exactly as they are
                // (sqlparser's tokenizer reads them as the COPY payload, up to `\.`).
                if let Some(end) = copy_data(text, stmt_start, i) {
                    i = end;
                }
                stmt_start = i;
            }
            b'\\' => {
                let (end, sends) = meta_command(text, &mut out, i, (&mut unknown, &mut external));
                if sends {
                    stmt_start = end;
                }
                changed = true;
                i = end;
            }
            b':' => {
                let len = variable_len(b, i);
                if len > 0 {
                    match b[i + 1] {
                        q @ (b'\'' | b'"') => {
                            out[i] = q;
                            out[i + 1] = b'x';
                        }
                        _ => out[i] = b'x',
                    }
                    changed = true;
                    i += len;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    changed.then(|| Neutralized {
        // Only ASCII bytes were replaced by ASCII bytes: still valid UTF-8, same offsets.
        text: String::from_utf8(out).unwrap_or_else(|_| text.to_string()),
        unknown,
        external,
    })
}

/// Blanks the meta-command at `i` (to its line's end) in `out`: a command that sends the query
/// buffer becomes a `;` (it ends a statement), any other a comment. Records unknown commands and
/// those that read outside the script (the whole command). Returns where the command ends and
/// whether it sends the buffer.
fn meta_command(
    text: &str,
    out: &mut [u8],
    i: usize,
    (unknown, external): (&mut Vec<Range<usize>>, &mut Vec<Range<usize>>),
) -> (usize, bool) {
    let b = text.as_bytes();
    let end = line_end(b, i);
    let name_end = (i + 1..end)
        .find(|&j| !(b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'+'))
        .unwrap_or(end);
    let name_end = if name_end == i + 1 && end > i + 1 {
        i + 2 // `\!`, `\?`, `\;`: one punctuation character
    } else {
        name_end
    };
    let name = text[i + 1..name_end].trim_end_matches('+');
    if !known(name) {
        unknown.push(i..name_end.max(i + 1));
    }
    if reads_outside(name, &text[name_end..end]) {
        external.push(i..end);
    }
    let sends = SENDS.contains(&name);
    if sends {
        out[i] = b';';
        for slot in out.iter_mut().take(end.min(i + 3)).skip(i + 1) {
            *slot = b'-';
        }
        if end == i + 2 {
            out[i + 1] = b' ';
        }
    } else {
        out[i] = if end > i + 1 { b'-' } else { b' ' };
        if end > i + 1 {
            out[i + 1] = b'-';
        }
    }
    (end, sends)
}

fn word_byte_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
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
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
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
        let (end, what) = match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = line_end(b, i);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => (block_comment(b, i), "block comment"),
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
                (quote(b, i, q, escapes), what)
            }
            b'$' => match dollar(b, i) {
                None => {
                    i += 1;
                    continue;
                }
                Some(end) => (end, "dollar-quoted body"),
            },
            _ => {
                i += 1;
                continue;
            }
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

/// If the statement `text[start..end]` is `COPY … FROM STDIN`, where its data ends: after the line
/// `\.` (or at the end of the script, where psql stops reading too).
fn copy_data(text: &str, start: usize, end: usize) -> Option<usize> {
    let stmt = text.get(start..end)?;
    let words: Vec<String> = stmt
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ';'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let is_copy = words.first().is_some_and(|w| w == "COPY")
        && words.windows(2).any(|w| w[0] == "FROM" && w[1] == "STDIN");
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

    #[test]
    fn meta_commands_become_comments_and_keep_offsets() {
        let s = "\\set ON_ERROR_STOP on\nBEGIN;\nSELECT 1 \\gexec\n\\ir other.sql\n";
        let out = n(s);
        assert_eq!(out.len(), s.len());
        assert_eq!(
            out,
            "--et ON_ERROR_STOP on\nBEGIN;\nSELECT 1 ;--xec\n--r other.sql\n"
        );
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
    fn copy_data_is_left_alone_up_to_the_terminator() {
        let s = "COPY t (a, b) FROM stdin;\n1\t\\x :v\n\\.\n\\set a 1\nSELECT :v;\n";
        assert_eq!(
            n(s),
            "COPY t (a, b) FROM stdin;\n1\t\\x :v\n\\.\n--et a 1\nSELECT xv;\n"
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
