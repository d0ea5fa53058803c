//! Everything miglint learns from one SQL file: its statements (split on tokens, so `;` inside
//! strings, comments and `$$` bodies is not a split point), each statement's parse outcome,
//! the ignore directives, and the Alembic stamps. The result holds byte spans only, never the
//! ASTs, so checking 10,000 files does not keep 10,000 syntax trees alive.

pub mod ddl;
pub mod directives;
#[cfg(feature = "postgres-exact")]
pub mod exact;
mod foreign;
pub mod functions;
pub mod gaps;
pub mod ident;
pub mod keys;
pub mod privileges;
pub mod psql;
pub mod sections;
pub mod stamps;
pub mod txn;
pub mod types;

use std::ops::Range;

use sqlparser::dialect::Dialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

pub use directives::Directives;
pub use stamps::Stamp;

/// What happened to one statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Parsed,
    /// PostgreSQL's grammar accepts it but sqlparser builds no AST for it (exact builds only):
    /// valid, yet invisible to AST-based rules such as stamps.
    AstSkipped,
    /// sqlparser rejected it; `at` is the byte offset of the error in the file.
    Error {
        message: String,
        at: Range<usize>,
    },
    /// sqlparser rejected a construct PostgreSQL accepts (see [`gaps`]).
    Unverified {
        construct: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// From the first token to the end of the terminating `;` (or the last token).
    pub span: Range<usize>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub statements: Vec<Statement>,
    /// The tokenizer could not read the file (unterminated string or `$$`): no statements.
    pub tokenize_error: Option<(String, Range<usize>)>,
    pub directives: Directives,
    pub stamps: Vec<Stamp>,
    /// What the statements do to the schema, in order (for the schema replay).
    pub changes: Changes,
    /// Not analysed (an applied or baseline file that does not touch Alembic's version table):
    /// only its directives were read, so it has no statements and nothing to report.
    pub skipped: bool,
}

/// What a file's statements do to the schema, in order. From the analysis cache they arrive
/// encoded and are decoded the first time a rule reads them: most of a cached analysis is its
/// changes, and a warm run whose schema replay comes from the cache never reads them (decoding
/// them was a third of such a run over 10,000 files).
#[derive(Debug, Default)]
pub struct Changes {
    list: std::sync::OnceLock<Vec<ddl::Change>>,
    /// As the cache holds them (postcard): a range of the cache file's bytes (shared, not
    /// copied), with the length of the file their spans lie in.
    encoded: Option<(std::sync::Arc<[u8]>, Range<usize>, usize)>,
}

impl Changes {
    pub fn new(list: Vec<ddl::Change>) -> Changes {
        Changes {
            list: std::sync::OnceLock::from(list),
            encoded: None,
        }
    }

    /// Changes as [`Changes::encode`] wrote them, at `at` in `bytes`, for a file of `len`
    /// bytes. A range outside `bytes` reads as changes that do not decode.
    pub fn encoded(bytes: std::sync::Arc<[u8]>, at: Range<usize>, len: usize) -> Changes {
        Changes {
            list: std::sync::OnceLock::new(),
            encoded: Some((bytes, at, len)),
        }
    }

    fn encoded_bytes(&self) -> Option<&[u8]> {
        let (bytes, at, _) = self.encoded.as_ref()?;
        Some(bytes.get(at.clone()).unwrap_or_default())
    }

    /// The changes, decoded on first use. Encoded changes that do not decode, or whose spans
    /// fall outside their file, are one [`ddl::Change::Unknown`]: the replay then treats what
    /// follows as unknown instead of guessing (the cache file is checksummed, so only a
    /// forged one can get here).
    pub fn get(&self) -> &[ddl::Change] {
        self.list.get_or_init(|| {
            let (Some(bytes), Some((_, _, len))) = (self.encoded_bytes(), &self.encoded) else {
                return Vec::new();
            };
            let within = |r: &Range<usize>| r.start <= r.end && r.end <= *len;
            postcard::from_bytes::<Vec<ddl::Change>>(bytes)
                .ok()
                .filter(|l| l.iter().all(|c| c.spans().iter().all(within)))
                .unwrap_or_else(|| {
                    vec![ddl::Change::Unknown {
                        what: "an analysis cache entry that does not decode".into(),
                        span: 0..0,
                    }]
                })
        })
    }

    /// The changes, to edit (decoded first; the encoded form is dropped).
    pub fn get_mut(&mut self) -> &mut Vec<ddl::Change> {
        self.get();
        self.encoded = None;
        self.list.get_mut().expect("decoded just above")
    }

    /// The encoded form, for the cache: as read when never decoded, else encoded afresh.
    pub fn encode(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match (self.encoded_bytes(), self.list.get()) {
            (Some(bytes), _) => Some(std::borrow::Cow::Borrowed(bytes)),
            (None, list) => postcard::to_stdvec(list.map_or(&[][..], |l| l))
                .ok()
                .map(std::borrow::Cow::Owned),
        }
    }
}

impl Clone for Changes {
    fn clone(&self) -> Changes {
        Changes::new(self.get().to_vec())
    }
}

