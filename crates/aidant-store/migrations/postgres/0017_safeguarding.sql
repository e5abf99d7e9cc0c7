-- Safeguarding: potential victims, their National Referral Mechanism
-- referral, the support organisations they are referred to and the
-- support given.

-- Pseudonyms are numbered per organisation and year (PV-26-0017); the
-- counter is taken with an upsert that returns the new number, so two
-- cases made at once never share one.
CREATE TABLE victim_counters (
    organisation_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, year)
);

-- A potential victim's case. Everything that identifies the person (name,
-- nickname, date of birth or estimated age, gender, nationality,
-- languages, interpreter, contact) is in identity_sealed; the rest is what
-- the clock and the dashboard need, under the pseudonym. Dates are
-- calendar days, YYYY-MM-DD.
CREATE TABLE potential_victims (
    id TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL,
    owner_organisation_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    officer_in_case TEXT,
    age_assessment TEXT NOT NULL,
    identity_sealed BYTEA NOT NULL,
    exploitation_types TEXT NOT NULL DEFAULT '[]',
    county_lines BIGINT NOT NULL DEFAULT 0,
    referred_on TEXT,
    duty_to_notify_on TEXT,
    rg_on TEXT,
    rg_decision TEXT,
    cg_on TEXT,
    cg_decision TEXT,
    withdrawn_on TEXT,
    local_authority_referred_on TEXT
);
CREATE UNIQUE INDEX potential_victims_pseudonym ON potential_victims (owner_organisation_id, pseudonym);
CREATE INDEX potential_victims_organisation ON potential_victims (owner_organisation_id, created_at);

-- The reports, intelligence records and entities that concern a person.
CREATE TABLE victim_links (
    victim_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (victim_id, kind, target_id)
);
CREATE INDEX victim_links_target ON victim_links (kind, target_id);

-- The referral as the first responder writes it, page by page: the
-- answers (sealed: they hold the person's identity), the pages answered,
-- and once completed, when, by whom and on which path (nrm or
-- duty_to_notify; a Duty to Notify's answers hold nothing identifying).
CREATE TABLE nrm_referrals (
    victim_id TEXT PRIMARY KEY,
    answers_sealed BYTEA NOT NULL,
    pages_done TEXT NOT NULL DEFAULT '[]',
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    path TEXT,
    completed_by TEXT,
    completed_at BIGINT
);

-- A referral to a support organisation: what it was given (sealed, as it
-- may hold the identity), which fields, by whom and when.
CREATE TABLE support_referrals (
    id TEXT PRIMARY KEY,
    victim_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    referred_by TEXT NOT NULL,
    referred_at BIGINT NOT NULL,
    fields TEXT NOT NULL,
    shared_sealed BYTEA NOT NULL
);
CREATE INDEX support_referrals_victim ON support_referrals (victim_id);
CREATE INDEX support_referrals_organisation ON support_referrals (organisation_id, referred_at);

-- Support given, recorded by the organisation that gave it.
CREATE TABLE support_given (
    id TEXT PRIMARY KEY,
    support_referral_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    given_on TEXT NOT NULL,
    note_sealed BYTEA,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX support_given_referral ON support_given (support_referral_id, given_on);
