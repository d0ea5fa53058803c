//! The Alembic rules. The graph's structure: `alembic-parse-error` (what the reader could not
//! read), `alembic-duplicate-revision`, `alembic-missing-revision`, `alembic-cycle`,
//! `alembic-multiple-heads`. The SQL's stamps against the graph: `alembic-head-mismatch`,
//! `alembic-unknown-revision`, `alembic-stamp-table`, `alembic-head-undeclared`,
//! `alembic-upgrade-at-start`.

use std::collections::{HashSet, VecDeque};

use crate::alembic::{Graph, Layout, Revision, Unreadable};
use crate::finding::Finding;
use crate::registry::Rule;
use crate::sql::stamps::StampKind;
use crate::sql::Stamp;

/// Every Alembic rule over a set's facts: what could not be read, the graph's structure, the
/// SQL's stamps against it, statements that write the version table in a form miglint cannot
/// evaluate, and the compose guard.
pub fn pass(facts: &crate::rules::SetFacts) -> Vec<Finding> {
    use crate::rules::{AlembicFacts, AlembicRead};
    let AlembicRead {
        layout,
        graph,
        unreadable: unreadable_files,
        compose,
    } = match facts.alembic {
        None => return Vec::new(),
        Some(AlembicFacts::Unreadable(u)) => return vec![unreadable(u.clone())],
        Some(AlembicFacts::Read(read)) => read.as_ref(),
    };
    let mut findings: Vec<Finding> = unreadable_files.iter().cloned().map(unreadable).collect();
    findings.extend(structure(graph, layout.expected_heads()));
    let stamps = set_stamps(facts.migrations, facts.analyses);
    findings.extend(check_stamps(layout, graph, &stamps));
    let declared_sql = layout.stamp == Some(crate::config::StampMode::Sql);
    for m in facts.migrations {
        if let (Some(a), Some(f)) = (facts.analyses.get(&m.name), facts.snapshot.file(&m.name)) {
            findings.extend(unverified_stamps(
                (&layout.version_table, declared_sql),
                graph,
                &m.path,
                &f.bytes,
                a,
            ));
        }
    }
    match compose {
        Some(Ok((path, text))) => {
            findings.extend(check_compose(path, text, &layout.migrate_at_start_var));
        }
        Some(Err(u)) => findings.push(unreadable(u.clone())),
        None => {}
    }
    findings
}

/// Every stamp of the set's SQL with its file's path, in migration order.
pub fn set_stamps(
    migrations: &[crate::rules::naming::Migration],
    analyses: &std::collections::HashMap<String, crate::sql::Analysis>,
) -> Vec<(String, Stamp)> {
    migrations
        .iter()
        .filter_map(|m| analyses.get(&m.name).map(|a| (m, a)))
        .flat_map(|(m, a)| a.stamps.iter().map(move |s| (m.path.clone(), s.clone())))
        .collect()
}

/// `alembic-parse-error`: what the reader found it cannot read statically.
pub fn unreadable(u: Unreadable) -> Finding {
    let mut f = Finding::new(Rule::AlembicParseError, u.message);
    if let Some(file) = u.file {
        f = f.file(file);
    }
    if let Some((span, label)) = u.at {
        f = f.at(span, label);
    }
    if !u.help.is_empty() {
        f = f.help(u.help);
    }
    f
}

/// The graph's structural rules: `alembic-duplicate-revision`, `alembic-missing-revision`,
/// `alembic-cycle`, `alembic-multiple-heads`. `expected_heads` is the number of heads the
/// set declares by design (`heads`/`branches` under [set.alembic]), 1 otherwise.
pub fn structure(g: &Graph, expected_heads: usize) -> Vec<Finding> {
    let mut findings: Vec<Finding> = g
        .duplicates
        .iter()
        .map(|(r, first)| {
            Finding::new(
                Rule::AlembicDuplicateRevision,
                format!(
                    "revision `{}` is defined twice: in {first} and {}",
                    r.id, r.file
                ),
            )
            .file(r.file.clone())
            .at(r.id_span.clone(), "duplicate id")
            .help(
                "give one of them a new revision id (and fix the down_revision that pointed at it)",
            )
        })
        .collect();
    findings.extend(missing(g));
    findings.extend(cycle(g));
    findings.extend(multiple_heads(g, expected_heads));
    findings
}

