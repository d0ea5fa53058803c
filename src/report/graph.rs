//! Pictures for reviewers (`miglint graph`, and the markdown report): each set's migration
//! sequence (applied, pending, new on this branch, conflicting numbers, applied or merged files
//! that were changed) and its Alembic revision
//! graph (heads, branch labels, merge points, the revision the SQL stamps and which migration
//! stamps it), as Mermaid (GitHub and GitLab render it inline) or Graphviz DOT.
//!
//! Large sets are trimmed to what a reviewer needs: the new, pending, conflicting and changed migrations,
//! the ends of the sequence and the last applied ones; the heads, stamped revisions and their
//! recent ancestors. Everything else folds into one "… N more" node, so a picture never becomes a
//! wall of hundreds of nodes.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::outcome::{AlembicPicture, Outcome, SequenceItem, SetSummary};

/// At most this many migrations are drawn per set (plus fold nodes).
const MAX_MIGRATIONS: usize = 24;
/// Revisions kept behind each head or stamped revision.
const ANCESTORS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Applied,
    Pending,
    New,
    Conflict,
    Head,
    Merge,
    Stamped,
    Fold,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Applied => "applied",
            Class::Pending => "pending",
            Class::New => "new",
            Class::Conflict => "conflict",
            Class::Head => "head",
            Class::Merge => "merge",
            Class::Stamped => "stamped",
            Class::Fold => "fold",
        }
    }

    /// (Mermaid style, DOT attributes).
    fn style(self) -> (&'static str, &'static str) {
        match self {
            Class::Applied => (
                "fill:#e6f4ea,stroke:#1e8e3e,color:#000",
                "style=filled, fillcolor=\"#e6f4ea\", color=\"#1e8e3e\"",
            ),
            Class::Pending => (
                "fill:#fff8e1,stroke:#f9a825,color:#000",
                "style=filled, fillcolor=\"#fff8e1\", color=\"#f9a825\"",
            ),
            Class::New => ("stroke-width:3px", "penwidth=3"),
            Class::Conflict => (
                "fill:#fdecea,stroke:#d93025,color:#000",
                "style=filled, fillcolor=\"#fdecea\", color=\"#d93025\"",
            ),
            Class::Head => (
                "stroke:#1a73e8,stroke-width:3px",
                "color=\"#1a73e8\", penwidth=3",
            ),
            Class::Merge => ("stroke-dasharray:4 2", "style=dashed"),
            Class::Stamped => (
                "fill:#e8f0fe,color:#000",
                "style=filled, fillcolor=\"#e8f0fe\"",
            ),
            Class::Fold => (
                "fill:#f1f3f4,stroke:#9aa0a6,color:#000",
                "style=\"filled,dotted\", fillcolor=\"#f1f3f4\"",
            ),
        }
    }
}

struct Node {
    id: String,
    lines: Vec<String>,
    classes: Vec<Class>,
}

struct Cluster {
    id: String,
    title: String,
    nodes: Vec<Node>,
}

struct Edge {
    from: String,
    to: String,
    label: Option<&'static str>,
    dotted: bool,
}

/// The picture of one set.
struct SetPicture {
    clusters: Vec<Cluster>,
    edges: Vec<Edge>,
}

/// Whether a set's picture says something a table cannot: Alembic is set up, a number
/// conflicts or a protected file changed (the markdown report embeds the graph only then).
pub fn worth_drawing(outcome: &Outcome, set: &SetSummary) -> bool {
    set.alembic.is_some() || !problems(outcome, set).is_empty()
}

/// What a reviewer must see on a migration's node, by path: its number conflicts (with the base,
/// another file or the applied order), or it changed after it was applied or merged.
type Problems<'a> = HashMap<&'a str, Vec<&'static str>>;

