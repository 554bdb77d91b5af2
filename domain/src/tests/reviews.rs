//! Access reviews of guests: the scope snapshotted at the start, only each guest's
//! reviewers decide, Portico's recommendation, and the decisions applied at the end by
//! Portico or by an administrator.

use types::reviews::{Decision, DenyAction, NotReviewedAction, ReviewScope, ReviewerKind};
use types::{ActorKind, Role};

use super::{T0, audit_events, fixture, member, tenant_with_admin};
use crate::apps::{AppInput, Assignee};
use crate::groups::Link;
use crate::invitations::InviteInput;
use crate::reviews::{NewReview, recommend};
use crate::{Error, Principal, Store};

const DAY: i64 = 86_400;

struct Contoso {
    operator: Principal,
    /// A user administrator, a member.
    ada: Principal,
    /// Sam, a member who invites (so sponsors) Pat and Quinn.
    sam: Principal,
    pat: String,
    quinn: String,
    /// Fred, a member who owns the group and the app.
    fred: Principal,
}

fn person(operator: &Principal, id: &str, name: &str, roles: Vec<Role>) -> Principal {
    Principal::user(&operator.tenant_id, id, name, roles, false, None)
}

async fn invite(store: &Store, sam: &Principal, email: &str) -> String {
    crate::invitations::invite_guest(
        store,
        sam,
        InviteInput {
            email,
            display_name: "",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &[],
            access_days: None,
        },
        "https://portico.example",
        T0,
    )
    .await
    .unwrap()
    .user
    .id
}

async fn contoso(store: &Store) -> Contoso {
    let (operator, _) = tenant_with_admin(store, "contoso.example").await;
    let ada = member(store, &operator, "ada@contoso.example").await;
    crate::users::set_role(store, &operator, &ada, Role::UserAdministrator, true, T0)
        .await
        .unwrap();
    let sam = member(store, &operator, "sam@contoso.example").await;
    let fred = member(store, &operator, "fred@contoso.example").await;
    let sam = person(&operator, &sam, "Sam", vec![]);
    let pat = invite(store, &sam, "pat@partner.example").await;
    let quinn = invite(store, &sam, "quinn@partner.example").await;
    Contoso {
        ada: person(&operator, &ada, "Ada", vec![Role::UserAdministrator]),
        fred: person(&operator, &fred, "Fred", vec![]),
        operator,
        sam,
        pat,
        quinn,
    }
}

fn review<'a>(scope: ReviewScope, scope_id: &'a str, reviewers: ReviewerKind) -> NewReview<'a> {
    NewReview {
        name: "Partners Q1",
        scope,
        scope_id,
        inactive_days: None,
        reviewers,
        named: &[],
        duration_days: 14,
        deny_action: DenyAction::RemoveAccess,
        not_reviewed: NotReviewedAction::Keep,
        auto_apply: true,
    }
}

async fn group_of(store: &Store, c: &Contoso, members: &[&str]) -> String {
    let group = crate::groups::create(store, &c.operator, "Partners", "", T0)
        .await
        .unwrap()
        .id;
    let fred = c.fred.user_id().unwrap();
    crate::groups::set_link(store, &c.operator, &group, fred, Link::Owner, true, T0)
        .await
        .unwrap();
    for user in members {
        crate::groups::set_link(store, &c.operator, &group, user, Link::Member, true, T0)
            .await
            .unwrap();
    }
    group
}

async fn app_for(store: &Store, c: &Contoso, users: &[&str]) -> String {
    let app = crate::apps::create(
        store,
        &c.operator,
        AppInput {
            name: "Wiki",
            description: "",
            launch_url: "https://wiki.contoso.example/",
            logo_url: "",
            assignment_required: true,
        },
        T0,
    )
    .await
    .unwrap()
    .id;
    let fred = c.fred.user_id().unwrap();
    crate::apps::set_owner(store, &c.operator, &app, fred, true, T0)
        .await
        .unwrap();
    for user in users {
        crate::apps::set_assignment(store, &c.operator, &app, Assignee::User(user), true, T0)
            .await
            .unwrap();
    }
    app
}

async fn may_open(store: &Store, c: &Contoso, app: &str, user: &str) -> bool {
    crate::store::owners::may_open(
        &mut store.read().await.unwrap(),
        &c.operator.tenant_id,
        app,
        user,
    )
    .await
    .unwrap()
}

async fn members_of(store: &Store, c: &Contoso, group: &str) -> Vec<String> {
    crate::groups::get(store, &c.operator, group)
        .await
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.email)
        .collect()
}

