-- How long an organization keeps its audit and sign-in events (days; NULL keeps them for
-- good), and what pruning leaves where the removed events were: a checkpoint naming the
-- newest removed event and its hash (the chain goes on from it), signed with Portico's
-- ES256 token-signing key so that an export starting after the cut still verifies.
ALTER TABLE tenants ADD COLUMN audit_retention_days INTEGER;

CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- The newest event removed, and its hash.
    event_id INTEGER NOT NULL,
    event_hash TEXT NOT NULL,
    -- Events removed in all, by this pruning and every one before it.
    events_removed INTEGER NOT NULL,
    -- Events written before this time (Unix seconds) were removed.
    cutoff INTEGER NOT NULL,
    at INTEGER NOT NULL,
    -- A compact JWS (ES256) over the fields above, and the public key (JWK) it verifies with.
    signature TEXT NOT NULL,
    public_jwk TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_by_tenant ON audit_checkpoints (tenant_id, id DESC);
