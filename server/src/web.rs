//! The HTTP side: Leptos pages and server functions, static files, and the middleware every
//! request passes (client address, cross-site request refusal, security headers, gzip).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use app::server::{ClientAddress, Cookie, CspNonce, Portal, RequestMemo, page_policy};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use domain::proxies::TrustedProxies;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;

use crate::config::ForwardingHeader;

/// What the middleware needs to know.
#[derive(Clone, Debug)]
pub struct Guard {
    /// `scheme://host[:port]` of the public URL.
    pub public_origin: String,
    /// Where a request's client address is taken from.
    pub forwarding: Forwarding,
    /// Requests per minute each organization may make to the Graph-compatible API (0: any).
    pub graph_requests_per_minute: u32,
}

/// The reverse proxies whose forwarding header names the client, and that header.
#[derive(Clone, Debug)]
pub struct Forwarding {
    pub proxies: TrustedProxies,
    pub header: ForwardingHeader,
}

impl Guard {
    fn over_https(&self) -> bool {
        self.public_origin.starts_with("https://")
    }
}

pub fn router(
    portal: Portal,
    signer: std::sync::Arc<std::sync::RwLock<domain::oidc::Signer>>,
    options: LeptosOptions,
    guard: Guard,
) -> Router {
    let routes = generate_route_list(App);
    let provider = crate::oidc::Provider {
        portal: portal.clone(),
        signer,
    };
    let portal_for_federation = portal.clone();
    let portal_for_reviews = portal.clone();
    let flash_portal = portal.clone();
    let context = move || {
        provide_context(portal.clone());
        provide_context(RequestMemo::default());
    };
    Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(options)
        .layer(middleware::from_fn_with_state(
            flash_portal.clone(),
            flash_for_page,
        ))
        .layer(middleware::from_fn_with_state(
            flash_portal,
            keep_refused_form,
        ))
        .layer(middleware::from_fn(error_statuses))
        .layer(middleware::from_fn_with_state(
            guard.clone(),
            refuse_cross_site,
        ))
        .merge(crate::graph::router(
            provider.clone(),
            guard.graph_requests_per_minute,
        ))
        .merge(crate::oidc::router(provider, guard.clone()))
        .merge(crate::federation::router(portal_for_federation))
        .merge(crate::reviews::router(portal_for_reviews))
        .layer(middleware::from_fn_with_state(
            guard.forwarding.clone(),
            client_address,
        ))
        .layer(middleware::from_fn_with_state(guard, security_headers))
        // Pages are small and made per request: the fastest level keeps most of the gain.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
}

/// Puts the client's address into the request for the audit trail and sign-in throttling:
/// the peer's, or the one a trusted proxy forwarded (see `domain::proxies`).
async fn client_address(
    State(forwarding): State<Forwarding>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let peer = peer.ip();
        let name = match forwarding.header {
            ForwardingHeader::XForwardedFor => "x-forwarded-for",
            ForwardingHeader::Forwarded => "forwarded",
        };
        let values = request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let address = if forwarding.proxies.trusts(peer) {
            let chain = match forwarding.header {
                ForwardingHeader::XForwardedFor => domain::proxies::x_forwarded_for(values),
                ForwardingHeader::Forwarded => domain::proxies::forwarded(values),
            };
            forwarding.proxies.client_address(peer, &chain)
        } else {
            if forwarding.proxies.is_empty()
                && request.headers().contains_key(name)
                && !UNTRUSTED_FORWARDING_TOLD.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(
                    "requests from {peer} carry {name}, but no proxy is trusted \
                     (--trusted-proxies): behind a reverse proxy, every client has its address"
                );
            }
            peer.to_canonical()
        };
        request
            .extensions_mut()
            .insert(ClientAddress(address.to_string()));
    }
    next.run(request).await
}

/// Whether the operator was told that forwarded addresses arrive and none is believed.
static UNTRUSTED_FORWARDING_TOLD: AtomicBool = AtomicBool::new(false);

