-- Orders, idempotency records, the outbox and the worker's processed-events ledger.
-- Money and quantities are exact numerics; every timestamp is timestamptz (UTC).

CREATE TABLE orders (
    id               uuid PRIMARY KEY,
    account_id       text NOT NULL,
    principal        text NOT NULL,
    client_order_id  text,
    instrument       text NOT NULL,
    side             text NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type       text NOT NULL CHECK (order_type IN ('market', 'limit')),
    quantity         numeric(26, 8) NOT NULL CHECK (quantity > 0),
    limit_price      numeric(26, 8) CHECK (limit_price > 0),
    currency         char(3) NOT NULL,
    time_in_force    text NOT NULL,
    status           text NOT NULL CHECK (status IN (
                         'PENDING', 'SUBMITTED', 'PARTIALLY_FILLED', 'FILLED',
                         'REJECTED', 'CANCELLED', 'FAILED')),
    filled_quantity  numeric(26, 8) NOT NULL DEFAULT 0,
    idempotency_key  text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((order_type = 'limit') = (limit_price IS NOT NULL))
);
-- A client order id names one order per account, whatever idempotency key carried it.
CREATE UNIQUE INDEX orders_account_client_order_id
    ON orders (account_id, client_order_id) WHERE client_order_id IS NOT NULL;
CREATE INDEX orders_account_listing ON orders (account_id, created_at DESC, id DESC);
CREATE INDEX orders_open_by_age ON orders (created_at) WHERE status IN ('PENDING', 'SUBMITTED');

-- The primary key is what makes a key yield exactly one order, whatever Redis says.
CREATE TABLE idempotency_keys (
    principal        text NOT NULL,
    idempotency_key  text NOT NULL,
    request_hash     text NOT NULL,
    request_id       text NOT NULL,
    order_id         uuid NOT NULL REFERENCES orders (id),
    response_status  integer NOT NULL,
    response_body    bytea NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    order_id       uuid NOT NULL REFERENCES orders (id),
    account_id     text NOT NULL,
    event_type     text NOT NULL,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    claimed_by     text,
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    published_at   timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_unpublished_by_account ON outbox (account_id, id) WHERE published_at IS NULL;

-- The downstream consumer records each event it applied, in the same transaction.
CREATE TABLE processed_events (
    event_id      uuid PRIMARY KEY,
    order_id      uuid NOT NULL,
    consumer      text NOT NULL,
    processed_at  timestamptz NOT NULL
);
