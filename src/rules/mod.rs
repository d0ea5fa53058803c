//! The rules: pure functions from snapshots and the models read from them (ledger, SQL analysis,
//! Alembic graph, git base) to findings. No rule reads the file system or git; readers hand them
//! what they judge ([`SetFacts`]), so every rule is testable without a repository.
//!
//! The engine (`check.rs`, the layer above) reads a set, builds its [`SetFacts`] and runs
//! every entry of [`SET_PASSES`] over them: a new rule over a set is a file here, a registry
//! row and a line in that table (`cargo run --example new_rule -- CODE FAMILY` writes all three,
//! with a unit test). Rules that need more than one set's facts (the base, the branch's commits,
//! other branches' claims, each file's SQL) are run by the engine where those are read.

use std::collections::HashMap;

use crate::config::SetConfig;
use crate::finding::Finding;
use crate::ledger::Ledger;
use crate::registry::Family;
use crate::snapshot::Snapshot;
use crate::sql::Analysis;

pub mod alembic;
pub mod alembic_ddl_drift;
pub mod alembic_role_privileges;
pub mod edits;
pub mod git;
pub mod history;
pub mod ledger;
pub mod naming;
pub mod pairs;
pub mod schema;
pub mod sql;
pub mod sqlx_history;

/// The registry's types, re-exported where rule code and the library's users look for them.
pub use crate::registry::{Rule, RuleInfo, Severity};

/// What the readers found about one set, as of the run's input (work tree, index or commit):
/// everything the set rules judge. Optional parts are absent when the run has no such input.
pub struct SetFacts<'a> {
    pub set: &'a SetConfig,
    pub snapshot: &'a Snapshot,
    /// The snapshot's migrations, in order (names the numbering convention reads).
    pub migrations: &'a [naming::Migration],
    /// The files that revert them (a layout's `.down.sql`; none in a plain set).
    pub downs: &'a [naming::Migration],
    pub ledger: &'a Ledger,
    /// Per file name, the SQL analysis (absent for files not read as SQL).
    pub analyses: &'a HashMap<String, Analysis>,
    /// Whether a file is applied: recorded as it is, under the baseline, or merged on the base.
    pub applied: &'a dyn Fn(&str) -> bool,
    /// Numbers and names held by the ledger and the base: never handed out in advice.
    pub numbering: &'a naming::Context<'a>,
    /// The Alembic side, when the set has one.
    pub alembic: Option<&'a AlembicFacts>,
    /// `--history-export`: the database's migration_history, when given.
    pub export: Option<&'a crate::export::Export>,
}

/// The Alembic side of a set as the reader found it.
pub enum AlembicFacts {
    /// Its configuration (alembic.ini, pyproject, `[set.alembic]`) could not be read.
    Unreadable(crate::alembic::Unreadable),
    Read(Box<AlembicRead>),
}

/// An Alembic side whose configuration was read.
pub struct AlembicRead {
    pub layout: crate::alembic::Layout,
    pub graph: crate::alembic::Graph,
    /// Revision files that could not be read statically.
    pub unreadable: Vec<crate::alembic::Unreadable>,
    /// The compose file: its path and text, or why it could not be read.
    pub compose: Option<Result<(String, String), crate::alembic::Unreadable>>,
}

/// One entry of the engine's loop over a set's facts.
pub struct Pass {
    /// What it checks, for people (and the generator's table).
    pub name: &'static str,
    /// The family of the rules it reports (the registry's `family`; a test holds them equal).
    pub family: Family,
    pub run: fn(&SetFacts) -> Vec<Finding>,
    /// Its findings depend only on the set's configuration and, per migration in order, its
    /// name, content and whether the database ran it (not on Alembic files, the ledger's text,
    /// the base or the clock): the engine may reuse them while those are unchanged. The schema
    /// replay is; a pass that reads anything else must not be.
    pub memo: bool,
}

/// Every rule over one set's facts, run in this order by the engine.
pub const SET_PASSES: &[Pass] = &[
    Pass {
        name: "schema replay",
        family: Family::Schema,
        run: schema::pass,
        memo: true,
    },
    Pass {
        name: "numbering gaps",
        family: Family::Naming,
        run: naming::gaps_pass,
        memo: false,
    },
    Pass {
        name: "Alembic graph, stamps and compose",
        family: Family::Alembic,
        run: alembic::pass,
        memo: false,
    },
    Pass {
        name: "history export",
        family: Family::History,
        run: history::export_pass,
        memo: false,
    },
    Pass {
        name: "alembic-ddl-drift",
        family: Family::Alembic,
        run: alembic_ddl_drift::pass,
        memo: false,
    },
    Pass {
        name: "up/down pairs",
        family: Family::Naming,
        run: pairs::pass,
        memo: false,
    },
    Pass {
        name: "alembic-role-privileges",
        family: Family::Alembic,
        run: alembic_role_privileges::pass,
        memo: false,
    },
    // new set passes above this line (examples/new_rule.rs inserts here)
];

