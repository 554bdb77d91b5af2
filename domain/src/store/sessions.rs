//! SQL for sessions and sign-in throttling.

use crate::store::Json;

use crate::{Identity, Result};

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: &'a str,
    pub identity: &'a Identity,
    /// See [`crate::auth_methods::AuthMethods`].
    pub amr: &'a str,
    pub expires_at: i64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert(db: &mut sqlx::AnyConnection, session: NewSession<'_>, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, identity, amr, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(session.id_hash)
    .bind(session.user_id)
    .bind(session.identity)
    .bind(session.amr)
    .bind(now)
    .bind(now)
    .bind(session.expires_at)
    .bind(session.ip)
    .bind(session.user_agent)
    .execute(db)
    .await?;
    Ok(())
}

/// A session with the user, tenant and roles behind it, read in one query because every
/// request asks.
#[derive(sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub display_name: String,
    pub email: String,
    #[sqlx(try_from = "types::SqlFlag")]
    pub enabled: bool,
    /// When a guest's access period ends (Unix seconds); `None`: it does not.
    pub access_ends_at: Option<i64>,
    /// Whether the home member or account behind the session's identity is still there
    /// and enabled (see `identity_holder_enabled`); `None` when the member is gone.
    pub holder_enabled: Option<types::SqlFlag>,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// When the person signed in (a session is made anew at each sign-in).
    pub created_at: i64,
    /// Comma-separated role names, if any.
    pub roles: Option<String>,
    pub identity: Option<Identity>,
    /// How the person signed in (see [`crate::auth_methods::AuthMethods`]).
    pub amr: String,
    pub user_type: types::UserType,
    /// The person's users across organizations (see [`memberships`]), read here too so
    /// that a page's header costs no second query.
    pub memberships: Json<Vec<Membership>>,
}

/// The condition picking a person's users across organizations: users whose redemption
/// used the identity `$identity`, and for a member's own identity, that member
/// (`$member`). Shared as text by [`load`] and [`memberships`].
macro_rules! users_of_person {
    ($identity:literal, $member:literal) => {
        concat!(
            "u.enabled = 1 AND ((u.redeemed_identity = ",
            $identity,
            " AND u.external_state = 'Accepted') OR u.id = ",
            $member,
            ")"
        )
    };
}

macro_rules! load_sql {
    ($db:ident) => {
        concat!(
            "SELECT s.user_id, u.tenant_id, t.name AS tenant_name, u.display_name, u.email, u.enabled,
                u.access_ends_at, ",
            identity_holder_enabled!("s.identity"),
            " AS holder_enabled,
                s.last_seen_at, s.expires_at, s.created_at,
                (SELECT string_agg(role, ',') FROM tenant_roles r WHERE r.user_id = s.user_id) AS roles,
                s.identity, s.amr, u.user_type,
                (SELECT ",
            json_text!(
                $db,
                json_array_of!(
                    $db,
                    concat!(
                        json_object!($db),
                        "'user_id', u.id, 'tenant_id', u.tenant_id, 'tenant_name', t.name,
                         'user_type', u.user_type)"
                    ),
                    "u.user_type DESC, t.name"
                )
            ),
            " FROM users u JOIN tenants t ON t.id = u.tenant_id
                 WHERE ",
            users_of_person!(
                "s.identity",
                "CASE WHEN substr(s.identity, 1, 7) = 'member:' THEN substr(s.identity, 8) END"
            ),
            ") AS memberships
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = u.tenant_id
         WHERE s.id_hash = $1"
        )
    };
}

pub async fn load(db: &mut sqlx::AnyConnection, id_hash: &str) -> Result<Option<SessionUser>> {
    Ok(sqlx::query_as(for_backend!(&*db, load_sql))
        .bind(id_hash)
        .fetch_optional(db)
        .await?)
}

