//! SQL for flashes (see [`crate::flashes`]).

use crate::Result;

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    session_hash: Option<&str>,
    sealed: &[u8],
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO flashes (id_hash, session_hash, sealed, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id_hash)
    .bind(session_hash)
    .bind(sealed)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn exists(db: &mut sqlx::AnyConnection, id_hash: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, types::SqlFlag>(
        "SELECT EXISTS (SELECT 1 FROM flashes WHERE id_hash = $1)",
    )
    .bind(id_hash)
    .fetch_one(db)
    .await?
    .0)
}

/// Removes the flash and gives what it held: the session it was made in, its sealed
/// content and its expiry.
pub async fn take(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
) -> Result<Option<(Option<String>, Vec<u8>, i64)>> {
    Ok(sqlx::query_as(
        "DELETE FROM flashes WHERE id_hash = $1 RETURNING session_hash, sealed, expires_at",
    )
    .bind(id_hash)
    .fetch_optional(db)
    .await?)
}

pub async fn delete_for_session(db: &mut sqlx::AnyConnection, session_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM flashes WHERE session_hash = $1")
        .bind(session_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_expired(db: &mut sqlx::AnyConnection, now: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM flashes WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
