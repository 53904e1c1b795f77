-- Append-only, hash-chained audit log of every order state transition.
-- Each row's hash covers a canonical encoding of the row and the previous row's hash,
-- so any edit, insertion or deletion breaks the chain at a findable point.

CREATE TABLE audit_events (
    seq          bigint PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    order_id     uuid NOT NULL REFERENCES orders (id),
    event_type   text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    actor        text NOT NULL,
    payload      jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);
CREATE INDEX audit_events_by_order ON audit_events (order_id, seq);

-- One row: the chain's head. Appenders lock it, so the chain is a total order.
CREATE TABLE audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq   bigint NOT NULL,
    last_hash  text NOT NULL
);
INSERT INTO audit_chain_head (last_seq, last_hash) VALUES (0, repeat('0', 64));

CREATE FUNCTION audit_events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % rejected', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Triggers bind the table owner too; only disabling them (superuser) gets past,
-- and `python -m service audit verify` then finds the broken link.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();
