-- A password an administrator set (a new account or a reset) is temporary:
-- its holder must choose their own before the workspace opens.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
