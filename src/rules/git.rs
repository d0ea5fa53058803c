//! `modified-after-merge`, `deleted-after-merge`, `renamed-after-merge`, `number-conflict`,
//! `out-of-order` and `lock-rewritten`: the set now against the merge-base and the base's tip.
//! Pure: the three snapshots are read by `git`.

use std::collections::{BTreeSet, HashSet};
use std::ops::Range;

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::naming;
use crate::registry::Rule;
use crate::rules::naming::Migration;
use crate::snapshot::Snapshot;

/// The byte span of the first line of `new` that differs from `old` (for labels).
pub fn first_changed_line(old: &[u8], new: &[u8]) -> Range<usize> {
    let mut offset = 0;
    let mut old_lines = old.split_inclusive(|&b| b == b'\n');
    for line in new.split_inclusive(|&b| b == b'\n') {
        if old_lines.next() != Some(line) {
            let end = offset + line.strip_suffix(b"\n").unwrap_or(line).len();
            return offset..end.max(offset + 1).min(new.len().max(offset + 1));
        }
        offset += line.len();
    }
    // `new` is a prefix of `old`: the change is at the end of the file.
    let end = new.len();
    end.saturating_sub(1)..end
}

/// Whether the ledger `now` is `before` plus appended lines; returns the span of the first
/// rewritten line in `now` when it is not.
pub fn ledger_rewrite(before: &[u8], now: &[u8]) -> Option<Range<usize>> {
    // The common case, checked without splitting lines: only lines were appended.
    if now.starts_with(before) && (before.is_empty() || before.ends_with(b"\n")) {
        return None;
    }
    let before_lines: Vec<&[u8]> = before.split_inclusive(|&b| b == b'\n').collect();
    let mut offset = 0;
    let mut now_lines = now.split_inclusive(|&b| b == b'\n');
    for (i, old) in before_lines.iter().enumerate() {
        match now_lines.next() {
            Some(line) if line == *old => offset += line.len(),
            // The last old line may have lacked its newline; appending adds one.
            Some(line)
                if i == before_lines.len() - 1
                    && !old.ends_with(b"\n")
                    && line.strip_suffix(b"\n") == Some(old) =>
            {
                offset += line.len()
            }
            Some(line) => return Some(offset..offset + line.len().max(1)),
            None => return Some(now.len().saturating_sub(1)..now.len()),
        }
    }
    None
}

/// The statement of `theirs` (up to its `;`, on one line, at most 200 characters) where it first
/// differs from `ours`, to show what the base's version says.
fn first_differing_statement(ours: &[u8], theirs: &[u8]) -> String {
    let span = first_changed_line(ours, theirs);
    let start = span.start.min(theirs.len());
    let rest = &theirs[start..];
    let end = rest
        .iter()
        .position(|&b| b == b';')
        .map_or(rest.len(), |p| p + 1);
    let text = String::from_utf8_lossy(&rest[..end]);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 200 {
        one.chars().take(200).collect::<String>() + "…"
    } else {
        one
    }
}

/// What the base rules compare: the set now and the base's two snapshots, with the migrations
/// each holds (the engine has parsed every name once already).
pub struct BaseInput<'a> {
    pub set: &'a SetConfig,
    pub now: &'a Snapshot,
    /// `rules::naming::migrations` of `now`.
    pub migrations: &'a [Migration],
    pub merge_base: &'a Snapshot,
    pub tip: &'a Snapshot,
    /// The migrations of the merge-base, then those of the tip.
    pub base_migrations: &'a [Migration],
    /// The base as the user named it, for messages.
    pub base_name: &'a str,
}

/// The set now against the base: merged files must not change, numbers must not collide with
/// the base's, the ledger must only grow.
pub fn check_base(b: &BaseInput) -> Vec<Finding> {
    let merged: HashSet<&str> = b.merge_base.files.iter().map(|f| f.name.as_str()).collect();
    let (mut findings, rename_targets) = merged_files(b, &merged);
    findings.extend(same_path_added(b, &merged));
    findings.extend(numbers(b, &rename_targets));
    findings.extend(ledger_grown(b));
    findings
}

