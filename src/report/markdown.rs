//! `--format markdown`: one document for a pull-request summary (`$GITHUB_STEP_SUMMARY`, a PR
//! comment, a GitLab MR note). The verdict first; a table per set; then the findings grouped by
//! file, each with its code (linked to its rule documentation), the message, an `sql` excerpt
//! with the spot marked, and the help. Long reports fold into `<details>`. File links point at
//! the commit being checked when the CI says which (GitHub or GitLab variables).

use std::collections::BTreeMap;
use std::io::Write;

use super::{counts, locate, Located};
use crate::finding::{escape_controls, Severity};
use crate::outcome::Outcome;

/// Findings beyond this fold into `<details>`.
const FOLD_AFTER: usize = 20;

/// What a path may hold in a link without ending it or starting something else: controls,
/// space, and every character Markdown or a URL reads specially (`/` stays a separator).
const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'(')
    .add(b')')
    .add(b'[')
    .add(b']')
    .add(b'?')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'{')
    .add(b'}');

/// A CI variable, when set and not empty (the forge's URLs come from these).
fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// A link to `path` at `line` in the forge the CI runs on, when it says so.
fn link(path: &str, line: Option<usize>) -> Option<String> {
    let anchor = line.map_or(String::new(), |l| format!("#L{l}"));
    let path = percent_encoding::utf8_percent_encode(path, PATH_SET).to_string();
    if let (Some(server), Some(repo), Some(sha)) = (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_SHA"),
    ) {
        return Some(format!("{server}/{repo}/blob/{sha}/{path}{anchor}"));
    }
    if let (Some(project), Some(sha)) = (env("CI_PROJECT_URL"), env("CI_COMMIT_SHA")) {
        return Some(format!("{project}/-/blob/{sha}/{path}{anchor}"));
    }
    None
}

/// A link to the pull request (GitHub) or merge request (GitLab) whose head `reference` is, as
/// the action and the GitLab snippet fetch them (`refs/remotes/pr/12`, `refs/remotes/mr/12`,
/// or the forge's own `refs/pull/12/head`, `refs/merge-requests/12/head`), when the CI says
/// which forge it is. Only a number is taken from the ref name.
fn review_link(reference: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = reference.split('/').collect();
    let number = |kinds: &[&str]| {
        parts.windows(2).find_map(|w| {
            (kinds.contains(&w[0]) && !w[1].is_empty() && w[1].bytes().all(|b| b.is_ascii_digit()))
                .then(|| w[1].to_string())
        })
    };
    if let (Some(n), Some(server), Some(repo)) = (
        number(&["pr", "pull"]),
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
    ) {
        return Some((
            format!("pull request #{n}"),
            format!("{server}/{repo}/pull/{n}"),
        ));
    }
    if let (Some(n), Some(project)) = (number(&["mr", "merge-requests"]), env("CI_PROJECT_URL")) {
        return Some((
            format!("merge request !{n}"),
            format!("{project}/-/merge_requests/{n}"),
        ));
    }
    None
}

/// Text from the checked files (names, messages quoting them) as Markdown that renders exactly
/// as that text: every character that can start Markup backslash-escaped (CommonMark takes an
/// escaped ASCII punctuation character literally: no HTML, link, emphasis, code span, math or
/// table pipe can start), no line breaks, no control bytes.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape_controls(s).chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '!' | '~' | '$' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A name as inline code: an HTML `<code>` element around the literal text (a backtick in the
/// name cannot end it).
fn code(s: &str) -> String {
    format!("<code>{}</code>", literal(s))
}

/// A message or help line: its `` `quoted` `` parts as code, everything literal.
fn inline(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = String::with_capacity(s.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        // An odd part is quoted when a closing backtick follows it.
        if i % 2 == 1 && i + 1 < parts.len() {
            out.push_str(&code(part));
        } else {
            if i % 2 == 1 {
                out.push_str("\\`");
            }
            out.push_str(&literal(part));
        }
    }
    out
}

