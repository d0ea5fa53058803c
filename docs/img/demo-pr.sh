#!/usr/bin/env sh
# Builds the demo pull request the pictures in docs/ show, in DIR (which must not exist):
# the example set of migrations/ under auth/, applied and recorded, an Alembic project stamped
# at its head, then a branch `feature` that
#   - adds 0005_add_email.sql while main took 0005 for 0005_add_phone.sql (a number conflict),
#   - edits the applied 0002_create_roles.sql (an applied migration changed),
#   - adds an Alembic revision without stamping it (the SQL's stamp is no longer the head).
# HEAD is `feature`; the base is `main`. tests/cli_graph.rs checks this very repository.
#   docs/img/demo-pr.sh DIR [MIGLINT]
set -eu
dir=$1
miglint=${2:-miglint}
here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir "$dir"
cd "$dir"
git init -q -b main
git config user.name "Dana Reviewer"
git config user.email dana@example.com
git config commit.gpgsign false

mkdir -p auth/migrations auth/alembic/versions
cp "$here"/migrations/000*.sql auth/migrations/
cat > miglint.toml <<'EOF'
[git]
base = "main"

[[set]]
dir = "auth/migrations"
EOF
cat > auth/alembic.ini <<'EOF'
[alembic]
script_location = %(here)s/alembic
EOF
cat > auth/alembic/env.py <<'EOF'
from alembic import context

def run_migrations_online():
    context.configure(version_table="alembic_version_auth", version_table_schema="auth")
EOF
revision() { # id down file
    printf '"""%s"""\nrevision = "%s"\ndown_revision = %s\nbranch_labels = None\ndepends_on = None\n' \
        "$3" "$1" "$2" > "auth/alembic/versions/$1_$3.py"
}
revision 3f1a9c2e7b10 None init
revision 8d4be0a1c955 '"3f1a9c2e7b10"' roles
cat > auth/migrations/0004_stamp_alembic.sql <<'EOF'
-- Alembic no longer runs: stamp its version table so it sees the schema as current.
INSERT INTO auth.alembic_version_auth (version_num) VALUES ('8d4be0a1c955');
EOF
"$miglint" record --through 4 >/dev/null
git add -A && git commit -qm "Migrations 0000-0004, applied"

git checkout -q -b feature
cat > auth/migrations/0005_add_email.sql <<'EOF'
ALTER TABLE auth.users ADD COLUMN email_verified_at timestamptz;
EOF
sed -i.bak 's/name text NOT NULL UNIQUE/name text NOT NULL UNIQUE,\n    description text/' \
    auth/migrations/0002_create_roles.sql && rm auth/migrations/0002_create_roles.sql.bak
revision c7e2d94f0a31 '"8d4be0a1c955"' user_flags
git add -A && git commit -qm "Email verification"

git checkout -q main
cat > auth/migrations/0005_add_phone.sql <<'EOF'
ALTER TABLE auth.users ADD COLUMN phone text;
EOF
git add -A && git commit -qm "Phone numbers"
git checkout -q feature
