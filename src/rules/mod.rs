//! The rules: pure functions from snapshots and the models read from them (ledger, SQL analysis,
//! Alembic graph, git base) to findings, one file per family. No rule reads the file system or
//! git; readers hand them what they judge, so every rule is testable without a repository.

pub mod alembic;
pub mod edits;
pub mod git;
pub mod history;
pub mod ledger;
pub mod naming;
pub mod schema;
pub mod sql;

/// The registry's types, re-exported where rule code and the library's users look for them.
pub use crate::registry::{Rule, RuleInfo, Severity};
