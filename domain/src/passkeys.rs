//! Passkeys (WebAuthn): a Portico account's, made at redemption instead of a password and
//! used to redeem later invitations and to sign in; and anyone's passkeys registered as a
//! second factor ([`crate::passkey_factors`]), which sign their holder in too. Each
//! ceremony has two requests; its challenge state waits in the database between them,
//! found by the hash of a random token the browser holds, works once, expires, and is
//! bound to what it was begun for ([`Purpose`]): a redemption's cookie, the account or
//! the identity and session of the person who began it, or the address signed in as.
//!
//! WebAuthn binds passkeys to a domain name: Portico offers them only when its public URL
//! names a host (not an IP address), and browsers only over https or on `localhost`.

use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::audit::{self, Change};
use crate::auth_methods::AuthMethod;
use crate::sessions::{self, Client, OpenedSession, SessionPolicy, SignedIn};
use crate::store::{self, passkeys::Ceremony};
use crate::{Error, Identity, Result, Store, accounts, passkey_factors, redemption, secrets};
use types::ProofMethod;

/// How long a ceremony may take, in seconds.
pub const CEREMONY_LIFETIME: i64 = 300;

/// The relying party Portico is for passkeys, when its public URL allows one.
pub struct Passkeys {
    webauthn: Result<Webauthn, String>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("available", &self.webauthn.is_ok())
            .finish()
    }
}

impl Passkeys {
    pub fn new(public_url: &str) -> Passkeys {
        let webauthn = Url::parse(public_url)
            .ok()
            .and_then(|url| {
                let host = url.domain()?.to_string();
                WebauthnBuilder::new(&host, &url)
                    .ok()?
                    .rp_name("Portico")
                    .build()
                    .ok()
            })
            .ok_or_else(|| {
                format!(
                    "Passkeys need Portico to be reached by a domain name; its address is {public_url}. Use a password instead."
                )
            });
        Passkeys { webauthn }
    }

    pub(crate) fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn
            .as_ref()
            .map_err(|why| Error::Conflict(why.clone()))
    }
}

/// What a ceremony is for, as it is stored with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The first passkey of a new Portico account, made at a redemption.
    NewAccount,
    /// Another passkey for the signed-in person's Portico account.
    AddToAccount,
    /// Proving, with an account's passkey, who an invited person is.
    Redeem,
    /// Signing in, with any passkey of the person behind an address.
    SignIn,
    /// A passkey as a second factor, at the security page (its rules: see
    /// [`crate::second_factors::changes_blocked`]).
    AddFactor,
    /// A first second factor, a passkey, at the step-up page.
    AddFirstFactor,
    /// A passkey factor verified in the session, at the step-up page.
    VerifyFactor,
}

impl Purpose {
    const ALL: [Purpose; 7] = [
        Purpose::NewAccount,
        Purpose::AddToAccount,
        Purpose::Redeem,
        Purpose::SignIn,
        Purpose::AddFactor,
        Purpose::AddFirstFactor,
        Purpose::VerifyFactor,
    ];

    /// The name it is stored by.
    pub fn stored(self) -> &'static str {
        match self {
            Purpose::NewAccount => "new_account",
            Purpose::AddToAccount => "add_to_account",
            Purpose::Redeem => "redeem",
            Purpose::SignIn => "sign_in",
            Purpose::AddFactor => "add_factor",
            Purpose::AddFirstFactor => "add_first_factor",
            Purpose::VerifyFactor => "verify_factor",
        }
    }

    fn parse(stored: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.stored() == stored)
    }

    /// A ceremony of `purpose` with `state`, expiring [`CEREMONY_LIFETIME`] after `now`,
    /// bound to nothing yet.
    pub(crate) fn ceremony(self, state: String, now: i64) -> Ceremony {
        Ceremony {
            purpose: self.stored().into(),
            account_id: None,
            identity: None,
            session_hash: None,
            email: None,
            name: None,
            redemption_hash: None,
            next: None,
            state,
            expires_at: now + CEREMONY_LIFETIME,
        }
    }
}

