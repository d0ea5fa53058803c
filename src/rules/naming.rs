//! `invalid-name`, `duplicate-number`, `number-gap`: the file names of one snapshot.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::naming;
use crate::registry::Rule;
use crate::snapshot::Snapshot;

/// A correctly named migration of a snapshot, in migration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub name: String,
    pub path: String,
    pub number: u64,
    pub slug: String,
    /// How many digits the number is written with (timestamp sets compare widths).
    pub digits: usize,
    /// One half of a reversible pair (`.up.sql` / `.down.sql`): its other half is expected.
    pub paired: bool,
}

/// The correctly named migrations of a snapshot, sorted by (number, name): the files a deploy
/// applies, in its order. Pure and cheap; used wherever another snapshot (a base, a commit) must
/// be compared with this one. A layout's reverting files (`.down.sql`) are not among them: see
/// [`downs`].
pub fn migrations(set: &SetConfig, snap: &Snapshot) -> Vec<Migration> {
    parsed(set, snap, naming::Direction::Up)
}

/// The correctly named files that revert a migration (golang-migrate's `.down.sql`), sorted
/// like [`migrations`]; none in a plain set. They are read and checked as SQL, never replayed.
pub fn downs(set: &SetConfig, snap: &Snapshot) -> Vec<Migration> {
    parsed(set, snap, naming::Direction::Down)
}

fn parsed(set: &SetConfig, snap: &Snapshot, direction: naming::Direction) -> Vec<Migration> {
    let convention = naming::convention(set);
    let mut out: Vec<Migration> = Vec::with_capacity(snap.files.len() + snap.unreadable.len());
    out.extend(
        snap.files
            .iter()
            .map(|f| (&f.name, &f.path))
            .chain(snap.unreadable.iter().map(|u| (&u.name, &u.path)))
            .filter_map(|(name, path)| {
                let p = convention.parse(name).ok()?;
                (p.direction == direction).then(|| Migration {
                    name: name.clone(),
                    path: path.clone(),
                    number: p.number,
                    digits: p.digits.len(),
                    slug: p.slug,
                    paired: p.paired,
                })
            }),
    );
    out.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    out
}

/// The name the next migration after `last` would get, for help texts.
pub fn next_name(set: &SetConfig, last: Option<u64>, slug: &str) -> String {
    let convention = naming::convention(set);
    convention.format(convention.next(last, std::time::SystemTime::now()), slug)
}

/// "rename it to" advice for migration `m` given the next free number after `last`: its new
/// name in backquotes (title, direction and extension kept), and for one half of a reversible
/// pair, a reminder that its down file moves too (a lone renamed up would leave its down
/// behind, paired with nothing).
pub fn rename_to(set: &SetConfig, last: Option<u64>, m: &Migration) -> String {
    let convention = naming::convention(set);
    names_for(set, convention.next(last, std::time::SystemTime::now()), m)
}

/// The advice of [`rename_to`] for number `n`.
pub fn names_for(set: &SetConfig, n: u64, m: &Migration) -> String {
    let name = naming::renamed(set, &m.name, m.digits, n);
    if m.paired {
        format!(
            "`{name}` (and its down file to version {})",
            naming::number_text(set, n)
        )
    } else {
        format!("`{name}`")
    }
}

/// `empty-set`, `invalid-name` and `duplicate-number` over one snapshot's file names;
/// `migrations` is [`migrations`] of the snapshot (parsed once by the caller); `ledger` says
/// which names are recorded (they keep their names).
pub fn check(
    set: &SetConfig,
    snap: &Snapshot,
    (migrations, downs): (&[Migration], &[Migration]),
    ledger: &crate::ledger::Ledger,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if snap.files.is_empty() && snap.unreadable.is_empty() {
        findings.push(
            Finding::new(
                Rule::EmptySet,
                format!("the set `{}` holds no migration (no .sql file in {})", set.name, set.dir),
            )
            .help(format!(
                "point `dir` at the directory that holds the numbered .sql files, or create the first one with `miglint new init{}`",
                if set.name == set.dir { String::new() } else { format!(" --set {}", set.name) }
            )),
        );
    }
    findings.extend(invalid_names(set, snap, ledger));
    // miglint's own convention only: the tools read any width (`goose fix` mixes them).
    if set.numbering == crate::config::Numbering::Timestamp
        && set.layout == crate::config::Layout::Plain
    {
        findings.extend(odd_timestamp_widths(set, migrations));
    }
    findings.extend(duplicate_numbers(set, migrations, false));
    // Two `.down.` files of one version: golang-migrate refuses to start (duplicate migration).
    findings.extend(duplicate_numbers(set, downs, true));
    findings
}

