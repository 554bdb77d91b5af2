-- Passkeys (WebAuthn credentials) of Portico accounts, and ceremonies on their way.

CREATE TABLE passkeys (
    -- The credential id, base64url.
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- The credential as webauthn-rs keeps it (public key, counter), JSON.
    passkey TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX passkeys_by_account ON passkeys (account_id);

-- A registration or authentication between its two requests: the challenge state, found
-- by the hash of a random token the browser holds, used once.
CREATE TABLE passkey_ceremonies (
    id_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('register', 'authenticate')),
    -- The account it registers for (made when it finishes) or signs in to.
    account_id TEXT NOT NULL,
    -- The redemption it proves the person for; NULL when signing in.
    redemption_hash TEXT REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    next TEXT,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
