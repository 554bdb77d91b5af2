-- How Portico authenticates with its client secret at a provider's token endpoint:
-- 'automatic' follows the provider's discovery document; the others are an admin's choice.
ALTER TABLE identity_providers ADD COLUMN token_auth_method TEXT NOT NULL DEFAULT 'automatic'
    CHECK (token_auth_method IN ('automatic', 'client_secret_basic', 'client_secret_post'));

-- The address an accepted guest proved when redeeming (the invited one), beside the identity
-- that proved it. Sign-in looks guests up by it: the user's `email` is an admin's to edit,
-- so it says nothing about who may sign in where.
ALTER TABLE users ADD COLUMN redeemed_email TEXT COLLATE NOCASE;
UPDATE users SET redeemed_email = (
        SELECT i.email FROM invitations i
        WHERE i.user_id = users.id AND i.status = 'Accepted'
        ORDER BY i.redeemed_at DESC LIMIT 1)
    WHERE redeemed_identity IS NOT NULL;
CREATE INDEX users_by_redeemed_email ON users (redeemed_email) WHERE redeemed_email IS NOT NULL;
