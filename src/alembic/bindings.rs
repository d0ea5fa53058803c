//! Bindings of a revision file's watched names (`revision`, `down_revision`, …) that the static
//! reader does not evaluate. The reader evaluates `name = literal` at module level; Python can
//! bind a module name in many other ways (a walrus, a `for`/`with`/`except … as` target, an
//! import, `global` in a function, `globals()`, `del`, a `match` capture, a mutated list…), and
//! each of them would make the value Alembic sees differ from the one read. Any of them is
//! reported at its spot, so the head check never rests on a guess.

use std::collections::HashSet;
use std::ops::Range;

use super::python::{statements, Assignment, Stmt, Tok, Token};
use super::Unreadable;

/// A binding the reader does not evaluate: the name, where, and what binds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unevaluated {
    pub name: String,
    pub span: Range<usize>,
    pub how: &'static str,
}

/// `alembic-parse-error` at the first binding of `watched` in revision file `file` (its
/// `tokens`) that the reader does not evaluate.
pub fn check(
    file: &str,
    tokens: &[Token],
    watched: &[&str],
    assigned: &[Assignment],
) -> Option<Box<Unreadable>> {
    let u = unevaluated(tokens, watched, assigned)?;
    let what = if watched.contains(&u.name.as_str()) {
        format!("`{}` in {file} is bound by {}", u.name, u.how)
    } else {
        format!("{file} runs {} (`{}`)", u.how, u.name)
    };
    Some(Box::new(
        Unreadable::new(format!("{what}: the value Alembic sees is only known by running the module"),
        )
        .file(file.to_string())
        .at(u.span, "bound here")
        .help("assign `revision`, `down_revision`, `branch_labels` and `depends_on` once each, at module level, with string literals, None or tuples of them; move other code into upgrade()/downgrade()"),
    ))
}

/// Names that reach a module's namespace without naming the variable (callable names).
const DYNAMIC_CALLS: &[&str] = &[
    "globals",
    "vars",
    "locals",
    "exec",
    "eval",
    "setattr",
    "delattr",
    "__import__",
    "__builtins__",
    "builtins",
];

/// Attributes that expose a namespace, whatever object they are read from.
const DYNAMIC_ATTRIBUTES: &[&str] = &[
    "__dict__",
    "__globals__",
    "__setattr__",
    "__delattr__",
    "modules",
    "f_globals",
    "f_locals",
];

/// Augmented assignment operators (the tokenizer yields each as one operator).
const AUGMENTED: &[&str] = &[
    "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "&=", "|=", "^=", ">>=", "<<=",
];

/// The first binding of one of `watched` that `assigned` (the evaluated module-level
/// assignments) does not account for, or a construct that can bind any name.
pub fn unevaluated(
    tokens: &[Token],
    watched: &[&str],
    assigned: &[Assignment],
) -> Option<Unevaluated> {
    let evaluated: HashSet<usize> = assigned.iter().map(|a| a.name_offset).collect();
    // A name that ever holds a list can be changed in place through any reference to it.
    let mutable: HashSet<&str> = assigned
        .iter()
        .filter(|a| a.holds_list)
        .map(|a| a.name.as_str())
        .collect();
    statements(tokens)
        .iter()
        .find_map(|stmt| in_statement(stmt, watched, &evaluated, &mutable))
}

fn name(t: &Token) -> Option<&str> {
    match &t.tok {
        Tok::Name(n) => Some(n),
        _ => None,
    }
}

fn op(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Op(o)) => Some(o),
        _ => None,
    }
}

