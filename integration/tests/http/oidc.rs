//! Portico as an OpenID Connect provider, against the real binary: the checks of the
//! OpenID Foundation's basic OP plan that apply, and assignment enforcement.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://wiki.contoso.example/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";

/// Contoso with Ada (admin) and Mia (member, assigned to Wiki); Wiki is a confidential
/// client with one redirect address and a secret.
struct Fixture {
    portico: Portico,
    tenant: String,
    client_id: String,
    secret: String,
    mia: String,
}

async fn fixture() -> Fixture {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    portico.create_user(&tenant, "mia@contoso.example", &[]);
    portico.create_user(&tenant, "max@contoso.example", &[]);
    let app = portico.cli_json(
        &[
            "app",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "Wiki",
            "--launch-url",
            "https://wiki.contoso.example/",
        ],
        "",
    );
    let client_id = app["id"].as_str().unwrap().to_string();
    portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            &tenant,
            "--app",
            "Wiki",
            "--redirect-uri",
            REDIRECT,
            "--post-logout-uri",
            "https://wiki.contoso.example/bye",
        ],
        "",
    );
    let secret = portico.cli_json(&["app", "secret", "--tenant", &tenant, "--app", "Wiki"], "")
        ["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    portico.cli_json(
        &[
            "app",
            "assign",
            "--tenant",
            &tenant,
            "--app",
            "Wiki",
            "--user",
            "mia@contoso.example",
        ],
        "",
    );
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;
    Fixture {
        portico,
        tenant,
        client_id,
        secret,
        mia,
    }
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The query of a redirect's `Location`.
fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

