//! Bring your own identity: a partner's OpenID Connect provider (a real one on a free
//! port, see `integration::partner`) signs invited people in, and Portico refuses answers
//! that do not hold.

use integration::partner::{Document, Partner, Person};
use integration::{PASSWORD, Portico};

const CLIENT_ID: &str = "portico";
const CLIENT_SECRET: &str = "partner-secret-for-portico";
const ANN: &str = "ann@partner.example";

/// A response's status, `Location` and the cookies it sets.
struct Hop {
    status: u16,
    location: String,
    cookies: Vec<(String, String)>,
    body: String,
}

async fn hop(request: reqwest::RequestBuilder) -> Hop {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let cookies = integration::set_cookies(&response);
    let body = response.text().await.unwrap_or_default();
    Hop {
        status,
        location,
        cookies,
        body,
    }
}

fn cookie<'a>(hop: &'a Hop, name: &str) -> Option<&'a str> {
    hop.cookies
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// A server function called as a form post without JavaScript, with cookies. A form
/// that leads to another site leads to `/depart` first, whose page moves on with a
/// refresh (the page's policy keeps form submissions on Portico): this follows it, and
/// `location` is where the page sends the browser.
async fn post(portico: &Portico, endpoint: &str, form: &[(&str, &str)], cookies: &str) -> Hop {
    let mut posted = hop(portico
        .http()
        .post(format!("{}/fn/{endpoint}", portico.url))
        .header("Origin", &portico.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", cookies)
        .body(integration::encode_form(form)))
    .await;
    if posted.location == "/depart" {
        let departure = cookie(&posted, "portico_departure").expect("a departure cookie");
        let page = get(
            portico,
            &format!("{}/depart", portico.url),
            &format!("portico_departure={departure}"),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let refresh = page
            .body
            .split("content=\"0;url=")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a page that moves on");
        posted.location = refresh.replace("&amp;", "&");
        assert!(
            page.cookies
                .iter()
                .any(|(k, v)| k == "portico_departure" && v.is_empty()),
            "the departure is taken once"
        );
    }
    posted
}

async fn get(portico: &Portico, url: &str, cookies: &str) -> Hop {
    hop(portico.http().get(url).header("Cookie", cookies)).await
}

/// Contoso with an admin, signed in, and the partner's provider set up for
/// partner.example.
async fn contoso_with(partner: &Partner) -> (Portico, String, String) {
    // The partner runs on this machine's loopback, which Portico only calls when told to.
    let portico = Portico::start_with(&["--allow-loopback-providers"]);
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    add_provider(&portico, &ada, partner, "partner.example").await;
    (portico, ada, tenant)
}

async fn add_provider(portico: &Portico, admin: &str, partner: &Partner, domains: &str) {
    let added = portico
        .call(
            "admin/identity_providers/add",
            &provider_form(partner, (CLIENT_ID, CLIENT_SECRET), domains),
            Some(admin),
        )
        .await;
    assert!(added.ok(), "{added:?}");
}

/// The form that registers `partner`, with Portico's client id and secret there, for
/// `domains`.
fn provider_form<'a>(
    partner: &'a Partner,
    (client_id, client_secret): (&'a str, &'a str),
    domains: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Partner sign-in"),
        ("issuer", partner.issuer()),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("scopes", ""),
        ("domains", domains),
    ]
}

/// Invites `email` and starts redeeming; returns the redemption cookie.
async fn invite_and_start(portico: &Portico, admin: &str, email: &str) -> String {
    let ticket = portico.invite(admin, email).await;
    portico.start_redemption(&ticket).await
}

/// Goes to the provider for this redemption and back; returns Portico's answer at the
/// redirect URI and the URL it was called with.
async fn redeem_through(portico: &Portico, redemption: &str) -> (Hop, String) {
    let cookies = format!("portico_redeem={redemption}");
    let leave = post(portico, "redeem/federate", &[], &cookies).await;
    let state = cookie(&leave, "portico_federation")
        .unwrap_or_else(|| panic!("no trip begun: {} {}", leave.status, leave.body))
        .to_string();
    let at_provider = get(portico, &leave.location, "").await;
    assert_eq!(at_provider.status, 303, "{}", at_provider.body);
    let back = at_provider.location.clone();
    let cookies = format!("{cookies}; portico_federation={state}");
    (get(portico, &back, &cookies).await, back)
}

fn codes_to(portico: &Portico, email: &str) -> usize {
    portico
        .outbox()
        .iter()
        .filter(|m| {
            m["recipient"] == email && m["subject"].as_str().unwrap_or_default().contains("code")
        })
        .count()
}

#[tokio::test]
async fn a_guest_redeems_through_their_organizations_provider_and_signs_in_there_again() {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, _) = contoso_with(&partner).await;
    let listed = portico
        .call("admin/identity_providers", &[], Some(&ada))
        .await;
    assert_eq!(listed.body["providers"][0]["domains"][0], "partner.example");
    assert_eq!(
        listed.body["redirect_uri"],
        format!("{}/federation/callback", portico.url)
    );
    assert!(
        listed.body["providers"][0].get("client_secret").is_none(),
        "the secret is never shown again"
    );

    let redemption = invite_and_start(&portico, &ada, ANN).await;
    let status = portico
        .call_redeeming("redeem/status", &[], &redemption)
        .await;
    assert_eq!(status.body["method"], "Federated", "{status:?}");
    assert_eq!(status.body["provider"], "Partner sign-in");
    assert_eq!(
        codes_to(&portico, ANN),
        0,
        "no passcode when a provider signs in"
    );

    // The trip out: the code flow with PKCE (S256), state, nonce and the invited address.
    let cookies = format!("portico_redeem={redemption}");
    let leave = post(&portico, "redeem/federate", &[], &cookies).await;
    let out = url::Url::parse(&leave.location).expect("to the provider");
    let query: std::collections::HashMap<_, _> = out.query_pairs().into_owned().collect();
    assert!(
        leave
            .location
            .starts_with(&format!("{}/authorize?", partner.issuer()))
    );
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["login_hint"], ANN);
    assert_eq!(
        query["redirect_uri"],
        format!("{}/federation/callback", portico.url)
    );
    assert!(query["nonce"].len() >= 43 && query["state"].len() >= 43);
    assert!(query["scope"].contains("openid") && query["scope"].contains("email"));

    partner.sign_in_next(Person::new("ann-0001", ANN));
    let (back, callback_url) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.location, "/redeem/consent");
    assert!(partner.refusals().is_empty(), "{:?}", partner.refusals());
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(accepted.ok(), "{accepted:?}");
    let ann = accepted.cookie.expect("a session");
    let me = portico.call("me", &[], Some(&ann)).await;
    assert_eq!(me.body["tenant_name"], "Contoso");
    assert_eq!(codes_to(&portico, ANN), 0);

    // The same answer again is refused: a state works once.
    let replayed = get(&portico, &callback_url, "portico_federation=whatever").await;
    assert_eq!(replayed.status, 400);
    assert!(
        replayed.body.contains("cannot be used"),
        "{}",
        replayed.body
    );

    // Signing in again: the address leads to the provider, not to a code.
    portico.call("sign_out", &[], Some(&ann)).await;
    let identify = post(
        &portico,
        "sign_in/identify",
        &[("email", ANN), ("next", "//evil.example/")],
        "",
    )
    .await;
    assert!(
        identify
            .location
            .starts_with(&format!("{}/authorize?", partner.issuer())),
        "{} {}",
        identify.status,
        identify.location
    );
    let state = cookie(&identify, "portico_federation")
        .expect("state cookie")
        .to_string();
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let at_provider = get(&portico, &identify.location, "").await;
    // Another browser (without this state in its cookie) cannot finish it.
    let elsewhere = get(
        &portico,
        &at_provider.location,
        "portico_federation=another-browsers-state",
    )
    .await;
    assert_eq!(elsewhere.status, 400);
    let back = get(
        &portico,
        &at_provider.location,
        &format!("portico_federation={state}"),
    )
    .await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.location, "/", "`next` is a path on this site only");
    let ann = cookie(&back, "portico_session")
        .expect("a session")
        .to_string();
    let me = portico.call("me", &[], Some(&ann)).await;
    assert_eq!(me.body["tenant_name"], "Contoso");
    assert_eq!(me.body["guest"], true);
    assert_eq!(codes_to(&portico, ANN), 0, "no code was ever mailed");

    // The provider signs in someone else next time: no way into Ann's account.
    partner.sign_in_next(Person::new("ann-0002", ANN));
    let identify = post(&portico, "sign_in/identify", &[("email", ANN)], "").await;
    let state = cookie(&identify, "portico_federation")
        .expect("state")
        .to_string();
    let at_provider = get(&portico, &identify.location, "").await;
    let back = get(
        &portico,
        &at_provider.location,
        &format!("portico_federation={state}"),
    )
    .await;
    assert_eq!(back.status, 400);
    assert!(
        back.body
            .contains("no organization on this Portico knows that account"),
        "{}",
        back.body
    );
}

