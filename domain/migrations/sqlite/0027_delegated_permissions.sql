-- Delegated permissions a global administrator allowed an app to ask for, by their Microsoft
-- Graph names ('User.Invite.All', …): scopes a person signing in to the app may give it, so
-- that it acts as that person through the Graph-compatible API, never beyond the person's
-- own rights.
CREATE TABLE app_delegated_permissions (
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, permission)
) WITHOUT ROWID;