/// A ceremony begun: the browser passes `options` (JSON) to WebAuthn and comes back with
/// `ceremony` and the credential.
#[derive(Debug)]
pub struct Begun {
    pub ceremony: String,
    pub options: String,
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Conflict(format!("cannot encode: {e}")))
}

pub(crate) async fn keep(store: &Store, ceremony: Ceremony, options: String) -> Result<Begun> {
    let token = secrets::new_secret();
    let mut tx = store.begin().await?;
    store::passkeys::insert_ceremony(&mut tx, &secrets::hash_secret(&token), &ceremony).await?;
    tx.commit().await?;
    Ok(Begun {
        ceremony: token,
        options,
    })
}

pub(crate) fn refused(error: impl std::fmt::Display) -> Error {
    Error::Conflict(format!(
        "The passkey was not accepted ({error}). Try again."
    ))
}

/// Begins making a passkey for the account of an invited person whose address a code
/// confirmed (the new-account fallback).
pub async fn begin_registration(
    store: &Store,
    passkeys: &Passkeys,
    redemption_token: &str,
    now: i64,
) -> Result<Begun> {
    let webauthn = passkeys.webauthn()?;
    let (token_hash, ticket) = redemption::redemption_by(
        store,
        redemption_token,
        ProofMethod::NewAccount,
        redemption::CONFIRM_FIRST,
        now,
    )
    .await?;
    let account_id = crate::new_id();
    let user = Uuid::parse_str(&account_id).map_err(refused)?;
    let (options, state) = webauthn
        .start_passkey_registration(user, &ticket.email, &ticket.display_name, None)
        .map_err(refused)?;
    let ceremony = Ceremony {
        account_id: Some(account_id),
        redemption_hash: Some(token_hash),
        ..Purpose::NewAccount.ceremony(json(&state)?, now)
    };
    keep(store, ceremony, json(&options)?).await
}

/// Begins adding a passkey to the signed-in person's account.
///
/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
pub async fn begin_adding(
    store: &Store,
    passkeys: &Passkeys,
    signed_in: &SignedIn,
    now: i64,
) -> Result<Begun> {
    let webauthn = passkeys.webauthn()?;
    let account_id = accounts::account_of(signed_in)?;
    accounts::require_recent(signed_in, now)?;
    let account = store::accounts::by_id(&mut *store.read().await?, &account_id)
        .await?
        .ok_or(Error::NotFound("account"))?;
    let existing: Vec<_> = stored(&mut *store.read().await?, &account_id)
        .await?
        .into_iter()
        .map(|(_, p)| p.cred_id().clone())
        .collect();
    let user = Uuid::parse_str(&account_id).map_err(refused)?;
    let (options, state) = webauthn
        .start_passkey_registration(
            user,
            &account.email,
            &signed_in.me.display_name,
            Some(existing),
        )
        .map_err(refused)?;
    let ceremony = Ceremony {
        account_id: Some(account_id),
        next: Some("/account".into()),
        ..Purpose::AddToAccount.ceremony(json(&state)?, now)
    };
    keep(store, ceremony, json(&options)?).await
}

/// An account's passkeys as (credential id, passkey), as webauthn-rs reads them.
async fn stored(db: &mut sqlx::AnyConnection, account_id: &str) -> Result<Vec<(String, Passkey)>> {
    Ok(store::accounts::passkeys(db, account_id)
        .await?
        .into_iter()
        .filter_map(|(id, text)| Some((id, serde_json::from_str(&text).ok()?)))
        .collect())
}

fn no_passkey() -> Error {
    Error::Conflict(
        "No passkey is registered for this address: use the password, or a code mailed to you."
            .into(),
    )
}

/// The passkeys of the account with this address (for a redemption), or why there are
/// none.
async fn account_passkeys_of(
    store: &Store,
    email: &str,
) -> Result<(String, Vec<(String, Passkey)>)> {
    let account = accounts::by_email(store, email)
        .await?
        .ok_or_else(no_passkey)?;
    let keys = stored(&mut *store.read().await?, &account.id).await?;
    if keys.is_empty() {
        return Err(no_passkey());
    }
    Ok((account.id, keys))
}

