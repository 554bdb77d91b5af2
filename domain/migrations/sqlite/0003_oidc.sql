-- Every app is an OpenID Connect client of Portico (its client id is the app's id).

-- A confidential client authenticates with a secret; a public one (a browser or mobile
-- app) cannot keep one and must use PKCE.
ALTER TABLE apps ADD COLUMN client_type TEXT NOT NULL DEFAULT 'confidential'
    CHECK (client_type IN ('confidential', 'public'));
-- How its ID tokens are signed.
ALTER TABLE apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256'
    CHECK (id_token_alg IN ('RS256', 'ES256'));

-- Addresses Portico may send people back to, matched character for character.
CREATE TABLE app_redirect_uris (
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('sign-in', 'sign-out')),
    uri TEXT NOT NULL,
    PRIMARY KEY (app_id, kind, uri)
);

-- The client secret, shown once at creation and stored only as a hash.
CREATE TABLE client_secrets (
    app_id TEXT PRIMARY KEY NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Keys that sign ID tokens, one current key per algorithm (RS256, ES256). Older ones stay
-- in the published key set until the tokens they signed have expired.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    private_der BLOB NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);

-- Authorization codes: single-use, valid for at most a minute, bound to the client, the
-- redirect address and (with PKCE) the challenge.
CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time INTEGER NOT NULL,
    amr TEXT NOT NULL,
    idp TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

-- Access and refresh tokens, stored as hashes. A family is every token descending from one
-- code (or one client-credentials grant): reusing the code or a rotated refresh token
-- revokes the whole family.
CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    family TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time INTEGER,
    amr TEXT,
    idp TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX oauth_tokens_by_family ON oauth_tokens (family);

-- Every attempt to sign in to an app, allowed or not, and why.
CREATE TABLE sign_in_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT,
    user_name TEXT NOT NULL,
    user_email TEXT NOT NULL,
    app_id TEXT,
    app_name TEXT NOT NULL,
    success INTEGER NOT NULL,
    reason TEXT NOT NULL,
    ip TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX sign_in_events_by_time ON sign_in_events (tenant_id, id DESC);