async fn audited(store: &Store, c: &Contoso, action: &str) -> Vec<(ActorKind, String)> {
    audit_events(store, &c.operator, action)
        .await
        .into_iter()
        .map(|e| (e.actor_kind, e.detail))
        .collect()
}

#[test]
fn portico_recommends_denying_guests_without_a_sign_in_for_30_days() {
    let now = T0 + 100 * DAY;
    let (decision, why) = recommend(Some(now - 29 * DAY), T0, now);
    assert_eq!(decision, Decision::Approve);
    assert_eq!(why, "Signed in 29 days ago.");
    let (decision, why) = recommend(Some(now - 30 * DAY), T0, now);
    assert_eq!(decision, Decision::Deny);
    assert!(why.contains("No sign-in for 30 days"), "{why}");
    assert_eq!(recommend(None, now - 5 * DAY, now).0, Decision::Approve);
    let (decision, why) = recommend(None, T0, now);
    assert_eq!(decision, Decision::Deny);
    assert!(why.contains("Never signed in"), "{why}");
}

#[tokio::test]
async fn a_review_snapshots_the_guests_in_scope_when_it_starts() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    let sam = c.sam.user_id().unwrap().to_string();
    let group = group_of(&f.store, &c, &[&c.pat, &sam]).await;

    let started = crate::reviews::start(
        &f.store,
        &c.ada,
        review(ReviewScope::GroupGuests, &group, ReviewerKind::Owners),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(started.guests, 1, "only the guest among the members");
    assert_eq!(started.scope_name, "Partners");
    assert_eq!(started.ends_at, T0 + 14 * DAY);
    // Quinn joins later: not in the review.
    crate::groups::set_link(
        &f.store,
        &c.operator,
        &group,
        &c.quinn,
        Link::Member,
        true,
        T0,
    )
    .await
    .unwrap();
    let results = crate::reviews::results(&f.store, &c.ada, &started.id, T0 + 1)
        .await
        .unwrap();
    let guests: Vec<_> = results
        .rows
        .iter()
        .map(|r| r.guest_email.as_str())
        .collect();
    assert_eq!(guests, ["pat@partner.example"]);
    assert_eq!(results.rows[0].reviewers, "fred@contoso.example");
    assert_eq!(results.rows[0].decision, Decision::NotReviewed);
    // Fred is told by mail, and sees the review in his panel.
    let mine = crate::reviews::mine(&f.store, &c.fred, T0 + 1)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].undecided, 1);
    let mail = crate::outbox::list(&f.store, &c.operator).await.unwrap();
    assert!(
        mail.iter()
            .any(|m| m.recipient == "fred@contoso.example" && m.subject.contains("Partners Q1")),
        "{mail:?}"
    );
    assert_eq!(audited(&f.store, &c, "Start access review").await.len(), 1);

    // All guests: both, each reviewed by their sponsor.
    let all = crate::reviews::start(
        &f.store,
        &c.ada,
        NewReview {
            deny_action: DenyAction::DisableThenDelete,
            ..review(ReviewScope::AllGuests, "", ReviewerKind::Sponsors)
        },
        T0,
    )
    .await
    .unwrap();
    let rows = crate::reviews::results(&f.store, &c.ada, &all.id, T0)
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r.reviewers == "sam@contoso.example"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn bad_reviews_are_refused_and_change_nothing() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    let app = app_for(&f.store, &c, &[&c.pat]).await;
    // Removing access from all guests means nothing; owners need a group or app.
    let refused = crate::reviews::start(
        &f.store,
        &c.ada,
        review(ReviewScope::AllGuests, "", ReviewerKind::Owners),
        T0,
    )
    .await;
    let Err(Error::Invalid(fields)) = refused else {
        panic!("{refused:?}")
    };
    let fields: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["deny_action", "reviewers"]);
    // A user administrator does not review apps' guests; members start no review at all.
    let refused = crate::reviews::start(
        &f.store,
        &c.ada,
        review(ReviewScope::AppGuests, &app, ReviewerKind::Owners),
        T0,
    )
    .await;
    assert!(matches!(refused, Err(Error::AccessDenied)), "{refused:?}");
    let refused = crate::reviews::start(
        &f.store,
        &c.sam,
        NewReview {
            deny_action: DenyAction::DisableThenDelete,
            ..review(ReviewScope::AllGuests, "", ReviewerKind::Sponsors)
        },
        T0,
    )
    .await;
    assert!(matches!(refused, Err(Error::AccessDenied)), "{refused:?}");
    // Nobody inactive for 30 days at T0: nothing to review.
    let refused = crate::reviews::start(
        &f.store,
        &c.ada,
        NewReview {
            inactive_days: Some(30),
            deny_action: DenyAction::DisableThenDelete,
            ..review(ReviewScope::InactiveGuests, "", ReviewerKind::Sponsors)
        },
        T0,
    )
    .await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    assert!(
        crate::reviews::list(&f.store, &c.ada)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        audited(&f.store, &c, "Start access review")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn only_a_guests_reviewers_decide_and_only_until_the_review_ends() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    let started = crate::reviews::start(
        &f.store,
        &c.ada,
        NewReview {
            deny_action: DenyAction::DisableThenDelete,
            ..review(ReviewScope::AllGuests, "", ReviewerKind::Sponsors)
        },
        T0,
    )
    .await
    .unwrap();
    let id = started.id.as_str();
    let decide = |actor: &Principal, decision, reason: &'static str, now| {
        let (store, actor) = (f.store.clone(), actor.clone());
        let guest = c.pat.clone();
        async move { crate::reviews::decide(&store, &actor, id, &guest, decision, reason, now).await }
    };
    // Fred is no reviewer of Pat; the administrator is no reviewer either.
    for outsider in [&c.fred, &c.ada] {
        let refused = decide(outsider, Decision::Approve, "", T0 + 1).await;
        assert!(matches!(refused, Err(Error::AccessDenied)), "{refused:?}");
        assert!(matches!(
            crate::reviews::queue(&f.store, outsider, id, T0 + 1).await,
            Err(Error::AccessDenied)
        ));
    }
    // A denial says why.
    let refused = decide(&c.sam, Decision::Deny, "  ", T0 + 1).await;
    assert!(
        matches!(&refused, Err(Error::Invalid(fields)) if fields[0].field == "reason"),
        "{refused:?}"
    );
    decide(&c.sam, Decision::Deny, "Project over", T0 + 2)
        .await
        .unwrap();
    // Sam changes his mind.
    decide(&c.sam, Decision::Approve, "", T0 + 3).await.unwrap();
    let queue = crate::reviews::queue(&f.store, &c.sam, id, T0 + 4)
        .await
        .unwrap();
    assert!(queue.open);
    let pat = queue
        .items
        .iter()
        .find(|i| i.email == "pat@partner.example")
        .unwrap();
    assert_eq!(pat.decision, Decision::Approve);
    assert_eq!(pat.decided_by.as_deref(), Some("Sam"));
    // Pat never signed in and was invited at T0: approve, for now.
    assert_eq!(pat.recommendation, Decision::Approve);
    let later = crate::reviews::queue(&f.store, &c.sam, id, T0 + 31 * DAY)
        .await
        .unwrap();
    assert!(!later.open);
    assert_eq!(later.items[0].recommendation, Decision::Deny);

    // After the end, nothing changes.
    let refused = decide(&c.sam, Decision::Deny, "late", T0 + 14 * DAY).await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    let decisions = audited(&f.store, &c, "Review guest access").await;
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert!(decisions.iter().all(|(kind, _)| *kind == ActorKind::User));
    assert!(
        decisions
            .iter()
            .any(|(_, d)| d.contains("Deny") && d.contains("Project over"))
    );
}

