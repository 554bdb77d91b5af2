//! What server functions need from the request: the shared state, the caller's session and
//! address, the clock, and the session cookie.

use std::sync::Arc;

use domain::sessions::{Client, SessionPolicy, SignedIn};
use domain::{Principal, Store};
use http::HeaderValue;
use http::header::{COOKIE, SET_COOKIE, USER_AGENT};
use http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

/// Shared state, given to every request as context by the server.
#[derive(Clone, Debug)]
pub struct Portal {
    pub store: Store,
    pub policy: SessionPolicy,
    /// Cookies get `Secure` (and the `__Host-` prefix) when Portico is served over https.
    pub secure_cookies: bool,
    /// How people reach Portico, for links in mail, e.g. `https://portico.example.com`.
    pub public_url: String,
    /// Partners' identity providers, with their discovery documents.
    pub federation: Arc<domain::federation::Federation>,
    /// Portico as a WebAuthn relying party, when its public URL allows passkeys.
    pub passkeys: Arc<domain::passkeys::Passkeys>,
    /// Seals the secrets Portico keeps to use again (authenticator apps' secrets).
    pub vault: Arc<domain::vault::Vault>,
}

/// The cookies Portico sets, all HttpOnly and SameSite=Lax.
#[derive(Clone, Copy, Debug)]
pub enum Cookie {
    /// The session.
    Session,
    /// A redemption in progress.
    Redemption,
    /// A guest's sign-in with a passcode, in progress.
    CodeSignIn,
    /// The `state` of a trip to a partner's identity provider.
    Federation,
    /// What the last form did, for the page it leads back to (see [`flash`]).
    Flash,
    /// Another site a form leads to (see [`leave_for`]).
    Departure,
}

impl Portal {
    /// The cookie's name: with the `__Host-` prefix over https, which pins it to this host.
    pub fn cookie_name(&self, cookie: Cookie) -> String {
        let base = match cookie {
            Cookie::Session => "portico_session",
            Cookie::Redemption => "portico_redeem",
            Cookie::CodeSignIn => "portico_signin",
            Cookie::Federation => "portico_federation",
            Cookie::Flash => "portico_flash",
            Cookie::Departure => "portico_departure",
        };
        if self.secure_cookies {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }

    /// The `Set-Cookie` value that sets (or, with `max_age` 0, removes) one of Portico's
    /// cookies: HttpOnly, SameSite=Lax, and Secure over https.
    pub fn set_cookie_header(
        &self,
        which: Cookie,
        value: &str,
        max_age: i64,
    ) -> Option<HeaderValue> {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.cookie_name(which)
        ))
        .ok()
    }
}

/// The shared state; an error rather than a panic when it is missing (the app is also
/// rendered once at start-up, outside any request).
pub fn portal() -> Result<Portal, AppError> {
    use_context::<Portal>().ok_or_else(|| {
        // Happens when a client goes away mid-request and its render is torn down.
        tracing::debug!("server function ran without the Portal context");
        AppError::Internal
    })
}

/// Unix seconds now: the one place the web layer reads the clock for the domain.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The caller's address, put into the request by the server.
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

pub fn client() -> Client {
    let parts = use_context::<Parts>();
    Client {
        ip: parts
            .as_ref()
            .and_then(|p| p.extensions.get::<ClientAddress>())
            .map(|a| a.0.clone()),
        user_agent: parts
            .as_ref()
            .and_then(|p| p.headers.get(USER_AGENT))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect()),
    }
}

/// A cookie's value from the request, if it was sent.
fn read_cookie(wanted: &str) -> Option<String> {
    cookie_in(&use_context::<Parts>()?.headers, wanted)
}

/// A cookie's value from request headers, for handlers outside Leptos too.
pub fn cookie_in(headers: &http::HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
}

/// A Portico cookie's value from the request, if it was sent.
pub fn cookie(portal: &Portal, which: Cookie) -> Option<String> {
    read_cookie(&portal.cookie_name(which))
}

/// The hash of this request's session cookie, if any.
fn session_hash(portal: &Portal) -> Option<String> {
    session_token(portal).map(|token| domain::secrets::hash_secret(&token))
}

