//! The mail outbox: mail is written in the same transaction as the change it reports, so
//! none is lost and none is sent for a change that did not commit. Delivery is a separate
//! worker's job; until it succeeds, administrators see the mail here.

use types::OutboxMail;

use crate::store::{self, Tx, outbox::NewMail};
use crate::{Permission, Principal, Result, Store};

/// A mail to send, with both a plain-text and an HTML body.
pub(crate) struct Mail {
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Carries a secret (a one-time code, an invitation link): its text is never shown to
    /// administrators.
    pub secret: bool,
}

/// Queues a mail, filed under the organization whose administrators may see that it was
/// sent, or under none (the operator's alone).
pub(crate) async fn enqueue(
    tx: &mut Tx,
    tenant_id: Option<&str>,
    mail: &Mail,
    now: i64,
) -> Result<i64> {
    store::outbox::insert(
        tx,
        NewMail {
            tenant_id,
            recipient: &mail.recipient,
            subject: &mail.subject,
            text_body: &mail.text,
            html_body: &mail.html,
            secret: mail.secret,
        },
        now,
    )
    .await
}

/// The tenant's newest mail, sent or waiting.
///
/// **Permissions:** those who manage invitations (their mail is what is here).
pub async fn list(store: &Store, actor: &Principal) -> Result<Vec<OutboxMail>> {
    actor.require(Permission::ManageInvitations)?;
    store::outbox::list(&mut *store.read().await?, &actor.tenant_id).await
}

/// The newest mail of every tenant, in full: for the operator at the server's command
/// line, who can read the database anyway.
pub async fn list_for_operator(store: &Store, limit: i64) -> Result<Vec<OutboxMail>> {
    store::outbox::list_all(&mut *store.read().await?, limit).await
}

pub use crate::store::outbox::Due;

/// Mail waiting to leave.
#[derive(Clone, Copy, Debug)]
pub struct Backlog {
    pub unsent: i64,
    /// Of those, the mail whose delivery failed at least once.
    pub failing: i64,
}

/// The mail waiting to leave, every tenant's: for the operator's figures.
pub async fn backlog(store: &Store) -> Result<Backlog> {
    let (unsent, failing) = store::outbox::backlog(&mut *store.read().await?).await?;
    Ok(Backlog { unsent, failing })
}

/// How long a claimed mail is reserved for the worker that claimed it.
pub const LEASE: i64 = 120;

/// Claims mail that is due for (another) delivery attempt.
pub async fn claim_due(store: &Store, now: i64, limit: i64) -> Result<Vec<Due>> {
    let mut tx = store.begin().await?;
    let due = store::outbox::claim_due(&mut tx, now, now + LEASE, limit).await?;
    tx.commit().await?;
    Ok(due)
}

/// Records that the mail server accepted a mail: it is never sent again.
pub async fn mark_sent(store: &Store, id: i64, now: i64) -> Result<()> {
    let mut tx = store.begin().await?;
    store::outbox::mark_sent(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Records a failed attempt; the next one waits `base` seconds, doubling with each
/// failure, at most an hour.
pub async fn mark_failed(
    store: &Store,
    mail: &Due,
    error: &str,
    base: i64,
    now: i64,
) -> Result<()> {
    let wait = base
        .saturating_mul(1 << mail.attempts.clamp(0, 20))
        .min(3600);
    let mut tx = store.begin().await?;
    store::outbox::mark_failed(&mut tx, mail.id, error, now + wait).await?;
    tx.commit().await?;
    Ok(())
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
