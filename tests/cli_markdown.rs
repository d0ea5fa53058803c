//! Issue 20, part 1: `--format markdown`, read as a reader sees it — parsed by a CommonMark
//! parser (pulldown-cmark): the verdict heading, the set table, the code block, the links.

mod common;
use common::*;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

struct Doc {
    headings: Vec<String>,
    tables: usize,
    sql_blocks: Vec<String>,
    links: Vec<String>,
    text: String,
}

fn parse(md: &str) -> Doc {
    let mut doc = Doc {
        headings: vec![],
        tables: 0,
        sql_blocks: vec![],
        links: vec![],
        text: String::new(),
    };
    let (mut in_heading, mut in_sql) = (false, false);
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                doc.headings.push(String::new());
            }
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Start(Tag::Table(_)) => doc.tables += 1,
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) if &*lang == "sql" => {
                in_sql = true;
                doc.sql_blocks.push(String::new());
            }
            Event::End(TagEnd::CodeBlock) => in_sql = false,
            Event::Start(Tag::Link { dest_url, .. }) => doc.links.push(dest_url.to_string()),
            Event::Text(t) | Event::Code(t) => {
                if in_heading {
                    doc.headings.last_mut().unwrap().push_str(&t);
                }
                if in_sql {
                    doc.sql_blocks.last_mut().unwrap().push_str(&t);
                }
                doc.text.push_str(&t);
            }
            _ => {}
        }
    }
    doc
}

#[test]
fn a_pull_request_summary_a_reader_can_follow() {
    let d = Dir::new();
    d.write(
        "m/0000_a.sql",
        "SELECT 1;\nALTER TABEL users ADD COLUMN email text;\nSELECT 2;\n",
    );
    let env = [
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("GITHUB_SHA", "0123456789abcdef"),
    ];
    let r = d.run_env(".", &["check", "m", "--format", "markdown"], &env);
    assert_eq!(r.code, 1);
    let doc = parse(&r.stdout);
    assert!(doc.headings[0].contains("1 error"), "{:?}", doc.headings);
    assert_eq!(doc.tables, 1);
    assert_eq!(doc.sql_blocks.len(), 1);
    assert!(
        doc.sql_blocks[0].contains("ALTER TABEL users") && doc.sql_blocks[0].contains("      ^"),
        "{}",
        doc.sql_blocks[0]
    );
    assert!(
        doc.links
            .iter()
            .any(|l| l.ends_with("docs/rules.md#sql-parse-error")),
        "{:?}",
        doc.links
    );
    assert!(
        doc.links.contains(
            &"https://github.com/acme/app/blob/0123456789abcdef/m/0000_a.sql#L2".to_string()
        ),
        "{:?}",
        doc.links
    );
    // A clean run says so first; many findings fold.
    let clean = Dir::new();
    valid_set(&clean, "m", 2);
    let doc = parse(&clean.run(&["check", "m", "--format", "markdown"]).stdout);
    assert!(doc.headings[0].contains("no problems"));
    let many = Dir::new();
    for i in 0..30 {
        many.write(&format!("m/{i:04}_x.sql"), "SELEC 1;\n");
    }
    let r = many.run(&["check", "m", "--format", "markdown"]);
    assert!(
        r.stdout.contains("<details><summary>30 findings</summary>"),
        "{}",
        r.stdout
    );
    // Other commands refuse the format.
    assert_eq!(many.run(&["status", "--format", "markdown"]).code, 2);
}

/// Issue 29: against a base, the summary says what the branch's new migrations do to the schema
/// (relations and columns added and dropped, as the replay models them); a branch that changes
/// nothing the model holds gets no such section.
#[test]
fn the_summary_says_what_the_change_does_to_the_schema() {
    let d = Dir::new();
    d.init_repo();
    d.write(
        "m/0000_init.sql",
        "CREATE TABLE users (id int, mail text);\nCREATE TABLE legacy (id int);\n",
    );
    d.commit_all("base");
    d.git(&["branch", "-q", "base"]);
    d.write("m/0001_change.sql", "ALTER TABLE users RENAME COLUMN mail TO email;\nCREATE INDEX users_email_idx ON users (email);\nDROP TABLE legacy;\n");
    d.commit_all("change");
    let r = d.run(&["check", "m", "--base", "base", "--format", "markdown"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let doc = parse(&r.stdout);
    for expected in [
        "What this change does to the schema",
        "added: index public.users_email_idx",
        "dropped: table public.legacy",
        "columns added: public.users.email",
        "columns dropped: public.users.mail",
    ] {
        assert!(
            doc.text.contains(expected),
            "{expected:?} in:\n{}",
            r.stdout
        );
    }
    // Data only: no section.
    d.git(&["checkout", "-q", "base"]);
    d.git(&["checkout", "-q", "-b", "data"]);
    d.write(
        "m/0001_data.sql",
        "INSERT INTO users (id, mail) VALUES (1, 'a');\n",
    );
    d.commit_all("data");
    let r = d.run(&["check", "m", "--base", "base", "--format", "markdown"]);
    assert!(
        !r.stdout.contains("What this change does to the schema"),
        "{}",
        r.stdout
    );
}
