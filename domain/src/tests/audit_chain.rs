//! The audit trail as a hash chain per tenant: an export verifies offline, and altered,
//! deleted and reordered events — in the database or in the export — are each caught.

use types::ChainedEvent;

use super::{fixture, member, tenant_with_admin};
use crate::{Principal, Store};

async fn export(store: &Store, actor: &Principal) -> Vec<ChainedEvent> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |e: &ChainedEvent| e.id);
        let page = crate::audit::export_page(store, actor, after)
            .await
            .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

fn verify(events: &[ChainedEvent]) -> Result<crate::audit::Verified, String> {
    crate::audit::verify(None, events.iter().cloned().map(Ok))
}

async fn execute(store: &Store, sql: &str) {
    let mut tx = store.begin().await.unwrap();
    // Text alone: PostgreSQL takes it as a simple query, which may hold several statements.
    sqlx::Executor::execute(&mut *tx, sql).await.unwrap();
    tx.commit().await.unwrap();
}

/// Two tenants whose events interleave; Contoso's operator.
async fn two_tenants(store: &Store) -> Principal {
    let (contoso, _) = tenant_with_admin(store, "contoso.example").await;
    let (fabrikam, _) = tenant_with_admin(store, "fabrikam.example").await;
    for n in 0..4 {
        member(store, &contoso, &format!("c{n}@contoso.example")).await;
        member(store, &fabrikam, &format!("f{n}@fabrikam.example")).await;
    }
    contoso
}

#[tokio::test]
async fn each_tenants_trail_is_a_chain_that_an_export_verifies_offline() {
    let f = fixture().await;
    let contoso = two_tenants(&f.store).await;
    let events = export(&f.store, &contoso).await;
    assert!(events.len() >= 6, "{}", events.len());
    assert!(events.iter().all(|e| e.tenant_id == contoso.tenant_id));
    assert_eq!(events[0].prev_hash, "");
    let verified = verify(&events).unwrap();
    assert_eq!(verified.events, events.len() as u64);
    let head = crate::audit::chain_head(&f.store, &contoso)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(verified.head, Some((head.id, head.hash.clone())));
    assert_eq!(head.events, events.len() as i64);
    // A change appends an event that follows the head.
    member(&f.store, &contoso, "late@contoso.example").await;
    let after = export(&f.store, &contoso).await;
    assert_eq!(after.len(), events.len() + 1);
    assert_eq!(after.last().unwrap().prev_hash, head.hash);
    verify(&after).unwrap();
}

#[tokio::test]
async fn altered_deleted_and_reordered_events_are_caught_in_an_export() {
    let f = fixture().await;
    let contoso = two_tenants(&f.store).await;
    let events = export(&f.store, &contoso).await;
    let middle = events.len() / 2;

    let mut altered = events.clone();
    altered[middle].detail.push_str(" (edited)");
    let why = verify(&altered).unwrap_err();
    assert!(
        why.contains(&format!("event {} was altered", events[middle].id)),
        "{why}"
    );

    let mut deleted = events.clone();
    deleted.remove(middle);
    let why = verify(&deleted).unwrap_err();
    assert!(
        why.contains(&format!(
            "event {} does not follow event {}",
            events[middle + 1].id,
            events[middle - 1].id
        )),
        "{why}"
    );

    let mut reordered = events.clone();
    reordered.swap(middle, middle + 1);
    let why = verify(&reordered).unwrap_err();
    assert!(
        why.contains(&format!(
            "event {} does not follow event {}: events between them are missing or were \
             reordered",
            events[middle + 1].id,
            events[middle - 1].id
        )),
        "{why}"
    );
    // An event given twice.
    let mut repeated = events.clone();
    repeated.insert(middle, events[middle].clone());
    let why = verify(&repeated).unwrap_err();
    assert!(
        why.contains(&format!(
            "event {0} comes after event {0}: events are repeated or out of order",
            events[middle].id
        )),
        "{why}"
    );

    let mut first_gone = events.clone();
    first_gone.remove(0);
    let why = verify(&first_gone).unwrap_err();
    assert!(why.contains("the events before it are missing"), "{why}");

    // Rehashing an altered event does not help: the next one names the old hash.
    let mut rehashed = events.clone();
    rehashed[middle].detail.push_str(" (edited)");
    rehashed[middle].hash = crate::audit::chain_hash(&rehashed[middle]);
    let why = verify(&rehashed).unwrap_err();
    assert!(
        why.contains(&format!("event {} does not follow", events[middle + 1].id)),
        "{why}"
    );
}