/// The numbers of `range` no file or ledger entry takes: the first, the last and how many, as
/// a range, never as a list (`width = 12` allows a gap of 10^12 numbers).
fn missing(ctx: &Context, range: std::ops::Range<u64>) -> Option<(u64, u64, u64)> {
    let free = |n: &u64| !ctx.taken.contains(n);
    let first = range.clone().find(free)?;
    let last = range.clone().rev().find(free)?;
    let taken_inside = ctx.taken.range(range.clone()).count() as u64;
    Some((
        first,
        last,
        (range.end - range.start).saturating_sub(taken_inside),
    ))
}

/// `invalid-name`: files the convention cannot read, with the name they should have. A recorded
/// file keeps its name (renamed, an applier would take it for a new migration and run it again):
/// for it the finding is a warning that says so, never a rename.
fn invalid_names(set: &SetConfig, snap: &Snapshot, ledger: &crate::ledger::Ledger) -> Vec<Finding> {
    let names = snap
        .files
        .iter()
        .map(|f| (&f.name, &f.path))
        .chain(snap.unreadable.iter().map(|u| (&u.name, &u.path)));
    let convention = naming::convention(set);
    let mut findings = Vec::new();
    for (name, path) in names {
        if let Err(e) = convention.parse(name) {
            let expected = convention.pattern();
            let suggestion = match (e.number, &e.slug) {
                // A number wider than the set's `width` has no name in this set: formatting it
                // gives the file its own name back.
                (Some(n), Some(slug))
                    if naming::is_slug(slug) && naming::format(set, n, slug) != **name =>
                {
                    format!("rename it to `{}`", naming::format(set, n, slug))
                }
                (Some(_), Some(_)) if e.reason.contains("digits") => format!(
                    "its number does not fit the set's {} digits: rename it with the next free number, or raise `width` in miglint.toml if the set really uses wider numbers",
                    set.width
                ),
                _ => format!("rename it to `{expected}`"),
            };
            let finding = Finding::new(
                Rule::InvalidName,
                format!("`{name}` is not a valid migration name: {}", e.reason),
            )
            .file(path.clone());
            let mut finding = finding.help(format!(
                "{suggestion}; every .sql file in {} must be named {expected}",
                set.dir
            ));
            if ledger.get(name).is_some() {
                keeps_name(set, &mut finding, "it is recorded, so it keeps its name: renamed, an applier would take it for a new migration and run it again");
            }
            findings.push(finding);
        }
    }
    findings
}

/// `baseline-covers-new`: files numbered at or below the set's `baseline` that the merge-base
/// does not have and the ledger does not record. A baseline stands for legacy files that exist;
/// a new file under it would skip the parse check, so the engine checks it anyway.
pub fn baseline_covers_new<'a>(
    set: &SetConfig,
    migrations: &'a [Migration],
    merge_base: &Snapshot,
    recorded: &dyn Fn(&str) -> bool,
    base_name: &str,
) -> Vec<(&'a Migration, Finding)> {
    let Some(baseline) = set.baseline else {
        return Vec::new();
    };
    migrations
        .iter()
        .filter(|m| m.number <= baseline)
        .filter(|m| merge_base.file(&m.name).is_none() && !recorded(&m.name))
        .map(|m| {
            let f = Finding::new(
                Rule::BaselineCoversNew,
                format!(
                    "`{}` is new on this branch (not on {base_name}) but numbered at or below the baseline {baseline:0width$}: a baseline covers only legacy files that already exist, so it was parse-checked anyway",
                    m.name,
                    width = set.width
                ),
            )
            .file(m.path.clone())
            .help("number it after the last migration (`miglint new`, or `miglint renumber`); a baseline is for files that exist at the base");
            (m, f)
        })
        .collect()
}