impl PartialEq for Changes {
    fn eq(&self, other: &Changes) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Changes {}

impl Analysis {
    /// The analysis of a file that is protected but not re-checked: its directives only.
    pub fn skipped(text: &str) -> Analysis {
        Analysis {
            directives: Directives::scan_file(text),
            skipped: true,
            ..Analysis::default()
        }
    }
}

/// Maps sqlparser's (line, character column) locations to byte offsets in the original text.
/// Constant time per lookup: callers look up every token of a statement, and a single line can
/// hold hundreds of thousands of them (a recomputation per lookup made that quadratic).
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Per line: ASCII only (byte column = character column).
    ascii: Vec<bool>,
    /// Character start offsets of the non-ASCII lines looked up so far.
    chars: std::cell::RefCell<std::collections::HashMap<usize, Vec<usize>>>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let ascii = if text.is_ascii() {
            vec![true; starts.len()]
        } else {
            (0..starts.len())
                .map(|i| {
                    let end = starts.get(i + 1).map_or(text.len(), |&e| e);
                    text[starts[i]..end].is_ascii()
                })
                .collect()
        };
        LineIndex {
            text,
            starts,
            ascii,
            chars: Default::default(),
        }
    }

    /// Byte offset of a 1-based line and 1-based character column; clamped, never a panic.
    pub fn offset(&self, line: u64, column: u64) -> usize {
        let i = (line.max(1) - 1) as usize;
        let Some(&start) = self.starts.get(i) else {
            return self.text.len();
        };
        let end = self.starts.get(i + 1).map_or(self.text.len(), |&e| e);
        let col = column.max(1) as usize - 1;
        if self.ascii[i] {
            return start + col.min(end - start);
        }
        let mut cache = self.chars.borrow_mut();
        let chars = cache.entry(i).or_insert_with(|| {
            self.text[start..end]
                .char_indices()
                .map(|(b, _)| start + b)
                .collect()
        });
        chars.get(col).copied().unwrap_or(end)
    }
}

/// Replaces every placeholder match with an identifier of the same number of characters, so the
/// parser sees valid SQL and reported columns (in characters) stay true to the original file.
pub fn neutralize_placeholders(text: &str, patterns: &[regex::Regex]) -> Option<String> {
    if patterns.is_empty() {
        return None;
    }
    let mut out = text.to_string();
    let mut changed = false;
    for re in patterns {
        let replaced = re.replace_all(&out, |caps: &regex::Captures| {
            let m = caps.get(0).map_or("", |m| m.as_str());
            // Keep newlines so line numbers stay true; everything else becomes `x`.
            let mut s: String = m
                .chars()
                .map(|c| if c == '\n' { '\n' } else { 'x' })
                .collect();
            if let Some(first) = s.get_mut(0..1) {
                if first == "x" {
                    first.make_ascii_lowercase();
                }
            }
            s
        });
        if let std::borrow::Cow::Owned(o) = replaced {
            out = o;
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Splits `text` into statements and parses each with `dialect`.
///
/// `parse` is false for baseline files (protected but not parse-checked): directives and stamps
/// are still read.
pub fn analyze(
    text: &str,
    dialect: &dyn Dialect,
    placeholders: &[regex::Regex],
    parse: bool,
) -> Analysis {
    analyze_script((text, text), dialect, placeholders, parse)
}

/// [`analyze`] for a psql script: `text` is the script as [`psql::neutralize`] rewrote it (same
/// offsets), `written` the file as written, where `COPY` rows are read (they are blanked in
/// `text`).
pub fn analyze_script(
    (text, written): (&str, &str),
    dialect: &dyn Dialect,
    placeholders: &[regex::Regex],
    parse: bool,
) -> Analysis {
    let substituted = neutralize_placeholders(text, placeholders);
    let sql = substituted.as_deref().unwrap_or(text);
    let lines = LineIndex::new(text);
    let mut analysis = Analysis {
        directives: Directives::scan_file(text),
        ..Analysis::default()
    };

    let mut judge = Judge {
        sql,
        raw: written,
        copy_into: None,
        dialect,
        lines: &lines,
        parse,
        search_path: Vec::new(),
    };
    if !by_statement(&mut judge, &mut analysis) {
        // The whole file at once: a literal that never closes, a disagreement with the
        // tokenizer, or a `BEGIN ATOMIC` body (whose `;` do not end the statement).
        analysis.statements.clear();
        analysis.stamps.clear();
        judge.search_path.clear();
        let tokens = match Tokenizer::new(dialect, sql).tokenize_with_location() {
            Ok(t) => t,
            Err(e) => {
                untokenizable(&mut analysis, dialect, (text, sql), &lines, e);
                return analysis;
            }
        };
        for_each_statement(tokens, |chunk| judge.flush(&mut analysis, chunk));
    }
    let spans: Vec<Range<usize>> = analysis.statements.iter().map(|s| s.span.clone()).collect();
    analysis.directives.bind_statements(&spans);
    analysis
}

/// What judges one statement's tokens, and the state that carries from one to the next.
struct Judge<'a> {
    sql: &'a str,
    /// The file as written: `COPY` rows are blanked in `sql`, read here.
    raw: &'a str,
    /// Set by a `COPY … FROM stdin` into the version table, taken by the rows that follow it.
    copy_into: Option<stamps::CopyInto>,
    dialect: &'a dyn Dialect,
    lines: &'a LineIndex<'a>,
    parse: bool,
    search_path: Vec<String>,
}

impl Judge<'_> {
    fn flush(&mut self, analysis: &mut Analysis, chunk: Vec<TokenWithSpan>) {
        let lines = self.lines;
        let pos = |t: &TokenWithSpan| lines.offset(t.span.start.line, t.span.start.column);
        let end = |t: &TokenWithSpan| lines.offset(t.span.end.line, t.span.end.column);
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            return;
        };
        let span = pos(first)..end(last).max(pos(first));
        self.copy_into = None;
        if let Some(refused) = too_big(&chunk, &span).or_else(|| too_deep(&chunk, &span)) {
            let outcome = if self.parse { refused } else { Outcome::Parsed };
            if ddl::statement_may_change_relations(self.sql.get(span.clone()).unwrap_or("")) {
                analysis.changes.get_mut().push(ddl::Change::Unknown {
                    what: "a statement too large for miglint to read".into(),
                    span: span.clone(),
                });
            }
            analysis.statements.push(Statement { span, outcome });
            return;
        }
        let outcome = parse_statement(
            chunk,
            (self.sql, &span),
            self.dialect,
            lines,
            Facts {
                stamps: &mut analysis.stamps,
                search_path: &mut self.search_path,
                changes: analysis.changes.get_mut(),
                copy_into: &mut self.copy_into,
            },
        );
        let text = self.sql.get(span.clone()).unwrap_or("");
        if outcome != Outcome::Parsed && ddl::statement_may_change_relations(text) {
            // What a statement miglint cannot read does to the schema is unknown.
            analysis.changes.get_mut().push(ddl::Change::Unknown {
                what: "a statement miglint cannot read".into(),
                span: span.clone(),
            });
        } else if outcome != Outcome::Parsed {
            // It changes no relation itself; the functions it calls might.
            analysis
                .changes
                .get_mut()
                .extend(ddl::unread_calls(text, &span));
        }
        // With the exact grammar, PostgreSQL's verdict overrides sqlparser's (placeholders are
        // already neutralised in `sql`).
        let outcome = match self
            .sql
            .get(span.clone())
            .and_then(|stmt| exact_verdict(self.dialect, stmt, span.start))
        {
            Some(Ok(())) if outcome != Outcome::Parsed => Outcome::AstSkipped,
            Some(Err((message, at))) => Outcome::Error { message, at },
            _ => outcome,
        };
        // A baseline file's stamps still count; its parse failures are simply not reported.
        let outcome = if self.parse { outcome } else { Outcome::Parsed };
        analysis.statements.push(Statement { span, outcome });
    }
}

