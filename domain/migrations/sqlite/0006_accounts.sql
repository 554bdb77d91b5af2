-- Portico accounts that invited people make for themselves when no organization of theirs
-- signs them in: identity `account:<id>`, with a password and/or passkeys.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A redemption whose address a passcode confirmed, waiting for its account to be made.
ALTER TABLE redemptions ADD COLUMN address_confirmed INTEGER NOT NULL DEFAULT 0;
