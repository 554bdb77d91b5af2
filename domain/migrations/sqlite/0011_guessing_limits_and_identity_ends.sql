-- Limits on guessing one-time codes that survive the end of a redemption.

-- Every start of a redemption, counted for the per-invitation start limit. Declining or
-- accepting deletes the redemption, never its start: ending one must not give it back.
CREATE TABLE redemption_starts (
    invitation_id TEXT NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    started_at INTEGER NOT NULL
);
CREATE INDEX redemption_starts_by_invitation ON redemption_starts (invitation_id, started_at);

-- Wrong passcodes typed across all of an invitation's redemptions. Past the limit the
-- invitation is locked (locked_at) until an administrator sends a new one.
ALTER TABLE invitations ADD COLUMN wrong_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN locked_at INTEGER;

-- Every one-time code made for a mailbox, for redemption or for sign-in, so that one limit
-- per mailbox covers both.
CREATE TABLE mailbox_codes (
    email TEXT NOT NULL COLLATE NOCASE,
    created_at INTEGER NOT NULL
);
CREATE INDEX mailbox_codes_by_email ON mailbox_codes (email, created_at);

-- Ending what an identity holds revokes the tokens of every user it redeemed.
CREATE INDEX oauth_tokens_by_user ON oauth_tokens (user_id) WHERE revoked_at IS NULL;
