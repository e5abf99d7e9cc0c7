-- The audit log is append-only in the database itself: no statement, from
-- Aidant or from anyone with a connection, changes, removes or truncates an
-- entry. (The table's owner can drop these triggers; the hash chain and
-- signed checkpoints kept outside the data directory catch what they then
-- change. A deployment can also grant the application role INSERT and
-- SELECT only: see docs/deployment.md.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