/// Where a passkey that signs someone in is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kept {
    /// With a Portico account.
    Account,
    /// As a second factor ([`crate::passkey_factors`]).
    Factor,
}

/// A passkey that may sign in as an address: whose, and where it is kept.
struct Candidate {
    identity: Identity,
    /// The member it signs in, for a member's address; else the person's first
    /// organization.
    member: Option<String>,
    kept: Kept,
    id: String,
    passkey: Passkey,
}

/// The passkeys that sign in as `email`: those of the person who signs in with that
/// address, as password sign-in finds them — an enabled member (their passkey factors),
/// else the Portico account with that address (its passkeys and passkey factors), else a
/// guest who signs in with codes mailed to it (their passkey factors). A partner's people
/// sign in at their provider, whose decision this must not bypass: their passkey factors
/// are second factors only.
async fn sign_in_candidates(db: &mut sqlx::AnyConnection, email: &str) -> Result<Vec<Candidate>> {
    let (identity, member) = match store::users::member_credentials(db, email).await? {
        Some(member) if member.enabled => (Identity::Member(member.id.clone()), Some(member.id)),
        Some(_) => return Ok(Vec::new()),
        None => (accounts::identity_of_address(db, email).await?, None),
    };
    let mut candidates = Vec::new();
    if let Some(account_id) = identity.account() {
        for (id, passkey) in stored(db, account_id).await? {
            candidates.push(Candidate {
                identity: identity.clone(),
                member: None,
                kept: Kept::Account,
                id,
                passkey,
            });
        }
    }
    for (id, passkey) in passkey_factors::stored(db, &identity).await? {
        candidates.push(Candidate {
            identity: identity.clone(),
            member: member.clone(),
            kept: Kept::Factor,
            id,
            passkey,
        });
    }
    Ok(candidates)
}

/// Passkey sign-ins one address may begin in a throttle window (each keeps a ceremony).
pub const MAX_BEGINS_PER_ADDRESS: i64 = 20;
/// Passkey sign-ins one client address may begin in a throttle window, whatever the address.
pub const MAX_BEGINS_PER_CLIENT: i64 = 100;

/// Begins signing in with a passkey of the person behind this address (see
/// [`sign_in_candidates`]); `next` is where to go afterwards. Each beginning keeps a
/// ceremony until it expires, so beginnings are throttled per address and per client
/// address, like failed sign-ins, whether the address has a passkey or not.
pub async fn begin_sign_in(
    store: &Store,
    passkeys: &Passkeys,
    policy: &SessionPolicy,
    email: &str,
    client: &Client,
    next: Option<&str>,
    now: i64,
) -> Result<Begun> {
    let email = crate::validate::email("email", email)?;
    let address_key = format!("passkey:{email}");
    let client_key = sessions::client_key("passkey-from", client);
    let mut limits = vec![(&address_key, MAX_BEGINS_PER_ADDRESS)];
    limits.extend(client_key.as_ref().map(|key| (key, MAX_BEGINS_PER_CLIENT)));
    sessions::reserve_attempt(store, policy, &limits, now).await?;
    let webauthn = passkeys.webauthn()?;
    let list: Vec<Passkey> = sign_in_candidates(&mut *store.read().await?, &email)
        .await?
        .into_iter()
        .map(|c| c.passkey)
        .collect();
    if list.is_empty() {
        return Err(no_passkey());
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&list)
        .map_err(refused)?;
    let ceremony = Ceremony {
        email: Some(email),
        next: next.map(str::to_string),
        ..Purpose::SignIn.ceremony(json(&state)?, now)
    };
    keep(store, ceremony, json(&options)?).await
}