#[tokio::test]
async fn at_the_end_portico_applies_denials_and_not_reviewed_and_the_guests_lose_the_group() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    let rae = invite(&f.store, &c.sam, "rae@partner.example").await;
    let group = group_of(&f.store, &c, &[&c.pat, &c.quinn, &rae]).await;
    let started = crate::reviews::start(
        &f.store,
        &c.ada,
        NewReview {
            not_reviewed: NotReviewedAction::Deny,
            ..review(ReviewScope::GroupGuests, &group, ReviewerKind::Owners)
        },
        T0,
    )
    .await
    .unwrap();
    for (guest, decision, reason) in [
        (&c.pat, Decision::Deny, "Left the project"),
        (&rae, Decision::Approve, ""),
    ] {
        crate::reviews::decide(
            &f.store,
            &c.fred,
            &started.id,
            guest,
            decision,
            reason,
            T0 + 5,
        )
        .await
        .unwrap();
    }
    // Quinn: nobody decides.

    // Before the end, the sweeper leaves it running.
    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 14 * DAY - 1)
        .await
        .unwrap();
    assert_eq!(members_of(&f.store, &c, &group).await.len(), 3);

    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 14 * DAY)
        .await
        .unwrap();
    assert_eq!(
        members_of(&f.store, &c, &group).await,
        ["rae@partner.example"]
    );
    let results = crate::reviews::results(&f.store, &c.ada, &started.id, T0 + 14 * DAY)
        .await
        .unwrap();
    assert_eq!(results.review.applied_at, Some(T0 + 14 * DAY));
    assert!(!results.may_apply && !results.may_stop);
    let outcomes: Vec<_> = results
        .rows
        .iter()
        .map(|r| (r.guest_email.as_str(), r.outcome.as_deref().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("pat@partner.example", "Removed from Partners"),
            ("quinn@partner.example", "Removed from Partners"),
            ("rae@partner.example", "Kept"),
        ]
    );
    let removed = audited(&f.store, &c, "Remove member from group").await;
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(removed.iter().all(|(kind, _)| *kind == ActorKind::Portico));
    assert!(removed.iter().any(|(_, d)| d.contains("not reviewed")));
    let applied = audited(&f.store, &c, "Apply access review").await;
    assert_eq!(
        applied,
        [(
            ActorKind::Portico,
            "2 guests lost access; 1 kept it".to_string()
        )]
    );
    // Applied once: a later sweep changes nothing, and an administrator cannot apply again.
    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 15 * DAY)
        .await
        .unwrap();
    assert_eq!(audited(&f.store, &c, "Apply access review").await.len(), 1);
    let again = crate::reviews::apply(&f.store, &c.ada, &started.id, T0 + 15 * DAY).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn an_administrator_applies_a_review_by_hand_and_a_denied_guest_loses_the_app() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    let app = app_for(&f.store, &c, &[&c.pat, &c.quinn]).await;
    let admin = person(&c.operator, "x", "Gail", vec![Role::GlobalAdministrator]);
    let started = crate::reviews::start(
        &f.store,
        &c.operator,
        NewReview {
            auto_apply: false,
            not_reviewed: NotReviewedAction::Recommendation,
            ..review(ReviewScope::AppGuests, &app, ReviewerKind::Owners)
        },
        T0,
    )
    .await
    .unwrap();
    crate::reviews::decide(
        &f.store,
        &c.fred,
        &started.id,
        &c.pat,
        Decision::Deny,
        "No longer a partner",
        T0 + DAY,
    )
    .await
    .unwrap();
    // Quinn: "don't know", which counts as not reviewed; the recommendation at the end
    // (no sign-in since invited 40 days before) denies.
    crate::reviews::decide(
        &f.store,
        &c.fred,
        &started.id,
        &c.quinn,
        Decision::DontKnow,
        "",
        T0 + DAY,
    )
    .await
    .unwrap();

    // Not before the end; and the sweeper leaves a review applied by hand alone.
    let early = crate::reviews::apply(&f.store, &admin, &started.id, T0 + DAY).await;
    assert!(matches!(early, Err(Error::Conflict(_))), "{early:?}");
    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 40 * DAY)
        .await
        .unwrap();
    assert!(may_open(&f.store, &c, &app, &c.pat).await);
    let results = crate::reviews::results(&f.store, &admin, &started.id, T0 + 40 * DAY)
        .await
        .unwrap();
    assert!(results.may_apply);
    // A user administrator does not apply a review of an app.
    let refused = crate::reviews::apply(&f.store, &c.ada, &started.id, T0 + 40 * DAY).await;
    assert!(matches!(refused, Err(Error::AccessDenied)), "{refused:?}");

    let denied = crate::reviews::apply(&f.store, &admin, &started.id, T0 + 40 * DAY)
        .await
        .unwrap();
    assert_eq!(denied, 2);
    assert!(!may_open(&f.store, &c, &app, &c.pat).await);
    assert!(!may_open(&f.store, &c, &app, &c.quinn).await);
    let removed = audited(&f.store, &c, "Remove app role assignment").await;
    assert_eq!(removed.len(), 2);
    assert!(removed.iter().all(|(kind, _)| *kind == ActorKind::User));
    let csv = types::reviews::results_csv(
        &crate::reviews::results(&f.store, &admin, &started.id, T0 + 40 * DAY)
            .await
            .unwrap(),
    );
    assert!(
        csv.starts_with("guest,email,reviewers,decision,reason"),
        "{csv}"
    );
    assert!(
        csv.contains("pat@partner.example,fred@contoso.example,Deny,No longer a partner,Fred,"),
        "{csv}"
    );
    assert!(csv.contains("Removed from Wiki"), "{csv}");
}

