//! `check --history`: an audit of HEAD's first-parent history, oldest first. A migration never
//! changes after its first commit, and the ledger is only ever appended to. Commits whose set
//! directory and ledger have the same tree/blob ids as their parent's are skipped without being
//! read, so a 100,000-commit history costs one tree lookup per commit.

use std::collections::HashMap;

use git2::{Oid, Repository, Sort};

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::git::short;
use crate::rules::git::ledger_rewrite;
use crate::rules::Rule;
use crate::snapshot::is_migration_name;
use crate::Fatal;

fn git_err(e: git2::Error) -> Fatal {
    Fatal::new(
        Rule::IoError,
        format!("cannot walk the history: {}", e.message()),
        "check the repository with `git fsck`",
    )
}

/// `YYYY-MM-DD` of a git commit time.
pub fn date(time: git2::Time) -> String {
    let secs = time.seconds() + i64::from(time.offset_minutes()) * 60;
    let ts = crate::naming::utc_timestamp(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64),
    )
    .to_string();
    if ts.len() == 14 {
        format!("{}-{}-{}", &ts[..4], &ts[4..6], &ts[6..8])
    } else {
        ts
    }
}

fn id_at(tree: &git2::Tree, path: &str) -> Option<Oid> {
    tree.get_path(std::path::Path::new(path))
        .ok()
        .map(|e| e.id())
}

pub fn audit(repo: &Repository, set: &SetConfig) -> crate::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) else {
        return Ok(findings);
    };
    if repo.is_shallow() {
        return Err(Fatal::new(
            Rule::ShallowClone,
            "--history needs the full history, and this is a shallow clone",
            "fetch the full history: `fetch-depth: 0` for actions/checkout, or `git fetch --unshallow`",
        ));
    }
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push(head.id()).map_err(git_err)?;
    walk.simplify_first_parent().map_err(git_err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;

    // For each migration name: the blob it had when first committed, and the blob it has now.
    let mut first: HashMap<String, Oid> = HashMap::new();
    let mut current: HashMap<String, Oid> = HashMap::new();
    let mut last_dir: Option<Oid> = None;
    let mut last_ledger: Option<Oid> = None;
    let mut ledger_bytes: Option<Vec<u8>> = None;
    let mut last_dir_tree: Option<git2::Tree> = None;

    for oid in walk {
        let oid = oid.map_err(git_err)?;
        let commit = repo.find_commit(oid).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        let dir = id_at(&tree, &set.dir);
        let ledger = id_at(&tree, &set.lock);
        let describe = || {
            let a = commit.author();
            format!(
                "commit {} by {} on {}",
                short(oid),
                a.name().unwrap_or("?"),
                date(commit.time())
            )
        };
        if dir != last_dir {
            let dir_tree = dir.and_then(|d| repo.find_tree(d).ok());
            let diff = repo
                .diff_tree_to_tree(last_dir_tree.as_ref(), dir_tree.as_ref(), None)
                .map_err(git_err)?;
            for delta in diff.deltas() {
                let file = delta.new_file();
                let Some(name) = file.path().and_then(|p| p.to_str()) else {
                    continue;
                };
                if name.contains('/') || !is_migration_name(name) {
                    continue;
                }
                if delta.status() == git2::Delta::Deleted {
                    current.remove(name);
                    continue;
                }
                let blob = file.id();
                match first.get(name) {
                    None => {
                        first.insert(name.to_string(), blob);
                    }
                    Some(&orig) if blob != current.get(name).copied().unwrap_or(orig) => {
                        let before = current.get(name).copied().unwrap_or(orig);
                        let finding = Finding::new(Rule::RewrittenInHistory, format!("`{name}` was changed after it was first committed: {}", describe()))
                            .file(crate::config::join(&set.dir, name))
                            .help(format!("every environment deployed before {} ran the old text; from now on, change schemas only with new migrations", short(oid)));
                        let finding = match (repo.find_blob(before), repo.find_blob(blob)) {
                            (Ok(old), Ok(new)) => crate::rules::edits::annotate(
                                set,
                                finding,
                                old.content(),
                                new.content(),
                            ),
                            _ => finding,
                        };
                        findings.push(finding);
                    }
                    Some(_) => {}
                }
                current.insert(name.to_string(), blob);
            }
            last_dir = dir;
            last_dir_tree = dir_tree;
        }
        if ledger != last_ledger {
            let bytes = ledger
                .and_then(|l| repo.find_blob(l).ok())
                .map(|b| b.content().to_vec());
            if let (Some(before), Some(after)) = (&ledger_bytes, &bytes) {
                if ledger_rewrite(before, after).is_some() {
                    findings.push(
                        Finding::new(Rule::LockRewritten, format!("the ledger was rewritten (not only appended to) in {}", describe()))
                            .file(set.lock.clone())
                            .help("recorded entries are history: restore the rewritten lines in a new commit"),
                    );
                }
            } else if ledger_bytes.is_some() && bytes.is_none() {
                findings.push(
                    Finding::new(
                        Rule::LockRewritten,
                        format!("the ledger was deleted in {}", describe()),
                    )
                    .file(set.lock.clone())
                    .help("restore the ledger in a new commit"),
                );
            }
            ledger_bytes = bytes;
            last_ledger = ledger;
        }
    }
    Ok(findings)
}
