-- Terms of use an organization's conditional-access policies may ask people to accept
-- (domain::terms). Changing the text makes a new version, which people accept anew.
CREATE TABLE terms_of_use (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL COLLATE NOCASE,
    text TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

-- Who accepted which version of which terms, and when: kept for every version.
CREATE TABLE terms_acceptances (
    terms_id TEXT NOT NULL REFERENCES terms_of_use(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (terms_id, user_id, version)
);
CREATE INDEX terms_acceptances_by_user ON terms_acceptances (user_id);
