//! SQL for what a signed-in person may use.

use crate::store::Json;
use types::AccessPanel;

use crate::Result;

/// The apps a user may open (assigned to them, to a group they are a member of, or open to
/// everyone in the tenant), the groups they own or belong to, what they own (with the
/// requests waiting for them) and their own latest requests; and, when `may_ask`, the
/// groups they may join and the requestable apps they cannot open yet; as one row: the
/// access panel is the page people open most, and one row is one trip to the database
/// thread. Each branch walks the user's own index entries, or the tenant's groups that take
/// requests and apps that are requestable, so the cost follows the user's apps and groups
/// and what the tenant offers, not the tenant's size.
macro_rules! panel_sql {
    ($db:ident) => {
        concat!(
            "WITH mine(app_id) AS (
                SELECT id FROM apps WHERE tenant_id = $1 AND assignment_required = 0
                UNION SELECT app_id FROM app_assignments WHERE user_id = $2
                UNION SELECT s.app_id FROM group_members m
                      JOIN app_assignments s ON s.group_id = m.group_id WHERE m.user_id = $2
             ),
             my_groups(group_id) AS (
                SELECT group_id FROM group_owners WHERE user_id = $2
                UNION SELECT group_id FROM group_members WHERE user_id = $2
             )
             SELECT ",
            json_text!($db, concat!(
                json_object!($db),
                "'apps', (SELECT ",
                json_array_of!(
                    $db,
                    concat!(
                        json_object!($db),
                        "'id', a.id, 'name', a.name, 'description', a.description,
                         'launch_url', a.launch_url, 'logo_url', a.logo_url,
                         'assignment_required', ",
                        json_bool!($db, "a.assignment_required = 1"),
                        ")"
                    ),
                    "lower(a.name), a.id"
                ),
                " FROM mine ", ordered_join!($db), " apps a ON a.id = mine.app_id
                  WHERE a.tenant_id = $1),
                'groups', (SELECT ",
                json_array_of!(
                    $db,
                    concat!(
                        json_object!($db),
                        "'id', g.id, 'name', g.name, 'description', g.description,
                         'is_owner', ",
                        json_bool!($db, "EXISTS (SELECT 1 FROM group_owners o
                            WHERE o.group_id = g.id AND o.user_id = $2)"),
                        ", 'is_member', ",
                        json_bool!($db, "EXISTS (SELECT 1 FROM group_members m
                            WHERE m.group_id = g.id AND m.user_id = $2)"),
                        ")"
                    ),
                    "lower(g.name), g.id"
                ),
                " FROM my_groups ", ordered_join!($db), " groups g ON g.id = my_groups.group_id),
                'owned', (SELECT ",
                json_array_of!(
                    $db,
                    concat!(
                        json_object!($db),
                        "'kind', kind, 'id', id, 'name', name, 'pending_requests', pending)"
                    ),
                    "kind, lower(name), id"
                ),
                " FROM (SELECT 'App' AS kind, a.id, a.name,
                               (SELECT COUNT(*) FROM access_requests r
                                 WHERE r.app_id = a.id AND r.state = 'Pending') AS pending
                          FROM app_owners o JOIN apps a ON a.id = o.app_id
                         WHERE o.user_id = $2 AND a.tenant_id = $1
                        UNION ALL
                        SELECT 'Group', g.id, g.name,
                               (SELECT COUNT(*) FROM access_requests r
                                 WHERE r.group_id = g.id AND r.state = 'Pending')
                          FROM group_owners o JOIN groups g ON g.id = o.group_id
                         WHERE o.user_id = $2 AND g.tenant_id = $1) owned),
                'requests', (SELECT ",
                json_array_of!(
                    $db,
                    concat!(
                        json_object!($db),
                        "'id', r.id, 'kind', CASE WHEN r.app_id IS NULL THEN 'Group' ELSE 'App' END,
                         'name', coalesce(a.name, g.name), 'state', r.state,
                         'created_at', r.created_at)"
                    ),
                    "r.created_at DESC, r.seq DESC"
                ),
                // The latest twenty, in the order they were made.
                " FROM (SELECT seq, id, app_id, group_id, state, created_at
                          FROM access_requests WHERE user_id = $2
                         ORDER BY created_at DESC, seq DESC LIMIT 20) r
                  LEFT JOIN apps a ON a.id = r.app_id LEFT JOIN groups g ON g.id = r.group_id),
                'joinable', (SELECT ",
                json_array_of!(
                    $db,
                    concat!(
                        json_object!($db),
                        "'id', g.id, 'name', g.name, 'description', g.description,
                         'join_policy', g.join_policy)"
                    ),
                    "lower(g.name), g.id"
                ),
                " FROM groups g
                  WHERE $3 = 1 AND g.tenant_id = $1 AND g.join_policy <> 'Closed'
                    AND NOT EXISTS (SELECT 1 FROM group_members m
                                     WHERE m.group_id = g.id AND m.user_id = $2)
                    AND NOT EXISTS (SELECT 1 FROM access_requests r
                                     WHERE r.group_id = g.id AND r.user_id = $2 AND r.state = 'Pending')),
                'requestable', (SELECT ",
                json_array_of!(
                    $db,
                    concat!(json_object!($db), "'id', a.id, 'name', a.name)"),
                    "lower(a.name), a.id"
                ),
                " FROM apps a
                  WHERE $3 = 1 AND a.tenant_id = $1 AND a.requestable = 1 AND a.assignment_required = 1
                    AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.app_id = a.id)
                    AND NOT EXISTS (SELECT 1 FROM access_requests r
                                     WHERE r.app_id = a.id AND r.user_id = $2 AND r.state = 'Pending')))"
            ))
        )
    };
}

pub async fn panel(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    may_ask: bool,
) -> Result<AccessPanel> {
    let (Json(panel),): (Json<AccessPanel>,) = sqlx::query_as(for_backend!(&*db, panel_sql))
        .bind(tenant_id)
        .bind(user_id)
        .bind(i64::from(may_ask))
        .fetch_one(db)
        .await?;
    Ok(panel)
}