/// Tokenizes and judges the file one statement at a time (split where psql splits), so memory
/// follows the largest statement, not the file: the tokens of a whole file (≈100 bytes each)
/// made a 600 KB file take 200 MB; `COPY … FROM stdin` rows are skipped, never tokenized.
/// `false` when the file must be read whole instead (a literal that never closes, `BEGIN
/// ATOMIC`, or a statement the tokenizer reads differently).
fn by_statement(judge: &mut Judge, analysis: &mut Analysis) -> bool {
    let sql = judge.sql;
    let Some(cuts) = statement_cuts(sql) else {
        return false;
    };
    let mut cursor = (0usize, 1u64, 1u64);
    for (piece, data) in pieces(sql, cuts) {
        if data {
            // The rows of a COPY into the version table are its stamps, read as written.
            if let Some(into) = judge.copy_into.take() {
                let rows = judge.raw.get(piece.clone()).unwrap_or("");
                analysis
                    .stamps
                    .extend(stamps::copy_rows(&into, rows, piece.start).unwrap_or_default());
            }
            continue;
        }
        let start = piece.start;
        let Ok(mut tokens) = Tokenizer::new(judge.dialect, &sql[piece]).tokenize_with_location()
        else {
            return false;
        };
        tokens.retain(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF));
        advance(sql, &mut cursor, start);
        let (_, line, column) = cursor;
        for t in &mut tokens {
            for loc in [&mut t.span.start, &mut t.span.end] {
                if loc.line == 1 {
                    loc.column += column - 1;
                }
                loc.line += line - 1;
            }
        }
        let semicolons = tokens
            .iter()
            .filter(|t| t.token == Token::SemiColon)
            .count();
        let one = semicolons == 0
            || (semicolons == 1 && tokens.last().is_some_and(|t| t.token == Token::SemiColon));
        if one {
            judge.flush(analysis, tokens);
        } else {
            for_each_statement(tokens, |chunk| judge.flush(analysis, chunk));
        }
    }
    true
}

