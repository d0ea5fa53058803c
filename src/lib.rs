//! miglint: guards a directory of hand-written, numbered SQL migrations.
//!
//! The binary is a thin shell over this library: `main.rs` parses arguments and maps an
//! [`Outcome`](check::Outcome) to an exit code; every check is a pure function over
//! [`snapshot::Snapshot`]s that the I/O layer (`snapshot`, `git`) reads.

pub mod alembic;
pub mod cache;
pub mod check;
pub mod commands;
pub mod config;
pub mod export;
pub mod finding;
pub mod fsutil;
pub mod git;
pub mod ledger;
pub mod naming;
pub mod outcome;
pub mod registry;
pub mod report;
pub mod rules;
pub mod schema;
pub mod snapshot;
pub mod sql;
pub mod vcs;

use std::sync::Arc;

use finding::Finding;
use rules::Rule;

/// A condition that stops miglint from doing its job (exit 2). It is still rendered as a
/// diagnostic, with a code and a `help:`, in every output format.
#[derive(Debug, Clone)]
pub struct Fatal {
    /// Boxed: a `Result<_, Fatal>` stays small on the happy path.
    pub finding: Box<Finding>,
    /// The text the finding's span points into, when it is not a migration (e.g. miglint.toml).
    pub source: Option<Arc<[u8]>>,
}

impl Fatal {
    pub fn new(rule: Rule, message: impl Into<String>, help: impl Into<String>) -> Self {
        Fatal {
            finding: Box::new(Finding::new(rule, message).help(help)),
            source: None,
        }
    }

    pub fn config(message: impl Into<String>, help: impl Into<String>) -> Self {
        Fatal::new(Rule::ConfigInvalid, message, help)
    }

    pub fn io(what: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        Fatal::new(
            Rule::IoError,
            format!("cannot read {what}: {err}"),
            "check that the path exists and is readable",
        )
    }

    pub fn refused(message: impl Into<String>, help: impl Into<String>) -> Self {
        Fatal::new(Rule::RefusedWrite, message, help)
    }

    /// Points the diagnostic at a span of a non-migration file, such as the config.
    pub fn in_source(
        mut self,
        file: &str,
        source: Arc<[u8]>,
        span: std::ops::Range<usize>,
        label: &str,
    ) -> Self {
        self.finding = Box::new(self.finding.file(file).at(span, label));
        self.source = Some(source);
        self
    }
}

pub type Result<T, E = Fatal> = std::result::Result<T, E>;
