//! Bring your own identity: partners' OpenID Connect providers, with Portico as their
//! relying party. An organization sets a provider up for the email domains it serves;
//! invited people of those domains redeem by signing in there, and sign in there again
//! afterwards.
//!
//! A trip to a provider is the code flow with PKCE (S256), `state` and `nonce`. The state
//! is kept hashed, works once, and must come back to the browser that left (a cookie
//! holds it too). The ID token's signature, issuer, audience, expiry and nonce are
//! checked; the keys are fetched from the provider's discovery document, kept for an hour,
//! and fetched again at once when a token names a key Portico does not know.
//!
//! An identity from a provider is `oidc:<issuer>#<subject>`: never the email alone, so a
//! second provider asserting the same address gets nothing of the first one's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse,
};
use types::{
    FieldError, IdentityProvider, IdentityProviders, ProviderChoice, RedemptionMethod,
    RedemptionOrder, TokenAuthMethod,
};

use crate::audit::{self, Change};
use crate::principal::Permission;
use crate::sessions::{self, Client, OpenedSession, SessionPolicy};
use crate::store::{self, federation::Provider};
use crate::vault::Vault;
use crate::{Error, Identity, Principal, Result, Store, redemption, secrets, validate};

/// How long a trip to a provider may take, in seconds.
pub const REQUEST_LIFETIME: i64 = 600;
/// How long a provider's discovery document and keys are kept, in seconds.
const METADATA_LIFETIME: i64 = 3600;
/// The most Portico reads of one answer from a provider (discovery, keys, tokens,
/// userinfo). Real ones are a few kilobytes; a larger one is refused, not held in memory.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

type RelyingParty = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Talks to partners' providers: an HTTP client that follows no redirects and gives up
/// after ten seconds, Portico's redirect URI, and the providers' discovery documents.
pub struct Federation {
    /// Made at first use: building it loads the system's root certificates, which an
    /// instance without partners' providers never needs in memory.
    http: std::sync::OnceLock<Outbound>,
    /// Whether providers on this machine's loopback are allowed (development and tests).
    allow_loopback: bool,
    redirect_uri: String,
    metadata: Mutex<HashMap<String, (i64, CoreProviderMetadata)>>,
    /// Seals the client secrets providers gave Portico.
    vault: Vault,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl Federation {
    /// `public_url` is how browsers reach Portico; providers send people back under it.
    /// `allow_loopback` lets providers run on this machine (development and tests);
    /// `vault` seals the client secrets Portico keeps for them.
    pub fn new(public_url: &str, allow_loopback: bool, vault: Vault) -> Federation {
        Federation {
            http: std::sync::OnceLock::new(),
            allow_loopback,
            redirect_uri: format!("{}/federation/callback", public_url.trim_end_matches('/')),
            metadata: Mutex::new(HashMap::new()),
            vault,
        }
    }

    fn http(&self) -> Result<&Outbound, String> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let allow_loopback = self.allow_loopback;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .dns_resolver(std::sync::Arc::new(PublicOnly { allow_loopback }))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(self.http.get_or_init(|| Outbound {
            http: client,
            allow_loopback,
        }))
    }

    /// The redirect URI to register at every provider.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The provider's discovery document with its keys: kept for an hour, or fetched now
    /// when `fresh`.
    async fn metadata(
        &self,
        issuer: &str,
        now: i64,
        fresh: bool,
    ) -> Result<CoreProviderMetadata, String> {
        if !fresh
            && let Some((fetched, metadata)) = self
                .metadata
                .lock()
                .ok()
                .and_then(|m| m.get(issuer).cloned())
            && fetched + METADATA_LIFETIME > now
        {
            return Ok(metadata);
        }
        let url = IssuerUrl::new(issuer.to_string()).map_err(|_| {
            "Enter the provider's issuer as a full address (https://…).".to_string()
        })?;
        let metadata = CoreProviderMetadata::discover_async(url, self.http()?)
            .await
            .map_err(|e| describe_discovery_error(issuer, &e))?;
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(issuer.to_string(), (now, metadata.clone()));
        }
        Ok(metadata)
    }

    async fn relying_party(
        &self,
        provider: &Provider,
        now: i64,
        fresh: bool,
    ) -> Result<RelyingParty, String> {
        let secret = self
            .vault
            .open(&provider.id, &provider.client_secret)
            .ok_or_else(|| {
                format!(
                    "Portico cannot read the client secret it keeps for {}: it was sealed with another key file. Remove the provider and add it again.",
                    provider.name
                )
            })?;
        let metadata = self.metadata(&provider.issuer, now, fresh).await?;
        let auth = token_auth(
            TokenAuthMethod::from_key(&provider.token_auth_method).unwrap_or_default(),
            metadata.token_endpoint_auth_methods_supported(),
        )?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| format!("Portico's public URL makes no valid redirect URI: {e}"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_auth_type(auth)
        .set_redirect_uri(redirect))
    }
}

