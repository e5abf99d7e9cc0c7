-- The workspace at a force's volume: the queue pages by key (the last row
-- seen) instead of by offset, so every report can be reached; it sorts by
-- received time either way; and a reporter's message that no member of
-- staff has read yet marks its report.

-- Reporter messages added since a member of staff last opened the report.
ALTER TABLE reports ADD COLUMN unread_messages BIGINT NOT NULL DEFAULT 0;

-- Each order's index ends in the id, the tie-breaker of the key.
DROP INDEX reports_owner_queue;
DROP INDEX reports_owner_status;
CREATE INDEX reports_owner_urgent ON reports (owning_organisation_id, risk_rank, received_at, id);
CREATE INDEX reports_owner_status_urgent ON reports (owning_organisation_id, status, risk_rank, received_at, id);
CREATE INDEX reports_owner_received ON reports (owning_organisation_id, received_at, id);
CREATE INDEX reports_owner_status_received ON reports (owning_organisation_id, status, received_at, id);

-- Few reports wait with an unread message; the counts at the top of the
-- queue read only those.
CREATE INDEX reports_owner_unread ON reports (owning_organisation_id, assignee_user_id) WHERE unread_messages > 0;
