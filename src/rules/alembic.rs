//! `alembic-head-mismatch`, `alembic-unknown-revision`, `alembic-stamp-table`,
//! `alembic-head-undeclared`, `alembic-upgrade-at-start`: the SQL's stamps against the graph.

use crate::alembic::{Graph, Layout};
use crate::finding::Finding;
use crate::rules::Rule;
use crate::sql::Stamp;

/// `stamps` are (migration path, stamp) in migration order; the last one is the declared head.
pub fn check_stamps(layout: &Layout, graph: &Graph, stamps: &[(String, Stamp)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let versions = layout.versions.join(", ");
    for (path, stamp) in stamps {
        if stamp.table != layout.version_table {
            findings.push(
                Finding::new(Rule::AlembicStampTable, format!("this stamp targets `{}`, but Alembic's version table is `{}`", stamp.table, layout.version_table))
                    .file(path.clone())
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
                .file(path.clone())
                .at(stamp.span.clone(), "unknown revision")
                .help(match graph.heads().as_slice() {
                    [head] => format!("the head is `{head}`; did you mean it?"),
                    _ => "use a revision id from the versions directory".into(),
                }),
            );
        }
    }
    let heads = graph.heads();
    let declared = stamps.last();
    if let (Some((path, stamp)), [head]) = (declared, heads.as_slice()) {
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
        (Some(h), Some((path, stamp)), _) if *h != stamp.revision => findings.push(
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
                    "set {var} to false; keep Alembic aligned with stamps only (see the seed note)"
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
