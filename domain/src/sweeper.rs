//! Removing what has outlived its use, now and then (the server runs [`sweep`] every few
//! minutes): ended sessions, closed throttling windows and untaken flashes (see
//! [`sessions::purge_expired`]); expired authorization codes, tokens, authorization
//! requests waiting for a sign-in, redemptions with
//! their passcodes, passkey ceremonies and requests to partners' providers; sign-in codes
//! and redemption starts once no limit counts them; and mail sent more than
//! [`SENT_MAIL_KEPT`] seconds ago. Audit and sign-in events stay as long as the organization
//! keeps them ([`retention::prune`]).

use crate::sessions::{self, SessionPolicy};
use crate::store::sweeper::Cutoffs;
use crate::{Result, Store, guest_access, organizations, redemption, retention, reviews, store};

/// How long sent mail stays in the outbox for administrators to see (30 days).
pub const SENT_MAIL_KEPT: i64 = 30 * 86_400;

/// Removes everything that has outlived its use at `now`; answers how many rows went.
pub async fn sweep(store: &Store, policy: &SessionPolicy, now: i64) -> Result<u64> {
    let sessions = sessions::purge_expired(store, policy, now).await?;
    let cutoffs = Cutoffs {
        expired: now,
        // A sign-in code is kept while the limits count it, which is longer than it works.
        codes: now - organizations::CODE_LIFETIME.max(organizations::CODE_WINDOW),
        starts: now - redemption::START_WINDOW,
        sent_mail: now - SENT_MAIL_KEPT,
    };
    let mut tx = store.begin().await?;
    let rest = store::sweeper::sweep(&mut tx, &cutoffs).await?;
    tx.commit().await?;
    Ok(sessions + rest)
}

/// What the rules that act as time passes did in one [`lifecycle`] run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Lifecycle {
    /// Audit and sign-in events pruned past their organization's retention.
    pub pruned: u64,
    /// Guests' access periods: notices sent, access ended, guests deleted.
    pub guests: guest_access::Swept,
    /// Access reviews whose decisions were applied.
    pub reviews_applied: u64,
}

/// The rules that act on directory data as time passes, in every organization, each
/// change audited with the actor Portico: audit and sign-in events past the retention are
/// pruned ([`retention::prune`]); access reviews that ended are applied and reminders sent
/// ([`reviews::conclude_due`]); guests whose access ends soon are announced to their
/// sponsors, ended, and deleted after the grace period ([`guest_access::sweep`]; `base_url`
/// is Portico's public address, for the links in its mail). The server runs it every ten
/// minutes after [`sweep`]; `portico lifecycle` runs it once.
pub async fn lifecycle(store: &Store, base_url: &str, now: i64) -> Result<Lifecycle> {
    Ok(Lifecycle {
        pruned: retention::prune(store, now).await?,
        reviews_applied: reviews::conclude_due(store, now).await?,
        guests: guest_access::sweep(store, base_url, now).await?,
    })
}