#[tokio::test]
async fn answers_that_do_not_hold_are_refused_and_an_unverified_address_needs_a_code() {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, _) = contoso_with(&partner).await;
    let redemption = invite_and_start(&portico, &ada, ANN).await;

    let cases: Vec<(&str, Person, &str)> = vec![
        (
            "another address",
            Person::new("ann-0001", "mallory@partner.example"),
            "but the invitation is for",
        ),
        (
            "a broken signature",
            Person {
                break_signature: true,
                ..Person::new("ann-0001", ANN)
            },
            "signature does not verify",
        ),
        (
            "another issuer",
            Person {
                issuer_claim: Some("https://evil.example".into()),
                ..Person::new("ann-0001", ANN)
            },
            "issued by someone else",
        ),
        (
            "another audience",
            Person {
                audience_claim: Some("some-other-app".into()),
                ..Person::new("ann-0001", ANN)
            },
            "meant for another app",
        ),
        (
            "no address at all",
            Person {
                email: None,
                ..Person::new("ann-0001", ANN)
            },
            "did not tell Portico your email address",
        ),
    ];
    for (case, person, says) in cases {
        partner.sign_in_next(person);
        let (back, _) = redeem_through(&portico, &redemption).await;
        assert_eq!(back.status, 400, "{case}: {}", back.body);
        assert!(back.body.contains(says), "{case}: {}", back.body);
        let status = portico
            .call_redeeming("redeem/status", &[], &redemption)
            .await;
        assert_eq!(status.body["proven"], false, "{case}");
        let accepted = portico
            .call_redeeming("redeem/accept", &[], &redemption)
            .await;
        assert!(!accepted.ok(), "{case}: nothing was accepted");
    }

    // The provider does not vouch for the address: a code must confirm it too, and the
    // identity stays the provider's (claims from userinfo, as some providers send them).
    partner.sign_in_next(Person {
        email_verified: false,
        claims_in_userinfo_only: true,
        ..Person::new("ann-0001", ANN)
    });
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.location, "/redeem/code", "{}", back.body);
    let status = portico
        .call_redeeming("redeem/status", &[], &redemption)
        .await;
    assert_eq!(status.body["code_also"], true);
    assert_eq!(status.body["proven"], false);
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(!accepted.ok(), "no acceptance without the code");
    assert_eq!(codes_to(&portico, ANN), 1);
    let code = portico.latest_code(ANN);
    let verified = portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert!(verified.ok(), "{verified:?}");
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(accepted.ok(), "{accepted:?}");
    let events = portico.audited(&ada, "Redeem external user invite").await;
    let detail = events["items"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("oidc:{}#ann-0001", partner.issuer())),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_second_provider_claiming_the_same_address_gets_nothing_of_the_first_ones() {
    let honest = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let rogue = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, _) = contoso_with(&honest).await;
    portico.seed_tenant(
        "Fabrikam",
        "fabrikam.example",
        "fay@fabrikam.example",
        &["global-administrator"],
    );
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    add_provider(&portico, &fay, &rogue, "partner.example").await;

    honest.sign_in_next(Person::new("ann-at-honest", ANN));
    let at_contoso = invite_and_start(&portico, &ada, ANN).await;
    let (back, _) = redeem_through(&portico, &at_contoso).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    assert!(
        portico
            .call_redeeming("redeem/accept", &[], &at_contoso)
            .await
            .ok()
    );

    // The rogue provider asserts the same (verified) address for its own subject.
    rogue.sign_in_next(Person::new("someone-at-rogue", ANN));
    let at_fabrikam = invite_and_start(&portico, &fay, ANN).await;
    let (back, _) = redeem_through(&portico, &at_fabrikam).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &at_fabrikam)
        .await;
    let rogue_session = accepted.cookie.expect("a session");
    let places = portico
        .call("organizations", &[], Some(&rogue_session))
        .await;
    let names: Vec<_> = places
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["tenant_name"].clone())
        .collect();
    assert_eq!(names, ["Fabrikam"], "Contoso's guest is out of reach");

    // Signing in: with two providers, neither stands in for the other. The address leads to
    // the code step, which lists both with the organizations that set them up.
    let identify = post(&portico, "sign_in/identify", &[("email", ANN)], "").await;
    assert!(
        identify.location.starts_with("/signin/code"),
        "{}",
        identify.location
    );
    let choices = portico
        .call("sign_in/providers", &[("email", ANN)], None)
        .await;
    let listed: Vec<_> = choices
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["tenant_name"].clone())
        .collect();
    assert_eq!(listed, ["Contoso", "Fabrikam"]);
    let contoso_provider = choices.body[0]["id"].as_str().expect("an id").to_string();
    let chosen = post(
        &portico,
        "sign_in/provider",
        &[("email", ANN), ("provider", &contoso_provider)],
        "",
    )
    .await;
    assert!(
        chosen
            .location
            .starts_with(&format!("{}/authorize?", honest.issuer())),
        "{}",
        chosen.location
    );
    let elsewhere = post(
        &portico,
        "sign_in/provider",
        &[
            ("email", "someone@else.example"),
            ("provider", &contoso_provider),
        ],
        "",
    )
    .await;
    assert!(cookie(&elsewhere, "portico_federation").is_none());
}

