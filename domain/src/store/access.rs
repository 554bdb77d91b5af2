//! SQL for what a signed-in person may use.

use sqlx::SqliteExecutor;
use types::{AppSummary, MyGroup};

use crate::Result;

/// Apps a user may open: assigned to them, to a group they are a member of, or open to
/// everyone in the tenant.
pub async fn apps_for(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    user_id: &str,
) -> Result<Vec<AppSummary>> {
    Ok(sqlx::query_as(
        // Each branch walks its own index, so the cost follows the user's apps, not the
        // tenant's.
        "SELECT id, name, description, launch_url, logo_url, assignment_required FROM apps
         WHERE tenant_id = ?1 AND id IN (
            SELECT id FROM apps WHERE tenant_id = ?1 AND assignment_required = 0
            UNION SELECT app_id FROM app_assignments WHERE user_id = ?2
            UNION SELECT s.app_id FROM group_members m
                  JOIN app_assignments s ON s.group_id = m.group_id WHERE m.user_id = ?2
         )
         ORDER BY name",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// Groups a user owns or belongs to.
pub async fn groups_for(db: impl SqliteExecutor<'_>, user_id: &str) -> Result<Vec<MyGroup>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.description,
            EXISTS (SELECT 1 FROM group_owners o WHERE o.group_id = g.id AND o.user_id = ?1) AS is_owner,
            EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = ?1) AS is_member
         FROM groups g
         WHERE g.id IN (SELECT group_id FROM group_owners WHERE user_id = ?1
                        UNION SELECT group_id FROM group_members WHERE user_id = ?1)
         ORDER BY g.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}
