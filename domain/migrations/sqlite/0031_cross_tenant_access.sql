-- Cross-tenant access, inbound: per partner (another organization on this Portico,
-- `tenant:<id>`, or a partner's identity provider, `idp:<issuer>`) and a default (the
-- empty partner), whether its multi-factor sign-ins are trusted and whether its people may
-- collaborate here at all.
CREATE TABLE partner_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    partner TEXT NOT NULL,
    trust_mfa INTEGER NOT NULL,
    inbound_blocked INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, partner)
);
