-- The application's role: DML where it needs it, and nothing but SELECT/INSERT on the
-- audit log. Created here when missing so a fresh environment needs no manual step;
-- on Aurora it is also granted rds_iam by the platform runbook for IAM authentication.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'orders_app') THEN
        CREATE ROLE orders_app LOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO orders_app;
GRANT SELECT, INSERT, UPDATE ON orders TO orders_app;
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO orders_app;
GRANT SELECT, INSERT, UPDATE ON outbox TO orders_app;
GRANT USAGE ON SEQUENCE outbox_id_seq TO orders_app;
GRANT SELECT, INSERT ON processed_events TO orders_app;
GRANT SELECT, INSERT ON audit_events TO orders_app;
GRANT SELECT, UPDATE ON audit_chain_head TO orders_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
