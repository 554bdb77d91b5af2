//! Guest access that ends unless renewed: notices before the end, renewal, disabling at the
//! end, deletion after the grace period, restoring within it, and who may do which; the
//! clock is the `now` each call is given.

use types::{ExternalState, Role};

use super::{T0, audit_events, fixture, member, tenant_with_admin};
use crate::apps::AppInput;
use crate::guest_access::{self, PERIOD_ENDED};
use crate::invitations::InviteInput;
use crate::redemption;
use crate::sessions::{Client, SessionPolicy};
use crate::store::oidc::{Token, TokenKind};
use crate::{Error, Principal, Store};

const DAY: i64 = 86_400;
const BASE: &str = "https://portico.example";

/// Contoso (180 days of access, notice 14 days before, deletion 30 days after), its
/// operator and Olive, a member who invites.
async fn contoso(store: &Store) -> (Principal, Principal) {
    let (operator, _) = tenant_with_admin(store, "contoso.example").await;
    guest_access::set_settings(store, &operator, "180", "14", "30", T0)
        .await
        .unwrap();
    let olive = member(store, &operator, "olive@contoso.example").await;
    let olive = Principal::user(&operator.tenant_id, &olive, "Olive", vec![], false, None);
    (operator, olive)
}

/// The newest mail's eight-digit code.
async fn newest_code(store: &Store) -> String {
    let mail = crate::outbox::list_for_operator(store, 1).await.unwrap();
    mail[0]
        .text_body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .unwrap()
        .to_string()
}

/// Invites `email` as `inviter` (with `period` typed, or the tenant's) and accepts at `at`;
/// the guest's id and their session's token.
async fn accepted_guest(
    store: &Store,
    inviter: &Principal,
    email: &str,
    period: Option<&str>,
    at: i64,
) -> (String, String) {
    let done = crate::invitations::invite_guest(
        store,
        inviter,
        InviteInput {
            email,
            display_name: "",
            message: "",
            redirect_url: "",
            send_email: false,
            sponsors: &[],
            access_days: period,
        },
        BASE,
        at,
    )
    .await
    .unwrap();
    let ticket = done.redeem_url.split("ticket=").nth(1).unwrap();
    let started = redemption::start(store, ticket, at).await.unwrap();
    let code = newest_code(store).await;
    redemption::verify_code(store, &started.token, &code, at)
        .await
        .unwrap();
    let accepted = redemption::accept(
        store,
        &SessionPolicy::default(),
        &started.token,
        &Client::default(),
        None,
        at,
    )
    .await
    .unwrap();
    (done.user.id, accepted.session.token)
}

async fn sessions_of(store: &Store, user_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *store.read().await.unwrap())
        .await
        .unwrap()
}

async fn access(store: &Store, operator: &Principal, guest: &str) -> types::GuestAccessState {
    guest_access::of_guest(store, operator, guest)
        .await
        .unwrap()
}

async fn audited(store: &Store, operator: &Principal, action: &str) -> Vec<(String, String)> {
    audit_events(store, operator, action)
        .await
        .into_iter()
        .map(|e| (e.actor_name, e.detail))
        .collect()
}

/// Mail to `to` whose subject contains `about`.
async fn mails_to(store: &Store, to: &str, about: &str) -> usize {
    crate::outbox::list_for_operator(store, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to && m.subject.contains(about))
        .count()
}

#[tokio::test]
async fn accepting_starts_the_invitations_period_and_existing_guests_never_end() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0 + 100).await;
    assert_eq!(
        access(&f.store, &operator, &pat).await.ends_at,
        Some(T0 + 100 + 180 * DAY),
        "the tenant's period, from acceptance"
    );
    let (quinn, _) = accepted_guest(
        &f.store,
        &olive,
        "quinn@partner.example",
        Some("30"),
        T0 + 200,
    )
    .await;
    assert_eq!(
        access(&f.store, &operator, &quinn).await.ends_at,
        Some(T0 + 200 + 30 * DAY),
        "the invitation's own period"
    );
    // A member may shorten the period, not stretch it: that takes a user administrator.
    for longer in ["365", "never"] {
        let refused = crate::invitations::invite_guest(
            &f.store,
            &olive,
            InviteInput {
                email: "rae@partner.example",
                display_name: "",
                message: "",
                redirect_url: "",
                send_email: false,
                sponsors: &[],
                access_days: Some(longer),
            },
            BASE,
            T0,
        )
        .await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    }
    let (rae, _) = accepted_guest(
        &f.store,
        &operator,
        "rae@partner.example",
        Some("never"),
        T0 + 300,
    )
    .await;
    assert_eq!(access(&f.store, &operator, &rae).await.ends_at, None);
    // Nothing is due for a guest whose access never ends, however late.
    let swept = guest_access::sweep(&f.store, BASE, T0 + 10_000 * DAY)
        .await
        .unwrap();
    assert_eq!((swept.ended, swept.deleted), (2, 0));
    assert!(access(&f.store, &operator, &rae).await.ended_at.is_none());
}