/// Where the file is cut to be read one statement at a time (just past each `;` psql ends a
/// statement at, and around `COPY … FROM stdin` rows), or `None` when it must be read whole: a
/// literal that never closes, or `BEGIN ATOMIC` (its body's `;` do not end the statement).
fn statement_cuts(sql: &str) -> Option<psql::Cuts> {
    // `BEGIN ATOMIC` (words apart by whitespace); `atomic` in a name does not force a whole read.
    let b = sql.as_bytes();
    let atomic = b.windows(6).enumerate().any(|(i, w)| {
        if !w.eq_ignore_ascii_case(b"atomic") {
            return false;
        }
        let before = b[..i].trim_ascii_end();
        before.len() < i
            && before.len() >= 5
            && before[before.len() - 5..].eq_ignore_ascii_case(b"begin")
    });
    if atomic {
        return None;
    }
    psql::statement_cuts(sql)
}

/// The pieces of `text` to read one at a time: each statement, then each `COPY` data block
/// flagged `true` (rows are data: never tokenized, never parsed).
fn pieces(text: &str, cuts: psql::Cuts) -> impl Iterator<Item = (Range<usize>, bool)> + '_ {
    let mut data = cuts.data.into_iter().peekable();
    let mut start = 0;
    cuts.ends
        .into_iter()
        .chain(std::iter::once(text.len()))
        .filter_map(move |end| {
            if end <= start {
                return None;
            }
            let piece = start..end;
            start = end;
            match data.next_if(|d| d.end == end) {
                Some(rows) => Some((rows, true)),
                None => Some((piece, false)),
            }
        })
}

/// An upper estimate of the tokens sqlparser will hold at once for `text`: those of its
/// largest statement, or of the whole file when it is read whole. Every word start and every
/// punctuation byte counts (strings and comments count their punctuation too, so it errs high
/// only for text that is mostly symbols).
pub fn peak_tokens(text: &str) -> usize {
    let estimate = |bytes: &[u8]| {
        let mut count = 0;
        let mut in_word = false;
        for &b in bytes {
            let word = b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b >= 0x80;
            if (word && !in_word) || (!word && !b.is_ascii_whitespace()) {
                count += 1;
            }
            in_word = word;
        }
        count
    };
    match statement_cuts(text) {
        None => estimate(text.as_bytes()),
        Some(cuts) => pieces(text, cuts)
            .filter(|(_, data)| !data)
            .map(|(piece, _)| estimate(&text.as_bytes()[piece]))
            .max()
            .unwrap_or(0),
    }
}

/// Moves `(offset, line, character column)` forward to byte `to` (1-based line and column).
fn advance(text: &str, cursor: &mut (usize, u64, u64), to: usize) {
    for c in text[cursor.0..to].chars() {
        if c == '\n' {
            cursor.1 += 1;
            cursor.2 = 1;
        } else {
            cursor.2 += 1;
        }
    }
    cursor.0 = to;
}

/// A file sqlparser cannot tokenize: the error points where the unclosed construct opens, not
/// at the end of the file where the tokenizer noticed. With the exact grammar, PostgreSQL
/// decides: a file it accepts is valid even if sqlparser cannot tokenize it.
fn untokenizable(
    analysis: &mut Analysis,
    dialect: &dyn Dialect,
    (text, sql): (&str, &str),
    lines: &LineIndex,
    e: sqlparser::tokenizer::TokenizerError,
) {
    let (message, at) = match psql::unterminated(sql) {
        Some((at, what)) => (format!("this {what} is never closed"), at),
        None => (e.message, lines.offset(e.location.line, e.location.column)),
    };
    analysis.tokenize_error = Some((message, at..(at + 1).min(text.len()).max(at)));
    if let Some(verdict) = exact_verdict(dialect, sql, 0) {
        match verdict {
            Ok(()) => {
                analysis.tokenize_error = None;
                analysis.statements.push(Statement {
                    span: 0..text.len(),
                    outcome: Outcome::AstSkipped,
                });
            }
            Err((message, at)) => analysis.tokenize_error = Some((message, at)),
        }
    }
}

/// Splits the tokens into statements at `;` and calls `each` with each statement's tokens. The
/// parser skips whitespace itself, so a statement's chunk holds only significant tokens.
fn for_each_statement(tokens: Vec<TokenWithSpan>, mut each: impl FnMut(Vec<TokenWithSpan>)) {
    let mut chunk: Vec<TokenWithSpan> = Vec::new();
    // A SQL-standard routine body (`CREATE FUNCTION … BEGIN ATOMIC … END`) holds `;` that do not
    // end the statement: like psql, count BEGIN/CASE … END inside it.
    let mut atomic_depth = 0usize;
    let word = |t: &TokenWithSpan, kw: &str| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw));
    for tok in tokens {
        match &tok.token {
            Token::SemiColon if atomic_depth == 0 => {
                if !chunk.is_empty() {
                    chunk.push(tok);
                    each(std::mem::take(&mut chunk));
                }
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => {
                if atomic_depth > 0 {
                    if word(&tok, "BEGIN") || word(&tok, "CASE") {
                        atomic_depth += 1;
                    } else if word(&tok, "END") {
                        atomic_depth -= 1;
                    }
                } else if word(&tok, "ATOMIC")
                    && chunk.last().is_some_and(|t| word(t, "BEGIN"))
                    && chunk.first().is_some_and(|t| word(t, "CREATE"))
                {
                    atomic_depth = 1;
                }
                chunk.push(tok);
            }
        }
    }
    each(chunk);
}

