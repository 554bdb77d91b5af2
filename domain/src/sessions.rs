//! Signing in and out, server-side sessions and their timeouts, and throttling of failed
//! sign-ins per account and per address.

use types::{Me, Organization, Role};

use crate::auth_methods::{AuthMethod, AuthMethods};
use crate::store;
use crate::store::Tx;
use crate::store::sessions::NewSession;
use crate::{Error, Identity, Principal, Result, Store, accounts, password, secrets, validate};

/// How long sessions last and how many failed sign-ins are tolerated.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// A session unused this long (seconds) has ended.
    pub idle_timeout: i64,
    /// A session ends this long (seconds) after sign-in, used or not.
    pub absolute_timeout: i64,
    /// The window (seconds) in which failed sign-ins are counted.
    pub throttle_window: i64,
    /// Failures per account in one window before sign-in is refused.
    pub max_failures_per_account: i64,
    /// Failures from one address in one window before sign-in is refused.
    pub max_failures_per_address: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_timeout: 8 * 3600,
            absolute_timeout: 24 * 3600,
            throttle_window: 15 * 60,
            max_failures_per_account: 10,
            max_failures_per_address: 50,
        }
    }
}

/// Where a request came from.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session just opened: `token` goes into the cookie and is never stored.
#[derive(Debug)]
pub struct OpenedSession {
    pub token: String,
    pub expires_at: i64,
}

/// `last_seen_at` is written at most this often, so that reading pages costs no writes.
const TOUCH_INTERVAL: i64 = 60;

/// How a person proves who they are, decided from their address alone (identity-first
/// sign-in): the address of a member signs in with its password; a guest whose only way in
/// is the identity provider they redeemed through signs in there (with several ways, the
/// code or account step lists the providers with their organizations); one with a Portico
/// account uses its password (or a code, to recover it); any other address (a guest's,
/// whose identity is the address itself, or one unknown here) gets a one-time code by
/// mail, which is only sent where a guest exists, so the answer tells nothing about those
/// guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    IdentityProvider,
    Account,
    EmailCode,
}

/// See [`SignInMethod`].
pub async fn sign_in_method(store: &Store, email: &str) -> Result<SignInMethod> {
    let email = validate::email("email", email)?;
    if store::users::member_credentials(&mut *store.read().await?, &email)
        .await?
        .is_some()
    {
        return Ok(SignInMethod::Password);
    }
    let account = accounts::by_email(store, &email).await?;
    // Straight to a provider only when it is the person's one way in: an organization's
    // provider must never stand in silently for the way another organization knows them.
    let providers =
        store::federation::providers_of_guest(&mut *store.read().await?, &email).await?;
    if providers.len() == 1
        && account.is_none()
        && !store::federation::has_guests_of(
            &mut *store.read().await?,
            &Identity::Email(email.clone()),
        )
        .await?
    {
        return Ok(SignInMethod::IdentityProvider);
    }
    Ok(match account {
        Some(_) => SignInMethod::Account,
        None => SignInMethod::EmailCode,
    })
}

/// Checks email and password and opens a new session; `previous` (the session cookie the
/// browser sent, if any) is ended, so the session id always changes at sign-in.
///
/// The error is the same whether the account does not exist, is disabled or the password
/// is wrong, and takes as long.
pub async fn sign_in(
    store: &Store,
    policy: &SessionPolicy,
    email: &str,
    secret: &str,
    client: &Client,
    previous: Option<&str>,
    now: i64,
) -> Result<OpenedSession> {
    let email = validate::email("email", email).map_err(|_| Error::BadCredentials)?;
    let account_key = format!("account:{email}");
    let address_key = client_key("ip", client);
    let mut limits = vec![(&account_key, policy.max_failures_per_account)];
    limits.extend(
        address_key
            .as_ref()
            .map(|key| (key, policy.max_failures_per_address)),
    );
    reserve_attempt(store, policy, &limits, now).await?;
    // A member of an organization here, else a Portico account an invited person made.
    let member = store::users::member_credentials(&mut *store.read().await?, &email).await?;
    let holder = match member {
        Some(m) => m
            .password_hash
            .filter(|_| m.enabled)
            .map(|hash| (Identity::Member(m.id.clone()), Some(m.id), hash)),
        None => store::accounts::by_email(&mut *store.read().await?, &email)
            .await?
            .and_then(|a| Some((accounts::identity(&a.id), None, a.password_hash?))),
    };
    let stored = holder
        .as_ref()
        .map_or_else(|| password::DECOY.clone(), |(_, _, hash)| hash.clone());
    let matches = password::verify_blocking(secret.to_string(), stored).await;
    // The attempt was counted as a failure before the password was checked.
    let (identity, member_id) = match holder {
        Some((identity, member_id, _)) if matches => (identity, member_id),
        _ => return Err(Error::BadCredentials),
    };
    let mut tx = store.begin().await?;
    store::sessions::clear_failures(&mut tx, &account_key).await?;
    if let Some(key) = &address_key {
        store::sessions::forgive_one(&mut tx, key).await?;
    }
    let user_id = match member_id {
        Some(id) => id,
        // An account is a guest somewhere: it opens in the first organization.
        None => store::sessions::memberships(&mut tx, &identity, None)
            .await?
            .first()
            .map(|m| m.user_id.clone())
            .ok_or_else(|| {
                Error::Conflict(
                    "No organization on this Portico has you as a guest any more.".into(),
                )
            })?,
    };
    if let Some(previous) = previous {
        store::sessions::delete(&mut tx, &secrets::hash_secret(previous)).await?;
    }
    let methods = AuthMethods::from(AuthMethod::Password);
    let opened = open_in(&mut tx, policy, &user_id, &identity, &methods, client, now).await?;
    tx.commit().await?;
    Ok(opened)
}

