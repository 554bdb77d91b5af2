//! The OpenID Connect endpoints, one set per tenant under `/{tenant}/…` (the tenant's id,
//! slug or primary domain), as Entra lays them out. Thin adapters: the rules live in
//! `domain::oidc`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use app::server::{ClientAddress, Cookie, Portal};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine;
use domain::oidc::authorize::{AuthorizeRequest, Outcome, Step};
use domain::oidc::tokens::{Issuer, TokenRequest};
use domain::oidc::{Failure, ProtocolError, issuer};
use domain::sessions::SignedIn;
use serde_json::json;

/// What the handlers share.
#[derive(Clone)]
pub struct Provider {
    pub portal: Portal,
    /// The current signing key; replaced when it is rotated.
    pub signer: Arc<RwLock<domain::oidc::Signer>>,
}

pub fn router(provider: Provider, guard: crate::web::Guard) -> Router {
    // Called by apps with their own credentials, from any site (browser apps with PKCE):
    // no cookie is trusted here, so any origin may read the answers.
    let for_apps = Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route(
            "/{tenant}/oauth2/v2.0/token",
            axum::routing::post(token).options(preflight),
        )
        .route(
            "/{tenant}/oidc/userinfo",
            get(userinfo).post(userinfo_post).options(preflight),
        )
        .layer(axum::middleware::map_response(allow_any_origin));
    // Opened in people's browsers with their session cookie.
    let for_people = Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route(
            "/{tenant}/oauth2/v2.0/authorize/pending/{id}",
            get(authorize_pending),
        )
        .route(
            "/{tenant}/oauth2/v2.0/logout",
            get(logout_page).post(logout),
        )
        .layer(axum::middleware::from_fn_with_state(
            guard,
            crate::web::refuse_cross_site,
        ));
    // An app's form posting an authorization request (OpenID Connect Core §3.1.2.1) always
    // comes from the app's site, like the links that GET it: exempt from the cross-site
    // check as GET is, because it changes nothing the person has; it only keeps the
    // request and sends the browser on to a GET of it.
    let for_app_forms = Router::new().route(
        "/{tenant}/oauth2/v2.0/authorize",
        axum::routing::post(authorize_post),
    );
    for_apps
        .merge(for_people)
        .merge(for_app_forms)
        .with_state(provider)
}

/// Any origin may read these answers; none rests on a cookie, so no credentials are
/// allowed.
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// CORS preflight for the token and userinfo endpoints.
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

fn now() -> i64 {
    app::server::now()
}

/// A page of Portico's own, for answers that are not for the app.
pub(crate) fn page(status: StatusCode, title: &str, paragraphs: &[&str]) -> Response {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Portico</title><link rel=\"stylesheet\" href=\"/pkg/portico.css\">\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"></head><body>\
         <header class=\"top\"><a class=\"brand\" href=\"/\">Portico</a></header>\
         <main id=\"main\"><section class=\"card narrow\"><h1>{title}</h1>{body}</section></main>\
         </body></html>",
        title = escape(title)
    );
    (status, Html(html)).into_response()
}

fn escape(text: &str) -> String {
    domain::outbox::escape_html(text)
}

pub(crate) fn internal(error: impl std::fmt::Display) -> Response {
    tracing::error!("OpenID Connect endpoint failed: {error}");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        &["Portico could not finish this sign-in. Try again in a moment."],
    )
}

fn no_organization() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "No such organization",
        &["This address names no organization on this Portico."],
    )
}

/// The tenant named in the path, or a page saying there is none.
async fn tenant(provider: &Provider, key: &str) -> Result<types::Tenant, Response> {
    match domain::tenants::find(&provider.portal.store, key).await {
        Ok(tenant) => Ok(tenant),
        Err(domain::Error::NotFound(_)) => Err(no_organization()),
        Err(error) => Err(internal(error)),
    }
}

/// The session id from the request's cookie.
fn session_token(portal: &Portal, headers: &HeaderMap) -> Option<String> {
    app::server::cookie_in(headers, &portal.cookie_name(Cookie::Session))
}

