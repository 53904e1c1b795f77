-- The simulated venue's fill of a whole receive in one round trip. It does what
-- service.venue.apply_venue_event does for an 'order.created' event, for each event of the
-- batch in order: PENDING -> SUBMITTED -> FILLED (or REJECTED), two audit events, the
-- processed-events ledger entry. The worker computes everything that does not need the
-- database beforehand (the audit events' ids, payloads and leaf hashes, the venue's verdict
-- from the quantity its message carries), so the row is checked against what was computed:
--   * 'unknown'   no such order (a poison message); nothing is written for it;
--   * 'mismatch'  the row's quantity is not the message's; nothing is written, the worker
--                 applies it the general way (apply_venue_event) instead;
--   * 'held'      an earlier event of its message group was 'unknown' or 'mismatch': FIFO
--                 order means it must wait; nothing is written;
--   * 'duplicate' already applied (the ledger has its event id);
--   * 'skipped (STATUS)' the order is no longer PENDING (cancelled meanwhile);
--   * 'filled' / 'rejected'.
-- It runs in the worker's transaction and writes what the per-event path writes, so an
-- unexpected error aborts the batch and the worker retries it event by event.
-- SECURITY INVOKER (the default): the caller's own grants apply.

CREATE FUNCTION apply_created_events(
    p_consumer            text,
    p_now                 timestamptz,
    p_event_ids           uuid[],
    p_order_ids           uuid[],
    p_groups              text[],
    p_quantities          numeric[],
    p_submitted_ids       uuid[],
    p_submitted_payloads  jsonb[],
    p_submitted_leaves    bytea[],
    p_final_statuses      text[],
    p_final_ids           uuid[],
    p_final_payloads      jsonb[],
    p_final_leaves        bytea[]
) RETURNS TABLE (r_index integer, r_outcome text)
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    i         integer;
    held      text[] := '{}';
    found_row boolean;
    v_status   text;
    v_quantity numeric;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        r_index := i;
        IF p_groups[i] = ANY (held) THEN
            r_outcome := 'held';
            RETURN NEXT;
            CONTINUE;
        END IF;

        SELECT o.status, o.quantity INTO v_status, v_quantity
          FROM orders o WHERE o.id = p_order_ids[i] FOR UPDATE;
        found_row := FOUND;
        IF NOT found_row OR v_quantity IS DISTINCT FROM p_quantities[i] THEN
            held := held || p_groups[i];
            r_outcome := CASE WHEN found_row THEN 'mismatch' ELSE 'unknown' END;
            RETURN NEXT;
            CONTINUE;
        END IF;

        INSERT INTO processed_events (event_id, order_id, consumer, processed_at)
        VALUES (p_event_ids[i], p_order_ids[i], p_consumer, now())
        ON CONFLICT (event_id) DO NOTHING;
        IF NOT FOUND THEN
            r_outcome := 'duplicate';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF v_status <> 'PENDING' THEN
            r_outcome := 'skipped (' || v_status || ')';
            RETURN NEXT;
            CONTINUE;
        END IF;

        -- Both transitions are audited; the row is written once, with the final state (no
        -- other transaction could ever see the SUBMITTED row version in between).
        INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status,
            actor, payload, occurred_at, leaf_hash)
        VALUES (p_submitted_ids[i], p_order_ids[i], 'order.submitted', 'PENDING', 'SUBMITTED',
            p_consumer, p_submitted_payloads[i], p_now, p_submitted_leaves[i]);

        UPDATE orders o SET status = p_final_statuses[i], updated_at = p_now,
            filled_quantity = CASE WHEN p_final_statuses[i] = 'FILLED' THEN o.quantity
                                   ELSE o.filled_quantity END
         WHERE o.id = p_order_ids[i];
        INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status,
            actor, payload, occurred_at, leaf_hash)
        VALUES (p_final_ids[i], p_order_ids[i], 'order.' || lower(p_final_statuses[i]),
            'SUBMITTED', p_final_statuses[i], p_consumer, p_final_payloads[i], p_now,
            p_final_leaves[i]);

        r_outcome := lower(p_final_statuses[i]);
        RETURN NEXT;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION apply_created_events FROM PUBLIC;
GRANT EXECUTE ON FUNCTION apply_created_events TO orders_app;
