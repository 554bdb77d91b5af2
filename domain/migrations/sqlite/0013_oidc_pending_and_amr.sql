-- Authorization requests waiting while the person signs in, kept here under a random id
-- (stored hashed) rather than carried through the sign-in pages in the address.
CREATE TABLE pending_authorizations (
    id_hash TEXT PRIMARY KEY NOT NULL,
    -- The request's parameters, as JSON.
    request TEXT NOT NULL,
    -- The client address that made it, to bound what one address can have kept.
    ip TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX pending_authorizations_by_expiry ON pending_authorizations (expires_at);
CREATE INDEX pending_authorizations_by_ip ON pending_authorizations (ip, expires_at);

-- How the session's person proved who they are: `amr` values (RFC 8176), space-separated.
-- Sessions opened before this column existed keep what their ID tokens said until then.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
UPDATE sessions SET amr = CASE
    WHEN identity LIKE 'email:%' THEN 'otp'
    WHEN identity LIKE 'oidc:%' THEN 'fed'
    ELSE 'pwd'
END;

-- How a redemption's identity was proven, carried to the session its acceptance opens.
ALTER TABLE redemptions ADD COLUMN proven_amr TEXT;
UPDATE redemptions SET proven_amr = CASE
    WHEN proven_identity LIKE 'email:%' THEN 'otp'
    WHEN proven_identity LIKE 'oidc:%' THEN 'fed'
    ELSE 'pwd'
END
WHERE proven_identity IS NOT NULL;
