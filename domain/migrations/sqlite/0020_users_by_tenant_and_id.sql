-- The Graph-compatible API pages through a tenant's users in id order (keyset paging).
CREATE INDEX users_by_tenant_and_id ON users (tenant_id, id);
