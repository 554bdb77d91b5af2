//! The token endpoint (authorization code, refresh token, client credentials) and userinfo.
//! A person's access and refresh tokens are random and stored as hashes, so they can be
//! revoked; the ID token is a signed JWT. A program's access token (client credentials) is
//! a JWT signed with the ES256 key, as Entra's app-only tokens are JWTs: nothing is written
//! to issue one, and it cannot be revoked before it expires (an hour).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::authorize::s256;
use super::{
    ACCESS_TOKEN_LIFETIME, Failure, ID_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, Signer, issuer,
    refuse,
};
use crate::auth_methods::AuthMethods;
use crate::store::oidc::{Client, Grant, Subject, Token, TokenKind};
use crate::store::{self, Tx};
use crate::{Store, secrets};

/// A token request as received: the form, and the client's credentials from either the
/// `Authorization: Basic` header or the form.
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A successful answer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// Where tokens are made: the store, the signing key and the issuer's address.
pub struct Issuer<'a> {
    pub store: &'a Store,
    pub signer: &'a Signer,
    pub public_url: &'a str,
}

/// A code as an exchange reads it, with its user.
type FoundCode = Option<(Grant, Option<Subject>)>;

/// The client of a token request and, when it exchanges a code (`code_hash`), that code:
/// read in one trip. `tenant` is the tenant's id, slug or domain.
async fn read_client(
    store: &Store,
    tenant: &str,
    request: &TokenRequest,
    code_hash: Option<&str>,
) -> Result<(Client, FoundCode), Failure> {
    let Some(client_id) = request.client_id.as_deref() else {
        return refuse("invalid_client", "The client did not say who it is.");
    };
    let mut db = store.read().await?;
    let (client, code) = match code_hash {
        Some(hash) => store::oidc::client_and_code(&mut db, tenant, client_id, hash).await?,
        None => (store::oidc::client(&mut db, tenant, client_id).await?, None),
    };
    drop(db);
    let Some(client) = client else {
        return refuse("invalid_client", "Unknown client.");
    };
    Ok((authenticate(client, request)?, code))
}

/// The client, authenticated: confidential clients by their secret; public clients by
/// their id alone (PKCE binds their codes).
fn authenticate(client: Client, request: &TokenRequest) -> Result<Client, Failure> {
    match (
        &client.client_type,
        &client.secret_hash,
        &request.client_secret,
    ) {
        (types::ClientType::Public, _, None) => Ok(client),
        (types::ClientType::Public, _, Some(_)) => {
            refuse("invalid_client", "A public client has no secret to send.")
        }
        (types::ClientType::Confidential, Some(hash), Some(secret))
            if secrets::same(hash, &secrets::hash_secret(secret)) =>
        {
            Ok(client)
        }
        _ => refuse("invalid_client", "The client could not be authenticated."),
    }
}

/// The subject identifier an app sees: stable for one user and one app, and different for
/// another app, so apps cannot correlate people by it.
fn pairwise_sub(app_id: &str, user_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{app_id}:{user_id}").as_bytes()))
}

/// Whether `scope` (space-separated) grants `wanted`.
fn grants(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// What a token says about its user: always who and where; the name with the `profile`
/// scope and the address with `email`.
fn claims_of(subject: &Subject, app_id: &str, iss: &str, scope: &str) -> Value {
    let guest = subject.user_type == types::UserType::Guest;
    let mut claims = json!({
        "iss": iss,
        "sub": pairwise_sub(app_id, &subject.id),
        "oid": subject.id,
        "tid": subject.tenant_id,
        "acct": if guest { 1 } else { 0 },
    });
    if grants(scope, "profile") {
        claims["name"] = json!(subject.display_name);
        claims["preferred_username"] = json!(subject.email);
    }
    if grants(scope, "email") {
        claims["email"] = json!(subject.email);
    }
    claims
}

/// Everything a user-bound token needs to mint its successors.
struct Session<'a> {
    /// The issuer: the name the app reached the token endpoint by.
    iss: &'a str,
    client: &'a Client,
    subject: Subject,
    family: &'a str,
    scope: &'a str,
    nonce: Option<&'a str>,
    auth_time: i64,
    amr: &'a str,
    idp: &'a str,
}

