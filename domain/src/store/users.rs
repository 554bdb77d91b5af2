//! SQL for users and their tenant roles.

use super::sql::Sql;
use sqlx::AnyConnection;
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

const INSERT: &str =
    "INSERT INTO users (id, tenant_id, user_type, email, display_name, password_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub async fn insert(db: &mut sqlx::AnyConnection, user: NewUser<'_>, now: i64) -> sqlx::Result<()> {
    bind_user(sqlx::query(INSERT), user, now)
        .execute(db)
        .await
        .map(|_| ())
}

/// Writes the user unless its address (or id) is taken; whether it was written. One
/// statement: a refusal leaves the transaction usable on both backends.
pub async fn insert_new(db: &mut sqlx::AnyConnection, user: NewUser<'_>, now: i64) -> Result<bool> {
    let done = bind_user(
        sqlx::query(&format!("{INSERT} ON CONFLICT DO NOTHING")),
        user,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn bind_user<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    user: NewUser<'q>,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(user.id)
        .bind(user.tenant_id)
        .bind(user.user_type)
        .bind(user.email)
        .bind(user.display_name)
        .bind(user.password_hash)
        .bind(now)
        .bind(now)
}

pub async fn get(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<UserSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn by_email(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    email: &str,
) -> Result<Option<UserSummary>> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY} WHERE tenant_id = $1 AND {} = $2",
        super::nocase(db, "email")
    ))
    .bind(tenant_id)
    .bind(super::folded(email))
    .fetch_optional(db)
    .await?)
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
    db: &mut AnyConnection,
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
    // Names and addresses compare without regard to ASCII case: SQLite's columns are
    // NOCASE, PostgreSQL's are indexed on lower().
    let postgres = super::is_postgres(db);
    let (name, email, search) = if postgres {
        ("lower(display_name)", "lower(email)", super::folded(search))
    } else {
        ("display_name", "email", search.to_string())
    };
    let filter = |query: &mut Sql| {
        query
            .push(" WHERE tenant_id = ")
            .push_bind(tenant_id.to_string());
        if !search.is_empty() {
            // Ranges on the indexed columns use the indexes, unlike LIKE '%…%'.
            let upper = format!("{search}\u{10FFFF}");
            query
                .push(format!(" AND (({name} >= "))
                .push_bind(search.clone())
                .push(format!(" AND {name} < "))
                .push_bind(upper.clone())
                .push(format!(") OR ({email} >= "))
                .push_bind(search.clone())
                .push(format!(" AND {email} < "))
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
    let mut count = Sql::new("SELECT COUNT(*) FROM users");
    filter(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *db).await?;
    let mut query = Sql::new(SUMMARY);
    filter(&mut query);
    query
        // With a search, ranges on two indexes find the few rows fastest; ordering by the
        // name index instead would walk the whole tenant (the `+` keeps SQLite off it).
        .push(match (postgres, search.is_empty()) {
            (true, _) => " ORDER BY lower(display_name), id LIMIT ",
            (false, true) => " ORDER BY display_name, id LIMIT ",
            (false, false) => " ORDER BY +display_name, id LIMIT ",
        })
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    Ok((query.build_query_as().fetch_all(&mut *db).await?, total))
}

/// Notes that the user signed in at `now`.
pub async fn signed_in(db: &mut sqlx::AnyConnection, user_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn update(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    email: &str,
    display_name: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET email = $1, display_name = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
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
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    enabled: bool,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE users SET enabled = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
        .bind(i64::from(enabled))
        .bind(now)
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(hash)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn roles(db: &mut sqlx::AnyConnection, user_id: &str) -> Result<Vec<Role>> {
    Ok(
        sqlx::query_scalar("SELECT role FROM tenant_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(db)
            .await?,
    )
}

pub async fn add_role(db: &mut sqlx::AnyConnection, user_id: &str, role: Role) -> Result<()> {
    sqlx::query("INSERT INTO tenant_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn remove_role(db: &mut sqlx::AnyConnection, user_id: &str, role: Role) -> Result<()> {
    sqlx::query("DELETE FROM tenant_roles WHERE user_id = $1 AND role = $2")
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(())
}

/// Enabled global administrators of a tenant: a tenant never loses its last one.
pub async fn count_active_global_admins(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM tenant_roles r JOIN users u ON u.id = r.user_id
         WHERE u.tenant_id = $1 AND u.enabled = 1 AND r.role = 'GlobalAdministrator'",
    )
    .bind(tenant_id)
    .fetch_one(db)
    .await?)
}

/// Enabled global administrators of a tenant, by name: those who can give roles there.
pub async fn global_admins(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<UserRef>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.display_name, u.email FROM tenant_roles r JOIN users u ON u.id = r.user_id
         WHERE u.tenant_id = $1 AND u.enabled = 1 AND r.role = 'GlobalAdministrator'
         ORDER BY lower(u.display_name), u.email",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn groups_of(db: &mut sqlx::AnyConnection, user_id: &str) -> Result<Vec<GroupRef>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name FROM groups g JOIN group_members m ON m.group_id = g.id
         WHERE m.user_id = $1 ORDER BY lower(g.name), g.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

pub async fn apps_assigned_directly(
    db: &mut sqlx::AnyConnection,
    user_id: &str,
) -> Result<Vec<AppRef>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.name FROM apps a JOIN app_assignments s ON s.app_id = a.id
         WHERE s.user_id = $1 ORDER BY lower(a.name), a.id",
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
    #[sqlx(try_from = "types::SqlFlag")]
    pub enabled: bool,
}

pub async fn member_credentials(
    db: &mut sqlx::AnyConnection,
    email: &str,
) -> Result<Option<Credentials>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, tenant_id, password_hash, enabled FROM users
          WHERE {} = $1 AND user_type = 'Member'",
        super::nocase(db, "email")
    ))
    .bind(super::folded(email))
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
    #[sqlx(try_from = "types::SqlFlag")]
    pub enabled: bool,
    pub created_at: i64,
    pub external_state: Option<types::ExternalState>,
    /// When the guest was last invited or accepted.
    pub state_changed_at: Option<i64>,
    pub redeemed_identity: Option<crate::Identity>,
}

