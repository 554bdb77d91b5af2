//! SQL for groups, their owners and their members.

use types::{GroupSummary, UserRef};

use crate::Result;

const SUMMARY: &str = "SELECT g.id, g.name, g.description,
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count,
    (SELECT COUNT(*) FROM group_owners o WHERE o.group_id = g.id) AS owner_count
    FROM groups g";

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    id: &str,
    tenant_id: &str,
    name: &str,
    description: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO groups (id, tenant_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(name)
    .bind(description)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn get(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<GroupSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE g.tenant_id = $1 AND g.id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<GroupSummary>> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY} WHERE g.tenant_id = $1 ORDER BY lower(g.name), g.id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn update(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    name: &str,
    description: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE groups SET name = $1, description = $2 WHERE tenant_id = $3 AND id = $4")
        .bind(name)
        .bind(description)
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn delete(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM groups WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Which relation between a group and a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Owner,
    Member,
}

impl Link {
    fn table(self) -> &'static str {
        match self {
            Link::Owner => "group_owners",
            Link::Member => "group_members",
        }
    }
}

/// Returns whether a row was added (false: it was there already).
pub async fn add_link(
    db: &mut sqlx::AnyConnection,
    link: Link,
    group_id: &str,
    user_id: &str,
) -> Result<bool> {
    let sql = format!(
        "INSERT INTO {} (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        link.table()
    );
    let done = sqlx::query(&sql)
        .bind(group_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Returns whether a row was removed.
pub async fn remove_link(
    db: &mut sqlx::AnyConnection,
    link: Link,
    group_id: &str,
    user_id: &str,
) -> Result<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE group_id = $1 AND user_id = $2",
        link.table()
    );
    let done = sqlx::query(&sql)
        .bind(group_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn linked_users(
    db: &mut sqlx::AnyConnection,
    link: Link,
    group_id: &str,
) -> Result<Vec<UserRef>> {
    let sql = format!(
        "SELECT u.id, u.display_name, u.email FROM users u JOIN {} l ON l.user_id = u.id
         WHERE l.group_id = $1 ORDER BY lower(u.display_name), u.id",
        link.table()
    );
    Ok(sqlx::query_as(&sql).bind(group_id).fetch_all(db).await?)
}