#[tokio::test]
async fn a_review_of_inactive_guests_blocks_the_sign_in_of_those_denied() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    let now = T0 + 100 * DAY;
    let started = crate::reviews::start(
        &f.store,
        &c.ada,
        NewReview {
            inactive_days: Some(90),
            deny_action: DenyAction::DisableThenDelete,
            duration_days: 7,
            ..review(ReviewScope::InactiveGuests, "", ReviewerKind::Sponsors)
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(started.guests, 2);
    assert_eq!(started.scope_name, "No sign-in for 90 days");
    crate::reviews::decide(
        &f.store,
        &c.sam,
        &started.id,
        &c.pat,
        Decision::Deny,
        "Gone",
        now,
    )
    .await
    .unwrap();
    // Stopped early, then applied by the sweeper.
    crate::reviews::stop(&f.store, &c.ada, &started.id, now + DAY)
        .await
        .unwrap();
    crate::sweeper::lifecycle(&f.store, "https://portico.example", now + DAY)
        .await
        .unwrap();
    let pat = crate::users::get(&f.store, &c.ada, &c.pat).await.unwrap();
    assert!(!pat.user.enabled);
    let quinn = crate::users::get(&f.store, &c.ada, &c.quinn).await.unwrap();
    assert!(
        quinn.user.enabled,
        "not reviewed, and the review keeps them"
    );
    // The shared core ended Pat's access: deleted after the grace period.
    let ended = audited(&f.store, &c, "End guest access").await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, ActorKind::Portico);
    assert!(
        ended[0].1.starts_with("denied in the access review"),
        "{ended:?}"
    );
    let state = crate::guest_access::of_guest(&f.store, &c.ada, &c.pat)
        .await
        .unwrap();
    assert_eq!(state.delete_after, Some(now + DAY + 30 * DAY));
    let rows = crate::reviews::results(&f.store, &c.ada, &started.id, now + DAY)
        .await
        .unwrap()
        .rows;
    assert!(
        rows[0]
            .outcome
            .as_deref()
            .unwrap()
            .starts_with("Sign-in blocked; deleted after"),
        "{rows:?}"
    );
    // After the grace period the guest is gone; the results keep their name.
    crate::guest_access::sweep(&f.store, "https://portico.example", now + 32 * DAY)
        .await
        .unwrap();
    assert!(matches!(
        crate::users::get(&f.store, &c.ada, &c.pat).await,
        Err(Error::NotFound(_))
    ));
    let rows = crate::reviews::results(&f.store, &c.ada, &started.id, now + 32 * DAY)
        .await
        .unwrap()
        .rows;
    assert_eq!(rows[0].guest_email, "pat@partner.example");
}

