//! Portico accounts of invited people.

use crate::{Identity, Result};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub password_hash: Option<String>,
}

pub async fn by_email(db: &mut sqlx::AnyConnection, email: &str) -> Result<Option<Account>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, email, password_hash FROM accounts WHERE {} = $1",
        super::nocase(db, "email")
    ))
    .bind(super::folded(email))
    .fetch_optional(db)
    .await?)
}

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    id: &str,
    email: &str,
    password_hash: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn confirm_address(db: &mut sqlx::AnyConnection, redemption_hash: &str) -> Result<()> {
    sqlx::query("UPDATE redemptions SET address_confirmed = 1 WHERE id_hash = $1")
        .bind(redemption_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn address_confirmed(
    db: &mut sqlx::AnyConnection,
    redemption_hash: &str,
) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, types::SqlFlag>(
        "SELECT address_confirmed FROM redemptions WHERE id_hash = $1",
    )
    .bind(redemption_hash)
    .fetch_optional(db)
    .await?
    .is_some_and(bool::from))
}

/// An account's passkeys as (credential id, webauthn-rs JSON).
pub async fn passkeys(
    db: &mut sqlx::AnyConnection,
    account_id: &str,
) -> Result<Vec<(String, String)>> {
    Ok(
        sqlx::query_as(
            "SELECT id, passkey FROM passkeys WHERE account_id = $1 ORDER BY created_at",
        )
        .bind(account_id)
        .fetch_all(db)
        .await?,
    )
}

pub async fn insert_passkey(
    db: &mut sqlx::AnyConnection,
    id: &str,
    account_id: &str,
    passkey: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO passkeys (id, account_id, passkey, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(account_id)
    .bind(passkey)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Keeps a passkey's new signature counter, and when it was last used.
pub async fn used_passkey(
    db: &mut sqlx::AnyConnection,
    id: &str,
    passkey: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE passkeys SET passkey = coalesce($1, passkey), last_used_at = $2 WHERE id = $3",
    )
    .bind(passkey)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_id(db: &mut sqlx::AnyConnection, id: &str) -> Result<Option<Account>> {
    Ok(
        sqlx::query_as("SELECT id, email, password_hash FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn passkey_list(
    db: &mut sqlx::AnyConnection,
    account_id: &str,
) -> Result<Vec<types::PasskeySummary>> {
    Ok(sqlx::query_as(
        "SELECT id, created_at, last_used_at FROM passkeys WHERE account_id = $1 ORDER BY created_at",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?)
}

pub async fn set_password(
    db: &mut sqlx::AnyConnection,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_passkey(
    db: &mut sqlx::AnyConnection,
    account_id: &str,
    id: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM passkeys WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Guests who proved an identity (an address, by passcodes) now belong to another (the
/// account made for that address).
pub async fn adopt_identity(
    db: &mut sqlx::AnyConnection,
    from: &Identity,
    to: &Identity,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET redeemed_identity = $1, updated_at = $2 WHERE redeemed_identity = $3",
    )
    .bind(to)
    .bind(now)
    .bind(from)
    .execute(db)
    .await?;
    Ok(())
}
