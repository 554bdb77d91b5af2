//! SQL for Portico as an OpenID Connect provider: clients, signing keys, codes, tokens and
//! sign-in events.

use sqlx::{SqliteConnection, SqliteExecutor};
use types::{ClientSettings, ClientType, SignInEvent, SigningAlg};

use crate::Result;

/// An app seen as an OpenID Connect client.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Client {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub client_type: ClientType,
    pub id_token_alg: SigningAlg,
    pub assignment_required: bool,
    pub secret_hash: Option<String>,
}

/// The app `client_id` of the tenant named by `tenant` (its id, slug or primary domain,
/// as in the endpoints' paths), in one query.
pub async fn client(
    db: impl SqliteExecutor<'_>,
    tenant: &str,
    client_id: &str,
) -> Result<Option<Client>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.tenant_id, a.name, a.client_type, a.id_token_alg, a.assignment_required,
                s.secret_hash
         FROM apps a JOIN tenants t ON t.id = a.tenant_id
              LEFT JOIN client_secrets s ON s.app_id = a.id
         WHERE a.id = ?2 AND (t.id = ?1 OR t.slug = ?1 OR t.primary_domain = ?1)",
    )
    .bind(tenant)
    .bind(client_id)
    .fetch_optional(db)
    .await?)
}

/// Whether `uri` is registered for the app (`kind` sign-in or sign-out), exactly as
/// written: no normalisation, no case folding.
pub async fn has_redirect_uri(
    db: impl SqliteExecutor<'_>,
    app_id: &str,
    kind: &str,
    uri: &str,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM app_redirect_uris
                        WHERE app_id = ? AND kind = ? AND uri = ? COLLATE BINARY)",
    )
    .bind(app_id)
    .bind(kind)
    .bind(uri)
    .fetch_one(db)
    .await?)
}

pub async fn settings(db: &mut SqliteConnection, app_id: &str) -> Result<ClientSettings> {
    let (client_type, id_token_alg, has_secret): (ClientType, SigningAlg, bool) = sqlx::query_as(
        "SELECT client_type, id_token_alg, EXISTS (SELECT 1 FROM client_secrets WHERE app_id = a.id)
         FROM apps a WHERE id = ?",
    )
    .bind(app_id)
    .fetch_one(&mut *db)
    .await?;
    let uris: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, uri FROM app_redirect_uris WHERE app_id = ? ORDER BY uri")
            .bind(app_id)
            .fetch_all(&mut *db)
            .await?;
    let of = |kind: &str| {
        uris.iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, u)| u.clone())
            .collect()
    };
    Ok(ClientSettings {
        client_type,
        id_token_alg,
        redirect_uris: of("sign-in"),
        post_logout_uris: of("sign-out"),
        has_secret,
    })
}

pub async fn set_settings(
    db: &mut SqliteConnection,
    app_id: &str,
    client_type: ClientType,
    id_token_alg: SigningAlg,
    redirect_uris: &[String],
    post_logout_uris: &[String],
) -> Result<()> {
    sqlx::query("UPDATE apps SET client_type = ?, id_token_alg = ? WHERE id = ?")
        .bind(client_type)
        .bind(id_token_alg)
        .bind(app_id)
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM app_redirect_uris WHERE app_id = ?")
        .bind(app_id)
        .execute(&mut *db)
        .await?;
    for (kind, uris) in [("sign-in", redirect_uris), ("sign-out", post_logout_uris)] {
        for uri in uris {
            sqlx::query(
                "INSERT OR IGNORE INTO app_redirect_uris (app_id, kind, uri) VALUES (?, ?, ?)",
            )
            .bind(app_id)
            .bind(kind)
            .bind(uri)
            .execute(&mut *db)
            .await?;
        }
    }
    Ok(())
}

