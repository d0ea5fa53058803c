//! `alembic-role-privileges`: for the switch back (`miglint alembic ready`), the role the
//! service connects as must be able to run `alembic upgrade`. The team's procedure says so:
//! "Ensure the database role has `USAGE, CREATE` on schema `auth` and can write to
//! `auth.alembic_version_auth`" — the very permission friction that made the team stop running
//! Alembic at start.
//!
//! The role is the one `[set.alembic] role` names, else the user of the one database URL the
//! compose file holds. The SQL migrations are replayed in order for what they grant, revoke
//! and give in ownership (to the role or to `PUBLIC`). What they do not say, or say in a way
//! miglint does not follow (a role granted to the role, default privileges, a `GRANT` inside a
//! `DO` block), is a blocker that says it could not be verified: ready means checked. Grants
//! made outside the migrations are declared with `role_granted = true`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::finding::Finding;
use crate::registry::Rule;
use crate::rules::{AlembicFacts, SetFacts};
use crate::sql::ddl::{Change, Kind};
use crate::sql::privileges::{Privilege, Target};

/// What `alembic upgrade` needs on the version table's schema, and on the table.
const ON_SCHEMA: &[&str] = &["usage", "create"];
const ON_TABLE: &[&str] = &["select", "update"];
/// What `ALL` means on a table, as far as it matters here.
const TABLE_ALL: &[&str] = &["select", "insert", "update", "delete"];

/// Where the role's name comes from: the configuration, or a database URL in a file.
struct Role {
    name: String,
    at: Option<(String, Range<usize>)>,
}

/// Who holds what on one object, as PostgreSQL's ACL keeps it: an entry per grantee (`public`
/// for PUBLIC), the owner's holding everything until revoked. `ALTER … OWNER TO` hands every
/// entry of the old owner to the new one (`aclnewowner`), grants to others stay.
struct Acl {
    owner: String,
    entries: HashMap<String, HashSet<String>>,
}

/// Whoever runs the migrations (a role that is not the service's, as far as miglint knows).
const RUNNER: &str = "<the role that runs the migrations>";

impl Acl {
    /// A new object, owned by `owner` with every privilege in `all`.
    fn new(owner: &str, all: &[&str]) -> Acl {
        Acl {
            owner: owner.to_string(),
            entries: HashMap::from([(
                owner.to_string(),
                all.iter().map(|s| s.to_string()).collect(),
            )]),
        }
    }

    /// Whether `role` holds `privilege` (itself, or through PUBLIC).
    fn holds(&self, role: &str, privilege: &str) -> bool {
        [role, "public"]
            .iter()
            .any(|g| self.entries.get(*g).is_some_and(|e| e.contains(privilege)))
    }

    fn new_owner(&mut self, owner: &str) {
        if let Some(old) = self.entries.remove(&self.owner) {
            self.entries
                .entry(owner.to_string())
                .or_default()
                .extend(old);
        }
        self.owner = owner.to_string();
    }
}

/// The version table's and its schema's ACLs after the migrations.
struct Privileges {
    schema: Acl,
    table: Acl,
    /// The version table exists (for `ON ALL TABLES IN SCHEMA`): created by an earlier
    /// statement, or never created by the set (Alembic made it before the switch).
    table_exists: bool,
    /// The first thing that may change them without miglint following it: file and span.
    unsure: Option<(String, Range<usize>, String)>,
}

pub fn pass(facts: &SetFacts) -> Vec<Finding> {
    let Some(AlembicFacts::Read(read)) = facts.alembic else {
        return Vec::new();
    };
    let layout = &read.layout;
    if !layout.ready || layout.role_granted {
        return Vec::new();
    }
    let compose = read.compose.as_ref().and_then(|c| c.as_ref().ok());
    let Some(role) = role_of(layout.role.as_deref(), compose) else {
        return Vec::new();
    };
    let (schema, table) = match layout.version_table.split_once('.') {
        Some((s, t)) => (s.to_string(), t.to_string()),
        None => ("public".to_string(), layout.version_table.clone()),
    };
    let p = replay(facts, &role.name, (&schema, &table));
    if let Some((file, span, what)) = p.unsure {
        let f = Finding::new(
            Rule::AlembicRolePrivileges,
            format!("miglint could not verify what `{}` may do on schema `{schema}` and `{schema}.{table}`: {what} may change its privileges", role.name),
        )
        .file(file)
        .at(span, "not followed")
        .help(format!("check them by hand (in psql: \\dn+ {schema} and \\dp {schema}.{table}), then set role_granted = true under [set.alembic]"));
        return vec![f];
    }
    let mut findings = Vec::new();
    let missing = |have: &Acl, need: &[&str]| -> Vec<String> {
        need.iter()
            .filter(|n| !have.holds(&role.name, n))
            .map(|n| n.to_uppercase())
            .collect()
    };
    let on_schema = missing(&p.schema, ON_SCHEMA);
    if !on_schema.is_empty() {
        findings.push(blocker(
            &role,
            &on_schema,
            &format!("schema `{schema}`"),
            format!("GRANT USAGE, CREATE ON SCHEMA {schema} TO {}", role.name),
        ));
    }
    let on_table = missing(&p.table, ON_TABLE);
    if !on_table.is_empty() {
        findings.push(blocker(
            &role,
            &on_table,
            &format!("`{schema}.{table}`"),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.{table} TO {};",
                role.name
            ),
        ));
    }
    findings
}