/// Begins proving, with a passkey of their account, who an invited person is.
pub async fn begin_redemption(
    store: &Store,
    passkeys: &Passkeys,
    redemption_token: &str,
    now: i64,
) -> Result<Begun> {
    let (token_hash, ticket) = redemption::redemption_by(
        store,
        redemption_token,
        ProofMethod::Account,
        redemption::NOT_BY_ACCOUNT,
        now,
    )
    .await?;
    let webauthn = passkeys.webauthn()?;
    let (account_id, keys) = account_passkeys_of(store, &ticket.email).await?;
    let list: Vec<Passkey> = keys.into_iter().map(|(_, k)| k).collect();
    let (options, state) = webauthn
        .start_passkey_authentication(&list)
        .map_err(refused)?;
    let ceremony = Ceremony {
        account_id: Some(account_id),
        redemption_hash: Some(token_hash),
        ..Purpose::Redeem.ceremony(json(&state)?, now)
    };
    keep(store, ceremony, json(&options)?).await
}

/// Where a finished ceremony leads.
#[derive(Debug)]
pub enum Finished {
    /// The redemption is proven: the consent page.
    Redemption,
    /// A passkey was added to the signed-in person's account.
    Added,
    /// Signed in: a session, and where to go.
    SignedIn {
        session: OpenedSession,
        next: Option<String>,
    },
    /// A passkey was registered as the person's second factor (and verified in this
    /// session): the recovery codes that came with it (their first factor's), shown once,
    /// and where to go.
    FactorAdded {
        recovery_codes: Option<Vec<String>>,
        next: Option<String>,
    },
    /// The person's passkey factor was verified in this session: where to go.
    FactorVerified { next: Option<String> },
}

/// What the browser sends to finish.
#[derive(Debug)]
pub struct Finish<'a> {
    pub ceremony: &'a str,
    /// The WebAuthn credential, as JSON.
    pub credential: &'a str,
    /// The browser's redemption in progress, if any.
    pub redemption_cookie: Option<&'a str>,
    /// The browser's session cookie: a second factor's ceremony is finished only by the
    /// session that began it; a sign-in ends it.
    pub session: Option<&'a str>,
    /// Who is signed in, when a passkey is added to their account or their second factors.
    pub signed_in: Option<&'a SignedIn>,
}

impl<'a> Finish<'a> {
    /// The person and session a second factor's ceremony was begun by, when they are the
    /// ones finishing it.
    fn bound(&self, ceremony: &Ceremony) -> Option<(&'a SignedIn, &'a str)> {
        let signed_in = self.signed_in?;
        let session = self.session?;
        let same_person = signed_in.identity.is_some() && signed_in.identity == ceremony.identity;
        let same_session = ceremony
            .session_hash
            .as_deref()
            .is_some_and(|hash| secrets::same(hash, &secrets::hash_secret(session)));
        (same_person && same_session).then_some((signed_in, session))
    }
}