/// `modified-after-merge`, `renamed-after-merge`, `deleted-after-merge`: what happened to each
/// file the merge-base has. Also returns the names merged files were renamed to.
fn merged_files(b: &BaseInput, base_names: &HashSet<&str>) -> (Vec<Finding>, HashSet<String>) {
    let (set, now, merge_base, base_name) = (b.set, b.now, b.merge_base, b.base_name);
    let mut findings = Vec::new();
    let mut rename_targets = HashSet::new();
    // A down file runs only on an explicit rollback, never at deploy, and no tool checksums
    // it: fixing a merged one is normal (a missing one is `missing-down`).
    let convention = naming::convention(set);
    let is_down = |name: &str| {
        convention
            .parse(name)
            .is_ok_and(|p| p.direction == naming::Direction::Down)
    };
    for old in merge_base.files.iter().filter(|f| !is_down(&f.name)) {
        match now.file(&old.name) {
            Some(new) if !new.same_content(old) => {
                let finding = Finding::new(Rule::ModifiedAfterMerge, format!("`{}` is already merged into {base_name} and was changed", old.name))
                    .file(new.path.clone())
                    .help("merged migrations may already have run somewhere: restore it (the command below) and add a new migration with the change")
                    .command(format!("git checkout {base_name} -- {}", new.path));
                // A file too large to hold is compared by digest only; nothing to point at.
                findings.push(if new.is_complete() && old.is_complete() {
                    let span = first_changed_line(&old.bytes, &new.bytes);
                    crate::rules::edits::annotate(
                        set,
                        finding.at(span, "first changed line"),
                        &old.bytes,
                        &new.bytes,
                    )
                } else {
                    finding
                });
            }
            Some(_) => {}
            None => {
                let renamed = now
                    .files
                    .iter()
                    .find(|f| !base_names.contains(f.name.as_str()) && f.same_content(old));
                match renamed {
                    Some(new) => {
                        rename_targets.insert(new.name.clone());
                        findings.push(
                            Finding::new(Rule::RenamedAfterMerge, format!("`{}` is already merged into {base_name} and was renamed to `{}`", old.name, new.name))
                                .file(new.path.clone())
                                .help(format!("rename it back to `{}`: appliers record migrations by file name", old.name)),
                        );
                    }
                    None => findings.push(
                        Finding::new(Rule::DeletedAfterMerge, format!("`{}` is already merged into {base_name} and was deleted", old.name))
                            .file(old.path.clone())
                            .help("restore it (the command below); to undo its change, add a new migration")
                            .command(format!("git checkout {base_name} -- {}", old.path)),
                    ),
                }
            }
        }
    }

    (findings, rename_targets)
}

/// `number-conflict`, `out-of-order`: a new migration must not reuse a number the base has (at
/// the merge-base or at its tip) and must come after the base's newest migration.
fn numbers(b: &BaseInput, rename_targets: &HashSet<String>) -> Vec<Finding> {
    let (set, tip, base_name, base_migrations) = (b.set, b.tip, b.base_name, b.base_migrations);
    let mut findings = Vec::new();
    let base_numbers: BTreeSet<u64> = base_migrations.iter().map(|m| m.number).collect();
    let base_all_names: HashSet<&str> = base_migrations.iter().map(|m| m.name.as_str()).collect();
    let newest = base_numbers.iter().next_back().copied();
    let mut next = newest.map_or(set.start, |n| n + 1);
    for m in b
        .migrations
        .iter()
        .filter(|m| !base_all_names.contains(m.name.as_str()) && !rename_targets.contains(&m.name))
    {
        let Some(newest) = newest else { break };
        if tip.file(&m.name).is_some() {
            // Same path on both sides: reported above (or identical, which merges cleanly).
            continue;
        }
        let suggestion = crate::rules::naming::names_for(set, next, m);
        if base_numbers.contains(&m.number) {
            let other = base_migrations
                .iter()
                .find(|b| b.number == m.number)
                .map_or("", |b| b.name.as_str());
            findings.push(
                Finding::new(Rule::NumberConflict, format!("`{}` reuses number {} that {base_name} already has as `{other}`", m.name, naming::number_text(set, m.number)))
                    .file(m.path.clone())
                    .counterpart(format!("{other} on {base_name}: the same number"))
                    .help(format!("rename to {suggestion} (after the base's last migration), or run `miglint renumber`")),
            );
            next += 1;
        } else if m.number < newest {
            findings.push(
                Finding::new(Rule::OutOfOrder, format!("`{}` is numbered below {base_name}'s newest migration", m.name))
                    .file(m.path.clone())
                    .help(format!("it would run after migrations it never saw: rename to {suggestion}, or run `miglint renumber`")),
            );
            next += 1;
        }
    }

    findings
}