fn problems<'a>(outcome: &'a Outcome, set: &SetSummary) -> Problems<'a> {
    let paths: HashSet<&str> = set.sequence.iter().map(|m| m.path.as_str()).collect();
    let mut out: Problems = HashMap::new();
    for f in &outcome.findings {
        let Some(label) = f.rule.info().node else {
            continue;
        };
        if let Some(path) = f.file.as_deref().filter(|p| paths.contains(p)) {
            let labels = out.entry(path).or_default();
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    out
}

fn build(outcome: &Outcome, k: usize, set: &SetSummary) -> SetPicture {
    let mut picture = SetPicture {
        clusters: Vec::new(),
        edges: Vec::new(),
    };
    let problems = problems(outcome, set);
    let node_of = draw_sequence(&mut picture, k, set, &problems);
    draw_counterparts(&mut picture, k, outcome, &node_of);
    if let Some(a) = &set.alembic {
        draw_alembic(&mut picture, k, a, &node_of);
    }
    picture
}

/// Files a finding is about that the set does not hold (the base's migration with the same
/// number), each beside the node of the finding's file, with a dotted edge.
fn draw_counterparts(
    picture: &mut SetPicture,
    k: usize,
    outcome: &Outcome,
    node_of: &HashMap<&str, String>,
) {
    let mut cluster = Cluster {
        id: format!("s{k}o"),
        title: "not on this branch".into(),
        nodes: Vec::new(),
    };
    for f in &outcome.findings {
        let (Some(label), Some(to)) = (
            f.counterpart.as_ref(),
            f.file.as_deref().and_then(|p| node_of.get(p)),
        ) else {
            continue;
        };
        let id = format!("s{k}o{}", cluster.nodes.len());
        cluster.nodes.push(Node {
            id: id.clone(),
            lines: vec![label.clone()],
            classes: vec![Class::Conflict],
        });
        picture.edges.push(Edge {
            from: id,
            to: to.clone(),
            label: None,
            dotted: true,
        });
    }
    if !cluster.nodes.is_empty() {
        picture.clusters.push(cluster);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn edge(from: String, to: String) -> Edge {
    Edge {
        from,
        to,
        label: None,
        dotted: false,
    }
}

/// Indexes of the migrations a reviewer needs to see: the ends of the sequence, everything
/// pending, new, conflicting or changed, the last two applied and the last stamp. At most
/// [`MAX_MIGRATIONS`], keeping the first and last halves.
fn migrations_to_draw(set: &SetSummary, problems: &Problems) -> BTreeSet<usize> {
    let seq = &set.sequence;
    let last_recorded: Vec<usize> = seq
        .iter()
        .enumerate()
        .filter(|(_, m)| m.recorded)
        .map(|(i, _)| i)
        .rev()
        .take(2)
        .collect();
    let last_stamp = set
        .alembic
        .as_ref()
        .and_then(|a| a.stamps.last())
        .map(|(_, p)| p.as_str());
    let mut keep: Vec<usize> = (0..seq.len())
        .filter(|&i| {
            let m = &seq[i];
            i == 0
                || i + 1 == seq.len()
                || !m.recorded
                || m.new == Some(true)
                || problems.contains_key(m.path.as_str())
                || last_recorded.contains(&i)
                || last_stamp == Some(m.path.as_str())
        })
        .collect();
    if keep.len() > MAX_MIGRATIONS {
        let tail = keep.split_off(keep.len() - MAX_MIGRATIONS / 2);
        keep.truncate(MAX_MIGRATIONS / 2);
        keep.extend(tail);
    }
    let mut keep: BTreeSet<usize> = keep.into_iter().collect();
    // A fold node standing for one migration takes the room of that migration: draw it.
    let single_gaps: Vec<usize> = keep
        .iter()
        .filter(|&&i| !keep.contains(&(i + 1)) && keep.contains(&(i + 2)))
        .map(|&i| i + 1)
        .collect();
    keep.extend(single_gaps);
    keep
}

fn migration_node(id: String, m: &SequenceItem, problems: &Problems) -> Node {
    let mut classes = vec![if m.recorded {
        Class::Applied
    } else {
        Class::Pending
    }];
    let mut state = vec![if m.recorded { "applied" } else { "pending" }];
    if m.new == Some(true) {
        classes.push(Class::New);
        state.push("new on this branch");
    }
    if let Some(labels) = problems.get(m.path.as_str()) {
        classes.push(Class::Conflict);
        state.extend(labels);
    }
    Node {
        id,
        lines: vec![m.name().to_string(), state.join(", ")],
        classes,
    }
}

/// One node standing for the migrations `folded` that are not drawn.
fn fold_node(id: String, folded: &[SequenceItem]) -> Node {
    let n = folded.len();
    let applied = folded.iter().filter(|m| m.recorded).count();
    Node {
        id,
        lines: vec![
            format!("… {n} more migration{}", plural(n)),
            format!(
                "{} – {} ({applied} applied)",
                folded[0].name(),
                folded[n - 1].name()
            ),
        ],
        classes: vec![Class::Fold],
    }
}

/// Draws the migration sequence as a chain; returns the node id of each drawn migration's path.
fn draw_sequence<'a>(
    picture: &mut SetPicture,
    k: usize,
    set: &'a SetSummary,
    problems: &Problems,
) -> HashMap<&'a str, String> {
    let seq = &set.sequence;
    let keep = migrations_to_draw(set, problems);
    let mut cluster = Cluster {
        id: format!("s{k}m"),
        title: set.dir.clone(),
        nodes: Vec::new(),
    };
    let mut node_of: HashMap<&str, String> = HashMap::new();
    let mut previous: Option<String> = None;
    let mut i = 0;
    while i < seq.len() {
        let id = format!("s{k}m{i}");
        if keep.contains(&i) {
            cluster
                .nodes
                .push(migration_node(id.clone(), &seq[i], problems));
            node_of.insert(seq[i].path.as_str(), id.clone());
            i += 1;
        } else {
            let start = i;
            while i < seq.len() && !keep.contains(&i) {
                i += 1;
            }
            cluster.nodes.push(fold_node(id.clone(), &seq[start..i]));
        }
        if let Some(p) = previous.replace(id.clone()) {
            picture.edges.push(edge(p, id));
        }
    }
    picture.clusters.push(cluster);
    node_of
}

/// Indexes of the revisions drawn: each head and the last stamped revision, with up to
/// [`ANCESTORS`] generations behind them.
fn revisions_to_draw(a: &AlembicPicture, index: &HashMap<&str, usize>) -> HashSet<usize> {
    let mut kept: HashSet<usize> = HashSet::new();
    let mut frontier: Vec<(usize, usize)> = a
        .heads
        .iter()
        .chain(a.stamps.last().map(|(r, _)| r))
        .filter_map(|r| index.get(r.as_str()).map(|&i| (i, 0)))
        .collect();
    while let Some((i, depth)) = frontier.pop() {
        if !kept.insert(i) || depth >= ANCESTORS {
            continue;
        }
        for d in &a.revisions[i].1 {
            if let Some(&j) = index.get(d.as_str()) {
                frontier.push((j, depth + 1));
            }
        }
    }
    kept
}

fn revision_node(id: String, a: &AlembicPicture, i: usize, stamped: &HashSet<&str>) -> Node {
    let (revision, downs, labels) = &a.revisions[i];
    let mut lines = vec![revision.clone()];
    let mut classes = Vec::new();
    let mut notes = Vec::new();
    if a.heads.contains(revision) {
        classes.push(Class::Head);
        notes.push("head".to_string());
    }
    if downs.len() > 1 {
        classes.push(Class::Merge);
        notes.push("merge".to_string());
    }
    if stamped.contains(revision.as_str()) {
        classes.push(Class::Stamped);
        notes.push("stamped".to_string());
    }
    if !labels.is_empty() {
        notes.push(format!("branch: {}", labels.join(", ")));
    }
    if !notes.is_empty() {
        lines.push(notes.join(", "));
    }
    Node { id, lines, classes }
}

/// Draws the neighbourhood of the heads and the stamped revision; older revisions fold into one
/// node. `node_of` links the migration that stamps the last revision to it.
fn draw_alembic(
    picture: &mut SetPicture,
    k: usize,
    a: &AlembicPicture,
    node_of: &HashMap<&str, String>,
) {
    let index: HashMap<&str, usize> = a
        .revisions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.0.as_str(), i))
        .collect();
    let stamped: HashSet<&str> = a.stamps.iter().map(|(r, _)| r.as_str()).collect();
    let kept = revisions_to_draw(a, &index);
    let mut cluster = Cluster {
        id: format!("s{k}a"),
        title: format!("Alembic: {}", a.versions),
        nodes: Vec::new(),
    };
    let folded = a.revisions.len() - kept.len();
    let fold_id = format!("s{k}r_more");
    if folded > 0 {
        cluster.nodes.push(Node {
            id: fold_id.clone(),
            lines: vec![format!("… {folded} older revision{}", plural(folded))],
            classes: vec![Class::Fold],
        });
    }
    let mut folded_edge = false;
    for (i, (_, downs, _)) in a.revisions.iter().enumerate() {
        if !kept.contains(&i) {
            continue;
        }
        let node = format!("s{k}r{i}");
        cluster
            .nodes
            .push(revision_node(node.clone(), a, i, &stamped));
        for d in downs {
            match index.get(d.as_str()) {
                Some(&j) if kept.contains(&j) => {
                    picture.edges.push(edge(format!("s{k}r{j}"), node.clone()))
                }
                Some(_) if !folded_edge || downs.len() > 1 => {
                    folded_edge = true;
                    picture.edges.push(edge(fold_id.clone(), node.clone()));
                }
                _ => {}
            }
        }
    }
    // Kept revisions that folded ones descend from.
    let into_fold: BTreeSet<usize> = a
        .revisions
        .iter()
        .enumerate()
        .filter(|(i, _)| !kept.contains(i))
        .flat_map(|(_, (_, downs, _))| downs.iter().filter_map(|d| index.get(d.as_str())))
        .filter(|j| kept.contains(j))
        .copied()
        .collect();
    for j in into_fold {
        picture
            .edges
            .push(edge(format!("s{k}r{j}"), fold_id.clone()));
    }
    picture.clusters.push(cluster);
    // Which migration stamps the revision the database ends at (the last stamp).
    if let Some((revision, path)) = a.stamps.last() {
        if let (Some(from), Some(&j)) = (node_of.get(path.as_str()), index.get(revision.as_str())) {
            if kept.contains(&j) {
                picture.edges.push(Edge {
                    from: from.clone(),
                    to: format!("s{k}r{j}"),
                    label: Some("stamps"),
                    dotted: true,
                });
            }
        }
    }
}