/// The throttle key of the client an attempt came from (`prefix:address`), when its address
/// is known. Attempts without one count against their other limits only: one bucket shared
/// by all of them would let a single client lock everyone out.
pub(crate) fn client_key(prefix: &str, client: &Client) -> Option<String> {
    client.ip.as_deref().map(|ip| format!("{prefix}:{ip}"))
}

/// Counts an attempt against each of its limits before its (slow) password check, inside
/// the write transaction: many attempts at once cannot all slip under a limit. Refuses
/// when one is reached. A successful attempt is forgiven afterwards.
pub(crate) async fn reserve_attempt(
    store: &Store,
    policy: &SessionPolicy,
    limits: &[(&String, i64)],
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    for (key, limit) in limits {
        let (failures, window_start) =
            store::sessions::failures(&mut tx, key, now, policy.throttle_window).await?;
        if failures >= *limit {
            return Err(Error::Throttled {
                retry_after: (window_start + policy.throttle_window - now).max(1),
            });
        }
    }
    for (key, _) in limits {
        store::sessions::record_failure(&mut tx, key, now, policy.throttle_window).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Opens a new session for a user inside `tx`; `methods` are how the person proved who
/// they are.
pub(crate) async fn open_in(
    tx: &mut Tx,
    policy: &SessionPolicy,
    user_id: &str,
    identity: &Identity,
    methods: &AuthMethods,
    client: &Client,
    now: i64,
) -> Result<OpenedSession> {
    let token = secrets::new_secret();
    let expires_at = now + policy.absolute_timeout;
    store::sessions::insert(
        tx,
        NewSession {
            id_hash: &secrets::hash_secret(&token),
            user_id,
            identity,
            amr: &methods.to_string(),
            expires_at,
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
        },
        now,
    )
    .await?;
    store::users::signed_in(tx, user_id, now).await?;
    Ok(OpenedSession { token, expires_at })
}

/// A live session: who acts, and what the pages show of them.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub principal: Principal,
    pub me: Me,
    /// How the person proved who they are (see `organizations`).
    pub identity: Option<Identity>,
    /// The organizations the person can switch between, this one marked current.
    pub organizations: Vec<Organization>,
    /// The person's users behind those organizations.
    pub memberships: Vec<store::sessions::Membership>,
    /// When the person signed in, Unix seconds.
    pub auth_time: i64,
    /// How they signed in.
    pub auth_methods: AuthMethods,
}

/// A session as read: who is signed in, and when it ends or needs touching.
#[derive(Clone, Debug)]
pub(crate) struct Remembered {
    signed_in: SignedIn,
    last_seen_at: i64,
    expires_at: i64,
}

/// Who is behind a session cookie, or `None` when the session does not exist, has timed
/// out, or its user is disabled. Roles are read afresh after any change (see
/// `store::Recent`), so a change applies at once.
pub async fn principal(
    store: &Store,
    policy: &SessionPolicy,
    token: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<SignedIn>> {
    let id_hash = secrets::hash_secret(token);
    // A session read lately stands in while nothing was written since (see
    // `store::Recent`), unless it must end or be touched now.
    let writes = store.writes();
    let on_time = |known: &Remembered| {
        known.expires_at > now
            && known.last_seen_at + policy.idle_timeout > now
            && now - known.last_seen_at < TOUCH_INTERVAL
    };
    if let Some(known) = store.sessions.get(&id_hash, writes).filter(on_time) {
        let mut signed_in = known.signed_in;
        signed_in.principal.ip = ip.map(String::from);
        return Ok(Some(signed_in));
    }
    let Some(session) = store::sessions::load(&mut *store.read().await?, &id_hash).await? else {
        return Ok(None);
    };
    if !stands(&session, policy, now) {
        sign_out_hash(store, &id_hash).await?;
        return Ok(None);
    }
    let mut last_seen_at = session.last_seen_at;
    if now - last_seen_at >= TOUCH_INTERVAL {
        // Moves the session's last-seen time on: it decides nothing.
        let mut tx = store.begin_plain().await?;
        store::sessions::touch(&mut tx, &id_hash, now).await?;
        tx.commit().await?;
        last_seen_at = now;
    }
    // A guest's session ends with their access period, even before the sweep ends it.
    let expires_at = session
        .expires_at
        .min(session.access_ends_at.unwrap_or(i64::MAX));
    let signed_in = signed_in_of(session, ip);
    // Remembered as of the count before the read (a touch since counts as a write, and
    // then the next request reads it afresh).
    store.sessions.put(
        id_hash,
        Remembered {
            signed_in: signed_in.clone(),
            last_seen_at,
            expires_at,
        },
        writes,
    );
    Ok(Some(signed_in))
}

/// Whether a session as read still lets its person in: within both timeouts and, for a
/// guest, their access period (the sweep that ends it may come minutes later), its user
/// enabled, and the member or account behind its identity still there and enabled at home
/// (a member disabled in their own organization loses the sessions they switched to
/// partner organizations too).
fn stands(session: &store::sessions::SessionUser, policy: &SessionPolicy, now: i64) -> bool {
    let timed_out = session.expires_at <= now || session.last_seen_at + policy.idle_timeout <= now;
    !timed_out
        && !crate::guest_access::has_ended(session.access_ends_at, now)
        && session.enabled
        && session.holder_enabled == Some(types::SqlFlag(true))
}

/// Ends everything an identity holds, in whatever organization: every session opened with
/// it but `keep` (the hash of the session making the change, if any), and every token
/// issued to the users it redeemed and, for a member's own identity, to that member. For
/// a member disabled, deleted or reset at home, and an account whose password changed.
/// Returns how many sessions ended.
pub(crate) async fn end_identity(
    tx: &mut Tx,
    identity: &Identity,
    keep: Option<&str>,
    now: i64,
) -> Result<u64> {
    let member = identity.member();
    let ended = match keep {
        Some(keep) => store::sessions::delete_for_identity_except(tx, identity, keep).await?,
        None => store::sessions::delete_for_identity(tx, identity).await?,
    };
    // Sessions of the member's own user that carry no identity (opened before identities
    // were kept) end with it too.
    let unnamed = match (member, keep) {
        (Some(member), None) => store::sessions::delete_for_user(tx, member).await?,
        _ => 0,
    };
    store::oidc::revoke_for_identity(tx, identity, member, now).await?;
    Ok(ended + unnamed)
}

/// What a session's row says of who is signed in.
fn signed_in_of(session: store::sessions::SessionUser, ip: Option<&str>) -> SignedIn {
    let roles: Vec<Role> = session
        .roles
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(Role::parse)
        .collect();
    let mut memberships = session.memberships.0;
    memberships.retain(|m| {
        crate::organizations::reaches(session.identity.as_ref(), &session.tenant_id, &m.tenant_id)
    });
    let organizations = memberships
        .iter()
        .map(|m| Organization {
            current: m.tenant_id == session.tenant_id,
            guest: m.user_type == types::UserType::Guest,
            tenant_id: m.tenant_id.clone(),
            tenant_name: m.tenant_name.clone(),
        })
        .collect();
    SignedIn {
        organizations,
        memberships,
        auth_time: session.created_at,
        auth_methods: AuthMethods::parse(&session.amr),
        principal: Principal::user(
            &session.tenant_id,
            &session.user_id,
            &session.display_name,
            roles.clone(),
            session.user_type == types::UserType::Guest,
            ip,
        ),
        me: Me {
            has_account: session
                .identity
                .as_ref()
                .is_some_and(|i| i.account().is_some()),
            guest: session.user_type == types::UserType::Guest,
            user_id: session.user_id,
            display_name: session.display_name,
            email: session.email,
            tenant_id: session.tenant_id,
            tenant_name: session.tenant_name,
            roles,
        },
        identity: session.identity,
    }
}

/// Ends a session on the server; the cookie is worthless afterwards.
pub async fn sign_out(store: &Store, token: &str) -> Result<()> {
    sign_out_hash(store, &secrets::hash_secret(token)).await
}

async fn sign_out_hash(store: &Store, id_hash: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    store::sessions::delete(&mut tx, id_hash).await?;
    // A flash still waiting may hold a secret: the next person here must not see it.
    store::flashes::delete_for_session(&mut tx, id_hash).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes ended sessions, closed throttling windows, flashes nobody took, authorization
/// requests nobody came back to and second-factor set-ups nobody finished; run now and
/// then by the server.
pub async fn purge_expired(store: &Store, policy: &SessionPolicy, now: i64) -> Result<u64> {
    let mut tx = store.begin().await?;
    let removed = store::sessions::delete_expired(&mut tx, now, policy.idle_timeout).await?;
    store::sessions::delete_closed_windows(&mut tx, now, policy.throttle_window).await?;
    store::flashes::delete_expired(&mut tx, now).await?;
    crate::second_factors::purge_stale(&mut tx, now).await?;
    tx.commit().await?;
    Ok(removed)
}
