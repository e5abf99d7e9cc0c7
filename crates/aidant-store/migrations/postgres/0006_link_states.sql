-- The incremental entity resolver's state (aidant-link's IncrementalLinker
-- as versioned bytes), kept so a server restarts with every resolved
-- person, phone and vehicle it knew. It holds names and identifiers, so it
-- is sealed with the master key like other identities.
CREATE TABLE link_states (
    id TEXT PRIMARY KEY,
    record_count BIGINT NOT NULL,
    state_sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