/// New tokens for a session, made and signed before the write transaction starts (signing
/// is the slowest step, and the one writer must not wait for it); [`Minted::keep`] stores
/// them in it.
struct Minted {
    answer: TokenResponse,
    /// What to store of each random token: kind, its hash, when it expires.
    kept: Vec<(TokenKind, String, i64)>,
}

fn mint(issuer_of: &Issuer<'_>, session: &Session<'_>, now: i64) -> Result<Minted, Failure> {
    let access = match delegated_access_token(issuer_of, session, now)? {
        Some(token) => token,
        None => secrets::new_secret(),
    };
    // A refresh token only for apps that asked to act while the person is away.
    let refresh = grants(session.scope, "offline_access").then(secrets::new_secret);
    let mut kept = vec![(
        TokenKind::Access,
        secrets::hash_secret(&access),
        now + ACCESS_TOKEN_LIFETIME,
    )];
    if let Some(refresh) = &refresh {
        kept.push((
            TokenKind::Refresh,
            secrets::hash_secret(refresh),
            now + REFRESH_TOKEN_LIFETIME,
        ));
    }
    let mut claims = claims_of(
        &session.subject,
        &session.client.id,
        session.iss,
        session.scope,
    );
    claims["aud"] = json!(session.client.id);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + ID_TOKEN_LIFETIME);
    claims["auth_time"] = json!(session.auth_time);
    let methods = AuthMethods::parse(session.amr);
    claims["amr"] = json!(methods.amr());
    claims["acr"] = json!(methods.acr());
    if let Some(nonce) = session.nonce {
        claims["nonce"] = json!(nonce);
    }
    if !session.idp.is_empty() {
        claims["idp"] = json!(session.idp);
    }
    let id_token = issuer_of
        .signer
        .sign(session.client.id_token_alg, &claims)?;
    Ok(Minted {
        answer: TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_LIFETIME,
            refresh_token: refresh,
            id_token: Some(id_token),
            scope: session.scope.into(),
        },
        kept,
    })
}

/// When the session was granted scopes of the Graph-compatible API, its access token is
/// one the API takes: a JWT signed as an app's own tokens are, for the same audience (the
/// API's identifier), naming the person (`oid`, and `sub` as the app sees them), the
/// tenant and the app (`azp`, `appid`), with the delegated scopes in `scp`. It is kept
/// (hashed) as any access token is, so `userinfo` takes it too. `None` otherwise: an
/// opaque access token for `userinfo` alone.
fn delegated_access_token(
    issuer_of: &Issuer<'_>,
    session: &Session<'_>,
    now: i64,
) -> Result<Option<String>, Failure> {
    let scopes = crate::graph::delegated_in(session.scope);
    if scopes.is_empty() {
        return Ok(None);
    }
    let scp: Vec<&str> = scopes.iter().map(|p| p.as_str()).collect();
    let claims = json!({
        "iss": session.iss,
        "aud": crate::graph::api_identifier(issuer_of.public_url),
        "sub": pairwise_sub(&session.client.id, &session.subject.id),
        "oid": session.subject.id,
        "tid": session.subject.tenant_id,
        "azp": session.client.id,
        "appid": session.client.id,
        "idtyp": "user",
        "scp": scp.join(" "),
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_LIFETIME,
        "jti": secrets::new_secret(),
    });
    Ok(Some(
        issuer_of.signer.sign(types::SigningAlg::ES256, &claims)?,
    ))
}

impl Minted {
    /// Stores the tokens in `tx` and hands out the answer.
    async fn keep(
        self,
        tx: &mut Tx,
        session: &Session<'_>,
        now: i64,
    ) -> Result<TokenResponse, Failure> {
        for (kind, hash, expires_at) in &self.kept {
            let token = Token {
                kind: *kind,
                expires_at: *expires_at,
                ..session.stored()
            };
            store::oidc::insert_token(tx, hash, &token, now).await?;
        }
        Ok(self.answer)
    }
}

impl Session<'_> {
    /// What is stored of each of the session's tokens; each sets its own kind and expiry.
    fn stored(&self) -> Token {
        Token {
            kind: TokenKind::Access,
            app_id: self.client.id.clone(),
            user_id: Some(self.subject.id.clone()),
            family: self.family.into(),
            scope: self.scope.into(),
            nonce: self.nonce.map(str::to_string),
            auth_time: Some(self.auth_time),
            amr: Some(self.amr.into()),
            idp: Some(self.idp.into()),
            expires_at: 0,
            used_at: None,
            revoked_at: None,
        }
    }
}

