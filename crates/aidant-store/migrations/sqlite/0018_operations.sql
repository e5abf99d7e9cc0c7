-- Operations: a multi-agency day or week of action, its sites and teams,
-- and what officers record in the field.

CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    lead_organisation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX operations_lead ON operations (lead_organisation_id, starts_on);

-- The agencies taking part besides the lead force.
CREATE TABLE operation_agencies (
    operation_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    PRIMARY KEY (operation_id, organisation_id)
);

-- A site: a kind of place (a catalogue sector, which decides the signs
-- asked about there), where it is, the entity it is when known, and why it
-- was chosen; the records behind it are in operation_site_records.
CREATE TABLE operation_sites (
    id TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    postcode TEXT,
    entity_id TEXT,
    reason TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE INDEX operation_sites_operation ON operation_sites (operation_id, position);

CREATE TABLE operation_site_records (
    site_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (site_id, kind, record_id)
);

-- A team: its tasks, the sites it covers and its members, from any agency.
CREATE TABLE operation_teams (
    id TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    tasks TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE INDEX operation_teams_operation ON operation_teams (operation_id, position);

CREATE TABLE operation_team_sites (
    team_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    PRIMARY KEY (team_id, site_id)
);

CREATE TABLE operation_team_members (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX operation_team_members_user ON operation_team_members (user_id);

-- What officers recorded, keyed by the id the phone gave each record, so a
-- record sent twice is stored once. What was sent is sealed (notes,
-- nationalities and languages may point at people).
CREATE TABLE field_records (
    id TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    kind TEXT NOT NULL,
    site_id TEXT,
    recorded_on TEXT NOT NULL,
    answers_sealed BLOB NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX field_records_operation ON field_records (operation_id, received_at);
