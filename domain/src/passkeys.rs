//! Passkeys (WebAuthn) for Portico accounts: made at redemption instead of a password, and
//! used to redeem later invitations and to sign in. Each ceremony has two requests; its
//! challenge state waits in the database between them, found by the hash of a random
//! token the browser holds, and works once.
//!
//! WebAuthn binds passkeys to a domain name: Portico offers them only when its public URL
//! names a host (not an IP address), and browsers only over https or on `localhost`.

use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::audit::{self, Change};
use crate::auth_methods::AuthMethod;
use crate::sessions::{self, Client, OpenedSession, SessionPolicy, SignedIn};
use crate::store::{self, accounts::Ceremony};
use crate::{Error, Result, Store, accounts, redemption, secrets};
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

    fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn
            .as_ref()
            .map_err(|why| Error::Conflict(why.clone()))
    }
}

/// A ceremony begun: the browser passes `options` (JSON) to WebAuthn and comes back with
/// `ceremony` and the credential.
#[derive(Debug)]
pub struct Begun {
    pub ceremony: String,
    pub options: String,
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Conflict(format!("cannot encode: {e}")))
}

async fn keep(store: &Store, ceremony: Ceremony, options: String) -> Result<Begun> {
    let token = secrets::new_secret();
    let mut tx = store.begin().await?;
    store::accounts::insert_ceremony(&mut tx, &secrets::hash_secret(&token), &ceremony).await?;
    tx.commit().await?;
    Ok(Begun {
        ceremony: token,
        options,
    })
}

fn refused(error: impl std::fmt::Display) -> Error {
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
        kind: "register".into(),
        account_id,
        redemption_hash: Some(token_hash),
        next: None,
        state: json(&state)?,
        expires_at: now + CEREMONY_LIFETIME,
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
        kind: "register".into(),
        account_id,
        redemption_hash: None,
        next: Some("/account".into()),
        state: json(&state)?,
        expires_at: now + CEREMONY_LIFETIME,
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

/// The passkeys of the account with this address, or why there are none.
async fn passkeys_of(store: &Store, email: &str) -> Result<(String, Vec<(String, Passkey)>)> {
    let none = || {
        Error::Conflict(
            "No passkey is registered for this address: use the password, or a code mailed to you."
                .into(),
        )
    };
    let account = accounts::by_email(store, email).await?.ok_or_else(none)?;
    let keys = stored(&mut *store.read().await?, &account.id).await?;
    if keys.is_empty() {
        return Err(none());
    }
    Ok((account.id, keys))
}

async fn begin_authentication(
    store: &Store,
    passkeys: &Passkeys,
    email: &str,
    redemption_hash: Option<String>,
    next: Option<&str>,
    now: i64,
) -> Result<Begun> {
    let webauthn = passkeys.webauthn()?;
    let (account_id, keys) = passkeys_of(store, email).await?;
    let list: Vec<Passkey> = keys.into_iter().map(|(_, k)| k).collect();
    let (options, state) = webauthn
        .start_passkey_authentication(&list)
        .map_err(refused)?;
    let ceremony = Ceremony {
        kind: "authenticate".into(),
        account_id,
        redemption_hash,
        next: next.map(str::to_string),
        state: json(&state)?,
        expires_at: now + CEREMONY_LIFETIME,
    };
    keep(store, ceremony, json(&options)?).await
}

/// Passkey sign-ins one address may begin in a throttle window (each keeps a ceremony).
pub const MAX_BEGINS_PER_ADDRESS: i64 = 20;
/// Passkey sign-ins one client address may begin in a throttle window, whatever the address.
pub const MAX_BEGINS_PER_CLIENT: i64 = 100;

/// Begins signing in with a passkey of the account with this address; `next` is where to
/// go afterwards. Each beginning keeps a ceremony until it expires, so beginnings are
/// throttled per address and per client address, like failed sign-ins.
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
    begin_authentication(store, passkeys, &email, None, next, now).await
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
    begin_authentication(store, passkeys, &ticket.email, Some(token_hash), None, now).await
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
}

/// What the browser sends to finish.
#[derive(Debug)]
pub struct Finish<'a> {
    pub ceremony: &'a str,
    /// The WebAuthn credential, as JSON.
    pub credential: &'a str,
    /// The browser's redemption in progress, if any.
    pub redemption_cookie: Option<&'a str>,
    /// The browser's session before, which ends when a new one opens.
    pub previous_session: Option<&'a str>,
    /// Who is signed in, when a passkey is added to their account.
    pub signed_in: Option<&'a SignedIn>,
}

/// Finishes a ceremony: the credential must answer its challenge.
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
        store::accounts::take_ceremony(&mut tx, &secrets::hash_secret(finish.ceremony), now)
            .await?
            .filter(|c| c.expires_at > now)
            .ok_or_else(lost)?;
    tx.commit().await?;
    if let Some(hash) = &ceremony.redemption_hash
        && finish.redemption_cookie.map(secrets::hash_secret).as_ref() != Some(hash)
    {
        return Err(lost());
    }
    let malformed =
        |e: serde_json::Error| Error::Conflict(format!("The browser's answer is not valid ({e})."));
    if ceremony.kind == "register" {
        let state: PasskeyRegistration =
            serde_json::from_str(&ceremony.state).map_err(malformed)?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(finish.credential).map_err(malformed)?;
        let passkey = webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(refused)?;
        return match &ceremony.redemption_hash {
            Some(hash) => {
                register(store, hash, &ceremony.account_id, &passkey, now).await?;
                Ok(Finished::Redemption)
            }
            None => {
                let signed_in = finish
                    .signed_in
                    .filter(|s| {
                        accounts::account_of(s).ok().as_deref()
                            == Some(ceremony.account_id.as_str())
                    })
                    .ok_or_else(lost)?;
                add(store, signed_in, &ceremony.account_id, &passkey, now).await?;
                Ok(Finished::Added)
            }
        };
    }
    let state: PasskeyAuthentication = serde_json::from_str(&ceremony.state).map_err(malformed)?;
    let credential: PublicKeyCredential =
        serde_json::from_str(finish.credential).map_err(malformed)?;
    let result = webauthn
        .finish_passkey_authentication(&credential, &state)
        .map_err(refused)?;
    let identity = accounts::identity(&ceremony.account_id);
    let mut tx = store.begin().await?;
    // The signature counter moves on: keep it, so a cloned authenticator shows.
    for (id, mut passkey) in stored(&mut tx, &ceremony.account_id).await? {
        if passkey.cred_id() == result.cred_id() {
            let changed = passkey.update_credential(&result) == Some(true);
            let text = if changed { Some(json(&passkey)?) } else { None };
            store::accounts::used_passkey(&mut tx, &id, text.as_deref(), now).await?;
        }
    }
    if let Some(hash) = &ceremony.redemption_hash {
        store::invitations::set_proven(&mut tx, hash, &identity, &AuthMethod::Passkey.into())
            .await?;
        tx.commit().await?;
        return Ok(Finished::Redemption);
    }
    let first = store::sessions::memberships(&mut tx, &identity, None)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::Conflict("No organization on this Portico has you as a guest any more.".into())
        })?;
    if let Some(previous) = finish.previous_session {
        store::sessions::delete(&mut tx, &secrets::hash_secret(previous)).await?;
    }
    let session = sessions::open_in(
        &mut tx,
        policy,
        &first.user_id,
        &identity,
        &AuthMethod::Passkey.into(),
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Finished::SignedIn {
        session,
        next: ceremony.next,
    })
}

fn credential_id(passkey: &Passkey) -> String {
    serde_json::to_value(passkey.cred_id())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(crate::new_id)
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
