-- Retention review (MoPI): the last decision to keep a record past its
-- review date, with the reason (from a fixed list, so no free text about a
-- person) and when it is next due. A record deleted at review leaves only
-- its audit entries, which say that it was deleted, by whom and why.
CREATE TABLE retention_reviews (
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    next_review_at BIGINT NOT NULL,
    PRIMARY KEY (record_kind, record_id)
);