/// Takes the flash a form left for the page this request opens (see `domain::flashes`),
/// before the page renders, and clears its cookie; a page that shows nothing (a redirect,
/// a missing page) hands it on to the next one under a new id. Pages are the GETs that are
/// neither server functions nor files.
async fn flash_for_page(
    State(portal): State<Portal>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !path.starts_with("/fn/")
        && !path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    let found = {
        let headers = request.headers();
        let cookie = |which| app::server::cookie_in(headers, &portal.cookie_name(which));
        let flash = is_page.then(|| cookie(Cookie::Flash)).flatten();
        flash.map(|id| (id, cookie(Cookie::Session)))
    };
    let Some((id, session)) = found else {
        return next.run(request).await;
    };
    let session = session.map(|token| domain::secrets::hash_secret(&token));
    let (store, now) = (&portal.store, app::server::now());
    let taken = domain::flashes::take(store, &id, session.as_deref(), now)
        .await
        .inspect_err(|error| tracing::warn!(%error, "could not read the flash for this page"))
        .ok()
        .flatten();
    request
        .extensions_mut()
        .insert(app::server::TakenFlash(taken.clone()));
    let mut response = next.run(request).await;
    let again = match taken {
        Some(flash) if !response.status().is_success() => {
            domain::flashes::keep(store, session.as_deref(), &flash, now)
                .await
                .inspect_err(|error| tracing::warn!(%error, "could not hand a flash on"))
                .ok()
        }
        _ => None,
    };
    let cookie = match again {
        Some(id) => portal.set_cookie_header(Cookie::Flash, &id, domain::flashes::LIFETIME),
        None => portal.set_cookie_header(Cookie::Flash, "", 0),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The largest form body kept for giving its values back (bigger posts, such as files, are
/// passed on untouched).
const FORM_KEPT_LIMIT: usize = 64 * 1024;

/// Form posts without JavaScript that a server function refuses go back to their page with
/// the error in the address (`?__path=…&__err=…`, Leptos' way), where it piles up, and what
/// was typed is lost. This keeps the error and the posted values (secrets dropped) in a
/// flash for that page instead, and sends the browser to the page's own address.
async fn keep_refused_form(State(portal): State<Portal>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let header_has = |name, wanted| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains(wanted))
    };
    let small = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length <= FORM_KEPT_LIMIT);
    let is_form_post = request.method() == Method::POST
        && request.uri().path().starts_with("/fn/")
        && header_has(header::ACCEPT, "text/html")
        && header_has(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        && small;
    if !is_form_post {
        return next.run(request).await;
    }
    let session = app::server::cookie_in(headers, &portal.cookie_name(Cookie::Session));
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, FORM_KEPT_LIMIT).await else {
        return (StatusCode::BAD_REQUEST, "The form could not be read.").into_response();
    };
    let mut response = next
        .run(Request::from_parts(parts, Body::from(body.clone())))
        .await;
    let refused = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(split_refusal);
    let Some((page, action, error)) = refused else {
        return response;
    };
    // Read only for a form that was refused: most are not.
    let values: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let session = session.map(|token| domain::secrets::hash_secret(&token));
    let cookie =
        app::server::keep_rejected_form(&portal, session.as_deref(), action, error, values).await;
    if let (Some(cookie), Ok(page)) = (cookie, HeaderValue::from_str(&page)) {
        response.headers_mut().insert(header::LOCATION, page);
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// A redirect's address split into the page's own address and the refusal Leptos put
/// into it (its `__path` and `__err`); `None` when it carries none.
fn split_refusal(location: &str) -> Option<(String, String, String)> {
    let mut url = url::Url::parse(location).ok()?;
    let (mut action, mut error, mut rest) = (None, None, Vec::new());
    for (key, value) in url.query_pairs().into_owned() {
        match key.as_str() {
            "__path" => action = Some(value),
            "__err" => error = Some(value),
            _ => rest.push((key, value)),
        }
    }
    let (action, error) = (action?, error?);
    if rest.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(rest);
    }
    Some((url.to_string(), action, error))
}

/// Refuses state-changing requests that a browser sent from another site. Browsers label
/// every request with `Sec-Fetch-Site` (and `Origin` on POST); requests without either do
/// not come from a browser and carry no ambient cookies an attacker could ride on.
/// Layered on what rests on cookies: the pages, server functions and the OpenID Connect
/// endpoints people's browsers open; not on those apps call with their own credentials.
pub async fn refuse_cross_site(
    State(guard): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    // The public URL's origin exactly: the Host header says nothing of the scheme (nor, behind
    // a proxy, of the name people use), and a page on http is not the https site.
    let allowed = match (fetch_site, origin) {
        (Some(site), _) if site != "same-origin" && site != "none" => false,
        (_, Some(origin)) => origin == guard.public_origin,
        _ => true,
    };
    if allowed {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "Refused: this request came from another site. Use Portico's own pages.",
        )
            .into_response()
    }
}

/// Server functions answer every error with 500; this gives programs and browsers the
/// status that says what happened, from the error's kind. Form posts without JavaScript get
/// redirects and are left alone.
async fn error_statuses(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/fn/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The answer was too large.",
        )
            .into_response();
    };
    let kind = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::String(kind)) => kind,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    parts.status = match kind.as_str() {
        "NotAuthenticated" => StatusCode::UNAUTHORIZED,
        "AccessDenied" => StatusCode::FORBIDDEN,
        "NotFound" => StatusCode::NOT_FOUND,
        "Invalid" => StatusCode::UNPROCESSABLE_ENTITY,
        "Refused" => StatusCode::CONFLICT,
        "SecondFactor" | "Passkey" | "SignInAgain" | "TermsOfUse" => StatusCode::FORBIDDEN,
        "Transport" => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Response::from_parts(parts, Body::from(bytes))
}

/// Headers every response carries. Pages get a Content-Security-Policy with a nonce made
/// here for each request (the page's hydration scripts carry it); everything else gets a
/// policy that allows nothing. Served over https (behind a proxy), browsers are told to
/// come back over https only.
async fn security_headers(
    State(guard): State<Guard>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let is_asset = request.uri().path().starts_with("/pkg/");
    let nonce = domain::secrets::new_secret();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    // A page that chose its own policy (the sign-out page, whose form leads to the app)
    // keeps it.
    if is_page && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&page_policy(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    } else if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        );
    }
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    headers.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if guard.over_https() {
        // A year; not the subdomains, which may be other services of the organization.
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        // Pages and server function answers carry personal data.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
