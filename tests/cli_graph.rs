//! `miglint graph` and the picture in the markdown report (issue 20), tested as a reader sees
//! them: the DOT rendered by Graphviz (`dot -Tsvg`), the Mermaid parsed by the real Mermaid
//! parser (npm `mermaid`, `MIGLINT_MERMAID` names a directory with it and jsdom installed), and
//! large histories trimmed to a bounded picture.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;

/// A tool the test needs, or `None` to skip (a failure when `MIGLINT_REQUIRE_TOOLS` is set).
fn required<T>(found: Option<T>, what: &str) -> Option<T> {
    if found.is_none() {
        assert!(
            std::env::var_os("MIGLINT_REQUIRE_TOOLS").is_none(),
            "{what} is required"
        );
        eprintln!("skipped: {what} not available");
    }
    found
}

fn graphviz() -> Option<PathBuf> {
    let found = Command::new("dot")
        .arg("-V")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("dot"));
    required(found, "Graphviz `dot` (apt-get install graphviz)")
}

fn mermaid_dir() -> Option<PathBuf> {
    let found = std::env::var_os("MIGLINT_MERMAID")
        .map(PathBuf::from)
        .filter(|d| d.join("node_modules/mermaid").exists());
    required(
        found,
        "MIGLINT_MERMAID (a directory with npm mermaid and jsdom)",
    )
}

/// Parses `text` with the real Mermaid parser; Err with its message.
fn mermaid_parse(dir: &PathBuf, text: &str) -> Result<String, String> {
    let script = dir.join("mermaid-parse.mjs");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/mermaid-parse.mjs"),
        &script,
    )
    .unwrap();
    let tmp = Dir::new();
    tmp.write("d.mmd", text);
    let out = Command::new("node")
        .arg(&script)
        .arg(tmp.join("d.mmd"))
        .current_dir(dir)
        .output()
        .expect("node");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The text of every fenced code block of `lang`, as a CommonMark parser reads the document.
fn fenced_blocks(markdown: &str, lang: &str) -> Vec<String> {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
    let mut blocks = Vec::new();
    let mut inside = false;
    for ev in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if &*info == lang => {
                inside = true;
                blocks.push(String::new());
            }
            Event::End(TagEnd::CodeBlock) => inside = false,
            Event::Text(t) if inside => blocks.last_mut().unwrap().push_str(&t),
            _ => {}
        }
    }
    blocks
}