const RECURSION_LIMIT: usize = 400;

/// What a parsed statement adds to the file's analysis.
struct Facts<'a> {
    stamps: &'a mut Vec<Stamp>,
    /// Carried from statement to statement (`SET search_path`).
    search_path: &'a mut Vec<String>,
    changes: &'a mut Vec<ddl::Change>,
    copy_into: &'a mut Option<stamps::CopyInto>,
}

/// Parses one statement's tokens (taking them: no copy on the hot path). `sql` is the text the
/// tokens came from and `span` the statement's byte range, used only on the error path.
fn parse_statement(
    tokens: Vec<TokenWithSpan>,
    (sql, span): (&str, &Range<usize>),
    dialect: &dyn Dialect,
    lines: &LineIndex,
    facts: Facts,
) -> Outcome {
    // PostgreSQL's grammar takes no trailing comma in any list; sqlparser accepts some (and a
    // rewritten construct would hide one), so look at the tokens themselves.
    let postgres = dialect.is::<sqlparser::dialect::PostgreSqlDialect>();
    if let Some(comma) = postgres.then(|| stray_comma(&tokens, lines)).flatten() {
        return Outcome::Error {
            message: "a `,` right before `)`: PostgreSQL takes no trailing comma".into(),
            at: comma..comma + 1,
        };
    }
    let mut tokens = tokens;
    if postgres {
        gaps::drop_ignored_clauses(&mut tokens);
    }
    // PostgreSQL nests far deeper than sqlparser's default limit of 50; worker threads have
    // 16 MiB stacks (main.rs), enough for this depth even in debug builds.
    match Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
    {
        Ok(parsed) => {
            for stmt in &parsed {
                let before = facts.search_path.clone();
                if let Some(into) = stamps::copy_into(stmt, facts.search_path) {
                    *facts.copy_into = Some(into);
                }
                stamps::collect(stmt, lines, facts.stamps, facts.search_path);
                if *facts.search_path != before {
                    let path = facts.search_path.clone();
                    facts.changes.push(ddl::Change::SearchPath(path));
                } else {
                    let reader = ddl::Reader {
                        lines,
                        span: span.clone(),
                    };
                    for change in reader.read(stmt) {
                        // A run of data changes to the same columns (a data migration's
                        // thousands of INSERTs) cannot change the model: keep the first.
                        if !facts
                            .changes
                            .last()
                            .is_some_and(|last| change.repeats(last))
                        {
                            facts.changes.push(change);
                        }
                    }
                }
            }
            // sqlparser's PostgreSQL dialect accepts some MySQL/SQLite/T-SQL syntax that
            // PostgreSQL rejects at deploy time.
            if dialect.is::<sqlparser::dialect::PostgreSqlDialect>() {
                let text = sql.get(span.clone()).unwrap_or("");
                if let Some(what) = parsed.iter().find_map(|st| foreign::syntax(st, text)) {
                    let at = span.start..(span.start + 1).min(span.end.max(span.start + 1));
                    return Outcome::Error {
                        message: format!("{what} is not PostgreSQL syntax"),
                        at,
                    };
                }
            }
            Outcome::Parsed
        }
        Err(err) => failed(&err, sql, span, dialect, lines),
    }
}

/// The most significant tokens of one statement sqlparser is given. Its syntax tree costs up to
/// ~1,800 bytes per token at peak (an `ORDER BY` item is large and the list's vector doubles):
/// 300,000 tokens of `ORDER BY 1,1,…` took 600 MB. At this budget a statement's parse stays
/// under ~400 MB (`benches/hostile.sh`); a larger one is refused unparsed, and `file-too-large`
/// names it before tokenizing when `psql::least_tokens` already shows it.
pub const MAX_STATEMENT_TOKENS: usize = 200_000;

/// `COPY … FROM stdin` rows are held as strings, not a tree: exempt.
fn too_big(tokens: &[TokenWithSpan], span: &Range<usize>) -> Option<Outcome> {
    let copy = matches!(tokens.first().map(|t| &t.token), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case("copy"));
    (tokens.len() > MAX_STATEMENT_TOKENS && !copy).then(|| Outcome::Error {
        message: format!(
            "this statement holds {} SQL tokens; miglint parses at most {MAX_STATEMENT_TOKENS} in one statement (split it, e.g. into several INSERTs)",
            tokens.len()
        ),
        at: span.start..(span.start + 1).min(span.end.max(span.start + 1)),
    })
}

/// sqlparser builds a left-deep tree for `1+1+…` without counting it against its recursion
/// limit, and dropping that tree recurses once per operator: 150,000 of them overflow any
/// stack, and PostgreSQL's own grammar (the exact build) would walk it recursively too. Such a
/// statement is refused before either parser sees it: a finding, never an abort.
fn too_deep(tokens: &[TokenWithSpan], span: &Range<usize>) -> Option<Outcome> {
    let chain = operator_chain(tokens);
    (chain > MAX_OPERATOR_CHAIN).then(|| Outcome::Error {
        message: format!(
            "an expression chains {chain} operators; miglint checks at most {MAX_OPERATOR_CHAIN} in one expression (split it, or use IN (…) / ANY(ARRAY[…]) for long lists)"
        ),
        at: span.start..(span.start + 1).min(span.end.max(span.start + 1)),
    })
}

