//! SQL for invitations, guests' state, and redemptions with their one-time passcodes.

use types::{ExternalState, InvitationSummary};

use crate::auth_methods::AuthMethods;
use crate::{Identity, Result};

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub redirect_url: Option<&'a str>,
    pub message: &'a str,
    pub inviter_id: Option<&'a str>,
    pub inviter_name: &'a str,
    pub ticket_hash: &'a str,
    pub expires_at: i64,
    /// Days the guest's access lasts from acceptance; `None`: it never ends.
    pub access_days: Option<i64>,
}

pub async fn insert(
    db: &mut sqlx::AnyConnection,
    invitation: NewInvitation<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO invitations (id, tenant_id, user_id, email, redirect_url, message, inviter_id, inviter_name,
                                  status, ticket_hash, created_at, expires_at, access_days)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PendingAcceptance', $9, $10, $11, $12)",
    )
    .bind(invitation.id)
    .bind(invitation.tenant_id)
    .bind(invitation.user_id)
    .bind(invitation.email)
    .bind(invitation.redirect_url)
    .bind(invitation.message)
    .bind(invitation.inviter_id)
    .bind(invitation.inviter_name)
    .bind(invitation.ticket_hash)
    .bind(now)
    .bind(invitation.expires_at)
    .bind(invitation.access_days)
    .execute(db)
    .await?;
    Ok(())
}

/// Withdraws a user's pending invitations: a new one replaces them.
pub async fn supersede_pending(db: &mut sqlx::AnyConnection, user_id: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE invitations SET status = 'Revoked'
         WHERE user_id = $1 AND status = 'PendingAcceptance'",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

const SUMMARY: &str = "SELECT i.id, i.user_id, i.email, u.display_name,
        CASE WHEN i.status = 'PendingAcceptance' AND i.locked_at IS NOT NULL THEN 'Locked'
             WHEN i.status = 'PendingAcceptance' AND i.expires_at <= $1 THEN 'Expired'
             ELSE i.status END AS status,
        i.inviter_name, i.created_at, i.expires_at, i.redeemed_at, i.redirect_url
    FROM invitations i JOIN users u ON u.id = i.user_id";

pub async fn list(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    now: i64,
) -> Result<Vec<InvitationSummary>> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY} WHERE i.tenant_id = $2 ORDER BY i.created_at DESC, i.id LIMIT 500"
    ))
    .bind(now)
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

pub async fn get(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> Result<Option<InvitationSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE i.tenant_id = $2 AND i.id = $3"))
            .bind(now)
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// Revokes a pending invitation; false when it was not pending.
pub async fn revoke(db: &mut sqlx::AnyConnection, tenant_id: &str, id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET status = 'Revoked'
         WHERE tenant_id = $1 AND id = $2 AND status = 'PendingAcceptance'",
    )
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How an accepted guest proved who they are: the identity, and the address it proved
/// (the invited one).
#[derive(Clone, Copy, Debug)]
pub struct Redeemed<'a> {
    pub identity: &'a Identity,
    pub email: &'a str,
}

pub async fn set_external_state(
    db: &mut sqlx::AnyConnection,
    user_id: &str,
    state: ExternalState,
    redeemed: Option<Redeemed<'_>>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET external_state = $1, redeemed_identity = $2, redeemed_email = $3, updated_at = $4
         WHERE id = $5",
    )
    .bind(state)
    .bind(redeemed.map(|r| r.identity))
    .bind(redeemed.map(|r| r.email))
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// What redemption needs to know of an invitation and its tenant.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Ticket {
    pub invitation_id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub tenant_domain: String,
    pub privacy_url: Option<String>,
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub message: String,
    pub inviter_name: String,
    pub redirect_url: Option<String>,
    pub status: String,
    pub expires_at: i64,
    /// Locked after too many wrong passcodes (see [`count_wrong_code`]).
    #[sqlx(try_from = "types::SqlFlag")]
    pub locked: bool,
    /// Days the guest's access lasts from acceptance; `None`: it never ends.
    pub access_days: Option<i64>,
}

const TICKET: &str = "SELECT i.id AS invitation_id, i.tenant_id, t.name AS tenant_name, t.primary_domain AS tenant_domain,
        t.privacy_url, i.user_id, u.display_name, i.email, i.message, i.inviter_name, i.redirect_url, i.status, i.expires_at,
        i.locked_at IS NOT NULL AS locked, i.access_days
    FROM invitations i JOIN tenants t ON t.id = i.tenant_id JOIN users u ON u.id = i.user_id";

pub async fn by_ticket(db: &mut sqlx::AnyConnection, ticket_hash: &str) -> Result<Option<Ticket>> {
    Ok(
        sqlx::query_as(&format!("{TICKET} WHERE i.ticket_hash = $1"))
            .bind(ticket_hash)
            .fetch_optional(db)
            .await?,
    )
}

/// The identity a redemption proved, and how.
#[derive(Clone, Debug)]
pub struct Proven {
    pub identity: Identity,
    pub methods: AuthMethods,
}

pub async fn by_redemption(
    db: &mut sqlx::AnyConnection,
    redemption_hash: &str,
    now: i64,
) -> Result<Option<(Ticket, Option<Proven>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        ticket: Ticket,
        proven_identity: Option<Identity>,
        proven_amr: Option<String>,
    }
    let with_proof = TICKET.replacen(
        " FROM invitations",
        ", r.proven_identity, r.proven_amr FROM invitations",
        1,
    );
    let row: Option<Row> = sqlx::query_as(&format!(
        "{with_proof} JOIN redemptions r ON r.invitation_id = i.id WHERE r.id_hash = $1 AND r.expires_at > $2"
    ))
    .bind(redemption_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let proven = r.proven_identity.map(|identity| Proven {
            identity,
            methods: AuthMethods::parse(r.proven_amr.as_deref().unwrap_or_default()),
        });
        (r.ticket, proven)
    }))
}