/// How Portico authenticates at a provider's token endpoint: as the admin set it, else from
/// the methods the provider's discovery document offers. HTTP Basic when it offers it, and
/// when it names none (OpenID Connect Discovery makes `client_secret_basic` the default
/// then); else the form post. A provider that takes neither cannot be used with a client
/// secret, which is all Portico holds.
fn token_auth(
    setting: TokenAuthMethod,
    offered: Option<&Vec<CoreClientAuthMethod>>,
) -> Result<AuthType, String> {
    match setting {
        TokenAuthMethod::ClientSecretBasic => Ok(AuthType::BasicAuth),
        TokenAuthMethod::ClientSecretPost => Ok(AuthType::RequestBody),
        TokenAuthMethod::Automatic => match offered {
            None => Ok(AuthType::BasicAuth),
            Some(methods) if methods.contains(&CoreClientAuthMethod::ClientSecretBasic) => {
                Ok(AuthType::BasicAuth)
            }
            Some(methods) if methods.contains(&CoreClientAuthMethod::ClientSecretPost) => {
                Ok(AuthType::RequestBody)
            }
            Some(methods) => Err(format!(
                "The provider's token endpoint takes neither client_secret_basic nor client_secret_post (its discovery document lists {}), and Portico signs in there with a client secret. Choose one of the two only if the provider accepts it all the same.",
                if methods.is_empty() {
                    "none".to_string()
                } else {
                    methods
                        .iter()
                        .map(AsRef::<str>::as_ref)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
        },
    }
}

fn describe_discovery_error(
    issuer: &str,
    error: &openidconnect::DiscoveryError<OutboundError>,
) -> String {
    use openidconnect::DiscoveryError as D;
    let document = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    match error {
        // Said as it is: the answer came, it was only too large.
        D::Request(too_large @ OutboundError::TooLarge { .. }) => format!("{too_large}."),
        D::Request(e) => {
            let mut cause = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                cause = format!("{cause}: {inner}");
                source = inner.source();
            }
            format!("Portico could not reach {document} ({cause}).")
        }
        D::Response(status, _, _) => {
            format!("{document} answered HTTP {status}; is this the provider's issuer address?")
        }
        D::Parse(e) => format!("{document} is not a valid discovery document ({e})."),
        D::Validation(e) => format!("The provider's discovery document does not hold: {e}."),
        other => format!("The provider's discovery document could not be used ({other})."),
    }
}

/// Whether Portico may call an address: only publicly routed ones, and the loopback only
/// when allowed (development and tests). Refused: private, shared (carrier NAT),
/// link-local, reserved, benchmarking, multicast and "this network" IPv4 ranges; the IPv6
/// unique-local, link-local, site-local and multicast ones; and every IPv6 form that
/// carries an IPv4 address to somewhere (IPv4-compatible `::a.b.c.d`, NAT64, 6to4, Teredo),
/// where a gateway would take Portico into a network these rules keep it out of. Checked
/// for every request to a provider (the addresses a name resolves to, and literal ones),
/// so a discovery document cannot point Portico at its own network either.
fn ip_allowed(ip: std::net::IpAddr, allow_loopback: bool) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_loopback() {
                return allow_loopback;
            }
            let [a, b, c, _] = v4.octets();
            let refused = v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                // 0.0.0.0/8, "this network".
                || a == 0
                // 100.64.0.0/10, shared address space (carrier-grade NAT).
                || (a == 100 && (b & 0xc0) == 64)
                // 192.0.0.0/24, IETF protocol assignments.
                || (a == 192 && b == 0 && c == 0)
                // 198.18.0.0/15, benchmarking networks.
                || (a == 198 && (b & 0xfe) == 18)
                // 240.0.0.0/4, reserved (with the broadcast address).
                || a >= 240;
            !refused
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return ip_allowed(IpAddr::V4(v4), allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            let s = v6.segments();
            let refused = v6.is_multicast()
                // ::/96: unspecified, and IPv4-compatible ::a.b.c.d.
                || s[..6] == [0; 6]
                // 64:ff9b::/96 and 64:ff9b:1::/48, NAT64.
                || (s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1))
                // 2002::/16, 6to4.
                || s[0] == 0x2002
                // 2001::/32, Teredo.
                || (s[0] == 0x2001 && s[1] == 0)
                // fc00::/7, unique local.
                || (s[0] & 0xfe00) == 0xfc00
                // fe80::/10, link-local.
                || (s[0] & 0xffc0) == 0xfe80
                // fec0::/10, site-local (deprecated, still routed inside some networks).
                || (s[0] & 0xffc0) == 0xfec0;
            !refused
        }
    }
}

/// Whether Portico may send a request to `url`: https (plain http only to an allowed
/// loopback), and a literal address only where [`ip_allowed`].
fn destination_allowed(url: &url::Url, allow_loopback: bool) -> Result<(), String> {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            if !ip_allowed(ip.into(), allow_loopback) {
                return Err("Portico does not call addresses inside private networks.".into());
            }
            ip.is_loopback()
        }
        Some(url::Host::Ipv6(ip)) => {
            if !ip_allowed(ip.into(), allow_loopback) {
                return Err("Portico does not call addresses inside private networks.".into());
            }
            ip.is_loopback()
        }
        Some(url::Host::Domain(host)) => allow_loopback && host == "localhost",
        None => return Err("The address names no host.".into()),
    };
    if url.scheme() != "https" && !loopback {
        return Err("Providers are reached over https:// only.".into());
    }
    Ok(())
}

