//! Conditional access against the real binary: policies made through the console's
//! forms, enforced at the authorization endpoint (a second factor asked for, a block, a
//! report-only policy that only logs, terms of use to accept) and at refresh, recorded
//! per policy in the sign-in log, and What If.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://wiki.contoso.example/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";

/// Contoso with Ada (global administrator) and Mia (member, assigned to the Wiki).
struct Fixture {
    portico: Portico,
    tenant: String,
    wiki: String,
    secret: String,
    ada: String,
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
    let (wiki, secret) = portico.sign_in_app(&tenant, "Wiki", REDIRECT);
    portico.assign(&tenant, "Wiki", "mia@contoso.example");
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let mia = portico.sign_in("mia@contoso.example", PASSWORD).await;
    Fixture {
        portico,
        tenant,
        wiki,
        secret,
        ada,
        mia,
    }
}

/// A policy form as the console posts it: for everyone, the Wiki, asking a second factor,
/// with `changes` replacing fields.
pub(crate) fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("id", ""),
        ("name", "Wiki needs MFA"),
        ("state", "enabled"),
        ("users", "everyone"),
        ("include_users", ""),
        ("include_groups", ""),
        ("include_roles", ""),
        ("exclude_users", ""),
        ("exclude_groups", ""),
        ("exclude_roles", ""),
        ("apps", "selected"),
        ("include_apps", "Wiki"),
        ("exclude_apps", ""),
        ("locations", ""),
        ("exclude_locations", ""),
        ("grant", "require"),
        ("mfa", "on"),
        ("terms", ""),
        ("operator", "all"),
        ("frequency_hours", ""),
    ];
    for (key, value) in changes {
        fields.retain(|(k, _)| k != key);
        fields.push((key, value));
    }
    fields
}

impl Fixture {
    async fn save(&self, fields: &[(&str, &str)]) -> integration::Answer {
        self.portico
            .call("admin/policies/save", fields, Some(&self.ada))
            .await
    }

    /// The policies, as the console lists them.
    async fn policies(&self) -> Vec<Value> {
        let listed = self
            .portico
            .call("admin/policies", &[], Some(&self.ada))
            .await;
        assert!(listed.ok(), "{listed:?}");
        listed.body[0].as_array().unwrap().clone()
    }

