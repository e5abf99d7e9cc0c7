-- The incremental entity resolver as rows, replacing the one sealed blob of
-- 0006: every addition rewrote the whole blob, which only one process could
-- do. Now adding a record writes its own rows and the few count, entity and
-- link rows it touches, in one transaction (crates/aidant-store/src/link_records.rs).
-- Nothing here names a person in the clear: features are sealed per record,
-- and blocking keys, term values and names are counted under keyed hashes
-- (HMAC-SHA256 under the resolver's index key, first 8 bytes as an integer).
DROP TABLE link_states;

-- The resolver: its model (no personal data), settings, the blind index's
-- key (random, sealed with the master key, so rotating the master key
-- changes no hash), and the counters every addition advances. Each addition
-- updates this row first, which serialises additions on both backends.
CREATE TABLE link_resolver (
    id TEXT PRIMARY KEY,
    model_json TEXT NOT NULL,
    -- aidant_link::blocking::STABLE_KEY_VERSION of the stored keys.
    key_version INTEGER NOT NULL,
    max_block_size INTEGER NOT NULL,
    link_weight REAL NOT NULL,
    index_key_sealed BLOB NOT NULL,
    -- A new UUID whenever the model or index key is set, for caches.
    generation TEXT NOT NULL,
    -- 0 while a bulk load is writing rows; additions wait for 1.
    ready INTEGER NOT NULL,
    record_count INTEGER NOT NULL,
    next_record_number INTEGER NOT NULL,
    next_entity INTEGER NOT NULL,
    next_event INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per resolved record. record_number is the order of addition
-- (candidates are scored in this order, as in memory); keys and links refer
-- to it. features_sealed holds aidant_link::features::PortableFeatures
-- bytes (names, date of birth, phone, postcode...), bound to the record id.
CREATE TABLE link_records (
    record_number INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    entity_id INTEGER NOT NULL,
    features_sealed BLOB NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE INDEX link_records_entity ON link_records (entity_id, record_number);

-- The blind index: a record under each of its blocking keys' hashes. A new
-- record's candidates are one indexed lookup of its keys. Written only with
-- its record, in one transaction, so no foreign key (checking one per row
-- would slow the bulk load of ~15 rows per record).
CREATE TABLE link_keys (
    key_hash INTEGER NOT NULL,
    record_number INTEGER NOT NULL,
    PRIMARY KEY (key_hash, record_number)
) WITHOUT ROWID;

-- How many records have something, under a keyed hash of what (each kind
-- hashed with its own prefix): a blocking key (blocks above the resolver's
-- max_block_size are not searched, as in batch linking), a field's value
-- (term frequencies), and a field at all (the totals term frequencies are
-- shares of). One table, so an addition counts everything in one statement.
CREATE TABLE link_counts (
    count_hash INTEGER PRIMARY KEY,
    record_count INTEGER NOT NULL
);

-- Entities keep their ids for ever: a merged entity points to the one that
-- absorbed it.
CREATE TABLE link_entities (
    entity_id INTEGER PRIMARY KEY,
    absorbed_into INTEGER,
    created_at INTEGER NOT NULL
);

-- Links between records of one entity, with their log2 match weight: each
-- pair once, the later record first.
CREATE TABLE link_pairs (
    record_number INTEGER NOT NULL,
    other_record_number INTEGER NOT NULL,
    weight REAL NOT NULL,
    PRIMARY KEY (record_number, other_record_number)
) WITHOUT ROWID;
CREATE INDEX link_pairs_other ON link_pairs (other_record_number);

-- What happened to entities, in order: created, attached (with the match
-- probability), merged (entity_id survives, other_entities were absorbed,
-- reason names the matched records and probabilities) or split (entity_id
-- is the original, other_entities the new parts). Ids and probabilities
-- only; other_entities is a comma-separated list of entity ids.
CREATE TABLE link_events (
    sequence INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    record_id TEXT,
    match_probability REAL,
    other_entities TEXT,
    reason TEXT,
    occurred_at INTEGER NOT NULL
);

-- How often each folded name was written as a given name and as a family
-- name, under a keyed hash: decides which part of a swapped name is the
-- surname.
CREATE TABLE link_name_roles (
    name_hash INTEGER PRIMARY KEY,
    as_given INTEGER NOT NULL,
    as_family INTEGER NOT NULL
);
