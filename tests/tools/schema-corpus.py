#!/usr/bin/env python3
"""Fetch real projects' PostgreSQL migration chains from the package registries and lay each out
as one miglint set, in the order its own tool applies them (tests/schema_corpus.rs replays them
against a real server).

    tests/tools/schema-corpus.py OUT

writes OUT/<project>/NNNN_<name>.sql (NNNN = the position in the chain) and OUT/<project>/SOURCE
(the package, its version and how the order was derived). Downloads are kept in OUT/downloads, so
a second run is offline. Only the registries are used (Debian, PyPI, npm, crates.io): CI reaches
nothing else. Standard library only; the files are copied byte for byte, except graphile-worker's
schema placeholder, which its own loader substitutes before the server sees the SQL.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

# Pinned where the registry keeps old versions (PyPI, npm, crates.io); Debian's archive keeps
# only the current bookworm version, which SOURCE records.
PYPI = {
    "matrix-synapse": "1.163.2",
    "litellm-proxy-extras": "0.4.110",
    "procrastinate": "3.10.0",
}
NPM = {"graphile-worker": "0.17.3"}
CRATES = {
    "atuin-server-postgres": "18.3.0",
    "lemmy_db_schema": "0.19.9",
    "apalis-postgres": "1.0.0",
}
DEBIAN = ["ledgersmb", "tt-rss", "roundcube-core", "davical", "libawl-php", "icinga2-ido-pgsql",
          "pdns-backend-pgsql", "mediawiki"]

# Projects that ship their current schema and the scripts that upgraded older databases to it,
# not a chain from an empty database: (project, Debian package, schema files, upgrade directory;
# a schema file of another package is written `package:path`).
# Replayed as the schema, then every upgrade script in version order onto it: a real file on a
# real schema either way, so the server still decides each one (most fail: what they add is
# there already). SOURCE says so.
UPGRADES = [
    ("tt-rss", "tt-rss", ["usr/share/tt-rss/schema/ttrss_schema_pgsql.sql"],
     "usr/share/tt-rss/schema/versions/pgsql"),
    ("roundcube", "roundcube-core", ["usr/share/roundcube/SQL/postgres.initial.sql"],
     "usr/share/roundcube/SQL/postgres"),
    # create-database.sh loads AWL's tables first.
    ("davical", "davical", ["libawl-php:usr/share/awl/dba/awl-tables.sql",
                            "libawl-php:usr/share/awl/dba/schema-management.sql",
                            "usr/share/davical/dba/davical.sql"], "usr/share/davical/dba/patches"),
    ("icinga2", "icinga2-ido-pgsql", ["usr/share/icinga2-ido-pgsql/schema/pgsql.sql"],
     "usr/share/icinga2-ido-pgsql/schema/upgrade"),
    ("pdns", "pdns-backend-pgsql", ["usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql"],
     "usr/share/pdns-backend-pgsql/schema"),
    ("mediawiki", "mediawiki", ["usr/share/mediawiki/maintenance/postgres/tables-generated.sql"],
     "usr/share/mediawiki/maintenance/postgres/archives"),
]


def run(*args, cwd=None):
    subprocess.run(args, check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def download(dl: Path):
    dl.mkdir(parents=True, exist_ok=True)
    for name, version in PYPI.items():
        if not list(dl.glob(name.replace("-", "_") + f"-{version}-*.whl")):
            run(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--only-binary=:all:", "--dest", str(dl), f"{name}=={version}")
    for name, version in NPM.items():
        if not (dl / f"{name}-{version}.tgz").exists():
            run("npm", "pack", "--silent", f"{name}@{version}", cwd=dl)
    for name, version in CRATES.items():
        target = dl / f"{name}-{version}.crate"
        if not target.exists():
            url = f"https://static.crates.io/crates/{name}/{name}-{version}.crate"
            with urllib.request.urlopen(url, timeout=60) as r:
                target.write_bytes(r.read())
    # As root, apt would hand the download to its `_apt` user, who cannot write here.
    apt = ["apt-get", "-q"] + (["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else [])
    for name in DEBIAN:
        if not list(dl.glob(f"{name}_*.deb")):
            try:
                run(*apt, "download", name, cwd=dl)
            except subprocess.CalledProcessError:
                # A machine whose package lists were never fetched.
                run(*apt, "update", "-qq")
                run(*apt, "download", name, cwd=dl)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def lay_out(out: Path, project: str, source: str, files):
    """files: (name, bytes) in the order the project's tool applies them."""
    d = out / project
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for i, (name, data) in enumerate(files):
        (d / f"{i:04}_{slug(name)}.sql").write_bytes(data)
    (d / "SOURCE").write_text(source + "\n")
    print(f"{project}: {len(files)} files", file=sys.stderr)


