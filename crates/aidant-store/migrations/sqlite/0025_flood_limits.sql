-- Flood protection's counts (see `flood.rs`): per limiter, a keyed hash of
-- a client's address and when its allowance is next whole. SQLite is one
-- process by design, and `aidant serve` on it counts in memory; the table
-- is here so both backends have one schema.
CREATE TABLE flood_limits (
    limiter TEXT NOT NULL,
    client_hash INTEGER NOT NULL,
    arrival INTEGER NOT NULL,
    PRIMARY KEY (limiter, client_hash)
) WITHOUT ROWID;
