//! SQL for users and their tenant roles.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor};
use types::{AppRef, GroupRef, Role, UserRef, UserSummary, UserType};

use crate::Result;

const SUMMARY: &str = "SELECT id, email, display_name, user_type, enabled, created_at,
    external_state, last_sign_in_at FROM users";

pub struct NewUser<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub user_type: UserType,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
}

pub async fn insert(db: impl SqliteExecutor<'_>, user: NewUser<'_>, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, user_type, email, display_name, password_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id)
    .bind(user.tenant_id)
    .bind(user.user_type)
    .bind(user.email)
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(now)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn get(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<UserSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE tenant_id = ? AND id = ?"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn by_email(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    email: &str,
) -> Result<Option<UserSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE tenant_id = ? AND email = ?"))
            .bind(tenant_id)
            .bind(email)
            .fetch_optional(db)
            .await?,
    )
}

/// Users whose display name or email starts with `search` (any case), by name.
/// Which users a page of the list holds.
pub struct Listing<'a> {
    pub search: &'a str,
    pub user_type: Option<UserType>,
    pub external_state: Option<types::ExternalState>,
    /// Only users whose last sign-in (or creation, if they never signed in) is older.
    pub inactive_before: Option<i64>,
}

pub async fn list(
    db: &mut SqliteConnection,
    tenant_id: &str,
    listing: &Listing<'_>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<UserSummary>, i64)> {
    let Listing {
        search,
        user_type,
        external_state,
        inactive_before,
    } = *listing;
    let filter = |query: &mut QueryBuilder<'_, Sqlite>| {
        query
            .push(" WHERE tenant_id = ")
            .push_bind(tenant_id.to_string());
        if !search.is_empty() {
            // Ranges on NOCASE columns use the indexes, unlike LIKE '%…%'.
            let upper = format!("{search}\u{10FFFF}");
            query
                .push(" AND ((display_name >= ")
                .push_bind(search.to_string())
                .push(" AND display_name < ")
                .push_bind(upper.clone())
                .push(") OR (email >= ")
                .push_bind(search.to_string())
                .push(" AND email < ")
                .push_bind(upper)
                .push("))");
        }
        if let Some(state) = external_state {
            query.push(" AND external_state = ").push_bind(state);
        }
        if let Some(user_type) = user_type {
            query.push(" AND user_type = ").push_bind(user_type);
        }
        if let Some(cutoff) = inactive_before {
            query
                .push(" AND coalesce(last_sign_in_at, created_at) < ")
                .push_bind(cutoff);
        }
    };
    let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM users");
    filter(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *db).await?;
    let mut query = QueryBuilder::<Sqlite>::new(SUMMARY);
    filter(&mut query);
    query
        // With a search, ranges on two indexes find the few rows fastest; ordering by the
        // name index instead would walk the whole tenant (the `+` keeps SQLite off it).
        .push(if search.is_empty() {
            " ORDER BY display_name, id LIMIT "
        } else {
            " ORDER BY +display_name, id LIMIT "
        })
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    Ok((query.build_query_as().fetch_all(&mut *db).await?, total))
}

/// Notes that the user signed in at `now`.
pub async fn signed_in(db: impl SqliteExecutor<'_>, user_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE users SET last_sign_in_at = ? WHERE id = ?")
        .bind(now)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn update(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    id: &str,
    email: &str,
    display_name: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET email = ?, display_name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
    )
    .bind(email)
    .bind(display_name)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn set_enabled(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    id: &str,
    enabled: bool,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE users SET enabled = ?, updated_at = ? WHERE tenant_id = ? AND id = ?")
        .bind(enabled)
        .bind(now)
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
    )
    .bind(hash)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: impl SqliteExecutor<'_>, tenant_id: &str, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM users WHERE tenant_id = ? AND id = ?")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn roles(db: impl SqliteExecutor<'_>, user_id: &str) -> Result<Vec<Role>> {
    Ok(
        sqlx::query_scalar("SELECT role FROM tenant_roles WHERE user_id = ? ORDER BY role")
            .bind(user_id)
            .fetch_all(db)
            .await?,
    )
}

pub async fn add_role(db: impl SqliteExecutor<'_>, user_id: &str, role: Role) -> Result<()> {
    sqlx::query("INSERT OR IGNORE INTO tenant_roles (user_id, role) VALUES (?, ?)")
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn remove_role(db: impl SqliteExecutor<'_>, user_id: &str, role: Role) -> Result<()> {
    sqlx::query("DELETE FROM tenant_roles WHERE user_id = ? AND role = ?")
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(())
}

/// Enabled global administrators of a tenant: a tenant never loses its last one.
pub async fn count_active_global_admins(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM tenant_roles r JOIN users u ON u.id = r.user_id
         WHERE u.tenant_id = ? AND u.enabled = 1 AND r.role = 'GlobalAdministrator'",
    )
    .bind(tenant_id)
    .fetch_one(db)
    .await?)
}

