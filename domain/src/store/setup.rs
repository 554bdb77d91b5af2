//! SQL for the one-time setup link.

use crate::Result;

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether an unused, unexpired link with this hash exists.
pub async fn is_open(db: &mut sqlx::AnyConnection, token_hash: &str, now: i64) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, types::SqlFlag>(
        "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_one(db)
    .await?.0)
}

/// Marks the link used; false when it was not open, so only one caller ever succeeds.
pub async fn consume(db: &mut sqlx::AnyConnection, token_hash: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every link still open, once the instance has been set up.
pub async fn close_all(db: &mut sqlx::AnyConnection, now: i64) -> Result<()> {
    sqlx::query("UPDATE setup_tokens SET used_at = $1 WHERE used_at IS NULL")
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
