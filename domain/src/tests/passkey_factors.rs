//! Passkeys as second factors against the store: kept by identity and listed beside
//! authenticator apps, gained by the session, removed under the last-factor rule, and
//! their ceremonies single-use, expiring and bound to the person and session that began
//! them. (The WebAuthn exchange itself is the browser's: see
//! end2end/tests/passkey-factor.spec.ts.)

use super::*;
use crate::Identity;
use crate::auth_methods::{ACR_PHISHING_RESISTANT, AuthMethod};
use crate::conditional_access::{
    self as policies, Apps, Control, Grant, NewPolicy, People, PolicyState, Rules,
};
use crate::passkey_factors;
use crate::passkeys::{self, Finish, Passkeys};
use crate::second_factors::{self as factors, Asked, Purpose as Where, RECENT_SIGN_IN};
use crate::sessions::SignedIn;
use crate::vault::Vault;

fn vault() -> Vault {
    Vault::with_key(&[7; 32]).unwrap()
}

/// Who holds `token` at `now`, as if they had signed in at `now` (sessions of this
/// fixture open at `T0`).
async fn fresh(store: &Store, token: &str, now: i64) -> SignedIn {
    let person = crate::sessions::principal(store, &SessionPolicy::default(), token, None, now)
        .await
        .unwrap()
        .expect("a live session");
    SignedIn {
        auth_time: now,
        ..person
    }
}

/// Contoso (its operator) with Mia and Ann, members.
async fn contoso(f: &Fixture) -> Principal {
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "mia@contoso.example").await;
    member(&f.store, &operator, "ann@contoso.example").await;
    operator
}

/// An On policy asking everyone for a second factor everywhere.
async fn everyone_needs_mfa(store: &Store, operator: &Principal) -> String {
    let policy = NewPolicy {
        name: "Everyone needs MFA".into(),
        state: PolicyState::On,
        rules: Rules {
            include: People {
                everyone: true,
                ..People::default()
            },
            exclude: People::default(),
            apps: Apps {
                all: true,
                ..Apps::default()
            },
            exclude_apps: Vec::new(),
            locations: Vec::new(),
            exclude_locations: Vec::new(),
            grant: Grant::Require {
                all: true,
                controls: vec![Control::Mfa],
                terms: Vec::new(),
            },
            sign_in_frequency_hours: None,
        },
        accept_lock_out: true,
    };
    policies::create(store, operator, &policy, T0)
        .await
        .unwrap()
        .id
}

/// Keeps a passkey (a stand-in for what a ceremony registers) as the holder of `token`'s
/// second factor, at the security page.
async fn add(
    f: &Fixture,
    token: &str,
    place: Where,
    name: &str,
    id: &str,
    now: i64,
) -> crate::Result<Option<Vec<String>>> {
    let person = fresh(&f.store, token, now).await;
    passkey_factors::add(&f.store, &person, token, place, name, id, "{}", now).await
}