/// Enabled global administrators of a tenant, by name: those who can give roles there.
pub async fn global_admins(db: impl SqliteExecutor<'_>, tenant_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM tenant_roles r JOIN users u ON u.id = r.user_id
         WHERE u.tenant_id = $1 AND u.enabled = TRUE AND r.role = 'GlobalAdministrator'
         ORDER BY u.display_name, u.email",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn groups_of(db: impl SqliteExecutor<'_>, user_id: &str) -> Result<Vec<GroupRef>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name FROM groups g JOIN group_members m ON m.group_id = g.id
         WHERE m.user_id = ? ORDER BY g.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

pub async fn apps_assigned_directly(
    db: impl SqliteExecutor<'_>,
    user_id: &str,
) -> Result<Vec<AppRef>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.name FROM apps a JOIN app_assignments s ON s.app_id = a.id
         WHERE s.user_id = ? ORDER BY a.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// What sign-in needs to know of a member account.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: String,
    pub tenant_id: String,
    pub password_hash: Option<String>,
    pub enabled: bool,
}

pub async fn member_credentials(
    db: impl SqliteExecutor<'_>,
    email: &str,
) -> Result<Option<Credentials>> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, password_hash, enabled FROM users WHERE email = ? AND user_type = 'Member'",
    )
    .bind(email)
    .fetch_optional(db)
    .await?)
}

/// What a directory listing may ask for; every part that is set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryFilter {
    pub user_types: Vec<UserType>,
    pub mails: Vec<String>,
    pub external_states: Vec<types::ExternalState>,
    pub display_name_prefix: Option<String>,
    pub mail_prefix: Option<String>,
}

/// A user as the directory API shows them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DirectoryUser {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub user_type: UserType,
    pub enabled: bool,
    pub created_at: i64,
    pub external_state: Option<types::ExternalState>,
    /// When the guest was last invited or accepted.
    pub state_changed_at: Option<i64>,
    pub redeemed_identity: Option<crate::Identity>,
}

fn push_directory_filter(
    query: &mut QueryBuilder<'_, Sqlite>,
    tenant_id: &str,
    filter: &DirectoryFilter,
) {
    query
        .push(" WHERE u.tenant_id = ")
        .push_bind(tenant_id.to_string());
    let mut any_of = |column: &str, values: Vec<String>| {
        if !values.is_empty() {
            query.push(format!(" AND {column} IN ("));
            let mut list = query.separated(", ");
            for value in values {
                list.push_bind(value);
            }
            query.push(")");
        }
    };
    any_of(
        "u.user_type",
        filter
            .user_types
            .iter()
            .map(|t| t.as_str().into())
            .collect(),
    );
    any_of("u.email", filter.mails.clone());
    any_of(
        "u.external_state",
        filter
            .external_states
            .iter()
            .map(|s| s.as_str().into())
            .collect(),
    );
    // Ranges on NOCASE columns: the start of a name or address, in any case.
    for (column, prefix) in [
        ("u.display_name", &filter.display_name_prefix),
        ("u.email", &filter.mail_prefix),
    ] {
        if let Some(prefix) = prefix {
            query
                .push(format!(" AND {column} >= "))
                .push_bind(prefix.clone())
                .push(format!(" AND {column} < "))
                .push_bind(format!("{prefix}\u{10FFFF}"));
        }
    }
}

const DIRECTORY_USER: &str = "SELECT u.id, u.email, u.display_name, u.user_type, u.enabled,
        u.created_at, u.external_state, u.redeemed_identity,
        (SELECT MAX(COALESCE(i.redeemed_at, i.created_at)) FROM invitations i
         WHERE i.user_id = u.id) AS state_changed_at
    FROM users u";

/// One user of the tenant, as the directory API shows them.
pub async fn directory_user(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<DirectoryUser>> {
    Ok(sqlx::query_as(&format!(
        "{DIRECTORY_USER} WHERE u.tenant_id = ? AND u.id = ?"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Up to `limit` users matching `filter`, in id order, after the id `after`.
pub async fn directory_page(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    filter: &DirectoryFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DirectoryUser>> {
    let mut query = QueryBuilder::<Sqlite>::new(DIRECTORY_USER);
    push_directory_filter(&mut query, tenant_id, filter);
    if let Some(after) = after {
        query.push(" AND u.id > ").push_bind(after.to_string());
    }
    query.push(" ORDER BY u.id LIMIT ").push_bind(limit);
    Ok(query.build_query_as().fetch_all(db).await?)
}

/// How many users match `filter`.
pub async fn directory_count(
    db: impl SqliteExecutor<'_>,
    tenant_id: &str,
    filter: &DirectoryFilter,
) -> Result<i64> {
    let mut query = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM users u");
    push_directory_filter(&mut query, tenant_id, filter);
    Ok(query.build_query_scalar().fetch_one(db).await?)
}
