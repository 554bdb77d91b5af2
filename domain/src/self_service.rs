//! What every signed-in person manages about themselves at `/account`, whoever they are
//! in the organization: how they sign in (a member's own password, with the current one
//! to change it) and where they are signed in (their sessions, each of which they may end).
//! A Portico account's password and passkeys are [`crate::accounts`]'.

use types::{FieldError, MyAccount, MySession, WayIn};

use crate::audit::{self, Change};
use crate::sessions::{Client, SessionPolicy, SignedIn};
use crate::store::{self, Tx};
use crate::{Error, Identity, Principal, Result, Store, accounts, password, secrets};

/// The name a session goes by in the person's list: derived from its stored hash, so that
/// it can neither open the session nor be looked up without the list.
fn session_id(id_hash: &str) -> String {
    secrets::hash_secret(&format!("session-ref:{id_hash}"))
}

/// The identity the person signed in with; sessions opened before identities were kept
/// have none and manage nothing here.
fn identity_of(signed_in: &SignedIn) -> Result<&Identity> {
    signed_in.identity.as_ref().ok_or(Error::AccessDenied)
}

/// The person's page: how they sign in and their sessions that have not ended.
///
/// **Permissions:** anyone signed in, for themselves.
pub async fn overview(
    store: &Store,
    policy: &SessionPolicy,
    signed_in: &SignedIn,
    session: &str,
    now: i64,
) -> Result<MyAccount> {
    let identity = identity_of(signed_in)?;
    let way_in = match identity {
        Identity::Member(id) => {
            let home = home_member(store, signed_in, id).await?;
            WayIn::Member {
                organization: home.organization,
                has_password: home.password_hash.is_some(),
            }
        }
        Identity::Account(_) => WayIn::Account(accounts::overview(store, signed_in).await?),
        Identity::Email(_) => WayIn::MailedCode,
        Identity::Oidc { .. } => WayIn::Provider,
    };
    let current = secrets::hash_secret(session);
    let sessions = live_sessions(&mut *store.read().await?, policy, identity, now)
        .await?
        .into_iter()
        .map(|s| MySession {
            id: session_id(&s.id_hash),
            current: s.id_hash == current,
            organization: s.tenant_name,
            signed_in_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(MyAccount {
        display_name: signed_in.me.display_name.clone(),
        email: signed_in.me.email.clone(),
        way_in,
        sessions,
    })
}

/// The identity's sessions that still let someone in (ended ones wait for the purge).
async fn live_sessions(
    db: &mut sqlx::AnyConnection,
    policy: &SessionPolicy,
    identity: &Identity,
    now: i64,
) -> Result<Vec<store::sessions::PersonSession>> {
    let mut sessions = store::sessions::of_identity(db, identity).await?;
    sessions.retain(|s| s.expires_at > now && s.last_seen_at + policy.idle_timeout > now);
    Ok(sessions)
}

/// A member's own user at home, whichever organization the session is switched to.
struct HomeMember {
    tenant_id: String,
    organization: String,
    display_name: String,
    email: String,
    password_hash: Option<String>,
}

async fn home_member(store: &Store, signed_in: &SignedIn, member_id: &str) -> Result<HomeMember> {
    let home = signed_in
        .memberships
        .iter()
        .find(|m| m.user_id == member_id)
        .ok_or(Error::NotFound("user"))?;
    let mut db = store.read().await?;
    let user = store::users::get(&mut db, &home.tenant_id, member_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let credentials = store::users::member_credentials(&mut db, &user.email)
        .await?
        .filter(|c| c.id == member_id)
        .ok_or(Error::NotFound("user"))?;
    Ok(HomeMember {
        tenant_id: home.tenant_id.clone(),
        organization: home.tenant_name.clone(),
        display_name: user.display_name,
        email: user.email,
        password_hash: credentials.password_hash,
    })
}

fn refuse(field: &str, message: &str) -> Error {
    Error::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// A member changes their own password: the current one proves it is them (guesses at it
/// count against the same limits as sign-in), the new one meets the rules of
/// [`password::check_new`]. Their other sessions end, and apps' tokens from them are
/// revoked; the organization's audit log says so.
///
/// **Permissions:** a member (signed in with their organization's password or switched
/// from it to another organization), for their own password.
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    store: &Store,
    policy: &SessionPolicy,
    signed_in: &SignedIn,
    session: &str,
    current_password: &str,
    new_password: &str,
    client: &Client,
    now: i64,
) -> Result<()> {
    let identity = identity_of(signed_in)?;
    let Identity::Member(member_id) = identity else {
        return Err(Error::Conflict(
            "You do not sign in with a password of an organization here, so there is none to change."
                .into(),
        ));
    };
    let home = home_member(store, signed_in, member_id).await?;
    let Some(stored) = home.password_hash.clone() else {
        return Err(Error::Conflict(
            "You have no password yet: an administrator of your organization sets the first one."
                .into(),
        ));
    };
    if current_password.is_empty() {
        return Err(refuse("current_password", "Enter your current password."));
    }
    password::check_new("new_password", new_password, &home.email)?;
    if new_password == current_password {
        return Err(refuse(
            "new_password",
            "Choose a password other than your current one.",
        ));
    }
    // The same limits as signing in, counted before the (slow) check.
    let account_key = format!("account:{}", home.email);
    let address_key = crate::sessions::client_key("ip", client);
    let mut limits = vec![(&account_key, policy.max_failures_per_account)];
    limits.extend(
        address_key
            .as_ref()
            .map(|key| (key, policy.max_failures_per_address)),
    );
    crate::sessions::reserve_attempt(store, policy, &limits, now).await?;
    if !password::verify_blocking(current_password.to_string(), stored).await {
        return Err(refuse(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = password::hash_blocking(new_password.to_string()).await?;
    let mut tx = store.begin().await?;
    store::sessions::clear_failures(&mut tx, &account_key).await?;
    if let Some(key) = &address_key {
        store::sessions::forgive_one(&mut tx, key).await?;
    }
    store::users::set_password_hash(&mut tx, &home.tenant_id, member_id, &hash.0, now).await?;
    let keep = secrets::hash_secret(session);
    let ended = crate::sessions::end_identity(&mut tx, identity, Some(&keep), now).await?;
    // Recorded at home, where the member's password is kept, whichever organization the
    // session is switched to.
    let actor = Principal::user(
        &home.tenant_id,
        member_id,
        &home.display_name,
        vec![],
        false,
        signed_in.principal.ip.as_deref(),
    );
    let change = Change {
        action: "Change own password",
        target_type: "User",
        target_id: member_id,
        target_name: &home.display_name,
        detail: format!("{ended} other sessions ended"),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok(())
}

/// Signs out one of the person's other sessions (another browser, another device).
///
/// **Permissions:** anyone signed in, for their own sessions.
pub async fn end_session(
    store: &Store,
    policy: &SessionPolicy,
    signed_in: &SignedIn,
    session: &str,
    id: &str,
    now: i64,
) -> Result<()> {
    let identity = identity_of(signed_in)?;
    let current = secrets::hash_secret(session);
    let mut tx = store.begin().await?;
    let ended = live_sessions(&mut tx, policy, identity, now)
        .await?
        .into_iter()
        .find(|s| secrets::same(&session_id(&s.id_hash), id))
        .ok_or(Error::NotFound("session"))?;
    if ended.id_hash == current {
        return Err(Error::Conflict(
            "That is the session you are using: sign out from the menu instead.".into(),
        ));
    }
    store::sessions::delete(&mut tx, &ended.id_hash).await?;
    store::flashes::delete_for_session(&mut tx, &ended.id_hash).await?;
    let detail = format!(
        "signed in {} from {}",
        types::format::datetime(ended.created_at),
        ended.ip.as_deref().unwrap_or("an unknown address")
    );
    record(&mut tx, signed_in, "Sign out a session", detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Signs out every other session of the person, in every organization, and revokes the
/// tokens apps got from them; the session making the request stays.
///
/// **Permissions:** anyone signed in, for their own sessions.
pub async fn end_other_sessions(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    now: i64,
) -> Result<u64> {
    let identity = identity_of(signed_in)?;
    let keep = secrets::hash_secret(session);
    let mut tx = store.begin().await?;
    let ended = crate::sessions::end_identity(&mut tx, identity, Some(&keep), now).await?;
    let detail = format!("{ended} sessions ended");
    record(&mut tx, signed_in, "Sign out other sessions", detail, now).await?;
    tx.commit().await?;
    Ok(ended)
}

/// An event about the person's own sessions, in the organization they are looking at.
async fn record(
    tx: &mut Tx,
    signed_in: &SignedIn,
    action: &str,
    detail: String,
    now: i64,
) -> Result<()> {
    let change = Change {
        action,
        target_type: "User",
        target_id: &signed_in.me.user_id,
        target_name: &signed_in.me.display_name,
        detail,
    };
    audit::record(tx, &signed_in.principal, now, change).await
}
