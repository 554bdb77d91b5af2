//! Second factors against the real binary: an authenticator app set up through the
//! security page's forms, with codes computed here (RFC 6238, independently of Portico's
//! own code); recovery codes; the step-up page with its `next`; the session's methods in an
//! app's ID token (`amr`, `acr`); throttling; and a passcode guest doing the same.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico, encode, flash_of};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://wiki.contoso.example/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";
const MIA: &str = "mia@contoso.example";

/// Unix seconds now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The bytes of base32 text (spaces ignored), as authenticator apps read a key.
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u64, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base32") as u64;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The code an authenticator app with `secret` (base32) shows at `time`: RFC 6238 with
/// HMAC-SHA1, 30-second steps, 6 digits.
fn totp(secret: &str, time: u64) -> String {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &base32(secret));
    let mac = hmac::sign(&key, &(time / 30).to_be_bytes());
    let mac = mac.as_ref();
    let at = usize::from(mac[19] & 0x0f);
    let number = u32::from_be_bytes([mac[at], mac[at + 1], mac[at + 2], mac[at + 3]]) & 0x7fff_ffff;
    format!("{:06}", number % 1_000_000)
}

#[test]
fn the_test_s_own_totp_matches_rfc_6238() {
    // Appendix B's secret, "12345678901234567890", in base32; the last six of its digits.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp(secret, 59), "287082");
    assert_eq!(totp(secret, 1_111_111_109), "081804");
    assert_eq!(totp(secret, 20_000_000_000), "353130");
}