#[tokio::test]
async fn reviewers_with_guests_undecided_are_reminded_once_three_days_before_the_end() {
    let f = fixture().await;
    let c = contoso(&f.store).await;
    // Fred invites (so sponsors) Rae; Sam sponsors Pat.
    let rae = invite(&f.store, &c.fred, "rae@partner.example").await;
    let group = group_of(&f.store, &c, &[&c.pat, &rae]).await;
    let started = crate::reviews::start(
        &f.store,
        &c.ada,
        review(ReviewScope::GroupGuests, &group, ReviewerKind::Sponsors),
        T0,
    )
    .await
    .unwrap();
    let mail_with = |prefix: &'static str| {
        let store = f.store.clone();
        let operator = c.operator.clone();
        async move {
            let mut to: Vec<String> = crate::outbox::list(&store, &operator)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.subject.starts_with(prefix))
                .map(|m| m.recipient)
                .collect();
            to.sort();
            to
        }
    };
    assert_eq!(
        mail_with("Please review").await,
        ["fred@contoso.example", "sam@contoso.example"]
    );
    crate::reviews::decide(
        &f.store,
        &c.sam,
        &started.id,
        &c.pat,
        Decision::Approve,
        "",
        T0 + DAY,
    )
    .await
    .unwrap();
    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 11 * DAY - 1)
        .await
        .unwrap();
    assert!(mail_with("Reminder:").await.is_empty());
    // Three days before the end: Fred, whose guest waits; not Sam, who decided.
    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 11 * DAY)
        .await
        .unwrap();
    assert_eq!(mail_with("Reminder:").await, ["fred@contoso.example"]);
    crate::sweeper::lifecycle(&f.store, "https://portico.example", T0 + 12 * DAY)
        .await
        .unwrap();
    assert_eq!(mail_with("Reminder:").await.len(), 1, "once");
}