fn push_directory_filter(
    query: &mut Sql,
    tenant_id: &str,
    filter: &DirectoryFilter,
    postgres: bool,
) {
    query
        .push(" WHERE u.tenant_id = ")
        .push_bind(tenant_id.to_string());
    let mut any_of = |column: &str, values: Vec<String>| {
        if !values.is_empty() {
            query.push(format!(" AND {column} IN ("));
            query.push_binds(values, ", ");
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
    // Addresses are kept in lower case; SQLite's column compares without regard to case
    // anyway, PostgreSQL's is given the addresses in lower case.
    any_of(
        "u.email",
        filter
            .mails
            .iter()
            .map(|mail| {
                if postgres {
                    super::folded(mail)
                } else {
                    mail.clone()
                }
            })
            .collect(),
    );
    any_of(
        "u.external_state",
        filter
            .external_states
            .iter()
            .map(|s| s.as_str().into())
            .collect(),
    );
    // Ranges on the indexed columns: the start of a name or address, in any ASCII case
    // (SQLite's columns are NOCASE, PostgreSQL's are indexed on lower()).
    for (column, prefix) in [
        ("display_name", &filter.display_name_prefix),
        ("email", &filter.mail_prefix),
    ] {
        if let Some(prefix) = prefix {
            let (column, prefix) = if postgres {
                (format!("lower(u.{column})"), super::folded(prefix))
            } else {
                (format!("u.{column}"), prefix.clone())
            };
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
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<DirectoryUser>> {
    Ok(sqlx::query_as(&format!(
        "{DIRECTORY_USER} WHERE u.tenant_id = $1 AND u.id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Up to `limit` users matching `filter`, in id order, after the id `after`.
pub async fn directory_page(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    filter: &DirectoryFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DirectoryUser>> {
    let mut query = Sql::new(DIRECTORY_USER);
    push_directory_filter(&mut query, tenant_id, filter, super::is_postgres(db));
    if let Some(after) = after {
        query.push(" AND u.id > ").push_bind(after.to_string());
    }
    query.push(" ORDER BY u.id LIMIT ").push_bind(limit);
    Ok(query.build_query_as().fetch_all(db).await?)
}

/// How many users match `filter`.
pub async fn directory_count(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    filter: &DirectoryFilter,
) -> Result<i64> {
    let mut query = Sql::new("SELECT COUNT(*) FROM users u");
    push_directory_filter(&mut query, tenant_id, filter, super::is_postgres(db));
    Ok(query.build_query_scalar().fetch_one(db).await?)
}