/// Text inside an HTML element such as `<summary>`, where Markdown is not read (GitHub would
/// show backticks as they are): entities for HTML's special characters, one line.
fn html(s: &str) -> String {
    escape_controls(s)
        .replace('\n', " ")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The lines around a finding (the one before, its own, the one after), with a line of `^`
/// under the marked span.
fn excerpt(src: &[u8], l: &Located) -> Option<String> {
    let (line, column) = (l.line?, l.column?);
    let text = String::from_utf8_lossy(src);
    let lines: Vec<&str> = text.lines().collect();
    let own = *lines.get(line - 1)?;
    let width = l.finding.span.as_ref().map_or(1, |s| {
        let start = s.start.min(src.len());
        let end = s.end.min(src.len()).max(start);
        String::from_utf8_lossy(&src[start..end])
            .chars()
            .take_while(|c| *c != '\n')
            .count()
    });
    let mut out = String::new();
    if line >= 2 {
        out.push_str(&escape_controls(lines[line - 2]));
        out.push('\n');
    }
    out.push_str(&escape_controls(own));
    out.push('\n');
    out.push_str(&format!(
        "{}{} {}\n",
        " ".repeat(column - 1),
        "^".repeat(width.clamp(1, 60)),
        l.finding
            .label
            .as_deref()
            .map(escape_controls)
            .unwrap_or_default()
    ));
    if let Some(next) = lines.get(line) {
        out.push_str(&escape_controls(next));
        out.push('\n');
    }
    Some(out)
}

/// The whole document: the verdict, a table per set (with a picture where it helps), the
/// findings grouped by file.
pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let errors = outcome.count(Severity::Error);
    let warnings = outcome.count(Severity::Warning);
    let verdict = if errors > 0 {
        format!("❌ miglint: {}", counts(outcome))
    } else if warnings > 0 {
        format!("⚠️ miglint: {}", counts(outcome))
    } else {
        "✅ miglint: no problems".to_string()
    };
    writeln!(out, "## {verdict}\n")?;
    if let Some(base) = &outcome.base {
        writeln!(out, "Compared with {}.\n", code(base))?;
    }
    if !outcome.sets.is_empty() {
        sets_table(outcome, out)?;
    }
    let located = locate(outcome);
    let shown: Vec<&Located> = located
        .iter()
        .filter(|l| l.finding.severity != Severity::Off)
        .collect();
    if shown.is_empty() {
        return Ok(());
    }
    let mut by_file: BTreeMap<&str, Vec<&Located>> = BTreeMap::new();
    for l in &shown {
        by_file
            .entry(l.finding.file.as_deref().unwrap_or(""))
            .or_default()
            .push(l);
    }
    let fold = shown.len() > FOLD_AFTER;
    if fold {
        writeln!(
            out,
            "<details><summary>{} findings</summary>\n",
            shown.len()
        )?;
    }
    for (file, findings) in by_file {
        if file.is_empty() {
            writeln!(out, "### Whole run\n")?;
        } else {
            match link(file, None) {
                Some(url) => writeln!(out, "### [{}]({url})\n", code(file))?,
                None => writeln!(out, "### {}\n", code(file))?,
            }
        }
        for l in findings {
            finding(outcome, file, l, out)?;
        }
    }
    if fold {
        writeln!(out, "</details>")?;
    }
    Ok(())
}

