-- 0000_init: the bookkeeping every later migration relies on.
-- migration_history records each applied file with the SHA-256 of its bytes; the same value is
-- kept in applied.sha256 so miglint can enforce immutability offline.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.migration_history (
    filename   text        PRIMARY KEY,
    checksum   char(64)    NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_by text        NOT NULL DEFAULT current_user,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Alembic no longer runs, but its version table is stamped so it sees the schema as current.
CREATE TABLE IF NOT EXISTS auth.alembic_version_auth (
    version_num varchar(32) NOT NULL,
    CONSTRAINT alembic_version_auth_pkc PRIMARY KEY (version_num)
);
