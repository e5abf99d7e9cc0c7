-- Networks in the browser: saved link charts, saved organised-crime-group
-- analyses, the roles analysts give people in a group, and the disclosure
-- log of export packages.

-- A link chart as an analyst saved it. Its state is JSON (the entities on
-- it, hidden, pinned and placed, groups and their labels, layout and time
-- window); what it shows is decided again for whoever opens it. Name and
-- state are sealed: analysts name charts and groups after people.
CREATE TABLE charts (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    owner_user_id TEXT NOT NULL,
    name_sealed BLOB NOT NULL,
    shared BIGINT NOT NULL DEFAULT 0,
    state_sealed BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX charts_organisation ON charts (organisation_id, updated_at);

-- An organised-crime-group analysis as run and saved: its window, its run
-- record and groups as JSON of entity ids and figures (no value, no label),
-- so it can be shown again to whoever may see the entities, compared with a
-- later window, and re-run to the same answer.
CREATE TABLE network_analyses (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    name_sealed BLOB NOT NULL,
    window_from TEXT,
    window_to TEXT,
    result TEXT NOT NULL
);
CREATE INDEX network_analyses_organisation ON network_analyses (organisation_id, created_at);

-- A person's role in a group (Human Trafficking Case Data Standard), as an
-- organisation's analysts assessed it.
CREATE TABLE network_roles (
    organisation_id TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    role TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, entity_id)
);

-- Every export package made for another organisation: who, to whom, when,
-- what it held (references and counts, as JSON) and the SHA-256 of the zip.
CREATE TABLE disclosures (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    recipient_organisation_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    contents TEXT NOT NULL,
    package_sha256 TEXT NOT NULL
);
CREATE INDEX disclosures_organisation ON disclosures (organisation_id, created_at);