/// The index of the last `=` outside brackets: tokens before it are assignment targets.
fn last_top_eq(tokens: &[Token]) -> Option<usize> {
    let mut depth = 0i32;
    let mut last = None;
    for (i, t) in tokens.iter().enumerate() {
        match op(Some(t)) {
            Some("(" | "[" | "{") => depth += 1,
            Some(")" | "]" | "}") => depth -= 1,
            Some("=") if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

/// The range of tokens a statement binds by its keyword: `for` targets, imported names, `del`,
/// `global`/`nonlocal` and `case` patterns, with what binds them.
fn keyword_region(tokens: &[Token]) -> Option<(Range<usize>, &'static str)> {
    let skip = usize::from(tokens.first().and_then(name) == Some("async"));
    let first = tokens.get(skip).and_then(name)?;
    let find = |word: &str| {
        tokens
            .iter()
            .position(|t| name(t) == Some(word))
            .unwrap_or(tokens.len())
    };
    let end_colon = tokens
        .iter()
        .position(|t| op(Some(t)) == Some(":"))
        .unwrap_or(tokens.len());
    Some(match first {
        "for" => (skip + 1..find("in"), "a `for` target"),
        "import" => (1..tokens.len(), "an import"),
        "from" => (find("import")..tokens.len(), "an import"),
        "del" => (1..tokens.len(), "`del`"),
        "global" | "nonlocal" => (1..tokens.len(), "a `global` declaration"),
        "case" if end_colon < tokens.len() => (1..end_colon, "a `match` capture"),
        _ => return None,
    })
}

/// What binds the watched name at `i`, if the reader does not evaluate it.
fn binding_at(
    tokens: &[Token],
    i: usize,
    in_function: bool,
    targets_end: Option<usize>,
) -> Option<&'static str> {
    let before = i.checked_sub(1).map(|p| &tokens[p]);
    let after = op(tokens.get(i + 1));
    let is_target = targets_end.is_some_and(|e| i < e);
    if op(before) == Some(".") {
        // An attribute of another object, unless it is assigned (a module object's attribute).
        return (is_target || after.is_some_and(|a| AUGMENTED.contains(&a)))
            .then_some("an attribute assignment");
    }
    if after.is_some_and(|a| AUGMENTED.contains(&a)) {
        return Some("an augmented assignment");
    }
    if in_function {
        // A function's names are its own (a `global` declaration is caught by its keyword).
        return None;
    }
    if after == Some(":=") {
        return Some("an assignment expression (`:=`)");
    }
    match before.and_then(name) {
        Some("as") => return Some("an `as` target"),
        Some("def" | "class") => return Some("a `def` or `class` of that name"),
        _ => {}
    }
    is_target.then_some("an assignment target miglint does not evaluate")
}

fn in_statement(
    stmt: &Stmt,
    watched: &[&str],
    evaluated: &HashSet<usize>,
    mutable: &HashSet<&str>,
) -> Option<Unevaluated> {
    let tokens = stmt.tokens;
    let targets_end = last_top_eq(tokens);
    let region = keyword_region(tokens);
    let found = |t: &Token, how| {
        Some(Unevaluated {
            name: name(t).unwrap_or_default().to_string(),
            span: t.span.clone(),
            how,
        })
    };
    for (i, t) in tokens.iter().enumerate() {
        if op(Some(t)) == Some("*") && region.as_ref().is_some_and(|(_, h)| *h == "an import") {
            return found(t, "a star import (it can bind any name)");
        }
        let Some(n) = name(t) else { continue };
        let attribute = i > 0 && op(Some(&tokens[i - 1])) == Some(".");
        if DYNAMIC_ATTRIBUTES.contains(&n) || (!attribute && DYNAMIC_CALLS.contains(&n)) {
            return found(t, "code that can bind any module name");
        }
        if !watched.contains(&n) || evaluated.contains(&t.span.start) {
            continue;
        }
        if let Some((range, how)) = &region {
            let declares = *how == "a `global` declaration";
            if range.contains(&i) && !attribute && (declares || !stmt.in_function) {
                return found(t, how);
            }
        }
        if let Some(how) = binding_at(tokens, i, stmt.in_function, targets_end) {
            return found(t, how);
        }
        let local = stmt.in_function && targets_end.is_some_and(|e| i < e);
        if !attribute && !local && mutable.contains(n) {
            return found(t, "a use of a list, which code can change in place");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::python::{assignments_of, module_assignments, tokenize};

    fn how(src: &str) -> Option<&'static str> {
        let tokens = tokenize(src).unwrap();
        let assigned = assignments_of(&tokens, src);
        unevaluated(&tokens, &["revision", "down_revision"], &assigned).map(|u| u.how)
    }

    #[test]
    fn plain_assignments_and_reads_are_evaluated() {
        assert_eq!(how("revision = 'a'\ndown_revision = ('b',)\n"), None);
        assert_eq!(how("down_revision = 'b'\nx = down_revision\n"), None);
        assert_eq!(how("down_revision = 'b'\nop.f(revision='x')\n"), None);
        assert_eq!(
            how("down_revision = 'b'\ndef upgrade(revision=None):\n    revision = 1\n"),
            None
        );
        assert_eq!(
            how("down_revision = 'b'\nclass X:\n    revision = 1\n"),
            None
        );
        assert_eq!(how("x = [revision for revision in y]\n"), None);
        assert_eq!(how("x = context.revision\n"), None);
        assert_eq!(how("f = lambda: 1\nrevision = 'a'\n"), None);
    }

    #[test]
    fn every_other_binding_is_reported() {
        for (src, expect) in [
            ("(revision := 'a')\n", "an assignment expression (`:=`)"),
            ("for revision in ['a']: pass\n", "a `for` target"),
            ("async for revision in x: pass\n", "a `for` target"),
            ("with f() as revision: pass\n", "an `as` target"),
            ("from m import x as revision\n", "an import"),
            ("import revision\n", "an import"),
            ("def f():\n    global revision\n", "a `global` declaration"),
            ("del revision\n", "`del`"),
            ("revision += 'x'\n", "an augmented assignment"),
            ("revision **= 2\n", "an augmented assignment"),
            (
                "x, *revision = 1, 2\n",
                "an assignment target miglint does not evaluate",
            ),
            ("m.revision = 'a'\n", "an attribute assignment"),
            ("case revision:\n", "a `match` capture"),
            ("def revision(): pass\n", "a `def` or `class` of that name"),
            (
                "globals()['revision'] = 1\n",
                "code that can bind any module name",
            ),
            (
                "x = sys.modules[__name__]\n",
                "code that can bind any module name",
            ),
            ("from m import *\n", "a star import (it can bind any name)"),
            (
                "down_revision = ['a']\ny = down_revision\n",
                "a use of a list, which code can change in place",
            ),
        ] {
            assert_eq!(how(src), Some(expect), "{src}");
        }
    }

    #[test]
    fn one_line_suites_belong_to_their_compound() {
        // `def f(): pass; revision = 'x'` assigns a local: the module's stays 'a'.
        let src = "revision = 'a'\ndef f(): pass; revision = 'x'\n";
        let assigned = module_assignments(src).unwrap();
        assert_eq!(assigned.len(), 1);
        assert_eq!(how(src), None);
    }
}