#[tokio::test]
async fn the_redemption_order_decides_the_path_and_keeps_a_fallback() {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, _) = contoso_with(&partner).await;
    let settings = portico.call("admin/settings", &[], Some(&ada)).await;
    assert_eq!(
        settings.body["redemption_order"],
        serde_json::json!({"primary": ["HomeOrganization", "Federation"], "fallback": ["EmailCode"]})
    );

    // The last fallback cannot be switched off; nothing changes.
    let refused = portico
        .call(
            "admin/redemption_order",
            &[("primary", "federation"), ("fallback", "")],
            Some(&ada),
        )
        .await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Invalid"),
        "{refused:?}"
    );
    assert!(
        refused.message().contains("at least one fallback"),
        "{refused:?}"
    );
    let unchanged = portico.call("admin/settings", &[], Some(&ada)).await;
    assert_eq!(
        unchanged.body["redemption_order"],
        settings.body["redemption_order"]
    );

    // Without federation among the primary methods, a partner's address gets a code.
    let saved = portico
        .call(
            "admin/redemption_order",
            &[("primary", "home"), ("fallback", "code")],
            Some(&ada),
        )
        .await;
    assert!(saved.ok(), "{saved:?}");
    let redemption = invite_and_start(&portico, &ada, ANN).await;
    let status = portico
        .call_redeeming("redeem/status", &[], &redemption)
        .await;
    assert_eq!(status.body["method"], "EmailCode");
    assert_eq!(codes_to(&portico, ANN), 1);
    let refused = post(
        &portico,
        "redeem/federate",
        &[],
        &format!("portico_redeem={redemption}"),
    )
    .await;
    assert!(cookie(&refused, "portico_federation").is_none());

    // A member elsewhere on this Portico goes to the provider when federation comes first.
    portico.seed_tenant("Partner", "partner.example", "bob@partner.example", &[]);
    portico
        .call(
            "admin/redemption_order",
            &[("primary", "federation,home"), ("fallback", "code")],
            Some(&ada),
        )
        .await;
    let bob = invite_and_start(&portico, &ada, "bob@partner.example").await;
    let status = portico.call_redeeming("redeem/status", &[], &bob).await;
    assert_eq!(status.body["method"], "Federated");
    portico
        .call(
            "admin/redemption_order",
            &[("primary", "home,federation"), ("fallback", "code")],
            Some(&ada),
        )
        .await;
    let status = portico.call_redeeming("redeem/status", &[], &bob).await;
    assert_eq!(status.body["method"], "HomePassword");
    let events = portico.audited(&ada, "Update redemption order").await;
    assert_eq!(events["total"], 3, "{events:?}");
    let added = portico.audited(&ada, "Add identity provider").await;
    assert_eq!(added["total"], 1, "{added:?}");
}

#[tokio::test]
async fn a_provider_is_checked_before_it_is_saved_and_only_global_admins_manage_them() {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, tenant) = contoso_with(&partner).await;
    let form = |issuer: &'static str, domains: &'static str| {
        vec![
            ("name", "Somewhere"),
            ("issuer", issuer),
            ("client_id", "x"),
            ("client_secret", "y"),
            ("scopes", ""),
            ("domains", domains),
        ]
    };
    // Without --allow-loopback-providers, this machine is as off limits as private networks.
    let strict = Portico::start();
    strict.seed_tenant(
        "Strict",
        "strict.example",
        "sam@strict.example",
        &["global-administrator"],
    );
    let sam = strict.sign_in("sam@strict.example", PASSWORD).await;
    for (issuer, says) in [
        (partner.issuer().to_string(), "private networks"),
        ("http://partner.example".to_string(), "https://"),
        ("https://10.1.2.3".to_string(), "private networks"),
        ("https://169.254.169.254".to_string(), "private networks"),
        ("https://idp.example/#x".to_string(), "fragment"),
    ] {
        let refused = strict
            .call(
                "admin/identity_providers/add",
                &[
                    ("name", "Somewhere"),
                    ("issuer", &issuer),
                    ("client_id", "x"),
                    ("client_secret", "y"),
                    ("scopes", ""),
                    ("domains", "partner.example"),
                ],
                Some(&sam),
            )
            .await;
        assert_eq!(refused.error_kind().as_deref(), Some("Invalid"), "{issuer}");
        assert!(refused.message().contains(says), "{issuer}: {refused:?}");
    }
    // Nothing listens on port 9 here.
    let unreachable = portico
        .call(
            "admin/identity_providers/add",
            &form("http://127.0.0.1:9", "other.example"),
            Some(&ada),
        )
        .await;
    assert_eq!(unreachable.error_kind().as_deref(), Some("Invalid"));
    assert!(
        unreachable.message().contains("could not reach"),
        "{unreachable:?}"
    );
    let not_a_url = portico
        .call(
            "admin/identity_providers/add",
            &form("javascript:alert(1)", "other.example"),
            Some(&ada),
        )
        .await;
    assert_eq!(not_a_url.error_kind().as_deref(), Some("Invalid"));
    let taken = portico
        .call(
            "admin/identity_providers/add",
            &form("http://127.0.0.1:9", "partner.example"),
            Some(&ada),
        )
        .await;
    assert!(!taken.ok());
    let list = portico
        .call("admin/identity_providers", &[], Some(&ada))
        .await;
    assert_eq!(list.body["providers"].as_array().map(Vec::len), Some(1));

    // A user administrator may not.
    portico.create_user(&tenant, "uma@contoso.example", &["user-administrator"]);
    let uma = portico.sign_in("uma@contoso.example", PASSWORD).await;
    let denied = portico
        .call("admin/identity_providers", &[], Some(&uma))
        .await;
    assert_eq!(denied.error_kind().as_deref(), Some("AccessDenied"));
    let id = list.body["providers"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let denied = portico
        .call(
            "admin/identity_providers/remove",
            &[("id", &id)],
            Some(&uma),
        )
        .await;
    assert_eq!(denied.error_kind().as_deref(), Some("AccessDenied"));
    let denied = portico
        .call(
            "admin/identity_providers/token_auth",
            &[("id", &id), ("token_auth_method", "client_secret_post")],
            Some(&uma),
        )
        .await;
    assert_eq!(denied.error_kind().as_deref(), Some("AccessDenied"));
    let removed = portico
        .call(
            "admin/identity_providers/remove",
            &[("id", &id)],
            Some(&ada),
        )
        .await;
    assert!(removed.ok(), "{removed:?}");
    let list = portico
        .call("admin/identity_providers", &[], Some(&ada))
        .await;
    assert_eq!(list.body["providers"].as_array().map(Vec::len), Some(0));
}

