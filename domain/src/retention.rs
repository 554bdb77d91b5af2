//! How long an organization keeps its audit and sign-in events, and pruning the older ones
//! without breaking the audit chain: where events are cut, Portico writes a checkpoint
//! holding the newest removed event's id and hash, signed with its ES256 token-signing key.
//! The first event kept names that hash as the one before it, so an export (which starts
//! with the checkpoint) still verifies end to end.
//!
//! Pruning cuts at the start of a day (UTC), so it happens at most once a day per
//! organization however often the sweeper runs, and in batches, so that the single writer
//! is never held long.

use serde_json::{Value, json};
use types::{AuditCheckpoint, ChainedEvent};

use crate::audit::{self, Change};
use crate::oidc::keys::{self, Signer};
use crate::store::{self, Tx};
use crate::{Permission, Principal, Result, Store};

/// The shortest and longest retention an organization may choose, in days.
pub const MIN_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 3650;

/// Events a pruning transaction removes at most.
const BATCH: i64 = 5000;

const DAY: i64 = 86_400;

/// How many days the organization keeps its audit and sign-in events; `None`: for good.
///
/// **Permissions:** global or user administrators of the tenant.
pub async fn retention(store: &Store, actor: &Principal) -> Result<Option<i64>> {
    actor.require(Permission::ReadAudit)?;
    store::audit::retention_days(&mut *store.read().await?, &actor.tenant_id).await
}

/// Who may change how long events are kept: global administrators (and the operator).
const SETS_RETENTION: Permission = Permission::ManageRoles;

/// Whether the actor may change how long events are kept.
pub fn may_set(actor: &Principal) -> bool {
    actor.require(SETS_RETENTION).is_ok()
}

/// The days as typed: empty keeps events for good, otherwise a whole number of days from
/// [`MIN_DAYS`] to [`MAX_DAYS`].
pub fn parse_days(typed: &str) -> Result<Option<i64>> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    typed
        .parse::<i64>()
        .map_or_else(|_| Err(bad_days()), |days| check_days(Some(days)))
}

/// A retention in range, or `None` (for good).
fn check_days(days: Option<i64>) -> Result<Option<i64>> {
    match days {
        Some(days) if !(MIN_DAYS..=MAX_DAYS).contains(&days) => Err(bad_days()),
        days => Ok(days),
    }
}

fn bad_days() -> crate::Error {
    crate::Error::Invalid(vec![types::FieldError {
        field: "retention_days".into(),
        message: format!(
            "Enter a number of days from {MIN_DAYS} to {MAX_DAYS}, or leave it empty to keep events for good."
        ),
    }])
}

/// Sets how long the organization keeps its events; audited. The next sweep removes what
/// is older.
///
/// **Permissions:** global administrators (the operator too).
pub async fn set_retention(
    store: &Store,
    actor: &Principal,
    days: Option<i64>,
    now: i64,
) -> Result<()> {
    actor.require(SETS_RETENTION)?;
    let days = check_days(days)?;
    let mut tx = store.begin().await?;
    let before = store::audit::retention_days(&mut tx, &actor.tenant_id).await?;
    store::audit::set_retention_days(&mut tx, &actor.tenant_id, days).await?;
    let said = |days: Option<i64>| days.map_or("for good".to_string(), |d| format!("{d} days"));
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Set audit retention",
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: "Audit log",
            detail: format!(
                "Audit and sign-in events kept {} (were kept {})",
                said(days),
                said(before)
            ),
        },
    )
    .await?;
    tx.commit().await
}

/// Events written before this time are removed at `now` when kept `days` days: the start
/// of the day (UTC) `days` days ago.
pub fn cutoff(now: i64, days: i64) -> i64 {
    (now - days * DAY).div_euclid(DAY) * DAY
}

