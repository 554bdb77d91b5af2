-- Second factors a person registered (an authenticator app: TOTP), keyed by the identity
-- they sign in with (its printed form: member:<id>, account:<id>, email:<address>, oidc:…),
-- and their single-use recovery codes.

CREATE TABLE second_factors (
    id TEXT PRIMARY KEY NOT NULL,
    identity TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('totp')),
    name TEXT NOT NULL,
    -- The shared secret, sealed with the server's key for this row (never in the clear).
    secret TEXT NOT NULL,
    -- NULL while the enrollment waits for its first code; when it was confirmed after.
    confirmed_at INTEGER,
    -- The last 30-second step whose code was accepted: a code of it or before is refused.
    last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX second_factors_by_identity ON second_factors (identity);

-- Recovery codes, stored only as hashes (bound to the identity); each works once.
CREATE TABLE recovery_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    identity TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX recovery_codes_by_identity ON recovery_codes (identity);
