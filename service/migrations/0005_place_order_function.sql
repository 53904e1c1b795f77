-- A placement in one round trip: the service computes everything that does not need the
-- database (ids, timestamps, the response body, the outbox event, the audit leaf hash) and
-- calls this function once, in autocommit. It keeps the placement's rules where the rows
-- are:
--   * the transaction-scoped advisory lock on the scoped idempotency key makes a concurrent
--     retry answer 'in_flight' (409) instead of queueing behind the first request;
--   * a recorded key answers from its record: 'replay' (same fingerprint, or the legacy one)
--     or 'key_reused' (another body); an expired record is deleted and the key starts over;
--   * a client_order_id already used by the account answers 'client_order_id_taken' with
--     that order's id; the partial unique index decides, even between concurrent requests;
--   * otherwise the order, its outbox row, the idempotency record and the audit event are
--     inserted together and the answer is 'created'.
-- The primary key of idempotency_keys still guarantees one order per key. The function is
-- VOLATILE, so each query in it takes a fresh snapshot: the lookup after the lock sees a
-- record committed by the request that held the lock before.
-- Output columns carry a prefix so they never shadow the tables' column names.

CREATE FUNCTION place_order(
    p_principal            text,
    p_idempotency_key      text,
    p_lock_key             text,
    p_request_hash         text,
    p_legacy_request_hash  text,
    p_request_id           text,
    p_order_id             uuid,
    p_account_id           text,
    p_client_order_id      text,
    p_instrument           text,
    p_side                 text,
    p_order_type           text,
    p_quantity             numeric,
    p_limit_price          numeric,
    p_currency             text,
    p_time_in_force        text,
    p_now                  timestamptz,
    p_expires_at           timestamptz,
    p_response_body        bytea,
    p_outbox_event_id      uuid,
    p_outbox_payload       jsonb,
    p_audit_event_id       uuid,
    p_audit_payload        jsonb,
    p_audit_leaf_hash      bytea
) RETURNS TABLE (
    r_outcome          text,
    r_response_status  integer,
    r_response_body    bytea,
    r_order_id         uuid,
    r_request_id       text
)
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    existing  record;
    clash     uuid;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended(p_lock_key, 0)) THEN
        RETURN QUERY SELECT 'in_flight', NULL::integer, NULL::bytea, NULL::uuid, NULL::text;
        RETURN;
    END IF;

    SELECT k.request_hash, k.request_id, k.response_status, k.response_body, k.order_id,
           k.expires_at <= now() AS expired
      INTO existing
      FROM idempotency_keys k
     WHERE k.principal = p_principal AND k.idempotency_key = p_idempotency_key;
    IF FOUND AND existing.expired THEN
        DELETE FROM idempotency_keys k
         WHERE k.principal = p_principal AND k.idempotency_key = p_idempotency_key;
    ELSIF FOUND THEN
        IF existing.request_hash = p_request_hash
           OR existing.request_hash = p_legacy_request_hash THEN
            RETURN QUERY SELECT 'replay', existing.response_status, existing.response_body,
                                existing.order_id, existing.request_id;
        ELSE
            RETURN QUERY SELECT 'key_reused', NULL::integer, NULL::bytea, NULL::uuid,
                                NULL::text;
        END IF;
        RETURN;
    END IF;

    INSERT INTO orders (id, account_id, principal, client_order_id, instrument, side,
        order_type, quantity, limit_price, currency, time_in_force, status,
        idempotency_key, created_at, updated_at)
    VALUES (p_order_id, p_account_id, p_principal, p_client_order_id, p_instrument, p_side,
        p_order_type, p_quantity, p_limit_price, p_currency, p_time_in_force, 'PENDING',
        p_idempotency_key, p_now, p_now)
    ON CONFLICT (account_id, client_order_id) WHERE client_order_id IS NOT NULL DO NOTHING;
    IF NOT FOUND THEN
        SELECT o.id INTO clash FROM orders o
         WHERE o.account_id = p_account_id AND o.client_order_id = p_client_order_id;
        RETURN QUERY SELECT 'client_order_id_taken', NULL::integer, NULL::bytea, clash,
                            NULL::text;
        RETURN;
    END IF;

    INSERT INTO outbox (event_id, order_id, account_id, event_type, payload, created_at)
    VALUES (p_outbox_event_id, p_order_id, p_account_id, 'order.created', p_outbox_payload,
        p_now);
    INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, request_id,
        order_id, response_status, response_body, created_at, expires_at)
    VALUES (p_principal, p_idempotency_key, p_request_hash, p_request_id, p_order_id, 201,
        p_response_body, p_now, p_expires_at);
    INSERT INTO audit_events (event_id, order_id, event_type, from_status, to_status,
        actor, payload, occurred_at, leaf_hash)
    VALUES (p_audit_event_id, p_order_id, 'order.created', NULL, 'PENDING', p_principal,
        p_audit_payload, p_now, p_audit_leaf_hash);

    RETURN QUERY SELECT 'created', 201, NULL::bytea, p_order_id, p_request_id;
END
$$;

REVOKE ALL ON FUNCTION place_order FROM PUBLIC;
GRANT EXECUTE ON FUNCTION place_order TO orders_app;
