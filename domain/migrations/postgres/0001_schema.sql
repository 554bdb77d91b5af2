-- Portico's schema for PostgreSQL: the state the SQLite migrations 0001–0027
-- (domain/migrations, SQLite dialect) leave, in one step, for a database that starts
-- empty. Tables and columns have the SQLite names and order, so one set of queries
-- serves both. Times are Unix seconds; ids are random UUIDs as text.
--
-- Translating SQLite:
-- * Every integer is BIGINT (flags too: 0/1, compared as `enabled = 1`); BLOB is BYTEA.
--   `INTEGER PRIMARY KEY AUTOINCREMENT` is an identity column, which never reuses a
--   value either.
-- * Every text column is COLLATE "C": comparison and ORDER BY by code point, as SQLite's
--   BINARY collation, whatever the server's locale; and lower() then folds ASCII letters
--   only, as SQLite's NOCASE and lower() do.
-- * SQLite's NOCASE columns are plain here; where SQLite had them unique (or a primary
--   key), a unique index on lower(column) keeps that rule, and their other indexes are on
--   lower(column): queries compare them as lower(column).
-- * tenants.fallback_sponsor_id refers to users, which refers to tenants: its foreign
--   key is added once users exists.
-- * Seed rows: none. The SQLite migrations' INSERTs and UPDATEs (0010, 0013, 0014, 0015,
--   0021, 0023) only carry existing rows forward, so an empty database needs none.
--
-- scripts/check-pg-schema.sh compares this schema with what the SQLite migrations build.

CREATE TABLE tenants (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    slug TEXT COLLATE "C" NOT NULL UNIQUE,
    -- NOCASE in SQLite: unique by tenants_primary_domain_key below.
    primary_domain TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    invitation_lifetime_days BIGINT NOT NULL DEFAULT 14,
    privacy_url TEXT COLLATE "C",
    redemption_order TEXT COLLATE "C" NOT NULL DEFAULT 'home,federation;code',
    allow_invites_from TEXT COLLATE "C" NOT NULL
        DEFAULT 'adminsGuestInvitersAndAllMembers'
        CHECK (allow_invites_from IN ('everyone', 'adminsGuestInvitersAndAllMembers',
                                      'adminsAndGuestInviters', 'none')),
    guest_user_role_id TEXT COLLATE "C" NOT NULL
        DEFAULT '10dae51f-b6af-4016-8d66-8c2a99b929b3'
        CHECK (guest_user_role_id IN ('a0b1b346-4d3e-4e8b-98f8-753987be4970',
                                      '10dae51f-b6af-4016-8d66-8c2a99b929b3',
                                      '2af84b1e-32c8-42b7-82bc-daa82404023b')),
    collaboration_list TEXT COLLATE "C" NOT NULL DEFAULT 'deny'
        CHECK (collaboration_list IN ('allow', 'deny')),
    -- References users(id) ON DELETE SET NULL: added after users.
    fallback_sponsor_id TEXT COLLATE "C",
    guest_access_days BIGINT
        CHECK (guest_access_days IS NULL OR guest_access_days BETWEEN 1 AND 3650),
    guest_access_notice_days BIGINT NOT NULL DEFAULT 14
        CHECK (guest_access_notice_days BETWEEN 1 AND 365),
    guest_deletion_grace_days BIGINT NOT NULL DEFAULT 30
        CHECK (guest_deletion_grace_days BETWEEN 0 AND 365),
    audit_retention_days BIGINT
);
CREATE UNIQUE INDEX tenants_primary_domain_key ON tenants (lower(primary_domain));

CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_type TEXT COLLATE "C" NOT NULL CHECK (user_type IN ('Member', 'Guest')),
    -- NOCASE in SQLite, unique per tenant: users_tenant_id_email_key below.
    email TEXT COLLATE "C" NOT NULL,
    -- NOCASE in SQLite.
    display_name TEXT COLLATE "C" NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    password_hash TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    external_state TEXT COLLATE "C"
        CHECK (external_state IS NULL OR external_state IN ('PendingAcceptance', 'Accepted')),
    redeemed_identity TEXT COLLATE "C",
    -- NOCASE in SQLite.
    redeemed_email TEXT COLLATE "C",
    last_sign_in_at BIGINT,
    access_ends_at BIGINT,
    access_notice_for BIGINT,
    access_ended_at BIGINT,
    access_end_reason TEXT COLLATE "C",
    delete_after BIGINT
);
CREATE UNIQUE INDEX users_tenant_id_email_key ON users (tenant_id, lower(email));
-- A person's home account: an address is a member of one tenant at most.
CREATE UNIQUE INDEX users_member_email ON users (lower(email)) WHERE user_type = 'Member';
CREATE INDEX users_by_name ON users (tenant_id, lower(display_name), id);
CREATE INDEX users_by_identity ON users (redeemed_identity) WHERE redeemed_identity IS NOT NULL;
CREATE INDEX users_by_email ON users (lower(email), user_type);
CREATE INDEX users_by_redeemed_email ON users (lower(redeemed_email)) WHERE redeemed_email IS NOT NULL;
CREATE INDEX users_by_tenant_and_id ON users (tenant_id, id);
CREATE INDEX users_by_activity ON users (tenant_id, coalesce(last_sign_in_at, created_at));
CREATE INDEX users_by_access_end ON users (access_ends_at) WHERE access_ends_at IS NOT NULL;
CREATE INDEX users_by_delete_after ON users (delete_after) WHERE delete_after IS NOT NULL;

