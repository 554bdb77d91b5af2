//! Terms of use against the store: who may write them, versions, acceptances kept per
//! version and audited in the terms' organization, and conditional access asking for them
//! until the version in force is accepted.

use super::*;
use crate::conditional_access::{self as policies, Apps, Grant, NewPolicy, People, PolicyState};
use crate::oidc::access::Refusal;
use crate::sessions::SignedIn;
use crate::terms;

async fn signed_in(store: &Store, token: &str, now: i64) -> SignedIn {
    crate::sessions::principal(store, &SessionPolicy::default(), token, None, now)
        .await
        .unwrap()
        .expect("a live session")
}

async fn audited(store: &Store, operator: &Principal, action: &str) -> Vec<(String, String)> {
    audit_events(store, operator, action)
        .await
        .into_iter()
        .map(|e| (e.actor_name, e.detail))
        .collect()
}

/// A policy, on, asking everyone to accept `terms` before using Portico itself.
fn house_rules(terms: &str) -> NewPolicy {
    NewPolicy {
        name: "House rules".into(),
        state: PolicyState::On,
        rules: policies::Rules {
            include: People {
                everyone: true,
                ..People::default()
            },
            exclude: People::default(),
            apps: Apps {
                portico: true,
                ..Apps::default()
            },
            exclude_apps: Vec::new(),
            locations: Vec::new(),
            exclude_locations: Vec::new(),
            grant: Grant::Require {
                all: true,
                controls: Vec::new(),
                terms: vec![terms.to_string()],
            },
            sign_in_frequency_hours: None,
        },
        accept_lock_out: false,
    }
}

