//! A static reader for the module-level assignments of Alembic revision files and `env.py`.
//! miglint never imports or runs Python (it is safe on untrusted pull requests), so it tokenizes
//! the source itself: strings (every quote and prefix form, triple-quoted docstrings), comments,
//! brackets and line continuations, so that text inside a docstring or comment is never taken for
//! an assignment.

/// A literal value, as far as it can be known without running code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    None,
    Seq(Vec<Value>),
    /// Anything else (a name, an attribute, a call, an f-string): the source text.
    Unknown(String),
}

impl Value {
    /// The strings of a `str | None | tuple | list` value; `Err` names what could not be read.
    pub fn strings(&self) -> Result<Vec<String>, String> {
        match self {
            Value::Str(s) => Ok(vec![s.clone()]),
            Value::None => Ok(Vec::new()),
            Value::Seq(items) => items
                .iter()
                .map(|v| v.strings())
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.concat()),
            Value::Unknown(t) => Err(t.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Name(String),
    /// A string literal's value; `formatted` for f-strings, whose value is not static.
    Str {
        value: String,
        formatted: bool,
    },
    Op(String),
    Number(String),
    /// End of a logical line.
    Newline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    /// Byte range in the source.
    pub span: std::ops::Range<usize>,
    /// Column (bytes from the start of the line) of the token.
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyError {
    pub message: String,
    pub offset: usize,
}

/// Reads a string literal starting at `start` (at its prefix or quote). Returns the value, the
/// end offset and whether it is an f-string.
fn read_string(src: &str, start: usize) -> Result<(String, usize, bool), PyError> {
    let bytes = src.as_bytes();
    let mut i = start;
    let mut raw = false;
    // f-strings, t-strings and bytes are not static `str` values.
    let mut not_str = false;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        match bytes[i].to_ascii_lowercase() {
            b'r' => raw = true,
            b'f' | b't' | b'b' => not_str = true,
            _ => {}
        }
        i += 1;
    }
    let quote = bytes[i];
    let triple = bytes
        .get(i..i + 3)
        .is_some_and(|q| q.iter().all(|&b| b == quote));
    let delim_len = if triple { 3 } else { 1 };
    i += delim_len;
    let mut value = String::new();
    let unterminated = || PyError {
        message: "unterminated string literal".into(),
        offset: start,
    };
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(unterminated());
        };
        if b == quote
            && (!triple
                || bytes
                    .get(i..i + 3)
                    .is_some_and(|q| q.iter().all(|&c| c == quote)))
        {
            return Ok((value, i + delim_len, not_str));
        }
        if b == b'\n' && !triple {
            return Err(unterminated());
        }
        if b == b'\\' {
            let Some(next) = src[i + 1..].chars().next() else {
                return Err(unterminated());
            };
            if raw {
                value.push('\\');
                value.push(next);
                i += 1 + next.len_utf8();
                continue;
            }
            let (decoded, used) =
                escape(src, i + 1).map_err(|message| PyError { message, offset: i })?;
            value.push_str(&decoded);
            i += 1 + used;
            continue;
        }
        let c = src[i..].chars().next().unwrap_or('\u{fffd}');
        value.push(c);
        i += c.len_utf8();
    }
}

