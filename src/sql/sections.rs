//! Up and down sections of a single-file migration, read the way its tool reads them: dbmate's
//! `-- migrate:up` / `-- migrate:down` markers and goose's `-- +goose Up` / `Down` annotations
//! (with goose's own statement splitting). Pure text in, byte ranges out; the SQL of every
//! section is still checked, but only what runs forward is replayed into the schema.

use std::ops::Range;

/// What the tool sees in one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sections {
    /// The byte ranges that run only on a rollback.
    pub down: Vec<Range<usize>>,
    /// The byte ranges the tool runs outside a transaction (dbmate's `transaction:false`,
    /// goose's `NO TRANSACTION`); everything else runs inside one.
    pub outside_transaction: Vec<Range<usize>>,
    /// What makes the tool refuse the file (or cut a statement), with where.
    pub problems: Vec<(String, Range<usize>)>,
}

impl Sections {
    /// Whether byte `at` runs only on a rollback.
    pub fn is_down(&self, at: usize) -> bool {
        self.down.iter().any(|r| r.contains(&at))
    }

    /// Whether the tool runs byte `at` inside a transaction.
    pub fn in_transaction(&self, at: usize) -> bool {
        !self.outside_transaction.iter().any(|r| r.contains(&at))
    }
}

/// The lines of `text` with their byte ranges (without the line break; a CR before it is
/// dropped, as Go's `bufio.ScanLines` drops it).
fn lines(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        (start..start + line.len(), line)
    })
}

/// dbmate (pkg/dbmate `migration.go`): the first line matching `^--\s*migrate:up` opens the up
/// block, the first `^--\s*migrate:down` the down block, which runs to the end of the file.
/// Both are required, up first, and nothing but comments and blank lines may precede up.
pub fn dbmate(text: &str) -> Sections {
    let marker = |name: &str| {
        lines(text).find(|(_, l)| {
            l.strip_prefix("--")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix(name))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
        })
    };
    let (up, down) = (marker("migrate:up"), marker("migrate:down"));
    let mut s = Sections::default();
    let head = 0..text.find('\n').unwrap_or(text.len());
    let Some((up, _)) = up else {
        s.problems.push((
            "dbmate requires each migration to define an up block with `-- migrate:up`".into(),
            head,
        ));
        return s;
    };
    let Some((down, _)) = down else {
        s.problems.push((
            "dbmate requires each migration to define a down block with `-- migrate:down`".into(),
            head,
        ));
        return s;
    };
    if up.start > down.start {
        s.problems.push((
            "dbmate requires `-- migrate:up` to appear before `-- migrate:down`".into(),
            down.clone(),
        ));
        return s;
    }
    if let Some((at, _)) = lines(&text[..up.start])
        .find(|(_, l)| !(l.trim().is_empty() || l.trim_start().starts_with("--")))
    {
        s.problems.push((
            "dbmate does not support statements preceding the `-- migrate:up` block".into(),
            at,
        ));
    }
    s.down.push(down.start..text.len());
    // `-- migrate:up transaction:false`: the block's options are on its marker line.
    let no_tx = |marker: &Range<usize>| {
        text[marker.clone()]
            .split_whitespace()
            .any(|o| o == "transaction:false")
    };
    if no_tx(&up) {
        s.outside_transaction.push(up.start..down.start);
    }
    if no_tx(&down) {
        s.outside_transaction.push(down.start..text.len());
    }
    s
}

/// goose's states (internal/sqlparser `parser.go`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goose {
    Start,
    Up,
    Down,
    /// Inside `StatementBegin` … `StatementEnd`, in the up (true) or down section.
    Block(bool),
}

