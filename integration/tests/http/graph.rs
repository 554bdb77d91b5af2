//! The Microsoft Graph-compatible API: a program signs in as itself (client credentials),
//! an administrator grants it application permissions in the console, and it invites
//! guests under `/v1.0/invitations` with Graph's request and answer shapes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico};
use serde_json::{Value, json};

use crate::tls::{Nginx, free_port};

/// Contoso, with an app that has a client secret, and its global administrator signed in.
pub(crate) struct Fixture {
    pub(crate) portico: Portico,
    pub(crate) tenant: String,
    pub(crate) client_id: String,
    secret: String,
    /// Ada's session: a global administrator.
    pub(crate) ada: String,
}

pub(crate) async fn fixture() -> Fixture {
    let portico = Portico::start();
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (client_id, secret) = portico.app_with_secret(&tenant, "HR onboarding");
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    Fixture {
        portico,
        tenant,
        client_id,
        secret,
        ada,
    }
}

impl Fixture {
    /// Asks the token endpoint for an app token with `scope`; (status, answer).
    async fn token(&self, scope: &str) -> (u16, Value) {
        let response = self
            .portico
            .http()
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                self.portico.url, self.tenant
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", &self.secret),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    pub(crate) async fn api_token(&self) -> String {
        let (status, answer) = self.token(&format!("{}/.default", self.portico.url)).await;
        assert_eq!(status, 200, "{answer}");
        answer["access_token"]
            .as_str()
            .expect("a token")
            .to_string()
    }

    /// Calls the API; (status, JSON answer or Null).
    pub(crate) async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .portico
            .http()
            .request(method, format!("{}/v1.0/{path}", self.portico.url))
            .header("client-request-id", "test-run-1");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API request");
        let status = response.status().as_u16();
        assert!(
            response.headers().contains_key("request-id"),
            "every answer names its request"
        );
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Grants (`present`) or revokes a permission in the console as Ada.
    pub(crate) async fn set_permission(
        &self,
        permission: &str,
        present: bool,
    ) -> integration::Answer {
        let present = present.to_string();
        self.portico
            .call(
                "admin/app/api-permission",
                &[
                    ("id", &self.client_id),
                    ("permission", permission),
                    ("present", &present),
                    ("understood", "yes"),
                ],
                Some(&self.ada),
            )
            .await
    }
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

pub(crate) fn invitation(email: &str) -> Value {
    json!({
        "invitedUserEmailAddress": email,
        "inviteRedirectUrl": "https://wiki.contoso.example/welcome",
    })
}

#[tokio::test]
async fn an_app_invites_with_the_permissions_it_holds_at_each_request() {
    let f = fixture().await;
    // Only this API's scope (or Graph's, as an alias) gives an app its own token.
    let (status, refused) = f.token("api").await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, graph) = f.token("https://graph.microsoft.com/.default").await;
    assert_eq!(status, 200, "{graph}");
    let token = f.api_token().await;
    let said = claims(&token);
    assert_eq!(said["aud"], f.portico.url.as_str());
    assert_eq!(said["roles"], json!([]));
    assert_eq!(said["tid"], f.tenant.as_str());

