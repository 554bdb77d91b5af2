//! The access panel: what a signed-in person may open and the groups they are in, what
//! they own, and what they may ask for.

use types::AccessPanel;

use crate::{Actor, Error, Principal, Result, Store, store};

/// The apps and groups of the signed-in user, in their tenant; the apps and groups they own
/// (each with its Manage view); their requests; and, for members (not guests), the groups
/// they may join and the apps they may ask for; for guests, their sponsors.
///
/// **Permissions:** any signed-in user, for themselves.
pub async fn panel(store: &Store, actor: &Principal) -> Result<AccessPanel> {
    let Actor::User { user_id, guest, .. } = &actor.actor else {
        return Err(Error::NotAuthenticated);
    };
    // Guests do not browse the tenant's groups and apps, so they are offered none to ask for.
    let mut db = store.read().await?;
    let mut panel = store::access::panel(&mut db, &actor.tenant_id, user_id, !guest).await?;
    if *guest {
        panel.sponsors = store::sponsors::of_guest(&mut db, user_id).await?;
    }
    Ok(panel)
}
