//! Portico accounts of invited people.

use sqlx::SqliteExecutor;

use crate::Result;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub password_hash: Option<String>,
}

pub async fn by_email(db: impl SqliteExecutor<'_>, email: &str) -> Result<Option<Account>> {
    Ok(
        sqlx::query_as("SELECT id, email, password_hash FROM accounts WHERE email = ?")
            .bind(email)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    id: &str,
    email: &str,
    password_hash: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
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

pub async fn confirm_address(db: impl SqliteExecutor<'_>, redemption_hash: &str) -> Result<()> {
    sqlx::query("UPDATE redemptions SET address_confirmed = 1 WHERE id_hash = ?")
        .bind(redemption_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn address_confirmed(db: impl SqliteExecutor<'_>, redemption_hash: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT address_confirmed FROM redemptions WHERE id_hash = ?")
            .bind(redemption_hash)
            .fetch_optional(db)
            .await?
            .unwrap_or(false),
    )
}