    // Nothing granted: refused in Graph's words, and nothing made.
    let (status, denied) = f
        .api(
            reqwest::Method::POST,
            "invitations",
            Some(&token),
            Some(invitation("pat@partner.example")),
        )
        .await;
    assert_eq!(status, 403, "{denied}");
    assert_eq!(denied["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        denied["error"]["innerError"]["client-request-id"],
        "test-run-1"
    );

    // The grant needs its confirmation, then is audited.
    let unconfirmed = f
        .portico
        .call(
            "admin/app/api-permission",
            &[
                ("id", &f.client_id),
                ("permission", "User.Invite.All"),
                ("present", "true"),
            ],
            Some(&f.ada),
        )
        .await;
    assert!(!unconfirmed.ok(), "{unconfirmed:?}");
    let granted = f.set_permission("User.Invite.All", true).await;
    assert!(granted.ok(), "{granted:?}");
    let events = f
        .portico
        .audited(&f.ada, "Grant application permission")
        .await;
    assert_eq!(events["items"][0]["detail"], "User.Invite.All");

    // The same token works now: what the app holds is read at the request.
    let (status, made) = f
        .api(
            reqwest::Method::POST,
            "invitations",
            Some(&token),
            Some(json!({
                "invitedUserEmailAddress": "pat@partner.example",
                "inviteRedirectUrl": "https://wiki.contoso.example/welcome",
                "invitedUserDisplayName": "Pat",
                "invitedUserMessageInfo": { "customizedMessageBody": "Welcome aboard" },
            })),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["status"], "PendingAcceptance");
    assert_eq!(made["invitedUserType"], "Guest");
    assert_eq!(made["sendInvitationMessage"], false);
    assert_eq!(made["resetRedemption"], false);
    assert_eq!(made["invitedUserDisplayName"], "Pat");
    assert_eq!(
        made["inviteRedirectUrl"],
        "https://wiki.contoso.example/welcome"
    );
    assert_eq!(
        made["invitedUserMessageInfo"]["customizedMessageBody"],
        "Welcome aboard"
    );
    assert_eq!(
        made["invitedUserMessageInfo"]["ccRecipients"],
        json!([{ "emailAddress": { "name": null, "address": null } }])
    );
    let id = made["id"].as_str().expect("an invitation id");
    let user_id = made["invitedUser"]["id"].as_str().expect("the guest's id");
    assert_ne!(id, user_id, "the user's id, not the invitation's");
    let link = made["inviteRedeemUrl"].as_str().expect("a link");
    assert!(
        link.starts_with(&format!("{}/redeem?ticket=", f.portico.url)),
        "{link}"
    );
    // No mail unless asked for (Graph's default).
    assert!(f.portico.outbox().is_empty(), "{:?}", f.portico.outbox());
    // The audit trail names the app, as an app.
    let events = f.portico.audited(&f.ada, "Invite external user").await;
    let event = &events["items"][0];
    assert_eq!(
        (event["actor_name"].as_str(), event["actor_kind"].as_str()),
        (Some("HR onboarding"), Some("App")),
        "{event}"
    );

    // Read back, listed, revoked.
    let (status, read) = f
        .api(
            reqwest::Method::GET,
            &format!("invitations/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (status, read["status"].as_str()),
        (200, Some("PendingAcceptance"))
    );
    let (_, listed) = f
        .api(reqwest::Method::GET, "invitations", Some(&token), None)
        .await;
    assert_eq!(listed["value"][0]["id"], id);
    // Sent again: by mail this time, with a new link to the same landing page.
    let (status, again) = f
        .api(
            reqwest::Method::POST,
            &format!("invitations/{id}/resend"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["invitedUser"]["id"], user_id);
    assert_ne!(again["inviteRedeemUrl"], made["inviteRedeemUrl"]);
    let mail = f.portico.outbox();
    assert_eq!(
        (mail.len(), mail[0]["recipient"].as_str()),
        (1, Some("pat@partner.example"))
    );
    let (_, old) = f
        .api(
            reqwest::Method::GET,
            &format!("invitations/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(old["status"], "Revoked", "the old link no longer works");
    let id = again["id"].as_str().expect("the new invitation's id");
    let (_, new) = f
        .api(
            reqwest::Method::GET,
            &format!("invitations/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        new["inviteRedirectUrl"],
        "https://wiki.contoso.example/welcome"
    );
    let (status, _) = f
        .api(
            reqwest::Method::DELETE,
            &format!("invitations/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, read) = f
        .api(
            reqwest::Method::GET,
            &format!("invitations/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(read["status"], "Revoked");
    let (status, missing) = f
        .api(
            reqwest::Method::GET,
            "invitations/no-such-id",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );

    // Taken back: the token that worked a moment ago no longer does.
    assert!(f.set_permission("User.Invite.All", false).await.ok());
    let (status, denied) = f
        .api(
            reqwest::Method::POST,
            "invitations",
            Some(&token),
            Some(invitation("sam@partner.example")),
        )
        .await;
    assert_eq!(
        (status, denied["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
}

#[tokio::test]
async fn bad_tokens_and_bad_requests_are_refused_and_change_nothing() {
    let f = fixture().await;
    assert!(f.set_permission("User.ReadWrite.All", true).await.ok());
    let token = f.api_token().await;
    assert_eq!(claims(&token)["roles"], json!(["User.ReadWrite.All"]));

    let (status, none) = f.api(reqwest::Method::GET, "invitations", None, None).await;
    assert_eq!(
        (status, none["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    // A token whose claims were changed after signing.
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut forged = claims(&token);
    forged["roles"] = json!(["User.ReadWrite.All", "AuditLog.Read.All"]);
    forged["tid"] = json!("another-tenant");
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    let (status, _) = f
        .api(
            reqwest::Method::GET,
            "invitations",
            Some(&parts.join(".")),
            None,
        )
        .await;
    assert_eq!(status, 401);
    // A person's access token is no app's.
    let (status, _) = f
        .api(reqwest::Method::GET, "invitations", Some(&f.ada), None)
        .await;
    assert_eq!(status, 401);

    for (body, says) in [
        (
            json!({ "inviteRedirectUrl": "https://x.example/" }),
            "invitedUserEmailAddress",
        ),
        (
            json!({ "invitedUserEmailAddress": "a@b.example" }),
            "inviteRedirectUrl",
        ),
        (
            json!({ "invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": "https://x.example/", "invitedUserType": "Member" }),
            "Member",
        ),
        (
            json!({ "invitedUserEmailAddress": "not an address", "inviteRedirectUrl": "https://x.example/" }),
            "email",
        ),
        (json!({ "invitedUserEmailAddress": 7 }), "not valid"),
    ] {
        let (status, refused) = f
            .api(
                reqwest::Method::POST,
                "invitations",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(refused["error"]["code"], "Request_BadRequest");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
    }
    let (_, listed) = f
        .api(reqwest::Method::GET, "invitations", Some(&token), None)
        .await;
    assert_eq!(listed["value"], json!([]), "refused requests made nothing");

    // Asked for, the invitation is mailed; a reset keeps the user and sends a new link.
    let (status, made) = f
        .api(
            reqwest::Method::POST,
            "invitations",
            Some(&token),
            Some(json!({
                "invitedUserEmailAddress": "pat@partner.example",
                "inviteRedirectUrl": "https://wiki.contoso.example/",
                "sendInvitationMessage": true,
            })),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let mail = f.portico.outbox();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["recipient"], "pat@partner.example");
    let user_id = made["invitedUser"]["id"].as_str().expect("user id");
    let (status, reset) = f
        .api(
            reqwest::Method::POST,
            "invitations",
            Some(&token),
            Some(json!({
                "invitedUserEmailAddress": "pat@partner.example",
                "inviteRedirectUrl": "https://wiki.contoso.example/",
                "resetRedemption": true,
                "invitedUser": { "id": user_id },
            })),
        )
        .await;
    assert_eq!(status, 201, "{reset}");
    assert_eq!(reset["invitedUser"]["id"], user_id);
    assert_ne!(reset["inviteRedeemUrl"], made["inviteRedeemUrl"]);

    // An app that is gone signs in to nothing, whatever token it kept.
    let deleted = f
        .portico
        .call("admin/app/delete", &[("id", &f.client_id)], Some(&f.ada))
        .await;
    assert!(deleted.ok(), "{deleted:?}");
    let (status, _) = f
        .api(reqwest::Method::GET, "invitations", Some(&token), None)
        .await;
    assert_eq!(status, 401);
}

/// Runs the script that drives Microsoft's client libraries (`integration/clients`) against
/// Portico behind `nginx`; returns the one line of JSON it prints.
fn run_graph_sdk(nginx: &Nginx, args: &[&str]) -> Value {
    // scripts/test.sh makes a Python with the libraries at the versions it pins.
    let python = std::env::var("PORTICO_GRAPH_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/graph_invite.py");
    let output = std::process::Command::new(&python)
        .arg(script)
        .args(args)
        .env("SSL_CERT_FILE", nginx.certificate())
        .env("REQUESTS_CA_BUNDLE", nginx.certificate())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (scripts/test.sh installs it): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Graph SDK script failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_graph_sdk_and_msal_invite_through_portico_unchanged_but_for_the_address() {
    // MSAL and the Graph SDK speak only https: Portico behind a real TLS proxy.
    let proxy_port = free_port();
    let public_url = format!("https://localhost:{proxy_port}");
    let mut portico = Portico::start_with(&[
        "--public-url",
        &public_url,
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let nginx = Nginx::start(proxy_port, &portico.listening);
    portico.use_http(nginx.client());
    let (tenant, _) = portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let (client_id, secret) = portico.app_with_secret(&tenant, "Partner portal");
    let args = [
        public_url.as_str(),
        tenant.as_str(),
        client_id.as_str(),
        secret.as_str(),
        "lee@partner.example",
    ];
    let refused = tokio::task::block_in_place(|| run_graph_sdk(&nginx, &args));
    assert_eq!(
        refused,
        json!({ "error": "Authorization_RequestDenied", "status": 403 })
    );

    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let granted = portico
        .call(
            "admin/app/api-permission",
            &[
                ("id", &client_id),
                ("permission", "User.Invite.All"),
                ("present", "true"),
                ("understood", "yes"),
            ],
            Some(&ada),
        )
        .await;
    assert!(granted.ok(), "{granted:?}");
    let made = tokio::task::block_in_place(|| run_graph_sdk(&nginx, &args));
    assert_eq!(made["status"], "PendingAcceptance", "{made}");
    assert_eq!(made["invitedUserEmailAddress"], "lee@partner.example");
    assert_ne!(made["invitedUserId"], made["id"]);
    let link = made["inviteRedeemUrl"].as_str().unwrap_or_default();
    assert!(
        link.starts_with(&format!("{public_url}/redeem?ticket=")),
        "{made}"
    );
    let mail = portico.outbox();
    assert!(
        mail.iter().any(|m| m["recipient"] == "lee@partner.example"
            && m["text_body"]
                .as_str()
                .unwrap_or_default()
                .contains("Welcome to the wiki")),
        "{mail:?}"
    );
}

#[tokio::test]
async fn an_app_reads_groups_in_pages_and_adds_members_by_reference() {
    let f = fixture().await;
    let group = |name: &str| {
        f.portico.cli_json(
            &["group", "create", "--tenant", &f.tenant, "--name", name],
            "",
        )["id"]
            .as_str()
            .expect("group id")
            .to_string()
    };
    let design = group("Design");
    group("Engineering");
    group("Sales");
    let mia = f.portico.create_user(&f.tenant, "mia@contoso.example", &[]);
    f.portico.cli_json(
        &[
            "group",
            "add-member",
            "--tenant",
            &f.tenant,
            "--group",
            "Design",
            "--user",
            "ada@contoso.example",
        ],
        "",
    );
    let token = f.api_token().await;
    let get = |path: String| {
        let (f, token) = (&f, &token);
        async move { f.api(reqwest::Method::GET, &path, Some(token), None).await }
    };
    let (status, _) = get("groups".into()).await;
    assert_eq!(status, 403, "nothing granted yet");

    assert!(f.set_permission("Group.Read.All", true).await.ok());
    let (status, first) = get("groups?$top=2".into()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["value"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["value"][0]["displayName"], "Design");
    assert_eq!(first["value"][0]["securityEnabled"], true);
    let next = first["@odata.nextLink"].as_str().expect("a next page");
    let next = next
        .strip_prefix(&format!("{}/v1.0/", f.portico.url))
        .expect("on this API");
    let (_, second) = get(next.to_string()).await;
    assert_eq!(second["value"][0]["displayName"], "Sales");
    assert!(second.get("@odata.nextLink").is_none(), "{second}");
    let (_, selected) = get("groups?$select=displayName".into()).await;
    assert_eq!(selected["value"][0], json!({ "displayName": "Design" }));
    for bad in ["groups?$select=nope", "groups?$top=0", "groups?$top=1000"] {
        let (status, refused) = get(bad.into()).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (400, Some("Request_BadRequest")),
            "{bad}"
        );
    }
    let (status, members) = get(format!("groups/{design}/members")).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members["value"][0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(members["value"][0]["mail"], "ada@contoso.example");
    let (status, missing) = get("groups/no-such-group".into()).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );

    // Reading is not writing.
    let reference = |id: &str| json!({ "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}") });
    let add = |body: Value| {
        let (f, token, path) = (&f, &token, format!("groups/{design}/members/$ref"));
        async move {
            f.api(reqwest::Method::POST, &path, Some(token), Some(body))
                .await
        }
    };
    assert_eq!(add(reference(&mia)).await.0, 403);
    assert!(
        f.set_permission("GroupMember.ReadWrite.All", true)
            .await
            .ok()
    );
    let (status, added) = add(reference(&mia)).await;
    assert_eq!(status, 204, "{added}");
    let (status, twice) = add(reference(&mia)).await;
    assert_eq!(status, 400);
    assert_eq!(
        twice["error"]["message"],
        "One or more added object references already exist for the following modified properties: 'members'."
    );
    let (status, nobody) = add(reference("no-such-user")).await;
    assert_eq!(
        (status, nobody["error"]["message"].as_str()),
        (
            404,
            Some(
                "Resource 'no-such-user' does not exist or one of its queried reference-property objects are not present."
            )
        )
    );
    let (status, _) = add(json!({ "@odata.id": "x", "extra": 1 })).await;
    assert_eq!(status, 400, "unknown properties are refused");
    let events = f.portico.audited(&f.ada, "Add member to group").await;
    assert_eq!(events["items"][0]["actor_kind"], "App");

    let remove = || {
        let (f, token, path) = (&f, &token, format!("groups/{design}/members/{mia}/$ref"));
        async move {
            f.api(reqwest::Method::DELETE, &path, Some(token), None)
                .await
        }
    };
    assert_eq!(remove().await.0, 204);
    assert_eq!(remove().await.0, 400);
    let (_, members) = get(format!("groups/{design}/members")).await;
    assert_eq!(members["value"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_app_lists_guests_with_filters_and_pages_and_changes_them() {
    let f = fixture().await;
    assert!(f.set_permission("User.Invite.All", true).await.ok());
    let token = f.api_token().await;
    for email in [
        "ann@partner.example",
        "bob@partner.example",
        "cy@other.example",
    ] {
        let (status, made) = f
            .api(
                reqwest::Method::POST,
                "invitations",
                Some(&token),
                Some(invitation(email)),
            )
            .await;
        assert_eq!(status, 201, "{made}");
    }
    let get = |path: &str, eventual: bool| {
        let mut request = f
            .portico
            .http()
            .get(format!("{}/v1.0/{path}", f.portico.url))
            .bearer_auth(&token);
        if eventual {
            request = request.header("ConsistencyLevel", "eventual");
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(get("users", false).await.0, 403, "inviting is not reading");
    assert!(f.set_permission("User.Read.All", true).await.ok());

    let (status, page) = get("users?$filter=userType eq 'Guest'&$top=2&$count=true", true).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["@odata.count"], 3);
    assert_eq!(page["value"].as_array().map(Vec::len), Some(2));
    // The default properties only, as Graph's; guests' principal names in the #EXT# form.
    let first = &page["value"][0];
    assert!(first.get("userType").is_none(), "{first}");
    assert!(
        first["userPrincipalName"]
            .as_str()
            .is_some_and(|upn| upn.ends_with("#EXT#@contoso.example")),
        "{first}"
    );
    let next = page["@odata.nextLink"].as_str().expect("a second page");
    let next = next
        .strip_prefix(&format!("{}/v1.0/", f.portico.url))
        .expect("here");
    let (_, rest) = get(next, true).await;
    assert_eq!(rest["value"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("@odata.nextLink").is_none());
    let mut seen: Vec<String> = [&page, &rest]
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .map(|u| u["mail"].as_str().unwrap_or_default().to_string())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "ann@partner.example",
            "bob@partner.example",
            "cy@other.example"
        ]
    );
    // Without ConsistencyLevel, $count is ignored, as Graph ignores it.
    let (_, plain) = get("users?$count=true", false).await;
    assert!(plain.get("@odata.count").is_none());
    assert_eq!(plain["value"].as_array().map(Vec::len), Some(4), "Ada too");

    let (_, found) = get(
        "users?$filter=startswith(mail,'b') and userType eq 'Guest'&$select=id,mail,userType,externalUserState,creationType,identities",
        false,
    )
    .await;
    let bob = &found["value"][0];
    assert_eq!(found["value"].as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(bob["externalUserState"], "PendingAcceptance");
    assert_eq!(bob["creationType"], "Invitation");
    assert_eq!(bob["identities"][0]["signInType"], "userPrincipalName");
    let bob_id = bob["id"].as_str().expect("id").to_string();
    for bad in [
        "users?$filter=userType ne 'Guest'",
        "users?$filter=jobTitle eq 'x'",
        "users?$search=\"displayName:bob\"",
    ] {
        let (status, refused) = get(bad, true).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (400, Some("Request_UnsupportedQuery")),
            "{bad}"
        );
    }
    let (status, one) = get(
        &format!("users/{bob_id}?$select=displayName,accountEnabled"),
        false,
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (one["displayName"].as_str(), one["accountEnabled"].as_bool()),
        (Some("bob"), Some(true))
    );

    // Changing takes User.ReadWrite.All.
    let patch = |body: Value| {
        let (f, token, path) = (&f, &token, format!("users/{bob_id}"));
        async move {
            f.api(reqwest::Method::PATCH, &path, Some(token), Some(body))
                .await
        }
    };
    assert_eq!(patch(json!({ "displayName": "Bob P." })).await.0, 403);
    assert!(f.set_permission("User.ReadWrite.All", true).await.ok());
    assert_eq!(
        patch(json!({ "displayName": "Bob P.", "accountEnabled": false }))
            .await
            .0,
        204
    );
    let (_, one) = get(
        &format!("users/{bob_id}?$select=displayName,accountEnabled"),
        false,
    )
    .await;
    assert_eq!(
        (one["displayName"].as_str(), one["accountEnabled"].as_bool()),
        (Some("Bob P."), Some(false))
    );
    assert_eq!(
        patch(json!({ "jobTitle": "x" })).await.0,
        400,
        "unknown properties are refused"
    );
    let (status, _) = f
        .api(
            reqwest::Method::DELETE,
            &format!("users/{bob_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(get(&format!("users/{bob_id}"), false).await.0, 404);
}