#[tokio::test]
async fn sponsors_and_the_guest_are_told_once_notice_days_before_the_end() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;

    // A day before the notice is due: nothing.
    let early = guest_access::sweep(&f.store, BASE, end - 15 * DAY)
        .await
        .unwrap();
    assert_eq!(early.noticed, 0);
    assert_eq!(
        mails_to(&f.store, "olive@contoso.example", "ends on").await,
        0
    );

    // Fourteen days before: one mail to the sponsor with the page's link, one to the guest.
    let due = guest_access::sweep(&f.store, BASE, end - 14 * DAY)
        .await
        .unwrap();
    assert_eq!(due.noticed, 1);
    let mail = crate::outbox::list_for_operator(&f.store, 10)
        .await
        .unwrap();
    let to_olive = mail
        .iter()
        .find(|m| m.recipient == "olive@contoso.example")
        .expect("the sponsor's notice");
    assert!(
        to_olive
            .text_body
            .contains(&format!("{BASE}/sponsor/{pat}")),
        "{}",
        to_olive.text_body
    );
    assert_eq!(
        mails_to(&f.store, "pat@partner.example", "ends on").await,
        1
    );

    // Sweeping again, later, sends nothing more for the same end.
    for at in [end - 14 * DAY + 60, end - DAY] {
        let again = guest_access::sweep(&f.store, BASE, at).await.unwrap();
        assert_eq!(again.noticed, 0);
    }
    assert_eq!(
        mails_to(&f.store, "olive@contoso.example", "ends on").await,
        1
    );
    assert_eq!(
        audited(&f.store, &operator, "Send guest access notice")
            .await
            .len(),
        1
    );
    assert_eq!(
        audited(&f.store, &operator, "Send guest access notice").await[0].0,
        "Portico"
    );

    // Renewed, the new end gets a notice of its own in its time.
    guest_access::renew(&f.store, &olive, &pat, end - DAY)
        .await
        .unwrap();
    let next = guest_access::sweep(&f.store, BASE, end + 180 * DAY - 14 * DAY)
        .await
        .unwrap();
    assert_eq!(next.noticed, 1);
    assert_eq!(
        mails_to(&f.store, "olive@contoso.example", "ends on").await,
        2
    );
}

#[tokio::test]
async fn a_renewal_before_the_end_extends_it_by_the_period() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;
    let renewed = guest_access::renew(&f.store, &olive, &pat, end - 10 * DAY)
        .await
        .unwrap();
    assert_eq!(renewed.ends_at, Some(end + 180 * DAY));
    // The old end passes: nothing ends.
    let swept = guest_access::sweep(&f.store, BASE, end + DAY)
        .await
        .unwrap();
    assert_eq!(swept.ended, 0);
    let user = crate::users::get(&f.store, &operator, &pat).await.unwrap();
    assert!(user.user.enabled);
    let renewals = audited(&f.store, &operator, "Renew guest access").await;
    assert_eq!(renewals.len(), 1);
    assert_eq!(renewals[0].0, "Olive");
}

#[tokio::test]
async fn at_the_end_the_guest_is_disabled_and_their_sessions_and_tokens_end() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let app = crate::apps::create(
        &f.store,
        &operator,
        AppInput {
            name: "Wiki",
            description: "",
            launch_url: "https://wiki.example",
            logo_url: "",
            assignment_required: false,
        },
        T0,
    )
    .await
    .unwrap();
    let end = T0 + 180 * DAY;
    let refresh = Token {
        kind: TokenKind::Refresh,
        app_id: app.id.clone(),
        user_id: Some(pat.clone()),
        family: "family".into(),
        scope: "openid".into(),
        nonce: None,
        auth_time: Some(T0),
        amr: None,
        idp: None,
        expires_at: end + 365 * DAY,
        used_at: None,
        revoked_at: None,
    };
    {
        let mut tx = f.store.begin().await.unwrap();
        crate::store::oidc::insert_token(&mut tx, "refresh-hash", &refresh, end - DAY)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    // Pat's session is still there a moment before the end (whether it timed out is the
    // session policy's business; ending access removes it either way).
    assert_eq!(sessions_of(&f.store, &pat).await, 1);

    let swept = guest_access::sweep(&f.store, BASE, end).await.unwrap();
    assert_eq!(swept.ended, 1);
    let state = access(&f.store, &operator, &pat).await;
    assert_eq!(state.ended_at, Some(end));
    assert_eq!(state.end_reason.as_deref(), Some(PERIOD_ENDED));
    assert_eq!(state.delete_after, Some(end + 30 * DAY));
    let user = crate::users::get(&f.store, &operator, &pat).await.unwrap();
    assert!(!user.user.enabled);
    assert_eq!(sessions_of(&f.store, &pat).await, 0);
    let token = crate::store::oidc::token(&mut f.store.read().await.unwrap(), "refresh-hash")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.revoked_at, Some(end));
    let ended = audited(&f.store, &operator, "End guest access").await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].0, "Portico");
    assert!(
        ended[0].1.contains("1 sessions ended, 1 tokens revoked"),
        "{ended:?}"
    );
    // Ending again changes nothing and writes nothing.
    assert_eq!(
        guest_access::sweep(&f.store, BASE, end + DAY)
            .await
            .unwrap()
            .ended,
        0
    );
    assert_eq!(
        audited(&f.store, &operator, "End guest access").await.len(),
        1
    );
}