/// A page as a browser without JavaScript gets it: its HTML.
async fn page(portico: &Portico, path: &str, cookies: &str) -> String {
    let response = portico
        .http()
        .get(format!("{}{path}", portico.url))
        .header("Cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.unwrap()
}

/// A form posted by a browser without JavaScript from the page at `from`: the response
/// (a redirect), its `Location` and the flash it left, if any.
async fn post_form(
    portico: &Portico,
    endpoint: &str,
    form: &[(&str, &str)],
    session: &str,
    from: &str,
) -> (u16, String, Option<String>) {
    let response = portico
        .http()
        .post(format!("{}/fn/{endpoint}", portico.url))
        .header("Origin", &portico.url)
        .header("Referer", format!("{}{from}", portico.url))
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", format!("portico_session={session}"))
        .body(integration::encode_form(form))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let flash = flash_of(&response);
    (status, location, flash)
}

/// The text of the element whose id is `id`.
fn text_of(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page"));
    let rest = &page[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find('<').unwrap();
    rest[open..open + close].to_string()
}

/// The value of the flash's copy field (`label`), as the page shows it once.
fn copied(page: &str, label: &str) -> String {
    let input = page
        .split("<input")
        .find(|input| input.contains(&format!("aria-label=\"{label}\"")))
        .unwrap_or_else(|| panic!("no {label} on the page"));
    let value = input.split(" value=\"").nth(1).unwrap();
    value.split('"').next().unwrap().to_string()
}

/// Sets up an authenticator app through the forms of the page at `from` (the security or
/// the step-up page); returns its key, the time its first code was made, and the response
/// to the confirming form.
async fn set_up_app(
    portico: &Portico,
    session: &str,
    address: &str,
    endpoints: (&str, &str),
    from: &str,
    extra: &[(&str, &str)],
) -> (String, u64, (u16, String, Option<String>)) {
    let (status, location, _) = post_form(portico, endpoints.0, &[], session, from).await;
    assert_eq!(status, 302);
    // Back to the page, with its query as it was (Leptos writes it again, spaces as `+`,
    // and leaves a `?` where it took its own parameters off).
    let parts = |address: &str| {
        let url = url::Url::parse(address).expect("an address");
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        (url.path().to_string(), query)
    };
    assert_eq!(
        parts(&location),
        parts(&format!("{}{from}", portico.url)),
        "back to the page"
    );
    let shown = page(portico, from, &format!("portico_session={session}")).await;
    assert!(
        shown.contains(r#"role="img" aria-label="QR code for your authenticator app"#),
        "a labelled QR code"
    );
    assert!(shown.contains("<svg"), "drawn inline as SVG");
    let secret = text_of(&shown, "totp-secret");
    assert_eq!(secret.replace(' ', "").len(), 32, "{secret}");
    let uri = format!(
        "otpauth://totp/Portico:{address}?secret={}&amp;issuer=Portico&amp;algorithm=SHA1&amp;digits=6&amp;period=30",
        secret.replace(' ', "")
    );
    assert!(shown.contains(&uri), "the otpauth address {uri}");
    let at = now();
    let code = totp(&secret, at);
    let mut form = vec![("name", "Phone"), ("code", code.as_str())];
    form.extend_from_slice(extra);
    let confirmed = post_form(portico, endpoints.1, &form, session, from).await;
    (secret, at, confirmed)
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The claims of the ID token Wiki gets for the holder of `session`.
async fn id_token_of(
    portico: &Portico,
    tenant: &str,
    client: &(String, String),
    session: &str,
) -> Value {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client.0.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "s-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let authorized = portico
        .http()
        .get(format!(
            "{}/{tenant}/oauth2/v2.0/authorize?{query}",
            portico.url
        ))
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(authorized.status().as_u16(), 303);
    let location = authorized.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let tokens: Value = portico
        .http()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", portico.url))
        .basic_auth(&client.0, Some(&client.1))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(integration::encode_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payload = tokens["id_token"]
        .as_str()
        .expect("an ID token")
        .split('.')
        .nth(1)
        .unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_member_sets_up_an_app_and_apps_see_a_second_factor_after_the_step_up() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, MIA, &[]);
    let wiki = portico.sign_in_app(&tenant, "Wiki", REDIRECT);
    portico.assign(&tenant, "Wiki", MIA);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let mia = portico.sign_in(MIA, PASSWORD).await;
    let other = portico.sign_in(MIA, PASSWORD).await;

    // The discovery document lists the acr values and the claim.
    let discovery: Value = portico
        .http()
        .get(format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            portico.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        discovery["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&"acr".into())
    );
    assert_eq!(
        discovery["acr_values_supported"],
        serde_json::json!([
            "urn:portico:acr:1fa",
            "urn:portico:acr:mfa",
            "urn:portico:acr:phr"
        ])
    );
    // One factor so far.
    let claims = id_token_of(&portico, &tenant, &wiki, &mia).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], "urn:portico:acr:1fa");

    // The account page leads to the security page, which offers to set up an app.
    let account = page(&portico, "/account", &format!("portico_session={mia}")).await;
    assert!(account.contains(r#"href="/account/security""#));
    let security = page(
        &portico,
        "/account/security",
        &format!("portico_session={mia}"),
    )
    .await;
    assert!(security.contains("Set up an authenticator app"));
    assert!(security.contains("None yet."));

    // A wrong first code saves nothing and says why.
    let (status, _, _) = post_form(
        &portico,
        "account/security/totp/start",
        &[],
        &mia,
        "/account/security",
    )
    .await;
    assert_eq!(status, 302);
    let refused = portico
        .call(
            "account/security/totp/confirm",
            &[("name", ""), ("code", "12345")],
            Some(&mia),
        )
        .await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Invalid"),
        "{refused:?}"
    );
    assert!(
        refused
            .body
            .to_string()
            .contains("Enter the 6-digit code your app shows.")
    );

    let (secret, enrolled_at, (status, location, flash)) = set_up_app(
        &portico,
        &mia,
        MIA,
        (
            "account/security/totp/start",
            "account/security/totp/confirm",
        ),
        "/account/security",
        &[],
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(
        location.trim_end_matches('?'),
        format!("{}/account/security", portico.url)
    );
    let shown = page(
        &portico,
        "/account/security",
        &format!(
            "portico_session={mia}; portico_flash={}",
            flash.expect("a flash")
        ),
    )
    .await;
    let mut codes = codes_used(&shown);
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert!(
        codes.iter().all(|c| c.len() == 11 && &c[5..6] == "-"),
        "{codes:?}"
    );
    assert!(shown.contains("Phone"));
    assert!(shown.contains("You have 10 recovery codes left."));
    // Shown once.
    let again = page(
        &portico,
        "/account/security",
        &format!("portico_session={mia}"),
    )
    .await;
    assert!(!again.contains(&codes[0]));
    // The session that set it up shows two factors; the other session was signed out.
    let claims = id_token_of(&portico, &tenant, &wiki, &mia).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    let signed_out = portico.call("me", &[], Some(&other)).await;
    assert_eq!(signed_out.body, Value::Null, "{signed_out:?}");
    let added = portico.audited(&ada, "Add second factor").await;
    assert_eq!(added["items"].as_array().map(Vec::len), Some(1), "{added}");

    // Signed out and in again: one factor, until the step-up.
    assert!(portico.call("sign_out", &[], Some(&mia)).await.ok());
    let mia = portico.sign_in(MIA, PASSWORD).await;
    let cookies = format!("portico_session={mia}");
    let claims = id_token_of(&portico, &tenant, &wiki, &mia).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    let verify = page(
        &portico,
        "/account/verify?next=%2F&policy=Require%20MFA%20for%20Wiki",
        &cookies,
    )
    .await;
    assert!(
        verify.contains(
            "Your organization's policy “Require MFA for Wiki” asks for a second factor."
        ),
        "the policy is named"
    );
    assert!(verify.contains("Code from your authenticator app"));
    assert!(verify.contains("Use a recovery code instead"));
    // The code that set the app up was used: refused, and so is every code of its step.
    let used = totp(&secret, enrolled_at);
    let replayed = portico
        .call(
            "account/verify/code",
            &[("code", &used), ("next", "/")],
            Some(&mia),
        )
        .await;
    assert_eq!(
        replayed.error_kind().as_deref(),
        Some("Invalid"),
        "{replayed:?}"
    );
    // The next step's code (within the window of one step) works, and leads to `next`.
    let fresh = totp(&secret, now() + 30);
    let (status, location, _) = post_form(
        &portico,
        "account/verify/code",
        &[("code", &fresh), ("next", "/")],
        &mia,
        "/account/verify?next=%2F",
    )
    .await;
    assert_eq!((status, location.as_str()), (302, "/"));
    // The same code again is refused.
    let replayed = portico
        .call(
            "account/verify/code",
            &[("code", &fresh), ("next", "/")],
            Some(&mia),
        )
        .await;
    assert_eq!(
        replayed.error_kind().as_deref(),
        Some("Invalid"),
        "{replayed:?}"
    );
    assert!(
        replayed.body.to_string().contains("used already"),
        "{replayed:?}"
    );
    // The app's ID token says so: `otp` once, `mfa`, and the acr of more than one factor.
    let claims = id_token_of(&portico, &tenant, &wiki, &mia).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "urn:portico:acr:mfa");
    let verified = page(&portico, "/account/verify?next=%2Fapps", &cookies).await;
    assert!(verified.contains("Your second factor is verified for this session."));
    assert!(verified.contains(r#"href="/apps""#));

    // A recovery code works once; `next` leads only to a path on Portico.
    let signed_in_again = portico.sign_in(MIA, PASSWORD).await;
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
    ] {
        let code = codes.remove(0);
        let (status, location, _) = post_form(
            &portico,
            "account/verify/recovery-code",
            &[("recovery_code", &code), ("next", next)],
            &signed_in_again,
            "/account/verify",
        )
        .await;
        assert_eq!((status, location.as_str()), (302, "/"), "{next}");
    }
    let evil = page(
        &portico,
        "/account/verify?next=https%3A%2F%2Fevil.example%2F",
        &format!("portico_session={signed_in_again}"),
    )
    .await;
    assert!(!evil.contains("evil.example/\""), "no link to another site");
    let reused = portico
        .call(
            "account/verify/recovery-code",
            &[("recovery_code", &codes_used(&shown)[0]), ("next", "/")],
            Some(&signed_in_again),
        )
        .await;
    assert_eq!(
        reused.error_kind().as_deref(),
        Some("Invalid"),
        "{reused:?}"
    );
    let claims = id_token_of(&portico, &tenant, &wiki, &signed_in_again).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    let security = page(
        &portico,
        "/account/security",
        &format!("portico_session={signed_in_again}"),
    )
    .await;
    assert!(security.contains("You have 7 recovery codes left."));
    assert_eq!(
        portico.audited(&ada, "Use recovery code").await["items"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // New recovery codes replace the old ones.
    let new = portico
        .call(
            "account/security/recovery-codes",
            &[],
            Some(&signed_in_again),
        )
        .await;
    assert!(new.ok(), "{new:?}");
    assert_eq!(new.body.as_array().map(Vec::len), Some(10));
    let old = portico
        .call(
            "account/verify/recovery-code",
            &[("recovery_code", &codes[0]), ("next", "/")],
            Some(&signed_in_again),
        )
        .await;
    assert_eq!(old.error_kind().as_deref(), Some("Invalid"), "{old:?}");

    // Guessing is throttled like signing in: ten wrong codes in a window, then nothing.
    let guesser = portico.sign_in(MIA, PASSWORD).await;
    let right = totp(&secret, now());
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    let mut throttled = false;
    for _ in 0..11 {
        let guess = portico
            .call(
                "account/verify/code",
                &[("code", wrong), ("next", "/")],
                Some(&guesser),
            )
            .await;
        if guess.error_kind().as_deref() == Some("Refused") {
            assert!(
                guess.message().starts_with("Too many attempts."),
                "{guess:?}"
            );
            throttled = true;
            break;
        }
        assert_eq!(guess.error_kind().as_deref(), Some("Invalid"), "{guess:?}");
    }
    assert!(throttled, "wrong codes are throttled");
    let right = portico
        .call(
            "account/verify/code",
            &[("code", &totp(&secret, now() + 30)), ("next", "/")],
            Some(&guesser),
        )
        .await;
    assert!(
        right.message().starts_with("Too many attempts."),
        "{right:?}"
    );
}

/// The recovery codes a page's flash showed.
fn codes_used(page: &str) -> Vec<String> {
    copied(page, "Your recovery codes")
        .split(' ')
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn a_passcode_guest_sets_up_an_app_at_the_step_up_and_verifies_with_it_later() {
    const ANN: &str = "ann@partner.example";
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let ann = portico.invite_and_redeem(&ada, ANN).await;
    let from = "/account/verify?next=%2Fsome%2Fapp&policy=Guests+need+MFA";
    let shown = page(&portico, from, &format!("portico_session={ann}")).await;
    assert!(
        shown.contains("Your organization's policy “Guests need MFA” asks for a second factor.")
    );
    assert!(shown.contains("You have no second factor yet."));
    let (secret, _, (status, location, flash)) = set_up_app(
        &portico,
        &ann,
        ANN,
        ("account/verify/totp/start", "account/verify/totp/confirm"),
        from,
        &[("next", "/some/app"), ("policy", "Guests need MFA")],
    )
    .await;
    // Back to the step-up page, which shows the recovery codes once and leads on.
    assert_eq!(status, 302);
    assert_eq!(
        location,
        format!(
            "/account/verify?next={}&policy={}",
            encode("/some/app"),
            encode("Guests need MFA")
        )
    );
    let done = page(
        &portico,
        &location,
        &format!(
            "portico_session={ann}; portico_flash={}",
            flash.expect("a flash")
        ),
    )
    .await;
    assert_eq!(codes_used(&done).len(), 10);
    assert!(done.contains("Your second factor is verified for this session."));
    assert!(done.contains(r#"href="/some/app""#));
    // A second app cannot be added from the step-up page.
    let again = portico
        .call("account/verify/totp/start", &[], Some(&ann))
        .await;
    assert_eq!(again.error_kind().as_deref(), Some("Refused"), "{again:?}");

    // Another day: a passcode, then a code from the app.
    let (sent, cookies) = portico
        .call_with_cookies("sign_in/code/send", &[("email", ANN)], "")
        .await;
    assert!(sent.ok(), "{sent:?}");
    let token = cookies
        .iter()
        .find(|(k, _)| k == "portico_signin")
        .map(|(_, v)| v.clone())
        .expect("a sign-in cookie");
    let passcode = portico.latest_code(ANN);
    let (signed_in, _) = portico
        .call_with_cookies(
            "sign_in/code/verify",
            &[("code", &passcode)],
            &format!("portico_signin={token}"),
        )
        .await;
    let ann = signed_in.cookie.expect("a session");
    let step = portico.call("account/verify", &[], Some(&ann)).await;
    assert_eq!(
        (
            step.body["has_factor"].as_bool(),
            step.body["verified"].as_bool()
        ),
        (Some(true), Some(false)),
        "{step:?}"
    );
    let fresh = totp(&secret, now() + 30);
    let (status, location, _) = post_form(
        &portico,
        "account/verify/code",
        &[("code", &fresh), ("next", "/some/app")],
        &ann,
        from,
    )
    .await;
    assert_eq!((status, location.as_str()), (302, "/some/app"));
    let step = portico.call("account/verify", &[], Some(&ann)).await;
    assert_eq!(step.body["verified"], true, "{step:?}");
}

/// The bytes of the hexadecimal text `/continue?to=` carries, as text.
fn unhex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn guests_asked_for_mfa_by_a_policy_set_up_an_app_and_go_on_to_the_app_signed_in() {
    const ANN: &str = "ann@partner.example";
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let wiki = portico.sign_in_app(&tenant, "Wiki", REDIRECT);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let ann = portico.invite_and_redeem(&ada, ANN).await;
    portico.assign(&tenant, "Wiki", ANN);
    let policy = crate::conditional_access::form(&[
        ("name", "Guests need MFA for the Wiki"),
        ("users", "guests"),
    ]);
    let saved = portico
        .call("admin/policies/save", &policy, Some(&ada))
        .await;
    assert!(saved.ok(), "{saved:?}");

    // Ann, signed in with a passcode only, opens the Wiki: she is asked for a second factor.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", wiki.0.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s-2"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let authorize = format!("{}/{tenant}/oauth2/v2.0/authorize?{query}", portico.url);
    let asked = portico
        .http()
        .get(&authorize)
        .header("Cookie", format!("portico_session={ann}"))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status().as_u16(), 303);
    let step_up = asked.headers()["location"].to_str().unwrap().to_string();
    assert!(step_up.starts_with("/account/verify?"), "{step_up}");
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(step_up.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(params["policy"], "Guests need MFA for the Wiki");
    let shown = page(&portico, &step_up, &format!("portico_session={ann}")).await;
    assert!(shown.contains("“Guests need MFA for the Wiki” asks for a second factor."));

    // She sets up an app there (codes computed here), and goes on where she was going.
    let (_, _, (status, _, _)) = set_up_app(
        &portico,
        &ann,
        ANN,
        ("account/verify/totp/start", "account/verify/totp/confirm"),
        &step_up,
        &[("next", &params["next"]), ("policy", &params["policy"])],
    )
    .await;
    assert_eq!(status, 302);
    let pending = unhex(params["next"].strip_prefix("/continue?to=").unwrap());
    let back = portico
        .http()
        .get(format!("{}{pending}", portico.url))
        .header("Cookie", format!("portico_session={ann}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status().as_u16(), 303);
    let landed = back.headers()["location"].to_str().unwrap();
    assert!(landed.starts_with(REDIRECT), "{landed}");
    assert!(landed.contains("code="), "{landed}");

    // From now on the Wiki signs her in at once, and its ID token says how: a mailed code
    // and an app's code, two factors.
    let claims = id_token_of(&portico, &tenant, &wiki, &ann).await;
    assert_eq!(claims["amr"], serde_json::json!(["otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:portico:acr:mfa");

    // The sign-in log has the step-up's failure, then the successes.
    let log = portico
        .call("admin/sign-ins", &[("policy", "")], Some(&ada))
        .await;
    let results: Vec<(bool, String, String)> = log.body.as_array().unwrap()[..3]
        .iter()
        .map(|e| {
            (
                e["success"].as_bool().unwrap(),
                e["ca_status"].as_str().unwrap().to_string(),
                e["ca_policies"][0]["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = |success: bool, status: &str, result: &str| {
        (success, status.to_string(), result.to_string())
    };
    assert_eq!(
        results,
        [
            expected(true, "success", "success"),
            expected(true, "success", "success"),
            expected(false, "failure", "failure"),
        ]
    );
}

#[tokio::test]
async fn the_last_app_stays_while_a_policy_on_asks_its_holder_for_a_second_factor() {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, MIA, &[]);
    portico.sign_in_app(&tenant, "Wiki", REDIRECT);
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let mia = portico.sign_in(MIA, PASSWORD).await;
    let (_, _, (status, _, _)) = set_up_app(
        &portico,
        &mia,
        MIA,
        (
            "account/security/totp/start",
            "account/security/totp/confirm",
        ),
        "/account/security",
        &[],
    )
    .await;
    assert_eq!(status, 302);
    let policy = crate::conditional_access::form(&[("name", "Everyone needs MFA for the Wiki")]);
    let saved = portico
        .call("admin/policies/save", &policy, Some(&ada))
        .await;
    assert!(saved.ok(), "{saved:?}");
    let overview = portico.call("account/security", &[], Some(&mia)).await;
    let id = overview.body["factors"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Removing her only app is refused, naming the policy; the app stays.
    let refused = portico
        .call("account/security/remove", &[("id", &id)], Some(&mia))
        .await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("Everyone needs MFA for the Wiki"),
        "{refused:?}"
    );
    let overview = portico.call("account/security", &[], Some(&mia)).await;
    assert_eq!(overview.body["factors"].as_array().map(Vec::len), Some(1));

    // In report-only the policy asks nothing: she may remove it.
    let listed = portico.call("admin/policies", &[], Some(&ada)).await;
    let policy_id = listed.body[0][0]["id"].as_str().unwrap().to_string();
    let report_only = crate::conditional_access::form(&[
        ("id", &policy_id),
        ("name", "Everyone needs MFA for the Wiki"),
        ("state", "enabledForReportingButNotEnforced"),
    ]);
    assert!(
        portico
            .call("admin/policies/save", &report_only, Some(&ada))
            .await
            .ok()
    );
    let removed = portico
        .call("account/security/remove", &[("id", &id)], Some(&mia))
        .await;
    assert!(removed.ok(), "{removed:?}");
}