/// goose (internal/sqlparser `ParseSQLMigration`): `-- +goose Up` must come first; `Down` opens
/// the rollback section to the end of the file; a statement ends at a line whose last word
/// (before a `--`) ends with `;`, unless it is inside `StatementBegin` … `StatementEnd`. goose
/// sends each such piece to the server alone, so a piece that cuts a string or a `$$` body is a
/// problem here: the server would get half a statement. `cut` says whether a piece of SQL
/// leaves a quote or comment open (the caller's tokenizer).
pub fn goose(text: &str, cut: &dyn Fn(&str) -> bool) -> Sections {
    let mut r = GooseReader {
        text,
        cut,
        s: Sections::default(),
        state: Goose::Start,
        piece: None,
        down_from: None,
        cut_seen: false,
    };
    for (range, line) in lines(text) {
        if r.state == Goose::Start && line.trim().is_empty() {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("--").map(str::trim) {
            r.annotation(cmd, range);
            continue;
        }
        if r.piece.is_none() && (line.trim_start().starts_with("--") || line.is_empty()) {
            continue;
        }
        if r.state == Goose::Start {
            r.problem(
                "goose requires the file to start with `-- +goose Up`",
                range,
            );
            return r.s;
        }
        let p = r.piece.get_or_insert(range.clone());
        p.end = range.end;
        if matches!(r.state, Goose::Up | Goose::Down) && ends_with_semicolon(line) {
            r.flush();
        }
    }
    r.finish()
}

/// goose's reading of one file, line by line.
struct GooseReader<'a> {
    text: &'a str,
    cut: &'a dyn Fn(&str) -> bool,
    s: Sections,
    state: Goose,
    /// The byte range of the statement being gathered, if any.
    piece: Option<Range<usize>>,
    down_from: Option<usize>,
    /// The first cut is the cause; the pieces after it are its consequences, not news.
    cut_seen: bool,
}

impl GooseReader<'_> {
    fn problem(&mut self, message: &str, at: Range<usize>) {
        self.s.problems.push((message.into(), at));
    }

    /// A statement goose sends: is it whole?
    fn flush(&mut self) {
        if let Some(r) = self.piece.take() {
            if !self.cut_seen && (self.cut)(&self.text[r.clone()]) {
                self.cut_seen = true;
                self.problem("goose sends this statement cut short: it ends at a line ending in `;` inside a string, comment or `$$` body; wrap the statement in `-- +goose StatementBegin` … `-- +goose StatementEnd`", r);
            }
        }
    }

    fn unfinished(&mut self) {
        if let Some(r) = self.piece.take() {
            self.problem(
                "goose stops at this statement: it does not end with `;` (missing semicolon?)",
                r,
            );
        }
    }

    /// A line starting with `--`: one of goose's annotations, or a comment.
    fn annotation(&mut self, cmd: &str, range: Range<usize>) {
        let problem = match (cmd, self.state) {
            ("+goose Up", Goose::Start) => {
                self.state = Goose::Up;
                None
            }
            ("+goose Up", _) => Some("goose refuses a second `-- +goose Up` annotation"),
            ("+goose Down", Goose::Up) => {
                self.unfinished();
                self.state = Goose::Down;
                self.down_from = Some(range.start);
                None
            }
            ("+goose Down", Goose::Block(_)) => Some("goose refuses `-- +goose Down` inside a `StatementBegin` block (is the marker inside a string or `$$` body?)"),
            ("+goose Down", _) => Some("goose requires `-- +goose Up` before `-- +goose Down`"),
            ("+goose StatementBegin", Goose::Up | Goose::Down) => {
                self.state = Goose::Block(self.state == Goose::Up);
                None
            }
            ("+goose StatementBegin", _) => Some("`-- +goose StatementBegin` must follow `-- +goose Up` or `-- +goose Down` (and end its previous block)"),
            ("+goose StatementEnd", Goose::Block(up)) => {
                // The block is one statement, whatever its semicolons.
                self.piece = None;
                self.state = if up { Goose::Up } else { Goose::Down };
                None
            }
            ("+goose StatementEnd", _) => {
                Some("`-- +goose StatementEnd` must follow `-- +goose StatementBegin`")
            }
            ("+goose NO TRANSACTION", _) => {
                // For the whole file, wherever it is written.
                self.s.outside_transaction.clear();
                self.s.outside_transaction.push(0..self.text.len());
                None
            }
            ("+goose ENVSUBST ON" | "+goose ENVSUBST OFF", _) => None,
            _ => {
                // A plain comment (or an annotation this goose does not know, which it reads
                // as one): part of a statement once one has started.
                if let Some(p) = self.piece.as_mut() {
                    p.end = range.end;
                }
                None
            }
        };
        if let Some(p) = problem {
            self.problem(p, range);
        }
    }

    fn finish(mut self) -> Sections {
        let text = self.text;
        match self.state {
            Goose::Start => self.problem(
                "goose requires the file to start with `-- +goose Up`",
                0..text.find('\n').unwrap_or(text.len()),
            ),
            Goose::Block(_) => self.problem(
                "goose requires `-- +goose StatementEnd` to close the last `StatementBegin`",
                text.len()..text.len(),
            ),
            _ => self.unfinished(),
        }
        if let Some(from) = self.down_from {
            self.s.down.push(from..text.len());
        }
        self.s
    }
}

