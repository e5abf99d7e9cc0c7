-- Entities: the people, phones, vehicles, addresses, businesses, emails and
-- online accounts that records mention, found by a background worker.

-- Records waiting to be read for entities, queued in the transaction that
-- commits the record. A job is deleted in the transaction that writes what
-- it found; a failure puts it back with a later run_after, and after too
-- many attempts parks it (parked = 1) with its last error for administrators.
CREATE TABLE entity_jobs (
    id TEXT PRIMARY KEY,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    run_after INTEGER NOT NULL,
    parked INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX entity_jobs_ready ON entity_jobs (parked, run_after, id);

-- The random key of the blind index over entity values, sealed.
CREATE TABLE entity_index_keys (
    id TEXT PRIMARY KEY,
    key_sealed BLOB NOT NULL
);

-- One row per thing. value_hash is a keyed hash of the normal form (so the
-- index names nobody); the value itself is sealed. The id never changes:
-- a rebuild finds the same row by (kind, value_hash).
CREATE TABLE entities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    value_hash INTEGER NOT NULL,
    value_sealed BLOB NOT NULL,
    label_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, value_hash)
);

-- A record's field mentions an entity. seen_at is when the record was
-- received or written; a retried job writes nothing twice (the key).
CREATE TABLE entity_mentions (
    entity_id TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    confidence REAL NOT NULL,
    PRIMARY KEY (entity_id, record_kind, record_id, field)
);
CREATE INDEX entity_mentions_record ON entity_mentions (record_kind, record_id);
CREATE INDEX entity_mentions_seen ON entity_mentions (entity_id, seen_at);

-- Analysts who watch an entity, and what they have seen of it.
CREATE TABLE entity_watches (
    user_id TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    watched_at INTEGER NOT NULL,
    seen_until INTEGER NOT NULL,
    PRIMARY KEY (user_id, entity_id)
);