async fn audit_details(store: &Store, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&mut *store.read().await.unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_passkey_is_kept_for_the_person_listed_beside_apps_and_gained_by_the_session() {
    let f = fixture().await;
    contoso(&f).await;
    let token = session_of(&f.store, "mia@contoso.example").await;
    let other = session_of(&f.store, "mia@contoso.example").await;
    let now = T0 + 5;
    let mia = fresh(&f.store, &token, now).await;
    let identity = Identity::Member(mia.me.user_id.clone());
    assert!(
        !factors::has_second_factor(&f.store, &identity)
            .await
            .unwrap()
    );

    // The first factor comes with recovery codes; the session gains a phishing-resistant
    // second factor; the person's other session ends; the audit log says so.
    let codes = add(&f, &token, Where::Settings, " Laptop ", "cred-1", now)
        .await
        .unwrap();
    assert_eq!(codes.map(|c| c.len()), Some(factors::RECOVERY_CODES));
    assert!(
        factors::has_second_factor(&f.store, &identity)
            .await
            .unwrap()
    );
    let mia = fresh(&f.store, &token, now).await;
    assert!(mia.auth_methods.contains(AuthMethod::PasskeyFactor));
    assert!(mia.auth_methods.multi_factor());
    assert!(mia.auth_methods.phishing_resistant());
    assert_eq!(mia.auth_methods.acr(), ACR_PHISHING_RESISTANT);
    assert_eq!(mia.auth_methods.amr(), vec!["pwd", "swk", "mfa"]);
    assert!(
        crate::sessions::principal(&f.store, &SessionPolicy::default(), &other, None, now)
            .await
            .unwrap()
            .is_none(),
        "the other session ended"
    );
    assert_eq!(
        audit_details(&f.store, "Add second factor").await,
        vec!["passkey \u{201c}Laptop\u{201d}, with new recovery codes; 1 other session ended"]
    );

    // Listed beside authenticator apps, by kind and name.
    let overview = factors::overview(&f.store, &vault(), &mia, now)
        .await
        .unwrap();
    let listed: Vec<(&str, &str, &str)> = overview
        .factors
        .iter()
        .map(|f| (f.id.as_str(), f.kind.as_str(), f.name.as_str()))
        .collect();
    assert_eq!(listed, vec![("cred-1", "Passkey", "Laptop")]);
    assert_eq!(overview.recovery_codes_left, 10);
    assert!(overview.blocked.is_none());

    // The same credential cannot be registered twice; a second passkey brings no new
    // recovery codes. A bad name changes nothing.
    assert!(matches!(
        add(&f, &token, Where::Settings, "Again", "cred-1", now + 1).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        add(
            &f,
            &token,
            Where::Settings,
            &"x".repeat(65),
            "cred-9",
            now + 1
        )
        .await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        add(&f, &token, Where::Settings, "", "cred-2", now + 2)
            .await
            .unwrap(),
        None
    );
    let overview = factors::overview(&f.store, &vault(), &mia, now + 2)
        .await
        .unwrap();
    assert_eq!(overview.factors.len(), 2);
    assert_eq!(overview.factors[1].name, passkey_factors::DEFAULT_NAME);

    // Someone else's passkey is not theirs to see or remove.
    let ann_token = session_of(&f.store, "ann@contoso.example").await;
    let ann = fresh(&f.store, &ann_token, now).await;
    assert!(
        factors::overview(&f.store, &vault(), &ann, now)
            .await
            .unwrap()
            .factors
            .is_empty()
    );
    assert!(matches!(
        factors::remove(&f.store, &ann, &ann_token, "cred-1", now).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn changing_passkeys_follows_the_second_factor_rules_and_keeps_the_last_while_a_policy_asks()
{
    let f = fixture().await;
    let operator = contoso(&f).await;
    let token = session_of(&f.store, "mia@contoso.example").await;
    // A sign-in too old: nothing is added at the security page, but the step-up page adds
    // a first factor, and only a first.
    let late = T0 + RECENT_SIGN_IN + 1;
    let stale = crate::sessions::principal(&f.store, &SessionPolicy::default(), &token, None, late)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        passkey_factors::add(
            &f.store,
            &stale,
            &token,
            Where::Settings,
            "",
            "cred-1",
            "{}",
            late
        )
        .await,
        Err(Error::Conflict(_))
    ));
    passkey_factors::add(
        &f.store,
        &stale,
        &token,
        Where::StepUp,
        "",
        "cred-1",
        "{}",
        late,
    )
    .await
    .unwrap();
    let stale = crate::sessions::principal(&f.store, &SessionPolicy::default(), &token, None, late)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        passkey_factors::add(
            &f.store,
            &stale,
            &token,
            Where::StepUp,
            "",
            "cred-2",
            "{}",
            late
        )
        .await,
        Err(Error::Conflict(_))
    ));

    // A new sign-in with the password alone: recent, but the passkey must be verified in
    // it before anything changes.
    let again = session_of(&f.store, "mia@contoso.example").await;
    let now = late + 10;
    let password_only = fresh(&f.store, &again, now).await;
    assert_eq!(
        factors::overview(&f.store, &vault(), &password_only, now)
            .await
            .unwrap()
            .blocked,
        Some(types::ChangesBlocked::VerifyFirst)
    );
    assert!(matches!(
        factors::remove(&f.store, &password_only, &again, "cred-1", now).await,
        Err(Error::Conflict(_))
    ));
    let step = factors::step_up(&f.store, &vault(), &password_only, Asked::Passkey, now)
        .await
        .unwrap();
    assert!(step.has_passkey && step.passkey_asked && !step.has_app && !step.verified);

    // Verifying the passkey: the session gains it, and it counts as used.
    passkey_factors::verified(&f.store, &password_only, &again, "cred-1", None, now)
        .await
        .unwrap();
    let verified = fresh(&f.store, &again, now).await;
    assert!(verified.auth_methods.phishing_resistant());
    let step = factors::step_up(&f.store, &vault(), &verified, Asked::Passkey, now)
        .await
        .unwrap();
    assert!(step.verified);
    let overview = factors::overview(&f.store, &vault(), &verified, now)
        .await
        .unwrap();
    assert_eq!(overview.factors[0].last_used_at, Some(now));
    assert_eq!(
        audit_details(&f.store, "Verify second factor").await,
        vec!["passkey \u{201c}Passkey\u{201d}"]
    );
    // Another person's credential id verifies nothing.
    assert!(matches!(
        passkey_factors::verified(&f.store, &verified, &again, "not-hers", None, now).await,
        Err(Error::Conflict(_))
    ));

    // The last factor stays while a policy asks for one…
    let policy = everyone_needs_mfa(&f.store, &operator).await;
    let refused = factors::remove(&f.store, &verified, &again, "cred-1", now).await;
    assert!(
        matches!(&refused, Err(Error::Conflict(why)) if why.contains("Everyone needs MFA")),
        "{refused:?}"
    );
    // …but with another one it goes.
    add(&f, &again, Where::Settings, "Phone", "cred-2", now)
        .await
        .unwrap();
    let verified = fresh(&f.store, &again, now).await;
    factors::remove(&f.store, &verified, &again, "cred-1", now)
        .await
        .unwrap();
    assert!(matches!(
        factors::remove(&f.store, &verified, &again, "cred-2", now).await,
        Err(Error::Conflict(_))
    ));
    // Without the policy the last goes too, with the recovery codes.
    policies::delete(&f.store, &operator, &policy, now)
        .await
        .unwrap();
    factors::remove(&f.store, &verified, &again, "cred-2", now)
        .await
        .unwrap();
    let overview = factors::overview(&f.store, &vault(), &verified, now)
        .await
        .unwrap();
    assert!(overview.factors.is_empty());
    assert_eq!(overview.recovery_codes_left, 0);
    let removed = audit_details(&f.store, "Remove second factor").await;
    assert_eq!(removed.len(), 2);
    assert!(
        removed[1]
            .starts_with("passkey \u{201c}Phone\u{201d}, the last, with its 10 recovery codes")
    );
}

/// A ceremony's token from `begin`, finished as `finish` says; the error's words.
async fn finish_error(
    f: &Fixture,
    passkeys: &Passkeys,
    ceremony: &str,
    signed_in: Option<&SignedIn>,
    session: Option<&str>,
    now: i64,
) -> String {
    let finish = Finish {
        ceremony,
        credential: "{\"not\": \"a credential\"}",
        redemption_cookie: None,
        session,
        signed_in,
    };
    passkeys::finish(
        &f.store,
        passkeys,
        &SessionPolicy::default(),
        &finish,
        &Client::default(),
        now,
    )
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default()
}

#[tokio::test]
async fn ceremonies_work_once_expire_and_finish_only_for_the_person_and_session_that_began_them() {
    let f = fixture().await;
    contoso(&f).await;
    let passkeys = Passkeys::new("http://localhost:3000");
    let token = session_of(&f.store, "mia@contoso.example").await;
    let other = session_of(&f.store, "mia@contoso.example").await;
    let ann_token = session_of(&f.store, "ann@contoso.example").await;
    let now = T0 + 5;
    let mia = fresh(&f.store, &token, now).await;
    let mia_elsewhere = fresh(&f.store, &other, now).await;
    let ann = fresh(&f.store, &ann_token, now).await;
    let begin = || async {
        passkey_factors::begin_adding(
            &f.store,
            &passkeys,
            &mia,
            &token,
            Where::Settings,
            "Laptop",
            None,
            now,
        )
        .await
        .unwrap()
    };
    let lost = "This passkey request cannot be used";
    // What the browser gets: options that make a passkey for Mia at localhost.
    let begun = begin().await;
    let options: serde_json::Value = serde_json::from_str(&begun.options).unwrap();
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(options["publicKey"]["user"]["name"], "mia@contoso.example");

    // Someone else, or Mia in another session, cannot finish it — and it is used up.
    assert!(
        finish_error(
            &f,
            &passkeys,
            &begun.ceremony,
            Some(&ann),
            Some(&ann_token),
            now
        )
        .await
        .starts_with(lost)
    );
    let begun = begin().await;
    assert!(
        finish_error(
            &f,
            &passkeys,
            &begun.ceremony,
            Some(&mia_elsewhere),
            Some(&other),
            now
        )
        .await
        .starts_with(lost)
    );
    let begun = begin().await;
    assert!(
        finish_error(&f, &passkeys, &begun.ceremony, None, None, now)
            .await
            .starts_with(lost)
    );
    assert!(
        finish_error(
            &f,
            &passkeys,
            &begun.ceremony,
            Some(&mia),
            Some(&token),
            now
        )
        .await
        .starts_with(lost),
        "a ceremony someone else tried is gone"
    );

    // Mia's own session gets past the binding (her browser's answer is what fails here),
    // once: a second try finds nothing.
    let begun = begin().await;
    let first = finish_error(
        &f,
        &passkeys,
        &begun.ceremony,
        Some(&mia),
        Some(&token),
        now,
    )
    .await;
    assert!(
        first.starts_with("The browser's answer is not valid"),
        "{first}"
    );
    assert!(
        finish_error(
            &f,
            &passkeys,
            &begun.ceremony,
            Some(&mia),
            Some(&token),
            now
        )
        .await
        .starts_with(lost)
    );

    // Expired after its lifetime.
    let begun = begin().await;
    assert!(
        finish_error(
            &f,
            &passkeys,
            &begun.ceremony,
            Some(&mia),
            Some(&token),
            now + passkeys::CEREMONY_LIFETIME
        )
        .await
        .starts_with(lost)
    );
    // Nothing was kept by any of these.
    assert!(
        factors::overview(&f.store, &vault(), &mia, now)
            .await
            .unwrap()
            .factors
            .is_empty()
    );

    // Verifying needs a passkey factor; signing in with one needs one too.
    assert!(matches!(
        passkey_factors::begin_verifying(&f.store, &passkeys, &mia, &token, None, now).await,
        Err(Error::Conflict(_))
    ));
    let none = passkeys::begin_sign_in(
        &f.store,
        &passkeys,
        &SessionPolicy::default(),
        "mia@contoso.example",
        &Client::default(),
        None,
        now,
    )
    .await;
    assert!(
        matches!(&none, Err(Error::Conflict(why)) if why.starts_with("No passkey is registered")),
        "{none:?}"
    );
}

#[tokio::test]
async fn passkey_sign_ins_are_throttled_per_address_whether_or_not_it_has_a_passkey() {
    let f = fixture().await;
    contoso(&f).await;
    let passkeys = Passkeys::new("http://localhost:3000");
    let begin = |email: &'static str| {
        let passkeys = &passkeys;
        let store = &f.store;
        async move {
            passkeys::begin_sign_in(
                store,
                passkeys,
                &SessionPolicy::default(),
                email,
                &Client::default(),
                None,
                T0,
            )
            .await
        }
    };
    for _ in 0..passkeys::MAX_BEGINS_PER_ADDRESS {
        assert!(matches!(
            begin("mia@contoso.example").await,
            Err(Error::Conflict(_))
        ));
    }
    assert!(matches!(
        begin("mia@contoso.example").await,
        Err(Error::Throttled { .. })
    ));
    // Another address is not held up by Mia's.
    assert!(matches!(
        begin("ann@contoso.example").await,
        Err(Error::Conflict(_))
    ));
}
