//! A partner organization's OpenID Connect provider for the tests, on a free port: discovery,
//! keys, an authorization endpoint that signs in whoever it is told to (no login page), a
//! token endpoint that checks the client, the code, the redirect URI and PKCE, and
//! userinfo. What its answers say can be changed between calls, including answers a real
//! provider should never give (another issuer, another audience, a broken signature), so
//! that the tests can show Portico refuses them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::rand_core::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What the provider says about the person it signs in next.
#[derive(Clone, Debug)]
pub struct Person {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Put name and email in userinfo only, not in the ID token (as `oidc-provider` does).
    pub claims_in_userinfo_only: bool,
    /// Answers a real provider must never give.
    pub issuer_claim: Option<String>,
    pub audience_claim: Option<String>,
    pub break_signature: bool,
    /// The provider does not let this person in (`error=access_denied`).
    pub refuse: bool,
}

impl Person {
    pub fn new(subject: &str, email: &str) -> Person {
        Person {
            subject: subject.into(),
            email: Some(email.into()),
            email_verified: true,
            claims_in_userinfo_only: false,
            issuer_claim: None,
            audience_claim: None,
            break_signature: false,
            refuse: false,
        }
    }
}

struct Grant {
    person: Person,
    client_id: String,
    redirect_uri: String,
    nonce: String,
    challenge: String,
}

struct Inner {
    issuer: String,
    client_id: String,
    client_secret: String,
    /// The signing key and the published key set; both change at a rotation.
    keys: Mutex<(CoreRsaPrivateSigningKey, Value)>,
    next: Mutex<Person>,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Person>>,
    /// Token requests that were refused, with why: the tests assert there are none.
    refusals: Mutex<Vec<String>>,
}

/// A running provider.
#[derive(Clone)]
pub struct Partner {
    inner: Arc<Inner>,
}

fn random() -> String {
    let mut bytes = [0u8; 24];
    rsa::rand_core::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Partner {
    /// Starts a provider on a free port for one client.
    pub async fn start(client_id: &str, client_secret: &str) -> Partner {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let issuer = format!("http://{}", listener.local_addr().expect("address"));
        let inner = Arc::new(Inner {
            issuer,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            keys: Mutex::new(new_key("k1")),
            next: Mutex::new(Person::new("nobody", "nobody@partner.example")),
            codes: Mutex::default(),
            tokens: Mutex::default(),
            refusals: Mutex::default(),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks_of))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(inner.clone());
        tokio::spawn(async move {
            axum::serve(listener, router).await.expect("partner serves");
        });
        Partner { inner }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Signs with a new key (another `kid`) from now on and publishes only that one.
    pub fn rotate_key(&self, kid: &str) {
        *self.inner.keys.lock().expect("lock") = new_key(kid);
    }

    /// Who the next authorization request signs in.
    pub fn sign_in_next(&self, person: Person) {
        *self.inner.next.lock().expect("lock") = person;
    }

    /// Token requests refused so far, with why.
    pub fn refusals(&self) -> Vec<String> {
        self.inner.refusals.lock().expect("lock").clone()
    }
}

/// A new RSA signing key named `kid`, and the key set that publishes it.
fn new_key(kid: &str) -> (CoreRsaPrivateSigningKey, Value) {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    let pem = private
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .expect("PEM");
    let key = CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.into())))
        .expect("signing key");
    let jwks = serde_json::to_value(openidconnect::core::CoreJsonWebKeySet::new(vec![
        key.as_verification_key(),
    ]))
    .expect("JWKS");
    (key, jwks)
}

async fn discovery(State(inner): State<Arc<Inner>>) -> Json<Value> {
    let base = &inner.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks_of(State(inner): State<Arc<Inner>>) -> Json<Value> {
    Json(inner.keys.lock().expect("lock").1.clone())
}

async fn authorize(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    if field("response_type") != "code" || field("code_challenge_method") != "S256" {
        return (StatusCode::BAD_REQUEST, "code flow with S256 only").into_response();
    }
    let person = inner.next.lock().expect("lock").clone();
    if person.refuse {
        let target = format!(
            "{}?error=access_denied&error_description={}&state={}",
            field("redirect_uri"),
            crate::encode("Your account may not use this app."),
            crate::encode(&field("state"))
        );
        return Redirect::to(&target).into_response();
    }
    let code = random();
    inner.codes.lock().expect("lock").insert(
        code.clone(),
        Grant {
            person,
            client_id: field("client_id"),
            redirect_uri: field("redirect_uri"),
            nonce: field("nonce"),
            challenge: field("code_challenge"),
        },
    );
    let target = format!(
        "{}?code={code}&state={}",
        field("redirect_uri"),
        crate::encode(&field("state"))
    );
    Redirect::to(&target).into_response()
}

fn refuse(inner: &Inner, why: &str) -> Response {
    inner.refusals.lock().expect("lock").push(why.to_string());
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_grant", "error_description": why})),
    )
        .into_response()
}

async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    // The tests' client id and secret need no form-encoding (RFC 6749, 2.3.1).
    let expected = format!("{}:{}", inner.client_id, inner.client_secret);
    if basic.as_deref() != Some(expected.as_str()) {
        return refuse(&inner, "client authentication failed");
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let Some(grant) = inner.codes.lock().expect("lock").remove(&field("code")) else {
        return refuse(&inner, "unknown or used code");
    };
    if grant.client_id != inner.client_id || grant.redirect_uri != field("redirect_uri") {
        return refuse(
            &inner,
            "client or redirect_uri differ from the authorization request",
        );
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes())) != grant.challenge
    {
        return refuse(&inner, "PKCE verifier does not match");
    }
    let person = grant.person;
    let now = chrono::Utc::now();
    let mut standard = StandardClaims::new(SubjectIdentifier::new(person.subject.clone()));
    if !person.claims_in_userinfo_only {
        standard = standard
            .set_email(person.email.clone().map(EndUserEmail::new))
            .set_email_verified(Some(person.email_verified));
    }
    let issuer = person.issuer_claim.clone().unwrap_or(inner.issuer.clone());
    let audience = person
        .audience_claim
        .clone()
        .unwrap_or(inner.client_id.clone());
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer).expect("issuer"),
        vec![Audience::new(audience)],
        now + chrono::Duration::minutes(5),
        now,
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(grant.nonce)));
    let id_token = {
        let keys = inner.keys.lock().expect("lock");
        CoreIdToken::new(
            claims,
            &keys.0,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .expect("signed")
        .to_string()
    };
    let id_token = if person.break_signature {
        // The same header and claims with another signature.
        let (signed, signature) = id_token.rsplit_once('.').expect("a JWT");
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64");
        bytes[0] ^= 1;
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
    } else {
        id_token
    };
    let access = random();
    inner
        .tokens
        .lock()
        .expect("lock")
        .insert(access.clone(), person);
    Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

async fn userinfo(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(person) = inner.tokens.lock().expect("lock").get(token).cloned() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    Json(json!({
        "sub": person.subject,
        "email": person.email,
        "email_verified": person.email_verified,
    }))
    .into_response()
}