ALTER TABLE tenants ADD CONSTRAINT tenants_fallback_sponsor_id_fkey
    FOREIGN KEY (fallback_sponsor_id) REFERENCES users(id) ON DELETE SET NULL;

CREATE TABLE tenant_roles (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT COLLATE "C" NOT NULL
        CHECK (role IN ('GlobalAdministrator', 'UserAdministrator', 'GuestInviter')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE groups (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- NOCASE in SQLite, unique per tenant: groups_tenant_id_name_key below.
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    join_policy TEXT COLLATE "C" NOT NULL DEFAULT 'Closed'
        CHECK (join_policy IN ('Closed', 'OwnerApproval', 'Open'))
);
CREATE UNIQUE INDEX groups_tenant_id_name_key ON groups (tenant_id, lower(name));
CREATE INDEX groups_taking_requests ON groups (tenant_id) WHERE join_policy <> 'Closed';

CREATE TABLE group_owners (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_owners_by_user ON group_owners (user_id);

CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE apps (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- NOCASE in SQLite, unique per tenant: apps_tenant_id_name_key below.
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    launch_url TEXT COLLATE "C" NOT NULL,
    logo_url TEXT COLLATE "C",
    assignment_required BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    client_type TEXT COLLATE "C" NOT NULL DEFAULT 'confidential'
        CHECK (client_type IN ('confidential', 'public')),
    id_token_alg TEXT COLLATE "C" NOT NULL DEFAULT 'RS256'
        CHECK (id_token_alg IN ('RS256', 'ES256')),
    requestable BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX apps_tenant_id_name_key ON apps (tenant_id, lower(name));
CREATE INDEX apps_open_to_all ON apps (tenant_id) WHERE assignment_required = 0;
CREATE INDEX apps_requestable ON apps (tenant_id) WHERE requestable = 1;

CREATE TABLE app_owners (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_owners_by_user ON app_owners (user_id);

-- An app is assigned either to a user or to a group, never both in one row.
CREATE TABLE app_assignments (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    group_id TEXT COLLATE "C" REFERENCES groups(id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX app_assignments_user ON app_assignments (user_id, app_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX app_assignments_group ON app_assignments (group_id, app_id) WHERE group_id IS NOT NULL;
CREATE INDEX app_assignments_by_app ON app_assignments (app_id);

-- Only a hash of the session id is kept.
CREATE TABLE sessions (
    id_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT COLLATE "C",
    user_agent TEXT COLLATE "C",
    identity TEXT COLLATE "C",
    amr TEXT COLLATE "C" NOT NULL DEFAULT 'pwd'
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins in the current window, per account ('account:<email>') and per address ('ip:<addr>').
CREATE TABLE signin_throttle (
    key TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);

CREATE TABLE setup_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE audit_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    actor_id TEXT COLLATE "C",
    actor_name TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    target_type TEXT COLLATE "C" NOT NULL,
    target_id TEXT COLLATE "C" NOT NULL,
    target_name TEXT COLLATE "C" NOT NULL,
    detail TEXT COLLATE "C" NOT NULL DEFAULT '',
    ip TEXT COLLATE "C",
    actor_kind TEXT COLLATE "C" NOT NULL DEFAULT 'user'
        CHECK (actor_kind IN ('user', 'operator', 'app', 'portico')),
    prev_hash TEXT COLLATE "C",
    hash TEXT COLLATE "C"
);
CREATE INDEX audit_by_time ON audit_events (tenant_id, id DESC);
CREATE INDEX audit_by_target ON audit_events (tenant_id, target_id);
CREATE INDEX audit_unchained ON audit_events (id) WHERE hash IS NULL;

CREATE TABLE invitations (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- NOCASE in SQLite.
    email TEXT COLLATE "C" NOT NULL,
    redirect_url TEXT COLLATE "C",
    message TEXT COLLATE "C" NOT NULL DEFAULT '',
    inviter_id TEXT COLLATE "C",
    inviter_name TEXT COLLATE "C" NOT NULL,
    -- Expired is not stored: it is PendingAcceptance past expires_at.
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('PendingAcceptance', 'Accepted', 'Revoked')),
    -- SHA-256 of the ticket in the link.
    ticket_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed_at BIGINT,
    wrong_codes BIGINT NOT NULL DEFAULT 0,
    locked_at BIGINT,
    access_days BIGINT
        CHECK (access_days IS NULL OR access_days BETWEEN 1 AND 3650)
);
CREATE INDEX invitations_by_tenant ON invitations (tenant_id, created_at DESC);
CREATE INDEX invitations_by_user ON invitations (user_id);
CREATE INDEX invitations_by_inviter ON invitations (inviter_id) WHERE inviter_id IS NOT NULL;

-- Mail waits here, written in the same transaction as what it reports.
CREATE TABLE outbox (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" REFERENCES tenants(id) ON DELETE CASCADE,
    recipient TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    text_body TEXT COLLATE "C" NOT NULL,
    html_body TEXT COLLATE "C" NOT NULL,
    -- Carries a one-time code: administrators see that it exists, not what it says.
    secret BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT COLLATE "C"
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_by_tenant ON outbox (tenant_id, id DESC);

-- A redemption in progress, bound to the browser that started it by a cookie whose hash
-- is kept here.
CREATE TABLE redemptions (
    id_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    proven_identity TEXT COLLATE "C",
    federated_identity TEXT COLLATE "C",
    address_confirmed BIGINT NOT NULL DEFAULT 0,
    proven_amr TEXT COLLATE "C"
);

-- One-time passcodes sent to an invited address, bound to one redemption.
CREATE TABLE one_time_codes (
    redemption_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL
        REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    code_hash TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);

-- Codes for guests who sign in again with a passcode to their address.
CREATE TABLE sign_in_codes (
    id_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    -- NOCASE in SQLite.
    email TEXT COLLATE "C" NOT NULL,
    code_hash TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT,
    ip TEXT COLLATE "C"
);
CREATE INDEX sign_in_codes_by_email ON sign_in_codes (lower(email), created_at);
CREATE INDEX sign_in_codes_by_ip ON sign_in_codes (ip, created_at) WHERE ip IS NOT NULL;

-- Addresses Portico may send people back to, matched character for character.
CREATE TABLE app_redirect_uris (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('sign-in', 'sign-out')),
    uri TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (app_id, kind, uri)
);

-- The client secret, shown once at creation and stored only as a hash.
CREATE TABLE client_secrets (
    app_id TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);

-- Keys that sign ID tokens, one current key per algorithm (RS256, ES256).
CREATE TABLE signing_keys (
    kid TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    alg TEXT COLLATE "C" NOT NULL,
    private_der BYTEA NOT NULL,
    public_jwk TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- Authorization codes: single-use, valid for at most a minute.
CREATE TABLE authorization_codes (
    code_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT COLLATE "C" NOT NULL,
    scope TEXT COLLATE "C" NOT NULL,
    nonce TEXT COLLATE "C",
    code_challenge TEXT COLLATE "C",
    auth_time BIGINT NOT NULL,
    amr TEXT COLLATE "C" NOT NULL,
    idp TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Access and refresh tokens, stored as hashes, in families.
CREATE TABLE oauth_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('access', 'refresh')),
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    family TEXT COLLATE "C" NOT NULL,
    scope TEXT COLLATE "C" NOT NULL,
    nonce TEXT COLLATE "C",
    auth_time BIGINT,
    amr TEXT COLLATE "C",
    idp TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oauth_tokens_by_family ON oauth_tokens (family);
CREATE INDEX oauth_tokens_by_user ON oauth_tokens (user_id) WHERE revoked_at IS NULL;

-- Every attempt to sign in to an app, allowed or not, and why.
CREATE TABLE sign_in_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C",
    user_name TEXT COLLATE "C" NOT NULL,
    user_email TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C",
    app_name TEXT COLLATE "C" NOT NULL,
    success BIGINT NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    ip TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    ca_status TEXT COLLATE "C" NOT NULL DEFAULT 'notApplied',
    ca_policies TEXT COLLATE "C" NOT NULL DEFAULT '[]'
);
CREATE INDEX sign_in_events_by_time ON sign_in_events (tenant_id, id DESC);

-- Partners' OpenID Connect providers.
CREATE TABLE identity_providers (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    issuer TEXT COLLATE "C" NOT NULL,
    client_id TEXT COLLATE "C" NOT NULL,
    client_secret TEXT COLLATE "C" NOT NULL,
    scopes TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    token_auth_method TEXT COLLATE "C" NOT NULL DEFAULT 'automatic'
        CHECK (token_auth_method IN ('automatic', 'client_secret_basic', 'client_secret_post')),
    UNIQUE (tenant_id, issuer)
);

-- Direct federation: the email domains a provider serves, one provider per domain.
CREATE TABLE identity_provider_domains (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- NOCASE in SQLite, part of the primary key: identity_provider_domains_tenant_id_domain_key
    -- below keeps it unique in any case.
    domain TEXT COLLATE "C" NOT NULL,
    provider_id TEXT COLLATE "C" NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, domain)
);
CREATE UNIQUE INDEX identity_provider_domains_tenant_id_domain_key
    ON identity_provider_domains (tenant_id, lower(domain));
CREATE INDEX identity_provider_domains_by_provider ON identity_provider_domains (provider_id);

-- A trip to a provider on its way; the row is deleted when it comes back.
CREATE TABLE federation_requests (
    state_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    provider_id TEXT COLLATE "C" NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    redemption_hash TEXT COLLATE "C" REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    nonce TEXT COLLATE "C" NOT NULL,
    pkce_verifier TEXT COLLATE "C" NOT NULL,
    next TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Portico accounts that invited people make for themselves.
CREATE TABLE accounts (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    -- NOCASE and unique in SQLite: accounts_email_key below.
    email TEXT COLLATE "C" NOT NULL,
    password_hash TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

-- Passkeys (WebAuthn credentials) of Portico accounts.
CREATE TABLE passkeys (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    passkey TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_by_account ON passkeys (account_id);

-- A passkey registration or authentication between its two requests.
CREATE TABLE passkey_ceremonies (
    id_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('register', 'authenticate')),
    account_id TEXT COLLATE "C" NOT NULL,
    redemption_hash TEXT COLLATE "C" REFERENCES redemptions(id_hash) ON DELETE CASCADE,
    next TEXT COLLATE "C",
    state TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What a form did, waiting for the page it leads back to.
CREATE TABLE flashes (
    id_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    session_hash TEXT COLLATE "C",
    sealed BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX flashes_expiry ON flashes (expires_at);

-- The domains an organization's members have their addresses at.
CREATE TABLE tenant_domains (
    -- NOCASE primary key in SQLite: tenant_domains_domain_key below keeps it unique in
    -- any case.
    domain TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tenant_domains_domain_key ON tenant_domains (lower(domain));
CREATE INDEX tenant_domains_by_tenant ON tenant_domains (tenant_id, lower(domain));

-- Every start of a redemption, counted for the per-invitation start limit.
CREATE TABLE redemption_starts (
    invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL
);
CREATE INDEX redemption_starts_by_invitation ON redemption_starts (invitation_id, started_at);

-- Every one-time code made for a mailbox, for redemption or for sign-in.
CREATE TABLE mailbox_codes (
    -- NOCASE in SQLite.
    email TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX mailbox_codes_by_email ON mailbox_codes (lower(email), created_at);

-- Authorization requests waiting while the person signs in.
CREATE TABLE pending_authorizations (
    id_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    request TEXT COLLATE "C" NOT NULL,
    ip TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_authorizations_by_expiry ON pending_authorizations (expires_at);
CREATE INDEX pending_authorizations_by_ip ON pending_authorizations (ip, expires_at);

-- The collaboration restrictions' domains, lower case (`example.com`, `*.example.com`).
CREATE TABLE collaboration_domains (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    entry TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, entry)
);

-- A request to join a group or to use an app: one of the two, never both.
CREATE TABLE access_requests (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id TEXT COLLATE "C" REFERENCES apps(id) ON DELETE CASCADE,
    group_id TEXT COLLATE "C" REFERENCES groups(id) ON DELETE CASCADE,
    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('Pending', 'Approved', 'Denied')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by_name TEXT COLLATE "C",
    -- The order a person's requests were made in (created_at counts seconds).
    seq BIGINT NOT NULL DEFAULT 0,
    CHECK ((app_id IS NULL) <> (group_id IS NULL))
);
-- One waiting request per person and object.
CREATE UNIQUE INDEX access_requests_pending
    ON access_requests (user_id, coalesce(app_id, group_id)) WHERE state = 'Pending';
CREATE INDEX access_requests_by_app ON access_requests (app_id, state) WHERE app_id IS NOT NULL;
CREATE INDEX access_requests_by_group ON access_requests (group_id, state) WHERE group_id IS NOT NULL;
CREATE INDEX access_requests_by_user ON access_requests (user_id, created_at DESC);

-- Application permissions a global administrator granted an app.
CREATE TABLE app_permissions (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    permission TEXT COLLATE "C" NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, permission)
);

-- A guest's sponsors.
CREATE TABLE sponsors (
    guest_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sponsor_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (guest_id, sponsor_id)
);
CREATE INDEX sponsors_by_sponsor ON sponsors (sponsor_id);

-- Access reviews of guests.
CREATE TABLE access_reviews (
    -- Nullable in SQLite (a text primary key there allows NULL); never NULL in practice.
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    scope TEXT COLLATE "C" NOT NULL,
    scope_id TEXT COLLATE "C",
    scope_name TEXT COLLATE "C" NOT NULL,
    reviewers TEXT COLLATE "C" NOT NULL,
    deny_action TEXT COLLATE "C" NOT NULL,
    not_reviewed TEXT COLLATE "C" NOT NULL,
    auto_apply BIGINT NOT NULL,
    started_by TEXT COLLATE "C" NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    remind_at BIGINT NOT NULL,
    reminded_at BIGINT,
    applied_at BIGINT
);
CREATE INDEX access_reviews_by_tenant ON access_reviews (tenant_id, starts_at);
CREATE INDEX access_reviews_open ON access_reviews (ends_at) WHERE applied_at IS NULL;

CREATE TABLE access_review_decisions (
    review_id TEXT COLLATE "C" NOT NULL REFERENCES access_reviews(id) ON DELETE CASCADE,
    guest_id TEXT COLLATE "C" NOT NULL,
    guest_name TEXT COLLATE "C" NOT NULL,
    guest_email TEXT COLLATE "C" NOT NULL,
    decision TEXT COLLATE "C" NOT NULL DEFAULT 'NotReviewed',
    reason TEXT COLLATE "C" NOT NULL DEFAULT '',
    decided_by_id TEXT COLLATE "C",
    decided_by TEXT COLLATE "C",
    decided_at BIGINT,
    outcome TEXT COLLATE "C",
    applied_at BIGINT,
    PRIMARY KEY (review_id, guest_id)
);

-- Who decides about each guest of a review.
CREATE TABLE access_review_reviewers (
    review_id TEXT COLLATE "C" NOT NULL,
    guest_id TEXT COLLATE "C" NOT NULL,
    reviewer_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reviewer_name TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (review_id, guest_id, reviewer_id),
    FOREIGN KEY (review_id, guest_id)
        REFERENCES access_review_decisions(review_id, guest_id) ON DELETE CASCADE
);
CREATE INDEX access_review_reviewers_by_reviewer ON access_review_reviewers (reviewer_id, review_id);

-- What pruning the audit trail leaves where the removed events were.
CREATE TABLE audit_checkpoints (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL,
    event_hash TEXT COLLATE "C" NOT NULL,
    events_removed BIGINT NOT NULL,
    cutoff BIGINT NOT NULL,
    at BIGINT NOT NULL,
    signature TEXT COLLATE "C" NOT NULL,
    public_jwk TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_checkpoints_by_tenant ON audit_checkpoints (tenant_id, id DESC);

-- Delegated permissions a global administrator allowed an app to ask for.
CREATE TABLE app_delegated_permissions (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    permission TEXT COLLATE "C" NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, permission)
);

-- Conditional-access policies (domain::conditional_access): the rules are one JSON
-- document the domain reads and checks.
CREATE TABLE ca_policies (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- NOCASE in SQLite, unique per tenant: ca_policies_tenant_id_name_key below.
    name TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL
        CHECK (state IN ('enabled', 'disabled', 'enabledForReportingButNotEnforced')),
    rules TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ca_policies_tenant_id_name_key ON ca_policies (tenant_id, lower(name));

-- Second factors a person registered (an authenticator app: TOTP), keyed by the identity
-- they sign in with, and their single-use recovery codes (hashed).
CREATE TABLE second_factors (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    identity TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('totp')),
    name TEXT COLLATE "C" NOT NULL,
    secret TEXT COLLATE "C" NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX second_factors_by_identity ON second_factors (identity);

CREATE TABLE recovery_codes (
    code_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    identity TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX recovery_codes_by_identity ON recovery_codes (identity);

-- Cross-tenant access, inbound (domain::partners): per partner (`tenant:<id>` or
-- `idp:<issuer>`) and a default (the empty partner).
CREATE TABLE partner_settings (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    partner TEXT COLLATE "C" NOT NULL,
    trust_mfa BIGINT NOT NULL,
    inbound_blocked BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, partner)
);