fn pictures(outcome: &Outcome, only: Option<&SetSummary>) -> Vec<SetPicture> {
    outcome
        .sets
        .iter()
        .enumerate()
        .filter(|(_, s)| only.is_none_or(|o| std::ptr::eq(o, *s)))
        .map(|(k, s)| build(outcome, k, s))
        .collect()
}

/// Mermaid label text: quotes, angle brackets and backticks as entities; lines joined by `<br/>`.
fn mermaid_text(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| {
            let mut out = String::with_capacity(l.len());
            for c in l.chars() {
                match c {
                    '"' => out.push_str("#quot;"),
                    '<' => out.push_str("#lt;"),
                    '>' => out.push_str("#gt;"),
                    '`' => out.push_str("#96;"),
                    '#' => out.push_str("#35;"),
                    c if c.is_control() => out.push(' '),
                    c => out.push(c),
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// The Mermaid flowchart of every set (or only `set`).
pub fn mermaid(outcome: &Outcome, set: Option<&SetSummary>) -> String {
    let mut out = String::from("flowchart TD\n");
    let mut used: BTreeSet<&'static str> = BTreeSet::new();
    let mut class_lines = Vec::new();
    for p in pictures(outcome, set) {
        for c in &p.clusters {
            out.push_str(&format!(
                "  subgraph {}[\"{}\"]\n    direction TB\n",
                c.id,
                mermaid_text(std::slice::from_ref(&c.title))
            ));
            for n in &c.nodes {
                out.push_str(&format!("    {}[\"{}\"]\n", n.id, mermaid_text(&n.lines)));
                for class in &n.classes {
                    used.insert(class.name());
                    class_lines.push(format!("  class {} {}\n", n.id, class.name()));
                }
            }
            out.push_str("  end\n");
        }
        for e in &p.edges {
            let arrow = match (e.dotted, e.label) {
                (true, Some(l)) => format!("-. {l} .->"),
                (true, None) => "-.->".to_string(),
                (false, Some(l)) => format!("-- {l} -->"),
                (false, None) => "-->".to_string(),
            };
            out.push_str(&format!("  {} {arrow} {}\n", e.from, e.to));
        }
    }
    for class in [
        Class::Applied,
        Class::Pending,
        Class::New,
        Class::Conflict,
        Class::Head,
        Class::Merge,
        Class::Stamped,
        Class::Fold,
    ] {
        if used.contains(class.name()) {
            out.push_str(&format!(
                "  classDef {} {}\n",
                class.name(),
                class.style().0
            ));
        }
    }
    for l in class_lines {
        out.push_str(&l);
    }
    out
}

/// A DOT string literal.
fn dot_text(lines: &[String]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .map(|l| {
            l.chars()
                .map(|c| match c {
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    c if c.is_control() => " ".to_string(),
                    c => c.to_string(),
                })
                .collect()
        })
        .collect();
    format!("\"{}\"", escaped.join("\\n"))
}

/// The Graphviz DOT graph of every set.
pub fn dot(outcome: &Outcome) -> String {
    let mut out = String::from(
        "digraph miglint {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for p in pictures(outcome, None) {
        for c in &p.clusters {
            out.push_str(&format!(
                "  subgraph cluster_{} {{\n    label={};\n",
                c.id,
                dot_text(std::slice::from_ref(&c.title))
            ));
            for n in &c.nodes {
                let attrs: Vec<&str> = n.classes.iter().map(|c| c.style().1).collect();
                let extra = if attrs.is_empty() {
                    String::new()
                } else {
                    format!(", {}", attrs.join(", "))
                };
                out.push_str(&format!(
                    "    {} [label={}{extra}];\n",
                    n.id,
                    dot_text(&n.lines)
                ));
            }
            out.push_str("  }\n");
        }
        for e in &p.edges {
            let mut attrs = Vec::new();
            if e.dotted {
                attrs.push("style=dotted".to_string());
            }
            if let Some(l) = e.label {
                attrs.push(format!("label={}", dot_text(&[l.to_string()])));
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            out.push_str(&format!("  {} -> {}{attrs};\n", e.from, e.to));
        }
    }
    out.push_str("}\n");
    out
}