/// Sets an organization's redemption order as its admin.
async fn set_order(portico: &Portico, admin: &str, primary: &str, fallback: &str) {
    let saved = portico
        .call(
            "admin/redemption_order",
            &[("primary", primary), ("fallback", fallback)],
            Some(admin),
        )
        .await;
    assert!(saved.ok(), "{saved:?}");
}

#[tokio::test]
async fn an_invited_person_makes_a_portico_account_and_signs_in_with_it_or_recovers_with_a_code() {
    const ZOE: &str = "zoe@elsewhere.example";
    let portico = Portico::start();
    for (name, domain, admin) in [
        ("Contoso", "contoso.example", "ada@contoso.example"),
        ("Fabrikam", "fabrikam.example", "fay@fabrikam.example"),
        ("Northwind", "northwind.example", "nat@northwind.example"),
    ] {
        portico.seed_tenant(name, domain, admin, &["global-administrator"]);
    }
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let nat = portico.sign_in("nat@northwind.example", PASSWORD).await;
    set_order(&portico, &ada, "home,federation", "account,code").await;

    // Fabrikam only uses passcodes: Zoe is its guest by her address first.
    let at_fabrikam = invite_and_start(&portico, &fay, ZOE).await;
    let code = portico.latest_code(ZOE);
    assert!(
        portico
            .call_redeeming("redeem/verify", &[("code", &code)], &at_fabrikam)
            .await
            .ok()
    );
    assert!(
        portico
            .call_redeeming("redeem/accept", &[], &at_fabrikam)
            .await
            .ok()
    );

    // Contoso has her make an account: a code confirms the address first. The account then
    // takes over what that address proved before (Fabrikam's guest).
    let redemption = invite_and_start(&portico, &ada, ZOE).await;
    let status = portico
        .call_redeeming("redeem/status", &[], &redemption)
        .await;
    assert_eq!(status.body["method"], "NewAccount", "{status:?}");
    let early = portico
        .call_redeeming(
            "redeem/account/create",
            &[("password", "a sound passphrase")],
            &redemption,
        )
        .await;
    assert!(!early.ok(), "no account before the address is confirmed");
    let code = portico.latest_code(ZOE);
    let verified = portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert!(verified.ok(), "{verified:?}");
    // Passkeys are bound to a domain name; this Portico is reached by an IP address.
    let passkey = portico
        .call_redeeming("passkey/begin", &[("purpose", "register")], &redemption)
        .await;
    assert_eq!(passkey.error_kind().as_deref(), Some("Refused"));
    assert!(passkey.message().contains("domain name"), "{passkey:?}");
    let status = portico
        .call_redeeming("redeem/status", &[], &redemption)
        .await;
    assert_eq!(status.body["address_confirmed"], true);
    assert_eq!(
        status.body["proven"], false,
        "not before the account exists"
    );
    assert!(
        !portico
            .call_redeeming("redeem/accept", &[], &redemption)
            .await
            .ok()
    );
    let weak = portico
        .call_redeeming(
            "redeem/account/create",
            &[("password", "password1")],
            &redemption,
        )
        .await;
    assert_eq!(weak.error_kind().as_deref(), Some("Invalid"), "{weak:?}");
    let made = portico
        .call_redeeming(
            "redeem/account/create",
            &[("password", "zoe's own long passphrase")],
            &redemption,
        )
        .await;
    assert!(made.ok(), "{made:?}");
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    assert!(accepted.ok(), "{accepted:?}");
    let zoe = accepted.cookie.expect("a session");
    portico.call("sign_out", &[], Some(&zoe)).await;

    // Northwind offers accounts: Zoe signs in with hers instead of making another.
    set_order(&portico, &nat, "home,federation", "code,account").await;
    let at_northwind = invite_and_start(&portico, &nat, ZOE).await;
    let status = portico
        .call_redeeming("redeem/status", &[], &at_northwind)
        .await;
    assert_eq!(status.body["method"], "Account");
    let wrong = portico
        .call_redeeming(
            "redeem/account/password",
            &[("password", "not it at all")],
            &at_northwind,
        )
        .await;
    assert_eq!(wrong.error_kind().as_deref(), Some("Invalid"));
    let right = portico
        .call_redeeming(
            "redeem/account/password",
            &[("password", "zoe's own long passphrase")],
            &at_northwind,
        )
        .await;
    assert!(right.ok(), "{right:?}");
    assert!(
        portico
            .call_redeeming("redeem/accept", &[], &at_northwind)
            .await
            .ok()
    );

    // Signing in: her address asks for the account's password.
    let identify = post(&portico, "sign_in/identify", &[("email", ZOE)], "").await;
    assert!(
        identify.location.starts_with("/signin?step=account&"),
        "{}",
        identify.location
    );
    let zoe = portico.sign_in(ZOE, "zoe's own long passphrase").await;
    let places = portico.call("organizations", &[], Some(&zoe)).await;
    let names: Vec<_> = places
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["tenant_name"].clone())
        .collect();
    assert_eq!(names, ["Contoso", "Fabrikam", "Northwind"]);
    portico.call("sign_out", &[], Some(&zoe)).await;

    // Forgot the password: a code to the address recovers the same account.
    let (sent, cookies) = portico
        .call_with_cookies("sign_in/code/send", &[("email", ZOE)], "")
        .await;
    assert!(sent.ok(), "{sent:?}");
    let token = cookies
        .iter()
        .find(|(k, _)| k == "portico_signin")
        .map(|(_, v)| v.clone())
        .expect("a sign-in cookie");
    let code = portico.latest_code(ZOE);
    let (signed_in, _) = portico
        .call_with_cookies(
            "sign_in/code/verify",
            &[("code", &code)],
            &format!("portico_signin={token}"),
        )
        .await;
    assert!(signed_in.ok(), "{signed_in:?}");
    let places = portico
        .call("organizations", &[], signed_in.cookie.as_deref())
        .await;
    assert_eq!(places.body.as_array().map(Vec::len), Some(3));

    // Back in with a code, Zoe sets a new password on her account page; a session opened
    // elsewhere with the old password ends.
    let zoe = signed_in.cookie.expect("a session");
    let elsewhere = portico.sign_in(ZOE, "zoe's own long passphrase").await;
    let me = portico.call("me", &[], Some(&zoe)).await;
    assert_eq!(me.body["has_account"], true);
    let account = portico.call("account", &[], Some(&zoe)).await;
    assert_eq!(account.body["way_in"]["Account"]["email"], ZOE);
    assert_eq!(account.body["way_in"]["Account"]["has_password"], true);
    let weak = portico
        .call("account/password", &[("password", ZOE)], Some(&zoe))
        .await;
    assert_eq!(weak.error_kind().as_deref(), Some("Invalid"));
    let changed = portico
        .call(
            "account/password",
            &[("password", "a brand new passphrase")],
            Some(&zoe),
        )
        .await;
    assert!(changed.ok(), "{changed:?}");
    assert_eq!(
        portico.call("me", &[], Some(&elsewhere)).await.body,
        serde_json::Value::Null,
        "the other session ended"
    );
    assert_eq!(
        portico.call("me", &[], Some(&zoe)).await.body["has_account"],
        true
    );
    let old = portico
        .call(
            "sign_in",
            &[("email", ZOE), ("password", "zoe's own long passphrase")],
            None,
        )
        .await;
    assert!(!old.ok(), "the old password no longer works");
    portico.sign_in(ZOE, "a brand new passphrase").await;
    let audit = portico.audited(&ada, "Change account password").await;
    assert_eq!(audit["total"], 1, "{audit:?}");

    // A member has no Portico account to manage here: their page is about their own
    // organization's password.
    let account = portico.call("account", &[], Some(&ada)).await;
    assert!(account.body["way_in"]["Member"].is_object(), "{account:?}");
    let refused = portico
        .call(
            "account/password",
            &[("password", "a brand new passphrase")],
            Some(&ada),
        )
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("AccessDenied"));
}

