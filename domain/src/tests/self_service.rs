//! Everyone's own page: a member's password and a person's sessions.

use super::*;
use crate::self_service;

async fn signed_in(
    store: &Store,
    policy: &SessionPolicy,
    token: &str,
    now: i64,
) -> crate::sessions::SignedIn {
    crate::sessions::principal(store, policy, token, None, now)
        .await
        .unwrap()
        .expect("a live session")
}

#[tokio::test]
async fn guesses_at_the_current_password_count_against_the_sign_in_limit() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "mia@contoso.example").await;
    let policy = SessionPolicy {
        max_failures_per_account: 3,
        ..SessionPolicy::default()
    };
    let token = session_of(&f.store, "mia@contoso.example").await;
    let mia = signed_in(&f.store, &policy, &token, T0).await;
    let change = |current: &'static str| {
        let (store, policy, mia, token) = (&f.store, &policy, &mia, &token);
        async move {
            self_service::change_password(
                store,
                policy,
                mia,
                token,
                current,
                "a brand new passphrase",
                &Client::default(),
                T0 + 1,
            )
            .await
        }
    };
    for _ in 0..3 {
        assert!(matches!(
            change("a wrong guess").await,
            Err(Error::Invalid(_))
        ));
    }
    // The right one is refused too now, and so is signing in: one limit for both.
    assert!(matches!(
        change(PASSWORD).await,
        Err(Error::Throttled { .. })
    ));
    let signing_in = crate::sessions::sign_in(
        &f.store,
        &policy,
        "mia@contoso.example",
        PASSWORD,
        &Client::default(),
        None,
        T0 + 2,
    )
    .await;
    assert!(matches!(signing_in, Err(Error::Throttled { .. })));
    // Nothing changed: the old password still signs in once the window has closed.
    let later = T0 + policy.throttle_window + 10;
    let again = crate::sessions::sign_in(
        &f.store,
        &policy,
        "mia@contoso.example",
        PASSWORD,
        &Client::default(),
        None,
        later,
    )
    .await;
    assert!(again.is_ok());
}

#[tokio::test]
async fn a_person_sees_only_their_sessions_that_have_not_ended() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "mia@contoso.example").await;
    let policy = SessionPolicy::default();
    let first = session_of(&f.store, "mia@contoso.example").await;
    let later = T0 + policy.idle_timeout - 60;
    let second = crate::sessions::sign_in(
        &f.store,
        &policy,
        "mia@contoso.example",
        PASSWORD,
        &Client {
            ip: Some("192.0.2.7".into()),
            user_agent: Some("Firefox/133.0".into()),
        },
        None,
        later,
    )
    .await
    .unwrap()
    .token;
    let mia = signed_in(&f.store, &policy, &second, later).await;
    let listed = self_service::overview(&f.store, &policy, &mia, &second, later)
        .await
        .unwrap();
    assert_eq!(listed.sessions.len(), 2);
    // Past the first one's idle timeout it is no longer listed, nor can it be signed out.
    let after = T0 + policy.idle_timeout + 1;
    let mia = signed_in(&f.store, &policy, &second, after).await;
    let listed = self_service::overview(&f.store, &policy, &mia, &second, after)
        .await
        .unwrap();
    assert_eq!(listed.sessions.len(), 1);
    assert!(listed.sessions[0].current);
    assert_eq!(listed.sessions[0].ip.as_deref(), Some("192.0.2.7"));
    assert!(
        crate::sessions::principal(&f.store, &policy, &first, None, after)
            .await
            .unwrap()
            .is_none()
    );
}