/// Who is signed in, from the session cookie.
async fn signed_in(provider: &Provider, headers: &HeaderMap, ip: Option<&str>) -> Option<SignedIn> {
    app::server::signed_in_by_cookie(&provider.portal, headers, ip)
        .await
        .ok()
        .flatten()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`: under whichever of the
/// tenant's names it is fetched (id, slug or domain), that name is the issuer and every
/// endpoint is under it (see `domain::oidc::issuer`).
async fn discovery(State(provider): State<Provider>, Path(key): Path<String>) -> Response {
    if let Err(page) = tenant(&provider, &key).await {
        return page;
    }
    let base = provider.portal.public_url.trim_end_matches('/');
    let name = key.trim();
    Json(json!({
        "issuer": issuer(base, name),
        "authorization_endpoint": format!("{base}/{name}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{name}/oauth2/v2.0/token"),
        "userinfo_endpoint": format!("{base}/{name}/oidc/userinfo"),
        "jwks_uri": format!("{base}/{name}/discovery/v2.0/keys"),
        "end_session_endpoint": format!("{base}/{name}/oauth2/v2.0/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr",
                             "name", "email", "preferred_username", "oid", "tid", "idp", "acct"],
        "acr_values_supported": domain::auth_methods::ACR_VALUES,
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`
async fn keys(State(provider): State<Provider>, Path(key): Path<String>) -> Response {
    if let Err(page) = tenant(&provider, &key).await {
        return page;
    }
    match domain::oidc::keys::jwks(&provider.portal.store, now()).await {
        Ok(keys) => Json(keys).into_response(),
        Err(error) => internal(error),
    }
}

/// The parameters of an authorization request, from a GET's query or a POST's form.
fn authorize_request(params: &HashMap<String, String>) -> AuthorizeRequest {
    let param = |name: &str| params.get(name).cloned();
    AuthorizeRequest {
        client_id: param("client_id"),
        redirect_uri: param("redirect_uri"),
        response_type: param("response_type"),
        response_mode: param("response_mode"),
        scope: param("scope"),
        state: param("state"),
        nonce: param("nonce"),
        code_challenge: param("code_challenge"),
        code_challenge_method: param("code_challenge_method"),
        prompt: param("prompt"),
        max_age: param("max_age"),
        login_hint: param("login_hint"),
        request: param("request"),
        request_uri: param("request_uri"),
        signed_in_since: None,
    }
}

/// `GET /{tenant}/oauth2/v2.0/authorize`
async fn authorize(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    client_address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ip = client_address.map(|Extension(a)| a.0);
    let request = authorize_request(&query);
    decide(&provider, &key, &request, &headers, ip.as_deref()).await
}

/// `POST /{tenant}/oauth2/v2.0/authorize` (form-encoded): the browser carries no session
/// cookie on an app's cross-site form (SameSite=Lax), so the request is kept and the
/// browser sent on to GET it, with its cookie, from where it was kept.
async fn authorize_post(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    client_address: Option<Extension<ClientAddress>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(page) = tenant(&provider, &key).await {
        return page;
    }
    let ip = client_address.map(|Extension(a)| a.0);
    let request = authorize_request(&form);
    let store = &provider.portal.store;
    match domain::oidc::authorize::park(store, &request, ip.as_deref(), now()).await {
        Ok(Some(id)) => Redirect::to(&pending_path(&key, &id)).into_response(),
        Ok(None) => too_large(),
        Err(error) => failed(error),
    }
}

/// `GET /{tenant}/oauth2/v2.0/authorize/pending/{id}`: an authorization request Portico
/// kept while the person signed in (or that an app posted), taken up again.
async fn authorize_pending(
    State(provider): State<Provider>,
    Path((key, id)): Path<(String, String)>,
    client_address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let ip = client_address.map(|Extension(a)| a.0);
    match domain::oidc::authorize::resume(&provider.portal.store, &id, now()).await {
        Ok(Some(request)) => decide(&provider, &key, &request, &headers, ip.as_deref()).await,
        Ok(None) => page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            &[
                &format!(
                    "Portico keeps an app's sign-in request for {} minutes while you sign in, and this one is no longer kept (or the address is mistyped).",
                    domain::oidc::authorize::PENDING_LIFETIME / 60
                ),
                "Go back to the app and sign in from there again.",
            ],
        ),
        Err(error) => internal(error),
    }
}

/// Too many requests kept for this address, or Portico failed.
fn failed(error: domain::Error) -> Response {
    match error {
        domain::Error::Throttled { retry_after } => page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-ins at once",
            &[&format!(
                "Portico is keeping too many unfinished sign-ins from your address. Try again in {} minutes.",
                (retry_after + 59) / 60
            )],
        ),
        error => internal(error),
    }
}

fn too_large() -> Response {
    page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "This sign-in request is too large",
        &[
            &format!(
                "Portico keeps at most {} KB of an app's sign-in request.",
                domain::oidc::authorize::MAX_PENDING_BYTES / 1024
            ),
            "Tell the people who run the app you came from.",
        ],
    )
}