#[tokio::test]
async fn administrators_write_terms_and_a_new_text_is_a_new_version() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let mia_id = member(&f.store, &operator, "mia@contoso.example").await;
    let mia = Principal::user(&operator.tenant_id, &mia_id, "Mia", vec![], false, None);

    // Not for members; bad input is refused with its fields, and nothing is written.
    assert!(matches!(
        terms::create(&f.store, &mia, "Rules", "Be kind.", T0).await,
        Err(Error::AccessDenied)
    ));
    let Err(Error::Invalid(fields)) = terms::create(&f.store, &operator, "  ", "\n ", T0).await
    else {
        panic!("empty terms were accepted");
    };
    let fields: Vec<_> = fields.into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["name", "text"]);
    assert!(terms::list(&f.store, &operator).await.unwrap().is_empty());

    let made = terms::create(&f.store, &operator, " House rules ", "Be kind.\r\n", T0)
        .await
        .unwrap();
    assert_eq!(
        (made.name.as_str(), made.text.as_str(), made.version),
        ("House rules", "Be kind.", 1)
    );
    let again = terms::create(&f.store, &operator, "house RULES", "Other.", T0).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");

    // A new name alone keeps the version; a new text makes the next.
    let renamed = terms::update(&f.store, &operator, &made.id, "Rules", "Be kind.", T0 + 1)
        .await
        .unwrap();
    assert_eq!(renamed.version, 1);
    let changed = terms::update(&f.store, &operator, &made.id, "Rules", "Be kinder.", T0 + 2)
        .await
        .unwrap();
    assert_eq!(changed.version, 2);
    assert_eq!(
        audited(&f.store, &operator, "Update terms of use")
            .await
            .len(),
        2
    );
    assert_eq!(
        audited(&f.store, &operator, "Add terms of use").await.len(),
        1
    );

    // Another organization's administrators do not see or change them.
    let (fabrikam, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
    assert!(matches!(
        terms::detail(&f.store, &fabrikam, &made.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        terms::update(&f.store, &fabrikam, &made.id, "Mine", "Mine.", T0).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        terms::delete(&f.store, &fabrikam, &made.id, T0).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_policy_asks_for_the_terms_until_the_version_in_force_is_accepted() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "mia@contoso.example").await;
    let rules = terms::create(&f.store, &operator, "House rules", "Be kind.", T0)
        .await
        .unwrap();
    let policy = policies::create(&f.store, &operator, &house_rules(&rules.id), T0)
        .await
        .unwrap();
    let token = session_of(&f.store, "mia@contoso.example").await;
    let mia = signed_in(&f.store, &token, T0).await;

    // Portico asks Mia for the terms, by id.
    let asked = policies::for_portico(&f.store, &mia, T0).await.unwrap();
    assert_eq!(
        asked,
        Some(Refusal::TermsRequired {
            policy: "House rules".into(),
            terms: rules.id.clone()
        })
    );
    let shown = terms::to_accept(&f.store, &mia, &rules.id).await.unwrap();
    assert_eq!(shown.organization, "contoso.example");
    assert_eq!((shown.terms.version, shown.accepted_at), (1, None));

    // She accepts version 1: asked no more, recorded with its time and audited as hers.
    terms::accept(&f.store, &mia, &rules.id, 1, T0 + 5)
        .await
        .unwrap();
    terms::accept(&f.store, &mia, &rules.id, 1, T0 + 6)
        .await
        .unwrap();
    assert_eq!(
        policies::for_portico(&f.store, &mia, T0 + 7).await.unwrap(),
        None
    );
    let shown = terms::to_accept(&f.store, &mia, &rules.id).await.unwrap();
    assert_eq!(shown.accepted_at, Some(T0 + 5));
    assert_eq!(
        audited(&f.store, &operator, "Accept terms of use").await,
        [("mia@contoso.example".to_string(), "version 1".to_string())]
    );

    // A new text: asked again; accepting the old version is refused and changes nothing.
    terms::update(
        &f.store,
        &operator,
        &rules.id,
        "House rules",
        "Be kinder.",
        T0 + 10,
    )
    .await
    .unwrap();
    assert!(matches!(
        policies::for_portico(&f.store, &mia, T0 + 11)
            .await
            .unwrap(),
        Some(Refusal::TermsRequired { .. })
    ));
    let stale = terms::accept(&f.store, &mia, &rules.id, 1, T0 + 12).await;
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    terms::accept(&f.store, &mia, &rules.id, 2, T0 + 13)
        .await
        .unwrap();
    assert_eq!(
        policies::for_portico(&f.store, &mia, T0 + 14)
            .await
            .unwrap(),
        None
    );

    // The console lists both acceptances, latest first, and the policy asking.
    let detail = terms::detail(&f.store, &operator, &rules.id).await.unwrap();
    assert_eq!(detail.policies, ["House rules"]);
    let versions: Vec<_> = detail
        .acceptances
        .iter()
        .map(|a| (a.email.as_str(), a.version, a.accepted_at))
        .collect();
    assert_eq!(
        versions,
        [
            ("mia@contoso.example", 2, T0 + 13),
            ("mia@contoso.example", 1, T0 + 5)
        ]
    );

    // Terms a policy asks for cannot be deleted; once the policy is gone, they can.
    let refused = terms::delete(&f.store, &operator, &rules.id, T0 + 20).await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    policies::delete(&f.store, &operator, &policy.id, T0 + 21)
        .await
        .unwrap();
    terms::delete(&f.store, &operator, &rules.id, T0 + 22)
        .await
        .unwrap();
    assert!(terms::list(&f.store, &operator).await.unwrap().is_empty());
}

#[tokio::test]
async fn terms_of_another_organization_are_not_there_for_its_strangers() {
    let f = fixture().await;
    let (contoso, _) = tenant_with_admin(&f.store, "contoso.example").await;
    let (fabrikam, _) = tenant_with_admin(&f.store, "fabrikam.example").await;
    member(&f.store, &fabrikam, "ed@fabrikam.example").await;
    let rules = terms::create(&f.store, &contoso, "House rules", "Be kind.", T0)
        .await
        .unwrap();
    let token = session_of(&f.store, "ed@fabrikam.example").await;
    let ed = signed_in(&f.store, &token, T0).await;
    assert!(matches!(
        terms::to_accept(&f.store, &ed, &rules.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        terms::accept(&f.store, &ed, &rules.id, 1, T0).await,
        Err(Error::NotFound(_))
    ));
    // A policy may name only its own organization's terms.
    let foreign = policies::create(&f.store, &fabrikam, &house_rules(&rules.id), T0).await;
    assert!(matches!(foreign, Err(Error::NotFound(_))), "{foreign:?}");
}