#[tokio::test]
async fn after_the_grace_period_the_guest_is_deleted_and_cannot_be_restored() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;
    guest_access::sweep(&f.store, BASE, end).await.unwrap();
    // A day short of the grace period: still there.
    let early = guest_access::sweep(&f.store, BASE, end + 29 * DAY)
        .await
        .unwrap();
    assert_eq!(early.deleted, 0);
    assert!(crate::users::get(&f.store, &operator, &pat).await.is_ok());
    let swept = guest_access::sweep(&f.store, BASE, end + 30 * DAY)
        .await
        .unwrap();
    assert_eq!(swept.deleted, 1);
    assert!(matches!(
        crate::users::get(&f.store, &operator, &pat).await,
        Err(Error::NotFound(_))
    ));
    let deleted = audited(&f.store, &operator, "Delete user").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].0, "Portico");
    assert!(deleted[0].1.contains(PERIOD_ENDED), "{deleted:?}");
    assert!(matches!(
        guest_access::restore(&f.store, &operator, &pat, end + 31 * DAY).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_sponsor_restores_within_the_grace_period_with_a_new_period_from_now() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;
    guest_access::sweep(&f.store, BASE, end).await.unwrap();
    // Renewing is for access that has not ended.
    assert!(matches!(
        guest_access::renew(&f.store, &olive, &pat, end + DAY).await,
        Err(Error::Conflict(_))
    ));
    let restored = guest_access::restore(&f.store, &olive, &pat, end + 10 * DAY)
        .await
        .unwrap();
    assert_eq!(restored.ends_at, Some(end + 10 * DAY + 180 * DAY));
    assert_eq!(restored.delete_after, None);
    assert_eq!(restored.ended_at, None);
    let user = crate::users::get(&f.store, &operator, &pat).await.unwrap();
    assert!(user.user.enabled);
    assert_eq!(user.user.external_state, Some(ExternalState::Accepted));
    // The grace period passes: nothing is deleted.
    let swept = guest_access::sweep(&f.store, BASE, end + 31 * DAY)
        .await
        .unwrap();
    assert_eq!(swept.deleted, 0);
    let restores = audited(&f.store, &operator, "Restore guest access").await;
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0].0, "Olive");
    // Restoring what has not ended is refused.
    assert!(matches!(
        guest_access::restore(&f.store, &olive, &pat, end + 32 * DAY).await,
        Err(Error::Conflict(_))
    ));
}

#[tokio::test]
async fn enabling_a_guest_whose_access_ended_restores_them() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;
    guest_access::sweep(&f.store, BASE, end).await.unwrap();
    crate::users::set_enabled(&f.store, &operator, &pat, true, end + DAY)
        .await
        .unwrap();
    let state = access(&f.store, &operator, &pat).await;
    assert_eq!(state.delete_after, None, "no deletion pending");
    assert_eq!(state.ends_at, Some(end + DAY + 180 * DAY));
    assert_eq!(
        guest_access::sweep(&f.store, BASE, end + 2 * DAY)
            .await
            .unwrap(),
        guest_access::Swept::default(),
        "the sweep does not disable them again"
    );
}