impl Fixture {
    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.portico.url, self.tenant)
    }

    /// The standard parameters, with `extra` replacing or adding some (an empty value
    /// removes one).
    fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let mut params: Vec<(String, String)> = [
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid profile email offline_access"),
            ("state", "s-123"),
            ("nonce", "n-456"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, value) in extra {
            params.retain(|(k, _)| k != key);
            if !value.is_empty() {
                params.push((key.to_string(), value.to_string()));
            }
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{}?{query}", self.endpoint("oauth2/v2.0/authorize"))
    }

    /// GETs the authorization endpoint; returns (status, Location, body).
    async fn authorize(
        &self,
        extra: &[(&str, &str)],
        session: Option<&str>,
    ) -> (u16, String, String) {
        let mut request = self.portico.http().get(self.authorize_url(extra));
        if let Some(session) = session {
            request = request.header("Cookie", format!("portico_session={session}"));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, response.text().await.unwrap())
    }

    /// A code for Mia (with PKCE).
    async fn code(&self, extra: &[(&str, &str)]) -> String {
        let challenge = challenge(VERIFIER);
        let mut params = vec![
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        let (status, location, body) = self.authorize(&params, Some(&self.mia)).await;
        assert_eq!(status, 303, "{body}");
        let query = query_of(&location);
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(query["state"], "s-123");
        assert_eq!(
            query["iss"],
            format!("{}/{}/v2.0", self.portico.url, self.tenant)
        );
        query["code"].clone()
    }

    /// POSTs the token endpoint with the client's secret in a Basic header.
    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        self.token_as(form, Some((&self.client_id, &self.secret)))
            .await
    }

    async fn token_as(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut request = self
            .portico
            .http()
            .post(self.endpoint("oauth2/v2.0/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(integration::encode_form(form));
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn exchange(&self, code: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    async fn userinfo(&self, token: &str) -> (u16, Value) {
        let response = self
            .portico
            .http()
            .get(self.endpoint("oidc/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// The claims of a JWT, unverified (verification is its own test).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_and_the_key_set_describe_the_tenants_issuer() {
    let f = fixture().await;
    let by_domain = format!(
        "{}/contoso.example/v2.0/.well-known/openid-configuration",
        f.portico.url
    );
    let config: Value = f
        .portico
        .http()
        .get(by_domain)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Fetched under the tenant's domain, the document names that address as the issuer
    // (OpenID Connect Discovery 1.0 §4.3), and every endpoint is under it.
    let issuer = format!("{}/contoso.example/v2.0", f.portico.url);
    assert_eq!(config["issuer"], issuer.as_str());
    assert_eq!(
        config["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        config["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        config["authorization_response_iss_parameter_supported"],
        true
    );
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        assert!(
            config[endpoint]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/contoso.example/", f.portico.url)),
            "{endpoint}"
        );
    }
    // Under the id, the id.
    let by_id: Value = f
        .portico
        .http()
        .get(f.endpoint("v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_id["issuer"],
        format!("{}/{}/v2.0", f.portico.url, f.tenant).as_str()
    );
    let jwks: Value = f
        .portico
        .http()
        .get(config["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(
        keys.iter()
            .any(|k| k["alg"] == "ES256" && k["kty"] == "EC" && k["crv"] == "P-256")
    );
    let key = keys.iter().find(|k| k["alg"] == "RS256").unwrap();
    assert_eq!(key["kty"], "RSA");
    assert!(key["kid"].is_string() && key["n"].as_str().unwrap().len() > 300);
    assert!(
        jwks.get("d").is_none() && key.get("d").is_none(),
        "no private part"
    );
    let unknown = f
        .portico
        .http()
        .get(format!(
            "{}/nowhere.example/v2.0/.well-known/openid-configuration",
            f.portico.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

#[tokio::test]
async fn a_member_gets_a_code_and_an_id_token_the_openidconnect_crate_verifies() {
    use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};

    let f = fixture().await;
    let code = f.code(&[]).await;
    let (status, tokens) = f.exchange(&code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let id_token = tokens["id_token"].as_str().unwrap();

    let jwks: CoreJsonWebKeySet = f
        .portico
        .http()
        .get(f.endpoint("discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = IssuerUrl::new(format!("{}/{}/v2.0", f.portico.url, f.tenant)).unwrap();
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(f.client_id.clone()),
        ClientSecret::new(f.secret.clone()),
        issuer,
        jwks,
    );
    let token: CoreIdToken = id_token.parse().unwrap();
    let verified = token
        .claims(&verifier, &Nonce::new("n-456".into()))
        .expect("a valid ID token");
    assert_eq!(
        verified.email().map(|e| e.as_str()),
        Some("mia@contoso.example")
    );
    assert!(
        token
            .claims(&verifier, &Nonce::new("another".into()))
            .is_err(),
        "the nonce is checked"
    );

    let c = claims(id_token);
    assert_eq!(c["nonce"], "n-456");
    assert_eq!(c["aud"], f.client_id.as_str());
    assert_eq!(c["tid"], f.tenant.as_str());
    assert_eq!(c["acct"], 0);
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));
    assert!(c["auth_time"].as_i64().unwrap() <= c["iat"].as_i64().unwrap());
    assert!(c.get("idp").is_none(), "members sign in at home");

    // A tampered token fails.
    let mut parts: Vec<String> = id_token.split('.').map(String::from).collect();
    let mut forged = claims(id_token);
    forged["email"] = "ada@contoso.example".into();
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    let tampered: CoreIdToken = parts.join(".").parse().unwrap();
    assert!(
        tampered
            .claims(&verifier, &Nonce::new("n-456".into()))
            .is_err()
    );

    // userinfo with the access token, by GET and by POST; without one, refused.
    let access = tokens["access_token"].as_str().unwrap();
    let (status, info) = f.userinfo(access).await;
    assert_eq!(status, 200);
    assert_eq!(info["email"], "mia@contoso.example");
    assert_eq!(info["sub"], c["sub"]);
    let posted = f
        .portico
        .http()
        .post(f.endpoint("oidc/userinfo"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status().as_u16(), 200);
    let (status, _) = f.userinfo("not-a-token").await;
    assert_eq!(status, 401);
    let none = f
        .portico
        .http()
        .get(f.endpoint("oidc/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 401);
    assert!(
        none.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn a_code_works_once_and_its_reuse_revokes_what_it_gave() {
    let f = fixture().await;
    let code = f.code(&[]).await;
    let (status, tokens) = f.exchange(&code).await;
    assert_eq!(status, 200);
    let (status, again) = f.exchange(&code).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = f.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401, "the access token of a reused code is revoked");
    let (status, refreshed) = f
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(
        (status, refreshed["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Fifty exchanges of one code at once: one gets tokens.
    let code = f.code(&[]).await;
    let attempts = (0..50).map(|_| f.exchange(&code));
    let results = futures::future::join_all(attempts).await;
    let granted = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(granted, 1, "{results:?}");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_revokes_the_family() {
    let f = fixture().await;
    let code = f.code(&[]).await;
    let (_, first) = f.exchange(&code).await;
    let old = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &old)])
        .await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert!(second["id_token"].is_string());
    // The old one again: refused, and the new one dies with it.
    let (status, replay) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &old)])
        .await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = f.userinfo(second["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    let newest = second["refresh_token"].as_str().unwrap();
    let (status, _) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", newest)])
        .await;
    assert_eq!(status, 400);

    // Taking Mia off the app ends her grant at the next refresh.
    let code = f.code(&[]).await;
    let (_, tokens) = f.exchange(&code).await;
    let ada = f.portico.sign_in("ada@contoso.example", PASSWORD).await;
    let unassigned = f
        .portico
        .call(
            "admin/app/assignment",
            &[
                ("id", &f.client_id),
                ("kind", "user"),
                ("who", "mia@contoso.example"),
                ("present", "false"),
            ],
            Some(&ada),
        )
        .await;
    assert!(unassigned.ok(), "{unassigned:?}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, refused) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = f.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401, "its family is revoked");
    f.portico.cli_json(
        &[
            "app",
            "assign",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--user",
            "mia@contoso.example",
        ],
        "",
    );

    // Without offline_access there is no refresh token, and only the scopes asked for
    // bring their claims.
    let challenge = challenge(VERIFIER);
    let (_, location, _) = f
        .authorize(
            &[
                ("scope", "openid"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
            Some(&f.mia),
        )
        .await;
    let (_, plain) = f.exchange(&query_of(&location)["code"]).await;
    assert!(plain.get("refresh_token").is_none(), "{plain}");
    let c = claims(plain["id_token"].as_str().unwrap());
    assert!(c.get("email").is_none() && c.get("name").is_none(), "{c}");

    // Fifty uses of one refresh token at once: one succeeds, and the family is revoked.
    let code = f.code(&[]).await;
    let (_, tokens) = f.exchange(&code).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let attempts = (0..50).map(|_| f.token(&form));
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(winners.len(), 1);
    let (status, _) = f
        .userinfo(winners[0]["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 401, "the family is revoked");
}

#[tokio::test]
async fn only_registered_redirect_addresses_exactly_as_written_get_anything() {
    let f = fixture().await;
    let mut variants: Vec<String> = vec![
        "".into(),
        "https://wiki.contoso.example/callback/".into(),
        "https://wiki.contoso.example/Callback".into(),
        "https://WIKI.contoso.example/callback".into(),
        "HTTPS://wiki.contoso.example/callback".into(),
        "http://wiki.contoso.example/callback".into(),
        "https://wiki.contoso.example:443/callback".into(),
        "https://wiki.contoso.example:8443/callback".into(),
        "https://wiki.contoso.example/callback?x=1".into(),
        "https://wiki.contoso.example/callback?".into(),
        "https://wiki.contoso.example/callback#frag".into(),
        "https://wiki.contoso.example/callback#".into(),
        "https://wiki.contoso.example/callback/../callback".into(),
        "https://wiki.contoso.example/./callback".into(),
        "https://wiki.contoso.example//callback".into(),
        "https://wiki.contoso.example/callback%2F".into(),
        "https://wiki.contoso.example/%63allback".into(),
        "https://wiki.contoso.example/callback%00".into(),
        "https://wiki.contoso.example/callback%20".into(),
        "https://wiki.contoso.example/callback ".into(),
        " https://wiki.contoso.example/callback".into(),
        "https://wiki.contoso.example.evil.example/callback".into(),
        "https://evil.example/callback".into(),
        "https://evil.example/https://wiki.contoso.example/callback".into(),
        "https://wiki.contoso.example@evil.example/callback".into(),
        "https://user@wiki.contoso.example/callback".into(),
        "https://user:pass@wiki.contoso.example/callback".into(),
        "https://evil.example#@wiki.contoso.example/callback".into(),
        "https://evil.example?@wiki.contoso.example/callback".into(),
        "https://evil.example\\@wiki.contoso.example/callback".into(),
        "https://wiki.contoso.example%2eevil.example/callback".into(),
        "https://wiki.contoso.example%40evil.example/callback".into(),
        "//wiki.contoso.example/callback".into(),
        "/callback".into(),
        "callback".into(),
        "wiki.contoso.example/callback".into(),
        "javascript:alert(1)//wiki.contoso.example/callback".into(),
        "data:text/html,https://wiki.contoso.example/callback".into(),
        "http://localhost/callback".into(),
        "http://127.0.0.1/callback".into(),
        "http://[::1]/callback".into(),
        "http://localhost.evil.example/callback".into(),
        "http://127.0.0.1.nip.io/callback".into(),
        "http://0x7f000001/callback".into(),
        "http://2130706433/callback".into(),
        "https://wiki.contoso.example./callback".into(),
        "https://wiki%2Econtoso.example/callback".into(),
        "https://xn--wiki-contoso.example/callback".into(),
        "https://wiki.contoso.example\t/callback".into(),
        "https://wiki.contoso.example/callback\n".into(),
        "https://wiki.contoso.example/callback;x".into(),
        "https://wiki.contoso.example/callback%3Fx=1".into(),
        "https://wiki.contoso.example/callback%23x".into(),
        "https://wiki.contoso.example/CALLBACK".into(),
        "https://wiki.contoso.example/callbackx".into(),
        "https://wiki.contoso.example/callbac".into(),
        "https://wiki.contoso.exampl/callback".into(),
        "https://ki.contoso.example/callback".into(),
        "https://wiki.contoso.example:0/callback".into(),
        "https://wiki.contoso.example:/callback".into(),
        "ftp://wiki.contoso.example/callback".into(),
        "wss://wiki.contoso.example/callback".into(),
    ];
    // Every single-character case flip and every appended character of the real one.
    let real = REDIRECT.to_string();
    for (i, c) in real.char_indices().filter(|(_, c)| c.is_ascii_alphabetic()) {
        let mut flipped = real.clone();
        flipped.replace_range(i..i + 1, &c.to_ascii_uppercase().to_string());
        variants.push(flipped);
    }
    for suffix in [
        "/", "x", "%", "?", "#", ".", "..", "%2e", "&", "=", "!", "~", "*", "'", "(", ")", "$",
        ",", ";", "+", "@",
    ] {
        variants.push(format!("{real}{suffix}"));
    }
    variants.sort();
    variants.dedup();
    variants.retain(|v| v != REDIRECT);
    assert!(variants.len() >= 100, "only {} variants", variants.len());
    for variant in &variants {
        let (status, location, body) = f
            .authorize(&[("redirect_uri", variant)], Some(&f.mia))
            .await;
        assert_eq!(
            status, 400,
            "{variant:?} was not refused: {location} {body}"
        );
        assert!(
            location.is_empty(),
            "{variant:?} sent the browser to {location}"
        );
        assert!(
            body.contains("not registered") || body.contains("redirect_uri is missing"),
            "{variant:?}: {body}"
        );
    }
    // An unknown client gets the same page, never a redirect.
    let (status, location, _) = f
        .authorize(&[("client_id", "not-a-client")], Some(&f.mia))
        .await;
    assert_eq!((status, location.as_str()), (400, ""));
}

#[tokio::test]
async fn pkce_is_required_for_public_clients_s256_only_and_checked_at_exchange() {
    let f = fixture().await;
    // Confidential: a wrong verifier, a missing one, and one without a challenge.
    let code = f.code(&[]).await;
    let (status, wrong) = f
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "another-verifier-that-is-long-enough-0123456789abc",
            ),
        ])
        .await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let code = f.code(&[]).await;
    let (status, _) = f
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, 400);
    let (_, location, _) = f.authorize(&[], Some(&f.mia)).await;
    let code = query_of(&location)["code"].clone();
    let (status, body) = f.exchange(&code).await;
    assert_eq!(status, 400, "a verifier without a challenge: {body}");
    let (_, location, _) = f.authorize(&[], Some(&f.mia)).await;
    let code = query_of(&location)["code"].clone();
    let (status, body) = f
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, 200, "a confidential client may skip PKCE: {body}");

    // plain is refused, at the client's redirect address.
    let (status, location, _) = f
        .authorize(
            &[
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "plain"),
            ],
            Some(&f.mia),
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(query_of(&location)["error"], "invalid_request");

    // A public client must use PKCE and has no secret.
    f.portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--client-type",
            "public",
            "--redirect-uri",
            REDIRECT,
        ],
        "",
    );
    let (_, location, _) = f.authorize(&[], Some(&f.mia)).await;
    assert_eq!(query_of(&location)["error"], "invalid_request");
    let code = f.code(&[]).await;
    let (status, tokens) = f
        .token_as(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", &f.client_id),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let (status, refused) = f
        .token_as(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &f.client_id),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn clients_authenticate_by_basic_or_post_and_a_wrong_secret_is_refused() {
    let f = fixture().await;
    let code = f.code(&[]).await;
    let (status, tokens) = f
        .token_as(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", &f.client_id),
                ("client_secret", &f.secret),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "client_secret_post: {tokens}");
    let code = f.code(&[]).await;
    let (status, refused) = f
        .token_as(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some((&f.client_id, "wrong")),
        )
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // The code is still good for the real client.
    let (status, _) = f.exchange(&code).await;
    assert_eq!(status, 200);
    let scope = format!("{}/.default", f.portico.url);
    let (status, grant) = f
        .token(&[("grant_type", "client_credentials"), ("scope", &scope)])
        .await;
    assert_eq!(status, 200, "{grant}");
    assert!(grant.get("id_token").is_none() && grant.get("refresh_token").is_none());
    // A program's access token is a JWT signed with the published ES256 key.
    let access = grant["access_token"].as_str().unwrap().to_string();
    let (signed, signature) = access.rsplit_once('.').unwrap();
    let part = |i: usize| -> Value {
        serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(signed.split('.').nth(i).unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    let (header, claims) = (part(0), part(1));
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["sub"], f.client_id.as_str());
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["aud"], f.portico.url.as_str());
    assert_eq!(
        claims["roles"],
        serde_json::json!([]),
        "nothing granted yet"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    let jwks: Value = f
        .portico
        .http()
        .get(f.endpoint("discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the signing key is published");
    let jwk: openidconnect::core::CoreJsonWebKey = serde_json::from_value(jwk.clone()).unwrap();
    use openidconnect::JsonWebKey;
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    jwk.verify_signature(
        &openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        signed.as_bytes(),
        &signature,
    )
    .expect("the signature verifies with the published key");
    let mut tampered = signature.clone();
    tampered[0] ^= 1;
    assert!(
        jwk.verify_signature(
            &openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            signed.as_bytes(),
            &tampered,
        )
        .is_err()
    );
    // It is no person's token: userinfo refuses it.
    assert_eq!(f.userinfo(&access).await.0, 401);
    let (status, _) = f
        .token(&[
            ("grant_type", "password"),
            ("username", "mia"),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(status, 400, "no password grant");
}

#[tokio::test]
async fn prompt_max_age_and_protocol_errors_answer_as_the_spec_says() {
    let f = fixture().await;
    // Nobody signed in: prompt=none comes back with login_required; otherwise sign in first.
    let (status, location, _) = f.authorize(&[("prompt", "none")], None).await;
    assert_eq!(status, 303);
    let query = query_of(&location);
    assert_eq!(
        (query["error"].as_str(), query["state"].as_str()),
        ("login_required", "s-123")
    );
    let (status, location, _) = f
        .authorize(&[("login_hint", "mia@contoso.example")], None)
        .await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with("/signin?next=%2Fcontinue%3Fto%3D"),
        "{location}"
    );
    assert!(
        location.contains("email=mia%40contoso.example"),
        "{location}"
    );
    // prompt=login asks for a new sign-in even with a session; max_age likewise once passed.
    // (Sign-in times are whole seconds: Mia's session is made older than this request.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, location, _) = f.authorize(&[("prompt", "login")], Some(&f.mia)).await;
    assert!(location.starts_with("/signin?"), "{location}");
    // The request kept meanwhile takes only a sign-in made after it, not the old session.
    let kept = unhex(
        query_of(&location)["next"]
            .strip_prefix("/continue?to=")
            .unwrap(),
    );
    let old_session = f
        .portico
        .http()
        .get(format!("{}{kept}", f.portico.url))
        .header("Cookie", format!("portico_session={}", f.mia))
        .send()
        .await
        .unwrap();
    let again = old_session.headers()["location"].to_str().unwrap();
    assert!(again.starts_with("/signin?"), "{again}");
    let fresh = f.portico.sign_in("mia@contoso.example", PASSWORD).await;
    let new_session = f
        .portico
        .http()
        .get(format!("{}{kept}", f.portico.url))
        .header("Cookie", format!("portico_session={fresh}"))
        .send()
        .await
        .unwrap();
    let back = new_session.headers()["location"].to_str().unwrap();
    assert!(query_of(back).contains_key("code"), "{back}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, location, _) = f.authorize(&[("max_age", "0")], Some(&f.mia)).await;
    assert!(location.starts_with("/signin?"), "{location}");
    let (_, location, _) = f.authorize(&[("max_age", "3600")], Some(&f.mia)).await;
    assert!(query_of(&location).contains_key("code"), "{location}");
    // Request objects, other flows and a missing openid scope are refused at the client.
    for (extra, error) in [
        (
            vec![("request", "eyJhbGciOiJub25lIn0.e30.")],
            "request_not_supported",
        ),
        (
            vec![("request_uri", "https://evil.example/r")],
            "request_uri_not_supported",
        ),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "profile")], "invalid_scope"),
    ] {
        let (status, location, _) = f.authorize(&extra, Some(&f.mia)).await;
        assert_eq!(status, 303);
        assert_eq!(query_of(&location)["error"], error, "{extra:?}");
    }
    // Unknown parameters are ignored.
    let (_, location, _) = f.authorize(&[("color", "blue")], Some(&f.mia)).await;
    assert!(query_of(&location).contains_key("code"));
}

#[tokio::test]
async fn people_without_the_app_get_a_page_saying_why_and_every_attempt_is_logged() {
    let f = fixture().await;
    let max = f.portico.sign_in("max@contoso.example", PASSWORD).await;
    let (status, location, body) = f.authorize(&[], Some(&max)).await;
    assert_eq!((status, location.as_str()), (403, ""));
    assert!(
        body.contains("You cannot use Wiki") && body.contains("not been given this app"),
        "{body}"
    );
    let (_, location, _) = f.authorize(&[("prompt", "none")], Some(&max)).await;
    assert_eq!(query_of(&location)["error"], "interaction_required");

    // Someone from another organization on this Portico has no account here at all.
    let (fabrikam, _) =
        f.portico
            .seed_tenant("Fabrikam", "fabrikam.example", "fay@fabrikam.example", &[]);
    assert!(!fabrikam.is_empty());
    let fay = f.portico.sign_in("fay@fabrikam.example", PASSWORD).await;
    let (status, _, body) = f.authorize(&[], Some(&fay)).await;
    assert_eq!(status, 403);
    assert!(body.contains("no account in Contoso"), "{body}");

    // Nor does a silent request of hers tell Contoso who she is.
    let (_, location, _) = f.authorize(&[("prompt", "none")], Some(&fay)).await;
    assert_eq!(query_of(&location)["error"], "interaction_required");

    // The sign-in log has every refusal and a success, but names only Contoso's own
    // people, and them only when they were asked (not on a silent request): otherwise
    // any organization could register an app and learn who visits its pages.
    f.code(&[]).await;
    let ada = f.portico.sign_in("ada@contoso.example", PASSWORD).await;
    let log = f.portico.call("admin/sign-ins", &[], Some(&ada)).await;
    let events = log.body.as_array().unwrap();
    let summary: Vec<(bool, &str, &str, bool)> = events
        .iter()
        .map(|e| {
            (
                e["success"].as_bool().unwrap(),
                e["user_name"].as_str().unwrap(),
                e["user_email"].as_str().unwrap(),
                e["ip"].is_null(),
            )
        })
        .collect();
    const NOBODY: (&str, &str, bool) = ("Someone with no user here", "", true);
    assert_eq!(
        summary,
        [
            (true, "mia@contoso.example", "mia@contoso.example", false),
            (false, NOBODY.0, NOBODY.1, NOBODY.2),
            (false, NOBODY.0, NOBODY.1, NOBODY.2),
            (false, NOBODY.0, NOBODY.1, NOBODY.2),
            (false, "max@contoso.example", "max@contoso.example", false),
        ]
    );
    assert!(!log.body.to_string().contains("fabrikam"), "{}", log.body);
    assert!(events.iter().all(|e| e["app_name"] == "Wiki"));
    let mia = f.portico.call("admin/sign-ins", &[], Some(&f.mia)).await;
    assert_eq!(mia.status, 403, "members do not read the log");
}

#[tokio::test]
async fn an_invited_guest_gets_guest_claims() {
    let f = fixture().await;
    let ada = f.portico.sign_in("ada@contoso.example", PASSWORD).await;
    let guest = f
        .portico
        .invite_and_redeem(&ada, "ann@partner.example")
        .await;
    f.portico.cli_json(
        &[
            "app",
            "assign",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--user",
            "ann@partner.example",
        ],
        "",
    );
    let challenge = challenge(VERIFIER);
    let (status, location, body) = f
        .authorize(
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
            Some(&guest),
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let (_, tokens) = f.exchange(&query_of(&location)["code"]).await;
    let c = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        (c["acct"].as_i64(), c["idp"].as_str(), c["amr"][0].as_str()),
        (Some(1), Some("mail"), Some("otp"))
    );
    assert_eq!(c["email"], "ann@partner.example");
}

#[tokio::test]
async fn signing_out_from_the_app_ends_the_portico_session_after_asking() {
    let f = fixture().await;
    let code = f.code(&[]).await;
    let (_, tokens) = f.exchange(&code).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let logout = f.endpoint("oauth2/v2.0/logout");
    let asked = f.portico.http().get(format!("{logout}?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fwiki.contoso.example%2Fbye&state=x1"))
        .header("Cookie", format!("portico_session={}", f.mia)).send().await.unwrap();
    assert_eq!(asked.status().as_u16(), 200);
    assert!(asked.text().await.unwrap().contains("Sign out of Portico?"));
    let me = f.portico.call("me", &[], Some(&f.mia)).await;
    assert!(me.body.is_object(), "a GET changes nothing: {me:?}");
    let done = f
        .portico
        .http()
        .post(&logout)
        .header("Cookie", format!("portico_session={}", f.mia))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &f.portico.url)
        .body(integration::encode_form(&[
            ("id_token_hint", hint),
            (
                "post_logout_redirect_uri",
                "https://wiki.contoso.example/bye",
            ),
            ("state", "x1"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(
        done.headers()["location"],
        "https://wiki.contoso.example/bye?state=x1"
    );
    let me = f.portico.call("me", &[], Some(&f.mia)).await;
    assert!(me.body.is_null(), "the session is over: {me:?}");
    // An unregistered address is not followed.
    let sneaky = f
        .portico
        .http()
        .post(&logout)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &f.portico.url)
        .body(integration::encode_form(&[
            ("client_id", &f.client_id),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(sneaky.headers()["location"], "/signin");
}

#[tokio::test]
async fn a_rotated_key_signs_new_tokens_and_the_old_one_stays_published() {
    use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};

    let f = fixture().await;
    let code = f.code(&[]).await;
    let (_, before) = f.exchange(&code).await;
    let old_token = before["id_token"].as_str().unwrap().to_string();
    let kid_of = |jwt: &str| -> String {
        let header = jwt.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_string()
    };
    let rotated = f.portico.cli_json(&["keys", "rotate"], "");
    let new_kid = rotated["kids"][0].as_str().unwrap().to_string();
    assert_ne!(new_kid, kid_of(&old_token));

    // The server switches within seconds.
    let started = std::time::Instant::now();
    let new_token = loop {
        let code = f.code(&[]).await;
        let (_, tokens) = f.exchange(&code).await;
        let token = tokens["id_token"].as_str().unwrap().to_string();
        if kid_of(&token) == new_kid {
            break token;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "still signing with the old key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let jwks: CoreJsonWebKeySet = f
        .portico
        .http()
        .get(f.endpoint("discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(f.client_id.clone()),
        ClientSecret::new(f.secret.clone()),
        IssuerUrl::new(format!("{}/{}/v2.0", f.portico.url, f.tenant)).unwrap(),
        jwks,
    );
    for token in [&old_token, &new_token] {
        let parsed: CoreIdToken = token.parse().unwrap();
        parsed
            .claims(&verifier, &Nonce::new("n-456".into()))
            .expect("verifies with the published keys");
    }
}

#[tokio::test]
async fn an_app_may_ask_for_es256_id_tokens() {
    use openidconnect::core::{
        CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    };
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};

    let f = fixture().await;
    f.portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--redirect-uri",
            REDIRECT,
            "--id-token-alg",
            "ES256",
        ],
        "",
    );
    let code = f.code(&[]).await;
    let (status, tokens) = f.exchange(&code).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    let jwks: CoreJsonWebKeySet = f
        .portico
        .http()
        .get(f.endpoint("discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(f.client_id.clone()),
        ClientSecret::new(f.secret.clone()),
        IssuerUrl::new(format!("{}/{}/v2.0", f.portico.url, f.tenant)).unwrap(),
        jwks,
    )
    .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let parsed: CoreIdToken = id_token.parse().unwrap();
    parsed
        .claims(&verifier, &Nonce::new("n-456".into()))
        .expect("an ES256 token verified with the published P-256 key");
    let (refused, _, _) = f.portico.cli(
        &[
            "app",
            "sign-in",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--redirect-uri",
            REDIRECT,
            "--id-token-alg",
            "HS256",
        ],
        "",
    );
    assert!(!refused, "HS256 is refused");
}

#[tokio::test]
async fn a_browser_app_on_another_site_can_exchange_its_code_and_read_userinfo() {
    let f = fixture().await;
    f.portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            &f.tenant,
            "--app",
            "Wiki",
            "--client-type",
            "public",
            "--redirect-uri",
            REDIRECT,
        ],
        "",
    );
    let code = f.code(&[]).await;
    // As a browser sends it from the app's own site.
    let response = f
        .portico
        .http()
        .post(f.endpoint("oauth2/v2.0/token"))
        .header("Origin", "https://wiki.contoso.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(integration::encode_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &f.client_id),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let tokens: Value = response.json().await.unwrap();
    let preflight = f
        .portico
        .http()
        .request(reqwest::Method::OPTIONS, f.endpoint("oidc/userinfo"))
        .header("Origin", "https://wiki.contoso.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    let info = f
        .portico
        .http()
        .get(f.endpoint("oidc/userinfo"))
        .header("Origin", "https://wiki.contoso.example")
        .header("Sec-Fetch-Site", "cross-site")
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status().as_u16(), 200);
    // Portico's own state-changing endpoints still refuse other sites.
    let logout = f
        .portico
        .http()
        .post(f.endpoint("oauth2/v2.0/logout"))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Cookie", format!("portico_session={}", f.mia))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status().as_u16(), 403);
}

#[tokio::test]
async fn the_way_back_after_sign_in_never_leads_to_another_site() {
    let f = fixture().await;
    let hex = |text: &str| -> String { text.bytes().map(|b| format!("{b:02x}")).collect() };
    for evil in [
        "//evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example",
        "/\\evil.example",
        "https://evil.example/",
    ] {
        let page = f
            .portico
            .http()
            .get(format!("{}/continue?to={}", f.portico.url, hex(evil)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("evil.example"), "{evil:?}: {page}");
        assert!(page.contains("content=\"0;url=/\""), "{evil:?} leads home");
    }
    // A sign-in with such a `next` still signs in, and goes home.
    let answer = f
        .portico
        .call(
            "sign_in",
            &[
                ("email", "mia@contoso.example"),
                ("password", PASSWORD),
                ("next", "/\n/evil.example"),
            ],
            None,
        )
        .await;
    assert!(answer.ok(), "{answer:?}");
    assert!(answer.cookie.is_some());
}

/// The value of the read-only field labelled `label` on a page.
fn copy_field(page: &str, label: &str) -> Option<String> {
    let field = page
        .split("<input")
        .find(|f| f.contains(&format!("aria-label=\"{label}\"")))?;
    let value = field.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_string())
}

#[tokio::test]
async fn a_client_secret_made_without_javascript_is_shown_once_on_the_page_the_form_returns_to() {
    let f = fixture().await;
    let ada = f.portico.sign_in("ada@contoso.example", PASSWORD).await;
    let page = format!("{}/admin/apps/{}", f.portico.url, f.client_id);
    // What a browser without JavaScript sends from the app's page: a plain form post.
    let new_secret = || {
        let request = f
            .portico
            .http()
            .post(format!("{}/fn/admin/app/secret", f.portico.url))
            .header("Origin", &f.portico.url)
            .header("Referer", &page)
            .header("Accept", "text/html")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Cookie", format!("portico_session={ada}"))
            .body(integration::encode_form(&[("id", &f.client_id)]));
        async move { request.send().await.unwrap() }
    };
    let posted = new_secret().await;
    assert!(posted.status().is_redirection(), "{}", posted.status());
    // Back to the page it came from (Leptos leaves an empty query on it).
    let back = posted.headers()["location"].to_str().unwrap();
    assert_eq!(back.trim_end_matches('?'), page);
    let flash = integration::flash_of(&posted).expect("a flash for the page");
    let open = |cookies: String| {
        let request = f.portico.http().get(&page).header("Cookie", cookies);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };

    // Another session with the flash's id sees nothing of it.
    let max = f.portico.sign_in("max@contoso.example", PASSWORD).await;
    let elsewhere = open(format!("portico_session={max}; portico_flash={flash}")).await;
    assert!(copy_field(&elsewhere, "Client secret").is_none());

    // The flash was taken by that attempt; a new secret, and this time Ada's page shows it.
    let posted = new_secret().await;
    let flash = integration::flash_of(&posted).expect("a flash for the page");
    let shown = open(format!("portico_session={ada}; portico_flash={flash}")).await;
    let secret = copy_field(&shown, "Client secret").expect("the new secret on the page");
    assert!(!flash.contains(&secret), "the cookie carries only an id");
    // It is the app's secret now; the one before no longer works.
    let scope = format!("{}/.default", f.portico.url);
    let grant = |secret: String| {
        let request = f
            .portico
            .http()
            .post(format!("{}/{}/oauth2/v2.0/token", f.portico.url, f.tenant))
            .basic_auth(&f.client_id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", &scope)]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(grant(secret).await, 200);
    assert_eq!(grant(f.secret.clone()).await, 401);

    // Shown once: the same cookie again finds nothing.
    let again = open(format!("portico_session={ada}; portico_flash={flash}")).await;
    assert!(copy_field(&again, "Client secret").is_none());

    // A page that shows nothing (here a missing one) leaves the flash, under a new id, to
    // the page after it.
    let posted = new_secret().await;
    let flash = integration::flash_of(&posted).expect("a flash for the page");
    let passing = f
        .portico
        .http()
        .get(format!("{}/admin/no-such-page", f.portico.url))
        .header(
            "Cookie",
            format!("portico_session={ada}; portico_flash={flash}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(passing.status(), 404);
    let handed_on = integration::flash_of(&passing).expect("the flash handed on to the next page");
    assert_ne!(handed_on, flash);
    let shown = open(format!("portico_session={ada}; portico_flash={handed_on}")).await;
    assert!(
        copy_field(&shown, "Client secret").is_some(),
        "the flash was lost on the way"
    );
}

#[tokio::test]
async fn each_name_of_the_tenant_is_an_issuer_a_relying_party_library_signs_in_with() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    };

    let f = fixture().await;
    // As the library's documentation asks: no redirects followed.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for name in ["contoso.example", f.tenant.as_str()] {
        let issuer = IssuerUrl::new(format!("{}/{name}/v2.0", f.portico.url)).unwrap();
        // The library refuses a document whose issuer is not the address it fetched.
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &http)
            .await
            .unwrap_or_else(|e| panic!("discovery under {name}: {e:?}"));
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(f.client_id.clone()),
            Some(ClientSecret::new(f.secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let response = f
            .portico
            .http()
            .get(url.as_str())
            .header("Cookie", format!("portico_session={}", f.mia))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "{name}");
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let query = query_of(&location);
        assert_eq!(&query["state"], state.secret());
        assert_eq!(query["iss"], issuer.as_str(), "RFC 9207: the same issuer");
        let tokens = client
            .exchange_code(AuthorizationCode::new(query["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("exchange under {name}: {e:?}"));
        let id_token = tokens.id_token().expect("an ID token");
        let verified = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .unwrap_or_else(|e| panic!("ID token under {name}: {e:?}"));
        assert_eq!(verified.issuer(), &issuer);
        assert_eq!(
            verified.email().map(|e| e.as_str()),
            Some("mia@contoso.example")
        );
        // userinfo names the same issuer.
        let (status, info) = f.userinfo_at(name, tokens.access_token().secret()).await;
        assert_eq!((status, info["iss"].as_str()), (200, Some(issuer.as_str())));
    }
}

impl Fixture {
    async fn userinfo_at(&self, name: &str, token: &str) -> (u16, Value) {
        let response = self
            .portico
            .http()
            .get(format!("{}/{name}/oidc/userinfo", self.portico.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Exchanges `code` as a public client, naming `redirect_uri`.
    async fn exchange_public(&self, code: &str, redirect_uri: &str) -> (u16, Value) {
        self.token_as(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", VERIFIER),
                ("client_id", &self.client_id),
            ],
            None,
        )
        .await
    }

    /// Mia's authorization request with PKCE, to be sent back to `redirect_uri`.
    async fn authorize_to(&self, redirect_uri: &str) -> (u16, String, String) {
        let challenge = challenge(VERIFIER);
        let params = [
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("redirect_uri", redirect_uri),
        ];
        self.authorize(&params, Some(&self.mia)).await
    }

    /// The number of sign-in events in Contoso's log, as its admin `ada` reads it.
    async fn sign_in_events(&self, ada: &str) -> usize {
        let log = self.portico.call("admin/sign-ins", &[], Some(ada)).await;
        log.body.as_array().map(Vec::len).unwrap_or_default()
    }

    /// The `amr` of an ID token issued to the holder of `session`.
    async fn amr_of(&self, session: &str) -> Value {
        let challenge = challenge(VERIFIER);
        let (status, location, body) = self
            .authorize(
                &[
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
                Some(session),
            )
            .await;
        assert_eq!(status, 303, "{body}");
        let (status, tokens) = self.exchange(&query_of(&location)["code"]).await;
        assert_eq!(status, 200, "{tokens}");
        claims(tokens["id_token"].as_str().unwrap())["amr"].clone()
    }
}

#[tokio::test]
async fn a_native_apps_loopback_redirect_may_take_any_port_and_only_the_port() {
    let f = fixture().await;
    let configure = |client_type: &str| {
        f.portico.cli_json(
            &[
                "app",
                "sign-in",
                "--tenant",
                &f.tenant,
                "--app",
                "Wiki",
                "--client-type",
                client_type,
                "--redirect-uri",
                "http://127.0.0.1/cb",
                "--redirect-uri",
                "http://[::1]:8080/cb",
            ],
            "",
        );
    };
    configure("public");
    let authorize = |redirect_uri| f.authorize_to(redirect_uri);
    for requested in [
        "http://127.0.0.1:51234/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:1/cb",
        "http://[::1]/cb",
    ] {
        let (status, location, body) = authorize(requested).await;
        assert_eq!(status, 303, "{requested}: {body}");
        assert!(
            location.starts_with(&format!("{requested}?code=")),
            "{location}"
        );
    }
    // The exchange names the address the authorization used, exactly, not the registered
    // one; a wrong one uses the code up.
    let (_, location, _) = authorize("http://127.0.0.1:51234/cb").await;
    let code = query_of(&location)["code"].clone();
    let (status, refused) = f.exchange_public(&code, "http://127.0.0.1/cb").await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = f.exchange_public(&code, "http://127.0.0.1:51234/cb").await;
    assert_eq!(status, 400, "the code was used up");
    let (_, location, _) = authorize("http://127.0.0.1:51234/cb").await;
    let (status, tokens) = f
        .exchange_public(&query_of(&location)["code"], "http://127.0.0.1:51234/cb")
        .await;
    assert_eq!(status, 200, "{tokens}");
    // Only the port may differ.
    for requested in [
        "http://127.0.0.1:51234/cb/",
        "http://127.0.0.1:51234/CB",
        "http://127.0.0.1:51234/cb?x=1",
        "http://127.0.0.1:51234/",
        "https://127.0.0.1:51234/cb",
        "http://localhost:51234/cb",
        "http://localhost/cb",
        "http://127.0.0.1:51234@evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.2:51234/cb",
        "http://[::1]:51234/cb/",
        "http://[::1]:51234/other",
    ] {
        let (status, location, body) = authorize(requested).await;
        assert_eq!((status, location.as_str()), (400, ""), "{requested}");
        assert!(body.contains("not registered"), "{requested}: {body}");
    }
    // A confidential client's loopback address is matched exactly, port included.
    configure("confidential");
    let (status, location, _) = authorize("http://127.0.0.1:51234/cb").await;
    assert_eq!((status, location.as_str()), (400, ""));
    let (status, _, _) = authorize("http://127.0.0.1/cb").await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn an_app_may_post_its_authorization_request_from_its_site_and_the_post_changes_nothing() {
    let f = fixture().await;
    let ada = f.portico.sign_in("ada@contoso.example", PASSWORD).await;
    let challenge = challenge(VERIFIER);
    let form = integration::encode_form(&[
        ("client_id", &f.client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "s-123"),
        ("nonce", "n-456"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    // As a browser posts an app's form: from the app's site, and (SameSite=Lax) without
    // Portico's cookie; with one, the POST does no more.
    for cookie in [None, Some(f.mia.as_str())] {
        let before = f.sign_in_events(&ada).await;
        let mut post = f
            .portico
            .http()
            .post(f.endpoint("oauth2/v2.0/authorize"))
            .header("Origin", "https://wiki.contoso.example")
            .header("Sec-Fetch-Site", "cross-site")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.clone());
        if let Some(cookie) = cookie {
            post = post.header("Cookie", format!("portico_session={cookie}"));
        }
        let posted = post.send().await.unwrap();
        assert_eq!(posted.status().as_u16(), 303, "{cookie:?}");
        let location = posted.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("/{}/oauth2/v2.0/authorize/pending/", f.tenant)),
            "{location}"
        );
        assert_eq!(
            f.sign_in_events(&ada).await,
            before,
            "no code and no sign-in before the person's browser comes back"
        );
        // The browser follows with a GET, which carries its cookie.
        let followed = f
            .portico
            .http()
            .get(format!("{}{location}", f.portico.url))
            .header("Cookie", format!("portico_session={}", f.mia))
            .header("Sec-Fetch-Site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(followed.status().as_u16(), 303);
        let back = followed.headers()["location"].to_str().unwrap().to_string();
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(query_of(&back)["state"], "s-123");
        let (status, tokens) = f.exchange(&query_of(&back)["code"]).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(
            claims(tokens["id_token"].as_str().unwrap())["nonce"],
            "n-456"
        );
        assert_eq!(f.sign_in_events(&ada).await, before + 1);
    }
    // A mistyped or expired id gets a page that says so, and sends nobody anywhere.
    let unknown = f
        .portico
        .http()
        .get(f.endpoint("oauth2/v2.0/authorize/pending/not-a-kept-request"))
        .header("Cookie", format!("portico_session={}", f.mia))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 400);
    assert!(unknown.headers().get("location").is_none());
    let page = unknown.text().await.unwrap();
    assert!(page.contains("This sign-in has expired"), "{page}");
    // The sign-out form stays guarded: a cross-site POST there is refused.
    let sneaky = f
        .portico
        .http()
        .post(f.endpoint("oauth2/v2.0/logout"))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Cookie", format!("portico_session={}", f.mia))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(sneaky.status().as_u16(), 403);
}

/// The text of lowercase hex.
fn unhex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_large_authorization_request_waits_on_the_server_while_the_person_signs_in() {
    let f = fixture().await;
    let state = "s".repeat(45_000);
    let challenge = challenge(VERIFIER);
    let (status, location, _) = f
        .authorize(
            &[
                ("state", &state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("login_hint", "mia@contoso.example"),
            ],
            None,
        )
        .await;
    assert_eq!(status, 303);
    assert!(location.len() < 300, "{} bytes: {location}", location.len());
    let next = query_of(&location)["next"].clone();
    let pending = unhex(
        next.strip_prefix("/continue?to=")
            .expect("the continue page"),
    );
    assert!(
        pending.starts_with(&format!("/{}/oauth2/v2.0/authorize/pending/", f.tenant)),
        "{pending}"
    );
    // Before signing in, the kept request sends the browser to sign in again.
    let again = f
        .portico
        .http()
        .get(format!("{}{pending}", f.portico.url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 303);
    assert!(
        again.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin?next=")
    );
    // Mia signs in with the form the sign-in page shows, which carries `next` on.
    let signed_in = f
        .portico
        .http()
        .post(format!("{}/fn/sign_in", f.portico.url))
        .header("Origin", &f.portico.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(integration::encode_form(&[
            ("email", "mia@contoso.example"),
            ("password", PASSWORD),
            ("next", &next),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_in.headers()["location"].to_str().unwrap(),
        next,
        "on to the continue page"
    );
    let session = integration::set_cookies(&signed_in)
        .into_iter()
        .find(|(k, _)| k == "portico_session")
        .map(|(_, v)| v)
        .expect("a session");
    let page = f
        .portico
        .http()
        .get(format!("{}{next}", f.portico.url))
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("content=\"0;url={pending}\"")),
        "{page}"
    );
    let back = f
        .portico
        .http()
        .get(format!("{}{pending}", f.portico.url))
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status().as_u16(), 303);
    let back = back.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(REDIRECT), "{}", &back[..100]);
    assert_eq!(query_of(&back)["state"], state);
    let (status, tokens) = f.exchange(&query_of(&back)["code"]).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn the_amr_claim_says_how_the_session_was_opened() {
    const ZOE: &str = "zoe@elsewhere.example";
    const ZOES_PASSWORD: &str = "zoe's own long passphrase";
    let f = fixture().await;
    let ada = f.portico.sign_in("ada@contoso.example", PASSWORD).await;
    // Zoe makes a Portico account at her invitation: a code confirms her address first.
    let order = f
        .portico
        .call(
            "admin/redemption_order",
            &[("primary", "home,federation"), ("fallback", "account,code")],
            Some(&ada),
        )
        .await;
    assert!(order.ok(), "{order:?}");
    let ticket = f.portico.invite(&ada, ZOE).await;
    let redemption = f.portico.start_redemption(&ticket).await;
    let code = f.portico.latest_code(ZOE);
    for (endpoint, form) in [
        ("redeem/verify", vec![("code", code.as_str())]),
        ("redeem/account/create", vec![("password", ZOES_PASSWORD)]),
    ] {
        let answer = f.portico.call_redeeming(endpoint, &form, &redemption).await;
        assert!(answer.ok(), "{endpoint}: {answer:?}");
    }
    let accepted = f
        .portico
        .call_redeeming("redeem/accept", &[], &redemption)
        .await;
    let accepted = accepted.cookie.expect("a session");
    f.portico.cli_json(
        &[
            "app", "assign", "--tenant", &f.tenant, "--app", "Wiki", "--user", ZOE,
        ],
        "",
    );
    assert_eq!(f.amr_of(&accepted).await, serde_json::json!(["otp"]));
    let by_password = f.portico.sign_in(ZOE, ZOES_PASSWORD).await;
    assert_eq!(f.amr_of(&by_password).await, serde_json::json!(["pwd"]));
    // Her account, signed in with a code mailed to her: `otp`, not `pwd`.
    let (sent, cookies) = f
        .portico
        .call_with_cookies("sign_in/code/send", &[("email", ZOE)], "")
        .await;
    assert!(sent.ok(), "{sent:?}");
    let token = cookies
        .iter()
        .find(|(k, _)| k == "portico_signin")
        .map(|(_, v)| v.clone())
        .expect("a sign-in cookie");
    let code = f.portico.latest_code(ZOE);
    let (by_code, _) = f
        .portico
        .call_with_cookies(
            "sign_in/code/verify",
            &[("code", &code)],
            &format!("portico_signin={token}"),
        )
        .await;
    let by_code = by_code.cookie.expect("a session");
    assert_eq!(
        f.portico.call("me", &[], Some(&by_code)).await.body["has_account"],
        true
    );
    assert_eq!(f.amr_of(&by_code).await, serde_json::json!(["otp"]));
    // A member's password: `pwd`.
    assert_eq!(f.amr_of(&f.mia).await, serde_json::json!(["pwd"]));
}