/// Finishes a ceremony: it must be unused, unexpired and finished by whom it is bound to,
/// and the credential must answer its challenge.
pub async fn finish(
    store: &Store,
    passkeys: &Passkeys,
    policy: &SessionPolicy,
    finish: &Finish<'_>,
    client: &Client,
    now: i64,
) -> Result<Finished> {
    let webauthn = passkeys.webauthn()?;
    let lost = || {
        Error::Conflict(
            "This passkey request cannot be used: it was used already or took too long. Try again."
                .into(),
        )
    };
    let mut tx = store.begin().await?;
    let ceremony =
        store::passkeys::take_ceremony(&mut tx, &secrets::hash_secret(finish.ceremony), now)
            .await?
            .filter(|c| c.expires_at > now)
            .ok_or_else(lost)?;
    tx.commit().await?;
    let purpose = Purpose::parse(&ceremony.purpose).ok_or_else(lost)?;
    if let Some(hash) = &ceremony.redemption_hash
        && finish.redemption_cookie.map(secrets::hash_secret).as_ref() != Some(hash)
    {
        return Err(lost());
    }
    let account_id = || ceremony.account_id.clone().ok_or_else(lost);
    let malformed =
        |e: serde_json::Error| Error::Conflict(format!("The browser's answer is not valid ({e})."));
    let registered = || -> Result<Passkey> {
        let state: PasskeyRegistration =
            serde_json::from_str(&ceremony.state).map_err(malformed)?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(finish.credential).map_err(malformed)?;
        webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(refused)
    };
    let authenticated = || -> Result<AuthenticationResult> {
        let state: PasskeyAuthentication =
            serde_json::from_str(&ceremony.state).map_err(malformed)?;
        let credential: PublicKeyCredential =
            serde_json::from_str(finish.credential).map_err(malformed)?;
        webauthn
            .finish_passkey_authentication(&credential, &state)
            .map_err(refused)
    };
    match purpose {
        Purpose::NewAccount => {
            let hash = ceremony.redemption_hash.as_deref().ok_or_else(lost)?;
            register(store, hash, &account_id()?, &registered()?, now).await?;
            Ok(Finished::Redemption)
        }
        Purpose::AddToAccount => {
            let account_id = account_id()?;
            let signed_in = finish
                .signed_in
                .filter(|s| accounts::account_of(s).ok().as_deref() == Some(account_id.as_str()))
                .ok_or_else(lost)?;
            add(store, signed_in, &account_id, &registered()?, now).await?;
            Ok(Finished::Added)
        }
        Purpose::AddFactor | Purpose::AddFirstFactor => {
            let (signed_in, session) = finish.bound(&ceremony).ok_or_else(lost)?;
            let passkey = registered()?;
            let recovery_codes = passkey_factors::add(
                store,
                signed_in,
                session,
                factor_purpose(purpose),
                ceremony.name.as_deref().unwrap_or_default(),
                &credential_id(&passkey),
                &json(&passkey)?,
                now,
            )
            .await?;
            Ok(Finished::FactorAdded {
                recovery_codes,
                next: ceremony.next,
            })
        }
        Purpose::VerifyFactor => {
            let (signed_in, session) = finish.bound(&ceremony).ok_or_else(lost)?;
            let result = authenticated()?;
            let id = credential_id_of(result.cred_id());
            let mut updated = None;
            for (stored_id, mut passkey) in
                passkey_factors::stored(&mut *store.read().await?, signed_in_identity(signed_in)?)
                    .await?
            {
                if stored_id == id && passkey.update_credential(&result) == Some(true) {
                    updated = Some(json(&passkey)?);
                }
            }
            passkey_factors::verified(store, signed_in, session, &id, updated.as_deref(), now)
                .await?;
            Ok(Finished::FactorVerified {
                next: ceremony.next,
            })
        }
        Purpose::Redeem => {
            let result = authenticated()?;
            let account_id = account_id()?;
            let identity = accounts::identity(&account_id);
            let hash = ceremony.redemption_hash.as_deref().ok_or_else(lost)?;
            let mut tx = store.begin().await?;
            used_account_passkey(&mut tx, &account_id, &result, now).await?;
            store::invitations::set_proven(&mut tx, hash, &identity, &AuthMethod::Passkey.into())
                .await?;
            tx.commit().await?;
            Ok(Finished::Redemption)
        }
        Purpose::SignIn => {
            let result = authenticated()?;
            let email = ceremony.email.as_deref().ok_or_else(lost)?;
            let session =
                sign_in_with(store, policy, email, &result, finish.session, client, now).await?;
            Ok(Finished::SignedIn {
                session,
                next: ceremony.next,
            })
        }
    }
}

/// Where a second factor's passkey is added, for the rules of [`crate::second_factors`].
fn factor_purpose(purpose: Purpose) -> crate::second_factors::Purpose {
    match purpose {
        Purpose::AddFirstFactor => crate::second_factors::Purpose::StepUp,
        _ => crate::second_factors::Purpose::Settings,
    }
}

fn signed_in_identity(signed_in: &SignedIn) -> Result<&Identity> {
    signed_in.identity.as_ref().ok_or(Error::AccessDenied)
}