fn blocker(role: &Role, missing: &[String], on: &str, grant: String) -> Finding {
    let from = match &role.at {
        Some((file, _)) => format!("the role the service connects as in {file}"),
        None => "the role [set.alembic] names".to_string(),
    };
    let mut f = Finding::new(
        Rule::AlembicRolePrivileges,
        format!("the SQL migrations never give `{}` ({from}) {} on {on}: `alembic upgrade` connecting as it would fail with permission denied", role.name, missing.join(", ")),
    )
    .help(format!("grant it in a new migration (`{grant};`) or make `{}` the owner; if it is granted outside the migrations, set role_granted = true under [set.alembic]", role.name));
    if let Some((file, span)) = &role.at {
        f = f.file(file.clone()).at(span.clone(), "connects as");
    }
    f
}

/// The role: configured, or the user of the one database URL in the compose file.
fn role_of(configured: Option<&str>, compose: Option<&(String, String)>) -> Option<Role> {
    if let Some(name) = configured {
        return Some(Role {
            name: name.to_string(),
            at: None,
        });
    }
    static URL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = URL.get_or_init(|| {
        regex::Regex::new(
            r#"postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://([^:@/\s'"$]+)(?::[^@/\s'"]*)?@"#,
        )
        .expect("valid regex")
    });
    let (path, text) = compose?;
    let users: Vec<regex::Match> = re.captures_iter(text).filter_map(|c| c.get(1)).collect();
    let first = users.first()?;
    // Two services with different users: which one runs Alembic is not known.
    if users.iter().any(|u| u.as_str() != first.as_str()) {
        return None;
    }
    Some(Role {
        name: first.as_str().to_string(),
        at: Some((path.clone(), first.range())),
    })
}

/// Replays the migrations' grants, revokes and owners for `role` (and `PUBLIC`).
fn replay(facts: &SetFacts, role: &str, (schema, table): (&str, &str)) -> Privileges {
    let mut p = Privileges {
        schema: Acl::new(RUNNER, ON_SCHEMA),
        table: Acl::new(RUNNER, TABLE_ALL),
        table_exists: !creates(facts, (schema, table)),
        unsure: None,
    };
    // PostgreSQL 15's `public`: owned by pg_database_owner, USAGE for PUBLIC.
    if schema == "public" {
        p.schema = Acl::new("pg_database_owner", ON_SCHEMA);
        p.schema
            .entries
            .insert("public".into(), HashSet::from(["usage".to_string()]));
    }
    for m in facts.migrations {
        let file = facts.snapshot.file(&m.name);
        let Some(analysis) = facts.analyses.get(&m.name).filter(|a| !a.skipped) else {
            p.unsure.get_or_insert((
                m.path.clone(),
                0..0,
                format!("`{}`, which miglint could not read as SQL,", m.name),
            ));
            continue;
        };
        if let Some(span) = file.and_then(|f| unfollowed(&f.bytes, analysis)) {
            p.unsure
                .get_or_insert((m.path.clone(), span, "this statement".to_string()));
        }
        for change in analysis.changes.get() {
            match change {
                // A new table (or schema) starts a new ACL, owned by whoever runs the SQL.
                Change::Create {
                    kind: Kind::Table,
                    name,
                    if_not_exists,
                    ..
                } if is_version_table(&name.schema, &name.name, (schema, table)) => {
                    if !*if_not_exists || !p.table_exists {
                        p.table = Acl::new(RUNNER, TABLE_ALL);
                    }
                    p.table_exists = true;
                }
                Change::CreateSchema {
                    name,
                    if_not_exists: false,
                } if name.name == schema => p.schema = Acl::new(RUNNER, ON_SCHEMA),
                Change::Privilege(privilege) => p.apply(privilege, role, (schema, table), &m.path),
                _ => {}
            }
        }
    }
    p
}

