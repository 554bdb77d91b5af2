//! SQL for guests' sponsors and the organization's fallback sponsor.

use types::UserRef;

use crate::Result;

/// The sponsors of a guest, by name.
pub async fn of_guest(db: &mut sqlx::AnyConnection, guest_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM sponsors s JOIN users u ON u.id = s.sponsor_id
         WHERE s.guest_id = $1 ORDER BY lower(u.display_name), u.id",
    )
    .bind(guest_id)
    .fetch_all(db)
    .await?)
}

/// Makes `sponsor_id` a sponsor of `guest_id`; false when it was one already.
pub async fn add(
    db: &mut sqlx::AnyConnection,
    guest_id: &str,
    sponsor_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO sponsors (guest_id, sponsor_id, added_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(guest_id)
    .bind(sponsor_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// False when `sponsor_id` was not a sponsor of `guest_id`.
pub async fn remove(
    db: &mut sqlx::AnyConnection,
    guest_id: &str,
    sponsor_id: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM sponsors WHERE guest_id = $1 AND sponsor_id = $2")
        .bind(guest_id)
        .bind(sponsor_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every sponsor of `guest_id` goes.
pub async fn clear(db: &mut sqlx::AnyConnection, guest_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sponsors WHERE guest_id = $1")
        .bind(guest_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The guests `sponsor_id` sponsors.
pub async fn guests_of(db: &mut sqlx::AnyConnection, sponsor_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM sponsors s JOIN users u ON u.id = s.guest_id
         WHERE s.sponsor_id = $1 ORDER BY lower(u.display_name), u.id",
    )
    .bind(sponsor_id)
    .fetch_all(db)
    .await?)
}

/// The tenant's guests that have no sponsor, by name.
pub async fn unsponsored(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM users u
         WHERE u.tenant_id = $1 AND u.user_type = 'Guest'
           AND NOT EXISTS (SELECT 1 FROM sponsors s WHERE s.guest_id = u.id)
         ORDER BY lower(u.display_name), u.id",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

/// The tenant's fallback sponsor and whether they are enabled.
pub async fn fallback(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<Option<(UserRef, bool)>> {
    let row: Option<(String, String, String, types::SqlFlag)> = sqlx::query_as(
        "SELECT u.id, u.display_name, u.email, u.enabled FROM tenants t
         JOIN users u ON u.id = t.fallback_sponsor_id WHERE t.id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, display_name, email, enabled)| {
        (
            UserRef {
                id,
                display_name,
                email,
            },
            enabled.into(),
        )
    }))
}

pub async fn set_fallback(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET fallback_sponsor_id = $1 WHERE id = $2")
        .bind(user_id)
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(())
}
