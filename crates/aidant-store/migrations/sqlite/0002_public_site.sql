-- The public site: drafts of reports in progress, what reporters and staff
-- add to a report afterwards, anonymous feedback, and the keep-in-contact
-- sign-in state. Like reports, none of these rows holds request metadata.

-- A report being written, one page at a time. The answers are sealed with
-- the master key (they may name people) and expire after a few hours.
CREATE TABLE report_drafts (
    id TEXT PRIMARY KEY,
    sealed_answers BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX report_drafts_expiry ON report_drafts (expires_at);

-- Messages on a report after it was made: information the reporter adds
-- (author_kind 'reporter') and replies staff write for them ('staff').
CREATE TABLE report_messages (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    author_kind TEXT NOT NULL,
    author_user_id TEXT REFERENCES users (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX report_messages_report ON report_messages (report_id, created_at);

-- Failed keep-in-contact sign-ins, counted per report so that guessing a
-- passphrase is slow whatever address the guesses come from.
ALTER TABLE reports ADD COLUMN follow_up_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN follow_up_locked_until BIGINT NOT NULL DEFAULT 0;

-- Anonymous feedback on the service.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    satisfaction TEXT,
    body TEXT NOT NULL
);
