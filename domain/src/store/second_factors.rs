//! SQL for second factors (authenticator apps) and recovery codes. Every row is keyed by
//! the identity it belongs to; the rules (windows, single use, who may) are in
//! [`crate::second_factors`].

use crate::{Identity, Result};

/// A second factor as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Factor {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Sealed (see [`crate::vault::Vault`]), for this row's id.
    pub secret: String,
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub struct NewFactor<'a> {
    pub id: &'a str,
    pub identity: &'a Identity,
    pub kind: &'a str,
    pub name: &'a str,
    pub secret: &'a str,
}

/// Keeps a factor whose enrollment waits for its first code.
pub async fn insert_pending(
    db: &mut sqlx::AnyConnection,
    factor: NewFactor<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO second_factors (id, identity, kind, name, secret, confirmed_at, last_step, created_at)
         VALUES ($1, $2, $3, $4, $5, NULL, 0, $6)",
    )
    .bind(factor.id)
    .bind(factor.identity)
    .bind(factor.kind)
    .bind(factor.name)
    .bind(factor.secret)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The identity's factors, confirmed or waiting, oldest first.
pub async fn of_identity(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<Vec<Factor>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, name, secret, confirmed_at, last_step, created_at, last_used_at
         FROM second_factors WHERE identity = $1 ORDER BY created_at, id",
    )
    .bind(identity)
    .fetch_all(db)
    .await?)
}

/// Whether the identity has a confirmed factor.
pub async fn has_confirmed(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM second_factors WHERE identity = $1 AND confirmed_at IS NOT NULL",
    )
    .bind(identity)
    .fetch_one(db)
    .await?;
    Ok(count > 0)
}

/// Removes the identity's enrollments still waiting for their first code.
pub async fn delete_pending(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM second_factors WHERE identity = $1 AND confirmed_at IS NULL")
            .bind(identity)
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

/// Removes enrollments begun before `before` and never confirmed.
pub async fn delete_stale_pending(db: &mut sqlx::AnyConnection, before: i64) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM second_factors WHERE confirmed_at IS NULL AND created_at < $1")
            .bind(before)
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

/// Confirms the waiting factor `id` of the identity with the code of `step`; false when
/// there was no such enrollment waiting (confirmed meanwhile, or gone).
pub async fn confirm(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    id: &str,
    name: &str,
    step: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE second_factors SET confirmed_at = $1, last_used_at = $1, last_step = $2, name = $3
         WHERE id = $4 AND identity = $5 AND confirmed_at IS NULL",
    )
    .bind(now)
    .bind(step)
    .bind(name)
    .bind(id)
    .bind(identity)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the code of `step` was used with the confirmed factor `id`, only if no
/// code of that step or a later one was used before (compare and set: of two uses of one
/// code at once, one changes the row and the other finds it changed). True for the use
/// that set it.
pub async fn use_step(db: &mut sqlx::AnyConnection, id: &str, step: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE second_factors SET last_step = $1, last_used_at = $2
         WHERE id = $3 AND confirmed_at IS NOT NULL AND last_step < $1",
    )
    .bind(step)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the identity's factor `id`; false when it has none of that id.
pub async fn delete(db: &mut sqlx::AnyConnection, identity: &Identity, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM second_factors WHERE id = $1 AND identity = $2")
        .bind(id)
        .bind(identity)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps a recovery code's hash for the identity.
pub async fn insert_recovery_code(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    code_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO recovery_codes (code_hash, identity, created_at) VALUES ($1, $2, $3)")
        .bind(code_hash)
        .bind(identity)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes every recovery code of the identity; how many there were.
pub async fn delete_recovery_codes(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM recovery_codes WHERE identity = $1")
        .bind(identity)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// How many unused recovery codes the identity has.
pub async fn recovery_codes_left(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE identity = $1")
            .bind(identity)
            .fetch_one(db)
            .await?,
    )
}

/// Uses up the identity's recovery code with this hash (compare and set: deleted by the
/// one use that finds it); true for that use.
pub async fn use_recovery_code(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    code_hash: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM recovery_codes WHERE code_hash = $1 AND identity = $2")
        .bind(code_hash)
        .bind(identity)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
