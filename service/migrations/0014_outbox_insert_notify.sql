-- Wake the outbox relays when rows are committed instead of making them poll: every INSERT
-- statement on the outbox queues one notification on the `outbox_inserted` channel, which
-- PostgreSQL delivers at commit (never for a rolled-back placement) and folds into one per
-- transaction. The payload is empty: a relay claims whatever is unpublished, so a lost or
-- extra notification costs nothing but a poll (the relays keep polling as a fallback).
CREATE OR REPLACE FUNCTION outbox_insert_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_inserted', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_insert_notify
    AFTER INSERT ON outbox
    FOR EACH STATEMENT
    EXECUTE FUNCTION outbox_insert_notify();
