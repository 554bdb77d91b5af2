//! SQL for what owners manage from the access panel (the apps and groups they own, who has
//! access to them) and for requests to join a group or to use an app.

use types::{AccessRequest, Holder, JoinPolicy, ObjectKind, RequestState};

use crate::Result;

/// An owned app or group, named by its kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object<'a> {
    pub kind: ObjectKind,
    pub id: &'a str,
}

impl Object<'_> {
    fn table(self) -> &'static str {
        match self.kind {
            ObjectKind::App => "apps",
            ObjectKind::Group => "groups",
        }
    }

    fn owners_table(self) -> &'static str {
        match self.kind {
            ObjectKind::App => "app_owners",
            ObjectKind::Group => "group_owners",
        }
    }

    /// The column of `access_requests` (and of the owners' table) that names it.
    fn column(self) -> &'static str {
        match self.kind {
            ObjectKind::App => "app_id",
            ObjectKind::Group => "group_id",
        }
    }
}

/// An app or a group of the tenant, as its owner's pages name it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Found {
    pub name: String,
    pub description: String,
}

pub async fn find(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    object: Object<'_>,
) -> Result<Option<Found>> {
    let sql = format!(
        "SELECT name, description FROM {} WHERE tenant_id = $1 AND id = $2",
        object.table()
    );
    Ok(sqlx::query_as(&sql)
        .bind(tenant_id)
        .bind(object.id)
        .fetch_optional(db)
        .await?)
}

pub async fn is_owner(
    db: &mut sqlx::AnyConnection,
    object: Object<'_>,
    user_id: &str,
) -> Result<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = $1 AND user_id = $2)",
        object.owners_table(),
        object.column()
    );
    let (owner,): (types::SqlFlag,) = sqlx::query_as(&sql)
        .bind(object.id)
        .bind(user_id)
        .fetch_one(db)
        .await?;
    Ok(owner.into())
}

/// The users given the app directly, or the group's members.
pub async fn holders(db: &mut sqlx::AnyConnection, object: Object<'_>) -> Result<Vec<Holder>> {
    let link = match object.kind {
        ObjectKind::App => "app_assignments l ON l.user_id = u.id AND l.app_id = $1",
        ObjectKind::Group => "group_members l ON l.user_id = u.id AND l.group_id = $1",
    };
    let sql = format!(
        "SELECT u.id, u.display_name, u.email, u.user_type, u.enabled, u.external_state
           FROM users u JOIN {link} ORDER BY lower(u.display_name), u.id"
    );
    Ok(sqlx::query_as(&sql).bind(object.id).fetch_all(db).await?)
}

/// Whether the user is given the app directly, or is a member of the group.
pub async fn holds(
    db: &mut sqlx::AnyConnection,
    object: Object<'_>,
    user_id: &str,
) -> Result<bool> {
    let sql = match object.kind {
        ObjectKind::App => {
            "SELECT EXISTS (SELECT 1 FROM app_assignments WHERE app_id = $1 AND user_id = $2)"
        }
        ObjectKind::Group => {
            "SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2)"
        }
    };
    let (holds,): (types::SqlFlag,) = sqlx::query_as(sql)
        .bind(object.id)
        .bind(user_id)
        .fetch_one(db)
        .await?;
    Ok(holds.into())
}

/// Whether the user may open the app: open to everyone, given to them, or to a group of
/// theirs.
pub async fn may_open(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    app_id: &str,
    user_id: &str,
) -> Result<bool> {
    let (open,): (types::SqlFlag,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM apps WHERE tenant_id = $1 AND id = $2 AND assignment_required = 0)
             OR EXISTS (SELECT 1 FROM app_assignments WHERE app_id = $2 AND user_id = $3)
             OR EXISTS (SELECT 1 FROM app_assignments s JOIN group_members m ON m.group_id = s.group_id
                         WHERE s.app_id = $2 AND m.user_id = $3)",
    )
    .bind(tenant_id)
    .bind(app_id)
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(open.into())
}

pub async fn join_policy(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    group_id: &str,
) -> Result<Option<JoinPolicy>> {
    let row: Option<(JoinPolicy,)> =
        sqlx::query_as("SELECT join_policy FROM groups WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(group_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(policy,)| policy))
}

pub async fn set_join_policy(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    group_id: &str,
    policy: JoinPolicy,
) -> Result<()> {
    sqlx::query("UPDATE groups SET join_policy = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(policy)
        .bind(tenant_id)
        .bind(group_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn requestable(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    app_id: &str,
) -> Result<Option<bool>> {
    let row: Option<(types::SqlFlag,)> =
        sqlx::query_as("SELECT requestable FROM apps WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(app_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(requestable,)| requestable.into()))
}

pub async fn set_requestable(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    app_id: &str,
    requestable: bool,
) -> Result<()> {
    sqlx::query("UPDATE apps SET requestable = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(i64::from(requestable))
        .bind(tenant_id)
        .bind(app_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Files a request; a conflict (unique violation) when one is waiting already.
pub async fn insert_request(
    db: &mut sqlx::AnyConnection,
    id: &str,
    tenant_id: &str,
    user_id: &str,
    object: Object<'_>,
    now: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "INSERT INTO access_requests (id, tenant_id, user_id, {}, state, created_at, seq)
         VALUES ($1, $2, $3, $4, 'Pending', $5,
                 (SELECT coalesce(max(seq), 0) + 1 FROM access_requests WHERE user_id = $3))",
        object.column()
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(tenant_id)
        .bind(user_id)
        .bind(object.id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// A request as deciding it needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Request {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub kind: ObjectKind,
    pub object_id: String,
    pub object_name: String,
    pub state: RequestState,
}

pub async fn request(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Request>> {
    Ok(sqlx::query_as(
        "SELECT r.user_id, u.display_name, u.email,
                CASE WHEN r.app_id IS NULL THEN 'Group' ELSE 'App' END AS kind,
                coalesce(r.app_id, r.group_id) AS object_id,
                coalesce(a.name, g.name) AS object_name, r.state
           FROM access_requests r JOIN users u ON u.id = r.user_id
           LEFT JOIN apps a ON a.id = r.app_id LEFT JOIN groups g ON g.id = r.group_id
          WHERE r.tenant_id = $1 AND r.id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Records the decision on a waiting request; false when it was not waiting.
pub async fn decide(
    db: &mut sqlx::AnyConnection,
    id: &str,
    state: RequestState,
    by_name: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE access_requests SET state = $1, decided_at = $2, decided_by_name = $3
          WHERE id = $4 AND state = 'Pending'",
    )
    .bind(state)
    .bind(now)
    .bind(by_name)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The requests waiting for the owners of an app or a group, oldest first.
pub async fn pending_requests(
    db: &mut sqlx::AnyConnection,
    object: Object<'_>,
) -> Result<Vec<AccessRequest>> {
    let sql = format!(
        "SELECT r.id, r.user_id, u.display_name, u.email, r.created_at
           FROM access_requests r JOIN users u ON u.id = r.user_id
          WHERE r.{} = $1 AND r.state = 'Pending' ORDER BY r.created_at, r.id",
        object.column()
    );
    Ok(sqlx::query_as(&sql).bind(object.id).fetch_all(db).await?)
}
