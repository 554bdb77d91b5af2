-- When each user last signed in (a session opened: password, code, passkey, a partner's
-- provider, accepting an invitation; switching organization; signing in to an app), for
-- finding inactive users.
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
UPDATE users SET last_sign_in_at = (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = users.id);
-- "No sign-in for N days" counts from the creation of those who never signed in.
CREATE INDEX users_by_activity ON users (tenant_id, coalesce(last_sign_in_at, created_at));
