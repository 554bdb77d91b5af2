//! The audit trail: every change to directory data writes one event, in the same
//! transaction as the change, so that a change without its event cannot be committed.

use sha2::{Digest, Sha256};
use types::{AuditCheckpoint, AuditEvent, ChainHead, ChainedEvent, Page};

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

/// Writes the event and links it to the tenant's chain.
///
/// The chain needs the events of a tenant written one after another: on SQLite the single
/// writer does that (every `Tx` holds it); on PostgreSQL the transaction takes the tenant's
/// chain lock before it reads the head, and holds it to its end, so the next event of the
/// tenant, in this process or another, reads this one as its head.
pub(crate) async fn record(
    tx: &mut Tx,
    actor: &Principal,
    now: i64,
    change: Change<'_>,
) -> Result<()> {
    store::lock(tx, store::Lock::AuditChain(&actor.tenant_id)).await?;
    let actor_name = actor.audit_name();
    let mut chained = ChainedEvent {
        id: 0,
        tenant_id: actor.tenant_id.clone(),
        at: now,
        actor_id: actor.actor_id().map(str::to_string),
        actor_name,
        actor_kind: actor.kind(),
        action: change.action.to_string(),
        target_type: change.target_type.to_string(),
        target_id: change.target_id.to_string(),
        target_name: change.target_name.to_string(),
        detail: change.detail,
        ip: actor.ip.clone(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    // PostgreSQL gives the event's id with the head, so that the event is written once,
    // whole: fewer trips while the chain's lock is held. SQLite gives the id with the row.
    if let Some((id, prev_hash)) = store::audit::next_id_and_head(tx, &actor.tenant_id).await? {
        chained.id = id;
        chained.prev_hash = prev_hash;
        chained.hash = chain_hash(&chained);
        return store::audit::insert_chained(tx, &chained).await;
    }
    chained.prev_hash = store::audit::head_hash(tx, &actor.tenant_id).await?;
    chained.id = store::audit::insert(
        tx,
        NewEvent {
            tenant_id: &chained.tenant_id,
            at: now,
            actor_id: chained.actor_id.as_deref(),
            actor_name: &chained.actor_name,
            actor_kind: chained.actor_kind,
            action: &chained.action,
            target_type: &chained.target_type,
            target_id: &chained.target_id,
            target_name: &chained.target_name,
            detail: &chained.detail,
            ip: chained.ip.as_deref(),
        },
    )
    .await?;
    chained.hash = chain_hash(&chained);
    store::audit::seal(tx, chained.id, &chained.prev_hash, &chained.hash).await
}

/// The SHA-256 (lower-case hex) of an event's canonical encoding: a JSON array of the
/// encoding's version (1) and the event's fields in a fixed order, ending with the hash of
/// the event before it. serde_json writes it the same way every time (no maps, no white
/// space), so anyone can recompute it from an export.
pub fn chain_hash(event: &ChainedEvent) -> String {
    let canonical = serde_json::json!([
        1,
        event.tenant_id,
        event.id,
        event.at,
        event.actor_id,
        event.actor_name,
        event.actor_kind,
        event.action,
        event.target_type,
        event.target_id,
        event.target_name,
        event.detail,
        event.ip,
        event.prev_hash,
    ]);
    Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Chains the events written before the chain existed, oldest first, each after the
/// newest chained event of its tenant before it. Runs when the store opens; a no-op once
/// every event is chained.
pub(crate) async fn chain_backlog(store: &Store) -> Result<()> {
    loop {
        let mut tx = store.begin().await?;
        let backlog = store::audit::unchained(&mut tx, 1000).await?;
        if backlog.is_empty() {
            return Ok(());
        }
        for mut event in backlog {
            event.prev_hash = store::audit::chain_head(&mut tx, &event.tenant_id, Some(event.id))
                .await?
                .map(|head| head.hash)
                .unwrap_or_default();
            event.hash = chain_hash(&event);
            store::audit::seal(&mut tx, event.id, &event.prev_hash, &event.hash).await?;
        }
        tx.commit().await?;
    }
}

/// The newest event of the tenant's chain and how many events the chain holds.
///
/// **Permissions:** global or user administrators of the tenant.
pub async fn chain_head(store: &Store, actor: &Principal) -> Result<Option<ChainHead>> {
    actor.require(Permission::ReadAudit)?;
    let mut db = store.read().await?;
    let events = store::audit::count(&mut db, &actor.tenant_id).await?;
    Ok(store::audit::chain_head(&mut db, &actor.tenant_id, None)
        .await?
        .map(|head| ChainHead {
            id: head.id,
            at: head.at,
            hash: head.hash,
            events,
        }))
}

/// Where the tenant's chain starts when older events were pruned: the newest checkpoint.
///
/// **Permissions:** global or user administrators of the tenant.
pub async fn checkpoint(store: &Store, actor: &Principal) -> Result<Option<AuditCheckpoint>> {
    actor.require(Permission::ReadAudit)?;
    store::audit::latest_checkpoint(&mut *store.read().await?, &actor.tenant_id).await
}

/// The start of an export: the checkpoint the chain starts from (if events were pruned)
/// and the first page of events, read together so that a pruning in between cannot part
/// them. Further pages come from [`export_page`].
///
/// **Permissions:** global or user administrators of the tenant, and the operator.
pub async fn export_start(
    store: &Store,
    actor: &Principal,
) -> Result<(Option<AuditCheckpoint>, Vec<ChainedEvent>)> {
    use sqlx::Connection;
    actor.require(Permission::ReadAudit)?;
    let mut db = store.read().await?;
    let mut snapshot = db.begin().await?;
    let checkpoint = store::audit::latest_checkpoint(&mut snapshot, &actor.tenant_id).await?;
    let after = checkpoint.as_ref().map_or(0, |c| c.event_id);
    let events =
        store::audit::chained_page(&mut snapshot, &actor.tenant_id, after, EXPORT_PAGE).await?;
    snapshot.rollback().await?;
    Ok((checkpoint, events))
}

/// Events a page of [`export_page`] holds at most.
pub const EXPORT_PAGE: i64 = 1000;

/// The tenant's events after `after_id`, oldest first, as the chain covers them: an export
/// is these pages written one after another.
///
/// **Permissions:** global or user administrators of the tenant, and the operator.
pub async fn export_page(
    store: &Store,
    actor: &Principal,
    after_id: i64,
) -> Result<Vec<ChainedEvent>> {
    actor.require(Permission::ReadAudit)?;
    store::audit::chained_page(
        &mut *store.read().await?,
        &actor.tenant_id,
        after_id,
        EXPORT_PAGE,
    )
    .await
}

/// A chain that checks out: how many events, and its newest.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub events: u64,
    pub head: Option<(i64, String)>,
    /// Where it starts when older events were pruned: the checkpoint, and the id and
    /// thumbprint of the key that signed it.
    pub checkpoint: Option<CheckedCheckpoint>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CheckedCheckpoint {
    pub event_id: i64,
    pub events_removed: i64,
    pub cutoff: i64,
    pub kid: String,
    pub thumbprint: String,
}

/// Checks a tenant's chain, events in the order given (an export's lines, numbered from
/// 1, after its checkpoint if it has one), without the database: each event's hash must
/// match its content, follow the one before it, and the first must start the chain — or,
/// when older events were pruned, follow the checkpoint, whose signature must hold. The
/// error names the first event that does not, and why. Events cut from the end leave a
/// shorter chain that checks out: compare the head with one noted earlier (the console
/// shows it).
pub fn verify(
    checkpoint: Option<&AuditCheckpoint>,
    events: impl IntoIterator<Item = std::result::Result<ChainedEvent, String>>,
) -> std::result::Result<Verified, String> {
    let checked = checkpoint
        .map(|c| {
            crate::retention::verify_checkpoint(c)
                .map(|(kid, thumbprint)| CheckedCheckpoint {
                    event_id: c.event_id,
                    events_removed: c.events_removed,
                    cutoff: c.cutoff,
                    kid,
                    thumbprint,
                })
                .map_err(|why| format!("line 1: the checkpoint does not hold: {why}"))
        })
        .transpose()?;
    // The checkpoint stands in for the last event removed.
    let mut previous: Option<ChainedEvent> = checkpoint.map(|c| ChainedEvent {
        id: c.event_id,
        tenant_id: c.tenant_id.clone(),
        at: c.cutoff,
        actor_id: None,
        actor_name: String::new(),
        actor_kind: types::ActorKind::Portico,
        action: String::new(),
        target_type: String::new(),
        target_id: String::new(),
        target_name: String::new(),
        detail: String::new(),
        ip: None,
        prev_hash: String::new(),
        hash: c.event_hash.clone(),
    });
    let first_line = usize::from(checkpoint.is_some()) + 1;
    let mut count = 0u64;
    for (index, event) in events.into_iter().enumerate() {
        let line = index + first_line;
        let event = event.map_err(|why| format!("line {line}: {why}"))?;
        let id = event.id;
        if chain_hash(&event) != event.hash {
            return Err(format!(
                "line {line}: event {id} was altered: its content does not match its hash"
            ));
        }
        match &previous {
            None if !event.prev_hash.is_empty() => {
                return Err(format!(
                    "line {line}: event {id} is not the first of its chain: the events before \
                     it are missing"
                ));
            }
            Some(before) if before.tenant_id != event.tenant_id => {
                return Err(format!(
                    "line {line}: event {id} belongs to another organization's chain"
                ));
            }
            Some(before) if event.id <= before.id => {
                return Err(format!(
                    "line {line}: event {id} comes after event {}: events are repeated or out \
                     of order",
                    before.id
                ));
            }
            Some(before) if event.prev_hash != before.hash => {
                return Err(format!(
                    "line {line}: event {id} does not follow event {}: events between them are \
                     missing or were reordered",
                    before.id
                ));
            }
            _ => {}
        }
        count += 1;
        previous = Some(event);
    }
    Ok(Verified {
        events: count,
        head: previous
            .filter(|_| count > 0)
            .map(|event| (event.id, event.hash)),
        checkpoint: checked,
    })
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
