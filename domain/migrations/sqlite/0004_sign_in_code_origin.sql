-- Where a sign-in code was asked from, so that one address of origin cannot send codes to
-- many mailboxes.
ALTER TABLE sign_in_codes ADD COLUMN ip TEXT;
CREATE INDEX sign_in_codes_by_ip ON sign_in_codes (ip, created_at) WHERE ip IS NOT NULL;
