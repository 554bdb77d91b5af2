//! SQL for guests' access periods: the tenant's settings, where a guest's access stands,
//! and the guests whose notice, end or deletion is due (the rules are in
//! `crate::guest_access`).

use types::{GuestAccessSettings, GuestAccessState};

use crate::Result;

/// The tenant's settings, or `None` for an unknown tenant.
pub async fn settings(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<Option<GuestAccessSettings>> {
    Ok(sqlx::query_as(
        "SELECT guest_access_days AS access_days, guest_access_notice_days AS notice_days,
                guest_deletion_grace_days AS grace_days
         FROM tenants WHERE id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(db)
    .await?)
}

pub async fn set_settings(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    settings: &GuestAccessSettings,
) -> Result<()> {
    sqlx::query(
        "UPDATE tenants SET guest_access_days = $1, guest_access_notice_days = $2,
                            guest_deletion_grace_days = $3
         WHERE id = $4",
    )
    .bind(settings.access_days)
    .bind(settings.notice_days)
    .bind(settings.grace_days)
    .bind(tenant_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Where the access of the user `user_id` of the tenant stands; `None`: no such user.
pub async fn of_user(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<GuestAccessState>> {
    Ok(sqlx::query_as(
        "SELECT access_ends_at AS ends_at, access_notice_for AS notice_for,
                access_ended_at AS ended_at, access_end_reason AS end_reason, delete_after
         FROM users WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// Sets when the user's access ends (`None`: never) and forgets any notice sent for the end
/// before.
pub async fn set_end(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    ends_at: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET access_ends_at = $1, access_notice_for = NULL, updated_at = $2
         WHERE tenant_id = $3 AND id = $4",
    )
    .bind(ends_at)
    .bind(now)
    .bind(tenant_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Notes that the notice for the end `ends_at` was sent.
pub async fn set_notice_sent(
    db: &mut sqlx::AnyConnection,
    user_id: &str,
    ends_at: i64,
) -> Result<()> {
    sqlx::query("UPDATE users SET access_notice_for = $1 WHERE id = $2")
        .bind(ends_at)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Disables the user, noting when and why access ended and when they go.
pub async fn set_ended(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    reason: &str,
    delete_after: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET enabled = 0, access_ended_at = $1, access_end_reason = $2,
                          delete_after = $3, updated_at = $1
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(now)
    .bind(reason)
    .bind(delete_after)
    .bind(tenant_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Enables the user again with a new end (`None`: never), forgetting the ended access.
pub async fn set_restored(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    ends_at: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET enabled = 1, access_ends_at = $1, access_notice_for = NULL,
                          access_ended_at = NULL, access_end_reason = NULL,
                          delete_after = NULL, updated_at = $2
         WHERE tenant_id = $3 AND id = $4",
    )
    .bind(ends_at)
    .bind(now)
    .bind(tenant_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The period (days; `None`: never) of the guest's newest accepted invitation, and whether
/// there is one.
pub async fn accepted_period(
    db: &mut sqlx::AnyConnection,
    user_id: &str,
) -> Result<Option<Option<i64>>> {
    Ok(sqlx::query_scalar(
        "SELECT access_days FROM invitations WHERE user_id = $1 AND status = 'Accepted'
         ORDER BY redeemed_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// The period (days; `None`: never) of an invitation.
pub async fn invitation_period(
    db: &mut sqlx::AnyConnection,
    invitation_id: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT access_days FROM invitations WHERE id = $1")
            .bind(invitation_id)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// A guest whose notice, end or deletion is due.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub tenant_id: String,
    pub tenant_name: String,
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub ends_at: Option<i64>,
    pub delete_after: Option<i64>,
    pub notice_days: i64,
}

const DUE: &str = "SELECT u.tenant_id, t.name AS tenant_name, u.id, u.display_name, u.email,
        u.access_ends_at AS ends_at, u.delete_after, t.guest_access_notice_days AS notice_days
    FROM users u JOIN tenants t ON t.id = u.tenant_id
    WHERE u.user_type = 'Guest'";

/// Enabled guests whose access ends after `now` but no later than `latest_end` (the
/// longest notice any tenant gives), and whose notice for that end has not gone. The
/// domain decides which of them are within their tenant's notice.
pub async fn ending_unnoticed(
    db: &mut sqlx::AnyConnection,
    now: i64,
    latest_end: i64,
) -> Result<Vec<Due>> {
    Ok(sqlx::query_as(&format!(
        "{DUE} AND u.enabled = 1 AND u.delete_after IS NULL
           AND u.access_ends_at > $1 AND u.access_ends_at <= $2
           AND (u.access_notice_for IS NULL OR u.access_notice_for <> u.access_ends_at)
         ORDER BY u.access_ends_at LIMIT 500"
    ))
    .bind(now)
    .bind(latest_end)
    .fetch_all(db)
    .await?)
}

/// Enabled guests whose access ended at or before `now` and was not ended yet.
pub async fn ended_unhandled(db: &mut sqlx::AnyConnection, now: i64) -> Result<Vec<Due>> {
    Ok(sqlx::query_as(&format!(
        "{DUE} AND u.enabled = 1 AND u.delete_after IS NULL AND u.access_ends_at <= $1
         ORDER BY u.access_ends_at LIMIT 500"
    ))
    .bind(now)
    .fetch_all(db)
    .await?)
}

/// Disabled guests whose grace ended at or before `now`.
pub async fn past_grace(db: &mut sqlx::AnyConnection, now: i64) -> Result<Vec<Due>> {
    Ok(sqlx::query_as(&format!(
        "{DUE} AND u.enabled = 0 AND u.delete_after <= $1 ORDER BY u.delete_after LIMIT 500"
    ))
    .bind(now)
    .fetch_all(db)
    .await?)
}

/// Whether `sponsor_id` sponsors `guest_id`.
pub async fn is_sponsor(
    db: &mut sqlx::AnyConnection,
    guest_id: &str,
    sponsor_id: &str,
) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM sponsors WHERE guest_id = $1 AND sponsor_id = $2",
    )
    .bind(guest_id)
    .bind(sponsor_id)
    .fetch_one(db)
    .await?
        > 0)
}

/// Revokes every token issued to the user.
pub async fn revoke_tokens(db: &mut sqlx::AnyConnection, user_id: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
