//! How administrators register an app as an OpenID Connect client: confidential or public,
//! its redirect addresses, and its secret (shown once, stored as a hash, replaced on
//! rotation).

use types::{ClientSettings, ClientType, FieldError, SigningAlg};

use crate::audit::{self, Change};
use crate::{Error, Permission, Principal, Result, Store, secrets, store};

/// Redirect addresses one app may register, of each kind.
const MAX_URIS: usize = 64;

/// One redirect address: absolute, no fragment, `https` (or `http` only on the loopback
/// host, for apps on a developer's machine). Kept exactly as typed, since it is matched
/// exactly.
fn redirect_uri(field: &str, value: &str) -> Result<String, FieldError> {
    let refuse = |message: &str| FieldError {
        field: field.into(),
        message: format!("{value}: {message}"),
    };
    let parsed = url::Url::parse(value).map_err(|_| refuse("not a full web address."))?;
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(refuse("use https:// (http:// only for localhost).")),
    }
    if parsed.fragment().is_some() {
        return Err(refuse("a redirect address cannot have a #fragment."));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("leave user names and passwords out of the address."));
    }
    Ok(value.to_string())
}

/// Whether `requested` (from an authorization or sign-out request) is the `registered`
/// address, for a client of `client_type`: character for character (no case folding, no
/// normalisation), with one exception (RFC 8252 §7.3, kept by RFC 9700 §2.1): a public
/// (native) client's loopback address, `http://127.0.0.1` or `http://[::1]`, matches on
/// any port, since such an app listens on whatever port the system gives it. Only the port
/// may differ; never for `localhost` (RFC 8252 §8.3) or confidential clients.
pub fn redirect_uri_matches(registered: &str, requested: &str, client_type: ClientType) -> bool {
    if registered == requested {
        return true;
    }
    if client_type != ClientType::Public {
        return false;
    }
    match (
        loopback_without_port(registered),
        loopback_without_port(requested),
    ) {
        (Some(registered), Some(requested)) => registered == requested,
        _ => false,
    }
}

/// A loopback IP address on plain `http`, as (host, the rest after any port): the part of
/// it the port does not change. `None` for any other address, or a port that is not one.
fn loopback_without_port(uri: &str) -> Option<(&str, &str)> {
    ["http://127.0.0.1", "http://[::1]"]
        .into_iter()
        .find_map(|host| {
            let after = uri.strip_prefix(host)?;
            let rest = match after.strip_prefix(':') {
                Some(port_and_rest) => {
                    let end = port_and_rest
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(port_and_rest.len());
                    let (port, rest) = port_and_rest.split_at(end);
                    let port_is_one =
                        (1..=5).contains(&port.len()) && port.parse::<u16>().is_ok_and(|p| p != 0);
                    if !port_is_one {
                        return None;
                    }
                    rest
                }
                None => after,
            };
            // The host must end where the port or the path begins.
            (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
                .then_some((host, rest))
        })
}

/// One address per line; blank lines are skipped.
fn uri_list(field: &str, text: &str) -> Result<Vec<String>, FieldError> {
    let uris: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| redirect_uri(field, l))
        .collect::<Result<_, _>>()?;
    if uris.len() > MAX_URIS {
        return Err(FieldError {
            field: field.into(),
            message: format!("Register at most {MAX_URIS} addresses."),
        });
    }
    Ok(uris)
}

async fn app_name(store: &Store, actor: &Principal, app_id: &str) -> Result<String> {
    store::apps::get(&mut *store.read().await?, &actor.tenant_id, app_id)
        .await?
        .map(|a| a.name)
        .ok_or(Error::NotFound("app"))
}

/// **Permissions:** global administrators.
pub async fn settings(store: &Store, actor: &Principal, app_id: &str) -> Result<ClientSettings> {
    actor.require(Permission::ManageApps)?;
    app_name(store, actor, app_id).await?;
    let mut db = store.read().await?;
    store::oidc::settings(&mut db, app_id).await
}

/// What an administrator types.
pub struct ClientInput<'a> {
    pub client_type: &'a str,
    /// RS256 or ES256.
    pub id_token_alg: &'a str,
    /// One address per line.
    pub redirect_uris: &'a str,
    pub post_logout_uris: &'a str,
}