/// The most binary operators one expression of a statement may chain (see `parse_statement`).
/// Far above hand-written SQL; a 20,000-term chain parses and drops within a worker's stack in
/// debug builds (tests/hostile.rs).
const MAX_OPERATOR_CHAIN: usize = 20_000;

/// The longest run of binary operators at one parenthesis depth, between commas: an upper
/// bound of the depth of the expression tree sqlparser would build.
fn operator_chain(tokens: &[TokenWithSpan]) -> usize {
    let mut depth: Vec<usize> = vec![0];
    let mut longest = 0;
    for t in tokens {
        match &t.token {
            Token::LParen | Token::LBracket => depth.push(0),
            Token::RParen | Token::RBracket if depth.len() > 1 => {
                depth.pop();
            }
            Token::Comma => {
                if let Some(d) = depth.last_mut() {
                    *d = 0;
                }
            }
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::DoubleEq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Caret
            | Token::Ampersand
            | Token::Pipe
            | Token::ShiftLeft
            | Token::ShiftRight => {
                if let Some(d) = depth.last_mut() {
                    *d += 1;
                    longest = longest.max(*d);
                }
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && (w.value.eq_ignore_ascii_case("AND")
                        || w.value.eq_ignore_ascii_case("OR")) =>
            {
                if let Some(d) = depth.last_mut() {
                    *d += 1;
                    longest = longest.max(*d);
                }
            }
            _ => {}
        }
    }
    longest
}

/// The byte offset of a `,` directly followed by `)` (whitespace and comments between them
/// do not count: the chunk holds only significant tokens).
fn stray_comma(tokens: &[TokenWithSpan], lines: &LineIndex) -> Option<usize> {
    tokens
        .windows(2)
        .find(|w| w[0].token == Token::Comma && w[1].token == Token::RParen)
        .map(|w| lines.offset(w[0].span.start.line, w[0].span.start.column))
}

/// The outcome of a statement sqlparser rejects: an error, or `sql-unverified` when the failure
/// is a PostgreSQL construct sqlparser lacks (recognised where it failed, or after the
/// normalisations and rewrites of [`gaps`]) and no next statement was run into it (a missing
/// `;` after a construct sqlparser lacks is still an error).
fn failed(
    err: &sqlparser::parser::ParserError,
    sql: &str,
    span: &Range<usize>,
    dialect: &dyn Dialect,
    lines: &LineIndex,
) -> Outcome {
    let (message, location) = split_error(err);
    let statement = sql.get(span.clone()).unwrap_or("");
    let at = match location {
        Some((line, col)) => {
            let s = lines.offset(line, col);
            s..s + label_len(sql, s)
        }
        // An error at end of input has no position: point at the statement's end.
        None => span.end.saturating_sub(1).max(span.start)..span.end.max(span.start + 1),
    };
    let rel = at.start.saturating_sub(span.start);
    let outcome = judged(
        dialect,
        statement,
        span.start,
        rel,
        Outcome::Error { message, at },
    );
    if !matches!(outcome, Outcome::Unverified { .. }) {
        return outcome;
    }
    // A run-on statement can only start after where sqlparser stopped (nowhere when it gave
    // no position: it ran to the end).
    let failed_at = location.map_or(statement.len(), |_| rel);
    match gaps::run_on_statement(dialect, statement, failed_at) {
        Some(next) => {
            let start = span.start + next;
            Outcome::Error {
                message:
                    "a new statement starts here: is the `;` missing at the end of the one before?"
                        .into(),
                at: start..start + label_len(statement, next),
            }
        }
        None => outcome,
    }
}

/// The verdict on a failure at `rel` of `statement` (which starts at byte `start` of the file)
/// before [`failed`] looks for a statement run into it: the known gaps, the blanked options and
/// the rewrites; `error` (sqlparser's own) when none explains it.
fn judged(
    dialect: &dyn Dialect,
    statement: &str,
    start: usize,
    rel: usize,
    error: Outcome,
) -> Outcome {
    // Options sqlparser lacks blanked out (same length: positions hold): if it then
    // parses, the statement is checked; if it fails further on, that failure is judged.
    if let Some(normal) = gaps::normalized(dialect, statement) {
        match parse_text(dialect, &normal) {
            Ok(()) => return Outcome::Parsed,
            Err((message, pos)) if pos > rel => {
                if let Some(construct) = gaps::known_gap(dialect, &normal, pos) {
                    return Outcome::Unverified {
                        construct: construct.to_string(),
                    };
                }
                if let Some(construct) = rewritten_gap(dialect, &normal) {
                    return Outcome::Unverified { construct };
                }
                let at = start + pos;
                return Outcome::Error {
                    message,
                    at: at..at + label_len(statement, pos),
                };
            }
            Err(_) => {}
        }
    }
    // Valid PostgreSQL that sqlparser lacks, recognised at the spot it failed.
    if let Some(construct) = gaps::known_gap(dialect, statement, rel) {
        return Outcome::Unverified {
            construct: construct.to_string(),
        };
    }
    if let Some(construct) = rewritten_gap(dialect, statement) {
        return Outcome::Unverified { construct };
    }
    error
}

/// Whether `text` is one complete statement for this build: it parses, or fails only where a
/// known gap begins (directly, after blanking options sqlparser lacks, or after the rewrites).
fn complete_statement(dialect: &dyn Dialect, text: &str) -> bool {
    let judge = |text: &str| match parse_text(dialect, text) {
        Ok(()) => true,
        Err((_, at)) => at < text.len() && gaps::known_gap(dialect, text, at).is_some(),
    };
    judge(text)
        || gaps::normalized(dialect, text).is_some_and(|normal| judge(&normal))
        || rewritten_gap(dialect, text).is_some()
}

/// The statement parses once the constructs of [`gaps::rewritten`] are replaced (and any failure
/// left is itself a known gap): the construct to report as unverified.
fn rewritten_gap(dialect: &dyn Dialect, statement: &str) -> Option<String> {
    let (text, what) = gaps::rewritten(dialect, statement)?;
    match parse_text(dialect, &text) {
        Ok(()) => Some(what.to_string()),
        Err((_, at)) if at < text.len() => {
            gaps::known_gap(dialect, &text, at).map(|other| format!("{what}, {other}"))
        }
        Err(_) => None,
    }
}

/// How many bytes an error at byte `at` of `text` labels: the word that starts there, or one
/// character (at least one byte, even at the end).
fn label_len(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or("");
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    word.max(rest.chars().next().map_or(1, char::len_utf8))
}

/// sqlparser's verdict on a statement's text (re-parsed on the error path only): the message and
/// the byte offset of the failure (the text's length when sqlparser gives no position).
fn parse_text(dialect: &dyn Dialect, text: &str) -> Result<(), (String, usize)> {
    let parsed = Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements());
    match parsed {
        Ok(_) => Ok(()),
        Err(err) => {
            let (message, location) = split_error(&err);
            let at = location.map_or(text.len(), |(line, col)| {
                LineIndex::new(text).offset(line, col)
            });
            Err((message, at))
        }
    }
}

