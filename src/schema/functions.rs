//! The functions the set defines, followed so that a call of one of them does not blind the
//! replay when its body changes no relation (`SELECT updatedbversion('1.14.3')`).
//!
//! A function is harmless only while every definition of its name the replay has seen was read
//! as harmless (an `OR REPLACE` with DDL spoils it for good, `DROP FUNCTION` forgets the name)
//! and everything it calls is harmless too. Anything else — a function the set did not define,
//! an extension's, one made in a `DO` block — keeps the old rule: after its call, any name may
//! exist or be gone.

use std::collections::{HashMap, HashSet};

use super::Model;
use crate::sql::ddl::Name;

/// The definitions seen, by bare name.
#[derive(Debug, Clone, Default)]
pub struct Functions {
    defs: HashMap<String, Vec<Def>>,
}

#[derive(Debug, Clone)]
struct Def {
    /// The schema it was created in (`None`: none of the search path existed).
    schema: Option<String>,
    /// What a call may do: `None` may change relations; else the functions it calls.
    callees: Option<Vec<String>>,
}

impl Functions {
    /// Whether every definition of `name` (and of what it calls, transitively) is harmless; a
    /// cycle counts as not.
    fn harmless(&self, name: &str, seen: &mut HashSet<String>) -> bool {
        if !seen.insert(name.to_string()) {
            return false;
        }
        let ok = self.defs.get(name).is_some_and(|defs| {
            !defs.is_empty()
                && defs.iter().all(|d| {
                    d.callees
                        .as_ref()
                        .is_some_and(|cs| cs.iter().all(|c| self.harmless(c, seen)))
                })
        });
        seen.remove(name);
        ok
    }
}

impl Model {
    /// `CREATE [OR REPLACE] FUNCTION`.
    pub(super) fn define_function(&mut self, name: &Name, callees: &Option<Vec<String>>) {
        let schema = name.schema.clone().or_else(|| self.creation_schema());
        self.functions
            .defs
            .entry(name.name.clone())
            .or_default()
            .push(Def {
                schema,
                callees: callees.clone(),
            });
    }

    /// `DROP FUNCTION`: every overload of the name is forgotten (calls are unknown again).
    pub(super) fn drop_function(&mut self, name: &Name) {
        self.functions.defs.remove(&name.name);
    }

    /// A call: harmless only for a function the set defined where the call resolves (the
    /// schema it names, or one of the search path) with harmless definitions only.
    pub(super) fn call(&mut self, name: &Name) {
        let here = self.functions.defs.get(&name.name).is_some_and(|defs| {
            defs.iter().any(|d| match (&name.schema, &d.schema) {
                (Some(s), Some(t)) => s == t,
                (None, Some(t)) => self.path.contains(t),
                _ => false,
            })
        });
        if !(here && self.functions.harmless(&name.name, &mut HashSet::new())) {
            self.opaque
                .get_or_insert_with(|| format!("a call of {name}()"));
        }
    }
}