#[tokio::test]
async fn altered_deleted_and_reordered_events_are_caught_in_the_database() {
    let f = fixture().await;
    let contoso = two_tenants(&f.store).await;
    let events = export(&f.store, &contoso).await;
    let (a, b) = (events[2].id, events[3].id);

    execute(
        &f.store,
        &format!("UPDATE audit_events SET actor_name = 'Someone else' WHERE id = {a}"),
    )
    .await;
    let why = verify(&export(&f.store, &contoso).await).unwrap_err();
    assert!(why.contains(&format!("event {a} was altered")), "{why}");
    execute(
        &f.store,
        &format!(
            "UPDATE audit_events SET actor_name = '{}' WHERE id = {a}",
            events[2].actor_name
        ),
    )
    .await;
    verify(&export(&f.store, &contoso).await).unwrap();

    // Swapping two events' content (ids stay in order) and deleting one.
    execute(
        &f.store,
        &format!(
            "UPDATE audit_events SET id = -1 WHERE id = {a};
             UPDATE audit_events SET id = {a} WHERE id = {b};
             UPDATE audit_events SET id = {b} WHERE id = -1;"
        ),
    )
    .await;
    let why = verify(&export(&f.store, &contoso).await).unwrap_err();
    assert!(why.contains(&format!("event {a}")), "{why}");
    execute(
        &f.store,
        &format!(
            "UPDATE audit_events SET id = -1 WHERE id = {a};
             UPDATE audit_events SET id = {a} WHERE id = {b};
             UPDATE audit_events SET id = {b} WHERE id = -1;
             DELETE FROM audit_events WHERE id = {a};"
        ),
    )
    .await;
    let why = verify(&export(&f.store, &contoso).await).unwrap_err();
    assert!(
        why.contains(&format!("event {b} does not follow event {}", events[1].id)),
        "{why}"
    );
}

#[tokio::test]
async fn events_written_before_the_chain_join_it_when_the_store_opens() {
    let f = fixture().await;
    let contoso = two_tenants(&f.store).await;
    let chained = export(&f.store, &contoso).await;
    execute(
        &f.store,
        "UPDATE audit_events SET prev_hash = NULL, hash = NULL",
    )
    .await;
    let reopened = Store::open(&f.place.url()).await.unwrap();
    let again = export(&reopened, &contoso).await;
    assert_eq!(again, chained, "chained as they were written");
    verify(&again).unwrap();
}

/// Invitations run beside each other on PostgreSQL, each locking only its address and, for
/// its event, the tenant's chain: forty at once, half of them of one address, make one
/// guest per address, one link that works for the address invited twenty times, and a
/// chain with every event in it that still verifies.
#[tokio::test]
async fn invitations_made_at_once_make_one_guest_per_address_and_keep_the_chain() {
    use crate::invitations::InviteInput;
    use types::InvitationStatus;
    let f = fixture().await;
    let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let before = export(&f.store, &contoso).await.len();
    let invitations = (0..40).map(|i| {
        let (store, actor) = (f.store.clone(), contoso.clone());
        tokio::spawn(async move {
            let email = if i % 2 == 0 {
                "same@partner.example".to_string()
            } else {
                format!("guest{i}@partner.example")
            };
            let input = InviteInput {
                email: &email,
                display_name: "",
                message: "",
                redirect_url: "",
                send_email: true,
                sponsors: &[],
                access_days: None,
            };
            crate::invitations::invite_guest(&store, &actor, input, "https://portico.example", 1)
                .await
        })
    });
    let mut made = Vec::new();
    for invitation in invitations.collect::<Vec<_>>() {
        made.push(invitation.await.unwrap().unwrap());
    }
    let new_guests = made.iter().filter(|invited| !invited.resent).count();
    assert_eq!(new_guests, 21, "one guest per address");
    let same: Vec<_> = made
        .iter()
        .filter(|invited| invited.user.email == "same@partner.example")
        .collect();
    assert!(
        same.iter()
            .all(|invited| invited.user.id == same[0].user.id)
    );

    let listed = crate::invitations::list(&f.store, &contoso, 2)
        .await
        .unwrap();
    assert_eq!(listed.len(), 40);
    let working: Vec<_> = listed
        .iter()
        .filter(|i| i.email == "same@partner.example")
        .filter(|i| i.status == InvitationStatus::PendingAcceptance)
        .collect();
    assert_eq!(working.len(), 1, "the newest link alone works: {listed:?}");

    let events = export(&f.store, &contoso).await;
    assert_eq!(events.len(), before + 40);
    let verified = verify(&events).unwrap();
    assert_eq!(verified.events, events.len() as u64);
}
