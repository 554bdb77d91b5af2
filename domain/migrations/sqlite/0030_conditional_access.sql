-- Conditional-access policies: who, which apps, from where, and what is asked of the
-- sign-in. Everything but the name and state is one JSON document the domain reads and
-- checks (domain::conditional_access::Rules).
CREATE TABLE ca_policies (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL COLLATE NOCASE,
    state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'enabledForReportingButNotEnforced')),
    rules TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

-- Each sign-in's conditional-access status (success, failure, notApplied) and every
-- evaluated policy's result, as JSON.
ALTER TABLE sign_in_events ADD COLUMN ca_status TEXT NOT NULL DEFAULT 'notApplied';
ALTER TABLE sign_in_events ADD COLUMN ca_policies TEXT NOT NULL DEFAULT '[]';
