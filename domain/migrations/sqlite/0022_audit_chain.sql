-- The audit trail is a hash chain per tenant: each event carries the SHA-256 of the
-- tenant's event before it (empty for its first) and its own, over a canonical encoding
-- of its fields (domain::audit::chain_hash). Events written before this migration are
-- chained when the store opens, in the order they were written.
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
-- Finds the events not chained yet without reading the whole trail at each start.
CREATE INDEX audit_unchained ON audit_events (id) WHERE hash IS NULL;
