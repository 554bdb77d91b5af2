//! Delegated tokens for the Graph-compatible API: a person signs in to an app (the
//! authorization code flow, with PKCE) that asks for scopes of the API an administrator
//! allowed it, and the app then acts as that person, never beyond what the person may do
//! in the console.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://portal.contoso.example/callback";
const VERIFIER: &str = "a-pkce-verifier-for-the-partner-portal-0123456789";
const APP: &str = "Partner portal";

/// Contoso, where only administrators and Guest inviters may invite guests, with Ada
/// (global administrator), Gia (a member with the Guest inviter role) and Pam (a plain
/// member), all assigned to the Partner portal, a confidential client that an
/// administrator allowed to ask for `User.Invite.All` and `User.Read.All`.
struct Fixture {
    portico: Portico,
    tenant: String,
    client_id: String,
    secret: String,
    ada: String,
    gia_id: String,
}

async fn fixture() -> Fixture {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let gia_id = portico.create_user(&tenant, "gia@contoso.example", &["guest-inviter"]);
    portico.create_user(&tenant, "pam@contoso.example", &[]);
    let (client_id, secret) = portico.app_with_secret(&tenant, APP);
    portico.cli_json(
        &[
            "app",
            "sign-in",
            "--tenant",
            &tenant,
            "--app",
            APP,
            "--redirect-uri",
            REDIRECT,
        ],
        "",
    );
    for user in ["ada", "gia", "pam"] {
        portico.cli_json(
            &[
                "app",
                "assign",
                "--tenant",
                &tenant,
                "--app",
                APP,
                "--user",
                &format!("{user}@contoso.example"),
            ],
            "",
        );
    }
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let f = Fixture {
        portico,
        tenant,
        client_id,
        secret,
        ada,
        gia_id,
    };
    let set = f
        .admin(
            "admin/collaboration/invites",
            &[("allow_invites_from", "adminsAndGuestInviters")],
        )
        .await;
    assert!(set.ok(), "{set:?}");
    for permission in ["User.Invite.All", "User.Read.All"] {
        let allowed = f.allow(permission, true).await;
        assert!(allowed.ok(), "{allowed:?}");
    }
    f
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

impl Fixture {
    async fn admin(&self, endpoint: &str, form: &[(&str, &str)]) -> integration::Answer {
        self.portico.call(endpoint, form, Some(&self.ada)).await
    }

    /// Allows (or disallows) the app to ask for a delegated permission, as Ada.
    async fn allow(&self, permission: &str, present: bool) -> integration::Answer {
        let present = present.to_string();
        self.admin(
            "admin/app/delegated-permission",
            &[
                ("id", &self.client_id),
                ("permission", permission),
                ("present", &present),
            ],
        )
        .await
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.portico.url, self.tenant)
    }

    /// The authorization request for `scope` by the person signed in as `session`, with
    /// PKCE: the query of the redirect back to the app.
    async fn authorize(&self, session: &str, scope: &str) -> HashMap<String, String> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", scope),
                ("state", "s-1"),
                ("code_challenge", &challenge(VERIFIER)),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let response = self
            .portico
            .http()
            .get(format!(
                "{}?{query}",
                self.endpoint("oauth2/v2.0/authorize")
            ))
            .header("Cookie", format!("portico_session={session}"))
            .send()
            .await
            .expect("authorization request");
        assert_eq!(response.status().as_u16(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(REDIRECT), "{location}");
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .portico
            .http()
            .post(self.endpoint("oauth2/v2.0/token"))
            .basic_auth(&self.client_id, Some(&self.secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(integration::encode_form(form))
            .send()
            .await
            .expect("token request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    /// Signs `email` in to the app with `scope` and exchanges the code: the token answer.
    async fn sign_in_to_app(&self, email: &str, scope: &str) -> Value {
        let session = self.portico.sign_in(email, PASSWORD).await;
        let query = self.authorize(&session, scope).await;
        let code = query.get("code").unwrap_or_else(|| panic!("{query:?}"));
        let (status, answer) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .portico
            .http()
            .request(method, format!("{}/v1.0/{path}", self.portico.url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn invitation(email: &str) -> Value {
    json!({
        "invitedUserEmailAddress": email,
        "inviteRedirectUrl": "https://portal.contoso.example/welcome",
    })
}

#[tokio::test]
async fn a_guest_inviter_signed_in_to_an_app_invites_as_herself_until_she_is_disabled() {
    let f = fixture().await;
    let answer = f
        .sign_in_to_app(
            "gia@contoso.example",
            "openid offline_access https://graph.microsoft.com/User.Invite.All",
        )
        .await;
    assert_eq!(answer["scope"], "openid offline_access User.Invite.All");
    let token = answer["access_token"].as_str().expect("an access token");
    let said = claims(token);
    assert_eq!(said["aud"], f.portico.url.as_str(), "{said}");
    assert_eq!(said["scp"], "User.Invite.All");
    assert_eq!(said["oid"], f.gia_id.as_str());
    assert_eq!(said["tid"], f.tenant.as_str());
    assert_eq!(said["azp"], f.client_id.as_str());
    assert_eq!(said["idtyp"], "user");
    assert!(said.get("roles").is_none(), "{said}");

    let (status, made) = f
        .api(
            Method::POST,
            "invitations",
            token,
            Some(invitation("pat@fabrikam.example")),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let events = f.portico.audited(&f.ada, "Invite external user").await;
    assert_eq!(events["total"], 1, "{events}");
    let event = &events["items"][0];
    assert_eq!(event["target_id"], made["invitedUser"]["id"], "{event}");
    assert_eq!(event["actor_id"], f.gia_id.as_str(), "{event}");
    assert_eq!(event["actor_kind"], "User", "{event}");
    assert_eq!(
        event["actor_name"],
        format!("gia@contoso.example (via {APP})"),
        "{event}"
    );

    // The token's scopes are all it may use: reading users needs User.Read.All.
    let (status, refused) = f.api(Method::GET, "users", token, None).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "Authorization_RequestDenied");

    // Refreshing keeps the scopes.
    let refresh = answer["refresh_token"].as_str().expect("a refresh token");
    let (status, renewed) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(status, 200, "{renewed}");
    let renewed = renewed["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&renewed)["scp"], "User.Invite.All");
    let (status, _) = f
        .api(
            Method::POST,
            "invitations",
            &renewed,
            Some(invitation("lee@fabrikam.example")),
        )
        .await;
    assert_eq!(status, 201);

    // Disabled in the console: her tokens stop working at once.
    let disabled = f
        .admin(
            "admin/user/enabled",
            &[("id", &f.gia_id), ("enabled", "false")],
        )
        .await;
    assert!(disabled.ok(), "{disabled:?}");
    let (status, refused) = f
        .api(
            Method::POST,
            "invitations",
            &renewed,
            Some(invitation("kim@fabrikam.example")),
        )
        .await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn a_delegated_token_never_goes_beyond_the_persons_own_rights() {
    let f = fixture().await;
    let scope = "openid https://graph.microsoft.com/User.Invite.All https://graph.microsoft.com/User.Read.All";
    // Pam is a plain member: she may not read the directory nor, under this setting, invite.
    let pam = f.sign_in_to_app("pam@contoso.example", scope).await;
    let pam = pam["access_token"].as_str().unwrap();
    assert_eq!(claims(pam)["scp"], "User.Invite.All User.Read.All");
    let (status, refused) = f.api(Method::GET, "users", pam, None).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "Authorization_RequestDenied");
    let (status, refused) = f
        .api(
            Method::POST,
            "invitations",
            pam,
            Some(invitation("pat@fabrikam.example")),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "Authorization_RequestDenied");
    let invited = f.portico.audited(&f.ada, "Invite external user").await;
    assert_eq!(invited["total"], 0, "nothing was invited: {invited}");

    // Ada may read the directory: with the scope (here by this API's own prefix), so may
    // the app acting as her.
    let ours = format!("openid {}/User.Read.All", f.portico.url);
    let ada = f.sign_in_to_app("ada@contoso.example", &ours).await;
    let ada = ada["access_token"].as_str().unwrap().to_string();
    let (status, users) = f.api(Method::GET, "users", &ada, None).await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["value"].as_array().unwrap().len(), 3);

    // Disallowed later, the scope stops counting at the next request.
    assert!(f.allow("User.Read.All", false).await.ok());
    let (status, refused) = f.api(Method::GET, "users", &ada, None).await;
    assert_eq!(status, 403, "{refused}");
}

#[tokio::test]
async fn a_scope_the_app_was_not_allowed_is_an_invalid_scope() {
    let f = fixture().await;
    let session = f.portico.sign_in("gia@contoso.example", PASSWORD).await;
    for scope in [
        "openid https://graph.microsoft.com/User.ReadWrite.All",
        "openid User.Invite.All GroupMember.ReadWrite.All",
        "openid https://graph.microsoft.com/Mail.Read",
    ] {
        let query = f.authorize(&session, scope).await;
        assert_eq!(query["error"], "invalid_scope", "{scope}: {query:?}");
        assert!(!query.contains_key("code"), "{scope}");
    }
    // The short form is Microsoft Graph's, as Entra reads it; `.default` is every
    // delegated permission the app is allowed.
    let query = f.authorize(&session, "openid User.Invite.All").await;
    assert!(query.contains_key("code"), "{query:?}");
    let answer = f
        .sign_in_to_app(
            "gia@contoso.example",
            "openid https://graph.microsoft.com/.default",
        )
        .await;
    assert_eq!(
        claims(answer["access_token"].as_str().unwrap())["scp"],
        "User.Invite.All User.Read.All"
    );
    // A sign-in that asks nothing of the API keeps its opaque access token.
    let plain = f.sign_in_to_app("gia@contoso.example", "openid").await;
    assert_eq!(
        plain["access_token"].as_str().unwrap().matches('.').count(),
        0
    );
}
