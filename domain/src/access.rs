//! The access panel: what a signed-in person may open and the groups they are in.

use types::AccessPanel;

use crate::{Error, Principal, Result, Store, store};

/// The apps and groups of the signed-in user, in their tenant.
///
/// **Permissions:** any signed-in user, for themselves.
pub async fn panel(store: &Store, actor: &Principal) -> Result<AccessPanel> {
    let user_id = actor.user_id().ok_or(Error::NotAuthenticated)?;
    store::access::panel(&mut *store.read().await?, &actor.tenant_id, user_id).await
}
