-- Flood protection's counts, shared by every `aidant serve` on this
-- database (see `flood.rs`): per limiter, a keyed hash of a client's
-- address and when its allowance is next whole. Unlogged: a crash forgets
-- them (every client starts with a full allowance), and counting a request
-- waits for no write-ahead log flush.
CREATE UNLOGGED TABLE flood_limits (
    limiter TEXT NOT NULL,
    client_hash BIGINT NOT NULL,
    arrival BIGINT NOT NULL,
    PRIMARY KEY (limiter, client_hash)
);
