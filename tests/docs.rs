//! The documents a newcomer reads: the README stays a front door (under 12 KB), and every relative
//! link or image in the repository's Markdown resolves to a file that exists, and to a heading
//! that exists when it names one (`docs/git.md#hooks`). External links are not fetched.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Markdown files people read: the top level, `docs/`, the pre-commit mirror.
fn documents() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["", "docs", "hooks/pypi-mirror"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                out.insert(slug(&heading.take().unwrap_or_default()));
            }
            _ => {}
        }
    }
    out
}

fn links(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, Options::ENABLE_TABLES)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(file)
            };
            let shown = format!("{}: {link}", doc.strip_prefix(ROOT).unwrap().display());
            if !target.exists() {
                broken.push(format!("{shown} (no such file)"));
            } else if !anchor.is_empty() {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                if !headings.contains(anchor) {
                    broken.push(format!("{shown} (no such heading; has {headings:?})"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    assert!(
        readme.len() < 12 * 1024,
        "README.md is {} bytes: move reference material to docs/",
        readme.len()
    );
    // What an adopter looks for on the first screen, in this order.
    let sections: Vec<String> = Parser::new(&readme)
        .scan(false, |in_h2, event| {
            Some(match event {
                Event::Start(Tag::Heading {
                    level: HeadingLevel::H2,
                    ..
                }) => {
                    *in_h2 = true;
                    None
                }
                Event::Text(t) if *in_h2 => {
                    *in_h2 = false;
                    Some(t.to_string())
                }
                _ => None,
            })
        })
        .flatten()
        .collect();
    let position = |name: &str| {
        sections
            .iter()
            .position(|s| s.starts_with(name))
            .unwrap_or_else(|| panic!("README has no `## {name}` section: {sections:?}"))
    };
    let order = [
        "What miglint guarantees",
        "Install",
        "pre-commit",
        "CI",
        "Configuration",
        "Commands and exit codes",
    ];
    for pair in order.windows(2) {
        assert!(
            position(pair[0]) < position(pair[1]),
            "{pair:?}: {sections:?}"
        );
    }
    // The two commands a newcomer runs on a fresh machine.
    assert!(readme.contains("cargo run -- check migrations"));
    assert!(readme.contains("\ncargo test "));
    // The version the snippets name is the crate's.
    let version = env!("CARGO_PKG_VERSION");
    assert!(readme.contains(&format!("rev: v{version}")));
    assert!(readme.contains(&format!("miglint/miglint@v{version}")));
}

/// Every install command a document shows (issue 33): `cargo install` honours `Cargo.lock`
/// (`--locked`) wherever it is written, and each command of docs/install.md is one that
/// `.ci/run` or a test runs — the table below says where; a new snippet fails here until it says
/// where it is tried.
#[test]
fn every_install_command_is_locked_and_tried() {
    let mut texts: Vec<(PathBuf, String)> = documents()
        .into_iter()
        .map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    for extra in [
        "hooks/pre-commit",
        "hooks/pre-push",
        "action.yml",
        ".ci/run",
    ] {
        let p = Path::new(ROOT).join(extra);
        texts.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
    }
    for (path, text) in &texts {
        for line in text.lines().filter(|l| l.contains("cargo install ")) {
            assert!(
                line.contains("--locked"),
                "{}: `cargo install` without --locked: {line}",
                path.display()
            );
        }
    }
    // (the command as docs/install.md writes it, a file that runs it, what that file holds)
    let tried: &[(&str, &str, &str)] = &[
        (
            "sudo apt-get install -y libclang1-14 libclang-common-14-dev",
            ".ci/run",
            "libclang1-14 libclang-common-14-dev",
        ),
        (
            "python3 -m pip install 'maturin>=1.9,<2'",
            ".ci/run",
            "'maturin>=1.9,<2'",
        ),
        (
            "maturin build --release --out dist",
            ".ci/run",
            "maturin\" build",
        ),
        (
            "python3 -m pip install dist/miglint-*.whl",
            "tests/distribution.rs",
            "\"install\", \"--quiet\", \"miglint\"",
        ),
        ("miglint --version", "tests/distribution.rs", "--version"),
        (
            "cargo install --locked --path .",
            "tests/precommit.rs",
            "try-repo",
        ),
        (
            "cargo install --locked --path . --features postgres-exact",
            ".ci/run",
            "--features postgres-exact",
        ),
        (
            "PIP_FIND_LINKS=$PWD/wheels pre-commit run miglint --all-files",
            "tests/distribution.rs",
            "PIP_FIND_LINKS",
        ),
    ];
    let install = std::fs::read_to_string(Path::new(ROOT).join("docs/install.md")).unwrap();
    let mut in_block = false;
    let mut commands = Vec::new();
    for line in install.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if in_block {
            let command = line.split(" #").next().unwrap().trim();
            if !command.is_empty() {
                commands.push(command.to_string());
            }
        }
    }
    assert!(commands.len() >= 6, "{commands:?}");
    for command in &commands {
        let Some((_, file, needle)) = tried.iter().find(|(c, _, _)| c == command) else {
            panic!("docs/install.md shows `{command}`: say where it is tried (this test's table)");
        };
        let runner = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        assert!(
            runner.contains(needle),
            "{file} no longer runs `{command}` (looked for {needle:?})"
        );
    }
}
