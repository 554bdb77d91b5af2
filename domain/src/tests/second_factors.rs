//! Second factors against the store: an authenticator app set up and used, its codes used
//! once (also when two uses race), recovery codes, throttling, and who may change what.

use std::sync::Arc;

use super::*;
use crate::Identity;
use crate::auth_methods::{ACR_MULTI_FACTOR, AuthMethod};
use crate::second_factors::{self as factors, Purpose, RECENT_SIGN_IN, totp_of_base32};
use crate::sessions::SignedIn;
use crate::vault::Vault;

fn vault() -> Vault {
    Vault::with_key(&[7; 32]).unwrap()
}

async fn signed_in(store: &Store, token: &str, now: i64) -> SignedIn {
    crate::sessions::principal(store, &SessionPolicy::default(), token, None, now)
        .await
        .unwrap()
        .expect("a live session")
}

/// Contoso with Mia, a member, signed in at `T0`: her session's token.
async fn mia(f: &Fixture) -> String {
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "mia@contoso.example").await;
    session_of(&f.store, "mia@contoso.example").await
}

/// Sets up an authenticator app for the holder of `token` at `now`; returns its secret
/// (base32) and the recovery codes it came with.
async fn enroll(
    f: &Fixture,
    vault: &Vault,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> (String, Option<Vec<String>>) {
    let person = signed_in(&f.store, token, now).await;
    factors::start_totp(&f.store, vault, &person, purpose, now)
        .await
        .unwrap();
    let overview = factors::overview(&f.store, vault, &person, now)
        .await
        .unwrap();
    let enrollment = overview.enrollment.expect("a set-up under way");
    assert!(
        enrollment
            .uri
            .starts_with("otpauth://totp/Portico:mia@contoso.example?secret=")
    );
    let code = totp_of_base32(&enrollment.secret, now).unwrap();
    let confirmed = factors::confirm_totp(
        &f.store,
        vault,
        &SessionPolicy::default(),
        &person,
        token,
        purpose,
        "Phone",
        &code,
        &Client::default(),
        now,
    )
    .await
    .unwrap();
    (enrollment.secret, confirmed.recovery_codes)
}

async fn verify(
    f: &Fixture,
    vault: &Vault,
    token: &str,
    code: &str,
    now: i64,
) -> crate::Result<()> {
    let person = signed_in(&f.store, token, now).await;
    factors::verify_totp(
        &f.store,
        vault,
        &SessionPolicy::default(),
        &person,
        token,
        code,
        &Client::default(),
        now,
    )
    .await
}

#[tokio::test]
async fn an_app_is_saved_only_with_a_right_code_and_then_proves_a_second_factor() {
    let f = fixture().await;
    let vault = vault();
    let token = mia(&f).await;
    let identity = Identity::Member(signed_in(&f.store, &token, T0).await.me.user_id);
    let other = session_of(&f.store, "mia@contoso.example").await;
    assert!(
        !factors::has_second_factor(&f.store, &identity)
            .await
            .unwrap()
    );

    // A wrong first code saves nothing.
    let person = signed_in(&f.store, &token, T0 + 1).await;
    factors::start_totp(&f.store, &vault, &person, Purpose::Settings, T0 + 1)
        .await
        .unwrap();
    let secret = factors::overview(&f.store, &vault, &person, T0 + 1)
        .await
        .unwrap()
        .enrollment
        .unwrap()
        .secret;
    let right = totp_of_base32(&secret, T0 + 1).unwrap();
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for code in [wrong, "12345", "abcdef"] {
        let refused = factors::confirm_totp(
            &f.store,
            &vault,
            &SessionPolicy::default(),
            &person,
            &token,
            Purpose::Settings,
            "",
            code,
            &Client::default(),
            T0 + 1,
        )
        .await;
        assert!(
            matches!(refused, Err(Error::Invalid(_))),
            "{code}: {refused:?}"
        );
    }
    assert!(
        !factors::has_second_factor(&f.store, &identity)
            .await
            .unwrap()
    );
    // The secret is sealed in the database, never in the clear.
    let stored: String = sqlx::query_scalar("SELECT secret FROM second_factors")
        .fetch_one(&mut *f.store.read().await.unwrap())
        .await
        .unwrap();
    assert!(Vault::is_sealed(&stored));
    assert!(!stored.contains(&secret.replace(' ', "")));

    let confirmed = factors::confirm_totp(
        &f.store,
        &vault,
        &SessionPolicy::default(),
        &person,
        &token,
        Purpose::Settings,
        "  Phone ",
        &right,
        &Client::default(),
        T0 + 1,
    )
    .await
    .unwrap();
    let codes = confirmed
        .recovery_codes
        .expect("recovery codes with the first app");
    assert_eq!(codes.len(), 10);
    assert!(
        factors::has_second_factor(&f.store, &identity)
            .await
            .unwrap()
    );
    // This session gains the app and counts as multi-factor; the other one ended.
    let now = signed_in(&f.store, &token, T0 + 2).await;
    assert!(now.auth_methods.contains(AuthMethod::Totp));
    assert_eq!(now.auth_methods.amr(), ["pwd", "otp", "mfa"]);
    assert_eq!(now.auth_methods.acr(), ACR_MULTI_FACTOR);
    let ended =
        crate::sessions::principal(&f.store, &SessionPolicy::default(), &other, None, T0 + 2)
            .await
            .unwrap();
    assert!(ended.is_none(), "other sessions end");
    let overview = factors::overview(&f.store, &vault, &now, T0 + 2)
        .await
        .unwrap();
    assert_eq!(overview.factors.len(), 1);
    assert_eq!(overview.factors[0].name, "Phone");
    assert_eq!(overview.recovery_codes_left, 10);
    assert!(overview.enrollment.is_none());
    // Audited.
    let added: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'Add second factor'")
            .fetch_one(&mut *f.store.read().await.unwrap())
            .await
            .unwrap();
    assert_eq!(added, 1);
}

#[tokio::test]
async fn a_code_works_within_one_step_either_side_and_once() {
    let f = fixture().await;
    let vault = vault();
    let token = mia(&f).await;
    let (secret, _) = enroll(&f, &vault, &token, Purpose::Settings, T0 + 1).await;
    // A new sign-in shows one factor until a code is verified.
    let again = session_of(&f.store, "mia@contoso.example").await;
    assert!(
        !signed_in(&f.store, &again, T0 + 3)
            .await
            .auth_methods
            .multi_factor()
    );
    // The code that confirmed the app was used: it is refused now, even in its window.
    let used = totp_of_base32(&secret, T0 + 1).unwrap();
    assert!(matches!(
        verify(&f, &vault, &again, &used, T0 + 3).await,
        Err(Error::Invalid(_))
    ));
    // Two steps later, the code of the step before now (clock drift) works, once.
    let now = T0 + 1 + 3 * 30;
    let late = totp_of_base32(&secret, now - 30).unwrap();
    verify(&f, &vault, &again, &late, now).await.unwrap();
    assert!(matches!(
        verify(&f, &vault, &again, &late, now).await,
        Err(Error::Invalid(_))
    ));
    assert!(
        signed_in(&f.store, &again, now)
            .await
            .auth_methods
            .multi_factor()
    );
    // Two steps off is refused.
    let far = T0 + 1 + 10 * 30;
    let early = totp_of_base32(&secret, far + 60).unwrap();
    assert!(matches!(
        verify(&f, &vault, &again, &early, far).await,
        Err(Error::Invalid(_))
    ));
    let next = totp_of_base32(&secret, far + 30).unwrap();
    verify(&f, &vault, &again, &next, far).await.unwrap();
    // An older step than one used is refused too.
    let current = totp_of_base32(&secret, far).unwrap();
    assert!(matches!(
        verify(&f, &vault, &again, &current, far).await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_uses_of_one_code_at_once_let_one_through() {
    let f = fixture().await;
    let vault = Arc::new(vault());
    let token = mia(&f).await;
    let (secret, _) = enroll(&f, &vault, &token, Purpose::Settings, T0 + 1).await;
    let policy = SessionPolicy {
        max_failures_per_account: 100,
        ..SessionPolicy::default()
    };
    for round in 1..=3 {
        let now = T0 + 1 + round * 120;
        let code = totp_of_base32(&secret, now).unwrap();
        let person = signed_in(&f.store, &token, now).await;
        let mut uses = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (store, vault, person, token, code) = (
                f.store.clone(),
                vault.clone(),
                person.clone(),
                token.clone(),
                code.clone(),
            );
            uses.spawn(async move {
                factors::verify_totp(
                    &store,
                    &vault,
                    &policy,
                    &person,
                    &token,
                    &code,
                    &Client::default(),
                    now,
                )
                .await
            });
        }
        let mut through = 0;
        while let Some(used) = uses.join_next().await {
            match used.unwrap() {
                Ok(()) => through += 1,
                Err(Error::Invalid(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(through, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recovery_code_works_once_even_when_two_uses_race() {
    let f = fixture().await;
    let vault = vault();
    let token = mia(&f).await;
    let (_, codes) = enroll(&f, &vault, &token, Purpose::Settings, T0 + 1).await;
    let codes = codes.unwrap();
    let again = session_of(&f.store, "mia@contoso.example").await;
    let person = signed_in(&f.store, &again, T0 + 5).await;
    let policy = SessionPolicy::default();
    let use_code = |code: String| {
        let (store, person, again) = (f.store.clone(), person.clone(), again.clone());
        async move {
            factors::verify_recovery_code(
                &store,
                &policy,
                &person,
                &again,
                &code,
                &Client::default(),
                T0 + 5,
            )
            .await
        }
    };
    // Typed loosely: upper case, no dash.
    let left = use_code(codes[0].to_uppercase().replace('-', ""))
        .await
        .unwrap();
    assert_eq!(left, 9);
    assert!(matches!(
        use_code(codes[0].clone()).await,
        Err(Error::Invalid(_))
    ));
    let after = signed_in(&f.store, &again, T0 + 5).await;
    assert!(after.auth_methods.contains(AuthMethod::RecoveryCode));
    assert!(after.auth_methods.multi_factor());
    let racing: Vec<_> = (0..6)
        .map(|_| tokio::spawn(use_code(codes[1].clone())))
        .collect();
    let mut through = 0;
    for race in racing {
        if race.await.unwrap().is_ok() {
            through += 1;
        }
    }
    assert_eq!(through, 1);
    // Another person's code is not hers.
    assert!(matches!(
        use_code("abcde-fghjk".into()).await,
        Err(Error::Invalid(_))
    ));
    // New codes replace all of them.
    let fresh = signed_in(&f.store, &again, T0 + 6).await;
    let new = factors::regenerate_recovery_codes(&f.store, &fresh, &again, T0 + 6)
        .await
        .unwrap();
    assert_eq!(new.len(), 10);
    assert!(matches!(
        use_code(codes[2].clone()).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(use_code(new[0].clone()).await.unwrap(), 9);
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_sign_ins() {
    let f = fixture().await;
    let vault = vault();
    let token = mia(&f).await;
    let (secret, _) = enroll(&f, &vault, &token, Purpose::Settings, T0 + 1).await;
    let policy = SessionPolicy {
        max_failures_per_account: 3,
        ..SessionPolicy::default()
    };
    let now = T0 + 300;
    let person = signed_in(&f.store, &token, now).await;
    let right = totp_of_base32(&secret, now).unwrap();
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    let attempt = |code: String| {
        let (store, vault, person, token) = (&f.store, &vault, &person, &token);
        async move {
            let client = Client {
                ip: Some("192.0.2.7".into()),
                user_agent: None,
            };
            factors::verify_totp(store, vault, &policy, person, token, &code, &client, now).await
        }
    };
    for _ in 0..3 {
        assert!(matches!(
            attempt(wrong.into()).await,
            Err(Error::Invalid(_))
        ));
    }
    assert!(matches!(attempt(right).await, Err(Error::Throttled { .. })));
    // The window passes; the right code works again, and nothing was used meanwhile.
    let later = now + policy.throttle_window + 1;
    let person = signed_in(&f.store, &token, later).await;
    let code = totp_of_base32(&secret, later).unwrap();
    factors::verify_totp(
        &f.store,
        &vault,
        &policy,
        &person,
        &token,
        &code,
        &Client::default(),
        later,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn changes_need_a_recent_sign_in_and_the_factor_itself() {
    let f = fixture().await;
    let vault = vault();
    let token = mia(&f).await;
    // Too long after signing in: nothing can be set up from the security page…
    let late = T0 + RECENT_SIGN_IN + 1;
    let person = signed_in(&f.store, &token, late).await;
    assert!(matches!(
        factors::start_totp(&f.store, &vault, &person, Purpose::Settings, late).await,
        Err(Error::Conflict(_))
    ));
    // …but the step-up page sets up a first one.
    let (secret, codes) = enroll(&f, &vault, &token, Purpose::StepUp, late).await;
    assert!(codes.is_some());
    // Only a first one.
    let person = signed_in(&f.store, &token, late + 1).await;
    assert!(matches!(
        factors::start_totp(&f.store, &vault, &person, Purpose::StepUp, late + 1).await,
        Err(Error::Conflict(_))
    ));
    let id = factors::overview(&f.store, &vault, &person, late + 1)
        .await
        .unwrap()
        .factors[0]
        .id
        .clone();
    // A fresh sign-in with the password alone cannot remove the app…
    let fresh = session_of(&f.store, "mia@contoso.example").await;
    let now = late + 100;
    let person = signed_in(&f.store, &fresh, now).await;
    assert_eq!(
        factors::overview(&f.store, &vault, &person, now)
            .await
            .unwrap()
            .blocked,
        Some(types::ChangesBlocked::SignInAgain),
        "the fixture's sign-in is at T0"
    );
    // (Sessions open at T0 in this fixture: a sign-in "now" is simulated by its time.)
    let recent = SignedIn {
        auth_time: now,
        ..person.clone()
    };
    assert_eq!(
        factors::overview(&f.store, &vault, &recent, now)
            .await
            .unwrap()
            .blocked,
        Some(types::ChangesBlocked::VerifyFirst)
    );
    assert!(matches!(
        factors::remove(&f.store, &recent, &fresh, &id, now).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        factors::regenerate_recovery_codes(&f.store, &recent, &fresh, now).await,
        Err(Error::Conflict(_))
    ));
    // …with the app's code in the session, it can; the recovery codes go with the last app.
    let code = totp_of_base32(&secret, now).unwrap();
    factors::verify_totp(
        &f.store,
        &vault,
        &SessionPolicy::default(),
        &recent,
        &fresh,
        &code,
        &Client::default(),
        now,
    )
    .await
    .unwrap();
    let verified = SignedIn {
        auth_time: now,
        ..signed_in(&f.store, &fresh, now).await
    };
    assert_eq!(
        factors::remove(&f.store, &verified, &fresh, "no such factor", now)
            .await
            .err()
            .map(|e| e.to_string()),
        Some("That second factor does not exist.".into())
    );
    factors::remove(&f.store, &verified, &fresh, &id, now)
        .await
        .unwrap();
    let overview = factors::overview(&f.store, &vault, &verified, now)
        .await
        .unwrap();
    assert!(overview.factors.is_empty());
    assert_eq!(overview.recovery_codes_left, 0);
    assert!(overview.blocked.is_none());
}

#[tokio::test]
async fn a_set_up_nobody_finished_expires_and_is_purged() {
    let f = fixture().await;
    let vault = vault();
    let token = mia(&f).await;
    let person = signed_in(&f.store, &token, T0 + 1).await;
    factors::start_totp(&f.store, &vault, &person, Purpose::Settings, T0 + 1)
        .await
        .unwrap();
    let later = T0 + 1 + factors::ENROLLMENT_LIFETIME;
    let overview = factors::overview(&f.store, &vault, &person, later)
        .await
        .unwrap();
    assert!(overview.enrollment.is_none());
    crate::sessions::purge_expired(&f.store, &SessionPolicy::default(), later + 1)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM second_factors")
        .fetch_one(&mut *f.store.read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(rows, 0);
}
