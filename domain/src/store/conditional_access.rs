//! SQL for conditional-access policies. The rules are stored as the JSON document the
//! domain wrote; reading them back is the domain's (`conditional_access::Policy`).

use crate::Result;

/// A policy's row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PolicyRow {
    pub id: String,
    pub name: String,
    pub state: String,
    pub rules: String,
    pub created_at: i64,
    pub modified_at: i64,
}

const COLUMNS: &str = "SELECT id, name, state, rules, created_at, modified_at FROM ca_policies";

/// The organization's policies, by name.
pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<PolicyRow>> {
    Ok(sqlx::query_as(&format!(
        "{COLUMNS} WHERE tenant_id = $1 ORDER BY lower(name), id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

/// The organization's policies that are on or in report-only, by name: those a sign-in
/// is evaluated against.
pub async fn in_force(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<PolicyRow>> {
    Ok(sqlx::query_as(&format!(
        "{COLUMNS} WHERE tenant_id = $1 AND state <> 'disabled' ORDER BY lower(name), id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn get(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<PolicyRow>> {
    Ok(
        sqlx::query_as(&format!("{COLUMNS} WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    row: &PolicyRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ca_policies (id, tenant_id, name, state, rules, created_at, modified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(tenant_id)
    .bind(&row.name)
    .bind(&row.state)
    .bind(&row.rules)
    .bind(row.created_at)
    .bind(row.modified_at)
    .execute(db)
    .await
    .map(|_| ())
}

/// Writes a policy's name, state and rules; false when it does not exist.
pub async fn update(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    row: &PolicyRow,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE ca_policies SET name = $3, state = $4, rules = $5, modified_at = $6
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.state)
    .bind(&row.rules)
    .bind(row.modified_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// False when it did not exist.
pub async fn delete(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM ca_policies WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The enabled global administrators of the organization, each with their groups' ids,
/// for the lock-out warning.
pub async fn global_admins(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<Vec<(String, Vec<String>)>> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT u.id, m.group_id FROM users u
           JOIN tenant_roles r ON r.user_id = u.id AND r.role = 'GlobalAdministrator'
           LEFT JOIN group_members m ON m.user_id = u.id
          WHERE u.tenant_id = $1 AND u.enabled = 1
          ORDER BY u.id",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?;
    let mut admins: Vec<(String, Vec<String>)> = Vec::new();
    for (user, group) in rows {
        if admins.last().is_none_or(|(last, _)| *last != user) {
            admins.push((user, Vec::new()));
        }
        if let (Some(group), Some((_, groups))) = (group, admins.last_mut()) {
            groups.push(group);
        }
    }
    Ok(admins)
}
