-- Wake an idle outbox relay when rows are committed, instead of making it poll often.
--
-- NOTIFY is not free: at commit PostgreSQL takes a cluster-wide lock ("database 0", see
-- PreCommit_Notify in src/backend/commands/async.c) and holds it until the commit record is
-- flushed, so notifying transactions commit one fsync at a time. A notification on every
-- placement measured the pgbench ceiling at roughly a quarter of its value. So a placement
-- notifies only when it finds no other unpublished row: the relay is then idle (or about to
-- be) and needs the wake-up; under load there is a backlog, nothing is notified, and the
-- relay, which keeps claiming while it finds rows, needs none. The rare wake-up missed in
-- between (a row committed just after the relay's last empty claim) waits for the relay's
-- fallback poll. The payload is empty: a relay claims whatever is unpublished.
CREATE OR REPLACE FUNCTION outbox_insert_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM outbox
        WHERE published_at IS NULL AND id NOT IN (SELECT id FROM inserted_rows)
    ) THEN
        PERFORM pg_notify('outbox_inserted', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_insert_notify
    AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION outbox_insert_notify();
