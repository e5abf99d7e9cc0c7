-- People: the people records name, resolved into person entities by the
-- incremental linker, and analysts' decisions about who is who.

-- A person a record names (today: the "people named" part of an
-- intelligence record). id is the linker's record id for the person,
-- '<record kind>:<record id>:<position>'; name, date of birth, nationality
-- and role are sealed together.
CREATE TABLE record_people (
    id TEXT PRIMARY KEY,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    details_sealed BYTEA NOT NULL
);
CREATE INDEX record_people_record ON record_people (record_kind, record_id);

-- Each word of a named person's name, folded, under a keyed hash (the
-- entity index's key): search finds people by name without a readable copy.
CREATE TABLE person_name_keys (
    key_hash BIGINT NOT NULL,
    person_record TEXT NOT NULL,
    PRIMARY KEY (key_hash, person_record)
);

-- A person entity whose records the linker or an analyst found to be
-- another's: its page points there. Its id is never reused.
ALTER TABLE entities ADD COLUMN merged_into TEXT;

-- "Same person", "not the same person" and "take this record out", each
-- about people's records (record_people ids), with a sealed reason; undone
-- by a supervisor, never deleted.
CREATE TABLE person_decisions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    record_a TEXT NOT NULL,
    record_b TEXT,
    reason_sealed BYTEA NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    undone_by TEXT,
    undone_at BIGINT
);
CREATE INDEX person_decisions_a ON person_decisions (record_a);
CREATE INDEX person_decisions_b ON person_decisions (record_b);

-- How many decisions are in force, read with every addition so that an
-- addition looks decisions up only when there are some.
ALTER TABLE link_resolver ADD COLUMN decisions BIGINT NOT NULL DEFAULT 0;
