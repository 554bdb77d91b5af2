//! Two Portico processes on one PostgreSQL database, as replicas behind a load balancer:
//! what one does, the other sees, and the rules that read and then write hold across both.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico, TestDatabase};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://wiki.contoso.example/callback";
const VERIFIER: &str = "a-verifier-long-enough-for-pkce-0123456789abcdef";
/// Passcodes one mailbox is sent in fifteen minutes (`domain::organizations::MAX_CODES_PER_WINDOW`).
const MAILBOX_CODES: usize = 5;

struct Replicas {
    a: Portico,
    b: Portico,
    tenant: String,
    client_id: String,
    secret: String,
    admin: String,
    mia_id: String,
}

async fn replicas() -> Replicas {
    let a = Portico::start_on(TestDatabase::postgres(), &[]);
    let b = a.start_replica(&[]);
    let (tenant, _) = a.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let mia_id = a.create_user(&tenant, "mia@contoso.example", &[]);
    let (client_id, secret) = a.sign_in_app(&tenant, "Wiki", REDIRECT);
    a.assign(&tenant, "Wiki", "mia@contoso.example");
    let admin = b.sign_in("ada@contoso.example", PASSWORD).await;
    Replicas {
        a,
        b,
        tenant,
        client_id,
        secret,
        admin,
        mia_id,
    }
}

impl Replicas {
    fn endpoint(&self, on: &Portico, path: &str) -> String {
        format!("{}/{}/{path}", on.url, self.tenant)
    }