/// PostgreSQL's verdict on a statement that starts at byte `base` of the file, when this build has
/// the exact grammar and the dialect is PostgreSQL; `None` otherwise.
#[allow(unused_variables)]
fn exact_verdict(
    dialect: &dyn Dialect,
    statement: &str,
    base: usize,
) -> Option<Result<(), (String, Range<usize>)>> {
    #[cfg(feature = "postgres-exact")]
    if dialect.is::<sqlparser::dialect::PostgreSqlDialect>() {
        let verdict = exact::check(statement).map_err(|(message, at)| {
            // PostgreSQL counts characters; turn that into a byte span of one character.
            let byte = match at {
                Some(chars) => statement
                    .char_indices()
                    .nth(chars)
                    .map_or(statement.len(), |(b, _)| b),
                None => statement.len().saturating_sub(1),
            };
            (
                format!("PostgreSQL: {message}"),
                base + byte..base + byte + label_len(statement, byte),
            )
        });
        return Some(verdict);
    }
    None
}

/// sqlparser errors carry their position only as text: `… at Line: L, Column: C`.
fn split_error(err: &ParserError) -> (String, Option<(u64, u64)>) {
    let text = match err {
        ParserError::ParserError(s) | ParserError::TokenizerError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => {
            return (
                "the statement is nested too deeply to check (recursion limit exceeded)".into(),
                None,
            )
        }
    };
    if let Some(idx) = text.rfind(" at Line: ") {
        let tail = &text[idx + " at Line: ".len()..];
        let mut parts = tail.splitn(2, ", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse().ok());
        let col = parts.next().and_then(|c| c.trim().parse().ok());
        if let (Some(l), Some(c)) = (line, col) {
            return (postgres_expectations(&text[..idx]), Some((l, c)));
        }
    }
    (postgres_expectations(&text), None)
}

/// sqlparser's "Expected: one of …" lists every dialect's words; keep PostgreSQL's.
fn postgres_expectations(message: &str) -> String {
    const OTHERS: &[&str] = &[
        "CONNECTOR",
        "ICEBERG",
        "WAREHOUSE",
        "STAGE",
        "SECRET",
        "EXTERNAL TABLE",
    ];
    let Some(rest) = message.strip_prefix("Expected: one of ") else {
        return message.to_string();
    };
    let (list, found) = match rest.rsplit_once(", found: ") {
        Some((l, f)) => (l, Some(f)),
        None => (rest, None),
    };
    let kept: Vec<&str> = list.split(" or ").filter(|w| !OTHERS.contains(w)).collect();
    match found {
        Some(f) => format!("Expected: one of {}, found: {f}", kept.join(" or ")),
        None => format!("Expected: one of {}", kept.join(" or ")),
    }
}

/// The sqlparser dialect for a configured name (validated in `config`, so `None` cannot happen
/// for a loaded config; the generic dialect is the safe fallback).
pub fn dialect(name: &str) -> Box<dyn Dialect> {
    sqlparser::dialect::dialect_from_str(name)
        .unwrap_or_else(|| Box::new(sqlparser::dialect::GenericDialect {}))
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_index_maps_character_columns_on_ascii_and_other_lines() {
        let text = "SELECT 1;\nSELECT 'é', x;\r\n-- ü\n";
        let idx = super::LineIndex::new(text);
        // Naively: the byte offset of the n-th character of the line.
        let naive = |line: usize, col: usize| {
            let start: usize = text
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum();
            let l = text.split_inclusive('\n').nth(line - 1).unwrap();
            l.char_indices()
                .nth(col - 1)
                .map_or(start + l.len(), |(b, _)| start + b)
        };
        for (line, cols) in [(1, 12), (2, 18), (3, 7)] {
            for col in 1..=cols {
                assert_eq!(
                    idx.offset(line as u64, col as u64),
                    naive(line, col),
                    "{line}:{col}"
                );
            }
        }
        assert_eq!(idx.offset(9, 1), text.len());
    }

    use super::*;

    fn pg(text: &str) -> Analysis {
        analyze(text, &sqlparser::dialect::PostgreSqlDialect {}, &[], true)
    }

    #[test]
    fn splits_on_semicolons_outside_strings_and_bodies() {
        let a = pg("SELECT ';';\n-- a; comment\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2");
        assert_eq!(a.statements.len(), 3);
        assert!(
            a.statements.iter().all(|s| s.outcome == Outcome::Parsed),
            "{a:?}"
        );
    }

    #[test]
    fn reports_every_bad_statement_at_its_position() {
        let text = "CREATE TABLE a (id int);\nALTER TABEL a ADD COLUMN b int;\nSELECT 1;\nCREATE TABLE b (id int,, x int);\n";
        let a = pg(text);
        let errors: Vec<_> = a
            .statements
            .iter()
            .filter_map(|s| match &s.outcome {
                Outcome::Error { at, .. } => {
                    Some(crate::finding::line_col(text.as_bytes(), at.start))
                }
                _ => None,
            })
            .collect();
        assert_eq!(errors, vec![(2, 7), (4, 24)]);
    }

    /// PostgreSQL accepts `WITHOUT OIDS` after a table's definition and ignores it (real
    /// schemas written for PostgreSQL < 12 carry it): the statement is parsed and read as the
    /// table it creates, not reported and not left unknown. A misplaced or misspelt clause
    /// stays an error.
    #[test]
    fn without_oids_is_read_as_the_table_it_creates() {
        let a =
            pg("CREATE TABLE grants (\n  to_principal INT8,\n  is_group BOOLEAN\n) WITHOUT OIDS;");
        assert_eq!(a.statements[0].outcome, Outcome::Parsed);
        assert!(
            matches!(a.changes.get(), [ddl::Change::Create { name, columns: Some(c), .. }] if name.name == "grants" && c.len() == 2),
            "{:?}",
            a.changes.get()
        );
        for valid in [
            "CREATE TEMP TABLE g (a int) WITHOUT OIDS;",
            "CREATE TABLE g (b int) INHERITS (p) WITHOUT OIDS;",
        ] {
            assert_eq!(pg(valid).statements[0].outcome, Outcome::Parsed, "{valid}");
        }
        // Each refused by PostgreSQL 15 (checked with psql), as by miglint.
        for typo in [
            "CREATE TABLE g (a int) WITH (fillfactor = 70) WITHOUT OIDS;",
            "CREATE TABLE g (a int) WITHOUT OIDZ;",
            "CREATE TABLE g (a int WITHOUT OIDS);",
            "CREATE TABLE g (a int) WITH OIDS;",
            "CREATE INDEX i ON g (a) WITHOUT OIDS;",
        ] {
            assert!(
                matches!(pg(typo).statements[0].outcome, Outcome::Error { .. }),
                "{typo}"
            );
        }
    }

    #[test]
    fn statement_span_covers_the_semicolon() {
        let text = "  SELECT 1 ;";
        let a = pg(text);
        assert_eq!(&text[a.statements[0].span.clone()], "SELECT 1 ;");
    }

    #[test]
    fn unterminated_dollar_quote_is_reported() {
        let a = pg("SELECT $$ abc");
        assert!(a.tokenize_error.is_some());
    }

    #[test]
    fn placeholders_keep_columns() {
        let re = vec![regex::Regex::new(r"\{\{.*?\}\}").unwrap()];
        let text = "CREATE SCHEMA {{ .Namespace }};\nSELECT FROM;";
        let a = analyze(text, &sqlparser::dialect::PostgreSqlDialect {}, &re, true);
        assert_eq!(a.statements[0].outcome, Outcome::Parsed);
        assert!(matches!(a.statements[1].outcome, Outcome::Error { .. }));
    }

    #[test]
    fn line_index_handles_multibyte() {
        let li = LineIndex::new("é\nxé;");
        assert_eq!(li.offset(2, 3), 6);
        assert_eq!(li.offset(9, 9), 7);
    }
}
