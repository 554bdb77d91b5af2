//! Inactive users: the last sign-in of each user, and the filter "no sign-in for N days".

use super::{PASSWORD, T0, fixture, member, session_of, tenant_with_admin};
use crate::users::UserQuery;
use crate::{Error, Store};

const DAY: i64 = 86_400;

async fn inactive(store: &Store, actor: &crate::Principal, days: u32, now: i64) -> Vec<String> {
    crate::users::list(
        store,
        actor,
        &UserQuery {
            inactive_days: Some(days),
            page_size: 100,
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|u| u.email)
    .collect()
}

#[tokio::test]
async fn users_without_a_sign_in_for_n_days_are_found_counting_from_creation_if_never() {
    let f = fixture().await;
    let (operator, _) = tenant_with_admin(&f.store, "contoso.example").await;
    member(&f.store, &operator, "never@contoso.example").await;
    let active = member(&f.store, &operator, "active@contoso.example").await;
    session_of(&f.store, "active@contoso.example").await;

    let everyone = UserQuery {
        page_size: 100,
        ..Default::default()
    };
    let all = crate::users::list(&f.store, &operator, &everyone, T0)
        .await
        .unwrap();
    let signed_in = all.items.iter().find(|u| u.id == active).unwrap();
    assert_eq!(signed_in.last_sign_in_at, Some(T0));
    let never = all
        .items
        .iter()
        .find(|u| u.email == "never@contoso.example")
        .unwrap();
    assert_eq!(never.last_sign_in_at, None);

    assert!(
        inactive(&f.store, &operator, 30, T0 + 29 * DAY)
            .await
            .is_empty()
    );
    let mut found = inactive(&f.store, &operator, 30, T0 + 31 * DAY).await;
    found.sort();
    assert_eq!(
        found,
        [
            "active@contoso.example",
            "admin@contoso.example",
            "never@contoso.example"
        ]
    );
    // Signing in again takes a user off the list.
    let later = crate::sessions::sign_in(
        &f.store,
        &crate::sessions::SessionPolicy::default(),
        "active@contoso.example",
        PASSWORD,
        &crate::sessions::Client::default(),
        None,
        T0 + 30 * DAY,
    )
    .await;
    assert!(later.is_ok(), "{later:?}");
    let found = inactive(&f.store, &operator, 30, T0 + 31 * DAY).await;
    assert!(!found.contains(&"active@contoso.example".to_string()));

    let wrong = crate::users::list(
        &f.store,
        &operator,
        &UserQuery {
            inactive_days: Some(0),
            ..Default::default()
        },
        T0,
    )
    .await;
    assert!(matches!(wrong, Err(Error::Invalid(_))), "{wrong:?}");
}