/// **Permissions:** global administrators.
pub async fn configure(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    input: ClientInput<'_>,
    now: i64,
) -> Result<ClientSettings> {
    actor.require(Permission::ManageApps)?;
    let client_type = ClientType::parse(input.client_type).ok_or_else(|| FieldError {
        field: "client_type".into(),
        message: "Choose confidential or public.".into(),
    });
    let alg = SigningAlg::parse(input.id_token_alg).ok_or_else(|| FieldError {
        field: "id_token_alg".into(),
        message: "Choose RS256 or ES256.".into(),
    });
    let redirects = uri_list("redirect_uris", input.redirect_uris);
    let logouts = uri_list("post_logout_uris", input.post_logout_uris);
    crate::validate::report([
        client_type.as_ref().err(),
        alg.as_ref().err(),
        redirects.as_ref().err(),
        logouts.as_ref().err(),
    ])?;
    let (client_type, alg, redirects, logouts) = (client_type?, alg?, redirects?, logouts?);
    let name = app_name(store, actor, app_id).await?;
    let mut tx = store.begin().await?;
    store::oidc::set_settings(&mut tx, app_id, client_type, alg, &redirects, &logouts).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update application sign-in settings",
            target_type: "App",
            target_id: app_id,
            target_name: &name,
            detail: format!(
                "{} client; ID tokens {}; redirect addresses: {}; sign-out addresses: {}",
                client_type.as_str(),
                alg.as_str(),
                redirects.join(" "),
                logouts.join(" ")
            ),
        },
    )
    .await?;
    let settings = store::oidc::settings(&mut tx, app_id).await?;
    tx.commit().await?;
    Ok(settings)
}

