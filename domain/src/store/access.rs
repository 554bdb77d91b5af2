//! SQL for what a signed-in person may use.

use sqlx::SqliteExecutor;
use sqlx::types::Json;
use types::AccessPanel;

use crate::Result;

/// The apps a user may open (assigned to them, to a group they are a member of, or open to
/// everyone in the tenant) and the groups they own or belong to, as one row: the access
/// panel is the page people open most, and one row is one trip to the database thread.
/// Each branch walks the user's own index entries, so the cost follows the user's apps and
/// groups, not the tenant's.
pub async fn panel(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    user_id: &str,
) -> Result<AccessPanel> {
    let (Json(panel),): (Json<AccessPanel>,) = sqlx::query_as(
        "WITH mine(app_id) AS (
            SELECT id FROM apps WHERE tenant_id = ?1 AND assignment_required = 0
            UNION SELECT app_id FROM app_assignments WHERE user_id = ?2
            UNION SELECT s.app_id FROM group_members m
                  JOIN app_assignments s ON s.group_id = m.group_id WHERE m.user_id = ?2
         ),
         my_groups(group_id) AS (
            SELECT group_id FROM group_owners WHERE user_id = ?2
            UNION SELECT group_id FROM group_members WHERE user_id = ?2
         )
         SELECT json_object(
            'apps', (SELECT json_group_array(json_object(
                        'id', a.id, 'name', a.name, 'description', a.description,
                        'launch_url', a.launch_url, 'logo_url', a.logo_url,
                        'assignment_required', json(iif(a.assignment_required, 'true', 'false')))
                        ORDER BY a.name COLLATE NOCASE, a.id)
                     FROM mine CROSS JOIN apps a ON a.id = mine.app_id
                     WHERE a.tenant_id = ?1),
            'groups', (SELECT json_group_array(json_object(
                        'id', g.id, 'name', g.name, 'description', g.description,
                        'is_owner', json(iif(EXISTS (SELECT 1 FROM group_owners o
                            WHERE o.group_id = g.id AND o.user_id = ?2), 'true', 'false')),
                        'is_member', json(iif(EXISTS (SELECT 1 FROM group_members m
                            WHERE m.group_id = g.id AND m.user_id = ?2), 'true', 'false')))
                        ORDER BY g.name COLLATE NOCASE, g.id)
                       FROM my_groups CROSS JOIN groups g ON g.id = my_groups.group_id))",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(panel)
}
