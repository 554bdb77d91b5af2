//! Owners in the access panel, and requests to join a group or to use an app.

use types::{ExternalState, InvitationStatus, JoinPolicy, ObjectKind, RequestState, Role};

use super::{T0, fixture, member, tenant_with_admin};
use crate::apps::{AppInput, Assignee};
use crate::groups::Link;
use crate::owners::{Grantee, Object};
use crate::requests::Joining;
use crate::{Error, Principal, Store};

const BASE: &str = "https://portico.example";

/// Contoso with an app (Wiki) and a group (Design) owned by Olive, an app (Payroll) and a
/// group (Finance) she does not own, and Max, a member with no access to anything.
struct Owned {
    operator: Principal,
    olive: Principal,
    max: String,
    wiki: String,
    design: String,
    payroll: String,
    finance: String,
}

async fn app(store: &Store, operator: &Principal, name: &str) -> String {
    let input = AppInput {
        name,
        description: "",
        launch_url: "https://app.example/",
        logo_url: "",
        assignment_required: true,
    };
    crate::apps::create(store, operator, input, T0)
        .await
        .unwrap()
        .id
}

async fn owned(store: &Store, olive_roles: Vec<Role>) -> Owned {
    let (operator, _) = tenant_with_admin(store, "contoso.example").await;
    let olive_id = member(store, &operator, "olive@contoso.example").await;
    let max = member(store, &operator, "max@contoso.example").await;
    let wiki = app(store, &operator, "Wiki").await;
    let payroll = app(store, &operator, "Payroll").await;
    let design = crate::groups::create(store, &operator, "Design", "", T0)
        .await
        .unwrap()
        .id;
    let finance = crate::groups::create(store, &operator, "Finance", "", T0)
        .await
        .unwrap()
        .id;
    crate::apps::set_owner(store, &operator, &wiki, &olive_id, true, T0)
        .await
        .unwrap();
    crate::groups::set_link(store, &operator, &design, &olive_id, Link::Owner, true, T0)
        .await
        .unwrap();
    let olive = Principal::user(
        &operator.tenant_id,
        &olive_id,
        "Olive",
        olive_roles,
        false,
        None,
    );
    Owned {
        operator,
        olive,
        max,
        wiki,
        design,
        payroll,
        finance,
    }
}

fn app_object(id: &str) -> Object<'_> {
    Object {
        kind: ObjectKind::App,
        id,
    }
}

fn group_object(id: &str) -> Object<'_> {
    Object {
        kind: ObjectKind::Group,
        id,
    }
}

async fn audit_total(store: &Store, operator: &Principal) -> i64 {
    crate::audit::list(store, operator, &Default::default(), 0, 1)
        .await
        .unwrap()
        .total
}

