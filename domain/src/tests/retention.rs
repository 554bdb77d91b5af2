//! Audit retention: events past an organization's retention are pruned at a signed
//! checkpoint, the chain still verifies from it, other organizations keep theirs, and the
//! checkpoint cannot be altered or dropped unnoticed.

use types::{ActorKind, AuditCheckpoint, ChainedEvent, Role};

use super::{T0, fixture, member, tenant_with_admin};
use crate::store::oidc::NewSignIn;
use crate::{Error, Principal, Store};

const DAY: i64 = 86_400;

/// The export's checkpoint and every event after it.
async fn export(store: &Store, actor: &Principal) -> (Option<AuditCheckpoint>, Vec<ChainedEvent>) {
    let (checkpoint, mut events) = crate::audit::export_start(store, actor).await.unwrap();
    while let Some(last) = events.last() {
        let page = crate::audit::export_page(store, actor, last.id)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        events.extend(page);
    }
    (checkpoint, events)
}

fn verify(
    checkpoint: Option<&AuditCheckpoint>,
    events: &[ChainedEvent],
) -> Result<crate::audit::Verified, String> {
    crate::audit::verify(checkpoint, events.iter().cloned().map(Ok))
}

async fn sign_in(store: &Store, tenant_id: &str, at: i64) {
    let event = NewSignIn {
        tenant_id,
        user_id: None,
        user_name: "Someone",
        user_email: "someone@example.com",
        app_id: "",
        app_name: "Portico",
        success: true,
        reason: "",
        ip: None,
        ca_status: "notApplied",
        ca_policies: "[]",
    };
    crate::store::oidc::insert_sign_in(store, &event, at)
        .await
        .unwrap();
}

