//! Guests' sponsors through the real binary: named at the invitation or the inviter, shown
//! to the guest on their panel, replaced by the fallback sponsor when one leaves.

use integration::{PASSWORD, Portico};
use serde_json::Value;

fn emails(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list of sponsors")
        .iter()
        .map(|s| s["email"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn sponsors_are_named_at_invitation_shown_to_the_guest_and_replaced_when_they_leave() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let sam_id = portico.create_user(&tenant, "sam@contoso.example", &[]);
    portico.create_user(&tenant, "fred@contoso.example", &[]);
    let sam = portico.sign_in("sam@contoso.example", PASSWORD).await;

    // Sam, a member, invites Pat; Pat redeems and sees Sam as their contact.
    let pat = portico.invite_and_redeem(&sam, "pat@partner.example").await;
    let panel = portico.call("panel", &[], Some(&pat)).await;
    assert!(panel.ok(), "{panel:?}");
    assert_eq!(emails(&panel.body["sponsors"]), ["sam@contoso.example"]);

    // A guest named as a sponsor is refused, and nobody is invited.
    let invite = |email: &'static str, sponsors: &'static str| {
        let portico = &portico;
        let ada = ada.clone();
        async move {
            portico
                .call(
                    "admin/invite",
                    &[
                        ("email", email),
                        ("display_name", ""),
                        ("message", ""),
                        ("redirect_url", ""),
                        ("sponsors", sponsors),
                    ],
                    Some(&ada),
                )
                .await
        }
    };
    let refused = invite("quinn@partner.example", "pat@partner.example").await;
    assert!(!refused.ok(), "{refused:?}");
    assert!(refused.message().contains("is a guest"), "{refused:?}");
    let invitations = portico.call("admin/invitations", &[], Some(&ada)).await;
    assert!(
        !invitations.body.to_string().contains("quinn@"),
        "{invitations:?}"
    );

    // Named sponsors, by address.
    let quinn = invite(
        "quinn@partner.example",
        "sam@contoso.example, fred@contoso.example",
    )
    .await;
    assert!(quinn.ok(), "{quinn:?}");
    let quinn_id = quinn.body["user"]["id"].as_str().unwrap().to_string();
    let detail = portico
        .call("admin/user", &[("id", &quinn_id)], Some(&ada))
        .await;
    assert_eq!(
        emails(&detail.body["sponsors"]),
        ["fred@contoso.example", "sam@contoso.example"]
    );

    // Fred becomes the fallback sponsor; disabling Sam hands Pat to Fred.
    let fallback = portico
        .call(
            "admin/collaboration/fallback-sponsor",
            &[("fallback", "fred@contoso.example")],
            Some(&ada),
        )
        .await;
    assert!(fallback.ok(), "{fallback:?}");
    let disabled = portico
        .call(
            "admin/user/enabled",
            &[("id", &sam_id), ("enabled", "false")],
            Some(&ada),
        )
        .await;
    assert!(disabled.ok(), "{disabled:?}");
    let panel = portico.call("panel", &[], Some(&pat)).await;
    assert_eq!(emails(&panel.body["sponsors"]), ["fred@contoso.example"]);
    let detail = portico
        .call("admin/user", &[("id", &quinn_id)], Some(&ada))
        .await;
    assert_eq!(emails(&detail.body["sponsors"]), ["fred@contoso.example"]);
    let replaced = portico.audited(&ada, "Replace sponsor").await;
    assert_eq!(replaced["items"].as_array().unwrap().len(), 2, "{replaced}");
    let settings = portico
        .call("admin/collaboration/sponsors", &[], Some(&ada))
        .await;
    assert_eq!(settings.body["fallback"]["email"], "fred@contoso.example");
    assert_eq!(settings.body["unsponsored"], serde_json::json!([]));

    // Only global administrators set the fallback sponsor.
    let fred = portico.sign_in("fred@contoso.example", PASSWORD).await;
    let refused = portico
        .call(
            "admin/collaboration/fallback-sponsor",
            &[("fallback", "")],
            Some(&fred),
        )
        .await;
    assert!(!refused.ok(), "{refused:?}");
}

#[tokio::test]
async fn a_program_names_sponsors_by_id_and_reads_them_back() {
    use reqwest::Method;
    let f = crate::graph::fixture().await;
    for permission in ["User.Invite.All", "User.Read.All"] {
        let granted = f.set_permission(permission, true).await;
        assert!(granted.ok(), "{granted:?}");
    }
    let token = f.api_token().await;
    let sam = f.portico.create_user(&f.tenant, "sam@contoso.example", &[]);
    let invite = |email: &str, sponsors: Value| {
        serde_json::json!({
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": "https://wiki.contoso.example/welcome",
            "invitedUserSponsors": sponsors,
        })
    };

    let (status, body) = f
        .api(
            Method::POST,
            "invitations",
            Some(&token),
            Some(invite(
                "pat@partner.example",
                serde_json::json!([{ "id": sam }]),
            )),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let pat = body["invitedUser"]["id"].as_str().unwrap().to_string();
    let (status, list) = f
        .api(
            Method::GET,
            &format!("users/{pat}/sponsors"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["value"][0]["id"], sam.as_str());
    assert_eq!(list["value"][0]["mail"], "sam@contoso.example");

    // A guest cannot sponsor: 400 naming why, and nobody is invited.
    let (status, body) = f
        .api(
            Method::POST,
            "invitations",
            Some(&token),
            Some(invite(
                "quinn@partner.example",
                serde_json::json!([{ "id": pat }]),
            )),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("is a guest"), "{message}");
    let (_, users) = f
        .api(
            Method::GET,
            "users?$filter=mail eq 'quinn@partner.example'",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(users["value"], serde_json::json!([]), "{users}");

    // Without sponsors a program's guest gets the fallback sponsor, here none.
    let (status, body) = f
        .api(
            Method::POST,
            "invitations",
            Some(&token),
            Some(invite("rae@partner.example", serde_json::json!([]))),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let rae = body["invitedUser"]["id"].as_str().unwrap();
    let (_, list) = f
        .api(
            Method::GET,
            &format!("users/{rae}/sponsors"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(list["value"], serde_json::json!([]), "{list}");
    let (status, _) = f
        .api(Method::GET, "users/nobody/sponsors", Some(&token), None)
        .await;
    assert_eq!(status, 404);
}
