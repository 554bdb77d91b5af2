-- Guests: invitations, the mail outbox, one-time passcodes and redemptions in progress.

ALTER TABLE tenants ADD COLUMN invitation_lifetime_days INTEGER NOT NULL DEFAULT 14;
ALTER TABLE tenants ADD COLUMN privacy_url TEXT;

-- For guests: PendingAcceptance until they redeem, then Accepted. NULL for members.
ALTER TABLE users ADD COLUMN external_state TEXT
    CHECK (external_state IS NULL OR external_state IN ('PendingAcceptance', 'Accepted'));
-- How an accepted guest proved who they are, e.g. 'email:ann@partner.example'.
ALTER TABLE users ADD COLUMN redeemed_identity TEXT;

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL COLLATE NOCASE,
    redirect_url TEXT,
    message TEXT NOT NULL DEFAULT '',
    inviter_id TEXT,
    inviter_name TEXT NOT NULL,
    -- Expired is not stored: it is PendingAcceptance past expires_at.
    status TEXT NOT NULL CHECK (status IN ('PendingAcceptance', 'Accepted', 'Revoked')),
    -- SHA-256 of the ticket in the link. Kept after the link stops working, so that
    -- opening it can say why (accepted, withdrawn, expired).
    ticket_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    redeemed_at INTEGER
);
CREATE INDEX invitations_by_tenant ON invitations (tenant_id, created_at DESC);
CREATE INDEX invitations_by_user ON invitations (user_id);

-- Mail waits here, written in the same transaction as what it reports.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- Carries a one-time code: administrators see that it exists, not what it says.
    secret INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_by_tenant ON outbox (tenant_id, id DESC);

-- A redemption in progress, bound to the browser that started it by a cookie whose hash
-- is kept here.
CREATE TABLE redemptions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    invitation_id TEXT NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set once the invited address has been proven.
    proven_identity TEXT
);

-- One-time passcodes sent to an invited address, bound to one redemption.
CREATE TABLE one_time_codes (
    redemption_hash TEXT PRIMARY KEY NOT NULL REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at INTEGER
);

-- How a session's person proved who they are: 'member:<user id>' (password) or
-- 'email:<address>' (one-time passcode). Switching organizations stays within it.
ALTER TABLE sessions ADD COLUMN identity TEXT;

-- Codes for guests who sign in again with a passcode to their address.
CREATE TABLE sign_in_codes (
    id_hash TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at INTEGER
);
CREATE INDEX sign_in_codes_by_email ON sign_in_codes (email, created_at);
CREATE INDEX users_by_identity ON users (redeemed_identity) WHERE redeemed_identity IS NOT NULL;
