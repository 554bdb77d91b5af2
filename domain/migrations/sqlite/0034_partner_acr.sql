-- For a partner's identity provider: the `acr` values of its ID tokens that say it used
-- more than one factor (space-separated; empty for none), which count as its multi-factor
-- sign-ins where the partner is trusted for them.
ALTER TABLE partner_settings ADD COLUMN mfa_acr TEXT NOT NULL DEFAULT '';
