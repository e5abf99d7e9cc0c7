-- Foundation schema (PostgreSQL): organisations, users, public reports and the
-- hash-chained audit log. Ids are UUIDv7 text; times are Unix milliseconds;
-- flags are 0/1 integers so they read back the same through sqlx's Any driver.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Users exist before sign-in does; credentials arrive with the staff workspace.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- A public report. Nothing about the request that carried it (address, agent,
-- headers) is ever stored. Contact details, when given, are sealed with a
-- per-record data key (see crypto.rs) and never stored in clear.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    submission_token TEXT UNIQUE,
    received_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    risk_level TEXT NOT NULL,
    risk_rank BIGINT NOT NULL,
    triage_score BIGINT NOT NULL,
    triage_reasons TEXT NOT NULL,
    catalogue_version TEXT NOT NULL,
    sector TEXT NOT NULL,
    postcode TEXT,
    town TEXT,
    location_description TEXT,
    business_name TEXT,
    people_count BIGINT,
    age_groups TEXT NOT NULL,
    people_description TEXT,
    narrative TEXT,
    when_seen TEXT,
    immediate_danger BIGINT NOT NULL,
    child_reported BIGINT NOT NULL,
    contact_sealed BYTEA,
    passphrase_hash TEXT,
    owning_organisation_id TEXT REFERENCES organisations (id)
);

-- The triage queue reads by status, then risk, then age.
CREATE INDEX reports_queue ON reports (status, risk_rank, received_at);

CREATE TABLE report_signs (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    indicator_id TEXT NOT NULL,
    PRIMARY KEY (report_id, indicator_id)
);

CREATE TABLE report_vehicles (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    registration TEXT,
    description TEXT,
    PRIMARY KEY (report_id, position)
);

CREATE INDEX report_vehicles_registration ON report_vehicles (registration);

-- The audit chain: hash = SHA-256(previous_hash || canonical entry).
CREATE TABLE audit_log (
    sequence BIGINT PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    reason TEXT,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_log_record ON audit_log (record_kind, record_id);
CREATE INDEX audit_log_actor ON audit_log (actor);

-- The chain's tip, kept apart from the entries so deleting the newest
-- entries is detectable, and updated first in every appending transaction so
-- that appends are serialised on both backends.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_sequence BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

INSERT INTO audit_head (id, last_sequence, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
