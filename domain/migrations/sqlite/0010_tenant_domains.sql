-- The domains an organization's members have their addresses at: its primary domain and
-- those the operator of the instance has added for it. A domain covers its subdomains;
-- no domain is held by two organizations, nor one under another's.
CREATE TABLE tenant_domains (
    domain TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL
);
CREATE INDEX tenant_domains_by_tenant ON tenant_domains (tenant_id, domain);

INSERT INTO tenant_domains (domain, tenant_id, added_at)
    SELECT lower(primary_domain), id, created_at FROM tenants;
