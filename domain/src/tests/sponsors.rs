//! Guests' sponsors: chosen at the invitation, replaced by the fallback sponsor when they
//! leave, added and removed by administrators within one to five.

use types::{BulkInviteRow, BulkOutcome, Role, UserRef};

use super::{T0, audit_events, fixture, member, tenant_with_admin};
use crate::invitations::InviteInput;
use crate::{Error, Principal, Store};

const BASE: &str = "https://portico.example";

/// Contoso's operator and Olive, a member who may invite (as every member may by default).
async fn contoso(store: &Store) -> (Principal, Principal) {
    let (operator, _) = tenant_with_admin(store, "contoso.example").await;
    let olive = member(store, &operator, "olive@contoso.example").await;
    let olive = Principal::user(&operator.tenant_id, &olive, "Olive", vec![], false, None);
    (operator, olive)
}

async fn invite(
    store: &Store,
    actor: &Principal,
    email: &str,
    sponsors: &[&str],
) -> crate::Result<types::Invited> {
    let sponsors: Vec<String> = sponsors.iter().map(|s| s.to_string()).collect();
    crate::invitations::invite_guest(
        store,
        actor,
        InviteInput {
            email,
            display_name: "",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &sponsors,
            access_days: None,
        },
        BASE,
        T0,
    )
    .await
}

async fn sponsors_of(store: &Store, operator: &Principal, guest: &str) -> Vec<String> {
    crate::sponsors::of_guest(store, operator, guest)
        .await
        .unwrap()
        .into_iter()
        .map(|s: UserRef| s.email)
        .collect()
}