/// Keeps an account passkey's signature counter after a use (so a cloned authenticator
/// shows), and when it was used.
async fn used_account_passkey(
    tx: &mut store::Tx,
    account_id: &str,
    result: &AuthenticationResult,
    now: i64,
) -> Result<()> {
    for (id, mut passkey) in stored(tx, account_id).await? {
        if passkey.cred_id() == result.cred_id() {
            let changed = passkey.update_credential(result) == Some(true);
            let text = if changed { Some(json(&passkey)?) } else { None };
            store::accounts::used_passkey(tx, &id, text.as_deref(), now).await?;
        }
    }
    Ok(())
}

/// Opens a session for the person behind `email` whose passkey gave `result`: the passkey
/// must still be one that signs in as that address ([`sign_in_candidates`], read again:
/// a member disabled meanwhile is not let in). `previous` (the browser's session) ends.
async fn sign_in_with(
    store: &Store,
    policy: &SessionPolicy,
    email: &str,
    result: &AuthenticationResult,
    previous: Option<&str>,
    client: &Client,
    now: i64,
) -> Result<OpenedSession> {
    let mut tx = store.begin().await?;
    let candidate = sign_in_candidates(&mut tx, email)
        .await?
        .into_iter()
        .find(|c| c.passkey.cred_id() == result.cred_id())
        .ok_or_else(no_passkey)?;
    let mut passkey = candidate.passkey.clone();
    let changed = passkey.update_credential(result) == Some(true);
    let text = if changed { Some(json(&passkey)?) } else { None };
    match candidate.kept {
        Kept::Account => {
            store::accounts::used_passkey(&mut tx, &candidate.id, text.as_deref(), now).await?
        }
        Kept::Factor => {
            store::passkeys::used_factor(&mut tx, &candidate.id, text.as_deref(), now).await?
        }
    }
    let user_id = match candidate.member {
        Some(member) => member,
        // An account or an address is a guest somewhere: it opens in the first organization.
        None => store::sessions::memberships(&mut tx, &candidate.identity, None)
            .await?
            .into_iter()
            .next()
            .map(|m| m.user_id)
            .ok_or_else(|| {
                Error::Conflict(
                    "No organization on this Portico has you as a guest any more.".into(),
                )
            })?,
    };
    if let Some(previous) = previous {
        store::sessions::delete(&mut tx, &secrets::hash_secret(previous)).await?;
    }
    let session = sessions::open_in(
        &mut tx,
        policy,
        &user_id,
        &candidate.identity,
        &AuthMethod::Passkey.into(),
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(session)
}

/// A credential id as it is stored: base64url, as webauthn-rs prints it.
pub(crate) fn credential_id_of(id: &webauthn_rs::prelude::CredentialID) -> String {
    serde_json::to_value(id)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(crate::new_id)
}

fn credential_id(passkey: &Passkey) -> String {
    credential_id_of(passkey.cred_id())
}

/// Adds a passkey to an existing account, audited in the organization signed in to.
async fn add(
    store: &Store,
    signed_in: &SignedIn,
    account_id: &str,
    passkey: &Passkey,
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    store::accounts::insert_passkey(
        &mut tx,
        &credential_id(passkey),
        account_id,
        &json(passkey)?,
        now,
    )
    .await
    .map_err(|e| Error::conflict_on_unique(e, "This passkey is registered already."))?;
    audit::record(
        &mut tx,
        &signed_in.principal,
        now,
        Change {
            action: "Add passkey",
            target_type: "User",
            target_id: &signed_in.me.user_id,
            target_name: &signed_in.me.display_name,
            detail: signed_in.me.email.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes the account with its first passkey and proves the redemption with it.
async fn register(
    store: &Store,
    redemption_hash: &str,
    account_id: &str,
    passkey: &Passkey,
    now: i64,
) -> Result<()> {
    let (ticket, _) = redemption::open_redemption(store, redemption_hash, now).await?;
    let credential_id = credential_id(passkey);
    let mut tx = store.begin().await?;
    accounts::create_in(
        &mut tx,
        &ticket,
        redemption_hash,
        account_id,
        None,
        "a passkey",
        now,
    )
    .await?;
    store::accounts::insert_passkey(&mut tx, &credential_id, account_id, &json(passkey)?, now)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "This passkey is registered already."))?;
    tx.commit().await?;
    Ok(())
}
