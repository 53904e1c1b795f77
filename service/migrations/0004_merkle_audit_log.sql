-- The audit log becomes an RFC 9162 Merkle transparency log (see service/AUDIT.md).
-- Appends no longer serialise on audit_chain_head: each event gets its seq from a sequence
-- (no row lock) and carries its leaf hash; the elected integrator later assigns leaf
-- indices in a stable order and stores the tree. Rows of the old hash chain keep their
-- (prev_hash, hash); the integrator verifies that chain once, then makes them the first
-- leaves, in seq order.

CREATE SEQUENCE audit_events_seq OWNED BY audit_events.seq;
SELECT setval('audit_events_seq', COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false);

ALTER TABLE audit_events
    ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq'),
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD COLUMN leaf_hash bytea CHECK (octet_length(leaf_hash) = 32),
    -- Existing rows get 0 (integrated first); new rows their writing transaction's id.
    ADD COLUMN txid xid8 NOT NULL DEFAULT '0';
ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
ALTER TABLE audit_events ADD CONSTRAINT audit_events_one_format
    CHECK ((hash IS NULL) = (leaf_hash IS NOT NULL));
-- The integrator's cursor walks (txid, seq).
CREATE INDEX audit_events_integration_order ON audit_events (txid, seq);

-- Leaf i of the tree is the event with this seq. Written by the integrator only.
CREATE TABLE audit_leaves (
    leaf_index     bigint PRIMARY KEY CHECK (leaf_index >= 0),
    seq            bigint NOT NULL UNIQUE REFERENCES audit_events (seq),
    leaf_hash      bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
    integrated_at  timestamptz NOT NULL
);

-- Perfect subtrees above the leaves: (level, idx) covers leaves [idx * 2^level, (idx+1) * 2^level).
CREATE TABLE audit_tree_nodes (
    level  smallint NOT NULL CHECK (level BETWEEN 1 AND 63),
    idx    bigint NOT NULL CHECK (idx >= 0),
    hash   bytea NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (level, idx)
);

-- Every checkpoint the integrator issued. The authoritative signed copies live outside the
-- database; `note` keeps the published bytes so the API serves them without the store
-- (a client checks the signature, so the database cannot forge one).
CREATE TABLE audit_checkpoints (
    id            bigserial PRIMARY KEY,
    tree_size     bigint NOT NULL CHECK (tree_size >= 0),
    root_hash     bytea NOT NULL CHECK (octet_length(root_hash) = 32),
    issued_at     timestamptz NOT NULL,
    published_at  timestamptz,
    note          text,
    UNIQUE (tree_size, issued_at)
);
CREATE INDEX audit_checkpoints_unpublished ON audit_checkpoints (id) WHERE published_at IS NULL;

-- The integrator's position: every event at or before (last_txid, last_seq) is a leaf.
CREATE TABLE audit_integrator_state (
    singleton                 boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    tree_size                 bigint NOT NULL,
    last_txid                 xid8 NOT NULL,
    last_seq                  bigint NOT NULL,
    legacy_chain_verified_at  timestamptz
);
INSERT INTO audit_integrator_state (tree_size, last_txid, last_seq) VALUES (0, '0', 0);

CREATE TRIGGER audit_leaves_no_update BEFORE UPDATE ON audit_leaves
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_leaves_no_delete BEFORE DELETE ON audit_leaves
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_tree_nodes_no_update BEFORE UPDATE ON audit_tree_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_tree_nodes_no_delete BEFORE DELETE ON audit_tree_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_tree_nodes_no_truncate BEFORE TRUNCATE ON audit_tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();

-- The chain head is frozen: nothing appends to the old chain any more.
REVOKE UPDATE ON audit_chain_head FROM orders_app;
GRANT USAGE ON SEQUENCE audit_events_seq TO orders_app;
GRANT SELECT, INSERT ON audit_leaves, audit_tree_nodes TO orders_app;
GRANT SELECT, INSERT ON audit_checkpoints TO orders_app;
GRANT UPDATE (published_at, note) ON audit_checkpoints TO orders_app;
GRANT USAGE ON SEQUENCE audit_checkpoints_id_seq TO orders_app;
GRANT SELECT, UPDATE ON audit_integrator_state TO orders_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_leaves, audit_tree_nodes FROM PUBLIC;
