//! An app that trusts Portico to sign people in: the authorization code flow with PKCE,
//! state and nonce, the ID token verified against Portico's published keys, and sign-out
//! that asks Portico to end its session too. Configured from the environment:
//! `RP_ISSUER`, `RP_CLIENT_ID`, `RP_CLIENT_SECRET`, `RP_LISTEN` (e.g. `127.0.0.1:4100`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A sign-in on its way: what the callback must find again.
struct Pending {
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

/// Someone signed in here.
#[derive(Clone)]
struct Person {
    name: String,
    email: String,
    guest: bool,
    id_token: String,
}

#[derive(Clone)]
struct App {
    client: Arc<Client>,
    http: reqwest::Client,
    end_session: Option<String>,
    base: String,
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    people: Arc<Mutex<HashMap<String, Person>>>,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

#[tokio::main]
async fn main() {
    let listen = env("RP_LISTEN");
    let base = format!("http://{listen}");
    // Never follow redirects from the provider (SSRF).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let issuer = IssuerUrl::new(env("RP_ISSUER")).expect("issuer URL");
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("Portico's discovery document");
    let end_session = discovery_field(&http, &metadata, "end_session_endpoint").await;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(env("RP_CLIENT_ID")),
        Some(ClientSecret::new(env("RP_CLIENT_SECRET"))),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{base}/callback")).expect("redirect URL"));
    let app = App {
        client: Arc::new(client),
        http,
        end_session,
        base,
        pending: Arc::default(),
        people: Arc::default(),
    };
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", get(logout))
        .route("/bye", get(bye))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("listen");
    println!("Example app listening on http://{listen}");
    axum::serve(listener, router).await.expect("serve");
}

/// A field of the discovery document that the core metadata type does not carry.
async fn discovery_field(
    http: &reqwest::Client,
    metadata: &CoreProviderMetadata,
    field: &str,
) -> Option<String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        metadata.issuer().as_str()
    );
    let body = http.get(url).send().await.ok()?.bytes().await.ok()?;
    let document: serde_json::Value = serde_json::from_slice(&body).ok()?;
    document[field].as_str().map(str::to_string)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == "rp_session")
        .map(|(_, v)| v.to_string())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

/// `/`: who is signed in; nobody yet → off to Portico.
async fn home(State(app): State<App>, headers: HeaderMap) -> Response {
    let person = cookie(&headers).and_then(|c| app.people.lock().ok()?.get(&c).cloned());
    match person {
        Some(p) => page(
            "Wiki",
            &format!(
                "<p id=\"who\">Signed in as {} &lt;{}&gt; ({})</p><p><a href=\"/logout\">Sign out</a></p>",
                escape(&p.name),
                escape(&p.email),
                if p.guest { "guest" } else { "member" }
            ),
        )
        .into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// `/login`: to Portico's authorization endpoint with PKCE, state and nonce.
async fn login(State(app): State<App>) -> Response {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = app
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    if let Ok(mut pending) = app.pending.lock() {
        pending.insert(state.secret().clone(), Pending { nonce, verifier });
    }
    Redirect::to(url.as_str()).into_response()
}

/// `/callback`: the code for tokens, the ID token checked, a session here.
async fn callback(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(error) = query.get("error") {
        let detail = query.get("error_description").cloned().unwrap_or_default();
        return (
            StatusCode::FORBIDDEN,
            page(
                "Not signed in",
                &format!("<p>{}: {}</p>", escape(error), escape(&detail)),
            ),
        )
            .into_response();
    }
    let pending = query
        .get("state")
        .and_then(|s| app.pending.lock().ok()?.remove(s));
    let (Some(pending), Some(code)) = (pending, query.get("code")) else {
        return (
            StatusCode::BAD_REQUEST,
            page("Not signed in", "<p>Unknown or replayed state.</p>"),
        )
            .into_response();
    };
    let request = match app
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
    {
        Ok(request) => request,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                page("Not signed in", &escape(&e.to_string())),
            )
                .into_response();
        }
    };
    let tokens = match request
        .set_pkce_verifier(pending.verifier)
        .request_async(&app.http)
        .await
    {
        Ok(tokens) => tokens,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                page("Not signed in", &escape(&format!("{e:?}"))),
            )
                .into_response();
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return (
            StatusCode::BAD_GATEWAY,
            page("Not signed in", "<p>No ID token.</p>"),
        )
            .into_response();
    };
    let claims = match id_token.claims(&app.client.id_token_verifier(), &pending.nonce) {
        Ok(claims) => claims,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                page("Not signed in", &escape(&e.to_string())),
            )
                .into_response();
        }
    };
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .unwrap_or_default();
    let email = claims.email().map(|e| e.to_string()).unwrap_or_default();
    // Portico says whether the person is a guest in the `acct` claim; read it from the
    // verified token's payload.
    let guest = id_token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|p| decode_claim(p, "acct"))
        .is_some_and(|v| v == 1);
    let session = CsrfToken::new_random().secret().clone();
    if let Ok(mut people) = app.people.lock() {
        people.insert(
            session.clone(),
            Person {
                name,
                email,
                guest,
                id_token: id_token.to_string(),
            },
        );
    }
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = format!("rp_session={session}; Path=/; HttpOnly; SameSite=Lax").parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn decode_claim(payload: &str, name: &str) -> Option<i64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims[name].as_i64()
}

/// `/logout`: forget the person here and ask Portico to end its session too.
async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    let person = cookie(&headers).and_then(|c| app.people.lock().ok()?.remove(&c));
    match (person, &app.end_session) {
        (Some(person), Some(end)) => {
            let url = format!(
                "{end}?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
                person.id_token,
                urlencode(&format!("{}/bye", app.base))
            );
            Redirect::to(&url).into_response()
        }
        _ => Redirect::to("/bye").into_response(),
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/bye`: signed out.
async fn bye() -> Html<String> {
    page(
        "Signed out",
        "<p id=\"bye\">You are signed out of Wiki.</p><p><a href=\"/\">Sign in again</a></p>",
    )
}