/// A new client secret, returned this once; the previous one stops working.
///
/// **Permissions:** global administrators.
pub async fn new_secret(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    now: i64,
) -> Result<String> {
    actor.require(Permission::ManageApps)?;
    let name = app_name(store, actor, app_id).await?;
    let secret = secrets::new_secret();
    let mut tx = store.begin().await?;
    let settings = store::oidc::settings(&mut tx, app_id).await?;
    if settings.client_type == ClientType::Public {
        return Err(Error::Conflict(
            "A public client cannot keep a secret; make the app confidential first.".into(),
        ));
    }
    store::oidc::set_secret(&mut tx, app_id, &secrets::hash_secret(&secret), now).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: if settings.has_secret {
                "Rotate client secret"
            } else {
                "Add client secret"
            },
            target_type: "App",
            target_id: app_id,
            target_name: &name,
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// What an app's sign-out request asks for (RP-initiated logout).
#[derive(Clone, Debug, Default)]
pub struct SignOutRequest<'a> {
    pub client_id: Option<&'a str>,
    /// An ID token the app was given; only its audience is read, to know the app.
    pub id_token_hint: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// The audience of an ID token, unverified: it only picks whose registered addresses to
/// match, so a forged one leads nowhere but to another app's registered address.
fn audience(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match &claims["aud"] {
        serde_json::Value::String(aud) => Some(aud.clone()),
        serde_json::Value::Array(auds) => auds.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Where the browser goes after signing out: the app's registered sign-out address, with
/// `state`, when the request names the app (by `client_id` or the ID token's audience) and
/// the address is registered for it exactly; otherwise nowhere of the app's.
pub async fn sign_out_target(
    store: &Store,
    tenant_id: &str,
    request: &SignOutRequest<'_>,
) -> Result<Option<String>> {
    let Some(uri) = request.post_logout_redirect_uri else {
        return Ok(None);
    };
    let Some(client_id) = request
        .client_id
        .map(str::to_string)
        .or_else(|| request.id_token_hint.and_then(audience))
    else {
        return Ok(None);
    };
    let registered = store::oidc::client_redirecting(
        &mut *store.read().await?,
        tenant_id,
        &client_id,
        Some(store::oidc::RedirectKind::SignOut),
    )
    .await?
    .is_some_and(|client| {
        client
            .redirect_uris
            .iter()
            .any(|r| redirect_uri_matches(r, uri, client.client_type))
    });
    if !registered {
        return Ok(None);
    }
    let state: Vec<(&str, &str)> = request.state.map(|s| ("state", s)).into_iter().collect();
    Ok(Some(super::authorize::with_query(uri, &state)))
}

/// The tenant's latest sign-in events, newest first.
///
/// **Permissions:** global administrators.
pub async fn sign_ins(
    store: &Store,
    actor: &Principal,
    policy: Option<&str>,
    limit: i64,
) -> Result<Vec<types::SignInEvent>> {
    actor.require(Permission::ManageApps)?;
    // Policy ids are Portico's own: anything else names no policy.
    if policy.is_some_and(|id| !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')) {
        return Err(crate::Error::NotFound("policy"));
    }
    store::oidc::sign_ins(
        &mut *store.read().await?,
        &actor.tenant_id,
        policy,
        limit.clamp(1, 500),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::redirect_uri_matches;
    use types::ClientType::{Confidential, Public};

    #[test]
    fn redirect_addresses_match_exactly_but_for_a_native_apps_loopback_port() {
        let cases = [
            // registered, requested, public client matches, confidential client matches
            (
                "https://app.example/cb",
                "https://app.example/cb",
                true,
                true,
            ),
            (
                "https://app.example/cb",
                "https://app.example/cb/",
                false,
                false,
            ),
            (
                "https://app.example/cb",
                "https://APP.example/cb",
                false,
                false,
            ),
            (
                "https://app.example/cb",
                "https://app.example:443/cb",
                false,
                false,
            ),
            (
                "https://app.example/cb",
                "https://app.example:8443/cb",
                false,
                false,
            ),
            (
                "https://app.example/cb",
                "https://app.example/cb?x=1",
                false,
                false,
            ),
            (
                "https://app.example/cb",
                "https://app.example/%63b",
                false,
                false,
            ),
            ("http://127.0.0.1/cb", "http://127.0.0.1/cb", true, true),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:51234/cb",
                true,
                false,
            ),
            (
                "http://127.0.0.1:8080/cb",
                "http://127.0.0.1:51234/cb",
                true,
                false,
            ),
            (
                "http://127.0.0.1:8080/cb",
                "http://127.0.0.1/cb",
                true,
                false,
            ),
            ("http://127.0.0.1/", "http://127.0.0.1:1", false, false),
            ("http://127.0.0.1", "http://127.0.0.1:1", true, false),
            (
                "http://127.0.0.1/cb?x=1",
                "http://127.0.0.1:65535/cb?x=1",
                true,
                false,
            ),
            ("http://[::1]/cb", "http://[::1]:51234/cb", true, false),
            // Only the port: path, query, scheme and host stay exact.
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:51234/cb/",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:51234/CB",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:51234/cb?x",
                false,
                false,
            ),
            ("http://127.0.0.1/cb", "http://[::1]:51234/cb", false, false),
            ("http://[::1]/cb", "http://127.0.0.1:51234/cb", false, false),
            (
                "http://127.0.0.1/cb",
                "https://127.0.0.1:51234/cb",
                false,
                false,
            ),
            (
                "https://127.0.0.1/cb",
                "https://127.0.0.1:51234/cb",
                false,
                false,
            ),
            (
                "http://localhost/cb",
                "http://localhost:51234/cb",
                false,
                false,
            ),
            // Not a port: the host would not end there.
            ("http://127.0.0.1/cb", "http://127.0.0.1:0/cb", false, false),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:65536/cb",
                false,
                false,
            ),
            ("http://127.0.0.1/cb", "http://127.0.0.1:/cb", false, false),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:051234/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:+80/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:80@evil.example/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1.evil.example/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:80.evil.example/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:80#/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.10:80/cb",
                false,
                false,
            ),
            (
                "http://127.0.0.1/cb",
                "http://127.0.0.1:80\\@evil.example/cb",
                false,
                false,
            ),
            ("http://127.0.0.1/cb", "", false, false),
        ];
        for (registered, requested, public, confidential) in cases {
            assert_eq!(
                redirect_uri_matches(registered, requested, Public),
                public,
                "public: {registered} / {requested}"
            );
            assert_eq!(
                redirect_uri_matches(registered, requested, Confidential),
                confidential,
                "confidential: {registered} / {requested}"
            );
        }
    }
}
