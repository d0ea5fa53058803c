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
    let mut formatted = false;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        match bytes[i].to_ascii_lowercase() {
            b'r' => raw = true,
            b'f' | b't' => formatted = true,
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
            return Ok((value, i + delim_len, formatted));
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
            } else {
                match next {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    '\n' => {}
                    other => value.push(other),
                }
            }
            i += 1 + next.len_utf8();
            continue;
        }
        let c = src[i..].chars().next().unwrap_or('\u{fffd}');
        value.push(c);
        i += c.len_utf8();
    }
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

/// Tokenizes Python source into logical lines.
pub fn tokenize(src: &str) -> Result<Vec<Token>, PyError> {
    let bytes = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut depth: usize = 0;
    let mut line_start = 0;
    let push_newline = |out: &mut Vec<Token>, at: usize| {
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
                column: 0,
            });
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                if depth == 0 {
                    push_newline(&mut out, i);
                }
                i += 1;
                line_start = i;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\'
                if bytes.get(i + 1) == Some(&b'\n')
                    || (bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n')) =>
            {
                i += if bytes[i + 1] == b'\r' { 3 } else { 2 };
            }
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
            _ if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                while !src.is_char_boundary(i) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Name(src[start..i].to_string()),
                    span: start..i,
                    column: start - line_start,
                });
            }
            _ if b.is_ascii_digit() => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Number(src[start..i].to_string()),
                    span: start..i,
                    column: start - line_start,
                });
            }
            _ => {
                let start = i;
                let two = src.get(i..i + 2).unwrap_or("");
                let op = if [
                    "==", "!=", "<=", ">=", ":=", "->", "**", "//", "+=", "-=", "|=", "&=",
                ]
                .contains(&two)
                {
                    two.to_string()
                } else {
                    let c = src[i..].chars().next().unwrap_or(' ');
                    c.to_string()
                };
                match op.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
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
    push_newline(&mut out, bytes.len());
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

/// Every module-level (column 0) assignment, in source order.
pub fn module_assignments(src: &str) -> Result<Vec<Assignment>, PyError> {
    let tokens = tokenize(src)?;
    let mut out = Vec::new();
    for line in tokens.split(|t| t.tok == Tok::Newline) {
        let Some(first) = line.first() else { continue };
        let Tok::Name(name) = &first.tok else {
            continue;
        };
        if first.column != 0 {
            continue;
        }
        // `name = …` or `name: annotation = …` (the annotation may hold `|`, `[`, `,` …).
        let mut depth = 0i32;
        let mut eq = None;
        for (i, t) in line.iter().enumerate().skip(1) {
            if let Tok::Op(o) = &t.tok {
                match o.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth -= 1,
                    "=" if depth == 0 => {
                        eq = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
        }
        let Some(eq) = eq else { continue };
        let annotated = matches!(line.get(1), Some(Token { tok: Tok::Op(o), .. }) if o == ":");
        if eq != 1 && !annotated {
            continue; // `a.b = …`, `a[0] = …`, `a, b = …`
        }
        let value_tokens = &line[eq + 1..];
        // Chained `a = b = "x"`: take the last right-hand side.
        let rhs_start = value_tokens
            .iter()
            .rposition(|t| matches!(&t.tok, Tok::Op(o) if o == "="))
            .map_or(0, |p| p + 1);
        let value_tokens = &value_tokens[rhs_start..];
        let span = match (value_tokens.first(), value_tokens.last()) {
            (Some(a), Some(b)) => a.span.start..b.span.end,
            _ => first.span.clone(),
        };
        out.push(Assignment {
            name: name.clone(),
            value: eval(value_tokens, src),
            span,
            name_offset: first.span.start,
        });
    }
    Ok(out)
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