/// Decodes the escape whose character after the backslash starts at `at`, as Python does for a
/// `str` literal: the text and the bytes it used. `\N{…}` (named characters) needs Unicode's name
/// table, which miglint does not carry: an error, never a guess.
fn escape(src: &str, at: usize) -> Result<(String, usize), String> {
    let rest = &src[at..];
    let next = rest.chars().next().unwrap_or('\\');
    let hex = |n: usize| -> Result<(String, usize), String> {
        let digits = rest
            .get(1..1 + n)
            .filter(|d| d.len() == n && d.bytes().all(|b| b.is_ascii_hexdigit()));
        let code = digits
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| format!("truncated \\{next} escape"))?;
        let c = char::from_u32(code).ok_or_else(|| format!("invalid \\{next} escape"))?;
        Ok((c.to_string(), 1 + n))
    };
    Ok(match next {
        '\n' => (String::new(), 1),
        '\r' if rest.as_bytes().get(1) == Some(&b'\n') => (String::new(), 2),
        '\\' | '\'' | '"' => (next.to_string(), 1),
        'a' => ("\u{7}".into(), 1),
        'b' => ("\u{8}".into(), 1),
        'f' => ("\u{c}".into(), 1),
        'n' => ("\n".into(), 1),
        'r' => ("\r".into(), 1),
        't' => ("\t".into(), 1),
        'v' => ("\u{b}".into(), 1),
        '0'..='7' => {
            let n = rest
                .bytes()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            let code = u32::from_str_radix(&rest[..n], 8).unwrap_or(0);
            (char::from_u32(code).unwrap_or('\u{fffd}').to_string(), n)
        }
        'x' => hex(2)?,
        'u' => hex(4)?,
        'U' => hex(8)?,
        'N' => return Err("`\\N{…}` escapes cannot be evaluated statically".into()),
        // Python keeps an unknown escape as written.
        other => (format!("\\{other}"), other.len_utf8()),
    })
}

fn is_string_start(src: &str, i: usize) -> bool {
    let bytes = src.as_bytes();
    let mut j = i;
    while j < bytes.len()
        && j - i < 3
        && matches!(
            bytes[j].to_ascii_lowercase(),
            b'r' | b'b' | b'u' | b'f' | b't'
        )
    {
        j += 1;
    }
    matches!(bytes.get(j), Some(b'\'') | Some(b'"'))
        && (j == i || !bytes[i..j].iter().any(|b| !b.is_ascii_alphabetic()))
}

/// The `column` of a `Newline` token that a `;` produced: the next statement shares the line.
const SAME_LINE: usize = usize::MAX;

/// Ends a logical line (once); `column` is 0, or [`SAME_LINE`] after a `;`.
fn end_line(out: &mut Vec<Token>, at: usize, column: usize) {
    if !matches!(
        out.last(),
        None | Some(Token {
            tok: Tok::Newline,
            ..
        })
    ) {
        out.push(Token {
            tok: Tok::Newline,
            span: at..at,
            column,
        });
    }
}

/// A line break outside brackets ends the logical line. After `a = 1;` at the end of a line
/// the line is already ended: the next one starts afresh.
fn line_break(out: &mut Vec<Token>, at: usize) {
    match out.last_mut() {
        Some(t) if t.tok == Tok::Newline && t.column == SAME_LINE => t.column = 0,
        _ => end_line(out, at, 0),
    }
}

/// The length of a backslash line continuation (`\\` and the line break) at `i`, or 0.
fn continuation(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1..(i + 3).min(bytes.len())) {
        Some([b'\n', ..]) => 2,
        Some([b'\r', b'\n']) => 3,
        _ => 0,
    }
}