pub async fn set_secret(
    db: impl SqliteExecutor<'_>,
    app_id: &str,
    secret_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO client_secrets (app_id, secret_hash, created_at) VALUES (?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET secret_hash = excluded.secret_hash,
                                            created_at = excluded.created_at",
    )
    .bind(app_id)
    .bind(secret_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A signing key as stored.
#[derive(sqlx::FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
}

/// The key that signs with `alg` now: the newest one not retired.
pub async fn current_key(db: impl SqliteExecutor<'_>, alg: &str) -> Result<Option<StoredKey>> {
    Ok(sqlx::query_as(
        "SELECT kid, alg, private_der, public_jwk FROM signing_keys
         WHERE retired_at IS NULL AND alg = ? ORDER BY created_at DESC, kid LIMIT 1",
    )
    .bind(alg)
    .fetch_optional(db)
    .await?)
}

pub async fn insert_key(db: impl SqliteExecutor<'_>, key: &StoredKey, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(&key.private_der)
    .bind(&key.public_jwk)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn retire_keys(db: impl SqliteExecutor<'_>, now: i64) -> Result<()> {
    sqlx::query("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL")
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Public keys to publish: every key not retired, and retired ones until `retired_after`.
pub async fn published_keys(
    db: impl SqliteExecutor<'_>,
    retired_after: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL OR retired_at > ?
         ORDER BY created_at DESC, kid",
    )
    .bind(retired_after)
    .fetch_all(db)
    .await?)
}

/// What an authorization code stands for.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Grant {
    pub app_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub idp: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_code(
    db: impl SqliteExecutor<'_>,
    code_hash: &str,
    grant: &Grant,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO authorization_codes (code_hash, app_id, user_id, redirect_uri, scope, nonce,
            code_challenge, auth_time, amr, idp, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(code_hash)
    .bind(&grant.app_id)
    .bind(&grant.user_id)
    .bind(&grant.redirect_uri)
    .bind(&grant.scope)
    .bind(&grant.nonce)
    .bind(&grant.code_challenge)
    .bind(grant.auth_time)
    .bind(&grant.amr)
    .bind(&grant.idp)
    .bind(now)
    .bind(grant.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn code(db: impl SqliteExecutor<'_>, code_hash: &str) -> Result<Option<Grant>> {
    Ok(sqlx::query_as(
        "SELECT app_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, amr, idp,
                expires_at, used_at
         FROM authorization_codes WHERE code_hash = ?",
    )
    .bind(code_hash)
    .fetch_optional(db)
    .await?)
}

/// Marks a code used; false when it was used already.
pub async fn use_code(db: impl SqliteExecutor<'_>, code_hash: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
    )
    .bind(now)
    .bind(code_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A token as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Token {
    pub kind: String,
    pub app_id: String,
    pub user_id: Option<String>,
    pub family: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: Option<i64>,
    pub amr: Option<String>,
    pub idp: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_token(
    db: impl SqliteExecutor<'_>,
    token_hash: &str,
    token: &Token,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_tokens (token_hash, kind, app_id, user_id, family, scope, nonce,
            auth_time, amr, idp, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(&token.kind)
    .bind(&token.app_id)
    .bind(&token.user_id)
    .bind(&token.family)
    .bind(&token.scope)
    .bind(&token.nonce)
    .bind(token.auth_time)
    .bind(&token.amr)
    .bind(&token.idp)
    .bind(now)
    .bind(token.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn token(db: impl SqliteExecutor<'_>, token_hash: &str) -> Result<Option<Token>> {
    Ok(sqlx::query_as(
        "SELECT kind, app_id, user_id, family, scope, nonce, auth_time, amr, idp, expires_at,
                used_at, revoked_at
         FROM oauth_tokens WHERE token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

/// Marks a refresh token used (rotated); false when it was used already.
pub async fn use_token(db: impl SqliteExecutor<'_>, token_hash: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE oauth_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL
                                              AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_family(db: impl SqliteExecutor<'_>, family: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A sign-in attempt to record.
pub struct NewSignIn<'a> {
    pub tenant_id: &'a str,
    pub user_id: Option<&'a str>,
    pub user_name: &'a str,
    pub user_email: &'a str,
    pub app_id: &'a str,
    pub app_name: &'a str,
    pub success: bool,
    pub reason: &'a str,
    pub ip: Option<&'a str>,
}

pub async fn insert_sign_in(
    db: impl SqliteExecutor<'_>,
    event: &NewSignIn<'_>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sign_in_events (tenant_id, user_id, user_name, user_email, app_id, app_name,
            success, reason, ip, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(event.tenant_id)
    .bind(event.user_id)
    .bind(event.user_name)
    .bind(event.user_email)
    .bind(event.app_id)
    .bind(event.app_name)
    .bind(event.success)
    .bind(event.reason)
    .bind(event.ip)
    .bind(now)
    .fetch_one(db)
    .await?)
}

const SIGN_IN: &str = "SELECT id, user_id, user_name, user_email, app_id, app_name, success,
                              reason, ip, created_at
                       FROM sign_in_events";

pub async fn sign_ins(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<SignInEvent>> {
    Ok(sqlx::query_as(&format!(
        "{SIGN_IN} WHERE tenant_id = ? ORDER BY id DESC LIMIT ?"
    ))
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Whether the user is assigned to the app, directly or through a group.
pub async fn assigned(db: impl SqliteExecutor<'_>, app_id: &str, user_id: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM app_assignments WHERE app_id = ?1 AND user_id = ?2)
             OR EXISTS (SELECT 1 FROM app_assignments s JOIN group_members m ON m.group_id = s.group_id
                        WHERE s.app_id = ?1 AND m.user_id = ?2)",
    )
    .bind(app_id)
    .bind(user_id)
    .fetch_one(db)
    .await?)
}

/// What tokens say about a user.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Subject {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub email: String,
    pub user_type: types::UserType,
    pub enabled: bool,
    pub external_state: Option<types::ExternalState>,
}

pub async fn subject(db: impl SqliteExecutor<'_>, user_id: &str) -> Result<Option<Subject>> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, display_name, email, user_type, enabled, external_state
         FROM users WHERE id = ?",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}
