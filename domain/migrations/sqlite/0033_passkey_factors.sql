-- Passkeys as second factors, for anyone who signs in here (a member, a Portico account,
-- a guest's address, a partner's identity), keyed by that identity's printed form, as
-- second_factors are. They also sign their holder in without a password.

CREATE TABLE passkey_factors (
    -- The credential id, base64url.
    id TEXT PRIMARY KEY NOT NULL,
    identity TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The credential as webauthn-rs keeps it (public key, counter), JSON.
    passkey TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX passkey_factors_by_identity ON passkey_factors (identity);

-- Ceremonies, generalised: each says what it is for (`purpose`) and is bound to whom it
-- was begun for. A rebuild, since SQLite cannot change a CHECK constraint or make a
-- column nullable in place; ceremonies under way are kept (they live five minutes).
CREATE TABLE passkey_ceremonies_next (
    id_hash TEXT PRIMARY KEY NOT NULL,
    -- The Portico account it makes (when it finishes), adds a passkey to, or proves at a
    -- redemption.
    account_id TEXT,
    -- The redemption it proves the person for.
    redemption_hash TEXT REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    next TEXT,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN (
        'new_account', 'add_to_account', 'redeem', 'sign_in',
        'add_factor', 'add_first_factor', 'verify_factor'
    )),
    -- A second factor's ceremony: the identity (printed form) it registers a passkey for
    -- or verifies one of, and the hash of the session that began it, which alone may
    -- finish it.
    identity TEXT,
    session_hash TEXT,
    -- A sign-in: the address typed; any passkey of the person behind it will do.
    email TEXT,
    -- The name a second factor's new passkey will have.
    name TEXT
);
INSERT INTO passkey_ceremonies_next
    (id_hash, account_id, redemption_hash, next, state, expires_at, purpose, identity, session_hash, email, name)
SELECT c.id_hash,
       CASE WHEN c.kind = 'authenticate' AND c.redemption_hash IS NULL THEN NULL
            ELSE c.account_id END,
       c.redemption_hash, c.next, c.state, c.expires_at,
       CASE
           WHEN c.kind = 'register' AND c.redemption_hash IS NOT NULL THEN 'new_account'
           WHEN c.kind = 'register' THEN 'add_to_account'
           WHEN c.redemption_hash IS NOT NULL THEN 'redeem'
           ELSE 'sign_in'
       END,
       NULL, NULL,
       CASE WHEN c.kind = 'authenticate' AND c.redemption_hash IS NULL
            THEN (SELECT a.email FROM accounts a WHERE a.id = c.account_id) END,
       NULL
FROM passkey_ceremonies c
WHERE c.kind = 'register' OR c.redemption_hash IS NOT NULL
   OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = c.account_id);
DROP TABLE passkey_ceremonies;
ALTER TABLE passkey_ceremonies_next RENAME TO passkey_ceremonies;