/// Whether `schema.name` (unqualified: in `public`, the default search path) is the version
/// table.
fn is_version_table(schema: &Option<String>, name: &str, (s, t): (&str, &str)) -> bool {
    name == t && schema.as_deref().unwrap_or("public") == s
}

/// Whether the set creates the version table itself.
fn creates(facts: &SetFacts, (schema, table): (&str, &str)) -> bool {
    facts.analyses.values().flat_map(|a| a.changes.get()).any(|c| {
        matches!(c, Change::Create { kind: Kind::Table, name, .. } if is_version_table(&name.schema, &name.name, (schema, table)))
    })
}

/// The first statement that mentions privileges (`GRANT`, `REVOKE`, `OWNER TO`,
/// `AUTHORIZATION`) beyond those read as privilege changes: one inside a `DO` block, say.
fn unfollowed(bytes: &[u8], analysis: &crate::sql::Analysis) -> Option<Range<usize>> {
    static WORDS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = WORDS.get_or_init(|| {
        regex::Regex::new(r"(?i)\b(grant|revoke|authorization)\b|\bowner\s+to\b")
            .expect("valid regex")
    });
    let text = String::from_utf8_lossy(bytes);
    let read = analysis
        .changes
        .get()
        .iter()
        .filter(|c| matches!(c, Change::Privilege(_)))
        .count();
    if analysis.statements.is_empty() {
        return re.find(&text).map(|m| m.range());
    }
    let mentions: Vec<&Range<usize>> = analysis
        .statements
        .iter()
        .map(|s| &s.span)
        .filter(|s| text.get((*s).clone()).is_some_and(|t| re.is_match(t)))
        .collect();
    (mentions.len() > read)
        .then(|| mentions.last().map(|s| (*s).clone()))
        .flatten()
}