/// Where the name starting at `i` ends (ASCII word characters and any non-ASCII character).
fn name_end(src: &str, mut i: usize) -> usize {
    let bytes = src.as_bytes();
    while i < bytes.len()
        && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
    {
        i += 1;
    }
    while !src.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The operator or delimiter at `i`: a two-character one if it is one, else one character.
fn operator_at(src: &str, i: usize) -> String {
    let two = src.get(i..i + 2).unwrap_or("");
    let three = src.get(i..i + 3).unwrap_or("");
    if ["**=", "//=", ">>=", "<<=", "..."].contains(&three) {
        three.to_string()
    } else if [
        "==", "!=", "<=", ">=", ":=", "->", "**", "//", "+=", "-=", "|=", "&=", "*=", "/=", "%=",
        "^=", "@=", "<<", ">>",
    ]
    .contains(&two)
    {
        two.to_string()
    } else {
        src[i..].chars().next().unwrap_or(' ').to_string()
    }
}

/// Tokenizes Python source into logical lines.
pub fn tokenize(src: &str) -> Result<Vec<Token>, PyError> {
    let bytes = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut depth: usize = 0;
    let mut line_start = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                if depth == 0 {
                    line_break(&mut out, i);
                }
                i += 1;
                line_start = i;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            b'#' => {
                i += bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(bytes.len() - i)
            }
            b'\\' if continuation(bytes, i) > 0 => i += continuation(bytes, i),
            _ if is_string_start(src, i) => {
                let (value, end, formatted) = read_string(src, i)?;
                out.push(Token {
                    tok: Tok::Str { value, formatted },
                    span: i..end,
                    column: i - line_start,
                });
                // A triple-quoted string may span lines; columns of later tokens stay approximate.
                i = end;
            }
            _ if b == b'_' || b.is_ascii_alphanumeric() || b >= 0x80 => {
                let start = i;
                let tok = if b.is_ascii_digit() {
                    i += bytes[i..]
                        .iter()
                        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_'))
                        .unwrap_or(bytes.len() - i);
                    Tok::Number(src[start..i].to_string())
                } else {
                    i = name_end(src, i);
                    Tok::Name(src[start..i].to_string())
                };
                out.push(Token {
                    tok,
                    span: start..i,
                    column: start - line_start,
                });
            }
            _ => {
                let start = i;
                let op = operator_at(src, i);
                match op.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    // `a = 1; b = 2`: two statements on one line, at that line's level.
                    ";" if depth == 0 => {
                        i += 1;
                        end_line(&mut out, start, SAME_LINE);
                        continue;
                    }
                    _ => {}
                }
                i += op.len();
                out.push(Token {
                    tok: Tok::Op(op),
                    span: start..i,
                    column: start - line_start,
                });
            }
        }
    }
    end_line(&mut out, bytes.len(), 0);
    Ok(out)
}

/// A module-level `name = value` (or `name: annotation = value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: Value,
    /// The span of the value expression.
    pub span: std::ops::Range<usize>,
    pub name_offset: usize,
    /// Assigned inside a module-level `if`/`try`/`with`/`for`/`while` block: which branch runs is
    /// only known by running the module.
    pub in_block: bool,
    /// The value is or holds a list (`[…]`), which code can change in place after the assignment.
    pub holds_list: bool,
}

/// Evaluates a literal expression; anything not a literal is `Unknown`.
fn eval(tokens: &[Token], src: &str) -> Value {
    eval_at(tokens, src, 0)
}

/// `depth` bounds the recursion so hostile nesting cannot overflow the stack.
fn eval_at(tokens: &[Token], src: &str, depth: usize) -> Value {
    let text = || match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) => src.get(a.span.start..b.span.end).unwrap_or("").to_string(),
        _ => String::new(),
    };
    if tokens.is_empty() || depth > 32 {
        return Value::Unknown(text());
    }
    // Implicit concatenation: "a" "b".
    if tokens.iter().all(|t| {
        matches!(
            t.tok,
            Tok::Str {
                formatted: false,
                ..
            }
        )
    }) {
        return Value::Str(
            tokens
                .iter()
                .map(|t| {
                    if let Tok::Str { value, .. } = &t.tok {
                        value.as_str()
                    } else {
                        ""
                    }
                })
                .collect(),
        );
    }
    if tokens.len() == 1 {
        if let Tok::Name(n) = &tokens[0].tok {
            if n == "None" {
                return Value::None;
            }
        }
    }
    let is_op = |t: &Token, ops: &[&str]| matches!(&t.tok, Tok::Op(o) if ops.contains(&o.as_str()));
    let seq = |inner: &[Token]| {
        Value::Seq(
            split_top_level(inner)
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(|p| eval_at(p, src, depth + 1))
                .collect(),
        )
    };
    // A bare tuple: `a = "x", "y"`.
    if has_top_comma(tokens) {
        return seq(tokens);
    }
    let last = &tokens[tokens.len() - 1];
    if tokens.len() >= 2
        && is_op(&tokens[0], &["(", "["])
        && is_op(last, &[")", "]"])
        && closes_at_end(tokens)
    {
        let inner = &tokens[1..tokens.len() - 1];
        if is_op(&tokens[0], &["["]) || inner.is_empty() || has_top_comma(inner) {
            return seq(inner);
        }
        return eval_at(inner, src, depth + 1);
    }
    Value::Unknown(text())
}

