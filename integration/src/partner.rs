//! A partner organization's OpenID Connect provider for the tests, on a free port: discovery,
//! keys, an authorization endpoint that signs in whoever it is told to (no login page), a
//! token endpoint that checks the client (by the methods it is told to take), the code, the
//! redirect URI and PKCE, and userinfo. It knows one client or more (one per organization
//! that registered it) and can refuse a person for one of them. What its answers say can be
//! changed between calls, including answers a real provider should never give (another
//! issuer, another audience, a broken signature, a document larger than any real one), so
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
    Audience, AuthenticationContextClass, AuthenticationMethodReference, EmptyAdditionalClaims,
    EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
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
    /// The provider does not let this person into these clients (its per-client policy).
    pub refused_clients: Vec<String>,
    /// How the provider says it signed the person in (the ID token's `amr`), if it says.
    pub amr: Vec<String>,
    /// The ID token's `acr`, if it says one.
    pub acr: Option<String>,
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
            amr: Vec::new(),
            acr: None,
            refused_clients: Vec::new(),
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

/// An answer of the provider that can be made larger than Portico reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    Discovery,
    Jwks,
    Token,
    Userinfo,
}

struct Inner {
    issuer: String,
    /// Client id to client secret.
    clients: Mutex<HashMap<String, String>>,
    /// How the token endpoint takes a client's secret.
    auth_methods: Mutex<Vec<&'static str>>,
    /// What its discovery document says it takes (`None`: it says nothing).
    advertised_auth_methods: Mutex<Option<Vec<&'static str>>>,
    /// The answer served with more than a megabyte, if any.
    oversize: Mutex<Option<Document>>,
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
    /// Starts a provider on a free port for one client; it takes the client's secret by
    /// HTTP Basic or in the form.
    pub async fn start(client_id: &str, client_secret: &str) -> Partner {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let issuer = format!("http://{}", listener.local_addr().expect("address"));
        let inner = Arc::new(Inner {
            issuer,
            clients: Mutex::new(HashMap::from([(client_id.into(), client_secret.into())])),
            auth_methods: Mutex::new(vec!["client_secret_basic", "client_secret_post"]),
            advertised_auth_methods: Mutex::new(Some(vec![
                "client_secret_basic",
                "client_secret_post",
            ])),
            oversize: Mutex::default(),
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

    /// Registers another client (another organization's registration of this provider).
    pub fn add_client(&self, client_id: &str, client_secret: &str) {
        self.inner
            .clients
            .lock()
            .expect("lock")
            .insert(client_id.into(), client_secret.into());
    }

    /// The client authentication methods the token endpoint takes, and its discovery
    /// document says it takes, from now on: e.g. only `client_secret_post`.
    pub fn take_client_secrets_by(&self, methods: &[&'static str]) {
        *self.inner.auth_methods.lock().expect("lock") = methods.to_vec();
        self.advertise_client_secrets_by(Some(methods));
    }

    /// What the discovery document says the token endpoint takes, whatever it does take
    /// (`None`: it says nothing).
    pub fn advertise_client_secrets_by(&self, methods: Option<&[&'static str]>) {
        *self.inner.advertised_auth_methods.lock().expect("lock") = methods.map(<[_]>::to_vec);
    }

    /// Serves `document` larger than a megabyte from now on (`None`: as usual).
    pub fn serve_oversize(&self, document: Option<Document>) {
        *self.inner.oversize.lock().expect("lock") = document;
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

/// A JSON answer; when it is the document to serve oversize, padded past a megabyte. The
/// token and userinfo answers then come in chunks without a length, the others with one,
/// so that both ways a large answer arrives are covered.
fn answer(inner: &Inner, document: Document, mut body: Value) -> Response {
    if *inner.oversize.lock().expect("lock") != Some(document) {
        return Json(body).into_response();
    }
    body["padding"] = Value::String("x".repeat(1024 * 1024 + 1));
    let text = body.to_string().into_bytes();
    if matches!(document, Document::Discovery | Document::Jwks) {
        return ([(header::CONTENT_TYPE, "application/json")], text).into_response();
    }
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        text.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

async fn discovery(State(inner): State<Arc<Inner>>) -> Response {
    let base = &inner.issuer;
    let advertised = inner.advertised_auth_methods.lock().expect("lock").clone();
    let mut document = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "code_challenge_methods_supported": ["S256"],
    });
    if let Some(methods) = advertised {
        document["token_endpoint_auth_methods_supported"] = json!(methods);
    }
    answer(&inner, Document::Discovery, document)
}

async fn jwks_of(State(inner): State<Arc<Inner>>) -> Response {
    let jwks = inner.keys.lock().expect("lock").1.clone();
    answer(&inner, Document::Jwks, jwks)
}

async fn authorize(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    if field("response_type") != "code" || field("code_challenge_method") != "S256" {
        return (StatusCode::BAD_REQUEST, "code flow with S256 only").into_response();
    }
    if !inner
        .clients
        .lock()
        .expect("lock")
        .contains_key(&field("client_id"))
    {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let person = inner.next.lock().expect("lock").clone();
    if person.refuse || person.refused_clients.contains(&field("client_id")) {
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

/// The client that authenticated at the token endpoint by a method it takes, if any.
fn authenticated_client(
    inner: &Inner,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, String> {
    // The tests' client ids and secrets need no form-encoding (RFC 6749, 2.3.1).
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            v.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    let posted = form
        .get("client_id")
        .cloned()
        .zip(form.get("client_secret").cloned());
    let methods = inner.auth_methods.lock().expect("lock").clone();
    let (client_id, secret): (String, String) = match (basic, posted) {
        (Some(_), _) if !methods.contains(&"client_secret_basic") => {
            return Err("client_secret_basic is not accepted here".into());
        }
        (None, Some(_)) if !methods.contains(&"client_secret_post") => {
            return Err("client_secret_post is not accepted here".into());
        }
        (Some(basic), _) => basic,
        (None, Some(posted)) => posted,
        (None, None) => return Err("no client authentication".into()),
    };
    match inner.clients.lock().expect("lock").get(&client_id) {
        Some(known) if *known == secret => Ok(client_id),
        _ => Err("client authentication failed".into()),
    }
}

async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let client_id = match authenticated_client(&inner, &headers, &form) {
        Ok(client_id) => client_id,
        Err(why) => {
            inner.refusals.lock().expect("lock").push(why.clone());
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "invalid_client", "error_description": why})),
            )
                .into_response();
        }
    };
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let Some(grant) = inner.codes.lock().expect("lock").remove(&field("code")) else {
        return refuse(&inner, "unknown or used code");
    };
    if grant.client_id != client_id || grant.redirect_uri != field("redirect_uri") {
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
    let audience = person.audience_claim.clone().unwrap_or(client_id);
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer).expect("issuer"),
        vec![Audience::new(audience)],
        now + chrono::Duration::minutes(5),
        now,
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(grant.nonce)))
    .set_auth_method_refs((!person.amr.is_empty()).then(|| {
        person
            .amr
            .iter()
            .map(|value| AuthenticationMethodReference::new(value.clone()))
            .collect()
    }))
    .set_auth_context_ref(person.acr.clone().map(AuthenticationContextClass::new));
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
    answer(
        &inner,
        Document::Token,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }),
    )
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
    answer(
        &inner,
        Document::Userinfo,
        json!({
            "sub": person.subject,
            "email": person.email,
            "email_verified": person.email_verified,
        }),
    )
}