    /// A code for the person of `session`, asked of `on`.
    async fn code(&self, on: &Portico, session: &str) -> String {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "openid profile email"),
                ("state", "s"),
                ("nonce", "n"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let response = on
            .http()
            .get(format!(
                "{}?{query}",
                self.endpoint(on, "oauth2/v2.0/authorize")
            ))
            .header("Cookie", format!("portico_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let query: HashMap<String, String> = url::form_urlencoded::parse(
            location.split_once('?').map(|(_, q)| q).unwrap().as_bytes(),
        )
        .into_owned()
        .collect();
        query["code"].clone()
    }

    /// Exchanges `code` at `on`'s token endpoint: (status, answer).
    async fn exchange(&self, on: &Portico, code: &str) -> (u16, Value) {
        let response = on
            .http()
            .post(self.endpoint(on, "oauth2/v2.0/token"))
            .basic_auth(&self.client_id, Some(&self.secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(integration::encode_form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_session_and_a_code_made_on_one_replica_are_used_on_the_other() {
    let r = replicas().await;
    let mia = r.a.sign_in("mia@contoso.example", PASSWORD).await;
    // The panel on B, with A's session.
    let panel = r.b.call("panel", &[], Some(&mia)).await;
    assert_eq!(panel.body["apps"][0]["name"], "Wiki", "{panel:?}");
    // Authorized on B, exchanged on A.
    let code = r.code(&r.b, &mia).await;
    let (status, tokens) = r.exchange(&r.a, &code).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].is_string());
    // And a code can be used once only, whichever replica is asked.
    let (status, again) = r.exchange(&r.b, &code).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn fifty_exchanges_of_one_code_split_across_replicas_give_one_token() {
    let r = replicas().await;
    let mia = r.a.sign_in("mia@contoso.example", PASSWORD).await;
    let code = r.code(&r.a, &mia).await;
    let attempts = (0..50).map(|i| r.exchange(if i % 2 == 0 { &r.a } else { &r.b }, &code));
    let results = futures::future::join_all(attempts).await;
    let granted = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(granted, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(status, answer)| *status == 200 || answer["error"] == "invalid_grant"),
        "{results:?}"
    );
}

#[tokio::test]
async fn a_user_disabled_on_one_replica_is_refused_on_the_other() {
    let r = replicas().await;
    let mia = r.a.sign_in("mia@contoso.example", PASSWORD).await;
    assert!(r.b.call("me", &[], Some(&mia)).await.ok());
    let disable =
        r.a.call(
            "admin/user/enabled",
            &[("id", &r.mia_id), ("enabled", "false")],
            Some(&r.admin),
        )
        .await;
    assert!(disable.ok(), "{disable:?}");
    // B may answer from what it read within the last second; never later than that.
    let started = Instant::now();
    loop {
        let me = r.b.call("me", &[], Some(&mia)).await;
        if me.body == Value::Null {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "B still trusts the session of a user disabled on A: {me:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !r.b.call(
            "sign_in",
            &[("email", "mia@contoso.example"), ("password", PASSWORD)],
            None
        )
        .await
        .ok(),
        "a disabled user signed in on B"
    );
}

#[tokio::test]
async fn a_key_rotated_on_one_replica_signs_on_the_other_within_five_seconds() {
    let r = replicas().await;
    let mia = r.a.sign_in("mia@contoso.example", PASSWORD).await;
    let rotated = r.a.cli_json(&["keys", "rotate"], "");
    let new_kid = rotated["kids"][0].as_str().unwrap().to_string();
    let started = Instant::now();
    loop {
        let code = r.code(&r.b, &mia).await;
        let (status, tokens) = r.exchange(&r.b, &code).await;
        assert_eq!(status, 200, "{tokens}");
        if kid_of(tokens["id_token"].as_str().unwrap()) == new_kid {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "B still signs with the old key"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let keys: Value =
        r.b.http()
            .get(r.endpoint(&r.b, "discovery/v2.0/keys"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|key| key["kid"] == new_kid.as_str()),
        "B publishes the new key: {keys}"
    );
}

#[tokio::test]
async fn an_invitation_made_on_one_replica_is_redeemed_on_the_other() {
    let r = replicas().await;
    let ticket = r.a.invite(&r.admin, "gus@partner.example").await;
    let redemption = r.b.start_redemption(&ticket).await;
    let code = r.a.latest_code("gus@partner.example");
    let verified =
        r.a.call_redeeming("redeem/verify", &[("code", &code)], &redemption)
            .await;
    assert!(verified.ok(), "{verified:?}");
    let accepted = r.b.call_redeeming("redeem/accept", &[], &redemption).await;
    assert!(accepted.ok(), "{accepted:?}");
    let gus = accepted.cookie.expect("a session after accepting");
    let me = r.a.call("me", &[], Some(&gus)).await;
    assert_eq!(me.body["email"], "gus@partner.example", "{me:?}");
    // The link was used: neither replica starts it again.
    for on in [&r.a, &r.b] {
        let (again, _) = on
            .call_with_cookies("redeem/start", &[("ticket", &ticket)], "")
            .await;
        assert!(!again.ok(), "a used link started again: {again:?}");
    }
}

#[tokio::test]
async fn invitations_of_one_address_on_both_replicas_at_once_make_one_guest_and_one_link() {
    let r = replicas().await;
    let invite = |i: usize| {
        let on = if i.is_multiple_of(2) { &r.a } else { &r.b };
        on.call(
            "admin/invite",
            &[
                ("email", "ivy@partner.example"),
                ("display_name", ""),
                ("message", ""),
                ("redirect_url", ""),
                ("send_email", "on"),
            ],
            Some(&r.admin),
        )
    };
    let answers = futures::future::join_all((0..20).map(invite)).await;
    for answer in &answers {
        assert!(answer.ok(), "{answer:?}");
    }
    let guests: std::collections::HashSet<&str> = answers
        .iter()
        .map(|answer| answer.body["user"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(guests.len(), 1, "one guest for the address: {guests:?}");
    let fresh = answers
        .iter()
        .filter(|answer| answer.body["resent"] == false)
        .count();
    assert_eq!(
        fresh, 1,
        "the first made the guest, the others sent new links"
    );
    let listed = r.b.call("admin/invitations", &[], Some(&r.admin)).await;
    let working: Vec<&Value> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["email"] == "ivy@partner.example" && i["status"] == "PendingAcceptance")
        .collect();
    assert_eq!(working.len(), 1, "only the newest link works: {listed:?}");
}

#[tokio::test]
async fn fifty_starts_of_one_redemption_split_across_replicas_keep_the_mailbox_limit() {
    let r = replicas().await;
    let ticket = r.a.invite(&r.admin, "hal@partner.example").await;
    // Each start mails a passcode; one mailbox gets at most five in fifteen minutes,
    // however many replicas are asked at once.
    let form = [("ticket", ticket.as_str())];
    let starts = (0..50).map(|i| {
        let on = if i % 2 == 0 { &r.a } else { &r.b };
        on.call_with_cookies("redeem/start", &form, "")
    });
    let answers = futures::future::join_all(starts).await;
    let started = answers.iter().filter(|(answer, _)| answer.ok()).count();
    assert_eq!(started, MAILBOX_CODES, "{answers:?}");
    for (answer, _) in answers.iter().filter(|(answer, _)| !answer.ok()) {
        assert_eq!(
            answer.error_kind().as_deref(),
            Some("Refused"),
            "{answer:?}"
        );
        assert!(answer.message().contains("Too many attempts"), "{answer:?}");
    }
    let codes =
        r.a.outbox()
            .into_iter()
            .filter(|mail| mail["recipient"] == "hal@partner.example")
            .filter(|mail| !mail["subject"].as_str().unwrap().contains("invited you"))
            .count();
    assert_eq!(codes, MAILBOX_CODES, "one code mailed per start that began");
}

#[tokio::test]
async fn two_replicas_deliver_each_mail_exactly_once() {
    use crate::mail::{SmtpServer, delivered, free_port};
    let port = free_port().to_string();
    let maildir = tempfile::tempdir().unwrap();
    let _smtp = SmtpServer::start(port.parse().unwrap(), maildir.path());
    let smtp = [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--smtp-tls",
        "none",
        "--mail-from",
        "Portico <portico@contoso.example>",
    ];
    let a = Portico::start_on(TestDatabase::postgres(), &smtp);
    let b = a.start_replica(&smtp);
    a.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = b.sign_in("ada@contoso.example", PASSWORD).await;
    for i in 0..60 {
        // Made on both replicas, delivered by both workers.
        let on = if i % 2 == 0 { &a } else { &b };
        on.invite(&ada, &format!("guest{i:02}@partner.example"))
            .await;
    }
    let started = Instant::now();
    while delivered(maildir.path()).len() < 60 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of 60 mails delivered",
            delivered(maildir.path()).len()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A mail sent twice would arrive late: give the workers time to do it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = delivered(maildir.path());
    let mut recipients: Vec<&str> = mails
        .iter()
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("To: ")))
        .map(str::trim)
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(
        (mails.len(), recipients.len()),
        (60, 60),
        "each mail exactly once"
    );
}