/// `number-conflict`: the same path added here and on the base with different SQL. git will
/// report an add/add conflict at merge, and one of the two versions never runs where the other
/// did.
fn same_path_added(b: &BaseInput, base_names: &HashSet<&str>) -> Vec<Finding> {
    let (now, tip, base_name) = (b.now, b.tip, b.base_name);
    let mut findings = Vec::new();
    for m in b.migrations {
        if base_names.contains(m.name.as_str()) {
            continue;
        }
        let (Some(ours), Some(theirs)) = (now.file(&m.name), tip.file(&m.name)) else {
            continue;
        };
        if ours.same_content(theirs) {
            continue;
        }
        let shown = first_differing_statement(&ours.bytes, &theirs.bytes);
        findings.push(
            Finding::new(Rule::NumberConflict, format!("`{}` was also added on {base_name} with different SQL; {base_name}'s version differs at `{shown}`", m.name))
                .file(m.path.clone())
                .at(first_changed_line(&theirs.bytes, &ours.bytes), "differs from the base")
                .help(format!("bring the base in first (`git rebase {base_name}`), then move this branch's change to a new migration after the base's last one (`miglint renumber`)")),
        );
    }
    findings
}

/// `lock-rewritten`: the ledger is the merge-base's plus appended lines, and still exists.
fn ledger_grown(b: &BaseInput) -> Option<Finding> {
    let (set, now, merge_base, base_name) = (b.set, b.now, b.merge_base, b.base_name);
    match (&merge_base.ledger, &now.ledger) {
        (Some(before), Some(after)) => {
            let span = ledger_rewrite(before, after)?;
            Some(
                Finding::new(Rule::LockRewritten, format!("the ledger was rewritten: it is not {base_name}'s ledger plus appended lines"))
                    .file(set.lock.clone())
                    .at(span, "first rewritten line")
                    .help(format!("restore the base's lines (`git checkout {base_name} -- {}`) and only append with `miglint record`", set.lock)),
            )
        }
        (Some(_), None) => Some(
            Finding::new(
                Rule::LockRewritten,
                format!("the ledger exists in {base_name} and was deleted"),
            )
            .file(set.lock.clone())
            .help(format!(
                "restore it: `git checkout {base_name} -- {}`",
                set.lock
            )),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::MigrationFile;
    use std::sync::Arc;

    fn snap(files: &[(&str, &str)]) -> Snapshot {
        Snapshot {
            files: files
                .iter()
                .map(|(n, b)| {
                    MigrationFile::new(n.to_string(), format!("m/{n}"), Arc::from(b.as_bytes()))
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn finds_all_four() {
        let set = SetConfig::with_dir("m".into());
        let base = snap(&[
            ("0000_a.sql", "A;\n"),
            ("0001_b.sql", "B;\n"),
            ("0002_c.sql", "C;\n"),
            ("0003_d.sql", "D;\n"),
        ]);
        let tip = snap(&[
            ("0000_a.sql", "A;\n"),
            ("0001_b.sql", "B;\n"),
            ("0002_c.sql", "C;\n"),
            ("0003_d.sql", "D;\n"),
            ("0004_y.sql", "Y;\n"),
        ]);
        let now = snap(&[
            ("0000_a.sql", "A;\nX;\n"),
            ("0002_c2.sql", "C;\n"),
            ("0003_d.sql", "D;\n"),
            ("0004_x.sql", "X;\n"),
        ]);
        let migrations = crate::rules::naming::migrations;
        let mut base_migrations = migrations(&set, &base);
        base_migrations.extend(migrations(&set, &tip));
        let f = check_base(&BaseInput {
            set: &set,
            now: &now,
            migrations: &migrations(&set, &now),
            merge_base: &base,
            tip: &tip,
            base_migrations: &base_migrations,
            base_name: "origin/main",
        });
        let codes: Vec<_> = f.iter().map(|f| f.code()).collect();
        assert_eq!(
            codes,
            vec![
                "modified-after-merge",
                "deleted-after-merge",
                "renamed-after-merge",
                "number-conflict"
            ]
        );
        assert_eq!(f[0].span, Some(3..5));
        assert!(f[3].help.as_deref().unwrap().contains("0005_x.sql"));
    }

    #[test]
    fn ledger_append_only() {
        assert_eq!(ledger_rewrite(b"a\nb\n", b"a\nb\nc\n"), None);
        assert_eq!(ledger_rewrite(b"a\nb", b"a\nb\nc\n"), None);
        assert_eq!(ledger_rewrite(b"a\nb\n", b"a\nx\n"), Some(2..4));
        assert!(ledger_rewrite(b"a\nb\n", b"a\n").is_some());
    }
}

/// The migrations another open branch adds (relative to its merge-base with the base), as
/// the VCS reader finds them for `--against`.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The ref, as git names it (`refs/remotes/pr/12`).
    pub reference: String,
    /// File names it adds to the set.
    pub files: Vec<String>,
    /// `YYYY-MM-DD` of its last commit.
    pub date: String,
}

/// What the refs matched by `--against` globs hold: their claims, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub claims: Vec<Claim>,
    /// Refs matched but not read (shallow history, missing objects), with why: their claims are
    /// unknown, which is said, never passed over.
    pub unreadable: Vec<(String, String)>,
    /// Globs that matched no ref (a typo, or nothing fetched).
    pub unmatched: Vec<String>,
}

/// `against-unreadable` and `against-no-match`: what `--against` could not look at.
pub fn against_gaps(claims: &Claims) -> Vec<Finding> {
    let mut findings: Vec<Finding> = claims
        .unreadable
        .iter()
        .map(|(reference, why)| {
            Finding::new(
                Rule::AgainstUnreadable,
                format!("`{reference}` matches `--against` but could not be read ({why}): the numbers it claims are unknown"),
            )
            .reference(reference.clone())
            .help("fetch its full history (`git fetch --unshallow`, or `fetch-depth: 0`), or narrow the glob")
        })
        .collect();
    findings.extend(claims.unmatched.iter().map(|glob| {
        Finding::new(
            Rule::AgainstNoMatch,
            format!("`--against {glob}` matches no ref: no other branch was compared"),
        )
        .help("fetch the other branches' heads first (docs/git.md shows the refspecs), or check the glob")
    }));
    findings
}

/// `number-claimed`: a migration new on this branch takes a number (or a path) that another
/// open branch adds too. Whichever merges second meets `number-conflict`; said before either
/// merges, it is a rename on a branch, not a broken main.
pub fn number_claimed(set: &SetConfig, new: &[&Migration], claims: &[Claim]) -> Vec<Finding> {
    let convention = crate::naming::convention(set);
    let mut findings = Vec::new();
    for m in new {
        for claim in claims {
            let Some(other) = claim
                .files
                .iter()
                .find(|f| **f == m.name || convention.parse(f).is_ok_and(|p| p.number == m.number))
            else {
                continue;
            };
            findings.push(
                Finding::new(
                    Rule::NumberClaimed,
                    format!(
                        "`{}` takes number {}, which {} also adds as `{other}` (last commit {})",
                        m.name,
                        crate::naming::number_text(set, m.number),
                        claim.reference,
                        claim.date
                    ),
                )
                .file(m.path.clone())
                .reference(claim.reference.clone())
                .help("whichever branch merges second must renumber: agree on who takes it; once the other has merged, `miglint renumber` moves this one past it"),
            );
        }
    }
    findings
}