/// Signs in through the provider the address leads to; returns Portico's answer.
async fn sign_in_through(portico: &Portico, email: &str) -> Hop {
    let identify = post(portico, "sign_in/identify", &[("email", email)], "").await;
    let state = cookie(&identify, "portico_federation")
        .unwrap_or_else(|| panic!("not sent to a provider: {}", identify.location))
        .to_string();
    let at_provider = get(portico, &identify.location, "").await;
    get(
        portico,
        &at_provider.location,
        &format!("portico_federation={state}"),
    )
    .await
}

#[tokio::test]
async fn rotated_keys_are_fetched_again_a_refusing_provider_keeps_the_guest_out_and_a_reset_rebinds()
 {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, _) = contoso_with(&partner).await;
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let redemption = invite_and_start(&portico, &ada, ANN).await;
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    let ann_id = portico
        .call("me", &[], accepted.cookie.as_deref())
        .await
        .body["user_id"]
        .as_str()
        .expect("an id")
        .to_string();

    // The provider rotates its keys: Portico fetches the new ones when a token names one.
    partner.rotate_key("k2");
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let back = sign_in_through(&portico, ANN).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert!(cookie(&back, "portico_session").is_some());

    // The provider no longer lets Ann in: neither does Portico, and no code helps.
    partner.sign_in_next(Person {
        refuse: true,
        ..Person::new("ann-0001", ANN)
    });
    let back = sign_in_through(&portico, ANN).await;
    assert_eq!(back.status, 400);
    assert!(
        back.body
            .contains("did not sign you in: Your account may not use this app."),
        "{}",
        back.body
    );
    assert!(cookie(&back, "portico_session").is_none());

    // An admin resets her redemption; with federation off she redeems with a code, and
    // signs in with codes from then on.
    set_order(&portico, &ada, "home", "code").await;
    let reset = portico
        .call(
            "admin/user/reset_redemption",
            &[("id", &ann_id)],
            Some(&ada),
        )
        .await;
    assert!(reset.ok(), "{reset:?}");
    let link = reset.body["redeem_url"].as_str().expect("a new link");
    let redemption = portico
        .start_redemption(link.split("ticket=").nth(1).expect("a ticket"))
        .await;
    let code = portico.latest_code(ANN);
    assert!(
        portico
            .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
            .await
            .ok()
    );
    assert!(
        portico
            .call_redeeming("redeem/accept", &[], &redemption)
            .await
            .ok()
    );
    let identify = post(&portico, "sign_in/identify", &[("email", ANN)], "").await;
    assert!(
        identify.location.starts_with("/signin/code"),
        "{}",
        identify.location
    );
}

/// Signs in at the provider chosen among an address's choices (by its id); returns
/// Portico's answer at the redirect URI.
async fn sign_in_at(portico: &Portico, email: &str, provider: &str) -> Hop {
    let chosen = post(
        portico,
        "sign_in/provider",
        &[("email", email), ("provider", provider)],
        "",
    )
    .await;
    let state = cookie(&chosen, "portico_federation")
        .unwrap_or_else(|| panic!("not sent to a provider: {} {}", chosen.status, chosen.body))
        .to_string();
    let at_provider = get(portico, &chosen.location, "").await;
    get(
        portico,
        &at_provider.location,
        &format!("portico_federation={state}"),
    )
    .await
}

