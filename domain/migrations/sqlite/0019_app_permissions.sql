-- Application permissions a global administrator granted an app, by their Microsoft Graph
-- names ('User.Invite.All', …): what the app may do as itself, with client credentials.
CREATE TABLE app_permissions (
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, permission)
) WITHOUT ROWID;