    async fn policy_id(&self, name: &str) -> String {
        self.policies()
            .await
            .into_iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no policy {name}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Mia opens the Wiki: (status, Location, body) of the authorization endpoint.
    async fn authorize(&self) -> (u16, String, String) {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", self.wiki.as_str()),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "openid offline_access"),
                ("state", "s"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let response = self
            .portico
            .http()
            .get(format!(
                "{}/{}/oauth2/v2.0/authorize?{query}",
                self.portico.url, self.tenant
            ))
            .header("Cookie", format!("portico_session={}", self.mia))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, response.text().await.unwrap())
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .portico
            .http()
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                self.portico.url, self.tenant
            ))
            .basic_auth(&self.wiki, Some(&self.secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(integration::encode_form(form))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// The tokens for the code the authorization endpoint sent to `location`.
    async fn exchange(&self, location: &str) -> Value {
        let code = query_of(location)["code"].clone();
        let (status, tokens) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    /// The newest sign-in in the log (of one policy, with `policy`).
    async fn last_sign_in(&self, policy: &str) -> Value {
        let log = self
            .portico
            .call("admin/sign-ins", &[("policy", policy)], Some(&self.ada))
            .await;
        assert!(log.ok(), "{log:?}");
        log.body[0].clone()
    }
}

fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn a_policy_asks_a_second_factor_blocks_or_only_reports_and_the_log_says_which() {
    let f = fixture().await;
    // With no policy, Mia gets a code, and the log says conditional access did not apply.
    let (status, location, body) = f.authorize().await;
    assert_eq!(status, 303, "{body}");
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(f.last_sign_in("").await["ca_status"], "notApplied");

    // "Wiki needs MFA", on: Mia signed in with a password only is sent to prove a second
    // factor, and comes back to the request after.
    let saved = f.save(&form(&[])).await;
    assert!(saved.ok(), "{saved:?}");
    let mfa = f.policy_id("Wiki needs MFA").await;
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/account/verify?"), "{location}");
    let asked = query_of(&location);
    assert_eq!(asked["policy"], "Wiki needs MFA");
    // Back to the kept request afterwards, through the page that continues (its address
    // in hexadecimal).
    let hex = asked["next"].strip_prefix("/continue?to=").unwrap();
    let back: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let back = String::from_utf8(back).unwrap();
    assert!(
        back.starts_with(&format!("/{}/oauth2/v2.0/authorize/pending/", f.tenant)),
        "{back}"
    );
    let logged = f.last_sign_in(&mfa).await;
    assert_eq!(logged["success"], false);
    assert_eq!(logged["ca_status"], "failure");
    assert_eq!(logged["ca_policies"][0]["name"], "Wiki needs MFA");
    assert_eq!(logged["ca_policies"][0]["result"], "failure");
    assert_eq!(logged["ca_policies"][0]["controls"][0], "mfa");

    // Report-only: the sign-in goes through, and the log shows what it would have done.
    let report_only = form(&[("id", &mfa), ("state", "enabledForReportingButNotEnforced")]);
    assert!(f.save(&report_only).await.ok());
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    assert!(location.starts_with(REDIRECT), "{location}");
    let logged = f.last_sign_in(&mfa).await;
    assert_eq!(logged["success"], true);
    assert_eq!(logged["ca_status"], "notApplied");
    assert_eq!(logged["ca_policies"][0]["result"], "reportOnlyFailure");
    let tokens = f.exchange(&location).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    // A block for everyone but the administrators, on: Mia is refused with the policy's
    // name, and her refresh token stops working (its whole family).
    let block = form(&[
        ("name", "No Wiki for now"),
        ("grant", "block"),
        ("mfa", ""),
        ("exclude_roles", "GlobalAdministrator"),
    ]);
    let saved = f.save(&block).await;
    assert!(saved.ok(), "{saved:?}");
    let (status, _, body) = f.authorize().await;
    assert_eq!(status, 403);
    assert!(body.contains("No Wiki for now"), "{body}");
    let blocked = f.policy_id("No Wiki for now").await;
    let logged = f.last_sign_in(&blocked).await;
    assert_eq!(logged["ca_status"], "failure");
    let results: Vec<(&str, &str)> = logged["ca_policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [
            ("No Wiki for now", "failure"),
            ("Wiki needs MFA", "reportOnlyFailure")
        ]
    );
    let (status, refused) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("No Wiki for now"),
        "{refused}"
    );

    // What If says the same without anyone signing in; for Portico itself neither applies.
    let asked = f
        .portico
        .call(
            "admin/policies/what-if",
            &[
                ("user", "mia@contoso.example"),
                ("app", &f.wiki),
                ("ip", "203.0.113.7"),
            ],
            Some(&f.ada),
        )
        .await;
    assert!(asked.ok(), "{asked:?}");
    assert_eq!(
        asked.body["outcome"],
        "Blocked by \u{201c}No Wiki for now\u{201d}."
    );
    let asked = f
        .portico
        .call(
            "admin/policies/what-if",
            &[
                ("user", "mia@contoso.example"),
                ("app", "portico"),
                ("ip", ""),
            ],
            Some(&f.ada),
        )
        .await;
    assert!(asked.ok(), "{asked:?}");
    assert!(
        asked.body["policies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["applies"] == false),
        "{asked:?}"
    );
    // Ada is left out of the block by her role.
    let asked = f
        .portico
        .call(
            "admin/policies/what-if",
            &[
                ("user", "ada@contoso.example"),
                ("app", &f.wiki),
                ("ip", ""),
            ],
            Some(&f.ada),
        )
        .await;
    assert_eq!(asked.body["policies"][0]["applies"], false, "{asked:?}");
    assert_eq!(
        asked.body["policies"][0]["why"],
        "The user is not included, or is excluded."
    );

    // Every change was audited.
    let audited = f
        .portico
        .audited(&f.ada, "Update conditional access policy")
        .await["items"]
        .clone();
    assert_eq!(audited.as_array().unwrap().len(), 1, "{audited}");
    assert_eq!(audited[0]["target_name"], "Wiki needs MFA");
    assert!(
        audited[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("Report-only; everyone; 1 app; a second factor"),
        "{audited}"
    );
}

#[tokio::test]
async fn a_wrong_policy_changes_nothing_and_says_why_and_only_administrators_may() {
    let f = fixture().await;
    // Unknown names, a malformed range, no name: each field says what is wrong.
    let wrong = form(&[
        ("name", " "),
        ("users", "selected"),
        ("include_groups", "Nobody's group"),
        ("include_apps", "Wikki"),
        ("locations", "10.0.0.0/33"),
    ]);
    let refused = f.save(&wrong).await;
    assert_eq!(
        refused.error_kind().as_deref(),
        Some("Invalid"),
        "{refused:?}"
    );
    let text = refused.body.to_string();
    for words in [
        "Nobody's group",
        "Wikki",
        "10.0.0.0/33",
        "Give the policy a name",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    assert!(f.policies().await.is_empty());

    // A block of everyone from everything, on, would lock every administrator out: it is
    // refused until confirmed.
    let lock_out = form(&[
        ("name", "Lock-out"),
        ("apps", "all"),
        ("grant", "block"),
        ("mfa", ""),
    ]);
    let refused = f.save(&lock_out).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(
        refused.message().contains("every global administrator"),
        "{refused:?}"
    );
    assert!(f.policies().await.is_empty());
    let mut confirmed = lock_out.clone();
    confirmed.push(("accept_lock_out", "on"));
    confirmed.retain(|(k, v)| *k != "state" || *v != "enabled");
    confirmed.push(("state", "disabled"));
    assert!(f.save(&confirmed).await.ok());

    // A member may not read or change policies.
    let denied = f
        .portico
        .call(
            "admin/policies/save",
            &form(&[("name", "Mine")]),
            Some(&f.mia),
        )
        .await;
    assert_eq!(denied.error_kind().as_deref(), Some("AccessDenied"));
    let denied = f.portico.call("admin/policies", &[], Some(&f.mia)).await;
    assert_eq!(denied.error_kind().as_deref(), Some("AccessDenied"));
    assert_eq!(f.policies().await.len(), 1);
}

#[tokio::test]
async fn a_policy_for_portico_itself_asks_before_the_console_opens() {
    let f = fixture().await;
    let admins_need_mfa = form(&[
        ("name", "Administrators need MFA"),
        ("users", "selected"),
        ("include_roles", "GlobalAdministrator"),
        ("include_apps", ""),
        ("portico", "on"),
    ]);
    let saved = f.save(&admins_need_mfa).await;
    assert!(saved.ok(), "{saved:?}");
    // Ada's next request to the console is asked for a second factor first, by name; the
    // page itself sends her to give one and come back.
    let denied = f.portico.call("admin/policies", &[], Some(&f.ada)).await;
    assert_eq!(
        denied.error_kind().as_deref(),
        Some("SecondFactor"),
        "{denied:?}"
    );
    assert_eq!(denied.message(), "Administrators need MFA");
    let page = f
        .portico
        .http()
        .get(format!("{}/admin/users", f.portico.url))
        .header("Accept", "text/html")
        .header("Cookie", format!("portico_session={}", f.ada))
        .send()
        .await
        .unwrap();
    let status = page.status().as_u16();
    let location = page
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(status, 302);
    assert!(
        location.starts_with("/account/verify?next=%2Fadmin%2Fusers&policy=Administrators"),
        "{location}"
    );
    // Mia, no administrator, opens her panel as before; and apps are not Portico.
    let panel = f.portico.call("panel", &[], Some(&f.mia)).await;
    assert!(panel.ok(), "{panel:?}");
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    assert!(location.starts_with(REDIRECT), "{location}");
}

#[tokio::test]
async fn a_policy_asking_a_passkey_sends_to_the_step_up_page_for_one() {
    let f = fixture().await;
    let passkey = form(&[
        ("name", "Mia needs a passkey"),
        ("users", "selected"),
        ("include_users", "mia@contoso.example"),
        ("portico", "on"),
        ("mfa", ""),
        ("passkey", "on"),
    ]);
    let saved = f.save(&passkey).await;
    assert!(saved.ok(), "{saved:?}");
    // Mia, signed in with her password, is sent to the step-up page for a passkey (no
    // longer to sign in again), and back to the kept request after.
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/account/verify?"), "{location}");
    let asked = query_of(&location);
    assert_eq!(asked["policy"], "Mia needs a passkey");
    assert_eq!(asked["need"], "passkey");
    assert!(asked["next"].starts_with("/continue?to="), "{location}");
    // The page says what is asked and, as she has no second factor, offers to add a
    // passkey there; no code is asked for, as an authenticator app would not do.
    let step = f
        .portico
        .call("account/verify", &[("need", "passkey")], Some(&f.mia))
        .await;
    assert_eq!(
        (
            step.body["passkey_asked"].as_bool(),
            step.body["has_passkey"].as_bool(),
            step.body["verified"].as_bool()
        ),
        (Some(true), Some(false), Some(false)),
        "{step:?}"
    );
    let shown = f
        .portico
        .http()
        .get(format!("{}{location}", f.portico.url))
        .header("Cookie", format!("portico_session={}", f.mia))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains("Your organization's policy “Mia needs a passkey” asks for a passkey."),
        "{shown}"
    );
    assert!(shown.contains("Add a passkey and continue"));
    assert!(!shown.contains("Code from your authenticator app"));
    // Portico itself asks the same, by name.
    let panel = f.portico.call("panel", &[], Some(&f.mia)).await;
    assert_eq!(panel.error_kind().as_deref(), Some("Passkey"), "{panel:?}");
    assert_eq!(panel.message(), "Mia needs a passkey");
}

#[tokio::test]
async fn what_if_agrees_with_real_sign_ins() {
    let f = fixture().await;
    let (crm, _) = f
        .portico
        .sign_in_app(&f.tenant, "CRM", "https://crm.contoso.example/callback");
    f.portico.create_user(&f.tenant, "max@contoso.example", &[]);
    let gia = f
        .portico
        .invite_and_redeem(&f.ada, "gia@partner.example")
        .await;
    let max = f.portico.sign_in("max@contoso.example", PASSWORD).await;
    for person in [
        "ada@contoso.example",
        "mia@contoso.example",
        "max@contoso.example",
        "gia@partner.example",
    ] {
        for app in ["Wiki", "CRM"] {
            f.portico.assign(&f.tenant, app, person);
        }
    }
    let group = f
        .portico
        .call(
            "admin/groups/create",
            &[("name", "Contractors"), ("description", "")],
            Some(&f.ada),
        )
        .await;
    let group = group.body["id"].as_str().unwrap().to_string();
    let linked = f
        .portico
        .call(
            "admin/group/link",
            &[
                ("id", &group),
                ("user", "max@contoso.example"),
                ("relation", "member"),
                ("present", "true"),
            ],
            Some(&f.ada),
        )
        .await;
    assert!(linked.ok(), "{linked:?}");
    let policies = [
        form(&[("name", "Guests need MFA"), ("users", "guests")]),
        form(&[
            ("name", "CRM only from the office"),
            ("include_apps", "CRM"),
            ("grant", "block"),
            ("mfa", ""),
            ("exclude_locations", "127.0.0.0/8"),
        ]),
        form(&[
            ("name", "Administrators need MFA"),
            ("state", "enabledForReportingButNotEnforced"),
            ("users", "selected"),
            ("include_roles", "GlobalAdministrator"),
            ("apps", "all"),
        ]),
        form(&[
            ("name", "No Wiki for contractors"),
            ("users", "selected"),
            ("include_groups", "Contractors"),
            ("grant", "block"),
            ("mfa", ""),
        ]),
        form(&[
            ("name", "Contractors need MFA on Portico"),
            ("users", "selected"),
            ("include_groups", "Contractors"),
            ("include_apps", ""),
            ("portico", "on"),
        ]),
    ];
    for policy in &policies {
        let saved = f.save(policy).await;
        assert!(saved.ok(), "{saved:?}");
    }
    let sessions = [
        ("ada@contoso.example", f.ada.clone()),
        ("mia@contoso.example", f.mia.clone()),
        ("max@contoso.example", max),
        ("gia@partner.example", gia),
    ];
    let mut cases = 0;
    for (email, session) in &sessions {
        for (target, client) in [
            ("Wiki", Some(&f.wiki)),
            ("CRM", Some(&crm)),
            ("Portico", None),
        ] {
            // What If, from the loopback address the tests sign in from.
            let app = client.map_or("portico", |c| c.as_str());
            let asked = f
                .portico
                .call(
                    "admin/policies/what-if",
                    &[("user", email), ("app", app), ("ip", "127.0.0.1")],
                    Some(&f.ada),
                )
                .await;
            assert!(asked.ok(), "{asked:?}");
            let predicted = asked.body["outcome"].as_str().unwrap().to_string();
            // The real thing: the authorization endpoint for an app, the panel for Portico.
            let real = match client {
                Some(client) => {
                    let redirect = if target == "Wiki" {
                        REDIRECT.to_string()
                    } else {
                        "https://crm.contoso.example/callback".to_string()
                    };
                    let query = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs([
                            ("client_id", client.as_str()),
                            ("redirect_uri", redirect.as_str()),
                            ("response_type", "code"),
                            ("scope", "openid"),
                            ("nonce", "n"),
                        ])
                        .finish();
                    let answer = f
                        .portico
                        .http()
                        .get(format!(
                            "{}/{}/oauth2/v2.0/authorize?{query}",
                            f.portico.url, f.tenant
                        ))
                        .header("Cookie", format!("portico_session={session}"))
                        .send()
                        .await
                        .unwrap();
                    let location = answer
                        .headers()
                        .get("location")
                        .map(|l| l.to_str().unwrap().to_string())
                        .unwrap_or_default();
                    match answer.status().as_u16() {
                        303 if location.starts_with(&redirect) => "allowed",
                        303 if location.starts_with("/account/verify") => "second factor",
                        403 => "blocked",
                        other => panic!("{email} to {target}: {other} {location}"),
                    }
                }
                None => {
                    let panel = f.portico.call("panel", &[], Some(session)).await;
                    match panel.error_kind().as_deref() {
                        None => "allowed",
                        Some("SecondFactor") => "second factor",
                        Some("Refused") => "blocked",
                        other => panic!("{email} to Portico: {other:?}"),
                    }
                }
            };
            let expected = if predicted.starts_with("Allowed: ") {
                "allowed"
            } else if predicted.starts_with("Blocked") {
                "blocked"
            } else if predicted.contains("a second factor") {
                "second factor"
            } else {
                panic!("{predicted}")
            };
            assert_eq!(
                real, expected,
                "{email} to {target}: What If said {predicted}"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 12);
}

/// The terms page's address, split: the terms' id, and its query.
fn terms_asked(location: &str) -> (String, HashMap<String, String>) {
    let rest = location
        .strip_prefix("/account/terms/")
        .unwrap_or_else(|| panic!("not the terms page: {location}"));
    let id = rest.split_once('?').map_or(rest, |(id, _)| id).to_string();
    (id, query_of(location))
}

/// The console's form for the terms "Wiki rules" (`id` empty: new ones).
fn terms_form<'a>(id: &'a str, text: &'a str) -> [(&'a str, &'a str); 3] {
    [("id", id), ("name", "Wiki rules"), ("text", text)]
}

/// Mia accepts `version` of the terms `id`.
async fn accept_terms(f: &Fixture, id: &str, version: &str) -> integration::Answer {
    f.portico
        .call(
            "account/terms/accept",
            &[("id", id), ("version", version)],
            Some(&f.mia),
        )
        .await
}

#[tokio::test]
async fn terms_of_use_are_asked_once_per_version_then_the_sign_in_goes_on() {
    let f = fixture().await;
    let saved = f
        .portico
        .call(
            "admin/terms/save",
            &terms_form("", "Be kind.\n\nShare nothing outside Contoso."),
            Some(&f.ada),
        )
        .await;
    assert!(saved.ok(), "{saved:?}");
    let listed = f.portico.call("admin/terms", &[], Some(&f.ada)).await;
    let terms_id = listed.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(listed.body[0]["version"], 1);
    // Members may not write terms.
    let refused = f
        .portico
        .call("admin/terms/save", &terms_form("", "Mine."), Some(&f.mia))
        .await;
    assert_eq!(refused.error_kind().as_deref(), Some("AccessDenied"));
    // A policy naming terms that do not exist is refused, field by field.
    let unknown = f
        .save(&form(&[("mfa", ""), ("terms", "House rules")]))
        .await;
    assert_eq!(
        unknown.error_kind().as_deref(),
        Some("Invalid"),
        "{unknown:?}"
    );
    assert!(f.policies().await.is_empty());

    let policy = form(&[
        ("name", "Wiki rules first"),
        ("mfa", ""),
        ("terms", "wiki RULES"),
    ]);
    let saved = f.save(&policy).await;
    assert!(saved.ok(), "{saved:?}");
    let policy_id = f.policy_id("Wiki rules first").await;

    // Mia opens the Wiki: she is sent to the terms, and back to the request after.
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    let (asked, query) = terms_asked(&location);
    assert_eq!(asked, terms_id);
    assert_eq!(query["policy"], "Wiki rules first");
    assert!(query["next"].starts_with("/continue?to="), "{query:?}");
    let logged = f.last_sign_in(&policy_id).await;
    assert_eq!(logged["ca_status"], "failure");
    assert_eq!(logged["ca_policies"][0]["controls"][0], "termsOfUse");
    assert_eq!(logged["ca_policies"][0]["result"], "failure");

    // The page shows the terms to her (rendered on the server, without JavaScript).
    let page = f
        .portico
        .http()
        .get(format!("{}{location}", f.portico.url))
        .header("Accept", "text/html")
        .header("Cookie", format!("portico_session={}", f.mia))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Share nothing outside Contoso."), "{html}");
    assert!(
        html.contains("Contoso asks you to read and accept these terms"),
        "{html}"
    );
    let shown = f
        .portico
        .call("account/terms", &[("id", &terms_id)], Some(&f.mia))
        .await;
    assert!(shown.ok(), "{shown:?}");
    assert_eq!(shown.body["terms"]["version"], 1);
    assert_eq!(shown.body["accepted_at"], Value::Null);

    // Accepting a version that is not in force is refused; version 1 lets her through.
    let stale = accept_terms(&f, &terms_id, "2").await;
    assert_eq!(stale.error_kind().as_deref(), Some("Refused"), "{stale:?}");
    let accepted = accept_terms(&f, &terms_id, "1").await;
    assert!(accepted.ok(), "{accepted:?}");
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(f.last_sign_in(&policy_id).await["ca_status"], "success");
    let tokens = f.exchange(&location).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    // A new text is version 2: her refresh stops, and she is asked again.
    let changed = f
        .portico
        .call(
            "admin/terms/save",
            &terms_form(
                &terms_id,
                "Be kind.\n\nShare nothing outside Contoso or Fabrikam.",
            ),
            Some(&f.ada),
        )
        .await;
    assert!(changed.ok(), "{changed:?}");
    let (status, refused) = f
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    let (status, location, _) = f.authorize().await;
    assert_eq!(status, 303);
    assert_eq!(terms_asked(&location).0, terms_id);
    assert!(accept_terms(&f, &terms_id, "2").await.ok());
    let (_, location, _) = f.authorize().await;
    assert!(location.starts_with(REDIRECT), "{location}");

    // The console lists both acceptances; terms a policy asks for cannot be deleted.
    let detail = f
        .portico
        .call("admin/terms/detail", &[("id", &terms_id)], Some(&f.ada))
        .await;
    let versions: Vec<i64> = detail.body["acceptances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(detail.body["policies"][0], "Wiki rules first");
    let delete = f
        .portico
        .call("admin/terms/delete", &[("id", &terms_id)], Some(&f.ada))
        .await;
    assert_eq!(
        delete.error_kind().as_deref(),
        Some("Refused"),
        "{delete:?}"
    );
}
