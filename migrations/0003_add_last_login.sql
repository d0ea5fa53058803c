ALTER TABLE auth.users ADD COLUMN last_login_at timestamptz;

CREATE INDEX users_last_login_idx ON auth.users (last_login_at DESC NULLS LAST);