async fn mail_count(store: &Store) -> usize {
    crate::outbox::list_for_operator(store, 500)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_owner_is_refused_every_operation_on_what_they_do_not_own_and_nothing_changes() {
    let f = fixture().await;
    // A global administrator too: owning is what these paths ask, not roles.
    let o = owned(&f.store, vec![Role::GlobalAdministrator]).await;
    // Someone else's invitation and a request, in the objects Olive does not own.
    crate::apps::set_requestable(&f.store, &o.operator, &o.payroll, true, T0)
        .await
        .unwrap();
    let as_max = Principal::user(&o.operator.tenant_id, &o.max, "Max", vec![], false, None);
    crate::requests::request_app(&f.store, &as_max, &o.payroll, T0)
        .await
        .unwrap();
    crate::groups::set_join_policy(
        &f.store,
        &o.operator,
        &o.finance,
        JoinPolicy::OwnerApproval,
        T0,
    )
    .await
    .unwrap();
    crate::requests::join_group(&f.store, &as_max, &o.finance, T0)
        .await
        .unwrap();
    let request_ids: Vec<String> = sqlx::query_as::<_, (String,)>("SELECT id FROM access_requests")
        .fetch_all(&mut *f.store.read().await.unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let invited = crate::invitations::invite_guest(
        &f.store,
        &o.operator,
        crate::invitations::InviteInput {
            email: "ann@partner.example",
            display_name: "",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &[],
            access_days: None,
        },
        BASE,
        T0,
    )
    .await
    .unwrap();
    crate::apps::set_assignment(
        &f.store,
        &o.operator,
        &o.payroll,
        Assignee::User(&invited.user.id),
        true,
        T0,
    )
    .await
    .unwrap();
    crate::groups::set_link(
        &f.store,
        &o.operator,
        &o.finance,
        &invited.user.id,
        Link::Member,
        true,
        T0,
    )
    .await
    .unwrap();

    let events = audit_total(&f.store, &o.operator).await;
    let mails = mail_count(&f.store).await;
    for object in [app_object(&o.payroll), group_object(&o.finance)] {
        let r = crate::owners::manage(&f.store, &o.olive, object, T0).await;
        assert!(
            matches!(r, Err(Error::AccessDenied)),
            "manage {object:?}: {r:?}"
        );
        let r = crate::owners::add(
            &f.store,
            &o.olive,
            object,
            "max@contoso.example",
            "",
            BASE,
            T0,
        )
        .await;
        assert!(
            matches!(r, Err(Error::AccessDenied)),
            "add member {object:?}: {r:?}"
        );
        let r = crate::owners::add(
            &f.store,
            &o.olive,
            object,
            "new@partner.example",
            "",
            BASE,
            T0,
        )
        .await;
        assert!(
            matches!(r, Err(Error::AccessDenied)),
            "invite and add {object:?}: {r:?}"
        );
        let r = crate::owners::remove(
            &f.store,
            &o.olive,
            object,
            Grantee::User(&invited.user.id),
            T0,
        )
        .await;
        assert!(
            matches!(r, Err(Error::AccessDenied)),
            "remove {object:?}: {r:?}"
        );
        let r = crate::owners::resend(&f.store, &o.olive, object, &invited.invitation_id, BASE, T0)
            .await;
        assert!(
            matches!(r, Err(Error::AccessDenied)),
            "resend {object:?}: {r:?}"
        );
        let r = crate::owners::revoke(&f.store, &o.olive, object, &invited.invitation_id, T0).await;
        assert!(
            matches!(r, Err(Error::AccessDenied)),
            "revoke {object:?}: {r:?}"
        );
    }
    for id in &request_ids {
        for approve in [true, false] {
            let r = crate::requests::decide(&f.store, &o.olive, id, approve, T0).await;
            assert!(matches!(r, Err(Error::AccessDenied)), "decide: {r:?}");
        }
    }
    // Her own app, but someone else's invitation: not hers to send again or revoke.
    crate::apps::set_assignment(
        &f.store,
        &o.operator,
        &o.wiki,
        Assignee::User(&invited.user.id),
        true,
        T0,
    )
    .await
    .unwrap();
    let events = events + 1;
    let r = crate::owners::resend(
        &f.store,
        &o.olive,
        app_object(&o.wiki),
        &invited.invitation_id,
        BASE,
        T0,
    )
    .await;
    assert!(matches!(r, Err(Error::AccessDenied)), "{r:?}");
    let r = crate::owners::revoke(
        &f.store,
        &o.olive,
        app_object(&o.wiki),
        &invited.invitation_id,
        T0,
    )
    .await;
    assert!(matches!(r, Err(Error::AccessDenied)), "{r:?}");
    // Another organization's app is not found at all.
    let (elsewhere, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
    let theirs = app(&f.store, &elsewhere, "Theirs").await;
    let r = crate::owners::manage(&f.store, &o.olive, app_object(&theirs), T0).await;
    assert!(matches!(r, Err(Error::NotFound("app"))), "{r:?}");

    assert_eq!(
        audit_total(&f.store, &o.operator).await,
        events,
        "refusals write no event"
    );
    assert_eq!(mail_count(&f.store).await, mails, "refusals send no mail");
    assert!(
        crate::users::resolve(&f.store, &o.operator, "new@partner.example")
            .await
            .is_err(),
        "no guest was created"
    );
    let payroll = crate::apps::get(&f.store, &o.operator, &o.payroll)
        .await
        .unwrap();
    assert_eq!(
        payroll.assigned_users.len(),
        1,
        "Max was not added, Ann not removed"
    );
    let finance = crate::groups::get(&f.store, &o.operator, &o.finance)
        .await
        .unwrap();
    assert_eq!(finance.members.len(), 1);
    let pending = crate::invitations::list(&f.store, &o.operator, T0)
        .await
        .unwrap();
    assert_eq!(
        pending[0].status,
        InvitationStatus::PendingAcceptance,
        "not revoked"
    );
}

#[tokio::test]
async fn an_owner_adds_a_user_of_the_tenant_sees_them_and_removes_them() {
    let f = fixture().await;
    let o = owned(&f.store, vec![]).await;
    for object in [app_object(&o.wiki), group_object(&o.design)] {
        let added = crate::owners::add(
            &f.store,
            &o.olive,
            object,
            " MAX@contoso.example",
            "",
            BASE,
            T0,
        )
        .await
        .unwrap();
        assert!(!added.invited);
        assert_eq!(added.user.id, o.max);
        let again = crate::owners::add(
            &f.store,
            &o.olive,
            object,
            "max@contoso.example",
            "",
            BASE,
            T0,
        )
        .await;
        assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
        let managed = crate::owners::manage(&f.store, &o.olive, object, T0)
            .await
            .unwrap();
        assert_eq!(managed.users.len(), 1);
        assert_eq!(managed.users[0].state_label(), "Member");
        crate::owners::remove(&f.store, &o.olive, object, Grantee::User(&o.max), T0)
            .await
            .unwrap();
        let managed = crate::owners::manage(&f.store, &o.olive, object, T0)
            .await
            .unwrap();
        assert!(managed.users.is_empty());
        let gone =
            crate::owners::remove(&f.store, &o.olive, object, Grantee::User(&o.max), T0).await;
        assert!(matches!(gone, Err(Error::Conflict(_))), "{gone:?}");
    }
    let events = crate::audit::list(&f.store, &o.operator, &Default::default(), 0, 4)
        .await
        .unwrap();
    let actions: Vec<_> = events.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "Remove member from group",
            "Add member to group",
            "Remove app role assignment",
            "Add app role assignment"
        ]
    );
    assert!(events.items.iter().all(|e| e.actor_name == "Olive"));
}

/// What the issue asks: a member who owns an app, and is no administrator, invites a guest
/// and adds them in one step. Passes once who-may-invite (`allowInvitesFrom`, default
/// `adminsGuestInvitersAndAllMembers`) lets members invite; until then, inviting is for
/// global administrators only.
#[tokio::test]
async fn a_member_who_owns_an_app_invites_a_guest_and_adds_them_in_one_step() {
    let f = fixture().await;
    let o = owned(&f.store, vec![]).await;
    let added = crate::owners::add(
        &f.store,
        &o.olive,
        app_object(&o.wiki),
        "pat@partner.example",
        "",
        BASE,
        T0,
    )
    .await;
    assert!(matches!(&added, Ok(a) if a.invited), "{added:?}");
}

#[tokio::test]
async fn an_owner_invites_a_guest_adds_them_in_the_same_commit_and_resends_or_revokes_only_their_own()
 {
    let f = fixture().await;
    // A global administrator, so that inviting is allowed whatever the tenant's rule.
    let o = owned(&f.store, vec![Role::GlobalAdministrator]).await;
    let mails = mail_count(&f.store).await;
    let wiki = app_object(&o.wiki);
    let added = crate::owners::add(
        &f.store,
        &o.olive,
        wiki,
        "Pat@Partner.example",
        "Welcome",
        BASE,
        T0,
    )
    .await
    .unwrap();
    assert!(added.invited);
    assert_eq!(added.user.email, "pat@partner.example");
    assert_eq!(mail_count(&f.store).await, mails + 1, "one mail");
    let managed = crate::owners::manage(&f.store, &o.olive, wiki, T0)
        .await
        .unwrap();
    assert_eq!(managed.users.len(), 1);
    assert_eq!(
        managed.users[0].external_state,
        Some(ExternalState::PendingAcceptance)
    );
    assert_eq!(managed.users[0].state_label(), "Guest, pending acceptance");
    assert_eq!(managed.invitations.len(), 1);
    let first = managed.invitations[0].clone();
    assert_eq!(first.inviter_name, "Olive");
    let audit = crate::audit::list(&f.store, &o.operator, &Default::default(), 0, 2)
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "Add app role assignment");
    assert_eq!(audit.items[1].action, "Invite external user");
    assert!(
        audit
            .items
            .iter()
            .all(|e| e.actor_id.as_deref() == o.olive.user_id())
    );

    // Resend: a new link; the old invitation is withdrawn.
    let resent = crate::owners::resend(&f.store, &o.olive, wiki, &first.id, BASE, T0 + 10)
        .await
        .unwrap();
    assert!(resent.resent);
    assert_eq!(mail_count(&f.store).await, mails + 2);
    let managed = crate::owners::manage(&f.store, &o.olive, wiki, T0 + 10)
        .await
        .unwrap();
    assert_eq!(managed.invitations.len(), 1);
    assert_eq!(managed.invitations[0].id, resent.invitation_id);
    let stale = crate::owners::revoke(&f.store, &o.olive, wiki, &first.id, T0 + 10).await;
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");

    // A second owner of the Wiki may not touch Olive's invitation.
    let otto_id = member(&f.store, &o.operator, "otto@contoso.example").await;
    crate::apps::set_owner(&f.store, &o.operator, &o.wiki, &otto_id, true, T0)
        .await
        .unwrap();
    let otto = Principal::user(
        &o.operator.tenant_id,
        &otto_id,
        "Otto",
        vec![Role::GlobalAdministrator],
        false,
        None,
    );
    let theirs = crate::owners::revoke(&f.store, &otto, wiki, &resent.invitation_id, T0 + 20).await;
    assert!(matches!(theirs, Err(Error::AccessDenied)), "{theirs:?}");
    assert!(
        crate::owners::manage(&f.store, &otto, wiki, T0)
            .await
            .unwrap()
            .invitations
            .is_empty(),
        "an owner sees the invitations they made"
    );

    crate::owners::revoke(&f.store, &o.olive, wiki, &resent.invitation_id, T0 + 30)
        .await
        .unwrap();
    let managed = crate::owners::manage(&f.store, &o.olive, wiki, T0 + 30)
        .await
        .unwrap();
    assert!(managed.invitations.is_empty());
    assert_eq!(managed.users.len(), 1, "the guest stays until removed");
}