/// The path that takes up the request kept under `id`.
fn pending_path(key: &str, id: &str) -> String {
    format!(
        "/{}/oauth2/v2.0/authorize/pending/{id}",
        encode_path(key.trim())
    )
}

/// Answers an authorization request to the endpoint of `key` for whoever the cookie says.
async fn decide(
    provider: &Provider,
    key: &str,
    request: &AuthorizeRequest,
    headers: &HeaderMap,
    ip: Option<&str>,
) -> Response {
    let person = signed_in(provider, headers, ip).await;
    let portal = &provider.portal;
    let outcome = domain::oidc::authorize::authorize(
        &portal.store,
        &portal.public_url,
        key.trim(),
        request,
        person.as_ref(),
        ip,
        now(),
    )
    .await;
    match outcome {
        Ok(Outcome::Redirect(url)) => Redirect::to(&url).into_response(),
        Ok(Outcome::NoOrganization) => no_organization(),
        Ok(Outcome::ErrorPage { message }) => page(
            StatusCode::BAD_REQUEST,
            "This sign-in request is not right",
            &[&message, "Tell the people who run the app you came from."],
        ),
        Ok(Outcome::Refused {
            app_name,
            tenant_name,
            reason,
        }) => page(
            StatusCode::FORBIDDEN,
            &format!("You cannot use {app_name}"),
            &[
                &reason,
                &format!("Ask an administrator of {tenant_name} if you need it."),
            ],
        ),
        Ok(Outcome::SignIn {
            pending,
            login_hint,
        }) => Redirect::to(&sign_in_then(key, &pending, login_hint.as_deref())).into_response(),
        Ok(Outcome::StepUp {
            pending,
            policy,
            step,
        }) => Redirect::to(&step_then(key, &pending, &policy, &step)).into_response(),
        Err(error) => failed(error),
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A path segment, percent-encoded.
fn encode_path(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The sign-in page, then back to the authorization request kept under `pending`: the
/// address stays short however large the request.
fn sign_in_then(key: &str, pending: &str, login_hint: Option<&str>) -> String {
    let next = app::pages::continue_to(&pending_path(key, pending));
    let mut url = format!("/signin?next={}", encode(&next));
    if let Some(hint) = login_hint {
        url.push_str(&format!("&email={}", encode(hint)));
    }
    url
}

/// The page that asks for `step` (a second factor, a passkey, or accepting terms of use)
/// for `policy`, then back to the authorization request kept under `pending`.
fn step_then(key: &str, pending: &str, policy: &str, step: &Step) -> String {
    let next = app::pages::continue_to(&pending_path(key, pending));
    match step {
        Step::SecondFactor(asked) => domain::second_factors::step_up_path(&next, policy, *asked),
        Step::AcceptTerms(terms) => types::paths::accept_terms(terms, &next, policy),
    }
}

/// A protocol error as the token and userinfo endpoints answer it.
fn protocol_error(error: ProtocolError, basic: bool) -> Response {
    let status = match error.error {
        "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (
        status,
        Json(json!({ "error": error.error, "error_description": error.description })),
    )
        .into_response();
    let challenge = match error.error {
        "invalid_client" if basic => Some("Basic realm=\"portico\"".to_string()),
        "invalid_token" => Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            error.description.replace('"', "'")
        )),
        _ => None,
    };
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn failure(failure: Failure, basic: bool) -> Response {
    match failure {
        Failure::Protocol(error) => protocol_error(error, basic),
        Failure::Internal(error) => {
            tracing::error!("token endpoint failed: {error}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "server_error", "error_description": "Portico failed; try again." })),
            )
                .into_response()
        }
    }
}

/// The client's id and secret from `Authorization: Basic`, each form-encoded (RFC 6749,
/// 2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

/// `POST /{tenant}/oauth2/v2.0/token`
async fn token(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let basic = basic_credentials(&headers);
    let used_basic = basic.is_some();
    let field = |name: &str| form.get(name).cloned();
    if used_basic && field("client_secret").is_some() {
        return protocol_error(
            ProtocolError::new(
                "invalid_request",
                "Use one way to authenticate the client, not two.",
            ),
            true,
        );
    }
    let (client_id, client_secret) = match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (field("client_id"), field("client_secret")),
    };
    let request = TokenRequest {
        grant_type: field("grant_type"),
        code: field("code"),
        redirect_uri: field("redirect_uri"),
        code_verifier: field("code_verifier"),
        refresh_token: field("refresh_token"),
        scope: field("scope"),
        client_id,
        client_secret,
    };
    let Ok(signer) = provider.signer.read().map(|s| s.clone()) else {
        return failure(
            Failure::Internal(domain::Error::Conflict(
                "the signing key is unavailable".into(),
            )),
            false,
        );
    };
    let issuer_of = Issuer {
        store: &provider.portal.store,
        signer: &signer,
        public_url: &provider.portal.public_url,
    };
    // The tenant is found with the client, in one query: an unknown one is an unknown
    // client.
    match domain::oidc::tokens::exchange(&issuer_of, key.trim(), &request, now()).await {
        Ok(answer) => {
            let mut response = Json(answer).into_response();
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => failure(error, used_basic),
    }
}

async fn userinfo_for(provider: &Provider, key: &str, token: Option<String>) -> Response {
    let missing = || {
        protocol_error(
            ProtocolError::new("invalid_token", "Send the access token as a Bearer token."),
            false,
        )
    };
    let Some(token) = token else {
        return missing();
    };
    let tenant = match tenant(provider, key).await {
        Ok(tenant) => tenant,
        Err(_) => return missing(),
    };
    let portal = &provider.portal;
    match domain::oidc::tokens::userinfo(
        &portal.store,
        &portal.public_url,
        &tenant.id,
        key.trim(),
        &token,
        now(),
    )
    .await
    {
        Ok(claims) => Json(claims).into_response(),
        Err(error) => failure(error, false),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
}

/// `GET /{tenant}/oidc/userinfo`
async fn userinfo(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    userinfo_for(&provider, &key, bearer(&headers)).await
}

/// `POST /{tenant}/oidc/userinfo`: the token in the header or the form.
async fn userinfo_post(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = bearer(&headers).or_else(|| form.get("access_token").cloned());
    userinfo_for(&provider, &key, token).await
}

/// `GET /{tenant}/oauth2/v2.0/logout`: asks before signing out (a GET changes nothing).
async fn logout_page(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(page) = tenant(&provider, &key).await {
        return page;
    }
    let fields: String = [
        "id_token_hint",
        "post_logout_redirect_uri",
        "state",
        "client_id",
    ]
    .iter()
    .filter_map(|name| params.get(*name).map(|v| (name, v)))
    .map(|(name, value)| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    })
    .collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign out · Portico</title><link rel=\"stylesheet\" href=\"/pkg/portico.css\"></head><body>\
         <header class=\"top\"><a class=\"brand\" href=\"/\">Portico</a></header>\
         <main id=\"main\"><section class=\"card narrow\"><h1>Sign out of Portico?</h1>\
         <p>The app you came from asks to end your Portico session too.</p>\
         <form method=\"post\">{fields}<button type=\"submit\">Sign out</button></form>\
         <p><a href=\"/\">Stay signed in</a></p></section></main></body></html>"
    );
    // The form's answer sends the browser on to the app's registered sign-out address.
    let mut response = Html(html).into_response();
    if let Some(target) = params
        .get("post_logout_redirect_uri")
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        && let Ok(policy) = HeaderValue::from_str(&format!(
            "default-src 'self'; style-src 'self'; img-src 'self'; form-action 'self' {target}; \
             frame-ancestors 'none'; base-uri 'none'"
        ))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// `POST /{tenant}/oauth2/v2.0/logout`: ends the Portico session.
async fn logout(
    State(provider): State<Provider>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    let tenant = match tenant(&provider, &key).await {
        Ok(tenant) => tenant,
        Err(page) => return page,
    };
    let portal = &provider.portal;
    if let Some(token) = session_token(portal, &headers)
        && let Err(error) = domain::sessions::sign_out(&portal.store, &token).await
    {
        return internal(error);
    }
    let param = |name: &str| params.get(name).map(String::as_str);
    let request = domain::oidc::clients::SignOutRequest {
        client_id: param("client_id"),
        id_token_hint: param("id_token_hint"),
        post_logout_redirect_uri: param("post_logout_redirect_uri"),
        state: param("state"),
    };
    let target =
        match domain::oidc::clients::sign_out_target(&portal.store, &tenant.id, &request).await {
            Ok(target) => target.unwrap_or_else(|| "/signin".to_string()),
            Err(error) => return internal(error),
        };
    let mut response = Redirect::to(&target).into_response();
    if let Some(cookie) = portal.set_cookie_header(Cookie::Session, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
