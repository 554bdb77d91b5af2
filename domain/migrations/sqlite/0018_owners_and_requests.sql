-- Owners in the access panel: groups people may ask to join, apps people may ask for, and
-- the requests themselves, decided by the group's or the app's owners.

-- Whether members may ask to join: 'Closed' (only owners and administrators add people),
-- 'OwnerApproval' (a request waits for an owner), 'Open' (a member joins at once).
ALTER TABLE groups ADD COLUMN join_policy TEXT NOT NULL DEFAULT 'Closed'
    CHECK (join_policy IN ('Closed', 'OwnerApproval', 'Open'));

-- Whether the access panel offers "Request access" to people who cannot open the app.
ALTER TABLE apps ADD COLUMN requestable INTEGER NOT NULL DEFAULT 0;

-- A request to join a group or to use an app: one of the two, never both.
CREATE TABLE access_requests (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id TEXT REFERENCES apps(id) ON DELETE CASCADE,
    group_id TEXT REFERENCES groups(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('Pending', 'Approved', 'Denied')),
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by_name TEXT,
    CHECK ((app_id IS NULL) <> (group_id IS NULL))
);
-- One waiting request per person and object.
CREATE UNIQUE INDEX access_requests_pending
    ON access_requests (user_id, coalesce(app_id, group_id)) WHERE state = 'Pending';
CREATE INDEX access_requests_by_app ON access_requests (app_id, state) WHERE app_id IS NOT NULL;
CREATE INDEX access_requests_by_group ON access_requests (group_id, state) WHERE group_id IS NOT NULL;
CREATE INDEX access_requests_by_user ON access_requests (user_id, created_at DESC);
-- Owners look up their pending invitations by inviter.
CREATE INDEX invitations_by_inviter ON invitations (inviter_id) WHERE inviter_id IS NOT NULL;
-- The access panel finds what a person owns, and what the tenant offers to ask for.
CREATE INDEX app_owners_by_user ON app_owners (user_id);
CREATE INDEX groups_taking_requests ON groups (tenant_id) WHERE join_policy <> 'Closed';
CREATE INDEX apps_requestable ON apps (tenant_id) WHERE requestable = 1;