#[tokio::test]
async fn only_the_guests_sponsors_and_user_administrators_renew_or_restore() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let sam = member(&f.store, &operator, "sam@contoso.example").await;
    let sam = Principal::user(&operator.tenant_id, &sam, "Sam", vec![], false, None);
    let uma = member(&f.store, &operator, "uma@contoso.example").await;
    crate::users::set_role(&f.store, &operator, &uma, Role::UserAdministrator, true, T0)
        .await
        .unwrap();
    let uma = Principal::user(
        &operator.tenant_id,
        &uma,
        "Uma",
        vec![Role::UserAdministrator],
        false,
        None,
    );
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    // Sam sponsors another guest, not Pat.
    let (_quinn, _) = accepted_guest(&f.store, &sam, "quinn@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;
    let pat_as_guest = Principal::user(&operator.tenant_id, &pat, "pat", vec![], true, None);
    for who in [&sam, &pat_as_guest] {
        assert!(matches!(
            guest_access::renew(&f.store, who, &pat, end - DAY).await,
            Err(Error::AccessDenied)
        ));
        assert!(matches!(
            guest_access::sponsored(&f.store, who, &pat).await,
            Err(Error::AccessDenied)
        ));
        assert!(matches!(
            guest_access::let_end(&f.store, who, &pat, end - DAY).await,
            Err(Error::AccessDenied)
        ));
    }
    assert_eq!(
        access(&f.store, &operator, &pat).await.ends_at,
        Some(end),
        "refusals change nothing"
    );
    guest_access::sweep(&f.store, BASE, end).await.unwrap();
    for who in [&sam, &pat_as_guest] {
        assert!(matches!(
            guest_access::restore(&f.store, who, &pat, end + DAY).await,
            Err(Error::AccessDenied)
        ));
    }
    assert!(
        access(&f.store, &operator, &pat)
            .await
            .delete_after
            .is_some()
    );
    // A user administrator may.
    guest_access::restore(&f.store, &uma, &pat, end + DAY)
        .await
        .unwrap();
    assert!(audited(&f.store, &operator, "Restore guest access").await[0].0 == "Uma");
}

#[tokio::test]
async fn the_settings_take_days_in_range_and_refusals_change_nothing() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    for (access_days, notice, grace, field) in [
        ("0", "14", "30", "access_days"),
        ("3651", "14", "30", "access_days"),
        ("soon", "14", "30", "access_days"),
        ("180", "0", "30", "notice_days"),
        ("180", "14", "-1", "grace_days"),
        ("180", "14", "366", "grace_days"),
    ] {
        match guest_access::set_settings(&f.store, &operator, access_days, notice, grace, T0).await
        {
            Err(Error::Invalid(fields)) => assert_eq!(fields[0].field, field),
            other => panic!("{access_days} {notice} {grace}: {other:?}"),
        }
    }
    assert_eq!(
        guest_access::settings(&f.store, &operator).await.unwrap(),
        types::GuestAccessSettings {
            access_days: Some(180),
            notice_days: 14,
            grace_days: 30
        }
    );
    assert!(matches!(
        guest_access::set_settings(&f.store, &olive, "never", "14", "30", T0).await,
        Err(Error::AccessDenied)
    ));
    let set = guest_access::set_settings(&f.store, &operator, "never", "7", "0", T0)
        .await
        .unwrap();
    assert_eq!(set.access_days, None);
}

#[tokio::test]
async fn a_guest_disabled_by_hand_and_enabled_after_their_end_gets_a_new_period() {
    let f = fixture().await;
    let (operator, olive) = contoso(&f.store).await;
    let (pat, _) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    let end = T0 + 180 * DAY;
    crate::users::set_enabled(&f.store, &operator, &pat, false, end - DAY)
        .await
        .unwrap();
    // Disabled by hand, the end passing changes nothing: only enabled guests are ended.
    assert_eq!(
        guest_access::sweep(&f.store, BASE, end + DAY)
            .await
            .unwrap(),
        guest_access::Swept::default()
    );
    crate::users::set_enabled(&f.store, &operator, &pat, true, end + 2 * DAY)
        .await
        .unwrap();
    assert_eq!(
        access(&f.store, &operator, &pat).await.ends_at,
        Some(end + 2 * DAY + 180 * DAY)
    );
    assert_eq!(
        guest_access::sweep(&f.store, BASE, end + 3 * DAY)
            .await
            .unwrap()
            .ended,
        0,
        "not disabled again at once"
    );
}

#[tokio::test]
async fn a_guests_session_ends_with_their_access_period_before_any_sweep() {
    let f = fixture().await;
    let (_, olive) = contoso(&f.store).await;
    let (pat, token) = accepted_guest(&f.store, &olive, "pat@partner.example", None, T0).await;
    // An end an hour after acceptance (periods are whole days; a session lasts a day).
    {
        let mut tx = f.store.begin().await.unwrap();
        sqlx::query("UPDATE users SET access_ends_at = $1 WHERE id = $2")
            .bind(T0 + 3600)
            .bind(&pat)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let policy = SessionPolicy::default();
    let before = crate::sessions::principal(&f.store, &policy, &token, None, T0 + 1800)
        .await
        .unwrap();
    assert_eq!(
        before.map(|s| s.principal.user_id().map(str::to_string)),
        Some(Some(pat.clone()))
    );
    // At the end, with no sweep run, the session (remembered or read afresh) no longer lets
    // Pat in.
    let after = crate::sessions::principal(&f.store, &policy, &token, None, T0 + 3600)
        .await
        .unwrap();
    assert!(after.is_none());
    assert_eq!(
        sessions_of(&f.store, &pat).await,
        0,
        "the session is signed out"
    );
}
