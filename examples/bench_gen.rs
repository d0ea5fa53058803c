//! Generates synthetic but realistic repositories for miglint's benchmarks (see README,
//! "Performance"). Deterministic: the same arguments give the same bytes.
//!
//!   cargo run --release --example bench_gen -- plain   N DIR        # N migrations + ledger in DIR/migrations
//!   cargo run --release --example bench_gen -- alembic R DIR        # R revisions (with merges) in DIR/versions
//!   cargo run --release --example bench_gen -- history C M DIR      # git repo: C commits, M of them add a migration
//!   cargo run --release --example bench_gen -- staged  N DIR        # git repo with N migrations + one staged new file
//!   cargo run --release --example bench_gen -- behind  C N DIR      # base branch C commits ahead of HEAD's fork point
//!
//! Git repositories are written with `git fast-import` (the benchmark generator may use git's CLI;
//! miglint itself never does).

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A small deterministic generator (xorshift), so runs are reproducible without a rand crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const TYPES: &[&str] = &[
    "bigint",
    "integer",
    "text",
    "varchar(255)",
    "boolean",
    "timestamptz",
    "numeric(12, 2)",
    "jsonb",
    "uuid",
    "date",
];
const WORDS: &[&str] = &[
    "user", "account", "order", "invoice", "session", "role", "grant", "event", "audit", "payment",
    "product", "tenant", "token", "address", "note",
];

