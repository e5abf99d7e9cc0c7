-- The staff workspace: sign-in, sessions and personal API tokens; triage
-- state on reports; graded intelligence records and their shares; and one
-- search index over what staff may find.

-- The organisation that receives public reports owns them (a force's
-- control room). Its administrators can require a second factor.
ALTER TABLE organisations ADD COLUMN receives_public_reports BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN require_second_factor BIGINT NOT NULL DEFAULT 0;

-- Credentials: an Argon2id hash (PHC string), failure counting for lockout,
-- and the TOTP secret sealed with the master key.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
ALTER TABLE users ADD COLUMN totp_sealed BYTEA;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Server-side sessions. Only a SHA-256 of the cookie value is stored, so a
-- copy of this table cannot be replayed as a cookie.
CREATE TABLE staff_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    second_factor_done BIGINT NOT NULL,
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
    no_onward_sharing BIGINT NOT NULL,
    originator_consent BIGINT NOT NULL,
    expires_at BIGINT,
    sanitised_text TEXT NOT NULL,
    source_sealed BYTEA,
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
-- aidant-core's search::fold before it is written. A generated tsvector with
-- the 'simple' configuration (no stemming: names are not English words)
-- and a GIN index; SQLite uses FTS5.
CREATE TABLE search_documents (
    doc_id BIGSERIAL PRIMARY KEY,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    owner_organisation_id TEXT,
    body TEXT NOT NULL,
    document TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    UNIQUE (record_kind, record_id)
);

CREATE INDEX search_documents_owner ON search_documents (owner_organisation_id);
CREATE INDEX search_documents_text ON search_documents USING GIN (document);