fn closes_at_end(tokens: &[Token]) -> bool {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate() {
        if let Tok::Op(o) = &t.tok {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 && i != tokens.len() - 1 {
                        return false;
                    }
                }
                _ => {}
            }
        }
    }
    true
}

fn has_top_comma(tokens: &[Token]) -> bool {
    let mut depth = 0i32;
    tokens.iter().any(|t| match &t.tok {
        Tok::Op(o) => {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                _ => {}
            }
            o == "," && depth == 0
        }
        _ => false,
    })
}

fn split_top_level(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if let Tok::Op(o) = &t.tok {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                "," if depth == 0 => {
                    parts.push(&tokens[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    parts.push(&tokens[start..]);
    if parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// One simple statement and where it runs: inside a `def`/`class` body (its names are not the
/// module's, except through `global`), or in a module-level block (`if`, `for`, `try`, `with`,
/// `match`…: whether it runs is only known by running the module).
#[derive(Debug)]
pub struct Stmt<'t> {
    pub tokens: &'t [Token],
    pub in_function: bool,
    pub in_block: bool,
}

/// The compound-statement keyword a statement starts with (`async def` is `def`).
fn compound(line: &[Token]) -> Option<&str> {
    let first = match line.first().map(|t| &t.tok) {
        Some(Tok::Name(n)) if n == "async" => line.get(1).map(|t| &t.tok),
        other => other,
    };
    match first {
        Some(Tok::Name(n))
            if matches!(
                n.as_str(),
                "if" | "elif"
                    | "else"
                    | "for"
                    | "while"
                    | "try"
                    | "except"
                    | "finally"
                    | "with"
                    | "def"
                    | "class"
                    | "match"
                    | "case"
            ) =>
        {
            Some(n.as_str())
        }
        _ => None,
    }
}

/// The first `:` outside brackets that ends a compound header (not a top-level `lambda`'s).
fn header_colon(line: &[Token]) -> Option<usize> {
    let mut depth = 0i32;
    let mut lambdas = 0;
    for (i, t) in line.iter().enumerate() {
        match &t.tok {
            Tok::Op(o) => match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                ":" if depth == 0 && lambdas > 0 => lambdas -= 1,
                ":" if depth == 0 => return Some(i),
                _ => {}
            },
            Tok::Name(n) if n == "lambda" && depth == 0 => lambdas += 1,
            _ => {}
        }
    }
    None
}

/// Every simple statement of a module, in order, with its scope. Blocks follow indentation; a
/// one-line compound (`if x: a = 1; b = 2`, `def f(): global a; a = 1`) puts the rest of its
/// line in its suite, as Python does.
pub fn statements(tokens: &[Token]) -> Vec<Stmt<'_>> {
    let mut out = Vec::new();
    // Open block headers: (level, is a `def`/`class`).
    let mut open: Vec<(usize, bool)> = Vec::new();
    // The suite of a one-line compound on this physical line: (in_function, in_block).
    let mut suite: Option<(bool, bool)> = None;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.tok != Tok::Newline {
            continue;
        }
        let line = &tokens[start..i];
        let continues = start > 0 && tokens[start - 1].column == SAME_LINE;
        start = i + 1;
        let Some(first) = line.first() else { continue };
        if !continues {
            suite = None;
            while open.last().is_some_and(|&(l, _)| l >= first.column) {
                open.pop();
            }
        }
        let (in_function, in_block) =
            suite.unwrap_or((open.iter().any(|&(_, f)| f), !open.is_empty()));
        let Some(kind) = compound(line) else {
            out.push(Stmt {
                tokens: line,
                in_function,
                in_block,
            });
            continue;
        };
        let is_def = matches!(kind, "def" | "class");
        let colon = header_colon(line);
        out.push(Stmt {
            tokens: colon.map_or(line, |c| &line[..=c]),
            in_function,
            in_block,
        });
        match colon {
            Some(c) if c + 1 < line.len() => {
                let inner = (in_function || is_def, true);
                suite = Some(inner);
                out.push(Stmt {
                    tokens: &line[c + 1..],
                    in_function: inner.0,
                    in_block: inner.1,
                });
            }
            _ if !continues => open.push((first.column, is_def)),
            _ => {}
        }
    }
    out
}

/// Every module-level assignment, in source order, including those in module-level blocks
/// (marked `in_block`). Assignments inside `def` and `class` bodies are local and skipped.
pub fn module_assignments(src: &str) -> Result<Vec<Assignment>, PyError> {
    Ok(assignments_of(&tokenize(src)?, src))
}

/// [`module_assignments`] of tokens already read from `src`.
pub fn assignments_of(tokens: &[Token], src: &str) -> Vec<Assignment> {
    statements(tokens)
        .into_iter()
        .filter(|s| !s.in_function)
        .flat_map(|s| assignments_in(s.tokens, src, s.in_block))
        .collect()
}

/// The assignments one logical line makes: `name = …`, `name: annotation = …`, chained
/// `a = b = …`, and tuple targets `a, b = "x", "y"`.
fn assignments_in(line: &[Token], src: &str, in_block: bool) -> Vec<Assignment> {
    let Some(first) = line.first() else {
        return Vec::new();
    };
    let opens = |t: &Token| matches!(&t.tok, Tok::Op(o) if o == "(" || o == "[");
    if !matches!(first.tok, Tok::Name(_)) && !opens(first) {
        return Vec::new();
    }
    // The top-level `=` signs (not `==`, which is its own token).
    let mut depth = 0i32;
    let mut eqs = Vec::new();
    for (i, t) in line.iter().enumerate() {
        if let Tok::Op(o) = &t.tok {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                "=" if depth == 0 => eqs.push(i),
                _ => {}
            }
        }
    }
    let Some(&last_eq) = eqs.last() else {
        return Vec::new();
    };
    let value_tokens = &line[last_eq + 1..];
    let span = match (value_tokens.first(), value_tokens.last()) {
        (Some(a), Some(b)) => a.span.start..b.span.end,
        _ => first.span.clone(),
    };
    let value = eval(value_tokens, src);
    let mut out = Vec::new();
    let mut target_start = 0;
    for &eq in &eqs {
        let mut target = &line[target_start..eq];
        target_start = eq + 1;
        // `(a, b) = …` / `[a, b] = …`: the same targets as `a, b = …`.
        if target.len() > 2 && opens(&target[0]) && closes_at_end(target) {
            target = &target[1..target.len() - 1];
        }
        let names: Vec<&Token> = target
            .iter()
            .filter(|t| !matches!(&t.tok, Tok::Op(o) if o == "," || o == "(" || o == ")"))
            .collect();
        let plain = |t: &Token| matches!(t.tok, Tok::Name(_));
        let annotated = matches!(target.get(1), Some(Token { tok: Tok::Op(o), .. }) if o == ":");
        let push = |out: &mut Vec<Assignment>, t: &Token, value: Value, part: &[Token]| {
            if let Tok::Name(name) = &t.tok {
                out.push(Assignment {
                    name: name.clone(),
                    value,
                    span: span.clone(),
                    name_offset: t.span.start,
                    in_block,
                    holds_list: part.iter().any(|t| t.tok == Tok::Op("[".into())),
                });
            }
        };
        if target.len() == 1 || annotated {
            push(&mut out, &target[0], value.clone(), value_tokens);
        } else if names.len() > 1 && names.iter().all(|t| plain(t)) && has_top_comma(target) {
            // Tuple target: element-wise when the value is a sequence of the same length.
            let parts = elements(value_tokens);
            match &value {
                Value::Seq(items) if items.len() == names.len() && parts.len() == names.len() => {
                    for ((t, v), part) in names.iter().zip(items).zip(parts) {
                        push(&mut out, t, v.clone(), part);
                    }
                }
                _ => {
                    for t in &names {
                        let unknown = Value::Unknown(src[span.clone()].to_string());
                        push(&mut out, t, unknown, value_tokens);
                    }
                }
            }
        }
        // `a.b = …`, `a[0] = …`: not a module variable.
    }
    out
}