/// `alembic-missing-revision`: a `down_revision` or `depends_on` no file defines.
fn missing(g: &Graph) -> Vec<Finding> {
    let mut findings = Vec::new();
    let labels: HashSet<&str> = g
        .revisions
        .iter()
        .flat_map(|r| r.labels.iter().map(String::as_str))
        .collect();
    let any_unknown_labels = g.revisions.iter().any(|r| r.unknown_labels.is_some());
    for r in &g.revisions {
        for d in &r.down {
            if g.get(d).is_none() {
                findings.push(
                    Finding::new(Rule::AlembicMissingRevision, format!("revision `{}` names down_revision `{d}`, which no file defines", r.id))
                        .file(r.file.clone())
                        .at(r.down_span.clone(), "missing revision")
                        .help("restore the missing revision file, or point down_revision at an existing revision"),
                );
            }
        }
        for d in &r.depends_on {
            // A dependency may name a revision or a branch label; labels computed at runtime
            // cannot be known, so those are given the benefit of the doubt.
            if g.get(d).is_none() && !labels.contains(d.as_str()) && !any_unknown_labels {
                findings.push(
                    Finding::new(
                        Rule::AlembicMissingRevision,
                        format!(
                            "revision `{}` depends_on `{d}`, which no file defines",
                            r.id
                        ),
                    )
                    .file(r.file.clone())
                    .help("restore the missing revision, or fix depends_on"),
                );
            }
        }
    }
    findings
}

/// `alembic-multiple-heads`: more heads than the set declares by design.
fn multiple_heads(g: &Graph, expected_heads: usize) -> Option<Finding> {
    let heads = g.heads();
    if heads.len() > expected_heads {
        let first = g.get(heads[0]);
        let by_design = if expected_heads > 1 {
            format!(" ({expected_heads} by design)")
        } else {
            String::new()
        };
        let mut f = Finding::new(
            Rule::AlembicMultipleHeads,
            format!(
                "the Alembic graph has {} heads{by_design}: {}",
                heads.len(),
                heads.join(", ")
            ),
        )
        .help(format!(
            "join them with `alembic merge -m \"merge heads\" {}`, then stamp the merge revision",
            heads.join(" ")
        ));
        if let Some(r) = first {
            f = f
                .file(r.file.clone())
                .at(r.id_span.clone(), "one of the heads");
        }
        return Some(f);
    }
    None
}