/// Tells the page a form leads back to what the form did (and a value to copy, such as a
/// new secret or link, shown this once): forms post without JavaScript, so the page after
/// the redirect is a new one. The flash waits in the database, sealed and bound to the
/// session (see `domain::flashes`); a short-lived HttpOnly cookie carries its random id.
/// What the form did is done already: a flash that cannot be kept is logged, not an error.
pub async fn flash(message: impl Into<String>, copy: Option<(&str, &str)>) {
    let Ok(portal) = portal() else { return };
    let flash = types::Flash {
        message: message.into(),
        copy: copy.map(|(label, value)| (label.to_string(), value.to_string())),
        rejected: None,
    };
    let session = session_hash(&portal);
    match domain::flashes::keep(&portal.store, session.as_deref(), &flash, now()).await {
        Ok(id) => set_cookie(&portal, Cookie::Flash, &id, domain::flashes::LIFETIME),
        Err(error) => tracing::warn!(%error, "could not keep a flash for the next page"),
    }
}

/// Whether a posted field holds a secret (a password, a code, a ticket), which a refused
/// form does not get back: it is never kept, not even sealed.
pub fn is_secret_field(name: &str) -> bool {
    ["password", "secret", "code", "ticket", "token"]
        .iter()
        .any(|secret| name.contains(secret))
}

/// Keeps a form the server refused for the page it returns to, in place of the error
/// Leptos would put into that page's address: `action` and `error` as Leptos encodes them
/// there, `values` as posted (secrets are dropped here). Returns the flash's cookie.
pub async fn keep_rejected_form(
    portal: &Portal,
    session_hash: Option<&str>,
    action: String,
    error: String,
    values: Vec<(String, String)>,
) -> Option<HeaderValue> {
    let flash = types::Flash {
        message: String::new(),
        copy: None,
        rejected: Some(types::RejectedForm {
            action,
            error,
            values: values
                .into_iter()
                .filter(|(name, _)| !is_secret_field(name))
                .collect(),
        }),
    };
    match domain::flashes::keep(&portal.store, session_hash, &flash, now()).await {
        Ok(id) => portal.set_cookie_header(Cookie::Flash, &id, domain::flashes::LIFETIME),
        Err(error) => {
            tracing::warn!(%error, "could not keep a refused form for its page");
            None
        }
    }
}

/// The flash taken for this page request, put into its extensions by the server's
/// middleware before the page renders: a page may render its parts more than once, and
/// drop work it started, so the take is not left to it.
#[derive(Clone, Debug)]
pub struct TakenFlash(pub Option<types::Flash>);

/// Sends the browser on to `url` after a form: a path on Portico directly, another site
/// (an identity provider, an app) through `/depart`. Forms post without JavaScript, and
/// the page's policy lets a form's submission, its redirects included, lead only to
/// Portico: `/depart`'s page moves on with a refresh, a navigation of its own. The address
/// waits in a short-lived HttpOnly cookie, so that `/depart` can never be pointed elsewhere
/// by a link.
pub fn leave_for(portal: &Portal, url: &str) {
    if let Some(path) = crate::pages::local_path(url) {
        leptos_axum::redirect(path);
        return;
    }
    set_cookie(
        portal,
        Cookie::Departure,
        &crate::pages::hex(url.as_bytes()),
        domain::flashes::LIFETIME,
    );
    leptos_axum::redirect("/depart");
}

/// Where [`leave_for`] sends this browser, taken (and cleared) from its cookie: only
/// http(s) addresses.
pub fn take_departure() -> Option<String> {
    let portal = portal().ok()?;
    let hex = cookie(&portal, Cookie::Departure)?;
    set_cookie(&portal, Cookie::Departure, "", 0);
    crate::pages::decode_hex(&hex)
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
}

/// The flash left for this page, if any (see [`TakenFlash`]).
pub fn take_flash() -> Option<types::Flash> {
    let parts = use_context::<Parts>()?;
    parts.extensions.get::<TakenFlash>()?.0.clone()
}

/// The session id from the request's cookie, if any.
pub fn session_token(portal: &Portal) -> Option<String> {
    cookie(portal, Cookie::Session)
}

/// Who is signed in, from a request's session cookie: for the handlers that answer
/// outside Leptos (the OpenID Connect endpoints, file downloads).
pub async fn signed_in_by_cookie(
    portal: &Portal,
    headers: &http::HeaderMap,
    ip: Option<&str>,
) -> domain::Result<Option<SignedIn>> {
    let Some(token) = cookie_in(headers, &portal.cookie_name(Cookie::Session)) else {
        return Ok(None);
    };
    domain::sessions::principal(&portal.store, &portal.policy, &token, ip, now()).await
}