/// Facts built in memory for the set passes' unit tests: a set `m` of files given as
/// `(name, SQL)`, each analysed as the engine analyses it, nothing recorded, no base, no Alembic.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::snapshot::MigrationFile;
    use std::sync::Arc;

    pub struct Fixture {
        pub set: SetConfig,
        pub snapshot: Snapshot,
        pub migrations: Vec<naming::Migration>,
        pub downs: Vec<naming::Migration>,
        pub ledger: Ledger,
        pub analyses: HashMap<String, Analysis>,
        pub alembic: Option<AlembicFacts>,
    }

    pub fn set(files: &[(&str, &str)]) -> Fixture {
        set_in(crate::config::Layout::Plain, files)
    }

    /// [`set`] in another layout (golang-migrate: no psql reading, `.up.`/`.down.` names).
    pub fn set_in(layout: crate::config::Layout, files: &[(&str, &str)]) -> Fixture {
        let mut set = SetConfig::with_dir("m".into());
        set.layout = layout;
        set.psql = layout == crate::config::Layout::Plain;
        let mut snapshot = Snapshot::default();
        for (name, sql) in files {
            let bytes: Arc<[u8]> = Arc::from(sql.as_bytes());
            snapshot.files.push(MigrationFile::new(
                name.to_string(),
                format!("m/{name}"),
                bytes,
            ));
        }
        snapshot.files.sort_by(|a, b| a.name.cmp(&b.name));
        let dialect = crate::sql::dialect(&set.dialect);
        let analyses = snapshot
            .files
            .iter()
            .filter_map(|f| {
                let (_, a) = sql::check_file(&set, dialect.as_ref(), f, true, None);
                Some((f.name.clone(), a?))
            })
            .collect();
        let migrations = naming::migrations(&set, &snapshot);
        let downs = naming::downs(&set, &snapshot);
        Fixture {
            set,
            snapshot,
            migrations,
            downs,
            ledger: Ledger::default(),
            analyses,
            alembic: None,
        }
    }

    impl Fixture {
        /// An Alembic side: revision files `(path, source)` read as the reader reads them,
        /// stamped in `version_table`.
        pub fn alembic(mut self, version_table: &str, revisions: &[(&str, &str)]) -> Self {
            let revisions = revisions
                .iter()
                .map(|(path, src)| crate::alembic::graph::read_revision(path, src).unwrap())
                .collect();
            let layout = crate::alembic::Layout {
                ini: None,
                versions: vec!["alembic/versions".into()],
                recursive: false,
                version_table: version_table.into(),
                head: None,
                compose: None,
                migrate_at_start_var: "MIGRATE_AT_START".into(),
                heads: None,
                branches: None,
                stamp: None,
                mirror: false,
                role: None,
                role_granted: false,
                ready: false,
            };
            self.alembic = Some(AlembicFacts::Read(Box::new(AlembicRead {
                layout,
                graph: crate::alembic::Graph::build(revisions),
                unreadable: Vec::new(),
                compose: None,
            })));
            self
        }

        /// `mirror = true` under `[set.alembic]`.
        pub fn mirrored(mut self) -> Self {
            if let Some(AlembicFacts::Read(read)) = self.alembic.as_mut() {
                read.layout.mirror = true;
            }
            self
        }

        /// Judged as `miglint alembic ready` judges, with `role = …` configured.
        pub fn ready(mut self, role: Option<&str>) -> Self {
            if let Some(AlembicFacts::Read(read)) = self.alembic.as_mut() {
                read.layout.mirror = true;
                read.layout.ready = true;
                read.layout.role = role.map(String::from);
            }
            self
        }

        /// Runs one pass over these facts.
        pub fn run(&self, pass: fn(&SetFacts) -> Vec<Finding>) -> Vec<Finding> {
            let numbering = naming::Context {
                taken: Default::default(),
                protected: Default::default(),
            };
            let applied = |_: &str| false;
            pass(&SetFacts {
                set: &self.set,
                snapshot: &self.snapshot,
                migrations: &self.migrations,
                downs: &self.downs,
                ledger: &self.ledger,
                analyses: &self.analyses,
                applied: &applied,
                numbering: &numbering,
                alembic: self.alembic.as_ref(),
                export: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_pass_runs_on_facts_built_in_memory() {
        let f = fixture::set(&[
            ("0000_a.sql", "CREATE TABLE a (id int);\n"),
            ("0002_b.sql", "ALTER TABLE missing ADD COLUMN x int;\n"),
        ]);
        let codes = |pass| -> Vec<&str> { f.run(pass).iter().map(|x| x.code()).collect() };
        assert_eq!(codes(naming::gaps_pass), ["number-gap"]);
        assert!(
            codes(schema::pass).contains(&"undefined-relation"),
            "{:?}",
            codes(schema::pass)
        );
        assert!(codes(alembic::pass).is_empty());
        assert!(codes(history::export_pass).is_empty());
        let families: Vec<Family> = SET_PASSES.iter().map(|p| p.family).collect();
        for rule in Rule::ALL {
            let fam = rule.info().family;
            if matches!(fam, Family::Schema | Family::Alembic) {
                assert!(families.contains(&fam), "{} has no set pass", rule.code());
            }
        }
    }
}