/// Kahn's algorithm over down_revision edges (iterative: a 10,000-long chain is fine); what is
/// left over lies on a cycle.
fn cycle(g: &Graph) -> Option<Finding> {
    let n = g.revisions.len();
    let mut indegree = vec![0usize; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in g.revisions.iter().enumerate() {
        for d in &r.down {
            if let Some(p) = g.position(d) {
                children[p].push(i);
                indegree[i] += 1;
            }
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop_front() {
        seen += 1;
        for &c in &children[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    if seen == n {
        return None;
    }
    let members: Vec<&Revision> = (0..n)
        .filter(|&i| indegree[i] > 0)
        .map(|i| &g.revisions[i])
        .collect();
    let names: Vec<&str> = members.iter().take(8).map(|r| r.id.as_str()).collect();
    let first = members[0];
    Some(
        Finding::new(Rule::AlembicCycle, format!("the Alembic graph has a cycle through {}{}", names.join(", "), if members.len() > 8 { ", …" } else { "" }))
            .file(first.file.clone())
            .at(first.down_span.clone(), "part of the cycle")
            .help("one of these down_revision values points forward in history; point it at the revision this one was written after"),
    )
}

/// Whether a stamp's table is Alembic's version table `version_table` (`schema.table` or
/// `table`), resolving an unqualified name through the file's `search_path` (PostgreSQL's
/// default path ends in `public`).
pub fn targets(stamp: &Stamp, version_table: &str) -> bool {
    if stamp.table == version_table {
        return true;
    }
    match (stamp.table.split_once('.'), version_table.split_once('.')) {
        // Unqualified stamp, qualified table: the schema must be on the search_path.
        (None, Some((schema, table))) => {
            stamp.table == table
                && if stamp.search_path.is_empty() {
                    schema == "public"
                } else {
                    stamp.search_path.iter().any(|s| s == schema)
                }
        }
        // Qualified stamp, unqualified table (Alembic's default schema, public).
        (Some((schema, table)), None) => table == version_table && schema == "public",
        _ => false,
    }
}

/// `stamps` are (migration path, stamp) in migration order; the last write is the declared head
/// (with heads by design, the rows the SQL leaves in the table are the declared heads).
pub fn check_stamps(layout: &Layout, graph: &Graph, stamps: &[(String, Stamp)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let writes: Vec<&(String, Stamp)> = stamps
        .iter()
        .filter(|(_, s)| !matches!(s.kind, StampKind::Delete(_)))
        .collect();
    for (path, stamp) in &writes {
        findings.extend(stamp_target(layout, graph, path, stamp));
    }
    if layout.stamp == Some(crate::config::StampMode::Cli) {
        findings.extend(cli_stamped(layout, graph));
        return findings;
    }
    let versions = layout.versions.join(", ");
    let heads = graph.heads();
    let declared = writes
        .iter()
        .rev()
        .find(|(_, s)| targets(s, &layout.version_table))
        .or(writes.last())
        .copied();
    if layout.expected_heads() > 1 {
        findings.extend(check_branches(layout, graph, stamps));
    } else if let (Some((path, stamp)), [head]) = (declared, heads.as_slice()) {
        findings.extend(check_leftover_rows(layout, stamps, head));
        findings.extend(check_head_kept(layout, stamps, head));
        if stamp.revision != *head && graph.get(&stamp.revision).is_some() {
            findings.push(
                Finding::new(
                    Rule::AlembicHeadMismatch,
                    format!(
                        "stamps `{}` but the head of {versions} is `{head}`",
                        stamp.revision
                    ),
                )
                .file(path.clone())
                .at(stamp.span.clone(), format!("should be '{head}'"))
                .help(format!(
                    "stamp the head in a new migration: UPDATE {} SET version_num = '{head}';",
                    layout.version_table
                )),
            );
        }
    }
    match (&layout.head, declared, heads.as_slice()) {
        (Some(h), Some((path, stamp)), _) if *h != stamp.revision && layout.expected_heads() == 1 => findings.push(
            Finding::new(Rule::AlembicHeadMismatch, format!("miglint.toml declares head `{h}` but the SQL stamps `{}`", stamp.revision))
                .file(path.clone())
                .at(stamp.span.clone(), "last stamp")
                .help("update `head` under [set.alembic], or stamp it in a new migration"),
        ),
        (Some(h), None, [head]) if h != head => findings.push(
            Finding::new(Rule::AlembicHeadMismatch, format!("miglint.toml declares head `{h}` but the head of {versions} is `{head}`"))
                .help(format!("set `head = \"{head}\"` under [set.alembic]")),
        ),
        (None, None, _) => findings.push(
            Finding::new(Rule::AlembicHeadUndeclared, format!("Alembic is configured ({versions}) but no migration stamps {} and no `head` is declared", layout.version_table))
                .help(format!("stamp the head in the SQL: UPDATE {} SET version_num = '<head>'; (see `miglint alembic heads`)", layout.version_table)),
        ),
        _ => {}
    }
    findings
}

/// `stamp = "cli"`: `alembic stamp` runs at deploy, so the SQL's stamps (older ones, before the
/// team switched) declare nothing; the declared `head` must be the graph's head.
fn cli_stamped(layout: &Layout, graph: &Graph) -> Option<Finding> {
    let versions = layout.versions.join(", ");
    let heads = graph.heads();
    match (&layout.head, heads.as_slice()) {
        (None, _) => Some(
            Finding::new(Rule::AlembicHeadUndeclared, format!("`stamp = \"cli\"` says `alembic stamp` runs at deploy, but no `head` is declared for {versions}"))
                .help("declare the revision the deploy stamps: `head = \"<revision>\"` under [set.alembic] (see `miglint alembic heads`)"),
        ),
        (Some(h), [head]) if h != head => Some(
            Finding::new(Rule::AlembicHeadMismatch, format!("miglint.toml declares head `{h}` (stamped with `alembic stamp` at deploy) but the head of {versions} is `{head}`"))
                .help(format!("set `head = \"{head}\"` under [set.alembic], and stamp it at deploy: alembic stamp {head}")),
        ),
        _ => None,
    }
}

/// `alembic-stamp-table`, `alembic-unknown-revision`: one stamp's table and revision.
fn stamp_target(layout: &Layout, graph: &Graph, path: &str, stamp: &Stamp) -> Vec<Finding> {
    let mut findings = Vec::new();
    let versions = layout.versions.join(", ");
    if !targets(stamp, &layout.version_table) {
        findings.push(
            Finding::new(Rule::AlembicStampTable, format!("this stamp targets `{}`, but Alembic's version table is `{}`", stamp.table, layout.version_table))
                .file(path.to_string())
                .at(stamp.span.clone(), "stamped here")
                .help(format!("stamp `{}` (from env.py's version_table/version_table_schema, or `version_table` in miglint.toml)", layout.version_table)),
        );
    }
    if graph.get(&stamp.revision).is_none() {
        findings.push(
            Finding::new(
                Rule::AlembicUnknownRevision,
                format!(
                    "stamps revision `{}`, which no file in {versions} defines",
                    stamp.revision
                ),
            )
            .file(path.to_string())
            .at(stamp.span.clone(), "unknown revision")
            .help(match graph.heads().as_slice() {
                [head] => format!("the head is `{head}`; did you mean it?"),
                _ => "use a revision id from the versions directory".into(),
            }),
        );
    }
    findings
}

/// The rows the SQL leaves in the version table (sorted, distinct), replaying its inserts,
/// updates and deletes in migration order, and the newest statement that wrote a row.
fn replay<'a>(
    layout: &Layout,
    stamps: &'a [(String, Stamp)],
) -> (Vec<&'a str>, Option<&'a (String, Stamp)>) {
    let mut rows: Vec<&str> = Vec::new();
    let mut newest = None;
    for entry in stamps
        .iter()
        .filter(|(_, s)| targets(s, &layout.version_table))
    {
        let s = &entry.1;
        match &s.kind {
            StampKind::Insert => rows.push(&s.revision),
            // An UPDATE of every row: with one head per row this collapses them; on an empty
            // table (stamped outside the SQL) assume the row it updates exists.
            StampKind::Update => rows = vec![&s.revision],
            StampKind::Replace(old) => match rows.iter_mut().find(|r| **r == old) {
                Some(r) => *r = &s.revision,
                None => rows.push(&s.revision),
            },
            StampKind::Delete(None) => rows.clear(),
            StampKind::Delete(Some(old)) => rows.retain(|r| r != old),
        }
        if !matches!(s.kind, StampKind::Delete(_)) {
            newest = Some(entry);
        }
    }
    rows.sort_unstable();
    rows.dedup();
    (rows, newest)
}

/// One head: the newest stamp is the head, and no older row is left beside it. An INSERT that
/// does not replace the previous row leaves two, and Alembic refuses the table ("Requested
/// revision … overlaps with other requested revisions …").
fn check_leftover_rows(layout: &Layout, stamps: &[(String, Stamp)], head: &str) -> Option<Finding> {
    let (rows, newest) = replay(layout, stamps);
    let (path, stamp) = newest?;
    if stamp.revision != head || rows.len() < 2 || !rows.contains(&head) {
        return None;
    }
    let others: Vec<&str> = rows.iter().copied().filter(|r| *r != head).collect();
    Some(
        Finding::new(
            Rule::AlembicHeadMismatch,
            format!(
                "the SQL leaves {} in {} beside the head `{head}`: Alembic reads every row as a current revision and refuses overlapping ones",
                others.join(", "),
                layout.version_table
            ),
        )
        .file(path.clone())
        .at(stamp.span.clone(), "inserted beside the old row")
        .help(format!(
            "replace the row in a new migration: DELETE FROM {0} WHERE version_num <> '{head}'; (and stamp with UPDATE {0} SET version_num = '<head>' from now on)",
            layout.version_table
        )),
    )
}

/// `alembic-head-mismatch` when the head is stamped but a later statement (a `DELETE`, an
/// `UPDATE` to another revision) leaves the version table without it: what persists is what
/// counts, not the last write of the head.
fn check_head_kept(layout: &Layout, stamps: &[(String, Stamp)], head: &str) -> Option<Finding> {
    let (rows, newest) = replay(layout, stamps);
    let (_, stamp) = newest?;
    if stamp.revision != head || rows.contains(&head) {
        return None;
    }
    let (path, last) = stamps
        .iter()
        .rfind(|(_, s)| targets(s, &layout.version_table))?;
    let left = if rows.is_empty() {
        "no row".to_string()
    } else {
        rows.join(", ")
    };
    Some(
        Finding::new(
            Rule::AlembicHeadMismatch,
            format!(
                "the head `{head}` is stamped, but a later statement leaves {left} in {}",
                layout.version_table
            ),
        )
        .file(path.clone())
        .at(last.span.clone(), "removes the head's row")
        .help(format!(
            "stamp the head last, in a new migration: UPDATE {} SET version_num = '{head}';",
            layout.version_table
        )),
    )
}

/// Heads by design: the version table holds one row per head, so the rows the SQL leaves there
/// (replaying its inserts, updates and deletes in migration order) must be exactly the heads,
/// and, with `branches`, each head must be on the branch of one declared label.
fn check_branches(layout: &Layout, graph: &Graph, stamps: &[(String, Stamp)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let heads: Vec<&str> = graph.heads();
    if let Some(labels) = &layout.branches {
        for head in &heads {
            match graph.labels_of(head) {
                // Computed labels (neutron's `cli.EXPAND_BRANCH`): only the count can be checked.
                None => {}
                Some(found) if found.iter().any(|l| labels.contains(l)) => {}
                Some(found) => findings.push(
                    Finding::new(Rule::AlembicMultipleHeads, format!("head `{head}` is on no declared branch ({}); its labels: {}", labels.join(", "), if found.is_empty() { "none".to_string() } else { found.join(", ") }))
                        .help("merge it into one of the declared branches, or add its label to `branches` under [set.alembic]"),
                ),
            }
        }
    }
    let (stamped, newest) = replay(layout, stamps);
    if let Some((path, stamp)) = newest {
        if stamped != heads {
            findings.push(
                Finding::new(
                    Rule::AlembicHeadMismatch,
                    format!(
                        "the SQL leaves {} in {} but the heads are {}",
                        if stamped.is_empty() { "no row".to_string() } else { stamped.join(", ") },
                        layout.version_table,
                        heads.join(", ")
                    ),
                )
                .file(path.clone())
                .at(stamp.span.clone(), "newest stamp")
                .help(format!(
                    "the version table holds one row per head: UPDATE {} SET version_num = '<new head>' WHERE version_num = '<old head>'; for each branch that moved",
                    layout.version_table
                )),
            );
        }
    }
    findings
}

/// `alembic-stamp-unverified`: statements that write the version table (by name) but yielded no
/// stamp miglint could read: a `DO` block, dynamic SQL, an UPDATE/INSERT with a computed value.
pub fn unverified_stamps(
    (version_table, declared_sql): (&str, bool),
    graph: &Graph,
    path: &str,
    bytes: &[u8],
    analysis: &crate::sql::Analysis,
) -> Vec<Finding> {
    let table = version_table
        .rsplit('.')
        .next()
        .unwrap_or(version_table)
        .to_ascii_lowercase();
    let mut out = Vec::new();
    let starts: Vec<usize> = analysis.statements.iter().map(|s| s.span.start).collect();
    for (i, st) in analysis.statements.iter().enumerate() {
        let Some(text) = bytes.get(st.span.clone()) else {
            continue;
        };
        // A statement's stamps lie in its span, or (`COPY … FROM stdin`) in the rows after it.
        let reach = st.span.start..starts.get(i + 1).copied().unwrap_or(bytes.len());
        let lower = String::from_utf8_lossy(text).to_ascii_lowercase();
        if !lower.contains(&table) {
            continue;
        }
        let first = lower
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap_or("");
        let stamped = analysis
            .stamps
            .iter()
            .any(|s| !matches!(s.kind, StampKind::Delete(_)) && reach.contains(&s.span.start));
        let deleted = analysis
            .stamps
            .iter()
            .any(|s| matches!(s.kind, StampKind::Delete(_)) && reach.contains(&s.span.start));
        let writes = match first {
            "do" | "execute" | "call" | "merge" | "prepare" => true,
            "update" | "insert" | "copy" => !stamped,
            "delete" => !deleted,
            // A data-modifying CTE (`WITH s AS (UPDATE … RETURNING …) SELECT …`) or a WITH
            // statement whose own write is not a stamp miglint could read.
            "with" => {
                !stamped
                    && lower
                        .split(|c: char| !c.is_ascii_alphabetic())
                        .any(|w| matches!(w, "update" | "insert" | "merge"))
            }
            _ => false,
        };
        if writes {
            // A revision written as a literal (`DO $$ … version_num = 'b2' … $$`, a COPY row)
            // is judged by its value: a stale one is an error even though the statement is not
            // evaluated.
            if let Some(f) = stale_literal(version_table, graph, path, st.span.start, text) {
                out.push(f);
            }
            let mut f = Finding::new(Rule::AlembicStampUnverified, format!("this statement writes `{version_table}` in a form miglint cannot evaluate, so its stamp is not checked"))
                .file(path.to_string())
                .at(st.span.start..st.span.start + first.len().max(1), "not evaluated")
                .help(format!("stamp with a plain statement: UPDATE {version_table} SET version_num = '<head>'; (or INSERT … VALUES ('<head>'))"));
            // `stamp = "sql"`: the SQL is declared to be where the head is stamped, so a stamp
            // that cannot be read leaves the head unverified: an error, not a warning.
            if declared_sql {
                f.rating = Some(crate::registry::Rating::Required);
            }
            out.push(f);
        }
    }
    out.extend(unverified_meta_copies(
        version_table,
        &table,
        path,
        bytes,
        analysis,
        declared_sql,
    ));
    out
}

/// `alembic-stamp-unverified` for a psql `\copy` naming the version table whose rows yielded no
/// stamp (another format, an escape, a variable in its arguments): psql sends them all the same.
fn unverified_meta_copies(
    version_table: &str,
    table: &str,
    path: &str,
    bytes: &[u8],
    analysis: &crate::sql::Analysis,
    declared_sql: bool,
) -> Vec<Finding> {
    let text = String::from_utf8_lossy(bytes);
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for (at, _) in lower.match_indices("\\copy") {
        let line = &lower[at..lower[at..].find('\n').map_or(lower.len(), |e| at + e)];
        if !line.contains(table) || !line.contains("from") {
            continue;
        }
        // Its rows run to the line `\.`; a stamp read from them lies in between.
        let reach = at..lower[at..]
            .find("\n\\.")
            .map_or(lower.len(), |e| at + e + 1);
        if analysis
            .stamps
            .iter()
            .any(|s| reach.contains(&s.span.start))
        {
            continue;
        }
        let mut f = Finding::new(Rule::AlembicStampUnverified, format!("this `\\copy` writes `{version_table}` in a form miglint cannot evaluate, so its stamp is not checked"))
            .file(path.to_string())
            .at(at..at + "\\copy".len(), "not evaluated")
            .help(format!("stamp with a plain statement: UPDATE {version_table} SET version_num = '<head>'; (or INSERT … VALUES ('<head>'))"));
        if declared_sql {
            f.rating = Some(crate::registry::Rating::Required);
        }
        out.push(f);
    }
    out
}

/// `alembic-head-mismatch` for a statement miglint cannot evaluate that writes a known revision
/// as a literal, none of them a head: whatever the statement does, it can only stamp stale.
fn stale_literal(
    version_table: &str,
    graph: &Graph,
    path: &str,
    start: usize,
    text: &[u8],
) -> Option<Finding> {
    let text = String::from_utf8_lossy(text);
    let heads = graph.heads();
    let mut known: Vec<(usize, &str)> = Vec::new();
    let mut rest = text.as_ref();
    let mut offset = 0;
    while let Some(open) = rest.find('\'') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('\'') else { break };
        let literal = &after[..close];
        if graph.get(literal).is_some() {
            known.push((offset + open, literal));
        }
        offset += open + close + 2;
        rest = &after[close + 1..];
    }
    if known.is_empty() || known.iter().any(|(_, l)| heads.contains(l)) {
        return None;
    }
    let (at, literal) = known[known.len() - 1];
    Some(
        Finding::new(
            Rule::AlembicHeadMismatch,
            format!(
                "this statement writes `{literal}` to `{version_table}`, but the head is {}",
                heads
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .file(path.to_string())
        .at(start + at..start + at + literal.len() + 2, "not a head")
        .help(format!(
            "stamp the head with a plain statement in a new migration: UPDATE {version_table} SET version_num = '<head>';"
        )),
    )
}

/// Truthy values of an environment variable as compose files write them.
fn truthy(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']).trim();
    // `${VAR:-default}` / `${VAR-default}`: the default is what applies when nothing overrides it.
    let v = match v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner
            .split_once(":-")
            .or_else(|| inner.split_once('-'))
            .map_or("", |(_, d)| d),
        None => v,
    };
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

/// Finds `VAR: true` (mapping form) or `- VAR=true` (list form) in a compose file.
pub fn check_compose(path: &str, text: &str, var: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line
            .trim_start()
            .trim_start_matches("- ")
            .trim_start()
            .trim_start_matches(['"', '\'']);
        let Some(rest) = body.strip_prefix(var) else {
            continue;
        };
        let rest = rest.trim_start_matches(['"', '\'']);
        let Some(value) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else {
            continue;
        };
        let value = value.split(" #").next().unwrap_or("");
        if truthy(value) {
            let at = start + (line.len() - line.trim_start().len());
            findings.push(
                Finding::new(
                    Rule::AlembicUpgradeAtStart,
                    format!("{var} is enabled in {path}, but manual SQL is the source of truth"),
                )
                .file(path.to_string())
                .at(
                    at..start + line.trim_end().len(),
                    "runs `alembic upgrade` at start",
                )
                .help(format!(
                    "set {var} to false: the SQL migrations are the source of truth, and `alembic upgrade` would re-run DDL they already applied; keep Alembic aligned by stamping its version table"
                )),
            );
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_forms() {
        assert_eq!(
            check_compose(
                "c.yml",
                "environment:\n  MIGRATE_AT_START: \"true\"\n",
                "MIGRATE_AT_START"
            )
            .len(),
            1
        );
        assert_eq!(
            check_compose(
                "c.yml",
                "environment:\n  - MIGRATE_AT_START=1\n",
                "MIGRATE_AT_START"
            )
            .len(),
            1
        );
        assert!(check_compose(
            "c.yml",
            "  MIGRATE_AT_START: ${MIGRATE_AT_START:-false}\n",
            "MIGRATE_AT_START"
        )
        .is_empty());
        assert_eq!(
            check_compose(
                "c.yml",
                "  MIGRATE_AT_START: ${MIGRATE_AT_START:-true}\n",
                "MIGRATE_AT_START"
            )
            .len(),
            1
        );
        assert!(check_compose(
            "c.yml",
            "  MIGRATE_AT_START: \"false\"\n",
            "MIGRATE_AT_START"
        )
        .is_empty());
    }
}

#[cfg(test)]
mod graph_tests {
    use super::*;
    use crate::alembic::Revision;

    fn rev(id: &str, down: &[&str]) -> Revision {
        Revision {
            id: id.into(),
            down: down.iter().map(|s| s.to_string()).collect(),
            depends_on: vec![],
            labels: vec![],
            unknown_labels: None,
            file: format!("v/{id}.py"),
            id_span: 0..1,
            down_span: 0..1,
            upgrade: Ok(None),
        }
    }

    fn codes(revs: Vec<Revision>) -> Vec<&'static str> {
        structure(&Graph::build(revs), 1)
            .iter()
            .map(|f| f.code())
            .collect()
    }

    #[test]
    fn heads_and_merges() {
        let g = Graph::build(vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])]);
        assert_eq!(g.heads(), vec!["b", "c"]);
        let g = Graph::build(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
        ]);
        assert_eq!(g.heads(), vec!["m"]);
    }

    #[test]
    fn rules() {
        assert_eq!(
            codes(vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])]),
            vec!["alembic-multiple-heads"]
        );
        assert_eq!(
            codes(vec![rev("a", &["zz"])]),
            vec!["alembic-missing-revision"]
        );
        assert_eq!(
            codes(vec![rev("a", &[]), rev("a", &[])]),
            vec!["alembic-duplicate-revision"]
        );
        assert!(
            codes(vec![rev("a", &["b"]), rev("b", &["a"]), rev("c", &[])])
                .contains(&"alembic-cycle")
        );
    }

    #[test]
    fn long_chain_is_fine() {
        let mut revs = vec![rev("r0", &[])];
        for i in 1..10_000 {
            revs.push(rev(&format!("r{i}"), &[&format!("r{}", i - 1)]));
        }
        assert!(codes(revs).is_empty());
    }
}
