//! The authorization endpoint's rules: which requests are answered with a page (the client
//! or its redirect address is not right, so nobody is sent anywhere), which go back to the
//! client with an error, when the person must sign in first, and when they get a code.

use sha2::{Digest, Sha256};

use super::access::{self, PolicyLog, Refusal};
use super::clients::redirect_uri_matches;
use super::{CODE_LIFETIME, issuer};
use crate::conditional_access::{self as policies, Target};
use crate::second_factors::Asked;
use crate::sessions::SignedIn;
use crate::store::oidc::Grant;
use crate::{Error, Identity, Result, Store, partners, secrets, store};

/// Seconds an authorization request waits, kept by Portico, while the person signs in.
pub const PENDING_LIFETIME: i64 = 15 * 60;
/// The largest authorization request Portico keeps while the person signs in (as stored).
pub const MAX_PENDING_BYTES: usize = 64 * 1024;
/// Requests kept at once for one client address: a person signs in to a few apps at a
/// time, and nobody fills the database with requests nobody comes back to.
pub const MAX_PENDING_PER_ADDRESS: i64 = 100;

/// The parameters of an authorization request, as received (the query of a GET, the form
/// of a POST). Unknown parameters are ignored.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// Portico's own, on a request it kept while the person signed in again (for
    /// `prompt=login` or `max_age`): the sign-in must be no older than this (Unix seconds).
    /// Never read from the app's parameters.
    #[serde(default)]
    pub signed_in_since: Option<i64>,
}

/// What the endpoint does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The client or its redirect address is not right: say so, send nobody anywhere.
    ErrorPage { message: String },
    /// Back to the client, with a code or an error (the full address).
    Redirect(String),
    /// The person must sign in (again) first, then come back to the request kept under
    /// `pending` (see [`resume`]).
    SignIn {
        pending: String,
        login_hint: Option<String>,
    },
    /// A conditional-access policy (`policy`, by name) needs a step this session has not
    /// taken: the person takes it, then comes back to the request kept under `pending`.
    StepUp {
        pending: String,
        policy: String,
        step: Step,
    },
    /// The path names no organization of this Portico.
    NoOrganization,
    /// Not allowed: a page says which app, why, and whom to ask.
    Refused {
        app_name: String,
        tenant_name: String,
        reason: String,
    },
}

/// Redirect addresses with their query appended.
pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = String::from(uri);
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    for (key, value) in pairs {
        url.push(separator);
        url.push_str(key);
        url.push('=');
        url.push_str(&url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>());
        separator = '&';
    }
    url
}

/// A PKCE challenge: 43 to 128 characters of the URL-safe alphabet.
fn challenge_is_well_formed(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
}

