-- A partner provider's `acr` values that mean multi-factor, space-separated (see the
-- SQLite migration of the same number).
ALTER TABLE partner_settings ADD COLUMN mfa_acr TEXT COLLATE "C" NOT NULL DEFAULT '';
