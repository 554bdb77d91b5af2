//! SQL for apps, their owners and their assignments.

use types::{AppPermission, AppSummary, GroupRef, UserRef};

use crate::Result;

const SUMMARY: &str =
    "SELECT id, name, description, launch_url, logo_url, assignment_required FROM apps";

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    app: &AppSummary,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO apps (id, tenant_id, name, description, launch_url, logo_url, assignment_required, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&app.id)
    .bind(tenant_id)
    .bind(&app.name)
    .bind(&app.description)
    .bind(&app.launch_url)
    .bind(&app.logo_url)
    .bind(i64::from(app.assignment_required))
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn get(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<AppSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<AppSummary>> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY} WHERE tenant_id = $1 ORDER BY lower(name), id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn update(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    app: &AppSummary,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE apps SET name = $1, description = $2, launch_url = $3, logo_url = $4, assignment_required = $5
         WHERE tenant_id = $6 AND id = $7",
    )
    .bind(&app.name)
    .bind(&app.description)
    .bind(&app.launch_url)
    .bind(&app.logo_url)
    .bind(i64::from(app.assignment_required))
    .bind(tenant_id)
    .bind(&app.id)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn delete(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM apps WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn add_owner(db: &mut sqlx::AnyConnection, app_id: &str, user_id: &str) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO app_owners (app_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(app_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn remove_owner(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    user_id: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM app_owners WHERE app_id = $1 AND user_id = $2")
        .bind(app_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn owners(db: &mut sqlx::AnyConnection, app_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM users u JOIN app_owners o ON o.user_id = u.id
         WHERE o.app_id = $1 ORDER BY lower(u.display_name), u.id",
    )
    .bind(app_id)
    .fetch_all(db)
    .await?)
}

/// Who an app is assigned to: a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignee<'a> {
    User(&'a str),
    Group(&'a str),
}

impl Assignee<'_> {
    fn column_and_id(&self) -> (&'static str, &str) {
        match self {
            Assignee::User(id) => ("user_id", id),
            Assignee::Group(id) => ("group_id", id),
        }
    }
}

pub async fn assign(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    assignee: Assignee<'_>,
) -> Result<bool> {
    let (column, id) = assignee.column_and_id();
    let sql = format!(
        "INSERT INTO app_assignments (app_id, {column}) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    );
    let done = sqlx::query(&sql).bind(app_id).bind(id).execute(db).await?;
    Ok(done.rows_affected() > 0)
}

pub async fn unassign(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    assignee: Assignee<'_>,
) -> Result<bool> {
    let (column, id) = assignee.column_and_id();
    let sql = format!("DELETE FROM app_assignments WHERE app_id = $1 AND {column} = $2");
    let done = sqlx::query(&sql).bind(app_id).bind(id).execute(db).await?;
    Ok(done.rows_affected() > 0)
}

pub async fn assigned_users(db: &mut sqlx::AnyConnection, app_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM users u JOIN app_assignments s ON s.user_id = u.id
         WHERE s.app_id = $1 ORDER BY lower(u.display_name), u.id",
    )
    .bind(app_id)
    .fetch_all(db)
    .await?)
}

pub async fn assigned_groups(db: &mut sqlx::AnyConnection, app_id: &str) -> Result<Vec<GroupRef>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name FROM groups g JOIN app_assignments s ON s.group_id = g.id
         WHERE s.app_id = $1 ORDER BY lower(g.name), g.id",
    )
    .bind(app_id)
    .fetch_all(db)
    .await?)
}

/// Which of an app's permissions: what it may do as itself (application permissions), or
/// what it may ask a person signing in to give it (delegated permissions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermissionKind {
    Application,
    Delegated,
}

impl PermissionKind {
    fn table(self) -> &'static str {
        match self {
            PermissionKind::Application => "app_permissions",
            PermissionKind::Delegated => "app_delegated_permissions",
        }
    }
}

/// The application permissions granted to the app, by name; names this Portico no longer
/// knows are left out.
pub async fn permissions(db: &mut sqlx::AnyConnection, app_id: &str) -> Result<Vec<AppPermission>> {
    permissions_of(db, app_id, PermissionKind::Application).await
}

/// The delegated permissions the app may ask for, by name.
pub async fn delegated_permissions(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
) -> Result<Vec<AppPermission>> {
    permissions_of(db, app_id, PermissionKind::Delegated).await
}

/// The permissions of one kind the app holds, in [`AppPermission::ALL`]'s order.
pub async fn permissions_of(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    kind: PermissionKind,
) -> Result<Vec<AppPermission>> {
    let names: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT permission FROM {} WHERE app_id = $1",
        kind.table()
    ))
    .bind(app_id)
    .fetch_all(db)
    .await?;
    let mut granted: Vec<AppPermission> = names
        .iter()
        .filter_map(|n| AppPermission::parse(n))
        .collect();
    granted.sort_by_key(|p| AppPermission::ALL.iter().position(|q| q == p));
    Ok(granted)
}

/// Grants a permission; false when the app held it already.
pub async fn grant(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    kind: PermissionKind,
    permission: AppPermission,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(&format!(
        "INSERT INTO {} (app_id, permission, granted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        kind.table()
    ))
    .bind(app_id)
    .bind(permission.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a permission back; false when the app did not hold it.
pub async fn revoke(
    db: &mut sqlx::AnyConnection,
    app_id: &str,
    kind: PermissionKind,
    permission: AppPermission,
) -> Result<bool> {
    let done = sqlx::query(&format!(
        "DELETE FROM {} WHERE app_id = $1 AND permission = $2",
        kind.table()
    ))
    .bind(app_id)
    .bind(permission.as_str())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