pub async fn touch(db: &mut sqlx::AnyConnection, id_hash: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &mut sqlx::AnyConnection, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_for_user(db: &mut sqlx::AnyConnection, user_id: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of an identity, whichever organization each is switched to.
pub async fn delete_for_identity(db: &mut sqlx::AnyConnection, identity: &Identity) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE identity = $1")
        .bind(identity)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of an identity but one (the one making the change).
pub async fn delete_for_identity_except(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    keep_hash: &str,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE identity = $1 AND id_hash != $2")
        .bind(identity)
        .bind(keep_hash)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// A session as its person sees it in their list.
#[derive(sqlx::FromRow)]
pub struct PersonSession {
    pub id_hash: String,
    pub tenant_name: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The sessions opened with an identity, in whatever organization each is switched to,
/// the most recently used first (ended ones too, until they are purged).
pub async fn of_identity(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
) -> Result<Vec<PersonSession>> {
    Ok(sqlx::query_as(
        "SELECT s.id_hash, t.name AS tenant_name, s.created_at, s.last_seen_at, s.expires_at,
                s.ip, s.user_agent
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = u.tenant_id
         WHERE s.identity = $1
         ORDER BY s.last_seen_at DESC, s.created_at DESC",
    )
    .bind(identity)
    .fetch_all(db)
    .await?)
}

/// Removes sessions that ended by either timeout.
pub async fn delete_expired(
    db: &mut sqlx::AnyConnection,
    now: i64,
    idle_limit: i64,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - idle_limit)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Forgets failure counts whose window has closed.
pub async fn delete_closed_windows(
    db: &mut sqlx::AnyConnection,
    now: i64,
    window: i64,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM signin_throttle WHERE window_start <= $1")
        .bind(now - window)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Failures counted for `key` in the window that is still open at `now`.
pub async fn failures(
    db: &mut sqlx::AnyConnection,
    key: &str,
    now: i64,
    window: i64,
) -> Result<(i64, i64)> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT failures, window_start FROM signin_throttle WHERE key = $1 AND window_start > $2",
    )
    .bind(key)
    .bind(now - window)
    .fetch_optional(db)
    .await?;
    Ok(row.unwrap_or((0, now)))
}

/// Counts one more failure for `key`, opening a new window if the last one has closed.
pub async fn record_failure(
    db: &mut sqlx::AnyConnection,
    key: &str,
    now: i64,
    window: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO signin_throttle (key, failures, window_start) VALUES ($1, 1, $2)
         ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN signin_throttle.window_start > $2 - $3
                            THEN signin_throttle.failures + 1 ELSE 1 END,
            window_start = CASE WHEN signin_throttle.window_start > $2 - $3
                                THEN signin_throttle.window_start ELSE $2 END",
    )
    .bind(key)
    .bind(now)
    .bind(window)
    .execute(db)
    .await?;
    Ok(())
}

/// Takes back one failure counted in advance for an attempt that succeeded.
pub async fn forgive_one(db: &mut sqlx::AnyConnection, key: &str) -> Result<()> {
    sqlx::query("UPDATE signin_throttle SET failures = CASE WHEN failures > 1 THEN failures - 1 ELSE 0 END WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn clear_failures(db: &mut sqlx::AnyConnection, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM signin_throttle WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces how a session's person proved who they are (see
/// [`crate::auth_methods::AuthMethods`]), after they verified a second factor in it.
pub async fn set_amr(db: &mut sqlx::AnyConnection, id_hash: &str, amr: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE sessions SET amr = $1 WHERE id_hash = $2")
        .bind(amr)
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a session to another user of the same person (another organization).
pub async fn switch_user(db: &mut sqlx::AnyConnection, id_hash: &str, user_id: &str) -> Result<()> {
    sqlx::query("UPDATE sessions SET user_id = $1 WHERE id_hash = $2")
        .bind(user_id)
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// The organizations a person may switch between: users whose redemption used `identity`,
/// and for a member's own identity, that member.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct Membership {
    pub user_id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub user_type: types::UserType,
}

pub async fn memberships(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
    member_id: Option<&str>,
) -> Result<Vec<Membership>> {
    Ok(sqlx::query_as(concat!(
        "SELECT u.id AS user_id, u.tenant_id, t.name AS tenant_name, u.user_type
             FROM users u JOIN tenants t ON t.id = u.tenant_id
             WHERE ",
        users_of_person!("$1", "$2"),
        " ORDER BY u.user_type DESC, t.name"
    ))
    .bind(identity)
    .bind(member_id)
    .fetch_all(db)
    .await?)
}

pub async fn insert_sign_in_code(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    email: &str,
    code_hash: &str,
    ip: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO sign_in_codes (id_hash, email, code_hash, ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id_hash)
        .bind(email)
        .bind(code_hash)
        .bind(ip)
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Codes asked for from one address of origin since `since`, to throttle sending.
pub async fn codes_asked_from_since(
    db: &mut sqlx::AnyConnection,
    ip: &str,
    since: i64,
) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_codes WHERE ip = $1 AND created_at > $2")
            .bind(ip)
            .bind(since)
            .fetch_one(db)
            .await?,
    )
}

/// Counts a one-time code made for a mailbox (for a sign-in or a redemption).
pub async fn record_mailbox_code(
    db: &mut sqlx::AnyConnection,
    email: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO mailbox_codes (email, created_at) VALUES ($1, $2)")
        .bind(super::folded(email))
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// One-time codes made for a mailbox since `since`, for sign-in and redemption alike.
pub async fn mailbox_codes_since(
    db: &mut sqlx::AnyConnection,
    email: &str,
    since: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM mailbox_codes WHERE {} = $1 AND created_at > $2",
        super::nocase(db, "email")
    ))
    .bind(super::folded(email))
    .bind(since)
    .fetch_one(db)
    .await?)
}

#[derive(sqlx::FromRow)]
pub struct SignInCode {
    pub email: String,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
    pub used_at: Option<i64>,
}

pub async fn sign_in_code(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
) -> Result<Option<SignInCode>> {
    Ok(sqlx::query_as("SELECT email, code_hash, expires_at, attempts, used_at FROM sign_in_codes WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(db)
        .await?)
}

pub async fn count_sign_in_attempt(db: &mut sqlx::AnyConnection, id_hash: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE sign_in_codes SET attempts = attempts + 1 WHERE id_hash = $1 RETURNING attempts",
    )
    .bind(id_hash)
    .fetch_one(db)
    .await?)
}

pub async fn use_sign_in_code(db: &mut sqlx::AnyConnection, id_hash: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE sign_in_codes SET used_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}