#[tokio::test]
async fn an_owner_who_may_not_invite_adds_no_one_new_and_nothing_is_left_behind() {
    let f = fixture().await;
    let o = owned(&f.store, vec![]).await;
    // A guest owns the Design group: guests may not invite (under any default).
    let guest = crate::invitations::invite_guest(
        &f.store,
        &o.operator,
        crate::invitations::InviteInput {
            email: "gus@partner.example",
            display_name: "Gus",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &[],
            access_days: None,
        },
        BASE,
        T0,
    )
    .await
    .unwrap()
    .user;
    crate::groups::set_link(
        &f.store,
        &o.operator,
        &o.design,
        &guest.id,
        Link::Owner,
        true,
        T0,
    )
    .await
    .unwrap();
    let as_gus = Principal::user(&o.operator.tenant_id, &guest.id, "Gus", vec![], true, None);
    let events = audit_total(&f.store, &o.operator).await;
    let mails = mail_count(&f.store).await;
    let refused = crate::owners::add(
        &f.store,
        &as_gus,
        group_object(&o.design),
        "new@partner.example",
        "",
        BASE,
        T0,
    )
    .await;
    assert!(
        matches!(&refused, Err(Error::Forbidden(why)) if why.contains("allowInvitesFrom")),
        "the refusal names the setting: {refused:?}"
    );
    assert_eq!(audit_total(&f.store, &o.operator).await, events);
    assert_eq!(mail_count(&f.store).await, mails);
    assert!(
        crate::users::resolve(&f.store, &o.operator, "new@partner.example")
            .await
            .is_err()
    );
    // Adding a user of the tenant needs no right to invite.
    crate::owners::add(
        &f.store,
        &as_gus,
        group_object(&o.design),
        "max@contoso.example",
        "",
        BASE,
        T0,
    )
    .await
    .unwrap();
    // What the guest owner sees of who else has access follows the guest access level.
    let sees = async |level: types::GuestAccess| {
        crate::collaboration::set_guest_access(&f.store, &o.operator, level.role_id(), T0)
            .await
            .unwrap();
        let managed = crate::owners::manage(&f.store, &as_gus, group_object(&o.design), T0)
            .await
            .unwrap();
        (managed.people_hidden, managed.users.len())
    };
    assert_eq!(sees(types::GuestAccess::Limited).await, (false, 1));
    assert_eq!(sees(types::GuestAccess::Restricted).await, (true, 0));
    assert_eq!(sees(types::GuestAccess::SameAsMembers).await, (false, 1));
}