def wheel(dl: Path, name: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(next(dl.glob(name.replace("-", "_") + f"-{PYPI[name]}-*.whl")))


def synapse(dl: Path, out: Path):
    """Synapse on an empty PostgreSQL database: the newest full schema (72) for the common, main
    and state databases, then for each version 73..SCHEMA_VERSION the delta files of all three,
    sorted by file name (synapse/storage/prepare_database.py). `.sql` and `.sql.postgres` are
    SQL, with the placeholder its PostgreSQL engine substitutes before executing a script
    (engines/postgres.py, read from the same wheel); `.py` deltas run Python and are left out
    (SOURCE lists them)."""
    z = wheel(dl, "matrix-synapse")
    base = "synapse/storage/schema/"
    init = z.read(base + "__init__.py").decode()
    engine = z.read("synapse/storage/engines/postgres.py").decode()
    key = re.search(r'AUTO_INCREMENT_PRIMARY_KEYPLACEHOLDER,\s*"([^"]+)"', engine).group(1)

    def read(path):
        return z.read(path).replace(b"$%AUTO_INCREMENT_PRIMARY_KEY%$", key.encode())

    top = int(re.search(r"^SCHEMA_VERSION = (\d+)", init, re.M).group(1))
    files = [(f"full_{db}", read(f"{base}{db}/full_schemas/72/full.sql.postgres"))
             for db in ("common", "main", "state")]
    skipped = []
    for v in range(73, top + 1):
        entries = []
        for db in ("common", "main", "state"):
            prefix = f"{base}{db}/delta/{v}/"
            for n in z.namelist():
                if n.startswith(prefix) and "/" not in n[len(prefix):]:
                    entries.append((n[len(prefix):], n))
        for leaf, path in sorted(entries):
            if leaf.endswith(".sql") or leaf.endswith(".sql.postgres"):
                files.append((f"{v}_{leaf}", read(path)))
            elif leaf.endswith(".py"):
                skipped.append(f"{v}/{leaf}")
    lay_out(out, "synapse", f"PyPI matrix-synapse {PYPI['matrix-synapse']}: full schema 72, "
            f"deltas 73..{top}; Python deltas left out: {' '.join(skipped)}", files)


def litellm(dl: Path, out: Path):
    """Prisma: one folder per migration, applied in folder-name order."""
    z = wheel(dl, "litellm-proxy-extras")
    names = sorted(n for n in z.namelist()
                   if re.fullmatch(r"litellm_proxy_extras/migrations/[^/]+/migration\.sql", n))
    files = [(n.split("/")[2], z.read(n)) for n in names]
    lay_out(out, "litellm", f"PyPI litellm-proxy-extras {PYPI['litellm-proxy-extras']}: "
            "Prisma migrations in folder-name order", files)


def procrastinate(dl: Path, out: Path):
    z = wheel(dl, "procrastinate")
    names = sorted(n for n in z.namelist()
                   if re.fullmatch(r"procrastinate/sql/migrations/[^/]+\.sql", n))
    files = [(n.rsplit("/", 1)[1][:-4], z.read(n)) for n in names]
    lay_out(out, "procrastinate", f"PyPI procrastinate {PYPI['procrastinate']}: "
            "sql/migrations in name order", files)


def graphile(dl: Path, out: Path):
    """Its loader runs a bootstrap query (dist/migrate.js, read from the same package) before the
    first migration, then each sql/NNNNNN.sql with its schema placeholder substituted."""
    version = NPM["graphile-worker"]
    with tarfile.open(dl / f"graphile-worker-{version}.tgz") as t:
        loader = t.extractfile("package/dist/migrate.js").read().decode()
        boot = re.search(r"query\(`\\\n(create schema.*?)`\);", loader, re.S).group(1)
        boot = boot.replace("${escapedWorkerSchema}", "graphile_worker").encode()
        members = sorted((m for m in t.getmembers()
                          if re.fullmatch(r"package/sql/\d+\.sql", m.name)), key=lambda m: m.name)
        files = [("bootstrap", boot)] + [
            (m.name.rsplit("/", 1)[1][:-4],
             t.extractfile(m).read().replace(b":GRAPHILE_WORKER_SCHEMA", b"graphile_worker"))
            for m in members]
    lay_out(out, "graphile-worker", f"npm graphile-worker {version}: the bootstrap query of "
            "dist/migrate.js, then sql/NNNNNN.sql in order, :GRAPHILE_WORKER_SCHEMA replaced by "
            "graphile_worker (as migrate.js does)", files)


def crate(dl: Path, out: Path, project: str, name: str, pattern: str, how: str):
    """A crate's migrations: the files whose path in the crate matches `pattern`, in path order
    (sqlx and diesel both order by the timestamp that starts each name)."""
    version = CRATES[name]
    with tarfile.open(dl / f"{name}-{version}.crate") as t:
        members = sorted((m for m in t.getmembers() if re.search(pattern, m.name)),
                         key=lambda m: m.name)
        files = [(m.name.split("/migrations/", 1)[1].removesuffix(".sql"),
                  t.extractfile(m).read()) for m in members]
    lay_out(out, project, f"crates.io {name} {version}: {how}", files)


def atuin(dl: Path, out: Path):
    crate(dl, out, "atuin", "atuin-server-postgres", r"/migrations/[^/]+\.sql$",
          "sqlx migrations in order")


def apalis(dl: Path, out: Path):
    crate(dl, out, "apalis", "apalis-postgres", r"/migrations/[^/]+\.sql$",
          "sqlx migrations in order")


def lemmy(dl: Path, out: Path):
    crate(dl, out, "lemmy", "lemmy_db_schema", r"/migrations/[^/]+/up\.sql$",
          "diesel migrations (each folder's up.sql) in folder-name order")


def unpacked(dl: Path, package: str) -> tuple[Path, str]:
    deb = next(dl.glob(f"{package}_*.deb"))
    x = dl / f"{package}-x"
    if not x.exists():
        run("dpkg-deb", "-x", str(deb), str(x))
    return x, deb.name


def version_key(name: str):
    """`1.1.10` after `1.1.9`, `2.8.1` after `2.8.0`: numbers compared as numbers."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name)]


def upgrades(dl: Path, out: Path):
    for project, package, schemas, updir in UPGRADES:
        x, deb = unpacked(dl, package)
        files = []
        for schema in schemas:
            owner, path = schema.split(":") if ":" in schema else (package, schema)
            files.append((Path(path).stem, (unpacked(dl, owner)[0] / path).read_bytes()))
        bases = {x / s for s in schemas}
        scripts = sorted((f for f in (x / updir).glob("*.sql") if f not in bases),
                         key=lambda f: version_key(f.name))
        files += [(f.stem, f.read_bytes()) for f in scripts]
        lay_out(out, project, f"Debian {deb}: {' '.join(schemas)}, then the upgrade scripts of "
                f"{updir} in version order onto it (upgrade scripts replayed onto the current "
                "schema, not a chain from an empty database)", files)


def ledgersmb(dl: Path, out: Path):
    """LedgerSMB's new-company path: Pg-database.sql, then sql/changes/LOADORDER (a leading `!`
    marks a change LedgerSMB tolerates failing), then sql/modules/LOADORDER."""
    x, deb = unpacked(dl, "ledgersmb")
    sql = x / "usr/share/ledgersmb/sql"
    files = [("Pg-database", (sql / "Pg-database.sql").read_bytes())]
    for sub in ("changes", "modules"):
        for line in (sql / sub / "LOADORDER").read_text().splitlines():
            line = line.split("#", 1)[0].strip().lstrip("!")
            if line:
                files.append((f"{sub}_{line[:-4]}", (sql / sub / line).read_bytes()))
    lay_out(out, "ledgersmb", f"Debian {deb}: Pg-database.sql, changes/LOADORDER, "
            "modules/LOADORDER", files)


def main():
    out = Path(sys.argv[1])
    dl = out / "downloads"
    download(dl)
    for lay in (synapse, litellm, procrastinate, graphile, atuin, apalis, lemmy, ledgersmb,
                upgrades):
        lay(dl, out)


if __name__ == "__main__":
    main()
