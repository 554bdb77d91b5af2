//! SQL for passkey ceremonies (between their two requests) and for passkeys registered as
//! second factors, keyed by identity. A Portico account's own passkeys are in
//! [`super::accounts`]. The rules (who may, single use, expiry) are in
//! [`crate::passkeys`] and [`crate::passkey_factors`].

use crate::{Identity, Result};

/// A ceremony as stored: what it is for, and whom it is bound to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Ceremony {
    /// One of the purposes of [`crate::passkeys::Purpose`], by its stored name.
    pub purpose: String,
    pub account_id: Option<String>,
    pub identity: Option<Identity>,
    pub session_hash: Option<String>,
    pub email: Option<String>,
    /// The name a second factor's new passkey will have.
    pub name: Option<String>,
    pub redemption_hash: Option<String>,
    pub next: Option<String>,
    /// webauthn-rs's challenge state, JSON.
    pub state: String,
    pub expires_at: i64,
}

pub async fn insert_ceremony(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    ceremony: &Ceremony,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO passkey_ceremonies
             (id_hash, purpose, account_id, identity, session_hash, email, name, redemption_hash, next, state, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id_hash)
    .bind(&ceremony.purpose)
    .bind(&ceremony.account_id)
    .bind(&ceremony.identity)
    .bind(&ceremony.session_hash)
    .bind(&ceremony.email)
    .bind(&ceremony.name)
    .bind(&ceremony.redemption_hash)
    .bind(&ceremony.next)
    .bind(&ceremony.state)
    .bind(ceremony.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Takes a ceremony out: it is found once at most. Old ones are forgotten on the way.
pub async fn take_ceremony(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    now: i64,
) -> Result<Option<Ceremony>> {
    sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *db)
        .await?;
    Ok(sqlx::query_as(
        "DELETE FROM passkey_ceremonies WHERE id_hash = $1
         RETURNING purpose, account_id, identity, session_hash, email, name, redemption_hash, next, state, expires_at",
    )
    .bind(id_hash)
    .fetch_optional(&mut *db)
    .await?)
}

/// A passkey registered as a second factor.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Factor {
    /// The credential id, base64url.
    pub id: String,
    pub identity: Identity,
    pub name: String,
    /// The credential as webauthn-rs keeps it, JSON.
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Keeps a new passkey factor; a credential registered already is a unique violation.
pub async fn insert_factor(
    db: &mut sqlx::AnyConnection,
    id: &str,
    identity: &Identity,
    name: &str,
    passkey: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO passkey_factors (id, identity, name, passkey, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(identity)
    .bind(name)
    .bind(passkey)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The identity's passkey factors, oldest first.
pub async fn factors_of(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<Vec<Factor>> {
    Ok(sqlx::query_as(
        "SELECT id, identity, name, passkey, created_at, last_used_at
         FROM passkey_factors WHERE identity = $1 ORDER BY created_at, id",
    )
    .bind(identity)
    .fetch_all(db)
    .await?)
}

/// Whether the identity has a passkey factor.
pub async fn has_factor(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkey_factors WHERE identity = $1")
        .bind(identity)
        .fetch_one(db)
        .await?;
    Ok(count > 0)
}

/// Keeps a passkey factor's new signature counter (when it moved), and when it was used.
pub async fn used_factor(
    db: &mut sqlx::AnyConnection,
    id: &str,
    passkey: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE passkey_factors SET passkey = coalesce($1, passkey), last_used_at = $2 WHERE id = $3",
    )
    .bind(passkey)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the identity's passkey factor `id`; false when it has none of that id.
pub async fn delete_factor(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    id: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM passkey_factors WHERE id = $1 AND identity = $2")
        .bind(id)
        .bind(identity)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