async fn audited(store: &Store, operator: &Principal, action: &str) -> Vec<String> {
    audit_events(store, operator, action)
        .await
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

async fn assert_no_user(store: &Store, operator: &Principal, email: &str) {
    let found = crate::users::resolve(store, operator, email).await;
    assert!(
        matches!(&found, Err(Error::Invalid(fields)) if fields[0].field == "user"),
        "{found:?}"
    );
}

fn sponsors_field(error: Error) -> String {
    match error {
        Error::Invalid(fields) if fields[0].field == "sponsors" => fields[0].message.clone(),
        other => panic!("expected a refusal of the sponsors, got {other:?}"),
    }
}

#[tokio::test]
async fn a_guest_is_sponsored_by_the_member_who_invites_unless_others_are_named() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let sam = member(&f.store, &operator, "sam@contoso.example").await;

    let pat = invite(&f.store, &olive, "pat@partner.example", &[])
        .await
        .unwrap();
    assert_eq!(
        sponsors_of(&f.store, &operator, &pat.user.id).await,
        ["olive@contoso.example"]
    );
    let named = invite(
        &f.store,
        &olive,
        "quinn@partner.example",
        &[
            "SAM@contoso.example",
            olive.user_id().unwrap(),
            "sam@contoso.example",
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        sponsors_of(&f.store, &operator, &named.user.id).await,
        ["olive@contoso.example", "sam@contoso.example"],
        "named by address (any case) or id, each once"
    );
    let details = audited(&f.store, &operator, "Invite external user").await;
    assert!(
        details
            .iter()
            .any(|d| d.contains("quinn@partner.example; no mail; sponsors: sam@contoso.example (sam@contoso.example), olive@")),
        "{details:?}"
    );

    // Invited again while pending: no names keep the sponsors, names replace them.
    invite(&f.store, &olive, "pat@partner.example", &[])
        .await
        .unwrap();
    assert_eq!(
        sponsors_of(&f.store, &operator, &pat.user.id).await,
        ["olive@contoso.example"]
    );
    // Naming others for a pending guest changes who answers for them: an administrator's.
    let refused = invite(&f.store, &olive, "pat@partner.example", &[&sam]).await;
    assert!(
        matches!(&refused, Err(Error::Forbidden(m)) if m.contains("only user administrators")),
        "{refused:?}"
    );
    assert_eq!(
        sponsors_of(&f.store, &operator, &pat.user.id).await,
        ["olive@contoso.example"]
    );
    invite(&f.store, &operator, "pat@partner.example", &[&sam])
        .await
        .unwrap();
    assert_eq!(
        sponsors_of(&f.store, &operator, &pat.user.id).await,
        ["sam@contoso.example"]
    );

    // The command line names nobody: the fallback sponsor, or none.
    let unsponsored = invite(&f.store, &operator, "rae@partner.example", &[])
        .await
        .unwrap();
    assert!(
        sponsors_of(&f.store, &operator, &unsponsored.user.id)
            .await
            .is_empty()
    );
    let settings = crate::sponsors::settings(&f.store, &operator)
        .await
        .unwrap();
    assert_eq!(settings.fallback, None);
    assert_eq!(
        settings
            .unsponsored
            .iter()
            .map(|g| g.email.as_str())
            .collect::<Vec<_>>(),
        ["rae@partner.example"]
    );
    crate::sponsors::set_fallback(&f.store, &operator, "sam@contoso.example", T0)
        .await
        .unwrap();
    let fell_back = invite(&f.store, &operator, "uma@partner.example", &[])
        .await
        .unwrap();
    assert_eq!(
        sponsors_of(&f.store, &operator, &fell_back.user.id).await,
        ["sam@contoso.example"]
    );
}

#[tokio::test]
async fn sponsors_are_one_to_five_enabled_members_and_a_refusal_invites_nobody() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let mut six = Vec::new();
    for n in 0..6 {
        six.push(member(&f.store, &operator, &format!("m{n}@contoso.example")).await);
    }
    let guest = invite(&f.store, &olive, "pat@partner.example", &[])
        .await
        .unwrap();
    let disabled = member(&f.store, &operator, "gone@contoso.example").await;
    crate::users::set_enabled(&f.store, &operator, &disabled, false, T0)
        .await
        .unwrap();

    let six: Vec<&str> = six.iter().map(String::as_str).collect();
    let cases: [(&[&str], &str); 4] = [
        (&six, "at most 5"),
        (&["pat@partner.example"], "is a guest"),
        (
            &["nobody@contoso.example"],
            "not a user of this organization",
        ),
        (&["gone@contoso.example"], "disabled"),
    ];
    for (named, why) in cases {
        // The operator reads the directory, so is told why.
        let refused = invite(&f.store, &operator, "quinn@partner.example", named)
            .await
            .unwrap_err();
        let message = sponsors_field(refused);
        assert!(message.contains(why), "{message}");
        // A member is told what a sponsor must be, not who is a guest or disabled here.
        let refused = invite(&f.store, &olive, "quinn@partner.example", named)
            .await
            .unwrap_err();
        let message = sponsors_field(refused);
        assert!(
            message.contains("at most 5")
                || message.ends_with(
                    "cannot sponsor: sponsors are enabled members of this organization."
                ),
            "{message}"
        );
    }
    assert_no_user(&f.store, &operator, "quinn@partner.example").await;

    // A file's row names its sponsors in the fifth column; a wrong one fails that row alone.
    let rows = BulkInviteRow::from_csv(
        "email,name,redirect,message,sponsors\n\
         rae@partner.example,Rae,,,m0@contoso.example;m1@contoso.example\n\
         sue@partner.example,Sue,,,pat@partner.example\n",
    )
    .unwrap();
    let done = crate::invitations::invite_many(&f.store, &olive, &rows, false, BASE, T0)
        .await
        .unwrap();
    let BulkOutcome::Invited { user_id: rae, .. } = &done[0].outcome else {
        panic!("{:?}", done[0]);
    };
    assert_eq!(
        sponsors_of(&f.store, &operator, rae).await,
        ["m0@contoso.example", "m1@contoso.example"]
    );
    match &done[1].outcome {
        BulkOutcome::Invalid { reason } => assert!(reason.starts_with("Sponsors:"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_no_user(&f.store, &operator, "sue@partner.example").await;

    // Administrators add and remove, within one to five.
    for m in &six[..4] {
        crate::sponsors::add(&f.store, &operator, &guest.user.id, m, T0)
            .await
            .unwrap();
    }
    let full = crate::sponsors::add(&f.store, &operator, &guest.user.id, six[4], T0).await;
    assert!(
        matches!(&full, Err(Error::Conflict(m)) if m.contains("5 sponsors")),
        "{full:?}"
    );
    let twice = crate::sponsors::add(&f.store, &operator, &guest.user.id, six[0], T0).await;
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    let olive_id = olive.user_id().unwrap();
    let to_member = crate::sponsors::add(&f.store, &operator, olive_id, six[0], T0).await;
    assert!(
        matches!(&to_member, Err(Error::Conflict(m)) if m.contains("only guests")),
        "{to_member:?}"
    );
    for m in &six[..4] {
        crate::sponsors::remove(&f.store, &operator, &guest.user.id, m, T0)
            .await
            .unwrap();
    }
    let last = crate::sponsors::remove(&f.store, &operator, &guest.user.id, olive_id, T0).await;
    assert!(
        matches!(&last, Err(Error::Conflict(m)) if m.contains("at least one")),
        "{last:?}"
    );
    assert_eq!(
        sponsors_of(&f.store, &operator, &guest.user.id).await,
        ["olive@contoso.example"]
    );
    assert_eq!(audited(&f.store, &operator, "Add sponsor").await.len(), 4);
    assert_eq!(
        audited(&f.store, &operator, "Remove sponsor").await.len(),
        4
    );
}

#[tokio::test]
async fn only_administrators_change_sponsors_and_a_guest_sees_their_own() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let sam = member(&f.store, &operator, "sam@contoso.example").await;
    let guest = invite(&f.store, &olive, "pat@partner.example", &[])
        .await
        .unwrap();
    let add = crate::sponsors::add(&f.store, &olive, &guest.user.id, &sam, T0).await;
    assert!(matches!(add, Err(Error::AccessDenied)), "{add:?}");
    let fallback = crate::sponsors::set_fallback(&f.store, &olive, &sam, T0).await;
    assert!(matches!(fallback, Err(Error::AccessDenied)), "{fallback:?}");
    let look = crate::sponsors::of_guest(&f.store, &olive, &guest.user.id).await;
    assert!(matches!(look, Err(Error::AccessDenied)), "{look:?}");
    let user_admin = Principal::user(
        &operator.tenant_id,
        &sam,
        "Sam",
        vec![Role::UserAdministrator],
        false,
        None,
    );
    crate::sponsors::add(&f.store, &user_admin, &guest.user.id, &sam, T0)
        .await
        .unwrap();
    let fallback = crate::sponsors::set_fallback(&f.store, &user_admin, &sam, T0).await;
    assert!(
        matches!(fallback, Err(Error::AccessDenied)),
        "a tenant setting: global administrators"
    );
    let pat = Principal::user(
        &operator.tenant_id,
        &guest.user.id,
        "Pat",
        vec![],
        true,
        None,
    );
    let mine = crate::sponsors::of_guest(&f.store, &pat, &guest.user.id)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    let panel = crate::access::panel(&f.store, &pat).await.unwrap();
    assert_eq!(
        panel.sponsors, mine,
        "the guest's panel names their contacts"
    );
    let olive_panel = crate::access::panel(&f.store, &olive).await.unwrap();
    assert!(olive_panel.sponsors.is_empty());
}

#[tokio::test]
async fn a_sponsor_who_leaves_is_replaced_by_the_fallback_sponsor() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let sam = member(&f.store, &operator, "sam@contoso.example").await;
    let fred = member(&f.store, &operator, "fred@contoso.example").await;
    let olive_id = olive.user_id().unwrap().to_string();
    let pat = invite(&f.store, &olive, "pat@partner.example", &[])
        .await
        .unwrap()
        .user
        .id;
    let quinn = invite(
        &f.store,
        &olive,
        "quinn@partner.example",
        &[&olive_id, &sam],
    )
    .await
    .unwrap()
    .user
    .id;

    // No fallback sponsor: Pat is left without one, Quinn keeps Sam.
    crate::users::set_enabled(&f.store, &operator, &olive_id, false, T0)
        .await
        .unwrap();
    assert!(sponsors_of(&f.store, &operator, &pat).await.is_empty());
    assert_eq!(
        sponsors_of(&f.store, &operator, &quinn).await,
        ["sam@contoso.example"]
    );
    let replaced = audited(&f.store, &operator, "Replace sponsor").await;
    assert_eq!(replaced.len(), 2, "{replaced:?}");
    assert!(
        replaced
            .iter()
            .any(|d| d.contains("was disabled") && d.contains("has no sponsor")),
        "{replaced:?}"
    );
    let settings = crate::sponsors::settings(&f.store, &operator)
        .await
        .unwrap();
    assert_eq!(settings.unsponsored.len(), 1);
    assert_eq!(settings.unsponsored[0].id, pat);

    // With Fred as the fallback sponsor, deleting Sam hands Quinn (and Pat, given Sam) to Fred.
    crate::sponsors::set_fallback(&f.store, &operator, "fred@contoso.example", T0)
        .await
        .unwrap();
    crate::sponsors::add(&f.store, &operator, &pat, &sam, T0)
        .await
        .unwrap();
    crate::users::delete(&f.store, &operator, &sam, T0)
        .await
        .unwrap();
    for guest in [&pat, &quinn] {
        assert_eq!(
            sponsors_of(&f.store, &operator, guest).await,
            ["fred@contoso.example"]
        );
    }
    let replaced = audited(&f.store, &operator, "Replace sponsor").await;
    assert!(
        replaced
            .iter()
            .any(|d| d.contains("was deleted") && d.contains("fallback sponsor fred@")),
        "{replaced:?}"
    );

    // A disabled fallback sponsor takes nobody's place (and its own guests lose it).
    let una = member(&f.store, &operator, "una@contoso.example").await;
    crate::sponsors::add(&f.store, &operator, &pat, &una, T0)
        .await
        .unwrap();
    crate::users::set_enabled(&f.store, &operator, &fred, false, T0)
        .await
        .unwrap();
    assert_eq!(
        sponsors_of(&f.store, &operator, &pat).await,
        ["una@contoso.example"]
    );
    assert!(sponsors_of(&f.store, &operator, &quinn).await.is_empty());
    let settings = crate::sponsors::settings(&f.store, &operator)
        .await
        .unwrap();
    assert!(!settings.fallback_enabled);
    crate::users::set_enabled(&f.store, &operator, &una, false, T0)
        .await
        .unwrap();
    assert!(
        sponsors_of(&f.store, &operator, &pat).await.is_empty(),
        "a disabled fallback sponsor is not given guests"
    );
    // Deleting the fallback sponsor empties the setting, and says so.
    crate::users::delete(&f.store, &operator, &fred, T0)
        .await
        .unwrap();
    let settings = crate::sponsors::settings(&f.store, &operator)
        .await
        .unwrap();
    assert_eq!(settings.fallback, None);
    let set = audited(&f.store, &operator, "Set fallback sponsor").await;
    assert!(
        set.iter()
            .any(|d| d.starts_with("none: fred@contoso.example") && d.ends_with("was deleted")),
        "{set:?}"
    );
}