#[tokio::test]
async fn join_requests_follow_the_group_setting_and_the_owner_decides() {
    let f = fixture().await;
    let o = owned(&f.store, vec![]).await;
    let as_max = Principal::user(&o.operator.tenant_id, &o.max, "Max", vec![], false, None);
    let closed = crate::requests::join_group(&f.store, &as_max, &o.design, T0).await;
    assert!(
        matches!(closed, Err(Error::Conflict(_))),
        "closed by default: {closed:?}"
    );
    assert!(
        crate::access::panel(&f.store, &as_max)
            .await
            .unwrap()
            .joinable
            .is_empty()
    );

    crate::groups::set_join_policy(&f.store, &o.operator, &o.design, JoinPolicy::Open, T0)
        .await
        .unwrap();
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert_eq!(panel.joinable.len(), 1);
    assert_eq!(
        crate::requests::join_group(&f.store, &as_max, &o.design, T0)
            .await
            .unwrap(),
        Joining::Joined
    );
    let again = crate::requests::join_group(&f.store, &as_max, &o.design, T0).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    crate::owners::remove(
        &f.store,
        &o.olive,
        group_object(&o.design),
        Grantee::User(&o.max),
        T0,
    )
    .await
    .unwrap();

    crate::groups::set_join_policy(
        &f.store,
        &o.operator,
        &o.design,
        JoinPolicy::OwnerApproval,
        T0,
    )
    .await
    .unwrap();
    assert_eq!(
        crate::requests::join_group(&f.store, &as_max, &o.design, T0)
            .await
            .unwrap(),
        Joining::Requested
    );
    let twice = crate::requests::join_group(&f.store, &as_max, &o.design, T0).await;
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert!(panel.joinable.is_empty(), "asked already");
    assert_eq!(panel.requests[0].state, RequestState::Pending);
    let managed = crate::owners::manage(&f.store, &o.olive, group_object(&o.design), T0)
        .await
        .unwrap();
    assert!(managed.users.is_empty(), "not in before an owner decides");
    let request = managed.requests[0].id.clone();
    let mails = mail_count(&f.store).await;
    crate::requests::decide(&f.store, &o.olive, &request, false, T0 + 5)
        .await
        .unwrap();
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert_eq!(panel.requests[0].state, RequestState::Denied);
    assert!(panel.groups.is_empty());
    let decided = crate::requests::decide(&f.store, &o.olive, &request, true, T0 + 6).await;
    assert!(
        matches!(decided, Err(Error::Conflict(_))),
        "decided once: {decided:?}"
    );
    let told = crate::outbox::list_for_operator(&f.store, 1).await.unwrap();
    assert_eq!(mail_count(&f.store).await, mails + 1);
    assert_eq!(told[0].recipient, "max@contoso.example");
    assert!(told[0].subject.contains("denied"), "{}", told[0].subject);

    crate::requests::join_group(&f.store, &as_max, &o.design, T0 + 7)
        .await
        .unwrap();
    let managed = crate::owners::manage(&f.store, &o.olive, group_object(&o.design), T0)
        .await
        .unwrap();
    crate::requests::decide(&f.store, &o.olive, &managed.requests[0].id, true, T0 + 8)
        .await
        .unwrap();
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert_eq!(panel.requests[0].state, RequestState::Approved);
    assert_eq!(panel.groups[0].name, "Design");
    let told = crate::outbox::list_for_operator(&f.store, 1).await.unwrap();
    assert!(told[0].subject.contains("approved"), "{}", told[0].subject);

    // Guests do not ask.
    let as_guest = Principal::user(&o.operator.tenant_id, &o.max, "Max", vec![], true, None);
    let guest = crate::requests::join_group(&f.store, &as_guest, &o.design, T0).await;
    assert!(matches!(guest, Err(Error::AccessDenied)), "{guest:?}");
}

