//! The audit trail: every change to directory data writes one event, in the same
//! transaction as the change, so that a change without its event cannot be committed.

use types::{AuditEvent, Page};

pub use crate::store::audit::Filter;
use crate::store::{self, Tx, audit::NewEvent};
use crate::{Permission, Principal, Result, Store, validate};

/// What changed, for the audit trail.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub target_name: &'a str,
    pub detail: String,
}

pub(crate) async fn record(
    tx: &mut Tx,
    actor: &Principal,
    now: i64,
    change: Change<'_>,
) -> Result<()> {
    store::audit::insert(
        &mut **tx,
        NewEvent {
            tenant_id: &actor.tenant_id,
            at: now,
            actor_id: actor.actor_id(),
            actor_name: actor.name(),
            actor_kind: actor.kind(),
            action: change.action,
            target_type: change.target_type,
            target_id: change.target_id,
            target_name: change.target_name,
            detail: &change.detail,
            ip: actor.ip.as_deref(),
        },
    )
    .await
}

/// Records a change that Portico itself made by a rule (no person or program asked for it),
/// in the tenant `tenant_id`.
pub(crate) async fn record_by_portico(
    tx: &mut Tx,
    tenant_id: &str,
    now: i64,
    change: Change<'_>,
) -> Result<()> {
    record(tx, &Principal::portico(tenant_id), now, change).await
}

impl Filter {
    /// A filter from what was typed: names and an action as they are, dates as
    /// `YYYY-MM-DD` (both days included, in UTC).
    pub fn from_form(
        actor: &str,
        target: &str,
        action: &str,
        from: &str,
        to: &str,
    ) -> Result<Filter> {
        let from = validate::date("from", from);
        let to = validate::date("to", to);
        validate::report([from.as_ref().err(), to.as_ref().err()])?;
        Ok(Filter {
            actor: actor.trim().to_string(),
            target: target.trim().to_string(),
            action: action.trim().to_string(),
            from: from?,
            until: to?.map(|day| day + 86_400),
        })
    }
}

pub const MAX_PAGE_SIZE: u32 = 200;

/// A page of the tenant's audit events, newest first.
///
/// **Permissions:** global or user administrators of the tenant.
pub async fn list(
    store: &Store,
    actor: &Principal,
    filter: &Filter,
    page: u32,
    page_size: u32,
) -> Result<Page<AuditEvent>> {
    actor.require(Permission::ReadAudit)?;
    let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
    let (items, total) = store::audit::list(
        &mut *store.read().await?,
        &actor.tenant_id,
        filter,
        i64::from(page) * i64::from(page_size),
        i64::from(page_size),
    )
    .await?;
    Ok(Page {
        items,
        total,
        page,
        page_size,
    })
}

/// The actions that occur in the tenant's trail, for the filter's choices.
///
/// **Permissions:** global or user administrators of the tenant.
pub async fn actions(store: &Store, actor: &Principal) -> Result<Vec<String>> {
    actor.require(Permission::ReadAudit)?;
    store::audit::actions(&mut *store.read().await?, &actor.tenant_id).await
}