/// `invalid-name` on a file the merge-base already has: renaming it would be
/// `renamed-after-merge` (a new migration to every environment that ran it), so it keeps its
/// name, as a warning, like a recorded one.
pub fn keep_merged_names(set: &SetConfig, findings: &mut [Finding], merge_base: &Snapshot) {
    let merged: HashSet<&str> = merge_base.files.iter().map(|f| f.path.as_str()).collect();
    for f in findings.iter_mut().filter(|f| {
        f.rule == Rule::InvalidName
            && f.rating.is_none()
            && f.file.as_deref().is_some_and(|p| merged.contains(p))
    }) {
        keeps_name(set, f, "it is merged, so it keeps its name: renamed, it would be a new migration to every environment that ran it");
    }
}

/// An `invalid-name` finding about a file that must keep its name (`why`): a warning whose help
/// never proposes a rename, only the pattern for new migrations.
fn keeps_name(set: &SetConfig, f: &mut Finding, why: &str) {
    let pattern = naming::convention(set).pattern();
    f.help = Some(format!(
        "{why}; new migrations in {} are named {pattern}",
        set.dir
    ));
    f.rating = Some(crate::registry::Rating::Protected);
}

/// `invalid-name`: a timestamp set has one width, that of most of its files. `2024_c.sql` beside
/// `20240101120000_a.sql` sorts as if it were from the year 2024 AD's first second.
fn odd_timestamp_widths(set: &SetConfig, migrations: &[Migration]) -> Vec<Finding> {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for m in migrations {
        *counts.entry(m.digits).or_default() += 1;
    }
    let Some(usual) = counts
        .iter()
        .max_by_key(|(w, n)| (**n, **w))
        .map(|(w, _)| *w)
    else {
        return Vec::new();
    };
    migrations
        .iter()
        .filter(|m| m.digits != usual)
        .map(|m| {
            Finding::new(
                Rule::InvalidName,
                format!(
                    "`{}` has a {}-digit timestamp; this set's have {usual}",
                    m.name, m.digits
                ),
            )
            .file(m.path.clone())
            .help(format!(
                "rename it with the UTC time it was written, e.g. `{}`",
                next_name(set, None, &m.slug)
            ))
        })
        .collect()
}

/// `duplicate-number`: every file after the first with a number, and the next free name.
fn duplicate_numbers(set: &SetConfig, migrations: &[Migration], downs: bool) -> Vec<Finding> {
    let mut by_number: BTreeMap<u64, Vec<&Migration>> = BTreeMap::new();
    for m in migrations {
        by_number.entry(m.number).or_default().push(m);
    }
    let last = by_number.keys().next_back().copied();
    let mut findings = Vec::new();
    for group in by_number.values().filter(|g| g.len() > 1) {
        for (i, m) in group.iter().enumerate().skip(1) {
            findings.push(
                Finding::new(
                    Rule::DuplicateNumber,
                    format!(
                        "`{}` reuses number {} of `{}`",
                        m.name,
                        naming::number_text(set, m.number),
                        group[0].name
                    ),
                )
                .file(m.path.clone())
                .help(if downs {
                    "a version has one down file: if it reverts another migration, give it that migration's version; otherwise delete it".to_string()
                } else {
                    let last = last.map(|l| l + i as u64 - 1);
                    format!("give it the next free number: rename it to {}", rename_to(set, last, m))
                }),
            );
        }
    }
    findings
}

/// What the numbering of a set is judged against, beyond its own files: the numbers the base
/// branch already holds (taken, even when this branch does not have those files yet) and the
/// names that are recorded or merged (protected: no advice may propose renaming them).
#[derive(Debug, Default)]
pub struct Context<'a> {
    pub taken: BTreeSet<u64>,
    pub protected: HashSet<&'a str>,
}

/// `number-gap` as a set pass.
pub fn gaps_pass(facts: &super::SetFacts) -> Vec<Finding> {
    gaps(facts.set, facts.migrations, facts.numbering)
}