/// `a`, `b` as inline code, or `none` / `–`.
fn code_list<S: AsRef<str>>(items: Option<&[S]>, empty: &str) -> String {
    match items {
        None => "–".to_string(),
        Some([]) => empty.to_string(),
        Some(items) => items
            .iter()
            .map(|x| code(x.as_ref()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// One row per set, then the pictures that say more than the table (Alembic, or a number
/// conflict).
fn sets_table(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "| set | migrations | new on this branch | recorded | pending | Alembic head | stamped |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for s in &outcome.sets {
        let new = s.new_on_branch();
        let new = code_list(outcome.base.is_some().then_some(&new[..]), "none");
        let heads = s.alembic_heads();
        let heads = code_list(heads, "");
        let stamped = code_list(s.stamped.as_ref().map(std::slice::from_ref), "–");
        writeln!(
            out,
            "| {} | {} | {new} | {} | {} | {heads} | {stamped} |",
            code(&s.dir),
            s.migrations(),
            s.recorded(),
            s.pending()
        )?;
    }
    writeln!(out)?;
    for s in &outcome.sets {
        if let Some(change) = &s.schema_change {
            schema_change(&s.dir, change, out)?;
        }
    }
    for s in outcome
        .sets
        .iter()
        .filter(|s| super::graph::worth_drawing(outcome, s))
    {
        writeln!(
            out,
            "<details open><summary><code>{}</code>: migrations and Alembic revisions</summary>\n\n```mermaid\n{}```\n\n</details>\n",
            html(&s.dir),
            super::graph::mermaid(outcome, Some(s))
        )?;
    }
    Ok(())
}

/// "What this change does to the schema": relations and columns the new migrations add or drop,
/// as the replay models them.
fn schema_change(
    dir: &str,
    c: &crate::schema::SchemaChange,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "**What this change does to the schema** ({}):
",
        code(dir)
    )?;
    let relations = |items: &[(String, crate::sql::ddl::Kind)]| {
        items
            .iter()
            .map(|(n, k)| format!("{} {}", k.as_str(), code(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let columns = |items: &[String]| items.iter().map(|c| code(c)).collect::<Vec<_>>().join(", ");
    for (what, text) in [
        ("added", relations(&c.added)),
        ("dropped", relations(&c.dropped)),
        ("columns added", columns(&c.added_columns)),
        ("columns dropped", columns(&c.dropped_columns)),
    ] {
        if !text.is_empty() {
            writeln!(out, "- {what}: {text}")?;
        }
    }
    if c.unsure {
        writeln!(out, "- and possibly more: a statement the replay cannot follow (a `DO` block, dynamic SQL) may change names it does not list")?;
    }
    writeln!(out)
}

/// One finding: severity, linked code, position, message, the excerpt, help and related facts.
fn finding(outcome: &Outcome, file: &str, l: &Located, out: &mut dyn Write) -> std::io::Result<()> {
    let f = &*super::with_places(outcome, l.finding);
    let at = match (l.line, l.column) {
        (Some(line), Some(col)) => match link(file, Some(line)) {
            Some(url) => format!(" at [line {line}, column {col}]({url})"),
            None => format!(" at line {line}, column {col}"),
        },
        _ => String::new(),
    };
    writeln!(
        out,
        "- **{}** [`{}`]({}){at}: {}",
        f.severity.as_str(),
        f.code(),
        f.rule.help_uri(),
        inline(&f.message)
    )?;
    if let Some(ex) = outcome.sources.get(file).and_then(|src| excerpt(src, l)) {
        // A fence longer than any run of backticks in the excerpt: the file cannot close it.
        let longest = ex.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        writeln!(out, "\n  {fence}sql")?;
        for line in ex.lines() {
            writeln!(out, "  {line}")?;
        }
        writeln!(out, "  {fence}\n")?;
    }
    if let Some(h) = &f.help {
        writeln!(out, "  help: {}", inline(h))?;
    }
    for (lang, text) in [("sh", &f.command), ("diff", &f.diff)] {
        if let Some(text) = text {
            let text = escape_controls(text);
            // A fence longer than any run of backticks in the text: the file cannot close it.
            let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest.max(2) + 1);
            writeln!(out, "\n  {fence}{lang}")?;
            for line in text.lines() {
                writeln!(out, "  {line}")?;
            }
            writeln!(out, "  {fence}\n")?;
        }
    }
    for r in &f.related {
        writeln!(out, "  also (`{}`): {}", r.rule.code(), inline(&r.message))?;
    }
    if let Some((what, url)) = f.reference.as_deref().and_then(review_link) {
        let url = percent_encoding::utf8_percent_encode(&url, PATH_SET).to_string();
        writeln!(out, "  see [{what}]({url})")?;
    }
    writeln!(out)
}