/// The names of the organizations listed in a JSON array.
fn tenant_names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|o| o["tenant_name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn the_client_secret_goes_to_the_token_endpoint_the_way_the_provider_takes_it() {
    // The provider's discovery document says it takes the secret in the form only.
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    partner.take_client_secrets_by(&["client_secret_post"]);
    let (portico, ada, _) = contoso_with(&partner).await;
    let listed = portico
        .call("admin/identity_providers", &[], Some(&ada))
        .await;
    assert_eq!(
        listed.body["providers"][0]["token_auth_method"],
        "Automatic"
    );
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let redemption = invite_and_start(&portico, &ada, ANN).await;
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    assert!(partner.refusals().is_empty(), "{:?}", partner.refusals());

    // This one says nothing, which means HTTP Basic, but takes only the form: automatic
    // fails there, and the admin's choice makes it work.
    const BOB: &str = "bob@quiet.example";
    let quiet = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    quiet.take_client_secrets_by(&["client_secret_post"]);
    quiet.advertise_client_secrets_by(None);
    add_provider(&portico, &ada, &quiet, "quiet.example").await;
    quiet.sign_in_next(Person::new("bob-0001", BOB));
    let redemption = invite_and_start(&portico, &ada, BOB).await;
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.status, 400, "{}", back.body);
    assert!(back.body.contains("token endpoint refused the code"));
    assert_eq!(
        quiet.refusals(),
        ["client_secret_basic is not accepted here"]
    );
    let listed = portico
        .call("admin/identity_providers", &[], Some(&ada))
        .await;
    let quiet_id = listed.body["providers"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["issuer"] == quiet.issuer())
        .and_then(|p| p["id"].as_str())
        .expect("the provider")
        .to_string();
    let set = |id: String, method: &'static str| {
        let portico = &portico;
        let ada = &ada;
        async move {
            portico
                .call(
                    "admin/identity_providers/token_auth",
                    &[("id", &id), ("token_auth_method", method)],
                    Some(ada),
                )
                .await
        }
    };
    let unknown = set(quiet_id.clone(), "client_secret_jwt").await;
    assert_eq!(
        unknown.error_kind().as_deref(),
        Some("Invalid"),
        "{unknown:?}"
    );
    let saved = set(quiet_id.clone(), "client_secret_post").await;
    assert!(saved.ok(), "{saved:?}");
    quiet.sign_in_next(Person::new("bob-0001", BOB));
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    assert_eq!(quiet.refusals().len(), 1, "no new refusal");
    let events = portico.audited(&ada, "Update identity provider").await;
    let detail = events["items"][0]["detail"].as_str().unwrap_or_default();
    assert_eq!(
        detail,
        "token endpoint authentication client_secret_post (was automatic)"
    );

    // A provider that takes neither way of sending a secret is refused when saved on
    // automatic, and says why; the admin's choice stands, and may not go back to automatic.
    let odd = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    odd.take_client_secrets_by(&["private_key_jwt"]);
    let refused = portico
        .call(
            "admin/identity_providers/add",
            &provider_form(&odd, (CLIENT_ID, CLIENT_SECRET), "odd.example"),
            Some(&ada),
        )
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("Invalid"));
    let neither = "takes neither client_secret_basic nor client_secret_post";
    assert!(refused.message().contains(neither), "{refused:?}");
    let mut form = provider_form(&odd, (CLIENT_ID, CLIENT_SECRET), "odd.example");
    form.push(("token_auth_method", "client_secret_jwt"));
    let refused = portico
        .call("admin/identity_providers/add", &form, Some(&ada))
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("Invalid"));
    assert!(
        refused.message().contains("token_auth_method"),
        "{refused:?}"
    );
    form.pop();
    form.push(("token_auth_method", "client_secret_post"));
    let added = portico
        .call("admin/identity_providers/add", &form, Some(&ada))
        .await;
    assert!(added.ok(), "{added:?}");
    let events = portico.audited(&ada, "Add identity provider").await;
    let detail = events["items"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("token endpoint authentication client_secret_post"),
        "{events:?}"
    );
    let listed = portico
        .call("admin/identity_providers", &[], Some(&ada))
        .await;
    let mut methods: Vec<_> = listed.body["providers"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            p["token_auth_method"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    methods.sort();
    assert_eq!(
        methods,
        ["Automatic", "ClientSecretPost", "ClientSecretPost"]
    );
    let odd_id = listed.body["providers"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["issuer"] == odd.issuer())
        .and_then(|p| p["id"].as_str())
        .expect("the provider")
        .to_string();
    let refused = set(odd_id, "automatic").await;
    assert_eq!(refused.error_kind().as_deref(), Some("Invalid"));
    assert!(refused.message().contains(neither), "{refused:?}");
}

#[tokio::test]
async fn a_partner_registered_by_two_organizations_signs_in_only_where_its_registration_was_used() {
    const CONTOSO: (&str, &str) = ("contoso-at-partner", "contoso-secret");
    const WOODGROVE: (&str, &str) = ("woodgrove-at-partner", "woodgrove-secret");
    let partner = Partner::start(CONTOSO.0, CONTOSO.1).await;
    partner.add_client(WOODGROVE.0, WOODGROVE.1);
    let portico = Portico::start_with(&["--allow-loopback-providers"]);
    let mut tenants = Vec::new();
    for (name, domain, admin, client) in [
        ("Contoso", "contoso.example", "ada@contoso.example", CONTOSO),
        (
            "Woodgrove",
            "woodgrove.example",
            "wes@woodgrove.example",
            WOODGROVE,
        ),
    ] {
        let (tenant, _) = portico.seed_tenant(name, domain, admin, &["global-administrator"]);
        let admin = portico.sign_in(admin, PASSWORD).await;
        let added = portico
            .call(
                "admin/identity_providers/add",
                &provider_form(&partner, client, "partner.example"),
                Some(&admin),
            )
            .await;
        assert!(added.ok(), "{added:?}");
        // Ann redeems through each organization's own registration, as the same
        // issuer#subject.
        partner.sign_in_next(Person::new("ann-0001", ANN));
        let redemption = invite_and_start(&portico, &admin, ANN).await;
        let (back, _) = redeem_through(&portico, &redemption).await;
        assert_eq!(back.location, "/redeem/consent", "{}", back.body);
        let accepted = portico
            .call_redeeming("redeem/accept", &[], &redemption)
            .await;
        let places = portico
            .call("organizations", &[], accepted.cookie.as_deref())
            .await;
        assert_eq!(tenant_names(&places.body), [name]);
        tenants.push(tenant);
    }
    assert!(partner.refusals().is_empty(), "{:?}", partner.refusals());
    let choices = portico
        .call("sign_in/providers", &[("email", ANN)], None)
        .await;
    assert_eq!(tenant_names(&choices.body), ["Contoso", "Woodgrove"]);
    let provider_of = |tenant: &str| {
        choices
            .body
            .as_array()
            .expect("a list")
            .iter()
            .find(|c| c["tenant_name"] == tenant)
            .and_then(|c| c["id"].as_str())
            .expect("a provider")
            .to_string()
    };
    // The partner's own policy: Ann may use Woodgrove's client, not Contoso's.
    let refused_at_contoso = || Person {
        refused_clients: vec![CONTOSO.0.into()],
        ..Person::new("ann-0001", ANN)
    };

    // Through Woodgrove's registration: signed in to Woodgrove, and nowhere else.
    partner.sign_in_next(refused_at_contoso());
    let back = sign_in_at(&portico, ANN, &provider_of("Woodgrove")).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let ann = cookie(&back, "portico_session")
        .expect("a session")
        .to_string();
    let me = portico.call("me", &[], Some(&ann)).await;
    assert_eq!(me.body["tenant_name"], "Woodgrove");
    let places = portico.call("organizations", &[], Some(&ann)).await;
    assert_eq!(tenant_names(&places.body), ["Woodgrove"]);
    let switched = portico
        .call(
            "organizations/switch",
            &[("tenant_id", &tenants[0])],
            Some(&ann),
        )
        .await;
    assert_eq!(
        switched.error_kind().as_deref(),
        Some("NotFound"),
        "{switched:?}"
    );
    let me = portico.call("me", &[], Some(&ann)).await;
    assert_eq!(me.body["tenant_name"], "Woodgrove");
    // Nor do Contoso's apps take that session, though Ann is given the app there.
    const WIKI: &str = "https://wiki.contoso.example/callback";
    let contoso = tenants[0].as_str();
    let app = portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            contoso,
            "--name",
            "Wiki",
            "--launch-url",
            "https://wiki.contoso.example/",
        ],
        "",
    );
    let app_id = app["id"].as_str().expect("an app").to_string();
    for step in [
        ["sign-in", "--redirect-uri", WIKI],
        ["assign", "--user", ANN],
    ] {
        let mut args = vec!["app", step[0], "--tenant", contoso, "--app", "Wiki"];
        args.extend(&step[1..]);
        portico.cli_json(&args, "");
    }
    let query = integration::encode_form(&[
        ("client_id", &app_id),
        ("redirect_uri", WIKI),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s-1"),
        ("nonce", "n-1"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ]);
    let authorize = format!("{}/{contoso}/oauth2/v2.0/authorize?{query}", portico.url);
    let asked = get(&portico, &authorize, &format!("portico_session={ann}")).await;
    assert!(!asked.location.contains("code="), "{}", asked.location);
    assert!(
        asked.body.contains("You have no account in Contoso"),
        "{} {}",
        asked.status,
        asked.body
    );

    // Through Contoso's registration: the partner refuses her, and so does Portico.
    partner.sign_in_next(refused_at_contoso());
    let back = sign_in_at(&portico, ANN, &provider_of("Contoso")).await;
    assert_eq!(back.status, 400, "{}", back.body);
    assert!(
        back.body
            .contains("did not sign you in: Your account may not use this app."),
        "{}",
        back.body
    );
    assert!(cookie(&back, "portico_session").is_none());

    // When the partner lets her use Contoso's client, she signs in there, and Contoso's
    // app takes that session.
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let back = sign_in_at(&portico, ANN, &provider_of("Contoso")).await;
    let ann = cookie(&back, "portico_session").expect("a session");
    let asked = get(&portico, &authorize, &format!("portico_session={ann}")).await;
    assert!(
        asked.location.starts_with(&format!("{WIKI}?code=")),
        "{} {}",
        asked.location,
        asked.body
    );
}