/// One migration of about 1.3 KB: the statement mix of public projects.
fn migration(i: usize, rng: &mut Rng) -> String {
    let mut s = format!("-- Migration {i}: generated for benchmarks.\n-- Statements follow the mix of public projects' migrations.\n");
    for part in [i % 5, (i * 7 + 3) % 5] {
        let table = format!("{}_{}_{part}", rng.pick(WORDS), i);
        match part {
            0 | 1 => {
                let _ = writeln!(s, "CREATE TABLE app.{table} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,");
                for c in 0..(4 + rng.next() % 5) {
                    let _ = writeln!(
                        s,
                        "    {}_{c} {} NOT NULL DEFAULT {},",
                        rng.pick(WORDS),
                        rng.pick(TYPES),
                        if c % 2 == 0 { "0" } else { "'x'" }
                    );
                }
                let _ = writeln!(s, "    created_at timestamptz NOT NULL DEFAULT now(),\n    CONSTRAINT {table}_chk CHECK (id > 0)\n);");
                let _ = writeln!(
                    s,
                    "CREATE INDEX {table}_created_idx ON app.{table} (created_at DESC);"
                );
                let _ = writeln!(
                    s,
                    "COMMENT ON TABLE app.{table} IS 'Generated table number {i} for benchmarks';"
                );
            }
            2 => {
                for c in 0..(3 + rng.next() % 4) {
                    let _ = writeln!(
                        s,
                        "ALTER TABLE app.{}_{} ADD COLUMN extra_{c} {};",
                        rng.pick(WORDS),
                        i.saturating_sub(1),
                        rng.pick(TYPES)
                    );
                }
                let _ = writeln!(s, "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {table}_uniq ON app.{}_{} (extra_0);", rng.pick(WORDS), i.saturating_sub(1));
                let _ = writeln!(s, "UPDATE app.settings SET value = '{}' WHERE key = 'schema_version' AND value <> '{}';", i, i);
            }
            3 => {
                let _ = writeln!(s, "INSERT INTO app.lookup (code, label, sort_order) VALUES");
                let rows = 6 + rng.next() % 6;
                for r in 0..rows {
                    let _ = writeln!(
                        s,
                        "    ('{}_{r}', 'Label for {} {r}', {r}){}",
                        rng.pick(WORDS),
                        rng.pick(WORDS),
                        if r + 1 < rows { "," } else { "" }
                    );
                }
                let _ = writeln!(
                    s,
                    "ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label;"
                );
                let _ = writeln!(
                    s,
                    "DELETE FROM app.lookup WHERE sort_order > 100 AND code LIKE 'tmp_%';"
                );
            }
            _ => {
                let _ = writeln!(s, "CREATE OR REPLACE FUNCTION app.touch_{table}() RETURNS trigger AS $$\nBEGIN\n    NEW.updated_at := now();\n    IF NEW.id IS NULL THEN\n        RAISE EXCEPTION 'id must be set; got %', NEW;\n    END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;");
                let _ = writeln!(s, "CREATE TRIGGER touch_{table} BEFORE UPDATE ON app.{}_{} FOR EACH ROW EXECUTE FUNCTION app.touch_{table}();", rng.pick(WORDS), i.saturating_sub(1));
                let _ = writeln!(
                    s,
                    "ALTER TABLE app.{}_{} ALTER COLUMN created_at SET DEFAULT now();",
                    rng.pick(WORDS),
                    i.saturating_sub(1)
                );
            }
        }
    }
    s
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `n` migrations with three ledgers: `applied.sha256` with all but the newest tenth recorded
/// (like a real set, used by `miglint.toml`), and `applied-0.sha256` / `applied-100.sha256` with
/// none / all recorded, each with its config (`miglint-0.toml`, `miglint-100.toml`), so the
/// benchmarks compare 0%, 90% and 100% recorded on the same files.
fn plain(n: usize, dir: &Path) {
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let (mut ledger, mut all) = (String::new(), String::new());
    let mut total = 0;
    for i in 0..n {
        let body = migration(i, &mut rng);
        total += body.len();
        let name = format!("{i:05}_{}.sql", WORDS[i % WORDS.len()]);
        let line = format!("{}  {name}\n", sha256_hex(body.as_bytes()));
        // The newest tenth is pending, like a real set.
        if i < n - n / 10 {
            ledger.push_str(&line);
        }
        all.push_str(&line);
        std::fs::write(m.join(name), body).unwrap();
    }
    std::fs::write(m.join("applied.sha256"), ledger).unwrap();
    std::fs::write(m.join("applied-100.sha256"), all).unwrap();
    std::fs::write(m.join("applied-0.sha256"), "").unwrap();
    let config =
        |lock: &str| format!("[[set]]\ndir = \"migrations\"\nwidth = 5\nlock = \"{lock}\"\n");
    std::fs::write(
        dir.join("miglint.toml"),
        config("migrations/applied.sha256"),
    )
    .unwrap();
    std::fs::write(
        dir.join("miglint-100.toml"),
        config("migrations/applied-100.sha256"),
    )
    .unwrap();
    std::fs::write(
        dir.join("miglint-0.toml"),
        config("migrations/applied-0.sha256"),
    )
    .unwrap();
    eprintln!(
        "{n} migrations, {total} bytes ({} bytes on average)",
        total / n.max(1)
    );
}

fn alembic(r: usize, dir: &Path) {
    let v = dir.join("versions");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    let mut down = String::from("None");
    for i in 0..r {
        let id = format!("{:012x}", (i as u64).wrapping_mul(0x9e3779b97f4a7c15) >> 16);
        // Every 50th revision is a merge of the chain and a short side branch.
        let body = if i % 50 == 49 {
            let side = format!("side{i:08}");
            std::fs::write(v.join(format!("{side}_side.py")), format!("\"\"\"side\n\nRevision ID: {side}\nRevises: {down}\n\"\"\"\nrevision = '{side}'\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n")).unwrap();
            format!("revision: str = '{id}'\ndown_revision: Union[str, Sequence[str], None] = ({down}, '{side}')\n")
        } else {
            format!(
                "revision: str = '{id}'\ndown_revision: Union[str, Sequence[str], None] = {down}\n"
            )
        };
        let text = format!("\"\"\"rev {i}\n\nRevision ID: {id}\nRevises: {down}\nCreate Date: 2025-11-05\n\n\"\"\"\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n# revision identifiers, used by Alembic.\n{body}branch_labels: Union[str, Sequence[str], None] = None\ndepends_on: Union[str, Sequence[str], None] = None\n\n\ndef upgrade() -> None:\n    op.add_column('t', sa.Column('c{i}', sa.Integer()))\n\n\ndef downgrade() -> None:\n    op.drop_column('t', 'c{i}')\n");
        std::fs::write(v.join(format!("{id}_rev_{i}.py")), text).unwrap();
        down = format!("'{id}'");
    }
    std::fs::write(
        dir.join("migrations/0000_stamp.sql"),
        format!("UPDATE alembic_version SET version_num = {down};\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("miglint.toml"),
        "[[set]]\ndir = \"migrations\"\n[set.alembic]\nversions = \"versions\"\n",
    )
    .unwrap();
}

/// Streams a history into `git fast-import`: `commits` commits on main, `migrations` of them each
/// adding one migration (and recording the previous one in the ledger); the rest touch app code.
fn history(dir: &Path, commits: usize, migrations: usize, branch_at: Option<usize>) {
    std::fs::create_dir_all(dir).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let every = (commits / migrations.max(1)).max(1);
    let mut added = 0;
    let mut ledger = String::new();
    let blob = |out: &mut dyn Write, data: &[u8]| {
        writeln!(out, "data {}", data.len()).unwrap();
        out.write_all(data).unwrap();
        out.write_all(b"\n").unwrap();
    };
    for c in 0..commits {
        writeln!(
            out,
            "commit refs/heads/main\nmark :{}\ncommitter Bench <bench@example.com> {} +0000",
            c + 1,
            1_600_000_000 + c * 60
        )
        .unwrap();
        blob(&mut out, format!("commit {c}").as_bytes());
        if c > 0 {
            writeln!(out, "from :{c}").unwrap();
        }
        if c == 0 {
            out.write_all(b"M 644 inline miglint.toml\n").unwrap();
            blob(&mut out, b"[[set]]\ndir = \"migrations\"\nwidth = 5\n");
        }
        if c % every == 0 && added < migrations {
            if added > 0 {
                let prev = format!("{:05}_{}.sql", added - 1, WORDS[(added - 1) % WORDS.len()]);
                let mut r2 = Rng(added as u64);
                let _ = writeln!(
                    ledger,
                    "{}  {prev}",
                    sha256_hex(migration(added - 1, &mut r2).as_bytes())
                );
                out.write_all(b"M 644 inline migrations/applied.sha256\n")
                    .unwrap();
                blob(&mut out, ledger.as_bytes());
            }
            let name = format!("{added:05}_{}.sql", WORDS[added % WORDS.len()]);
            let mut r2 = Rng(added as u64 + 1);
            writeln!(out, "M 644 inline migrations/{name}").unwrap();
            blob(&mut out, migration(added, &mut r2).as_bytes());
            added += 1;
        } else {
            writeln!(out, "M 644 inline src/app_{}.txt", rng.next() % 200).unwrap();
            blob(&mut out, format!("app change {c}\n").as_bytes());
        }
        if Some(c) == branch_at {
            writeln!(out, "reset refs/heads/feature\nfrom :{}", c + 1).unwrap();
        }
    }
    out.flush().unwrap();
    drop(out);
    assert!(child.wait().unwrap().success());
    git(&["checkout", "-q", "-f", "main"]);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args[i].parse::<usize>().expect("a number");
    match args.first().map(String::as_str) {
        Some("plain") => plain(num(1), Path::new(&args[2])),
        Some("alembic") => alembic(num(1), Path::new(&args[2])),
        Some("history") => history(Path::new(&args[3]), num(1), num(2), None),
        Some("staged") => {
            let dir = Path::new(&args[2]);
            let n = num(1);
            history(dir, n, n, None);
            let mut rng = Rng(7);
            std::fs::write(
                dir.join(format!("migrations/{n:05}_new.sql")),
                migration(n, &mut rng),
            )
            .unwrap();
            assert!(Command::new("git")
                .args(["add", "-A"])
                .current_dir(dir)
                .status()
                .unwrap()
                .success());
        }
        Some("behind") => {
            // main gets C commits after `feature` forked; `feature` is checked out, base = main.
            let dir = Path::new(&args[3]);
            let (c, n) = (num(1), num(2));
            history(dir, n + c, n, Some(n - 1));
            assert!(Command::new("git")
                .args(["checkout", "-q", "feature"])
                .current_dir(dir)
                .status()
                .unwrap()
                .success());
        }
        _ => {
            eprintln!("usage: bench_gen plain N DIR | alembic R DIR | history C M DIR | staged N DIR | behind C N DIR");
            std::process::exit(2);
        }
    }
}