/// Whether a user may still hold tokens: enabled, and (for guests) still accepted, with
/// the home member or account they redeemed with still there and enabled.
pub(crate) fn may_hold_tokens(s: &Subject) -> bool {
    s.enabled
        && s.holder_enabled
        && (s.user_type == types::UserType::Member
            || s.external_state == Some(types::ExternalState::Accepted))
}

/// The user a grant is for, still allowed to use the app: able to hold tokens, and still
/// assigned when the app requires it (an assignment removed after sign-in ends the
/// grant).
async fn live_subject(store: &Store, client: &Client, user_id: &str) -> Result<Subject, Failure> {
    live(
        store::oidc::subject(&mut *store.read().await?, user_id, &client.id).await?,
        client,
    )
}

/// [`live_subject`] for a user already read.
fn live(subject: Option<Subject>, client: &Client) -> Result<Subject, Failure> {
    match subject {
        Some(s) if may_hold_tokens(&s) => {
            if client.assignment_required && !s.assigned {
                return refuse(
                    "invalid_grant",
                    "The user is no longer assigned to this app.",
                );
            }
            Ok(s)
        }
        _ => refuse("invalid_grant", "The user can no longer sign in."),
    }
}

/// Answers a token request to the endpoint of `tenant` (its id, slug or domain; tokens
/// name it in their issuer, as the app discovered it).
pub async fn exchange(
    issuer_of: &Issuer<'_>,
    tenant: &str,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, Failure> {
    let code_hash = match request.grant_type.as_deref() {
        Some("authorization_code") => request.code.as_deref().map(secrets::hash_secret),
        _ => None,
    };
    let (client, code) =
        read_client(issuer_of.store, tenant, request, code_hash.as_deref()).await?;
    let iss = issuer(issuer_of.public_url, tenant);
    match request.grant_type.as_deref() {
        Some("authorization_code") => match code_hash {
            Some(code_hash) => {
                redeem_code(issuer_of, &iss, &client, request, &code_hash, code, now).await
            }
            None => refuse("invalid_request", "code is missing."),
        },
        Some("refresh_token") => refresh(issuer_of, &iss, &client, request, now).await,
        Some("client_credentials") => {
            client_credentials(issuer_of, &iss, &client, request, now).await
        }
        Some(_) => refuse(
            "unsupported_grant_type",
            "Supported: authorization_code, refresh_token, client_credentials.",
        ),
        None => refuse("invalid_request", "grant_type is missing."),
    }
}

/// Exchanges the code `code_hash`, read as `found` with the client.
async fn redeem_code(
    issuer_of: &Issuer<'_>,
    iss: &str,
    client: &Client,
    request: &TokenRequest,
    code_hash: &str,
    found: FoundCode,
    now: i64,
) -> Result<TokenResponse, Failure> {
    // Everything is read on the read connections first; the one writer only uses the code
    // up (atomically: one exchange wins) and keeps the tokens.
    let store = issuer_of.store;
    let Some((grant, subject)) = found else {
        return refuse("invalid_grant", "Unknown code.");
    };
    if grant.app_id != client.id {
        return refuse("invalid_grant", "The code was issued to another client.");
    }
    // Whatever is wrong with the exchange uses the code up all the same.
    let prepared = check_exchange(&grant, request, now)
        .and(live(subject, client))
        .and_then(|subject| {
            let session = Session {
                iss,
                client,
                subject,
                family: code_hash,
                scope: &grant.scope,
                nonce: grant.nonce.as_deref(),
                auth_time: grant.auth_time,
                amr: &grant.amr,
                idp: &grant.idp,
            };
            let minted = mint(issuer_of, &session, now)?;
            Ok((session, minted))
        });
    let prepared = ours_failed(prepared)?;
    let used_already = || {
        refuse(
            "invalid_grant",
            "The code was used already; the tokens issued from it are revoked.",
        )
    };
    let failure = match prepared {
        Ok((session, minted)) => {
            // The usual case: the code is used up and the tokens kept in one trip.
            if store::oidc::use_code_for_tokens(
                store,
                code_hash,
                &session.stored(),
                &minted.kept,
                now,
            )
            .await?
            {
                return Ok(minted.answer);
            }
            None
        }
        Err(failure) => Some(failure),
    };
    let mut tx = store.begin().await?;
    if !store::oidc::use_code(&mut tx, code_hash, now).await? {
        // A second use: whoever holds the code is not to be trusted, nor what it gave.
        store::oidc::revoke_family(&mut tx, code_hash, now).await?;
        tx.commit().await?;
        return used_already();
    }
    tx.commit().await?;
    match failure {
        Some(failure) => Err(failure),
        // Not ours a moment ago, but unused now: cannot happen, codes are used once.
        None => used_already(),
    }
}

/// Portico's own failures (the database, signing) as they are, with nothing written: the
/// client may try again. Only a refusal goes on to use the code or token up.
fn ours_failed<T>(prepared: Result<T, Failure>) -> Result<Result<T, Failure>, Failure> {
    match prepared {
        Err(Failure::Internal(error)) => Err(Failure::Internal(error)),
        other => Ok(other),
    }
}

/// What is wrong with exchanging `grant` as `request` asks, if anything.
fn check_exchange(grant: &Grant, request: &TokenRequest, now: i64) -> Result<(), Failure> {
    if grant.expires_at <= now {
        return refuse("invalid_grant", "The code has expired.");
    }
    if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return refuse(
            "invalid_grant",
            "redirect_uri differs from the authorization request.",
        );
    }
    match (&grant.code_challenge, request.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if secrets::same(challenge, &s256(verifier)) => Ok(()),
        (Some(_), Some(_)) => refuse(
            "invalid_grant",
            "The code_verifier does not match the challenge.",
        ),
        (Some(_), None) => refuse("invalid_grant", "code_verifier is missing."),
        (None, Some(_)) => refuse(
            "invalid_grant",
            "A code_verifier was sent but the authorization request had no challenge.",
        ),
        (None, None) => Ok(()),
    }
}