async fn sign_ins(store: &Store, tenant_id: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT created_at FROM sign_in_events WHERE tenant_id = $1 ORDER BY id")
        .bind(tenant_id)
        .fetch_all(&mut *store.read().await.unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn pruning_cuts_at_a_signed_checkpoint_from_which_the_export_still_verifies() {
    let f = fixture().await;
    let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let (fabrikam, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
    for n in 0..3 {
        member(&f.store, &contoso, &format!("c{n}@contoso.example")).await;
        member(&f.store, &fabrikam, &format!("f{n}@fabrikam.example")).await;
    }
    sign_in(&f.store, &contoso.tenant_id, T0).await;
    sign_in(&f.store, &fabrikam.tenant_id, T0).await;
    let (_, old) = export(&f.store, &contoso).await;
    let fabrikam_before = export(&f.store, &fabrikam).await;

    // A hundred days on, Contoso decides to keep 30 days; Fabrikam keeps everything.
    let later = T0 + 100 * DAY;
    crate::retention::set_retention(&f.store, &contoso, Some(30), later)
        .await
        .unwrap();
    sign_in(&f.store, &contoso.tenant_id, later).await;
    assert_eq!(
        crate::retention::prune(&f.store, later + 60).await.unwrap(),
        old.len() as u64 + 1,
        "the old events and the old sign-in go"
    );

    let (checkpoint, events) = export(&f.store, &contoso).await;
    let checkpoint = checkpoint.expect("a checkpoint where the chain was cut");
    let last_removed = old.last().unwrap();
    assert_eq!(checkpoint.event_id, last_removed.id);
    assert_eq!(checkpoint.event_hash, last_removed.hash);
    assert_eq!(checkpoint.events_removed, old.len() as i64);
    assert_eq!(checkpoint.cutoff, crate::retention::cutoff(later + 60, 30));
    assert_eq!(checkpoint.cutoff % DAY, 0, "cut at the start of a day");
    assert!(events.iter().all(|e| e.at >= checkpoint.cutoff));
    assert_eq!(events[0].prev_hash, checkpoint.event_hash);
    let verified = verify(Some(&checkpoint), &events).unwrap();
    assert_eq!(verified.events, events.len() as u64);
    let checked = verified.checkpoint.unwrap();
    assert_eq!(checked.events_removed, old.len() as i64);
    assert!(!checked.kid.is_empty() && checked.thumbprint.len() == 43);

    // The pruning is itself in the chain, by Portico, saying what went.
    let pruned = events.last().unwrap();
    assert_eq!(pruned.action, "Prune audit log");
    assert_eq!(pruned.actor_kind, ActorKind::Portico);
    assert!(
        pruned.detail.contains(&format!(
            "Removed {} audit events and 1 sign-in events",
            old.len()
        )),
        "{}",
        pruned.detail
    );
    assert_eq!(sign_ins(&f.store, &contoso.tenant_id).await, vec![later]);

    // Another organization's events and sign-ins stay.
    assert_eq!(export(&f.store, &fabrikam).await, fabrikam_before);
    assert_eq!(sign_ins(&f.store, &fabrikam.tenant_id).await, vec![T0]);

    // Nothing more is due the same day: no second pruning, no second event.
    assert_eq!(
        crate::retention::prune(&f.store, later + 120)
            .await
            .unwrap(),
        0
    );
    assert_eq!(export(&f.store, &contoso).await.1.len(), events.len());

    // A checkpoint altered, or dropped from the export, is caught.
    let mut moved = checkpoint.clone();
    moved.events_removed -= 1;
    let why = verify(Some(&moved), &events).unwrap_err();
    assert!(
        why.contains("line 1: the checkpoint does not hold"),
        "{why}"
    );
    let mut rehashed = checkpoint.clone();
    rehashed.event_hash = events[0].hash.clone();
    assert!(verify(Some(&rehashed), &events).is_err());
    let mut resigned = checkpoint.clone();
    resigned
        .signature
        .replace_range(resigned.signature.len() - 4.., "AAAA");
    let why = verify(Some(&resigned), &events).unwrap_err();
    assert!(why.contains("does not verify"), "{why}");
    let why = verify(None, &events).unwrap_err();
    assert!(why.contains("the events before it are missing"), "{why}");
    // An event after the checkpoint removed from the export is caught too.
    let why = verify(Some(&checkpoint), &events[1..]).unwrap_err();
    assert!(why.contains("line 2"), "{why}");
}

#[tokio::test]
async fn when_every_event_is_pruned_the_chain_goes_on_from_the_checkpoint() {
    let f = fixture().await;
    let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
    crate::retention::set_retention(&f.store, &contoso, Some(30), T0)
        .await
        .unwrap();
    let (_, old) = export(&f.store, &contoso).await;
    assert!(
        crate::retention::prune(&f.store, T0 + 400 * DAY)
            .await
            .unwrap()
            >= old.len() as u64
    );
    let (checkpoint, events) = export(&f.store, &contoso).await;
    let checkpoint = checkpoint.unwrap();
    assert_eq!(checkpoint.event_id, old.last().unwrap().id);
    assert_eq!(events.len(), 1, "only the pruning's own event");
    assert_eq!(events[0].prev_hash, checkpoint.event_hash);
    // And the next change follows it.
    member(&f.store, &contoso, "new@contoso.example").await;
    let (checkpoint, events) = export(&f.store, &contoso).await;
    verify(checkpoint.as_ref(), &events).unwrap();
    // A second pruning a year later counts both in its checkpoint.
    let before = checkpoint.unwrap().events_removed;
    let since = events.len() as i64;
    crate::retention::prune(&f.store, T0 + 800 * DAY)
        .await
        .unwrap();
    let (checkpoint, events) = export(&f.store, &contoso).await;
    let checkpoint = checkpoint.unwrap();
    assert_eq!(checkpoint.events_removed, before + since);
    verify(Some(&checkpoint), &events).unwrap();
}

#[tokio::test]
async fn only_global_administrators_set_retention_and_bad_values_change_nothing() {
    let f = fixture().await;
    let (contoso, admin_id) = tenant_with_admin(&f.store, "contoso.example").await;
    let user_admin = Principal::user(
        &contoso.tenant_id,
        &admin_id,
        "Admin",
        vec![Role::UserAdministrator],
        false,
        None,
    );
    assert!(matches!(
        crate::retention::set_retention(&f.store, &user_admin, Some(90), T0).await,
        Err(Error::AccessDenied)
    ));
    for bad in ["10", "29", "3651", "ninety", "-5"] {
        assert!(
            matches!(crate::retention::parse_days(bad), Err(Error::Invalid(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        crate::retention::set_retention(&f.store, &contoso, Some(7), T0).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        crate::retention::retention(&f.store, &user_admin)
            .await
            .unwrap(),
        None
    );
    assert_eq!(crate::retention::parse_days(" ").unwrap(), None);
    assert_eq!(crate::retention::parse_days("365").unwrap(), Some(365));
    let global = Principal::user(
        &contoso.tenant_id,
        &admin_id,
        "Admin",
        vec![Role::GlobalAdministrator],
        false,
        None,
    );
    crate::retention::set_retention(&f.store, &global, Some(365), T0)
        .await
        .unwrap();
    assert_eq!(
        crate::retention::retention(&f.store, &user_admin)
            .await
            .unwrap(),
        Some(365)
    );
    let events = crate::audit::list(&f.store, &global, &Default::default(), 0, 1)
        .await
        .unwrap();
    assert_eq!(events.items[0].action, "Set audit retention");
    assert!(
        events.items[0]
            .detail
            .contains("kept 365 days (were kept for good)")
    );
    // Nothing is pruned while events are younger than the retention.
    assert_eq!(
        crate::retention::prune(&f.store, T0 + 300 * DAY)
            .await
            .unwrap(),
        0
    );
}