/// `number-gap`: sequential numbers that nobody holds, neither this snapshot nor the base.
pub fn gaps(set: &SetConfig, migrations: &[Migration], ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !naming::convention(set).consecutive() {
        return findings;
    }
    let mut held: BTreeMap<u64, &Migration> = BTreeMap::new();
    for m in migrations {
        held.entry(m.number).or_insert(m);
    }
    let mut expected = set.start;
    let mut previous: Option<&Migration> = None;
    for m in held.values().copied() {
        if m.number < set.start {
            findings.push(
                Finding::new(
                    Rule::NumberGap,
                    format!(
                        "`{}` is numbered below the set's start ({})",
                        m.name,
                        naming::number_text(set, set.start)
                    ),
                )
                .file(m.path.clone())
                .help(format!(
                    "numbers start at {}; set `start` in miglint.toml if this set starts lower",
                    naming::number_text(set, set.start)
                )),
            );
            continue;
        }
        if let Some((first, last, missing_count)) = missing(ctx, expected..m.number) {
            let what = if first == last {
                format!("number {} is missing", naming::number_text(set, first))
            } else {
                format!(
                    "numbers {}–{} are missing",
                    naming::number_text(set, first),
                    naming::number_text(set, last)
                )
            };
            let after = previous.map_or("the set starts with it".to_string(), |p| {
                format!("it follows `{}`", p.name)
            });
            // The missing file's name is unknown here: give the command that finds it.
            let restore = format!(
                "if a migration was deleted, restore it: `git log --diff-filter=D --name-only --oneline -- {}` lists deleted files and the commits that deleted them",
                set.dir
            );
            let help = if ctx.protected.contains(m.name.as_str()) {
                format!(
                    "{restore}; `{}` is already applied or merged and keeps its number",
                    m.name
                )
            } else if missing_count == m.number - first {
                format!(
                    "if `{}` is new on this branch, rename it to `{}`; otherwise {restore}",
                    m.name,
                    naming::format(set, first, &m.slug)
                )
            } else {
                restore
            };
            findings.push(
                Finding::new(
                    Rule::NumberGap,
                    format!("{what} before `{}` ({after})", m.name),
                )
                .file(m.path.clone())
                .help(help),
            );
        }
        expected = m.number + 1;
        previous = Some(m);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::MigrationFile;

    fn snap(names: &[&str]) -> Snapshot {
        Snapshot {
            files: names
                .iter()
                .map(|n| {
                    MigrationFile::new(
                        n.to_string(),
                        format!("m/{n}"),
                        std::sync::Arc::from(&b"SELECT 1;"[..]),
                    )
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    fn codes(names: &[&str]) -> Vec<(&'static str, String)> {
        let set = SetConfig::with_dir("m".into());
        let s = snap(names);
        check(&set, &s, (&migrations(&set, &s), &[]), &Default::default())
            .into_iter()
            .chain(gaps(&set, &migrations(&set, &s), &Context::default()))
            .map(|f| (f.code(), f.file.unwrap()))
            .collect()
    }

    #[test]
    fn clean_set() {
        assert!(codes(&["0000_a.sql", "0001_b.sql"]).is_empty());
    }

    #[test]
    fn gap_duplicate_and_bad_name() {
        let got = codes(&[
            "0000_a.sql",
            "0001_b.sql",
            "0001_c.sql",
            "0003_d.sql",
            "Bad.sql",
        ]);
        assert!(got.contains(&("invalid-name", "m/Bad.sql".into())));
        assert!(got.contains(&("duplicate-number", "m/0001_c.sql".into())));
        assert!(got.contains(&("number-gap", "m/0003_d.sql".into())));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn gap_help_names_the_expected_file() {
        let set = SetConfig::with_dir("m".into());
        let s = snap(&["0000_a.sql", "0002_b.sql"]);
        let f = gaps(&set, &migrations(&set, &s), &Context::default());
        assert!(f[0].help.as_deref().unwrap().contains("0001_b.sql"));
        // A protected file is never proposed for a rename; numbers the base holds are no gap.
        let mut ctx = Context::default();
        ctx.protected.insert("0002_b.sql");
        let f = gaps(&set, &migrations(&set, &s), &ctx);
        assert!(
            !f[0].help.as_deref().unwrap().contains("rename"),
            "{:?}",
            f[0].help
        );
        ctx.taken.insert(1);
        assert!(gaps(&set, &migrations(&set, &s), &ctx).is_empty());
    }
}
