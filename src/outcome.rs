//! What a check yields, for every reporter: the findings, the bytes their spans point into, and
//! a summary per set (counts, the migration sequence, the Alembic picture). Below the engine and
//! the reports, so reports never depend on the engine.

use std::collections::HashMap;
use std::sync::Arc;

use crate::finding::{Finding, Severity};
use crate::Fatal;

/// Everything a reporter needs: the findings and the bytes their spans point into.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub sources: HashMap<String, Arc<[u8]>>,
    pub files: usize,
    /// The base the git checks compared against, for `status` and summaries.
    pub base: Option<String>,
    /// One row per checked set, for summaries (the markdown report).
    pub sets: Vec<SetSummary>,
}

/// What a reviewer wants at a glance about one set.
#[derive(Debug, Default, Clone)]
pub struct SetSummary {
    pub name: String,
    pub dir: String,
    /// The revision the SQL stamps last (whether or not Alembic is set up).
    pub stamped: Option<String>,
    /// Every migration in order, with what the counts and pictures are made of.
    pub sequence: Vec<SequenceItem>,
    /// The Alembic revision graph and where the SQL stamps it (when Alembic is set up).
    pub alembic: Option<AlembicPicture>,
    /// What the migrations new on this branch do to the schema (against a base, when they
    /// change anything the replay models).
    pub schema_change: Option<crate::schema::SchemaChange>,
}

impl SetSummary {
    pub fn migrations(&self) -> usize {
        self.sequence.len()
    }

    pub fn recorded(&self) -> usize {
        self.sequence.iter().filter(|m| m.recorded).count()
    }

    pub fn pending(&self) -> usize {
        self.migrations() - self.recorded()
    }

    /// Migrations the base does not have (empty when no base was used).
    pub fn new_on_branch(&self) -> Vec<&str> {
        self.sequence
            .iter()
            .filter(|m| m.new == Some(true))
            .map(|m| m.name())
            .collect()
    }

    /// The Alembic graph's heads (when Alembic is set up).
    pub fn alembic_heads(&self) -> Option<&[String]> {
        self.alembic.as_ref().map(|a| a.heads.as_slice())
    }
}

/// One migration of a set, as a picture shows it. Only the path is held (a set of 100,000
/// migrations keeps one string per migration here); the name is its last component.
#[derive(Debug, Clone)]
pub struct SequenceItem {
    pub path: String,
    pub recorded: bool,
    /// Not on the base (`None` when no base was used).
    pub new: Option<bool>,
}

impl SequenceItem {
    /// The file name.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// The Alembic graph as a picture shows it.
#[derive(Debug, Default, Clone)]
pub struct AlembicPicture {
    pub versions: String,
    /// (id, down revisions, branch labels), in file order.
    pub revisions: Vec<(String, Vec<String>, Vec<String>)>,
    pub heads: Vec<String>,
    /// (revision, the migration path that stamps it), in migration order.
    pub stamps: Vec<(String, String)>,
}

impl Outcome {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn fatal(fatal: Fatal) -> Outcome {
        let mut o = Outcome::default();
        if let (Some(file), Some(src)) = (&fatal.finding.file, &fatal.source) {
            o.sources.insert(file.clone(), src.clone());
        }
        o.findings.push(*fatal.finding);
        o
    }
}

/// One row of `miglint status`.
#[derive(Debug, serde::Serialize)]
pub struct SetStatus {
    pub set: String,
    pub dir: String,
    pub migrations: usize,
    pub recorded: usize,
    pub pending: Vec<String>,
    pub last: Option<String>,
    pub declared_head: Option<String>,
    pub alembic_heads: Option<Vec<String>>,
    pub base: Option<String>,
}