impl Privileges {
    fn apply(
        &mut self,
        privilege: &Privilege,
        role: &str,
        (schema, table): (&str, &str),
        path: &str,
    ) {
        let is_table =
            |s: &Option<String>, name: &String| is_version_table(s, name, (schema, table));
        match privilege {
            Privilege::Grant {
                revoke,
                privileges,
                on,
                roles,
            } => {
                for target in on {
                    let (acl, all) = match target {
                        Target::Schema(s) if s == schema => (&mut self.schema, ON_SCHEMA),
                        Target::Table { schema: s, name } if is_table(s, name) => {
                            (&mut self.table, TABLE_ALL)
                        }
                        Target::AllTablesIn(s) if s == schema && self.table_exists => {
                            (&mut self.table, TABLE_ALL)
                        }
                        _ => continue,
                    };
                    let named: Vec<String> = match privileges {
                        Some(p) => p.clone(),
                        None => all.iter().map(|s| s.to_string()).collect(),
                    };
                    for grantee in roles {
                        let entry = acl.entries.entry(grantee.clone()).or_default();
                        for n in &named {
                            if *revoke {
                                entry.remove(n);
                            } else {
                                entry.insert(n.clone());
                            }
                        }
                    }
                }
            }
            Privilege::Owner { on, role } => match on {
                Target::Schema(s) if s == schema => self.schema.new_owner(role),
                Target::Table { schema: s, name } if is_table(s, name) => {
                    self.table.new_owner(role)
                }
                _ => {}
            },
            // A role granted to the service's role (or to every role) may carry anything.
            Privilege::Unknown { roles }
                if roles
                    .as_ref()
                    .is_none_or(|r| r.iter().any(|r| r == role || r == "public")) =>
            {
                self.unsure.get_or_insert((
                    path.to_string(),
                    0..0,
                    "a role or default privileges granted".to_string(),
                ));
            }
            Privilege::Unknown { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fixture;

    const INIT: &str = "CREATE SCHEMA auth;\nCREATE TABLE auth.alembic_version_auth (version_num varchar(32) PRIMARY KEY);\nINSERT INTO auth.alembic_version_auth VALUES ('a1');\n";
    const A1: &str = "revision = 'a1'\ndown_revision = None\n\ndef upgrade():\n    pass\n";

    fn found(files: &[(&str, &str)], role: Option<&str>) -> Vec<Finding> {
        fixture::set(files)
            .alembic("auth.alembic_version_auth", &[("v/a1.py", A1)])
            .ready(role)
            .run(pass)
    }

    #[test]
    fn a_role_without_grants_is_a_blocker() {
        let f = found(&[("0000_init.sql", INIT)], Some("auth_service"));
        let messages: Vec<&str> = f.iter().map(|x| x.message.as_str()).collect();
        assert_eq!(f.len(), 2, "{messages:?}");
        assert!(f.iter().all(|x| x.code() == "alembic-role-privileges"));
        assert!(
            messages[0].contains("USAGE, CREATE on schema `auth`"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("SELECT, UPDATE on `auth.alembic_version_auth`"),
            "{messages:?}"
        );
    }

    #[test]
    fn grants_ownership_and_public_count() {
        let grants = "GRANT USAGE, CREATE ON SCHEMA auth TO auth_service;\nGRANT SELECT, INSERT, UPDATE, DELETE ON auth.alembic_version_auth TO auth_service;\n";
        assert!(found(
            &[("0000_init.sql", INIT), ("0001_grants.sql", grants)],
            Some("auth_service")
        )
        .is_empty());
        let owner = "ALTER SCHEMA auth OWNER TO auth_service;\nALTER TABLE auth.alembic_version_auth OWNER TO auth_service;\n";
        assert!(found(
            &[("0000_init.sql", INIT), ("0001_owner.sql", owner)],
            Some("auth_service")
        )
        .is_empty());
        let all = "GRANT ALL ON SCHEMA auth TO PUBLIC;\nGRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA auth TO auth_service;\n";
        assert!(found(
            &[("0000_init.sql", INIT), ("0001_all.sql", all)],
            Some("auth_service")
        )
        .is_empty());
        // ALL TABLES IN SCHEMA covers only the tables that exist then; a revoke takes back.
        let early = "CREATE SCHEMA auth;\nGRANT ALL ON SCHEMA auth TO auth_service;\nGRANT ALL ON ALL TABLES IN SCHEMA auth TO auth_service;\nCREATE TABLE auth.alembic_version_auth (version_num varchar(32) PRIMARY KEY);\n";
        assert_eq!(
            found(&[("0000_init.sql", early)], Some("auth_service")).len(),
            1
        );
        let revoked = "GRANT USAGE, CREATE ON SCHEMA auth TO auth_service;\nGRANT ALL ON auth.alembic_version_auth TO auth_service;\nREVOKE UPDATE ON auth.alembic_version_auth FROM auth_service;\n";
        let f = found(
            &[("0000_init.sql", INIT), ("0001_r.sql", revoked)],
            Some("auth_service"),
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("UPDATE on `auth.alembic_version_auth`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn what_is_not_followed_is_a_blocker_that_says_so() {
        for sql in [
            "GRANT migrator TO auth_service;\n",
            "DO $$ BEGIN GRANT USAGE ON SCHEMA auth TO auth_service; END $$;\n",
        ] {
            let f = found(
                &[("0000_init.sql", INIT), ("0001_m.sql", sql)],
                Some("auth_service"),
            );
            assert_eq!(f.len(), 1, "{sql}");
            assert!(
                f[0].message.starts_with("miglint could not verify"),
                "{}",
                f[0].message
            );
        }
    }

    #[test]
    fn no_role_no_check_and_only_when_switching_back() {
        assert!(found(&[("0000_init.sql", INIT)], None).is_empty());
        let f = fixture::set(&[("0000_init.sql", INIT)])
            .alembic("auth.alembic_version_auth", &[("v/a1.py", A1)])
            .run(pass);
        assert!(f.is_empty());
    }

    #[test]
    fn the_role_comes_from_the_one_database_url_of_the_compose_file() {
        let compose = ("auth/auth.compose.yml".to_string(), "environment:\n  DATABASE_URL: postgresql+psycopg://auth_service:secret@db:5432/auth\n  MIGRATE_AT_START: \"false\"\n".to_string());
        let role = role_of(None, Some(&compose)).unwrap();
        assert_eq!(role.name, "auth_service");
        assert_eq!(&compose.1[role.at.unwrap().1], "auth_service");
        let two = (
            "c.yml".to_string(),
            "a: postgres://one@db/x\nb: postgres://two@db/x\n".to_string(),
        );
        assert!(role_of(None, Some(&two)).is_none());
        let variable = (
            "c.yml".to_string(),
            "a: postgres://${DB_USER}:${PW}@db/x\n".to_string(),
        );
        assert!(role_of(None, Some(&variable)).is_none());
    }
}