#[tokio::test]
async fn requestable_apps_are_asked_for_from_the_panel_and_their_owners_approve() {
    let f = fixture().await;
    let o = owned(&f.store, vec![]).await;
    let as_max = Principal::user(&o.operator.tenant_id, &o.max, "Max", vec![], false, None);
    let not_yet = crate::requests::request_app(&f.store, &as_max, &o.wiki, T0).await;
    assert!(matches!(not_yet, Err(Error::Conflict(_))), "{not_yet:?}");
    assert!(
        crate::access::panel(&f.store, &as_max)
            .await
            .unwrap()
            .requestable
            .is_empty()
    );

    crate::apps::set_requestable(&f.store, &o.operator, &o.wiki, true, T0)
        .await
        .unwrap();
    assert!(
        crate::apps::get(&f.store, &o.operator, &o.wiki)
            .await
            .unwrap()
            .requestable
    );
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert_eq!(panel.requestable[0].name, "Wiki");
    crate::requests::request_app(&f.store, &as_max, &o.wiki, T0)
        .await
        .unwrap();
    let managed = crate::owners::manage(&f.store, &o.olive, app_object(&o.wiki), T0)
        .await
        .unwrap();
    assert_eq!(managed.requests.len(), 1);
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert_eq!(panel.owned.len(), 0, "Max owns nothing");
    let olive_panel = crate::access::panel(&f.store, &o.olive).await.unwrap();
    let owned: Vec<_> = olive_panel
        .owned
        .iter()
        .map(|o| (o.name.as_str(), o.pending_requests))
        .collect();
    assert_eq!(owned, [("Wiki", 1), ("Design", 0)]);

    crate::requests::decide(&f.store, &o.olive, &managed.requests[0].id, true, T0 + 1)
        .await
        .unwrap();
    let panel = crate::access::panel(&f.store, &as_max).await.unwrap();
    assert_eq!(panel.apps[0].name, "Wiki", "the tile shows");
    assert!(panel.requestable.is_empty());
    let again = crate::requests::request_app(&f.store, &as_max, &o.wiki, T0 + 2).await;
    assert!(
        matches!(again, Err(Error::Conflict(_))),
        "can open it already: {again:?}"
    );
}