/// `dot -Tsvg` of `text`: the SVG, `None` when Graphviz is missing; panics on any complaint.
fn render_dot(text: &str) -> Option<String> {
    let dot = graphviz()?;
    let mut child = Command::new(dot)
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot: {}\n{text}",
        String::from_utf8_lossy(&out.stderr),
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The team's repository on a branch: 300 applied migrations, an Alembic graph of 200 revisions
/// with two labelled branches merged, and a new migration whose number main took meanwhile.
fn busy_repo() -> Dir {
    let d = team_repo("20251105_000002");
    d.init_repo();
    for i in 2..300 {
        d.write(
            &format!("auth/migrations/{i:04}_step_{i}.sql"),
            format!("CREATE TABLE auth.t{i} (id bigint);\n"),
        );
    }
    let mut down = "20251105_000002".to_string();
    for i in 0..200 {
        let id = format!("r{i:04}");
        d.write(
            &format!("auth/alembic/versions/{id}.py"),
            revision_file(&id, &format!("'{down}'")),
        );
        down = id;
    }
    // Two labelled branches from the last revision, merged.
    d.write(
        "auth/alembic/versions/expand.py",
        "revision = 'expand1'\ndown_revision = 'r0199'\nbranch_labels = ('expand',)\n",
    );
    d.write(
        "auth/alembic/versions/contract.py",
        "revision = 'contract1'\ndown_revision = 'r0199'\nbranch_labels = ('contract',)\n",
    );
    d.write(
        "auth/alembic/versions/merge.py",
        "revision = 'merge1'\ndown_revision = ('expand1', 'contract1')\n",
    );
    d.write(
        "auth/migrations/0300_stamp.sql",
        "UPDATE auth.alembic_version_auth SET version_num = 'merge1';\n",
    );
    d.write(
        "miglint.toml",
        "[git]\nbase = \"main\"\n\n[[set]]\ndir = \"auth/migrations\"\n",
    );
    assert_eq!(d.run(&["record", "--through", "300"]).code, 0);
    d.commit_all("main");
    d.diverge(
        &[(
            "auth/migrations/0301_add_email.sql",
            "ALTER TABLE auth.roles ADD COLUMN email text;\n",
        )],
        &[(
            "auth/migrations/0301_add_phone.sql",
            "ALTER TABLE auth.roles ADD COLUMN phone text;\n",
        )],
    );
    d
}

#[test]
fn mermaid_parses_and_stays_small() {
    let d = busy_repo();
    let r = d.run(&["graph"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let text = r.stdout;
    for expected in [
        "0301_add_email.sql<br/>pending, new on this branch, number conflict",
        // The base's file with the same number stands beside it (issue 33).
        "[\"0301_add_phone.sql on main: the same number\"]",
        "merge1<br/>head, merge, stamped",
        "expand1<br/>branch: expand",
        "-. stamps .->",
        "more migrations",
        "older revisions",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{text}");
    }
    let nodes = text.lines().filter(|l| l.contains("[\"")).count();
    assert!(
        nodes <= 50,
        "{nodes} nodes: never a wall of hundreds\n{text}"
    );
    if let Some(dir) = mermaid_dir() {
        assert_eq!(mermaid_parse(&dir, &text), Ok("flowchart-v2".into()));
    }
}

#[test]
fn dot_renders_with_graphviz() {
    let d = busy_repo();
    let r = d.run(&["graph", "--format", "dot"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let Some(svg) = render_dot(&r.stdout) else {
        return;
    };
    assert!(svg.contains("<svg") && svg.contains("0301_add_email.sql") && svg.contains("merge1"));
}

#[test]
fn escapes_hold_in_both_formats() {
    let d = Dir::new();
    d.init_repo();
    d.write("m/0000_init.sql", "CREATE TABLE a (id int);\n");
    // A set directory with characters that break naive labels.
    d.write("m \"x\" <y> #z/0000_init.sql", "CREATE TABLE a (id int);\n");
    d.write("miglint.toml", "[[set]]\ndir = \"m \\\"x\\\" <y> #z\"\n");
    d.commit_all("x");
    let mermaid = d.run(&["graph"]).stdout;
    assert!(!mermaid.contains("\"x\""), "{mermaid}");
    if let Some(dir) = mermaid_dir() {
        assert_eq!(mermaid_parse(&dir, &mermaid), Ok("flowchart-v2".into()));
    }
    let dot = d.run(&["graph", "--format", "dot"]).stdout;
    assert!(dot.contains("m \\\"x\\\" <y> #z"), "{dot}");
    if let Some(g) = graphviz() {
        let dir = Dir::new();
        dir.write("g.dot", &dot);
        let out = Command::new(g)
            .args(["-Tsvg", "-o"])
            .arg(dir.join("g.svg"))
            .arg(dir.join("g.dot"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_markdown_report_embeds_the_picture_when_it_helps() {
    let d = busy_repo();
    let r = d.run(&["check", "--format", "markdown"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // A CommonMark parser sees one fenced `mermaid` block (GitHub renders it from that).
    let blocks = fenced_blocks(&r.stdout, "mermaid");
    assert_eq!(blocks.len(), 1, "{}", r.stdout);
    let block = blocks[0].as_str();
    assert!(block.starts_with("flowchart TD\n"), "{block}");
    assert!(block.contains("number conflict"), "{block}");
    if let Some(dir) = mermaid_dir() {
        assert_eq!(mermaid_parse(&dir, block), Ok("flowchart-v2".into()));
    }
    // A plain set with no conflict: the table says it all, no picture.
    let plain = Dir::new();
    plain.init_repo();
    valid_set(&plain, "migrations", 3);
    plain.commit_all("x");
    let r = plain.run(&["check", "--format", "markdown"]);
    assert!(!r.stdout.contains("```mermaid"), "{}", r.stdout);
}

#[test]
fn formats_that_do_not_fit_are_usage_errors() {
    let d = Dir::new();
    d.init_repo();
    valid_set(&d, "migrations", 1);
    assert_eq!(d.run(&["check", "--format", "dot"]).code, 2);
    assert_eq!(d.run(&["graph", "--format", "sarif"]).code, 2);
    assert_eq!(d.run(&["status", "--format", "mermaid"]).code, 2);
}

/// The pull request the pictures in docs/ show (built by `docs/img/demo-pr.sh`, as the render
/// script builds it): a number conflict, an edited applied file and a stale Alembic stamp. The
/// summary, the Mermaid picture and the DOT picture all render, and each shows all three.
#[test]
fn the_demo_pull_request_renders_for_a_reviewer() {
    let d = Dir::new();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/img/demo-pr.sh");
    let built = Command::new("sh")
        .arg(script)
        .arg(d.join("repo"))
        .arg(env!("CARGO_BIN_EXE_miglint"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let summary = d.run_in("repo", &["check", "--format", "markdown"]);
    assert_eq!(summary.code, 1, "{}", summary.stdout);
    let md = summary.stdout;
    for code in [
        "number-conflict",
        "checksum-mismatch",
        "alembic-head-mismatch",
    ] {
        assert!(md.contains(&format!("rules.md#{code}")), "{code}:\n{md}");
    }
    // Markdown is not read inside HTML elements: no backticks shown as they are.
    assert!(
        !md.lines()
            .any(|l| l.contains("<summary>") && l.contains('`')),
        "{md}"
    );
    assert_eq!(fenced_blocks(&md, "sql").len(), 3, "{md}");
    let pictures = fenced_blocks(&md, "mermaid");
    assert_eq!(pictures.len(), 1, "{md}");
    for expected in [
        "0002_create_roles.sql<br/>applied, changed after it was applied",
        "0005_add_email.sql<br/>pending, new on this branch, number conflict",
        "8d4be0a1c955<br/>stamped",
        "c7e2d94f0a31<br/>head",
    ] {
        assert!(
            pictures[0].contains(expected),
            "{expected}:\n{}",
            pictures[0]
        );
    }
    let graph = d.run_in("repo", &["graph"]);
    assert_eq!(graph.code, 0, "{}", graph.stderr);
    assert_eq!(
        graph.stdout, pictures[0],
        "the summary embeds what `graph` draws"
    );
    if let Some(dir) = mermaid_dir() {
        assert_eq!(
            mermaid_parse(&dir, &graph.stdout),
            Ok("flowchart-v2".into())
        );
    }
    let dot = d.run_in("repo", &["graph", "--format", "dot"]);
    assert_eq!(dot.code, 0, "{}", dot.stderr);
    if let Some(svg) = render_dot(&dot.stdout) {
        for expected in ["0002_create_roles.sql", "number conflict", "c7e2d94f0a31"] {
            assert!(svg.contains(expected), "{expected}");
        }
    }
}
