//! SQL for removing what has outlived its use: each statement removes rows older than the
//! cut-off the domain passes (see `crate::sweeper`).

use sqlx::AnyConnection;

use crate::Result;

/// The cut-offs: rows whose time is at or before these Unix seconds go.
pub struct Cutoffs {
    /// Expiry of authorization codes, tokens, authorization requests waiting for a sign-in,
    /// redemptions, passkey ceremonies and requests to partners' providers.
    pub expired: i64,
    /// Creation of sign-in codes and counts of codes per mailbox.
    pub codes: i64,
    /// Starts of redemptions.
    pub starts: i64,
    /// Delivery of sent mail.
    pub sent_mail: i64,
}

/// Deletes what the cut-offs name; answers how many rows went.
pub async fn sweep(db: &mut AnyConnection, cutoffs: &Cutoffs) -> Result<u64> {
    let statements: [(&str, i64); 10] = [
        (
            "DELETE FROM authorization_codes WHERE expires_at <= $1",
            cutoffs.expired,
        ),
        (
            "DELETE FROM oauth_tokens WHERE expires_at <= $1",
            cutoffs.expired,
        ),
        (
            "DELETE FROM pending_authorizations WHERE expires_at <= $1",
            cutoffs.expired,
        ),
        (
            "DELETE FROM redemptions WHERE expires_at <= $1",
            cutoffs.expired,
        ),
        (
            "DELETE FROM passkey_ceremonies WHERE expires_at <= $1",
            cutoffs.expired,
        ),
        (
            "DELETE FROM federation_requests WHERE expires_at <= $1",
            cutoffs.expired,
        ),
        (
            "DELETE FROM sign_in_codes WHERE created_at <= $1",
            cutoffs.codes,
        ),
        (
            "DELETE FROM mailbox_codes WHERE created_at <= $1",
            cutoffs.codes,
        ),
        (
            "DELETE FROM redemption_starts WHERE started_at <= $1",
            cutoffs.starts,
        ),
        (
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at <= $1",
            cutoffs.sent_mail,
        ),
    ];
    let mut removed = 0;
    for (sql, cutoff) in statements {
        removed += sqlx::query(sql)
            .bind(cutoff)
            .execute(&mut *db)
            .await?
            .rows_affected();
    }
    Ok(removed)
}