/// The S256 transform of a PKCE verifier.
pub(crate) fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Where the person proved who they are, as `idp`: empty for members who signed in at
/// home; the home organization's issuer or `mail` for guests, or their partner's provider.
fn identity_provider(
    person: &SignedIn,
    home_tenant: Option<&str>,
    public_url: &str,
    guest: bool,
) -> String {
    match &person.identity {
        Some(Identity::Email(_)) => "mail".into(),
        // Signed in at a partner's provider: `idp` is its issuer.
        Some(Identity::Oidc { issuer, .. }) => issuer.clone(),
        _ if guest => home_tenant
            .map(|t| issuer(public_url, t))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Keeps an authorization request made from `ip` while the person signs in, under a new
/// random id (the id is stored hashed); `None` when it is too large to keep. Refused when
/// that address has [`MAX_PENDING_PER_ADDRESS`] kept already.
pub async fn park(
    store: &Store,
    request: &AuthorizeRequest,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<String>> {
    let stored = serde_json::to_string(request).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    if stored.len() > MAX_PENDING_BYTES {
        return Ok(None);
    }
    let id = secrets::new_secret();
    // Counted and kept under the one writer: requests at once cannot all slip under.
    let mut tx = store.begin().await?;
    let (kept, first_expiry) = store::oidc::pending_from(&mut tx, ip, now).await?;
    if kept >= MAX_PENDING_PER_ADDRESS {
        return Err(Error::Throttled {
            retry_after: first_expiry.map_or(PENDING_LIFETIME, |at| (at - now).max(1)),
        });
    }
    store::oidc::insert_pending(
        &mut tx,
        &secrets::hash_secret(&id),
        &stored,
        ip,
        now,
        now + PENDING_LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// The request kept under `id` by [`park`], while it has not expired.
pub async fn resume(store: &Store, id: &str, now: i64) -> Result<Option<AuthorizeRequest>> {
    let stored =
        store::oidc::pending(&mut *store.read().await?, &secrets::hash_secret(id), now).await?;
    stored
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Error::Storage(sqlx::Error::Decode(Box::new(e))))
}

/// The person signs in first, then the request goes on from where [`park`] kept it. A
/// sign-in from now on answers `prompt=login` and `max_age`, and only such a one does: the
/// kept request asks for that instead.
async fn sign_in_first(
    store: &Store,
    request: &AuthorizeRequest,
    ip: Option<&str>,
    now: i64,
) -> Result<Outcome> {
    let again = AuthorizeRequest {
        prompt: None,
        max_age: None,
        signed_in_since: Some(now),
        ..request.clone()
    };
    Ok(match park(store, &again, ip, now).await? {
        Some(pending) => Outcome::SignIn {
            pending,
            login_hint: request.login_hint.clone(),
        },
        None => Outcome::ErrorPage {
            message: format!(
                "The app's sign-in request is too large (Portico keeps at most {} KB of one while you sign in).",
                MAX_PENDING_BYTES / 1024
            ),
        },
    })
}

/// What a policy has the person do before the sign-in goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Prove a second factor (`Asked`: any, or a passkey), or set one up.
    SecondFactor(Asked),
    /// Accept the terms of use with this id.
    AcceptTerms(String),
}

/// The request kept while the person takes `step` for `policy`.
async fn step_up(
    store: &Store,
    request: &AuthorizeRequest,
    ip: Option<&str>,
    now: i64,
    policy: &str,
    step: Step,
) -> Result<Outcome> {
    Ok(match park(store, request, ip, now).await? {
        Some(pending) => Outcome::StepUp {
            pending,
            policy: policy.to_string(),
            step,
        },
        None => Outcome::ErrorPage {
            message: format!(
                "The app's sign-in request is too large (Portico keeps at most {} KB of one while you sign in).",
                MAX_PENDING_BYTES / 1024
            ),
        },
    })
}

/// Decides an authorization request to the endpoint of `tenant` (its id, slug or primary
/// domain, as in the path: each name is an issuer of its own, see [`issuer`]). `person` is
/// who is signed in, if anyone, and `ip` where the request came from. Every decision about
/// a signed-in person is recorded as a sign-in event.
pub async fn authorize(
    store: &Store,
    public_url: &str,
    tenant: &str,
    request: &AuthorizeRequest,
    person: Option<&SignedIn>,
    ip: Option<&str>,
    now: i64,
) -> Result<Outcome> {
    let page = |message: &str| {
        Ok(Outcome::ErrorPage {
            message: message.to_string(),
        })
    };
    let Some(client_id) = request.client_id.as_deref() else {
        return page("The app did not say who it is (client_id is missing).");
    };
    let redirect_uri = request.redirect_uri.as_deref();
    // The client, its organization and the person's user there, in one read.
    let users: Vec<&str> = person
        .map(|p| p.memberships.iter().map(|m| m.user_id.as_str()).collect())
        .unwrap_or_default();
    let found =
        store::oidc::authorizing(&mut *store.read().await?, tenant, client_id, &users).await?;
    let Some(store::oidc::Authorizing {
        client,
        tenant_name,
        subject,
    }) = found
    else {
        if store::tenants::find(&mut *store.read().await?, tenant)
            .await?
            .is_none()
        {
            return Ok(Outcome::NoOrganization);
        }
        return page("This app is not registered with this organization (unknown client_id).");
    };
    let tenant_name = tenant_name.as_str();
    let Some(redirect_uri) = redirect_uri else {
        return page("The app did not say where to send you back (redirect_uri is missing).");
    };
    let registered = client
        .redirect_uris
        .iter()
        .any(|r| redirect_uri_matches(r, redirect_uri, client.client_type));
    if !registered {
        return page(
            "The address the app asked to send you back to is not registered for it, so Portico will not send you there.",
        );
    }
    let state = request.state.as_deref();
    // The name the app reached this endpoint by is the issuer it discovered.
    let iss = issuer(public_url, tenant);
    let error = |code: &str, description: &str| {
        let mut pairs = vec![("error", code), ("error_description", description)];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &iss));
        Ok(Outcome::Redirect(with_query(redirect_uri, &pairs)))
    };
    if request.request.is_some() {
        return error(
            "request_not_supported",
            "Request objects are not supported.",
        );
    }
    if request.request_uri.is_some() {
        return error("request_uri_not_supported", "request_uri is not supported.");
    }
    if request.response_type.as_deref() != Some("code") {
        return error(
            "unsupported_response_type",
            "Only the authorization code flow (response_type=code) is supported.",
        );
    }
    if request
        .response_mode
        .as_deref()
        .is_some_and(|m| m != "query")
    {
        return error("invalid_request", "Only response_mode=query is supported.");
    }
    let mut scope = request.scope.clone().unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return error("invalid_scope", "The openid scope is required.");
    }
    // Scopes of the Graph-compatible API: only those an administrator allowed the app to
    // ask for (the organization's consent); the grant names them by their bare names.
    if crate::graph::asks_api(public_url, &scope) {
        let allowed =
            store::apps::delegated_permissions(&mut *store.read().await?, &client.id).await?;
        match crate::graph::grant_delegated(public_url, &scope, &allowed) {
            Ok(granted) => scope = granted,
            Err(why) => return error("invalid_scope", &why),
        }
    }
    let challenge = request.code_challenge.as_deref();
    match (challenge, request.code_challenge_method.as_deref()) {
        (Some(_), Some("plain")) => {
            return error(
                "invalid_request",
                "PKCE method plain is not allowed; use S256.",
            );
        }
        (Some(_), Some(method)) if method != "S256" => {
            return error(
                "invalid_request",
                "Unknown code_challenge_method; use S256.",
            );
        }
        (Some(_), None) => {
            return error(
                "invalid_request",
                "code_challenge_method=S256 is required with PKCE.",
            );
        }
        (Some(c), Some(_)) if !challenge_is_well_formed(c) => {
            return error("invalid_request", "The code_challenge is malformed.");
        }
        (None, Some(_)) => {
            return error(
                "invalid_request",
                "code_challenge_method without code_challenge.",
            );
        }
        (None, None) if client.client_type == types::ClientType::Public => {
            return error("invalid_request", "Public clients must use PKCE (S256).");
        }
        _ => {}
    }
    let prompts: Vec<&str> = request
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .collect();
    let silent = prompts.contains(&"none");
    let max_age = match request.max_age.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(age)) if age >= 0 => Some(age),
        Some(_) => {
            return error(
                "invalid_request",
                "max_age must be a whole number of seconds.",
            );
        }
    };
    let Some(person) = person else {
        return if silent {
            error("login_required", "Nobody is signed in.")
        } else {
            sign_in_first(store, request, ip, now).await
        };
    };
    let too_old = max_age.is_some_and(|age| person.auth_time.saturating_add(age) < now)
        || request
            .signed_in_since
            .is_some_and(|since| person.auth_time < since);
    if too_old || prompts.contains(&"login") {
        return if silent {
            error("login_required", "The sign-in is too old for this app.")
        } else {
            sign_in_first(store, request, ip, now).await
        };
    }

    let member = person.identity.as_ref().and_then(Identity::member);
    // Decided on what was read; the one writer only records the decision (and the code),
    // so that sign-ins do not queue behind each other's reads. The directory first, then
    // the organization's conditional-access policies.
    let mut policy_log = PolicyLog::none();
    let decision = match access::decide(subject.as_ref(), &client) {
        Err(refusal) => Err(refusal),
        Ok(found) => {
            let attempt = policies::Attempt {
                tenant_id: &client.tenant_id,
                user_id: &found.id,
                user_type: found.user_type,
                partner: partners::partner_of(
                    person.identity.as_ref(),
                    &person.memberships,
                    &client.tenant_id,
                ),
                methods: &person.auth_methods,
                target: Target::App(&client.id),
                ip: ip.and_then(|ip| ip.parse().ok()),
                auth_time: person.auth_time,
                now,
            };
            let verdict = policies::check(store, &attempt).await?;
            policy_log = verdict.log();
            match verdict.refusal() {
                None => Ok(found),
                Some(refusal) => Err(refusal),
            }
        }
    };
    let subject = match decision {
        Ok(subject) => subject,
        Err(refusal) => {
            let reason = refusal.describe(tenant_name);
            let event = access::sign_in_event(
                person,
                &client,
                subject.as_ref(),
                &reason,
                false,
                silent,
                &policy_log,
            );
            store::oidc::insert_sign_in(store, &event, now).await?;
            if silent {
                return error("interaction_required", &reason);
            }
            // What a policy asks first: a fresh sign-in, a second factor (a passkey, when
            // the policy asks a phishing-resistant one: the step-up page takes the person's
            // passkey factor, or registers their first), or accepting terms of use; then
            // the request goes on from where it was kept.
            match &refusal {
                Refusal::SignInAgain { .. } => {
                    return sign_in_first(store, request, ip, now).await;
                }
                Refusal::MfaRequired { policy } => {
                    let step = Step::SecondFactor(Asked::SecondFactor);
                    return step_up(store, request, ip, now, policy, step).await;
                }
                Refusal::PasskeyRequired { policy } => {
                    let step = Step::SecondFactor(Asked::Passkey);
                    return step_up(store, request, ip, now, policy, step).await;
                }
                Refusal::TermsRequired { policy, terms } => {
                    let step = Step::AcceptTerms(terms.clone());
                    return step_up(store, request, ip, now, policy, step).await;
                }
                _ => {}
            }
            let reason = match refusal {
                Refusal::NotAssigned => format!(
                    "{reason} Administrators of {tenant_name} can do that in the admin console."
                ),
                _ => reason,
            };
            return Ok(Outcome::Refused {
                app_name: client.name,
                tenant_name: tenant_name.to_string(),
                reason,
            });
        }
    };
    let home = person
        .memberships
        .iter()
        .find(|m| Some(m.user_id.as_str()) == member)
        .map(|m| m.tenant_id.clone());
    let guest = subject.user_type == types::UserType::Guest;
    let idp = identity_provider(person, home.as_deref(), public_url, guest);
    let code = secrets::new_secret();
    let code_hash = secrets::hash_secret(&code);
    let grant = Grant {
        app_id: client.id.clone(),
        user_id: subject.id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        nonce: request.nonce.clone(),
        code_challenge: challenge.map(str::to_string),
        auth_time: person.auth_time,
        amr: person.auth_methods.to_string(),
        idp,
        expires_at: now + CODE_LIFETIME,
        used_at: None,
    };
    let event = access::sign_in_event(
        person,
        &client,
        Some(&subject),
        "Allowed",
        true,
        false,
        &policy_log,
    );
    store::oidc::insert_sign_in_with_code(store, &event, &code_hash, &grant, now).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &iss));
    Ok(Outcome::Redirect(with_query(redirect_uri, &pairs)))
}