/// The elements of a tuple value, `"a", "b"` or `("a", "b")`, as [`eval_at`] splits them.
fn elements(tokens: &[Token]) -> Vec<&[Token]> {
    let bracketed = tokens.len() >= 2
        && tokens[0].tok == Tok::Op("(".into())
        && tokens[tokens.len() - 1].tok == Tok::Op(")".into())
        && closes_at_end(tokens);
    let inner = if bracketed && !has_top_comma(tokens) {
        &tokens[1..tokens.len() - 1]
    } else {
        tokens
    };
    split_top_level(inner)
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect()
}

/// The last module-level assignment to `name` (Python semantics: the last one wins).
pub fn last<'a>(assignments: &'a [Assignment], name: &str) -> Option<&'a Assignment> {
    assignments.iter().rev().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(src: &str, name: &str) -> Option<Value> {
        last(&module_assignments(src).unwrap(), name).map(|a| a.value.clone())
    }

    #[test]
    fn template_forms() {
        let src = r#""""add email

Revision ID: abc123
Revises: zzz999
revision = 'fake'
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'abc123'
down_revision: Union[str, Sequence[str], None] = ("x1", 'y2')
branch_labels: str | Sequence[str] | None = None
depends_on = None  # revision = 'nope'

def upgrade() -> None:
    revision = "inner"
"#;
        assert_eq!(value(src, "revision"), Some(Value::Str("abc123".into())));
        assert_eq!(
            value(src, "down_revision"),
            Some(Value::Seq(vec![
                Value::Str("x1".into()),
                Value::Str("y2".into())
            ]))
        );
        assert_eq!(value(src, "branch_labels"), Some(Value::None));
        assert_eq!(value(src, "depends_on"), Some(Value::None));
    }

    #[test]
    fn other_forms() {
        assert_eq!(
            value("down_revision = ('a',)\n", "down_revision"),
            Some(Value::Seq(vec![Value::Str("a".into())]))
        );
        assert_eq!(
            value("down_revision = ['a', \"b\"]\n", "down_revision"),
            Some(Value::Seq(vec![
                Value::Str("a".into()),
                Value::Str("b".into())
            ]))
        );
        assert_eq!(
            value("revision = (\n  'kilo_'\n  \"initial\"\n)\n", "revision"),
            Some(Value::Str("kilo_initial".into()))
        );
        assert_eq!(
            value("branch_labels = cli.EXPAND_BRANCH\n", "branch_labels"),
            Some(Value::Unknown("cli.EXPAND_BRANCH".into()))
        );
        assert_eq!(
            value("branch_labels = \"None\"\n", "branch_labels"),
            Some(Value::Str("None".into()))
        );
        assert_eq!(
            value(
                "down_revision: tuple[str, str] = ('a', 'b')\n",
                "down_revision"
            )
            .unwrap()
            .strings()
            .unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            value(
                "if TYPE_CHECKING:\n    revision = 'x'\nrevision = 'y'\n",
                "revision"
            ),
            Some(Value::Str("y".into()))
        );
        assert_eq!(
            value("revision = '''tri'''\n", "revision"),
            Some(Value::Str("tri".into()))
        );
        assert_eq!(
            value("revision = r'a\\b'\n", "revision"),
            Some(Value::Str("a\\b".into()))
        );
    }

    #[test]
    fn unterminated_string_is_an_error_with_offset() {
        let err = module_assignments("revision = 'abc\n").unwrap_err();
        assert_eq!(err.offset, 11);
    }
}