pub async fn insert_redemption(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    invitation_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO redemptions (id_hash, invitation_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id_hash)
        .bind(invitation_id)
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Counts a start of a redemption of the invitation (kept when the redemption ends).
pub async fn record_start(
    db: &mut sqlx::AnyConnection,
    invitation_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO redemption_starts (invitation_id, started_at) VALUES ($1, $2)")
        .bind(invitation_id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Redemptions of an invitation started after `since`, whether they ended or not.
pub async fn starts_since(
    db: &mut sqlx::AnyConnection,
    invitation_id: &str,
    since: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM redemption_starts WHERE invitation_id = $1 AND started_at > $2",
    )
    .bind(invitation_id)
    .bind(since)
    .fetch_one(db)
    .await?)
}

/// Counts one wrong passcode against the invitation, across all its redemptions; returns
/// the count so far, counted atomically.
pub async fn count_wrong_code(db: &mut sqlx::AnyConnection, invitation_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE invitations SET wrong_codes = wrong_codes + 1 WHERE id = $1 RETURNING wrong_codes",
    )
    .bind(invitation_id)
    .fetch_one(db)
    .await?)
}

/// Locks the invitation (its link stays pending but can no longer be redeemed) and ends
/// every redemption of it in progress.
pub async fn lock(db: &mut sqlx::AnyConnection, invitation_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE invitations SET locked_at = $1 WHERE id = $2 AND locked_at IS NULL")
        .bind(now)
        .bind(invitation_id)
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM redemptions WHERE invitation_id = $1")
        .bind(invitation_id)
        .execute(&mut *db)
        .await?;
    Ok(())
}

pub async fn set_proven(
    db: &mut sqlx::AnyConnection,
    id_hash: &str,
    identity: &Identity,
    methods: &AuthMethods,
) -> Result<()> {
    sqlx::query("UPDATE redemptions SET proven_identity = $1, proven_amr = $2 WHERE id_hash = $3")
        .bind(identity)
        .bind(methods.to_string())
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_redemption(db: &mut sqlx::AnyConnection, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM redemptions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks the invitation accepted, which ends its link; false when another redemption (or a
/// revocation) got there first, so only one ever succeeds.
pub async fn mark_accepted(
    db: &mut sqlx::AnyConnection,
    invitation_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET status = 'Accepted', redeemed_at = $1
         WHERE id = $2 AND status = 'PendingAcceptance' AND expires_at > $1",
    )
    .bind(now)
    .bind(invitation_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the passcode of a redemption.
pub async fn put_code(
    db: &mut sqlx::AnyConnection,
    redemption_hash: &str,
    code_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO one_time_codes (redemption_hash, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (redemption_hash) DO UPDATE SET code_hash = $2, created_at = $3, expires_at = $4, attempts = 0, used_at = NULL",
    )
    .bind(redemption_hash)
    .bind(code_hash)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct Code {
    pub code_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub used_at: Option<i64>,
}

pub async fn code(db: &mut sqlx::AnyConnection, redemption_hash: &str) -> Result<Option<Code>> {
    Ok(sqlx::query_as("SELECT code_hash, created_at, expires_at, attempts, used_at FROM one_time_codes WHERE redemption_hash = $1")
        .bind(redemption_hash)
        .fetch_optional(db)
        .await?)
}

/// Counts one attempt; returns the attempts so far, counted atomically.
pub async fn count_attempt(db: &mut sqlx::AnyConnection, redemption_hash: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE one_time_codes SET attempts = attempts + 1 WHERE redemption_hash = $1 RETURNING attempts",
    )
    .bind(redemption_hash)
    .fetch_one(db)
    .await?)
}

pub async fn use_code(db: &mut sqlx::AnyConnection, redemption_hash: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE redemption_hash = $2")
        .bind(now)
        .bind(redemption_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn tenant_settings(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<(String, i64)> {
    Ok(
        sqlx::query_as("SELECT name, invitation_lifetime_days FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_one(db)
            .await?,
    )
}

/// The invitations `inviter_id` made that still wait (expired or locked ones too, so that
/// they can be sent again), of people who hold `object` (see [`super::owners::holds`]).
pub async fn waiting_by_inviter(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    inviter_id: &str,
    object: super::owners::Object<'_>,
    now: i64,
) -> Result<Vec<InvitationSummary>> {
    let holders = match object.kind {
        types::ObjectKind::App => "SELECT user_id FROM app_assignments WHERE app_id = $4",
        types::ObjectKind::Group => "SELECT user_id FROM group_members WHERE group_id = $4",
    };
    Ok(sqlx::query_as(&format!(
        "{SUMMARY} WHERE i.tenant_id = $2 AND i.inviter_id = $3 AND i.status = 'PendingAcceptance'
           AND i.user_id IN ({holders}) ORDER BY i.created_at DESC, i.id"
    ))
    .bind(now)
    .bind(tenant_id)
    .bind(inviter_id)
    .bind(object.id)
    .fetch_all(db)
    .await?)
}

/// Who made an invitation: `None` when there is no such invitation in the tenant, `Some(None)`
/// when no person did (the operator, a program).
pub async fn inviter_of(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT inviter_id FROM invitations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(inviter,)| inviter))
}

pub async fn count(db: &mut sqlx::AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM invitations")
        .fetch_one(db)
        .await?)
}
