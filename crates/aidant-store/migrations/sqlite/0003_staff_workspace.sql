-- The staff workspace: sign-in, sessions and personal API tokens; triage
-- state on reports; graded intelligence records and their shares; and one
-- search index over what staff may find.

-- The organisation that receives public reports owns them (a force's
-- control room). Its administrators can require a second factor.
ALTER TABLE organisations ADD COLUMN receives_public_reports INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN require_second_factor INTEGER NOT NULL DEFAULT 0;

-- Credentials: an Argon2id hash (PHC string), failure counting for lockout,
-- and the TOTP secret sealed with the master key.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
ALTER TABLE users ADD COLUMN totp_sealed BLOB;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Server-side sessions. Only a SHA-256 of the cookie value is stored, so a
-- copy of this table cannot be replayed as a cookie.
CREATE TABLE staff_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    second_factor_done INTEGER NOT NULL,
    csrf_token TEXT NOT NULL
);

CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

-- Personal API tokens: shown once, stored as SHA-256.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Triage state.
ALTER TABLE reports ADD COLUMN assignee_user_id TEXT REFERENCES users (id);
ALTER TABLE reports ADD COLUMN first_opened_at BIGINT;
ALTER TABLE reports ADD COLUMN updated_at BIGINT;

CREATE INDEX reports_owner_queue ON reports (owning_organisation_id, risk_rank, received_at);
CREATE INDEX reports_owner_status ON reports (owning_organisation_id, status, risk_rank, received_at);
CREATE INDEX reports_unopened ON reports (owning_organisation_id, risk_level, first_opened_at);

-- Intelligence records, graded 3x5x2 (or 5x5x5 for historic records, kept
-- as given). The sanitised text may be shared; the source text and the
-- source's identity are sealed and seen only by the originating unit.
CREATE TABLE intelligence (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    report_id TEXT REFERENCES reports (id),
    owner_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    title TEXT NOT NULL,
    grading_scheme TEXT NOT NULL,
    source_grade TEXT NOT NULL,
    intelligence_grade TEXT NOT NULL,
    handling_code TEXT NOT NULL,
    conditions_text TEXT,
    recipient_organisations TEXT NOT NULL,
    no_onward_sharing INTEGER NOT NULL,
    originator_consent INTEGER NOT NULL,
    expires_at BIGINT,
    sanitised_text TEXT NOT NULL,
    source_sealed BLOB,
    review_on TEXT
);

CREATE INDEX intelligence_owner ON intelligence (owner_organisation_id, created_at);
CREATE INDEX intelligence_report ON intelligence (report_id);

CREATE TABLE intelligence_shares (
    intelligence_id TEXT NOT NULL REFERENCES intelligence (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    shared_by TEXT NOT NULL REFERENCES users (id),
    shared_at BIGINT NOT NULL,
    PRIMARY KEY (intelligence_id, organisation_id)
);

CREATE INDEX intelligence_shares_organisation ON intelligence_shares (organisation_id);

-- Search: one document per report or intelligence record, holding only
-- text its readers may see (never sealed fields), folded to ASCII words by
-- aidant-core's search::fold before it is written. FTS5 indexes it here;
-- PostgreSQL uses a tsvector.
CREATE TABLE search_documents (
    doc_id INTEGER PRIMARY KEY,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    owner_organisation_id TEXT,
    body TEXT NOT NULL,
    UNIQUE (record_kind, record_id)
);

CREATE INDEX search_documents_owner ON search_documents (owner_organisation_id);

CREATE VIRTUAL TABLE search_text USING fts5 (body, content = 'search_documents', content_rowid = 'doc_id', tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_text (rowid, body) VALUES (new.doc_id, new.body);
END;

CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents BEGIN
    INSERT INTO search_text (search_text, rowid, body) VALUES ('delete', old.doc_id, old.body);
END;

CREATE TRIGGER search_documents_update AFTER UPDATE OF body ON search_documents BEGIN
    INSERT INTO search_text (search_text, rowid, body) VALUES ('delete', old.doc_id, old.body);
    INSERT INTO search_text (rowid, body) VALUES (new.doc_id, new.body);
END;
