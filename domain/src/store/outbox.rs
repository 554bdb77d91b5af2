//! SQL for the mail outbox.

use types::OutboxMail;

use crate::Result;

pub struct NewMail<'a> {
    pub tenant_id: Option<&'a str>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub secret: bool,
}

pub async fn insert(db: &mut sqlx::AnyConnection, mail: NewMail<'_>, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (tenant_id, recipient, subject, text_body, html_body, secret, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(mail.tenant_id)
    .bind(mail.recipient)
    .bind(mail.subject)
    .bind(mail.text_body)
    .bind(mail.html_body)
    .bind(i64::from(mail.secret))
    .bind(now)
    .bind(now)
    .fetch_one(db)
    .await?)
}

/// A tenant's newest mail; the text of mail carrying a secret (a one-time code, an
/// invitation link) is withheld.
pub async fn list(db: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Vec<OutboxMail>> {
    Ok(sqlx::query_as(
        "SELECT id, recipient, subject,
                CASE WHEN secret = 1 THEN '(This mail carries a one-time code or an invitation link, which only its recipient may see, so its text is not shown.)'
                     ELSE text_body END AS text_body,
                created_at, attempts, sent_at, last_error
         FROM outbox WHERE tenant_id = $1 ORDER BY id DESC LIMIT 200",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await?)
}

/// All newest mail in full, for the operator on the server itself.
pub async fn list_all(db: &mut sqlx::AnyConnection, limit: i64) -> Result<Vec<OutboxMail>> {
    Ok(sqlx::query_as(
        "SELECT id, recipient, subject, text_body, created_at, attempts, sent_at, last_error
         FROM outbox ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// A mail claimed for delivery.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i64,
}

/// Claims up to `limit` mails that are due: each is leased until `lease_until`, so that
/// another worker (another replica) does not send it meanwhile.
pub async fn claim_due(
    db: &mut sqlx::AnyConnection,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Due>> {
    Ok(sqlx::query_as(
        // The outer condition again: a row another worker claimed meanwhile (PostgreSQL
        // checks an updated row again once its lock is free) is not claimed twice.
        "UPDATE outbox SET next_attempt_at = $2
         WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $3)
           AND sent_at IS NULL AND next_attempt_at <= $1
         RETURNING id, recipient, subject, text_body, html_body, attempts",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn mark_sent(db: &mut sqlx::AnyConnection, id: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_failed(
    db: &mut sqlx::AnyConnection,
    id: i64,
    error: &str,
    retry_at: i64,
) -> Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Mail not sent yet: how much in all, and how much of it failed at least once.
pub async fn backlog(db: &mut sqlx::AnyConnection) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE attempts > 0) FROM outbox WHERE sent_at IS NULL",
    )
    .fetch_one(db)
    .await?)
}
