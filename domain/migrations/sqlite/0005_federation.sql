-- Bring your own identity: partners' OpenID Connect providers, sign-ins through them on
-- their way, and the organization's redemption order.

-- `home,federation;code`: the primary methods in order, then the fallbacks.
ALTER TABLE tenants ADD COLUMN redemption_order TEXT NOT NULL DEFAULT 'home,federation;code';

CREATE TABLE identity_providers (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Exactly as the provider's discovery document states it.
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    -- Sent to the provider's token endpoint, so kept as given (never shown again).
    client_secret TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, issuer)
);

-- Direct federation: the email domains a provider serves, one provider per domain.
CREATE TABLE identity_provider_domains (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    domain TEXT NOT NULL COLLATE NOCASE,
    provider_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, domain)
);
CREATE INDEX identity_provider_domains_by_provider ON identity_provider_domains (provider_id);

-- A trip to a provider on its way. `state` comes back with the answer and is kept only as
-- a hash; the row is deleted when it does, so a state works once.
CREATE TABLE federation_requests (
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    -- The redemption this proves the person for; NULL when signing in.
    redemption_hash TEXT REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- Where to go after signing in.
    next TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The provider vouched for the person but not for the invited address: the identity waits
-- here until a mailed passcode confirms the address.
ALTER TABLE redemptions ADD COLUMN federated_identity TEXT;
