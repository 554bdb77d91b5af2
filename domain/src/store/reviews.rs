//! SQL for access reviews: the review, one decision row per guest, and each guest's
//! reviewers (see `crate::reviews`).

use super::sql::Sql;

use types::UserRef;
use types::reviews::{
    Decision, DenyAction, MyReview, NotReviewedAction, ReviewResult, ReviewScope, ReviewSummary,
    ReviewerKind,
};

use crate::Result;

/// A review to insert.
pub struct NewReview<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub scope: ReviewScope,
    pub scope_id: Option<&'a str>,
    pub scope_name: &'a str,
    pub reviewers: ReviewerKind,
    pub deny_action: DenyAction,
    pub not_reviewed: NotReviewedAction,
    pub auto_apply: bool,
    pub started_by: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub remind_at: i64,
}

pub async fn insert(db: &mut sqlx::AnyConnection, review: NewReview<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_reviews (id, tenant_id, name, scope, scope_id, scope_name, reviewers,
             deny_action, not_reviewed, auto_apply, started_by, starts_at, ends_at, remind_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(review.id)
    .bind(review.tenant_id)
    .bind(review.name)
    .bind(review.scope)
    .bind(review.scope_id)
    .bind(review.scope_name)
    .bind(review.reviewers)
    .bind(review.deny_action)
    .bind(review.not_reviewed)
    .bind(i64::from(review.auto_apply))
    .bind(review.started_by)
    .bind(review.starts_at)
    .bind(review.ends_at)
    .bind(review.remind_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Which guests a review covers.
#[derive(Clone, Copy, Debug)]
pub enum Guests<'a> {
    All,
    GroupMembers(&'a str),
    AssignedTo(&'a str),
    /// Whose last sign-in (or creation, if they never signed in) is older.
    InactiveBefore(i64),
}

/// The enabled guests of the tenant that `guests` names, by name.
pub async fn guests(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    guests: Guests<'_>,
) -> Result<Vec<UserRef>> {
    let mut query = Sql::new("SELECT u.id, u.display_name, u.email FROM users u");
    match guests {
        Guests::GroupMembers(group) => {
            query
                .push(" JOIN group_members l ON l.user_id = u.id AND l.group_id = ")
                .push_bind(group.to_string());
        }
        Guests::AssignedTo(app) => {
            query
                .push(" JOIN app_assignments l ON l.user_id = u.id AND l.app_id = ")
                .push_bind(app.to_string());
        }
        Guests::All | Guests::InactiveBefore(_) => {}
    }
    query
        .push(" WHERE u.tenant_id = ")
        .push_bind(tenant_id.to_string())
        .push(" AND u.user_type = 'Guest' AND u.enabled = 1");
    if let Guests::InactiveBefore(cutoff) = guests {
        query
            .push(" AND coalesce(u.last_sign_in_at, u.created_at) < ")
            .push_bind(cutoff);
    }
    query.push(" ORDER BY lower(u.display_name), u.id");
    Ok(query.build_query_as().fetch_all(db).await?)
}

pub async fn insert_guest(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
    guest: &UserRef,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_review_decisions (review_id, guest_id, guest_name, guest_email)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(review_id)
    .bind(&guest.id)
    .bind(&guest.display_name)
    .bind(&guest.email)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn add_reviewer(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
    guest_id: &str,
    reviewer: &UserRef,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_review_reviewers (review_id, guest_id, reviewer_id, reviewer_name)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(review_id)
    .bind(guest_id)
    .bind(&reviewer.id)
    .bind(&reviewer.display_name)
    .execute(db)
    .await?;
    Ok(())
}

const SUMMARY: &str = "SELECT r.id, r.name, r.scope, r.scope_name, r.reviewers, r.deny_action,
    r.not_reviewed, r.auto_apply, r.started_by, r.starts_at, r.ends_at, r.applied_at,
    (SELECT COUNT(*) FROM access_review_decisions d WHERE d.review_id = r.id) AS guests,
    (SELECT COUNT(*) FROM access_review_decisions d WHERE d.review_id = r.id
        AND d.decision <> 'NotReviewed') AS decided
    FROM access_reviews r";

pub async fn get(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<ReviewSummary>> {
    Ok(
        sqlx::query_as(&format!("{SUMMARY} WHERE r.tenant_id = $1 AND r.id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// The group or app a review covers.
pub async fn scope_id(db: &mut sqlx::AnyConnection, id: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT scope_id FROM access_reviews WHERE id = $1")
            .bind(id)
            .fetch_one(db)
            .await?,
    )
}

/// The tenant's reviews, newest first.
pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<ReviewSummary>> {
    Ok(sqlx::query_as(&format!(
        "{SUMMARY} WHERE r.tenant_id = $1 ORDER BY r.starts_at DESC, r.id LIMIT 200"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

/// The running reviews in which the reviewer decides about someone, ending first.
pub async fn of_reviewer(
    db: &mut sqlx::AnyConnection,
    tenant_id: &str,
    reviewer_id: &str,
    now: i64,
) -> Result<Vec<MyReview>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.name, r.ends_at, COUNT(*) AS guests,
                COUNT(*) FILTER (WHERE d.decision = 'NotReviewed') AS undecided
           FROM access_review_reviewers v
           JOIN access_reviews r ON r.id = v.review_id
           JOIN access_review_decisions d ON d.review_id = v.review_id AND d.guest_id = v.guest_id
          WHERE v.reviewer_id = $1 AND r.tenant_id = $2 AND r.ends_at > $3 AND r.applied_at IS NULL
          GROUP BY r.id ORDER BY r.ends_at, r.id",
    )
    .bind(reviewer_id)
    .bind(tenant_id)
    .bind(now)
    .fetch_all(db)
    .await?)
}

/// A guest in a reviewer's queue, with what the recommendation needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QueueRow {
    pub guest_id: String,
    pub guest_name: String,
    pub guest_email: String,
    pub last_sign_in_at: Option<i64>,
    /// None once the guest was deleted.
    pub created_at: Option<i64>,
    pub decision: Decision,
    pub reason: String,
    pub decided_by: Option<String>,
}

const QUEUE: &str = "SELECT d.guest_id, d.guest_name, d.guest_email, u.last_sign_in_at,
    u.created_at, d.decision, d.reason, d.decided_by
    FROM access_review_decisions d LEFT JOIN users u ON u.id = d.guest_id";

/// The guests of a review the reviewer decides about, by name.
pub async fn queue(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
    reviewer_id: &str,
) -> Result<Vec<QueueRow>> {
    Ok(sqlx::query_as(&format!(
        "{QUEUE} JOIN access_review_reviewers v ON v.review_id = d.review_id AND v.guest_id = d.guest_id
         WHERE d.review_id = $1 AND v.reviewer_id = $2 ORDER BY d.guest_name, d.guest_id"
    ))
    .bind(review_id)
    .bind(reviewer_id)
    .fetch_all(db)
    .await?)
}

/// Every guest of a review whose outcome is not applied yet.
pub async fn unapplied(db: &mut sqlx::AnyConnection, review_id: &str) -> Result<Vec<QueueRow>> {
    Ok(sqlx::query_as(&format!(
        "{QUEUE} WHERE d.review_id = $1 AND d.applied_at IS NULL ORDER BY d.guest_name, d.guest_id"
    ))
    .bind(review_id)
    .fetch_all(db)
    .await?)
}

pub async fn is_reviewer(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
    guest_id: &str,
    reviewer_id: &str,
) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, types::SqlFlag>(
        "SELECT EXISTS (SELECT 1 FROM access_review_reviewers
                         WHERE review_id = $1 AND guest_id = $2 AND reviewer_id = $3)",
    )
    .bind(review_id)
    .bind(guest_id)
    .bind(reviewer_id)
    .fetch_one(db)
    .await?
    .0)
}

/// A reviewer's decision.
pub struct Decided<'a> {
    pub decision: Decision,
    pub reason: &'a str,
    pub by_id: &'a str,
    pub by_name: &'a str,
    pub at: i64,
}

pub async fn decide(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
    guest_id: &str,
    decided: Decided<'_>,
) -> Result<()> {
    sqlx::query(
        "UPDATE access_review_decisions
            SET decision = $1, reason = $2, decided_by_id = $3, decided_by = $4, decided_at = $5
          WHERE review_id = $6 AND guest_id = $7",
    )
    .bind(decided.decision)
    .bind(decided.reason)
    .bind(decided.by_id)
    .bind(decided.by_name)
    .bind(decided.at)
    .bind(review_id)
    .bind(guest_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Every guest of a review with their reviewers and decision, by name.
pub async fn results(db: &mut sqlx::AnyConnection, review_id: &str) -> Result<Vec<ReviewResult>> {
    Ok(sqlx::query_as(
        "SELECT d.guest_id, d.guest_name, d.guest_email,
                coalesce((SELECT string_agg(v.reviewer_name, ', ') FROM access_review_reviewers v
                           WHERE v.review_id = d.review_id AND v.guest_id = d.guest_id), '') AS reviewers,
                d.decision, d.reason, d.decided_by, d.decided_at, d.outcome, d.applied_at
           FROM access_review_decisions d WHERE d.review_id = $1
          ORDER BY d.guest_name, d.guest_id",
    )
    .bind(review_id)
    .fetch_all(db)
    .await?)
}

/// Records what applying did to one guest.
pub async fn set_outcome(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
    guest_id: &str,
    outcome: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE access_review_decisions SET outcome = $1, applied_at = $2
          WHERE review_id = $3 AND guest_id = $4",
    )
    .bind(outcome)
    .bind(now)
    .bind(review_id)
    .bind(guest_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the review applied; false when it was already (someone else applied it first).
pub async fn set_applied(db: &mut sqlx::AnyConnection, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE access_reviews SET applied_at = $1 WHERE id = $2 AND applied_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a running review now.
pub async fn stop(db: &mut sqlx::AnyConnection, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE access_reviews SET ends_at = $1 WHERE id = $2 AND ends_at > $3")
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Reviews (tenant, id) that ended by `now`, apply their decisions automatically and have
/// not been applied.
pub async fn due_for_auto_apply(
    db: &mut sqlx::AnyConnection,
    now: i64,
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, id FROM access_reviews
          WHERE applied_at IS NULL AND ends_at <= $1 AND auto_apply = 1 ORDER BY ends_at, id",
    )
    .bind(now)
    .fetch_all(db)
    .await?)
}

/// Running reviews (tenant, id) whose reminder is due and not sent.
pub async fn due_for_reminder(
    db: &mut sqlx::AnyConnection,
    now: i64,
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, id FROM access_reviews
          WHERE applied_at IS NULL AND reminded_at IS NULL AND remind_at <= $1 AND ends_at > $1
          ORDER BY remind_at, id",
    )
    .bind(now)
    .fetch_all(db)
    .await?)
}

pub async fn set_reminded(db: &mut sqlx::AnyConnection, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE access_reviews SET reminded_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The reviewers of a review who have guests undecided: address, name, how many.
pub async fn reviewers_waiting(
    db: &mut sqlx::AnyConnection,
    review_id: &str,
) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT u.email, u.display_name, COUNT(*)
           FROM access_review_reviewers v
           JOIN access_review_decisions d ON d.review_id = v.review_id AND d.guest_id = v.guest_id
           JOIN users u ON u.id = v.reviewer_id
          WHERE v.review_id = $1 AND d.decision = 'NotReviewed' AND u.enabled = 1
          GROUP BY u.id ORDER BY u.email",
    )
    .bind(review_id)
    .fetch_all(db)
    .await?)
}