/// The user id behind a session.
async fn user_of(portico: &Portico, session: Option<&str>) -> String {
    portico.call("me", &[], session).await.body["user_id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// Edits a user's address and name as an admin of their organization.
async fn edit_address(portico: &Portico, admin: &str, user: &str, email: &str) {
    let edited = portico
        .call(
            "admin/user/update",
            &[("id", user), ("email", email), ("display_name", "Edited")],
            Some(admin),
        )
        .await;
    assert!(edited.ok(), "{edited:?}");
}

#[tokio::test]
async fn an_admin_who_edits_a_guests_address_changes_nobodys_way_to_sign_in() {
    const MAL: &str = "mal@rogue.example";
    let honest = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let rogue = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, _) = contoso_with(&honest).await;
    honest.sign_in_next(Person::new("ann-0001", ANN));
    let at_contoso = invite_and_start(&portico, &ada, ANN).await;
    let (back, _) = redeem_through(&portico, &at_contoso).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    assert!(
        portico
            .call_redeeming("redeem/accept", &[], &at_contoso)
            .await
            .ok()
    );

    // Ann is Northwind's guest by passcode too, so her address leads to the code step
    // (where Contoso's provider is offered beside the code). Northwind's admin writes
    // another address on her: what she proved is unchanged, and so is her way in.
    portico.seed_tenant(
        "Northwind",
        "northwind.example",
        "nat@northwind.example",
        &["global-administrator"],
    );
    let nat = portico.sign_in("nat@northwind.example", PASSWORD).await;
    let ann_at_northwind = portico.invite_and_redeem(&nat, ANN).await;
    let ann_at_northwind = user_of(&portico, Some(&ann_at_northwind)).await;
    edit_address(&portico, &nat, &ann_at_northwind, "someone@else.example").await;
    let identify = post(&portico, "sign_in/identify", &[("email", ANN)], "").await;
    assert!(
        identify.location.starts_with("/signin/code"),
        "{}",
        identify.location
    );

    // Fabrikam's own guest, redeemed through Fabrikam's own provider: Fabrikam's admin
    // writes Ann's address on him. Ann's choices stay what she proved.
    portico.seed_tenant(
        "Fabrikam",
        "fabrikam.example",
        "fay@fabrikam.example",
        &["global-administrator"],
    );
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    add_provider(&portico, &fay, &rogue, "rogue.example").await;
    rogue.sign_in_next(Person::new("mal-0001", MAL));
    let at_fabrikam = invite_and_start(&portico, &fay, MAL).await;
    let (back, _) = redeem_through(&portico, &at_fabrikam).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &at_fabrikam)
        .await;
    let mal = user_of(&portico, accepted.cookie.as_deref()).await;
    edit_address(&portico, &fay, &mal, ANN).await;
    let choices = portico
        .call("sign_in/providers", &[("email", ANN)], None)
        .await;
    assert_eq!(tenant_names(&choices.body), ["Contoso"]);
    // Mal's are what he proved, whatever his address says now.
    let choices = portico
        .call("sign_in/providers", &[("email", MAL)], None)
        .await;
    assert_eq!(tenant_names(&choices.body), ["Fabrikam"]);
}

#[tokio::test]
async fn answers_larger_than_a_megabyte_are_refused_with_a_clear_message() {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let portico = Portico::start_with(&["--allow-loopback-providers"]);
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    for (document, says) in [
        (
            Document::Discovery,
            "/.well-known/openid-configuration sent more than 1 MB",
        ),
        (Document::Jwks, "/jwks sent more than 1 MB"),
    ] {
        partner.serve_oversize(Some(document));
        let refused = portico
            .call(
                "admin/identity_providers/add",
                &provider_form(&partner, (CLIENT_ID, CLIENT_SECRET), "partner.example"),
                Some(&ada),
            )
            .await;
        assert_eq!(
            refused.error_kind().as_deref(),
            Some("Invalid"),
            "{document:?}: {refused:?}"
        );
        assert!(
            refused.message().contains(says),
            "{document:?}: {refused:?}"
        );
    }
    partner.serve_oversize(None);
    add_provider(&portico, &ada, &partner, "partner.example").await;

    let redemption = invite_and_start(&portico, &ada, ANN).await;
    for (document, person, says) in [
        (
            Document::Token,
            Person::new("ann-0001", ANN),
            "its token endpoint sent more than 1 MB",
        ),
        (
            Document::Userinfo,
            Person {
                claims_in_userinfo_only: true,
                ..Person::new("ann-0001", ANN)
            },
            "its userinfo endpoint sent more than 1 MB",
        ),
    ] {
        partner.serve_oversize(Some(document));
        partner.sign_in_next(person);
        let (back, _) = redeem_through(&portico, &redemption).await;
        assert_eq!(back.status, 400, "{document:?}: {}", back.body);
        assert!(back.body.contains(says), "{document:?}: {}", back.body);
    }
    partner.serve_oversize(None);
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.location, "/redeem/consent", "{}", back.body);
}

/// Ann opens the Wiki (client `wiki`) of `tenant`: the authorization endpoint's status
/// and `Location`.
async fn open_wiki(portico: &Portico, tenant: &str, wiki: &str, session: &str) -> (u16, String) {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", wiki),
            ("redirect_uri", "https://wiki.contoso.example/callback"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
            ("nonce", "n"),
        ])
        .finish();
    let answer = get(
        portico,
        &format!("{}/{tenant}/oauth2/v2.0/authorize?{query}", portico.url),
        &format!("portico_session={session}"),
    )
    .await;
    (answer.status, answer.location)
}

