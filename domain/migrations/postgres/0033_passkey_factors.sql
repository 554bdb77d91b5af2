-- Passkeys as second factors, keyed by identity (see the SQLite migration of the same
-- number), and passkey ceremonies that say what they are for and whom they are bound to.

CREATE TABLE passkey_factors (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    identity TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    passkey TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkey_factors_by_identity ON passkey_factors (identity);

ALTER TABLE passkey_ceremonies ADD COLUMN purpose TEXT COLLATE "C";
UPDATE passkey_ceremonies SET purpose = CASE
    WHEN kind = 'register' AND redemption_hash IS NOT NULL THEN 'new_account'
    WHEN kind = 'register' THEN 'add_to_account'
    WHEN redemption_hash IS NOT NULL THEN 'redeem'
    ELSE 'sign_in'
END;
ALTER TABLE passkey_ceremonies ADD COLUMN identity TEXT COLLATE "C";
ALTER TABLE passkey_ceremonies ADD COLUMN session_hash TEXT COLLATE "C";
ALTER TABLE passkey_ceremonies ADD COLUMN email TEXT COLLATE "C";
ALTER TABLE passkey_ceremonies ADD COLUMN name TEXT COLLATE "C";
ALTER TABLE passkey_ceremonies ALTER COLUMN account_id DROP NOT NULL;
UPDATE passkey_ceremonies c SET email = a.email, account_id = NULL
    FROM accounts a WHERE a.id = c.account_id AND c.purpose = 'sign_in';
DELETE FROM passkey_ceremonies WHERE purpose = 'sign_in' AND email IS NULL;
ALTER TABLE passkey_ceremonies ALTER COLUMN purpose SET NOT NULL;
ALTER TABLE passkey_ceremonies DROP COLUMN kind;
ALTER TABLE passkey_ceremonies ADD CONSTRAINT passkey_ceremonies_purpose_check CHECK (purpose IN (
    'new_account', 'add_to_account', 'redeem', 'sign_in',
    'add_factor', 'add_first_factor', 'verify_factor'
));
