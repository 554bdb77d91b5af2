//! What a security review found (issue 14), against the real binary: guessing one-time
//! codes at redemption, and what a member's identity keeps elsewhere once she is disabled.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A code that is surely not `code`.
fn other_than(code: &str) -> String {
    let first = if code.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &code[1..])
}

#[tokio::test]
async fn guessing_codes_across_redemptions_locks_the_invitation() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let ticket = portico.invite(&ada, "ann@partner.example").await;
    // The link is a secret: administrators do not read it on the Outbox page.
    let outbox = portico.call("admin/outbox", &[], Some(&ada)).await;
    assert_eq!(outbox.body[0]["recipient"], "ann@partner.example");
    assert!(
        !outbox.body.to_string().contains(&ticket),
        "{}",
        outbox.body
    );

    // Start, five wrong codes, decline, start again: twenty wrong codes in all lock it.
    for round in 0..4 {
        let redemption = portico.start_redemption(&ticket).await;
        let wrong = other_than(&portico.latest_code("ann@partner.example"));
        for attempt in 0..5 {
            let guess = portico
                .call_redeeming("redeem/verify", &[("code", &wrong)], &redemption)
                .await;
            if round == 3 && attempt == 4 {
                assert_eq!(guess.error_kind().as_deref(), Some("Refused"), "{guess:?}");
                assert!(guess.message().contains("locked"), "{guess:?}");
            } else {
                assert_eq!(guess.error_kind().as_deref(), Some("Invalid"), "{guess:?}");
            }
        }
        let declined = portico
            .call_redeeming("redeem/decline", &[], &redemption)
            .await;
        assert_eq!(declined.ok(), round < 3, "{declined:?}");
    }
    let (again, cookies) = portico
        .call_with_cookies("redeem/start", &[("ticket", &ticket)], "")
        .await;
    assert!(!again.ok(), "{again:?}");
    assert!(cookies.iter().all(|(name, _)| name != "portico_redeem"));
    let page = portico
        .http()
        .get(format!("{}/redeem?ticket={ticket}", portico.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("This invitation is locked"), "{page}");
    let locks = portico.audited(&ada, "Lock invitation").await;
    assert_eq!(locks["total"], 1, "{locks}");
    assert_eq!(locks["items"][0]["actor_name"], "Portico");

    // A new invitation from an administrator lets her in.
    let fresh = portico.invite(&ada, "ann@partner.example").await;
    let redemption = portico.start_redemption(&fresh).await;
    let code = portico.latest_code("ann@partner.example");
    let verified = portico
        .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
        .await;
    assert!(verified.ok(), "{verified:?}");
}

const REDIRECT: &str = "https://wiki.fabrikam.example/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";

/// Fabrikam's Wiki: a confidential client assigned to `guest`; answers (client id,
/// secret).
fn fabrikam_wiki(portico: &Portico, fabrikam: &str, guest: &str) -> (String, String) {
    let app = portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            fabrikam,
            "--name",
            "Wiki",
            "--launch-url",
            "https://wiki.fabrikam.example/",
        ],
        "",
    );
    let client_id = app["id"].as_str().unwrap().to_string();
    portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            fabrikam,
            "--app",
            "Wiki",
            "--redirect-uri",
            REDIRECT,
        ],
        "",
    );
    let secret = portico.cli_json(
        &["app", "secret", "--tenant", fabrikam, "--app", "Wiki"],
        "",
    )["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    portico.cli_json(
        &[
            "app", "assign", "--tenant", fabrikam, "--app", "Wiki", "--user", guest,
        ],
        "",
    );
    (client_id, secret)
}

/// Signs `session` in to Fabrikam's Wiki and exchanges the code; answers the tokens.
async fn wiki_tokens(
    portico: &Portico,
    fabrikam: &str,
    (client_id, secret): &(String, String),
    session: &str,
) -> Value {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid offline_access"),
            ("state", "s"),
            ("nonce", "n"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let response = portico
        .http()
        .get(format!(
            "{}/{fabrikam}/oauth2/v2.0/authorize?{query}",
            portico.url
        ))
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code: {location}"));
    let (status, tokens) = token(
        portico,
        fabrikam,
        client_id,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn token(
    portico: &Portico,
    fabrikam: &str,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = portico
        .http()
        .post(format!("{}/{fabrikam}/oauth2/v2.0/token", portico.url))
        .basic_auth(client_id, Some(secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(integration::encode_form(form))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_member_disabled_at_home_loses_her_sessions_and_tokens_in_partner_organizations() {
    let portico = Portico::start();
    let (contoso, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (fabrikam, _) = portico.seed_tenant(
        "Fabrikam",
        "fabrikam.example",
        "fay@fabrikam.example",
        &["global-administrator"],
    );
    let mia_id = portico.create_user(&contoso, "mia@contoso.example", &[]);
    // Fabrikam invites Mia, who accepts with her Contoso password.
    let fay = portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let ticket = portico.invite(&fay, "mia@contoso.example").await;
    let redemption = portico.start_redemption(&ticket).await;
    let proven = portico
        .call_redeeming("redeem/password", &[("password", PASSWORD)], &redemption)
        .await;
    assert!(proven.ok(), "{proven:?}");
    let accepted = portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    let in_fabrikam = accepted.cookie.expect("a session in Fabrikam");
    // And a session opened at home, switched to Fabrikam.
    let switched = portico.sign_in("mia@contoso.example", PASSWORD).await;
    let answer = portico
        .call(
            "organizations/switch",
            &[("tenant_id", &fabrikam)],
            Some(&switched),
        )
        .await;
    assert!(answer.ok(), "{answer:?}");
    for session in [&in_fabrikam, &switched] {
        let me = portico.call("me", &[], Some(session)).await;
        assert_eq!(me.body["tenant_name"], "Fabrikam", "{me:?}");
    }
    let wiki = fabrikam_wiki(&portico, &fabrikam, "mia@contoso.example");
    let tokens = wiki_tokens(&portico, &fabrikam, &wiki, &in_fabrikam).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();

    // Contoso disables her (after a compromise, say).
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let disabled = portico
        .call(
            "admin/user/enabled",
            &[("id", &mia_id), ("enabled", "false")],
            Some(&ada),
        )
        .await;
    assert!(disabled.ok(), "{disabled:?}");
    for session in [&in_fabrikam, &switched] {
        let me = portico.call("me", &[], Some(session)).await;
        assert_eq!(me.body, Value::Null, "the session in Fabrikam ended");
    }
    let (status, refused) = token(
        &portico,
        &fabrikam,
        &wiki.0,
        &wiki.1,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "{refused}"
    );
}
