//! Partners' identity providers, trips to them on their way, and the redemption order.

use crate::{Identity, Result};

/// A provider with what Portico needs to talk to it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Provider {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: String,
    /// A [`types::TokenAuthMethod`] key.
    pub token_auth_method: String,
    pub created_at: i64,
    /// Comma-separated.
    pub domains: String,
}

const PROVIDER: &str = "SELECT p.id, p.tenant_id, p.name, p.issuer, p.client_id, p.client_secret, p.scopes,
        p.token_auth_method, p.created_at,
        coalesce((SELECT string_agg(d.domain, ',') FROM identity_provider_domains d WHERE d.provider_id = p.id), '') AS domains
    FROM identity_providers p";

pub async fn providers(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<Provider>> {
    Ok(sqlx::query_as(&format!(
        "{PROVIDER} WHERE p.tenant_id = $1 ORDER BY p.name, p.id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn provider(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Provider>> {
    Ok(
        sqlx::query_as(&format!("{PROVIDER} WHERE p.tenant_id = $1 AND p.id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// A provider by its id alone (ids are unique across organizations).
pub async fn provider_by_id(db: &mut sqlx::AnyConnection, id: &str) -> Result<Option<Provider>> {
    Ok(sqlx::query_as(&format!("{PROVIDER} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// The provider `tenant_id` set up for an email domain.
pub async fn provider_for_domain(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
) -> Result<Option<Provider>> {
    Ok(sqlx::query_as(&format!(
        "{PROVIDER} JOIN identity_provider_domains pd ON pd.provider_id = p.id
         WHERE pd.tenant_id = $1 AND {} = $2",
        super::nocase(db, "pd.domain")
    ))
    .bind(tenant_id)
    .bind(super::folded(domain))
    .fetch_optional(db)
    .await?)
}

/// The providers through which accepted, enabled guests proved this address when they
/// redeemed (their identity is `oidc:<issuer>#<subject>` of a provider of their own
/// organization), with those organizations' names. Keyed on the address redemption proved,
/// never on the user's editable `email`.
pub async fn providers_of_guest(
    db: &mut sqlx::AnyConnection,
    email: &str,
) -> Result<Vec<types::ProviderChoice>> {
    Ok(sqlx::query_as(&format!(
        "SELECT DISTINCT p.id, p.name, t.name AS tenant_name
         FROM users u JOIN identity_providers p ON p.tenant_id = u.tenant_id
              JOIN tenants t ON t.id = u.tenant_id
         WHERE {} = $1 AND u.user_type = 'Guest' AND u.enabled = 1 AND u.external_state = 'Accepted'
           AND substr(u.redeemed_identity, 1, length(p.issuer) + 6) = 'oidc:' || p.issuer || '#'
         ORDER BY t.name, p.name",
        super::nocase(db, "u.redeemed_email")
    ))
    .bind(super::folded(email))
    .fetch_all(db)
    .await?)
}

/// Whether accepted, enabled guests redeemed with this identity, whatever their editable
/// `email` says now.
pub async fn has_guests_of(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, types::SqlFlag>(
        "SELECT EXISTS (SELECT 1 FROM users WHERE redeemed_identity = $1
                         AND user_type = 'Guest' AND enabled = 1 AND external_state = 'Accepted')",
    )
    .bind(identity)
    .fetch_one(db)
    .await?
    .0)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_provider(
    db: &mut sqlx::AnyConnection,
    id: &str,
    tenant_id: &str,
    name: &str,
    issuer: &str,
    client_id: &str,
    client_secret: &str,
    scopes: &str,
    token_auth_method: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO identity_providers (id, tenant_id, name, issuer, client_id, client_secret, scopes, token_auth_method, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(name)
    .bind(issuer)
    .bind(client_id)
    .bind(client_secret)
    .bind(scopes)
    .bind(token_auth_method)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Every provider's id and client secret as stored (of every organization: for sealing
/// those an earlier release kept as given).
pub async fn client_secrets(db: &mut sqlx::AnyConnection) -> Result<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT id, client_secret FROM identity_providers")
            .fetch_all(db)
            .await?,
    )
}

pub async fn set_secret(db: &mut sqlx::AnyConnection, id: &str, secret: &str) -> Result<()> {
    sqlx::query("UPDATE identity_providers SET client_secret = $1 WHERE id = $2")
        .bind(secret)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn insert_domain(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain: &str,
    provider_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO identity_provider_domains (tenant_id, domain, provider_id) VALUES ($1, $2, $3)",
    )
    .bind(tenant_id)
    .bind(domain)
    .bind(provider_id)
    .execute(db)
    .await?;
    Ok(())
}

/// False when the organization has no such provider.
pub async fn set_token_auth_method(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    method: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE identity_providers SET token_auth_method = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(method)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_provider(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM identity_providers WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A trip to a provider on its way.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Request {
    pub provider_id: String,
    pub tenant_id: String,
    pub redemption_hash: Option<String>,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: Option<String>,
    pub expires_at: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_request(
    db: &mut sqlx::AnyConnection,
    state_hash: &str,
    provider_id: &str,
    redemption_hash: Option<&str>,
    nonce: &str,
    pkce_verifier: &str,
    next: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO federation_requests (state_hash, provider_id, redemption_hash, nonce, pkce_verifier, next, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(state_hash)
    .bind(provider_id)
    .bind(redemption_hash)
    .bind(nonce)
    .bind(pkce_verifier)
    .bind(next)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Takes the trip with this state out: it is found once at most.
pub async fn take_request(
    db: &mut sqlx::AnyConnection,
    state_hash: &str,
) -> Result<Option<Request>> {
    Ok(sqlx::query_as(
        "DELETE FROM federation_requests WHERE state_hash = $1
         RETURNING provider_id, (SELECT tenant_id FROM identity_providers WHERE id = provider_id) AS tenant_id,
                   redemption_hash, nonce, pkce_verifier, next, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await?)
}

/// Forgets trips that were never finished.
pub async fn delete_expired_requests(db: &mut sqlx::AnyConnection, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM federation_requests WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn redemption_order(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT redemption_order FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(db)
            .await?
            .unwrap_or_default(),
    )
}

pub async fn set_redemption_order(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    order: &str,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET redemption_order = $1 WHERE id = $2")
        .bind(order)
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Keeps an identity a provider vouched for until a passcode confirms the address.
pub async fn set_pending_identity(
    db: &mut sqlx::AnyConnection,
    redemption_hash: &str,
    identity: &Identity,
) -> Result<()> {
    sqlx::query("UPDATE redemptions SET federated_identity = $1 WHERE id_hash = $2")
        .bind(identity)
        .bind(redemption_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn pending_identity(
    db: &mut sqlx::AnyConnection,
    redemption_hash: &str,
) -> Result<Option<Identity>> {
    Ok(
        sqlx::query_scalar("SELECT federated_identity FROM redemptions WHERE id_hash = $1")
            .bind(redemption_hash)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}
