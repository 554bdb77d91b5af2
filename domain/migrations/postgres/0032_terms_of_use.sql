-- Terms of use conditional-access policies may ask people to accept (domain::terms; see
-- the SQLite migration of the same number): a new text is a new version, accepted anew.
CREATE TABLE terms_of_use (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- NOCASE in SQLite, unique per tenant: terms_of_use_tenant_id_name_key below.
    name TEXT COLLATE "C" NOT NULL,
    text TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX terms_of_use_tenant_id_name_key ON terms_of_use (tenant_id, lower(name));

CREATE TABLE terms_acceptances (
    terms_id TEXT COLLATE "C" NOT NULL REFERENCES terms_of_use(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (terms_id, user_id, version)
);
CREATE INDEX terms_acceptances_by_user ON terms_acceptances (user_id);
