-- The audit log is append-only in the database itself: no statement, from
-- Aidant or from anyone with a connection, changes or removes an entry.
-- (Someone who owns the database file can drop these triggers; the hash
-- chain and signed checkpoints kept outside the data directory catch what
-- they then change.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be deleted');
END;
