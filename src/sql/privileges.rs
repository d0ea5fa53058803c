//! Who may do what, as far as the migrations say: `GRANT`, `REVOKE`, and owners (`CREATE SCHEMA
//! … AUTHORIZATION`, `ALTER SCHEMA/TABLE … OWNER TO`). `miglint alembic ready` checks with them
//! that the role the service connects as may run `alembic upgrade` (the seed's "`USAGE, CREATE`
//! on schema `auth`, and can write to `auth.alembic_version_auth`").
//!
//! Role names are folded like identifiers; `PUBLIC` is `public`. What is not followed (a role
//! granted to a role, default privileges, `OWNER TO CURRENT_USER`) is [`Privilege::Unknown`]:
//! the roles it names may then hold anything, and the check says nothing about them.

use sqlparser::ast::{GrantObjects, Grantee, GranteeName, GranteesType, ObjectName, Privileges};

use super::ident::fold;

/// What a privilege is on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Target {
    Schema(String),
    /// A table (or view, sequence: `GRANT … ON name` does not say), schema-qualified or not.
    Table {
        schema: Option<String>,
        name: String,
    },
    /// `ON ALL TABLES IN SCHEMA s`: the tables that exist at that point.
    AllTablesIn(String),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Privilege {
    /// `GRANT` (or, with `revoke`, `REVOKE`) of `privileges` (`None`: `ALL`), lower case, on
    /// `on`, to `roles`.
    Grant {
        revoke: bool,
        privileges: Option<Vec<String>>,
        on: Vec<Target>,
        roles: Vec<String>,
    },
    /// The new owner of a schema or table (who holds every privilege on it).
    Owner { on: Target, role: String },
    /// Privileges changed in a way not followed: `roles` (`None`: any role) may hold any.
    Unknown { roles: Option<Vec<String>> },
}

fn role(g: &Grantee) -> Option<String> {
    match (&g.grantee_type, &g.name) {
        (GranteesType::Public, _) => Some("public".into()),
        (_, Some(GranteeName::ObjectName(n))) => last(n),
        _ => None,
    }
}

fn last(n: &ObjectName) -> Option<String> {
    n.0.last().and_then(|p| p.as_ident()).map(fold)
}

fn qualified(n: &ObjectName) -> Target {
    let parts: Option<Vec<String>> = n.0.iter().map(|p| p.as_ident().map(fold)).collect();
    match parts.as_deref() {
        Some([name]) => Target::Table {
            schema: None,
            name: name.clone(),
        },
        Some([.., schema, name]) => Target::Table {
            schema: Some(schema.clone()),
            name: name.clone(),
        },
        _ => Target::Other,
    }
}

fn targets(objects: &Option<GrantObjects>) -> Vec<Target> {
    match objects {
        Some(GrantObjects::Schemas(s)) => s
            .iter()
            .map(|n| last(n).map_or(Target::Other, Target::Schema))
            .collect(),
        Some(GrantObjects::Tables(t)) => t.iter().map(qualified).collect(),
        Some(GrantObjects::AllTablesInSchema { schemas }) => schemas
            .iter()
            .map(|n| last(n).map_or(Target::Other, Target::AllTablesIn))
            .collect(),
        _ => vec![Target::Other],
    }
}

fn actions(p: &Privileges) -> Option<Vec<String>> {
    match p {
        Privileges::All { .. } => None,
        // `UPDATE (a, b)` stays as written: a column privilege is not the table's.
        Privileges::Actions(a) => Some(a.iter().map(|a| a.to_string().to_lowercase()).collect()),
    }
}

/// `GRANT …` or `REVOKE …` on objects.
pub fn grant(
    revoke: bool,
    privileges: &Privileges,
    objects: &Option<GrantObjects>,
    grantees: &[Grantee],
) -> Privilege {
    let roles: Option<Vec<String>> = grantees.iter().map(role).collect();
    match roles {
        Some(roles) => Privilege::Grant {
            revoke,
            privileges: actions(privileges),
            on: targets(objects),
            roles,
        },
        None => Privilege::Unknown { roles: None },
    }
}

/// Roles granted to (or revoked from) `grantees`: they may now hold anything.
pub fn membership(grantees: &[Grantee]) -> Privilege {
    Privilege::Unknown {
        roles: grantees.iter().map(role).collect(),
    }
}

/// `… OWNER TO owner` (or `AUTHORIZATION owner`) of `on`.
pub fn owner(on: Target, owner: &sqlparser::ast::Owner) -> Privilege {
    match owner {
        sqlparser::ast::Owner::Ident(id) => Privilege::Owner { on, role: fold(id) },
        // CURRENT_USER and the like: whoever runs the migrations.
        _ => Privilege::Unknown { roles: None },
    }
}

/// The table target of a table name.
pub fn table(n: &ObjectName) -> Target {
    qualified(n)
}