/// goose's `endsWithSemicolon`: the last whitespace-separated word before one starting with
/// `--` ends with `;`.
fn ends_with_semicolon(line: &str) -> bool {
    line.split_whitespace()
        .take_while(|w| !w.starts_with("--"))
        .last()
        .is_some_and(|w| w.ends_with(';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never_cut(_: &str) -> bool {
        false
    }

    #[test]
    fn dbmate_blocks() {
        let text = "-- a comment\n-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n";
        let s = dbmate(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(&text[s.down[0].clone()], "-- migrate:down\nDROP TABLE a;\n");
        assert!(!s.is_down(text.find("CREATE").unwrap()));
        let s = dbmate("CREATE TYPE t AS ENUM ('a');\n-- migrate:up\nSELECT 1;\n-- migrate:down\n");
        assert!(s.problems[0].0.contains("preceding"));
        assert!(dbmate("-- migrate:up\nSELECT 1;\n").problems[0]
            .0
            .contains("down block"));
        assert!(dbmate("SELECT 1;\n").problems[0].0.contains("up block"));
        let s = dbmate("-- migrate:down\nSELECT 2;\n-- migrate:up transaction:false\nSELECT 1;\n");
        assert!(s.problems[0].0.contains("before"));
        // `-- migrate:upgrade` is not the marker.
        assert!(dbmate("-- migrate:upgrade\n-- migrate:down\n").problems[0]
            .0
            .contains("up block"));
    }

    #[test]
    fn goose_sections_and_blocks() {
        let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd\nCREATE TABLE a (id int);\n\n-- +goose Down\nDROP TABLE a;\n";
        let s = goose(text, &never_cut);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(&text[s.down[0].clone()], "-- +goose Down\nDROP TABLE a;\n");
        assert!(goose("SELECT 1;\n", &never_cut).problems[0]
            .0
            .contains("start with"));
        assert!(goose("-- +goose Down\nSELECT 1;\n", &never_cut).problems[0]
            .0
            .contains("before"));
        assert!(goose("-- +goose Up\nSELECT 1\n", &never_cut).problems[0]
            .0
            .contains("semicolon"));
        assert!(goose(
            "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n",
            &never_cut
        )
        .problems[0]
            .0
            .contains("StatementEnd"));
        // Without StatementBegin the function body is cut at `RETURN 1;`.
        let text = "-- +goose Up\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n";
        let open_dollar = |t: &str| t.matches("$$").count() % 2 == 1;
        let s = goose(text, &open_dollar);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(s.problems[0].0.contains("cut short"));
        assert!(ends_with_semicolon("SELECT 1; -- done"));
        assert!(!ends_with_semicolon("SELECT 1 -- done;"));
    }
}