/// Who is signed in, read once per request: a page's resources start together and each
/// asks; the first reads the session, the others wait for its answer. Given to every
/// request as context by the server.
#[derive(Clone, Debug, Default)]
pub struct RequestMemo(Arc<tokio::sync::OnceCell<Option<SignedIn>>>);

/// Who is signed in, or `None`.
pub async fn current_principal() -> Result<Option<SignedIn>, AppError> {
    let read = async {
        let portal = portal()?;
        let Some(token) = session_token(&portal) else {
            return Ok(None);
        };
        let ip = client().ip;
        Ok::<_, AppError>(
            domain::sessions::principal(
                &portal.store,
                &portal.policy,
                &token,
                ip.as_deref(),
                now(),
            )
            .await?,
        )
    };
    match use_context::<RequestMemo>() {
        Some(memo) => memo.0.get_or_try_init(|| read).await.cloned(),
        None => read.await,
    }
}

/// Who is signed in, or [`AppError::NotAuthenticated`].
pub async fn signed_in() -> Result<(Portal, SignedIn), AppError> {
    let signed_in = current_principal()
        .await?
        .ok_or(AppError::NotAuthenticated)?;
    Ok((portal()?, signed_in))
}

/// The signed-in principal, or [`AppError::NotAuthenticated`].
///
/// Everything that asks is part of Portico itself (the access panel, the admin console,
/// owners' and sponsors' pages), so the organization's conditional-access policies for
/// Portico have their say first: a second factor (or a passkey) or a fresh sign-in to
/// give, or a block.
pub async fn principal() -> Result<(Portal, Principal), AppError> {
    use domain::oidc::access::Refusal;
    let (portal, signed_in) = signed_in().await?;
    match domain::conditional_access::for_portico(&portal.store, &signed_in, now()).await? {
        None => Ok((portal, signed_in.principal)),
        Some(Refusal::MfaRequired { policy }) => Err(AppError::SecondFactor(policy)),
        Some(Refusal::PasskeyRequired { policy }) => Err(AppError::Passkey(policy)),
        Some(Refusal::SignInAgain { policy }) => Err(AppError::SignInAgain(policy)),
        Some(Refusal::TermsRequired { policy, terms }) => {
            Err(AppError::TermsOfUse { policy, terms })
        }
        Some(refusal) => Err(AppError::Refused(
            refusal.describe(&signed_in.me.tenant_name),
        )),
    }
}

/// Sets (or, with `max_age` 0, removes) one of Portico's cookies.
pub fn set_cookie(portal: &Portal, which: Cookie, value: &str, max_age: i64) {
    if let (Some(response), Some(value)) = (
        use_context::<ResponseOptions>(),
        portal.set_cookie_header(which, value, max_age),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}

/// Sends the browser to a partner's identity provider, keeping the trip's state in a
/// cookie so that only this browser can finish it.
pub fn leave_for_provider(portal: &Portal, departure: &domain::federation::Departure) {
    set_cookie(
        portal,
        Cookie::Federation,
        &departure.state,
        domain::federation::REQUEST_LIFETIME,
    );
    leave_for(portal, &departure.url);
}

pub fn set_session_cookie(portal: &Portal, token: &str, max_age: i64) {
    set_cookie(portal, Cookie::Session, token, max_age);
}

/// Clears the session's cookie, and any flash still waiting for a page: it may hold a
/// secret, and the next person at this browser must not see it.
pub fn clear_session_cookie(portal: &Portal) {
    set_cookie(portal, Cookie::Session, "", 0);
    set_cookie(portal, Cookie::Flash, "", 0);
}

/// The nonce the server chose for this response's Content-Security-Policy, put into the
/// request by its middleware (which also sets the header, so the two always agree).
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// The Content-Security-Policy of a page with this nonce: scripts only from Portico itself
/// or carrying the nonce (Leptos' hydration scripts), WebAssembly allowed, no framing.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Gives Leptos the request's nonce, for the scripts it writes into the page.
pub fn use_request_nonce() {
    let nonce =
        use_context::<Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}