async fn refresh(
    issuer_of: &Issuer<'_>,
    iss: &str,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, Failure> {
    let Some(presented) = request.refresh_token.as_deref() else {
        return refuse("invalid_request", "refresh_token is missing.");
    };
    let hash = secrets::hash_secret(presented);
    let store = issuer_of.store;
    let token = match store::oidc::token(&mut *store.read().await?, &hash).await? {
        Some(t) if t.kind == TokenKind::Refresh && t.app_id == client.id => t,
        _ => return refuse("invalid_grant", "Unknown refresh token."),
    };
    if token.revoked_at.is_some() || token.expires_at <= now {
        return refuse("invalid_grant", "The refresh token is no longer valid.");
    }
    let user_id = token.user_id.clone().unwrap_or_default();
    let auth_time = token.auth_time.unwrap_or(now);
    let amr = token.amr.as_deref().unwrap_or("pwd");
    let idp = token.idp.as_deref().unwrap_or_default();
    let partner = crate::partners::partner_of_idp(issuer_of.public_url, idp);
    let methods = AuthMethods::parse(amr);
    let subject = match live_subject(store, client, &user_id).await {
        Ok(subject) => {
            let attempt = crate::conditional_access::Attempt {
                tenant_id: &client.tenant_id,
                user_id: &subject.id,
                user_type: subject.user_type,
                partner,
                methods: &methods,
                target: crate::conditional_access::Target::App(&client.id),
                // The app's server asks: the person's address is not known.
                ip: None,
                auth_time,
                now,
            };
            policies_allow_refresh(store, &attempt)
                .await
                .map(|()| subject)
        }
        Err(failure) => Err(failure),
    };
    let prepared = subject.and_then(|subject| {
        let session = Session {
            iss,
            client,
            subject,
            family: &token.family,
            scope: &token.scope,
            nonce: None,
            auth_time,
            amr,
            idp: token.idp.as_deref().unwrap_or_default(),
        };
        let minted = mint(issuer_of, &session, now)?;
        Ok((session, minted))
    });
    let prepared = ours_failed(prepared)?;
    let mut tx = store.begin().await?;
    if !store::oidc::use_token(&mut tx, &hash, now).await? {
        // Rotated already: someone replays an old token. Nothing of the family stays valid.
        store::oidc::revoke_family(&mut tx, &token.family, now).await?;
        tx.commit().await?;
        return refuse(
            "invalid_grant",
            "The refresh token was used already; every token of its family is revoked.",
        );
    }
    let (session, minted) = match prepared {
        Ok(prepared) => prepared,
        Err(failure) => {
            // No longer allowed: nothing of this sign-in stays valid.
            store::oidc::revoke_family(&mut tx, &token.family, now).await?;
            tx.commit().await?;
            return Err(failure);
        }
    };
    let answer = minted.keep(&mut tx, &session, now).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Cross-tenant access and the organization's conditional-access policies at a refresh,
/// for the sign-in the refresh token came from. A partner now kept out, a block, a sign-in
/// older than a policy's frequency, or a factor a policy now asks for that the sign-in did
/// not show ends the token's family: the app must send the person to sign in, where they
/// can be asked for it.
async fn policies_allow_refresh(
    store: &Store,
    attempt: &crate::conditional_access::Attempt<'_>,
) -> Result<(), Failure> {
    match crate::conditional_access::check(store, attempt)
        .await?
        .refusal()
    {
        None => Ok(()),
        Some(refusal) => refuse("invalid_grant", refusal.describe("This organization")),
    }
}

/// A program's own access token for Portico's Graph-compatible API: asked for with the
/// API's `.default` scope (or Microsoft Graph's, so that programs written for Graph work
/// unchanged), it lists in `roles` the application permissions granted to the app now.
/// The API checks them again at each request.
async fn client_credentials(
    issuer_of: &Issuer<'_>,
    iss: &str,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, Failure> {
    if client.client_type != types::ClientType::Confidential {
        return refuse(
            "unauthorized_client",
            "Only confidential clients may use client credentials.",
        );
    }
    let scope = request.scope.clone().unwrap_or_default();
    if !crate::graph::is_default_scope(issuer_of.public_url, &scope) {
        return refuse(
            "invalid_scope",
            format!(
                "Ask for the scope {}/.default (or https://graph.microsoft.com/.default): an app's own token is for Portico's API.",
                crate::graph::api_identifier(issuer_of.public_url)
            ),
        );
    }
    let roles: Vec<&str> =
        store::apps::permissions(&mut *issuer_of.store.read().await?, &client.id)
            .await?
            .into_iter()
            .map(types::AppPermission::as_str)
            .collect();
    let claims = json!({
        "iss": iss,
        "aud": crate::graph::api_identifier(issuer_of.public_url),
        "sub": client.id,
        "oid": client.id,
        "azp": client.id,
        "appid": client.id,
        "tid": client.tenant_id,
        "idtyp": "app",
        "roles": roles,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_LIFETIME,
        "jti": secrets::new_secret(),
    });
    Ok(TokenResponse {
        access_token: issuer_of.signer.sign(types::SigningAlg::ES256, &claims)?,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME,
        refresh_token: None,
        id_token: None,
        scope,
    })
}

/// The claims about the user behind an access token issued by `tenant_id`, reached under
/// the tenant's name `tenant` (its id, slug or domain: the issuer the claims name).
pub async fn userinfo(
    store: &Store,
    public_url: &str,
    tenant_id: &str,
    tenant: &str,
    access_token: &str,
    now: i64,
) -> Result<Value, Failure> {
    let invalid = || refuse("invalid_token", "The access token is not valid.");
    let Some(token) = store::oidc::token(
        &mut *store.read().await?,
        &secrets::hash_secret(access_token),
    )
    .await?
    else {
        return invalid();
    };
    if token.kind != TokenKind::Access || token.revoked_at.is_some() || token.expires_at <= now {
        return invalid();
    }
    let Some(user_id) = token.user_id.as_deref() else {
        return invalid();
    };
    let subject =
        match store::oidc::subject(&mut *store.read().await?, user_id, &token.app_id).await? {
            Some(s) if s.tenant_id == tenant_id && may_hold_tokens(&s) => s,
            _ => return invalid(),
        };
    Ok(claims_of(
        &subject,
        &token.app_id,
        &issuer(public_url, tenant),
        &token.scope,
    ))
}
