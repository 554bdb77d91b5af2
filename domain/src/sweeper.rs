//! Removing what has outlived its use, now and then (the server runs [`sweep`] every few
//! minutes): ended sessions, closed throttling windows and untaken flashes (see
//! [`sessions::purge_expired`]); expired authorization codes, tokens, authorization
//! requests waiting for a sign-in, redemptions with
//! their passcodes, passkey ceremonies and requests to partners' providers; sign-in codes
//! and redemption starts once no limit counts them; and mail sent more than
//! [`SENT_MAIL_KEPT`] seconds ago. Audit and sign-in events stay: they are the record.
//! It also applies the decisions of access reviews that ended and sends their reminders
//! (see [`reviews::conclude_due`]).

use crate::sessions::{self, SessionPolicy};
use crate::store::sweeper::Cutoffs;
use crate::{Result, Store, organizations, redemption, reviews, store};

/// How long sent mail stays in the outbox for administrators to see (30 days).
pub const SENT_MAIL_KEPT: i64 = 30 * 86_400;

/// Removes everything that has outlived its use at `now` and applies the access reviews that
/// ended; answers how many rows went (and reviews were applied).
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
    let applied = reviews::conclude_due(store, now).await?;
    Ok(sessions + rest + applied)
}