#[tokio::test]
async fn a_partners_second_factor_counts_where_it_is_trusted_and_a_blocked_partner_stays_out() {
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, tenant) = contoso_with(&partner).await;
    let (wiki, _) = portico.sign_in_app(&tenant, "Wiki", "https://wiki.contoso.example/callback");
    // Ann redeems through her organization's provider, which says it used two factors.
    let redemption = invite_and_start(&portico, &ada, ANN).await;
    let mut ann_at_home = Person::new("ann-0001", ANN);
    ann_at_home.amr = vec!["pwd".into(), "mfa".into()];
    partner.sign_in_next(ann_at_home);
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    let ann = accepted.cookie.expect("a session");
    portico.assign(&tenant, "Wiki", ANN);
    let policy = crate::conditional_access::form(&[("users", "guests")]);
    let saved = portico
        .call("admin/policies/save", &policy, Some(&ada))
        .await;
    assert!(saved.ok(), "{saved:?}");

    // Not trusted (the default): the provider's word does not count, Ann is asked.
    let (status, location) = open_wiki(&portico, &tenant, &wiki, &ann).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/account/verify?"), "{location}");

    // Contoso trusts the provider's multi-factor sign-ins: Ann goes straight in.
    let trusted = portico
        .call(
            "admin/partners/set",
            &[("partner", partner.issuer()), ("trust_mfa", "on")],
            Some(&ada),
        )
        .await;
    assert!(trusted.ok(), "{trusted:?}");
    let (status, location) = open_wiki(&portico, &tenant, &wiki, &ann).await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with("https://wiki.contoso.example/callback?code="),
        "{location}"
    );
    let listed = portico.call("admin/partners", &[], Some(&ada)).await;
    assert_eq!(listed.body["partners"][0]["trust_mfa"], true, "{listed:?}");
    assert_eq!(
        listed.body["partners"][0]["partner"],
        format!("Partner sign-in ({})", partner.issuer())
    );

    // Blocked: Ann is refused, in words, and the log says why.
    let blocked = portico
        .call(
            "admin/partners/set",
            &[("partner", partner.issuer()), ("inbound_blocked", "on")],
            Some(&ada),
        )
        .await;
    assert!(blocked.ok(), "{blocked:?}");
    let (status, _) = open_wiki(&portico, &tenant, &wiki, &ann).await;
    assert_eq!(status, 403);
    let log = portico.call("admin/sign-ins", &[], Some(&ada)).await;
    assert_eq!(
        log.body[0]["reason"],
        "Contoso does not accept people from your organization or identity provider now."
    );

    // Another organization on this Portico, blocked by the default: its people cannot be
    // invited, and the refusal says why; nothing is made.
    portico.cli_json(
        &[
            "tenant",
            "create",
            "--name",
            "Fabrikam",
            "--domain",
            "fabrikam.example",
        ],
        "",
    );
    let by_default = portico
        .call(
            "admin/partners/set",
            &[("partner", ""), ("inbound_blocked", "on")],
            Some(&ada),
        )
        .await;
    assert!(by_default.ok(), "{by_default:?}");
    let refused = portico
        .call(
            "admin/invite",
            &[
                ("email", "bo@fabrikam.example"),
                ("display_name", ""),
                ("message", ""),
                ("redirect_url", ""),
                ("send_email", "on"),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(
        refused.message().contains("cross-tenant access settings"),
        "{refused:?}"
    );
    // An address at no organization here is not a partner's: still invited.
    portico.invite(&ada, "cy@elsewhere.example").await;
    // Unknown partners and this organization itself are refused in words.
    for (typed, words) in [
        ("nowhere.example", "No organization on this Portico"),
        ("contoso.example", "its own people are not partners"),
        ("https://idp.unknown.example", "No identity provider"),
    ] {
        let wrong = portico
            .call("admin/partners/set", &[("partner", typed)], Some(&ada))
            .await;
        assert_eq!(wrong.error_kind().as_deref(), Some("Invalid"), "{wrong:?}");
        assert!(wrong.body.to_string().contains(words), "{typed}: {wrong:?}");
    }
    let audited = portico.audited(&ada, "Set cross-tenant access").await["items"].clone();
    assert_eq!(audited.as_array().unwrap().len(), 3, "{audited}");
}

#[tokio::test]
async fn a_providers_acr_counts_as_multi_factor_once_the_organization_names_it() {
    const LOA3: &str = "urn:partner.example:loa:3";
    let partner = Partner::start(CLIENT_ID, CLIENT_SECRET).await;
    let (portico, ada, tenant) = contoso_with(&partner).await;
    let (wiki, _) = portico.sign_in_app(&tenant, "Wiki", "https://wiki.contoso.example/callback");
    let redemption = invite_and_start(&portico, &ada, ANN).await;
    partner.sign_in_next(Person::new("ann-0001", ANN));
    let (back, _) = redeem_through(&portico, &redemption).await;
    assert_eq!(back.status, 303, "{}", back.body);
    portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    portico.assign(&tenant, "Wiki", ANN);
    let policy = crate::conditional_access::form(&[("users", "guests")]);
    assert!(
        portico
            .call("admin/policies/save", &policy, Some(&ada))
            .await
            .ok()
    );
    // Ann's provider signs her in with a password (amr) at its level 3 (acr).
    let sign_in = || {
        partner.sign_in_next(Person {
            amr: vec!["pwd".into()],
            acr: Some(LOA3.into()),
            ..Person::new("ann-0001", ANN)
        });
        sign_in_through(&portico, ANN)
    };
    let trust = |acr| {
        let form = [
            ("partner", partner.issuer()),
            ("trust_mfa", "on"),
            ("mfa_acr", acr),
        ];
        let (portico, ada) = (&portico, &ada);
        async move { portico.call("admin/partners/set", &form, Some(ada)).await }
    };

    // Trusted, but with no acr named: a password is one factor; Ann is asked for another.
    assert!(trust("").await.ok());
    let back = sign_in().await;
    let ann = cookie(&back, "portico_session")
        .expect("signed in")
        .to_string();
    let (status, location) = open_wiki(&portico, &tenant, &wiki, &ann).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/account/verify?"), "{location}");

    // Contoso names the provider's level 3 as multi-factor: the next sign-in goes through.
    let named = trust(" urn:partner.example:loa:2\nurn:partner.example:loa:3 ").await;
    assert!(named.ok(), "{named:?}");
    let listed = portico.call("admin/partners", &[], Some(&ada)).await;
    assert_eq!(
        listed.body["partners"][0]["mfa_acr"],
        "urn:partner.example:loa:2 urn:partner.example:loa:3"
    );
    let back = sign_in().await;
    let ann = cookie(&back, "portico_session")
        .expect("signed in")
        .to_string();
    let (status, location) = open_wiki(&portico, &tenant, &wiki, &ann).await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with("https://wiki.contoso.example/callback?code="),
        "{location}"
    );

    // acr values are a provider's: for another organization, or the default, they are
    // refused in words, and nothing changes.
    let wrong = portico
        .call(
            "admin/partners/set",
            &[("partner", ""), ("mfa_acr", LOA3)],
            Some(&ada),
        )
        .await;
    assert_eq!(wrong.error_kind().as_deref(), Some("Invalid"), "{wrong:?}");
    assert!(
        wrong.body.to_string().contains("identity provider"),
        "{wrong:?}"
    );
    let audited = portico.audited(&ada, "Set cross-tenant access").await["items"].clone();
    assert_eq!(audited.as_array().unwrap().len(), 2, "{audited}");
    assert!(
        audited[0]["detail"].as_str().unwrap().ends_with(
            "acr meaning multi-factor: urn:partner.example:loa:2 urn:partner.example:loa:3"
        ),
        "{audited}"
    );
}
