//! Moving an instance from SQLite to PostgreSQL with `portico db copy`: the copy keeps
//! what people sign in with, the apps they use and the audit trail, and refuses a database
//! that holds anything.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration::{PASSWORD, Portico, TestDatabase, cli_on};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://wiki.contoso.example/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";
const ADA: &str = "ada@contoso.example";
const MIA: &str = "mia@contoso.example";
const ANN: &str = "ann@partner.example";

/// The rows `portico db copy --json` says it copied into `table`.
fn rows(copied: &Value, table: &str) -> u64 {
    copied["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("{table} was not copied: {copied}"))["rows"]
        .as_u64()
        .expect("a count")
}

/// Signs `session`'s holder in to Wiki with the authorization code flow (PKCE, the
/// client's secret); returns the ID token's claims.
async fn sign_in_to_wiki(
    portico: &Portico,
    tenant: &str,
    client_id: &str,
    secret: &str,
    session: &str,
) -> Value {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "s-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let authorize = format!("{}/{tenant}/oauth2/v2.0/authorize?{query}", portico.url);
    let response = portico
        .http()
        .get(authorize)
        .header("Cookie", format!("portico_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    let (_, query) = location.split_once('?').unwrap();
    let code = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    let tokens: Value = portico
        .http()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", portico.url))
        .basic_auth(client_id, Some(secret))
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
    let jwt = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no ID token: {tokens}"));
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A guest signs in with a code mailed to her; returns her session.
async fn guest_signs_in(portico: &Portico, email: &str) -> String {
    let (sent, cookies) = portico
        .call_with_cookies("sign_in/code/send", &[("email", email)], "")
        .await;
    assert!(sent.ok(), "{sent:?}");
    let pending = cookies
        .iter()
        .find(|(k, _)| k == "portico_signin")
        .expect("a sign-in cookie")
        .1
        .clone();
    let code = portico.latest_code(email);
    let (signed_in, _) = portico
        .call_with_cookies(
            "sign_in/code/verify",
            &[("code", &code)],
            &format!("portico_signin={pending}"),
        )
        .await;
    assert!(signed_in.ok(), "{signed_in:?}");
    signed_in.cookie.expect("a session")
}

#[tokio::test]
async fn an_instance_copied_to_postgresql_keeps_its_people_apps_and_audit_trail() {
    // The source is SQLite whatever the tests run on.
    let sqlite = Portico::start_in(tempfile::tempdir().unwrap(), TestDatabase::sqlite());
    let (tenant, _) =
        sqlite.seed_tenant("Contoso", "contoso.example", ADA, &["global-administrator"]);
    sqlite.create_user(&tenant, MIA, &[]);
    let (client_id, secret) = sqlite.sign_in_app(&tenant, "Wiki", REDIRECT);
    let ada = sqlite.sign_in(ADA, PASSWORD).await;
    sqlite.invite_and_redeem(&ada, ANN).await;
    for user in [MIA, ANN] {
        sqlite.assign(&tenant, "Wiki", user);
    }
    // The organization's fallback sponsor: a key from tenants to users, which refer back.
    let fallback = sqlite
        .call(
            "admin/collaboration/fallback-sponsor",
            &[("fallback", MIA)],
            Some(&ada),
        )
        .await;
    assert!(fallback.ok(), "{fallback:?}");
    let (data, source) = sqlite.stop();

    let target = TestDatabase::postgres();
    let url = target.url().expect("a PostgreSQL URL");
    // A data folder with no database in it, and a source that is not SQLite, are refused.
    let elsewhere = tempfile::tempdir().unwrap();
    let (ok, _, err) = cli_on(elsewhere.path(), &source, &["db", "copy", "--to", &url], "");
    assert!(!ok && err.contains("holds no organization"), "{err}");
    let (ok, _, err) = cli_on(data.path(), &target, &["db", "copy", "--to", &url], "");
    assert!(!ok && err.contains("must be SQLite"), "{err}");

    let (ok, out, err) = cli_on(
        data.path(),
        &source,
        &["db", "copy", "--to", &url, "--json"],
        "",
    );
    assert!(ok, "the copy failed: {err}");
    let copied: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(rows(&copied, "tenants"), 1);
    assert_eq!(rows(&copied, "users"), 3, "Ada, Mia and the guest Ann");
    assert_eq!(rows(&copied, "apps"), 1);
    assert_eq!(rows(&copied, "client_secrets"), 1);
    assert_eq!(rows(&copied, "app_assignments"), 2);
    assert_eq!(rows(&copied, "invitations"), 1);
    assert!(rows(&copied, "audit_events") >= 8, "{copied}");
    let sum: u64 = copied["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(copied["total"].as_u64(), Some(sum));
    assert!(
        copied["not_copied"]
            .as_array()
            .unwrap()
            .contains(&Value::from("sessions")),
        "{copied}"
    );

    // A database that holds anything is refused, and keeps what it holds.
    let (ok, _, err) = cli_on(data.path(), &source, &["db", "copy", "--to", &url], "");
    assert!(!ok, "a second copy into the same database went through");
    assert!(
        err.contains("not empty") && err.contains("Nothing was written"),
        "{err}"
    );

    // Portico on PostgreSQL, with the same data folder (its secret key).
    let postgres = Portico::start_in(data, target);
    let ada = postgres.sign_in(ADA, PASSWORD).await;
    let mia = postgres.sign_in(MIA, PASSWORD).await;
    let ann = guest_signs_in(&postgres, ANN).await;
    let me = postgres.call("me", &[], Some(&ann)).await;
    assert_eq!(
        (me.body["tenant_name"].as_str(), me.body["guest"].as_bool()),
        (Some("Contoso"), Some(true)),
        "{me:?}"
    );
    for (session, email) in [(&mia, MIA), (&ann, ANN)] {
        let claims = sign_in_to_wiki(&postgres, &tenant, &client_id, &secret, session).await;
        assert_eq!(claims["email"], email);
    }
    let sponsors = postgres
        .call("admin/collaboration/sponsors", &[], Some(&ada))
        .await;
    assert!(sponsors.ok(), "{sponsors:?}");
    assert_eq!(sponsors.body["fallback"]["email"], MIA, "{sponsors:?}");

    // The audit trail still holds as a chain, and says the copy was made.
    let (ok, out, err) = postgres.cli(&["audit", "verify", "--tenant", &tenant], "");
    assert!(ok && out.contains("The chain holds"), "{out} {err}");
    let events = postgres.audited(&ada, "Copy database to PostgreSQL").await;
    assert_eq!(events["total"], 1, "{events}");
    assert_eq!(events["items"][0]["actor_name"], "Command line");
}