/// Removes, in every organization that keeps its events for a limited time, the audit and
/// sign-in events older than that, leaving a signed checkpoint where the chain was cut and
/// an audit event saying what went. Answers how many events went.
pub async fn prune(store: &Store, now: i64) -> Result<u64> {
    let tenants = store::audit::retention_settings(&mut *store.read().await?).await?;
    let mut signer: Option<Signer> = None;
    let mut removed = 0u64;
    for (tenant_id, days) in tenants {
        let cutoff = cutoff(now, days);
        let mut events = 0i64;
        let mut checkpoint = None;
        loop {
            // Loaded (which may write a first key) before the writer is taken, once
            // something is due.
            let signer = match &signer {
                Some(signer) => signer,
                None => {
                    let mut db = store.read().await?;
                    if store::audit::prune_cut(&mut db, &tenant_id, cutoff, 1)
                        .await?
                        .is_none()
                    {
                        break;
                    }
                    drop(db);
                    signer.insert(keys::load_or_create(store, now).await?)
                }
            };
            let mut tx = store.begin().await?;
            let Some(cut) = store::audit::prune_cut(&mut tx, &tenant_id, cutoff, BATCH).await?
            else {
                break;
            };
            let (made, gone) = cut_at(&mut tx, signer, &cut, cutoff, now).await?;
            tx.commit().await?;
            events += gone;
            checkpoint = Some(made);
        }
        let mut sign_ins = 0i64;
        loop {
            let mut tx = store.begin().await?;
            let gone =
                store::audit::delete_sign_ins_before(&mut tx, &tenant_id, cutoff, BATCH).await?;
            tx.commit().await?;
            sign_ins += gone;
            if gone < BATCH {
                break;
            }
        }
        if events > 0 || sign_ins > 0 {
            let mut tx = store.begin().await?;
            audit::record_by_portico(
                &mut tx,
                &tenant_id,
                now,
                Change {
                    action: "Prune audit log",
                    target_type: "Tenant",
                    target_id: &tenant_id,
                    target_name: "Audit log",
                    detail: pruned_detail(events, sign_ins, cutoff, days, checkpoint.as_ref()),
                },
            )
            .await?;
            tx.commit().await?;
        }
        removed += u64::try_from(events + sign_ins).unwrap_or(0);
    }
    Ok(removed)
}

fn pruned_detail(
    events: i64,
    sign_ins: i64,
    cutoff: i64,
    days: i64,
    checkpoint: Option<&AuditCheckpoint>,
) -> String {
    let day = &types::format::rfc3339(cutoff)[..10];
    let mut detail = format!(
        "Removed {events} audit events and {sign_ins} sign-in events from before {day} (kept {days} days)"
    );
    if let Some(checkpoint) = checkpoint {
        detail.push_str(&format!(
            "; the chain goes on from event {}, SHA-256 {}, in a signed checkpoint",
            checkpoint.event_id, checkpoint.event_hash
        ));
    }
    detail
}

/// Removes the tenant's events up to `cut` and writes the signed checkpoint in their place;
/// answers it and how many events went.
async fn cut_at(
    tx: &mut Tx,
    signer: &Signer,
    cut: &ChainedEvent,
    cutoff: i64,
    now: i64,
) -> Result<(AuditCheckpoint, i64)> {
    // The chain's start moves: no event of the tenant is written meanwhile.
    store::lock(tx, store::Lock::AuditChain(&cut.tenant_id)).await?;
    let earlier = store::audit::latest_checkpoint(tx, &cut.tenant_id)
        .await?
        .map_or(0, |checkpoint| checkpoint.events_removed);
    let gone = store::audit::delete_through(tx, &cut.tenant_id, cut.id).await?;
    let mut checkpoint = AuditCheckpoint {
        tenant_id: cut.tenant_id.clone(),
        event_id: cut.id,
        event_hash: cut.hash.clone(),
        events_removed: earlier + gone,
        cutoff,
        at: now,
        signature: String::new(),
        public_jwk: signer.es256_public_jwk().to_string(),
    };
    checkpoint.signature = signer.sign(types::SigningAlg::ES256, &claims(&checkpoint))?;
    store::audit::insert_checkpoint(tx, &checkpoint).await?;
    Ok((checkpoint, gone))
}

/// What a checkpoint's signature covers.
fn claims(checkpoint: &AuditCheckpoint) -> Value {
    json!({
        "typ": "portico-audit-checkpoint",
        "tid": checkpoint.tenant_id,
        "event_id": checkpoint.event_id,
        "event_hash": checkpoint.event_hash,
        "events_removed": checkpoint.events_removed,
        "cutoff": checkpoint.cutoff,
        "iat": checkpoint.at,
    })
}

/// Checks a checkpoint's signature with the key it carries and that the signature covers
/// exactly its fields; answers the key's id and RFC 7638 thumbprint, to compare with the
/// keys one trusts.
pub fn verify_checkpoint(
    checkpoint: &AuditCheckpoint,
) -> std::result::Result<(String, String), String> {
    let jwk: Value = serde_json::from_str(&checkpoint.public_jwk)
        .map_err(|_| "its public key is not a JSON Web Key".to_string())?;
    let payload = keys::verify_es256(&checkpoint.signature, &jwk)?;
    if payload != claims(checkpoint) {
        return Err("its fields are not the ones its signature covers".into());
    }
    let kid = jwk["kid"].as_str().unwrap_or_default().to_string();
    Ok((kid, keys::ec_thumbprint(&jwk)))
}