/// An issuer Portico may trust: no query or fragment (OpenID Connect Discovery forbids
/// them), and an address Portico may call.
fn issuer_allowed(issuer: &str, allow_loopback: bool) -> Result<(), String> {
    let url =
        url::Url::parse(issuer).map_err(|_| "Enter the issuer as a full address.".to_string())?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("An issuer has no query (?) or fragment (#).".into());
    }
    destination_allowed(&url, allow_loopback)
}

/// Resolves providers' host names, keeping only addresses Portico may call.
struct PublicOnly {
    allow_loopback: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<std::net::SocketAddr> = found
                .filter(|address| ip_allowed(address.ip(), allow_loopback))
                .collect();
            if kept.is_empty() {
                return Err(format!(
                    "{} resolves only to addresses Portico does not call",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a request to a provider did not happen or failed.
#[derive(Debug, thiserror::Error)]
enum OutboundError {
    #[error("{0}")]
    Refused(String),
    #[error("{url} sent more than 1 MB, more than Portico reads from a provider")]
    TooLarge { url: String },
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// The HTTP client for providers: every request's address is checked first, and at most
/// [`MAX_ANSWER_BYTES`] of an answer are read.
struct Outbound {
    http: reqwest::Client,
    allow_loopback: bool,
}

impl Outbound {
    async fn fetch(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, OutboundError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|e| OutboundError::Refused(e.to_string()))?;
        destination_allowed(&url, self.allow_loopback).map_err(OutboundError::Refused)?;
        let too_large = || OutboundError::TooLarge {
            url: url.to_string(),
        };
        let mut response = self.http.execute(request.try_into()?).await?;
        if response
            .content_length()
            .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = openidconnect::http::Response::builder()
            .status(response.status())
            .version(response.version());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        answer
            .body(body)
            .map_err(|e| OutboundError::Refused(e.to_string()))
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for Outbound {
    type Error = OutboundError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, OutboundError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.fetch(request))
    }
}

fn field(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn summary(provider: Provider) -> IdentityProvider {
    IdentityProvider {
        id: provider.id,
        name: provider.name,
        issuer: provider.issuer,
        client_id: provider.client_id,
        scopes: provider.scopes,
        domains: provider
            .domains
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        token_auth_method: TokenAuthMethod::from_key(&provider.token_auth_method)
            .unwrap_or_default(),
        created_at: provider.created_at,
    }
}

/// The organization's providers and the redirect URI to register at them.
///
/// **Permissions:** global administrators.
pub async fn list(
    store: &Store,
    federation: &Federation,
    actor: &Principal,
) -> Result<IdentityProviders> {
    actor.require(Permission::ManageIdentityProviders)?;
    let providers =
        store::federation::providers(&mut *store.read().await?, &actor.tenant_id).await?;
    Ok(IdentityProviders {
        redirect_uri: federation.redirect_uri.clone(),
        providers: providers.into_iter().map(summary).collect(),
    })
}

/// A provider as an admin enters it.
#[derive(Clone, Debug, Default)]
pub struct NewProvider {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated; empty means [`types::DEFAULT_PROVIDER_SCOPES`].
    pub scopes: String,
    /// Separated by commas, spaces or lines.
    pub domains: String,
    /// A [`TokenAuthMethod`] key; empty means automatic.
    pub token_auth_method: String,
}

fn scopes_of(text: &str) -> Result<String, FieldError> {
    let text = if text.trim().is_empty() {
        types::DEFAULT_PROVIDER_SCOPES
    } else {
        text
    };
    let scopes: Vec<&str> = text.split_whitespace().collect();
    let bad = |message: &str| FieldError {
        field: "scopes".into(),
        message: message.into(),
    };
    if !scopes.contains(&"openid") {
        return Err(bad("Include openid: it is what makes this OpenID Connect."));
    }
    if !scopes.contains(&"email") {
        return Err(bad(
            "Include email: Portico matches the address the provider gives to the invited one.",
        ));
    }
    if scopes.iter().any(|s| {
        s.len() > 100
            || !s
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
    }) {
        return Err(bad("Scopes are words without quotes, separated by spaces."));
    }
    Ok(scopes.join(" "))
}

/// A token endpoint method as a form writes it; empty means automatic.
fn token_auth_method_of(key: &str) -> Result<TokenAuthMethod, FieldError> {
    match key.trim() {
        "" => Ok(TokenAuthMethod::Automatic),
        key => TokenAuthMethod::from_key(key).ok_or_else(|| FieldError {
            field: "token_auth_method".into(),
            message: "Choose one of the listed methods.".into(),
        }),
    }
}

fn domains_of(text: &str) -> Result<Vec<String>, FieldError> {
    let mut domains = Vec::new();
    for part in text.split(|c: char| c == ',' || c.is_whitespace()) {
        if part.is_empty() {
            continue;
        }
        let domain = validate::domain_name("domains", part)?.to_ascii_lowercase();
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.is_empty() {
        return Err(FieldError {
            field: "domains".into(),
            message: "Name at least one email domain whose people sign in there.".into(),
        });
    }
    Ok(domains)
}

/// Adds a partner's provider. Its discovery document must be reachable and valid (with
/// the keys it names); what is wrong with it is said plainly.
///
/// **Permissions:** global administrators.
pub async fn add(
    store: &Store,
    federation: &Federation,
    actor: &Principal,
    form: &NewProvider,
    now: i64,
) -> Result<IdentityProvider> {
    actor.require(Permission::ManageIdentityProviders)?;
    let name = validate::name("name", &form.name, 100);
    let issuer = validate::web_url("issuer", &form.issuer);
    let client_id = validate::name("client_id", &form.client_id, 255);
    let secret = if form.client_secret.trim().is_empty() {
        Err(FieldError {
            field: "client_secret".into(),
            message: "Enter the client secret the provider gave Portico.".into(),
        })
    } else if form.client_secret.len() > 1000 {
        Err(FieldError {
            field: "client_secret".into(),
            message: "That secret is longer than 1,000 characters.".into(),
        })
    } else {
        Ok(form.client_secret.trim().to_string())
    };
    let scopes = scopes_of(&form.scopes);
    let domains = domains_of(&form.domains);
    let auth_method = token_auth_method_of(&form.token_auth_method);
    validate::report([
        name.as_ref().err(),
        issuer.as_ref().err(),
        client_id.as_ref().err(),
        secret.as_ref().err(),
        scopes.as_ref().err(),
        domains.as_ref().err(),
        auth_method.as_ref().err(),
    ])?;
    let (name, issuer, client_id, secret, scopes, domains, auth_method) = (
        name?,
        issuer?,
        client_id?,
        secret?,
        scopes?,
        domains?,
        auth_method?,
    );
    issuer_allowed(&issuer, federation.allow_loopback)
        .map_err(|message| field("issuer", message))?;
    // `Url` adds a slash to a bare host; the issuer is compared exactly as the provider
    // writes it, which the form's text is meant to be.
    let issuer = if form.issuer.trim().ends_with('/') {
        issuer
    } else {
        issuer.trim_end_matches('/').to_string()
    };
    let metadata = federation
        .metadata(&issuer, now, true)
        .await
        .map_err(|message| field("issuer", message))?;
    if !metadata.response_types_supported().iter().any(|t| {
        t.as_slice()
            .contains(&openidconnect::core::CoreResponseType::Code)
    }) {
        return Err(field(
            "issuer",
            "This provider does not offer the authorization code flow, which Portico uses.",
        ));
    }
    token_auth(
        auth_method,
        metadata.token_endpoint_auth_methods_supported(),
    )
    .map_err(|message| field("token_auth_method", message))?;
    let id = crate::new_id();
    let sealed = federation.vault.seal(&id, &secret)?;
    let mut tx = store.begin().await?;
    store::federation::insert_provider(
        &mut tx,
        &id,
        &actor.tenant_id,
        &name,
        &issuer,
        &client_id,
        &sealed,
        &scopes,
        auth_method.key(),
        now,
    )
    .await
    .map_err(|e| {
        Error::conflict_on_unique(
            e,
            "This organization has a provider with that issuer already.",
        )
    })?;
    for domain in &domains {
        store::federation::insert_domain(&mut tx, &actor.tenant_id, domain, &id)
            .await
            .map_err(|e| {
                Error::conflict_on_unique(
                    e,
                    format!(
                        "{domain} is served by another provider already; remove it there first."
                    ),
                )
            })?;
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Add identity provider",
            target_type: "IdentityProvider",
            target_id: &id,
            target_name: &name,
            detail: format!(
                "issuer {issuer}; domains {}; token endpoint authentication {}",
                domains.join(", "),
                auth_method.key()
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(IdentityProvider {
        id,
        name,
        issuer,
        client_id,
        scopes,
        domains,
        token_auth_method: auth_method,
        created_at: now,
    })
}

/// Changes how Portico authenticates at a provider's token endpoint. Automatic is checked
/// against the provider's discovery document now, as when it is added; an admin's explicit
/// choice stands whatever the document says.
///
/// **Permissions:** global administrators.
pub async fn set_token_auth_method(
    store: &Store,
    federation: &Federation,
    actor: &Principal,
    id: &str,
    method: &str,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageIdentityProviders)?;
    let method = token_auth_method_of(method).map_err(|e| Error::Invalid(vec![e]))?;
    let provider = store::federation::provider(&mut *store.read().await?, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("identity provider"))?;
    if provider.token_auth_method == method.key() {
        return Ok(());
    }
    if method == TokenAuthMethod::Automatic {
        let metadata = federation
            .metadata(&provider.issuer, now, true)
            .await
            .map_err(|message| field("token_auth_method", message))?;
        token_auth(method, metadata.token_endpoint_auth_methods_supported())
            .map_err(|message| field("token_auth_method", message))?;
    }
    let mut tx = store.begin().await?;
    if !store::federation::set_token_auth_method(&mut tx, &actor.tenant_id, id, method.key(), now)
        .await?
    {
        return Err(Error::NotFound("identity provider"));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update identity provider",
            target_type: "IdentityProvider",
            target_id: id,
            target_name: &provider.name,
            detail: format!(
                "token endpoint authentication {} (was {})",
                method.key(),
                provider.token_auth_method
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a provider. Guests who redeemed through it can no longer sign in until an
/// admin resets their redemption.
///
/// **Permissions:** global administrators.
pub async fn remove(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageIdentityProviders)?;
    let mut tx = store.begin().await?;
    let provider = store::federation::provider(&mut tx, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("identity provider"))?;
    store::federation::delete_provider(&mut tx, &actor.tenant_id, id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Remove identity provider",
            target_type: "IdentityProvider",
            target_id: id,
            target_name: &provider.name,
            detail: format!("issuer {}", provider.issuer),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The organization's redemption order.
pub(crate) async fn order_of(db: &Store, tenant_id: &str) -> Result<RedemptionOrder> {
    let text = store::federation::redemption_order(&mut *db.read().await?, tenant_id).await?;
    Ok(RedemptionOrder::from_setting(&text))
}

/// A redemption order as a form writes it: each list of method keys in order, e.g.
/// `home,federation` and `account,code`. An unknown key is an error, not skipped.
pub fn parse_order(primary: &str, fallback: &str) -> Result<RedemptionOrder> {
    let parse = |field: &str, list: &str| {
        list.split(',')
            .filter(|k| !k.is_empty())
            .map(|k| {
                RedemptionMethod::from_key(k)
                    .ok_or_else(|| self::field(field, "Choose one of the listed orders."))
            })
            .collect::<Result<Vec<_>>>()
    };
    Ok(RedemptionOrder {
        primary: parse("primary", primary)?,
        fallback: parse("fallback", fallback)?,
    })
}

/// Sets the redemption order. Primary methods and fallbacks each keep to their kind, none
/// twice, and at least one fallback stays on: without one, people whose organization
/// Portico cannot reach could never accept.
///
/// **Permissions:** global administrators.
pub async fn set_redemption_order(
    store: &Store,
    actor: &Principal,
    order: &RedemptionOrder,
    now: i64,
) -> Result<RedemptionOrder> {
    actor.require(Permission::ManageIdentityProviders)?;
    let twice =
        |list: &[RedemptionMethod]| list.iter().enumerate().any(|(i, m)| list[..i].contains(m));
    if order.primary.iter().any(|m| !m.is_primary()) || twice(&order.primary) {
        return Err(field(
            "primary",
            "Primary methods are the home organization and federation, each once.",
        ));
    }
    if order.fallback.iter().any(|m| m.is_primary()) || twice(&order.fallback) {
        return Err(field("fallback", "Fallbacks are listed once each."));
    }
    if order.fallback.is_empty() {
        return Err(field(
            "fallback",
            "Keep at least one fallback on: without one, people whose own organization Portico cannot reach could never accept.",
        ));
    }
    let mut tx = store.begin().await?;
    let tenant = store::tenants::settings(&mut tx, &actor.tenant_id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    store::federation::set_redemption_order(&mut tx, &actor.tenant_id, &order.to_setting()).await?;
    let names = |list: &[RedemptionMethod]| {
        list.iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(", then ")
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update redemption order",
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: &tenant.name,
            detail: format!(
                "primary: {}; fallback: {}",
                if order.primary.is_empty() {
                    "none".into()
                } else {
                    names(&order.primary)
                },
                names(&order.fallback)
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(order.clone())
}

/// The provider the inviting organization set up for this address's domain.
pub(crate) async fn provider_for(
    store: &Store,
    tenant_id: &str,
    email: &str,
) -> Result<Option<Provider>> {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    store::federation::provider_for_domain(
        &mut *store.read().await?,
        tenant_id,
        &domain.to_ascii_lowercase(),
    )
    .await
}

/// The providers guests with this address redeemed through, each with the organization
/// that set it up.
pub async fn providers_of_guest(store: &Store, email: &str) -> Result<Vec<ProviderChoice>> {
    let email = validate::email("email", email)?;
    store::federation::providers_of_guest(&mut *store.read().await?, &email).await
}

/// A trip to a provider, begun: send the browser to `url` and keep `state` in a cookie.
#[derive(Debug)]
pub struct Departure {
    pub url: String,
    pub state: String,
}

/// Begins a trip to `provider`: for a redemption in progress (`redemption_hash`) or a
/// sign-in (then `next` is where to go afterwards).
pub(crate) async fn depart(
    store: &Store,
    federation: &Federation,
    provider: &Provider,
    redemption_hash: Option<&str>,
    next: Option<&str>,
    login_hint: &str,
    now: i64,
) -> Result<Departure> {
    let client = federation
        .relying_party(provider, now, false)
        .await
        .map_err(|_| unreachable_provider(provider))?;
    let state = secrets::new_secret();
    let nonce = secrets::new_secret();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let state = state.clone();
                move || CsrfToken::new(state)
            },
            {
                let nonce = nonce.clone();
                move || Nonce::new(nonce)
            },
        )
        .set_pkce_challenge(challenge)
        .add_extra_param("login_hint", login_hint.to_string());
    for scope in provider.scopes.split(' ').filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, _, _) = request.url();
    let mut tx = store.begin().await?;
    store::federation::delete_expired_requests(&mut tx, now).await?;
    store::federation::insert_request(
        &mut tx,
        &secrets::hash_secret(&state),
        &provider.id,
        redemption_hash,
        &nonce,
        verifier.secret(),
        next,
        now,
        now + REQUEST_LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(Departure {
        url: url.to_string(),
        state,
    })
}

/// What people are told when a provider cannot be reached; the details are not theirs to
/// read (they would map Portico's network for anyone).
fn unreachable_provider(provider: &Provider) -> Error {
    Error::Conflict(format!(
        "{} cannot be reached right now, so you cannot sign in there. Try again later, or ask the organization that invited you.",
        provider.name
    ))
}

/// What a provider said about the person, once every check passed.
#[derive(Clone, Debug)]
pub(crate) struct Vouched {
    /// `oidc:<issuer>#<subject>`.
    pub identity: Identity,
    pub provider_name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// The provider said it used more than one factor by its `amr` ([`said_mfa`]).
    pub mfa: bool,
    /// The ID token's `acr`, if it had one.
    pub acr: Option<String>,
}

impl Vouched {
    /// How the person signed in, as the organization `tenant_id` sees it: at the provider,
    /// with its word on a second factor (its `amr`, or an `acr` among the values the
    /// organization named for the provider: see `partners::acr_means_mfa`).
    pub async fn methods_in(
        &self,
        db: &mut sqlx::AnyConnection,
        tenant_id: &str,
    ) -> Result<crate::auth_methods::AuthMethods> {
        use crate::auth_methods::{AuthMethod, AuthMethods};
        let named = match &self.identity {
            Identity::Oidc { issuer, .. } => {
                let partner = crate::partners::Partner::Provider(issuer.clone());
                store::partners::mfa_acr(db, tenant_id, &partner.key()).await?
            }
            _ => String::new(),
        };
        Ok(
            if self.mfa || crate::partners::acr_means_mfa(self.acr.as_deref(), &named) {
                AuthMethods::new(&[AuthMethod::Federated, AuthMethod::PartnerMfa])
            } else {
                AuthMethod::Federated.into()
            },
        )
    }
}

/// `amr` values (RFC 8176) by which a provider says its sign-in used more than one
/// factor, or a factor that is one beside a password: `mfa` itself, one-time codes, keys
/// bound to hardware, codes by text or call, smart cards, proof of possession, and
/// biometrics. A password or a software key alone (`pwd`, `swk`, `kba`) is not.
const MFA_AMR: [&str; 11] = [
    "mfa", "otp", "hwk", "sms", "tel", "sc", "pop", "fpt", "face", "iris", "retina",
];

/// Whether an ID token's `amr` says the provider used more than one factor.
fn said_mfa<'a>(amr: impl IntoIterator<Item = &'a str>) -> bool {
    amr.into_iter().any(|value| MFA_AMR.contains(&value))
}

/// What the provider's answer led to.
#[derive(Debug)]
pub enum Arrival {
    /// A redemption: the address is proven and consent comes next; or, when the provider
    /// did not confirm the address, a code was mailed to it.
    Redemption { code_also: bool },
    /// A sign-in: a session, and where to go.
    SignedIn {
        session: OpenedSession,
        next: Option<String>,
    },
}

/// The browser's answer from the provider, as it came to the redirect URI.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The state this browser keeps in its cookie.
    pub state_cookie: Option<String>,
    /// The browser's redemption in progress, if any.
    pub redemption_cookie: Option<String>,
    /// The browser's session before, which ends when a new one opens.
    pub previous_session: Option<String>,
}

/// Finishes a trip: the state must be this browser's and unused, the provider's tokens
/// valid. Then the redemption goes on, or a session opens.
pub async fn arrive(
    store: &Store,
    federation: &Federation,
    policy: &SessionPolicy,
    answer: &Answer,
    client: &Client,
    now: i64,
) -> Result<Arrival> {
    let lost = || {
        Error::Conflict(
            "This answer from the identity provider cannot be used: it was used already, took too long, or belongs to another browser. Start again."
                .into(),
        )
    };
    let state = answer.state.as_deref().ok_or_else(lost)?;
    if answer.state_cookie.as_deref() != Some(state) {
        return Err(lost());
    }
    let mut tx = store.begin().await?;
    let request = store::federation::take_request(&mut tx, &secrets::hash_secret(state))
        .await?
        .filter(|r| r.expires_at > now)
        .ok_or_else(lost)?;
    tx.commit().await?;
    if let Some(hash) = &request.redemption_hash
        && answer
            .redemption_cookie
            .as_deref()
            .map(secrets::hash_secret)
            .as_ref()
            != Some(hash)
    {
        return Err(lost());
    }
    let provider = store::federation::provider(
        &mut *store.read().await?,
        &request.tenant_id,
        &request.provider_id,
    )
    .await?
    .ok_or_else(lost)?;
    if let Some(error) = &answer.error {
        let said = answer
            .error_description
            .as_deref()
            .unwrap_or(error.as_str())
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect::<String>();
        return Err(Error::Conflict(format!(
            "{} did not sign you in: {said}",
            provider.name
        )));
    }
    let code = answer.code.as_deref().ok_or_else(lost)?;
    let vouched = exchange(federation, &provider, code, &request, now).await?;
    match request.redemption_hash {
        Some(hash) => {
            let code_also = redemption::vouched(store, &hash, &vouched, now).await?;
            Ok(Arrival::Redemption { code_also })
        }
        None => {
            let session = sign_in(
                store,
                policy,
                &provider,
                &vouched,
                client,
                answer.previous_session.as_deref(),
                now,
            )
            .await?;
            Ok(Arrival::SignedIn {
                session,
                next: request.next,
            })
        }
    }
}

fn refused(provider: &Provider, why: impl std::fmt::Display) -> Error {
    Error::Conflict(format!(
        "Portico could not accept the answer from {}: {why}",
        provider.name
    ))
}

/// The code for tokens, the ID token checked, and the address from it (or from userinfo).
async fn exchange(
    federation: &Federation,
    provider: &Provider,
    code: &str,
    request: &store::federation::Request,
    now: i64,
) -> Result<Vouched> {
    let mut client = federation
        .relying_party(provider, now, false)
        .await
        .map_err(|_| unreachable_provider(provider))?;
    // The discovery above made the HTTP client.
    let http = federation
        .http()
        .map_err(|_| unreachable_provider(provider))?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| refused(provider, e))?
        .set_pkce_verifier(PkceCodeVerifier::new(request.pkce_verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| match e {
            openidconnect::RequestTokenError::Request(OutboundError::TooLarge { .. }) => {
                refused(provider, too_large("token endpoint"))
            }
            e => refused(
                provider,
                format!("its token endpoint refused the code ({e})"),
            ),
        })?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| refused(provider, "it sent no ID token"))?;
    let nonce = Nonce::new(request.nonce.clone());
    let algs = [
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ];
    let verify = |client: &RelyingParty| {
        id_token
            .claims(
                &client.id_token_verifier().set_allowed_algs(algs.clone()),
                &nonce,
            )
            .cloned()
    };
    let claims = match verify(&client) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            // The provider may have rotated its keys: fetch them again, once.
            client = federation
                .relying_party(provider, now, true)
                .await
                .map_err(|_| unreachable_provider(provider))?;
            verify(&client)
        }
        other => other,
    }
    .map_err(|e| refused(provider, describe_claims_error(&e)))?;
    let mut email = claims.email().map(|e| e.as_str().to_string());
    let mut email_verified = claims.email_verified().unwrap_or(false);
    if email.is_none()
        && let Ok(request) = client.user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
    {
        let info: CoreUserInfoClaims = request.request_async(http).await.map_err(|e| match e {
            openidconnect::UserInfoError::Request(OutboundError::TooLarge { .. }) => {
                refused(provider, too_large("userinfo endpoint"))
            }
            e => refused(provider, format!("its userinfo endpoint failed ({e})")),
        })?;
        email = info.email().map(|e| e.as_str().to_string());
        email_verified = info.email_verified().unwrap_or(false);
    }
    Ok(Vouched {
        identity: Identity::Oidc {
            issuer: provider.issuer.clone(),
            subject: claims.subject().as_str().into(),
        },
        provider_name: provider.name.clone(),
        email,
        email_verified,
        mfa: said_mfa(
            claims
                .auth_method_refs()
                .into_iter()
                .flatten()
                .map(|value| value.as_str()),
        ),
        acr: claims
            .auth_context_ref()
            .map(|acr| acr.as_str().to_string()),
    })
}

/// Why an answer of an endpoint was not read, said to the person signing in (without the
/// address: the provider's name says whose it is).
fn too_large(endpoint: &str) -> String {
    format!("its {endpoint} sent more than 1 MB, more than Portico reads from a provider")
}

fn describe_claims_error(error: &ClaimsVerificationError) -> String {
    match error {
        ClaimsVerificationError::SignatureVerification(_) => {
            "the ID token's signature does not verify with the provider's keys".into()
        }
        ClaimsVerificationError::InvalidIssuer(_) => {
            "the ID token was issued by someone else than the provider".into()
        }
        ClaimsVerificationError::InvalidAudience(_) => {
            "the ID token is meant for another app".into()
        }
        ClaimsVerificationError::Expired(_) => "the ID token has expired".into(),
        ClaimsVerificationError::InvalidNonce(_) => {
            "the ID token does not belong to this sign-in (nonce)".into()
        }
        other => format!("the ID token is not valid ({other})"),
    }
}

/// Opens a session for the person the provider vouched for in the organization that
/// registered the provider (whose client the person came through), and only there: the
/// provider decided for that client, not for other organizations' registrations of it,
/// which need their own sign-in (see `organizations::reaches`).
async fn sign_in(
    store: &Store,
    policy: &SessionPolicy,
    provider: &Provider,
    vouched: &Vouched,
    client: &Client,
    previous: Option<&str>,
    now: i64,
) -> Result<OpenedSession> {
    let mut tx = store.begin().await?;
    let places = store::sessions::memberships(&mut tx, &vouched.identity, None).await?;
    let Some(place) = places.iter().find(|p| p.tenant_id == provider.tenant_id) else {
        return Err(Error::Conflict(format!(
            "{} signed you in, but no organization on this Portico knows that account. Use the link in your invitation mail first.",
            vouched.provider_name
        )));
    };
    if let Some(previous) = previous {
        store::sessions::delete(&mut tx, &secrets::hash_secret(previous)).await?;
    }
    let methods = vouched.methods_in(&mut tx, &provider.tenant_id).await?;
    let opened = sessions::open_in(
        &mut tx,
        policy,
        &place.user_id,
        &vouched.identity,
        &methods,
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(opened)
}

/// Begins signing in at a provider a guest with this address redeemed through: `provider`
/// names one of them; without it, the only one there is (`None` when there is not exactly
/// one).
pub async fn depart_to_sign_in(
    store: &Store,
    federation: &Federation,
    email: &str,
    provider: Option<&str>,
    next: Option<&str>,
    now: i64,
) -> Result<Option<Departure>> {
    let email = validate::email("email", email)?;
    let choices = store::federation::providers_of_guest(&mut *store.read().await?, &email).await?;
    let chosen = match provider {
        Some(id) => choices.iter().find(|c| c.id == id),
        None if choices.len() == 1 => choices.first(),
        None => None,
    };
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let Some(found) =
        store::federation::provider_by_id(&mut *store.read().await?, &chosen.id).await?
    else {
        return Ok(None);
    };
    depart(store, federation, &found, None, next, &email, now)
        .await
        .map(Some)
}

/// Seals the client secrets kept before they were sealed (by an earlier release). Returns
/// how many it sealed; run at start, before the server answers.
pub async fn seal_stored_secrets(store: &Store, federation: &Federation) -> Result<usize> {
    let mut tx = store.begin().await?;
    let stored = store::federation::client_secrets(&mut tx).await?;
    let mut sealed = 0;
    for (id, secret) in stored {
        if Vault::is_sealed(&secret) {
            continue;
        }
        let secret = federation.vault.seal(&id, &secret)?;
        store::federation::set_secret(&mut tx, &id, &secret).await?;
        sealed += 1;
    }
    tx.commit().await?;
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use openidconnect::AuthType;
    use openidconnect::core::CoreClientAuthMethod as M;
    use types::TokenAuthMethod;

    use super::{ip_allowed, token_auth};

    #[test]
    fn only_publicly_routed_addresses_are_called() {
        let cases: &[(&str, bool)] = &[
            ("93.184.215.14", true),
            ("8.8.8.8", true),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("100.127.255.254", false),
            ("100.128.0.1", true),
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("192.0.0.8", false),
            ("192.0.1.1", true),
            ("198.18.0.1", false),
            ("198.19.255.254", false),
            ("198.20.0.1", true),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("127.0.0.1", false),
            ("2606:4700::1111", true),
            ("2001:db8:1::1", true),
            ("::", false),
            ("::1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            // IPv4-compatible.
            ("::10.0.0.1", false),
            ("::8.8.8.8", false),
            // NAT64, well-known and local prefixes.
            ("64:ff9b::a00:1", false),
            ("64:ff9b::808:808", false),
            ("64:ff9b:1::a00:1", false),
            // 6to4 and Teredo.
            ("2002:a00:1::1", false),
            ("2001:0:4136:e378::1", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("fec0::1", false),
            ("feff::1", false),
            ("ff02::1", false),
        ];
        for (address, allowed) in cases {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(ip_allowed(ip, false), *allowed, "{address}");
        }
        for loopback in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(ip_allowed(loopback.parse().unwrap(), true), "{loopback}");
        }
        assert!(!ip_allowed("10.0.0.1".parse().unwrap(), true));
    }

    #[test]
    fn the_token_endpoint_method_follows_discovery_unless_an_admin_chose_one() {
        let basic = |r: Result<AuthType, String>| matches!(r, Ok(AuthType::BasicAuth));
        let post = |r: Result<AuthType, String>| matches!(r, Ok(AuthType::RequestBody));
        let auto = TokenAuthMethod::Automatic;
        // Basic when the document says nothing: it is the default then.
        assert!(basic(token_auth(auto, None)));
        assert!(basic(token_auth(
            auto,
            Some(&vec![M::ClientSecretPost, M::ClientSecretBasic])
        )));
        assert!(post(token_auth(
            auto,
            Some(&vec![M::PrivateKeyJwt, M::ClientSecretPost])
        )));
        let neither = token_auth(auto, Some(&vec![M::PrivateKeyJwt, M::ClientSecretJwt]));
        assert!(
            neither
                .as_ref()
                .is_err_and(|e| e.contains("lists private_key_jwt, client_secret_jwt")),
            "{neither:?}"
        );
        assert!(token_auth(auto, Some(&vec![])).is_err());
        // The admin's choice stands, whatever the document says.
        let only_basic = vec![M::ClientSecretBasic];
        assert!(post(token_auth(
            TokenAuthMethod::ClientSecretPost,
            Some(&only_basic)
        )));
        assert!(basic(token_auth(
            TokenAuthMethod::ClientSecretBasic,
            Some(&vec![M::ClientSecretPost])
        )));
        assert!(post(token_auth(TokenAuthMethod::ClientSecretPost, None)));
    }
}
