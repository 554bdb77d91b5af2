//! The access panel: what a signed-in person may open and the groups they are in, what
//! they own, and what they may ask for.

use types::AccessPanel;

use crate::{Actor, Error, Principal, Result, Store, store};

/// The apps and groups of the signed-in user, in their tenant; the apps and groups they own
/// (each with its Manage view); their requests; and, for members (not guests), the groups
/// they may join and the apps they may ask for.
///
/// **Permissions:** any signed-in user, for themselves.
pub async fn panel(store: &Store, actor: &Principal) -> Result<AccessPanel> {
    let Actor::User { user_id, guest, .. } = &actor.actor else {
        return Err(Error::NotAuthenticated);
    };
    let tenant_id = &actor.tenant_id;
    let mut db = store.read().await?;
    let mut panel = store::access::panel(&mut *db, tenant_id, user_id).await?;
    panel.owned = store::owners::owned(&mut *db, tenant_id, user_id).await?;
    panel.requests = store::owners::requests_of(&mut *db, user_id).await?;
    if !guest {
        panel.joinable = store::owners::joinable(&mut *db, tenant_id, user_id).await?;
        panel.requestable = store::owners::requestable_apps(&mut *db, tenant_id, user_id).await?;
    }
    Ok(panel)
}
