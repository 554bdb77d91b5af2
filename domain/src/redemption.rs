//! Redeeming an invitation. Opening the link only shows it (mail scanners fetch links); the
//! person then starts a redemption, which is bound to their browser by a cookie. They prove
//! who they are the way the inviting organization's redemption order picks: their member
//! account on this Portico, their organization's identity provider (see
//! [`crate::federation`]), or a one-time passcode mailed to the invited address (8 digits,
//! 10 minutes, 5 attempts, resent at most once a minute). Then they accept or decline on a
//! consent page. Accepting succeeds once, however many browsers try at the same moment.
//!
//! Guessing a passcode is bounded by limits that outlive any one redemption: starts per
//! invitation are counted in a record that declining and accepting leave alone, codes per
//! mailbox are shared with sign-in, and after [`MAX_WRONG_CODES`] wrong codes in all the
//! invitation is locked until an administrator sends a new one.

use sqlx::AnyConnection;
use types::{
    ExternalState, InvitationInfo, ProofMethod, RedemptionMethod, RedemptionStatus, TicketState,
};

use crate::audit::{self, Change};
use crate::auth_methods::{AuthMethod, AuthMethods};
use crate::federation::{self, Departure, Federation, Vouched};
use crate::outbox::{self, Mail, escape_html};
use crate::sessions::{self, Client, OpenedSession, SessionPolicy};
use crate::store::{
    self,
    federation::Provider,
    invitations::{Proven, Ticket},
};
use crate::{Error, Identity, Principal, Result, Store, accounts, secrets};

pub const CODE_LIFETIME: i64 = 600;
pub const MAX_CODE_ATTEMPTS: i64 = 5;
pub const RESEND_INTERVAL: i64 = 60;
/// Redemptions one invitation may start in [`START_WINDOW`] seconds.
pub const MAX_STARTS_PER_WINDOW: i64 = 20;
pub const START_WINDOW: i64 = 900;
/// How long a started redemption may take.
pub const REDEMPTION_LIFETIME: i64 = 3600;
/// Wrong passcodes one invitation tolerates across all its redemptions; then it is locked.
pub const MAX_WRONG_CODES: i64 = 20;

/// Whether an invitation can still be redeemed: pending, not expired, not locked.
fn redeemable(ticket: &Ticket, now: i64) -> bool {
    ticket.status == "PendingAcceptance" && ticket.expires_at > now && !ticket.locked
}

fn info(ticket: &Ticket) -> InvitationInfo {
    InvitationInfo {
        tenant_name: ticket.tenant_name.clone(),
        tenant_domain: ticket.tenant_domain.clone(),
        privacy_url: ticket.privacy_url.clone(),
        inviter_name: ticket.inviter_name.clone(),
        email: ticket.email.clone(),
        display_name: ticket.display_name.clone(),
        message: ticket.message.clone(),
        access_days: ticket.access_days,
    }
}

/// What the link in a mail leads to. Changes nothing, but for the audit event of an
/// invitation its organization's collaboration restrictions now refuse.
pub async fn look_up(store: &Store, ticket: &str, now: i64) -> Result<TicketState> {
    let Some(found) =
        store::invitations::by_ticket(&mut *store.read().await?, &secrets::hash_secret(ticket))
            .await?
    else {
        return Ok(TicketState::Unknown);
    };
    if redeemable(&found, now)
        && let Some(domain) = refuse_if_blocked(store, &found, now).await?
    {
        return Ok(TicketState::Blocked {
            tenant_name: found.tenant_name,
            domain,
        });
    }
    Ok(match found.status.as_str() {
        _ if redeemable(&found, now) => TicketState::Open(info(&found)),
        "PendingAcceptance" if found.locked => TicketState::Locked {
            tenant_name: found.tenant_name,
            inviter_name: found.inviter_name,
        },
        "PendingAcceptance" => TicketState::Expired {
            tenant_name: found.tenant_name,
            inviter_name: found.inviter_name,
        },
        "Revoked" => TicketState::Revoked {
            tenant_name: found.tenant_name,
        },
        _ => TicketState::Accepted {
            tenant_name: found.tenant_name,
        },
    })
}

/// The domain of a pending invitation's address and the rule that refuses it, if the
/// organization's collaboration restrictions no longer let guests come from there (they
/// changed after it was sent). Guests who accepted before are not affected: only pending
/// invitations come here.
async fn blocked_by(db: &mut AnyConnection, ticket: &Ticket) -> Result<Option<(String, String)>> {
    let settings = crate::collaboration::read_in(db, &ticket.tenant_id).await?;
    let domain = crate::tenants::domain_of(&ticket.email);
    Ok(crate::collaboration::check_domain(&settings, domain)
        .err()
        .map(|rule| (domain.to_string(), rule)))
}

/// Audits an attempt to redeem an invitation the collaboration restrictions refuse.
async fn record_refusal(tx: &mut store::Tx, ticket: &Ticket, rule: &str, now: i64) -> Result<()> {
    audit::record_by_portico(
        tx,
        &ticket.tenant_id,
        now,
        Change {
            action: "Refuse invitation redemption",
            target_type: "User",
            target_id: &ticket.user_id,
            target_name: &ticket.display_name,
            detail: format!("{}: {rule}", ticket.email),
        },
    )
    .await
}

/// The domain the collaboration restrictions now refuse a pending invitation for (see
/// [`blocked_by`]), after auditing the attempt; nothing else changes.
async fn refuse_if_blocked(store: &Store, ticket: &Ticket, now: i64) -> Result<Option<String>> {
    let Some((domain, rule)) = blocked_by(&mut *store.read().await?, ticket).await? else {
        return Ok(None);
    };
    let mut tx = store.begin().await?;
    record_refusal(&mut tx, ticket, &rule, now).await?;
    tx.commit().await?;
    Ok(Some(domain))
}

/// What a person whose invitation the collaboration restrictions now refuse is told.
fn blocked_message(ticket: &Ticket, domain: &str) -> String {
    format!(
        "{} no longer accepts guests from {domain}; ask the person who invited you.",
        ticket.tenant_name
    )
}

/// Refuses to start a redemption whose invitation the collaboration restrictions now refuse
/// (see [`refuse_if_blocked`]).
async fn still_permitted(store: &Store, ticket: &Ticket, now: i64) -> Result<()> {
    match refuse_if_blocked(store, ticket, now).await? {
        Some(domain) => Err(Error::Forbidden(blocked_message(ticket, &domain))),
        None => Ok(()),
    }
}

/// Why an account cannot be made yet, or is not how an invitation is redeemed.
pub(crate) const CONFIRM_FIRST: &str = "Confirm your address with the code first.";
pub(crate) const NOT_BY_ACCOUNT: &str = "This invitation is not redeemed with a Portico account.";

/// A redemption just started: `token` goes into a cookie of the browser that started it.
#[derive(Debug)]
pub struct Started {
    pub token: String,
    pub email: String,
}

/// Starts redeeming an open invitation: mails a passcode to the invited address.
pub async fn start(store: &Store, ticket: &str, now: i64) -> Result<Started> {
    let found =
        store::invitations::by_ticket(&mut *store.read().await?, &secrets::hash_secret(ticket))
            .await?
            .filter(|t| redeemable(t, now))
            .ok_or(Error::InvalidLink)?;
    still_permitted(store, &found, now).await?;
    let token = secrets::new_secret();
    let token_hash = secrets::hash_secret(&token);
    // Read before the writer is taken: the proof's reads need read connections, and the
    // writer is not to wait for them.
    let needs_code = matches!(
        proof(store, &found).await?.method,
        ProofMethod::EmailCode | ProofMethod::NewAccount
    );
    let mut tx = store.begin().await?;
    // Each start mails a code to the invited address: a link in the wrong hands must not
    // become a way to flood that mailbox, nor, by starting again, to more guesses.
    let recent =
        store::invitations::starts_since(&mut tx, &found.invitation_id, now - START_WINDOW).await?;
    if recent >= MAX_STARTS_PER_WINDOW {
        return Err(Error::Throttled {
            retry_after: START_WINDOW,
        });
    }
    store::invitations::record_start(&mut tx, &found.invitation_id, now).await?;
    store::invitations::insert_redemption(
        &mut tx,
        &token_hash,
        &found.invitation_id,
        now,
        now + REDEMPTION_LIFETIME,
    )
    .await?;
    if needs_code {
        send_code(&mut tx, &found, &token_hash, now).await?;
    }
    tx.commit().await?;
    Ok(Started {
        token,
        email: found.email,
    })
}

async fn send_code(tx: &mut store::Tx, ticket: &Ticket, token_hash: &str, now: i64) -> Result<()> {
    crate::organizations::reserve_mailbox_code(tx, &ticket.email, now).await?;
    let code = secrets::new_code();
    store::invitations::put_code(
        tx,
        token_hash,
        &secrets::hash_code(token_hash, &code),
        now,
        now + CODE_LIFETIME,
    )
    .await?;
    let subject = format!("Your verification code for {}", ticket.tenant_name);
    let text = format!(
        "Your code to accept the invitation from {} is {code}.\nIt works for 10 minutes. \
         If you did not ask for it, ignore this mail.\n",
        ticket.tenant_name
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>Your code to accept the \
         invitation from {} is</p><p style=\"font-size:1.6em;letter-spacing:.2em\"><strong>{code}</strong></p>\
         <p>It works for 10 minutes. If you did not ask for it, ignore this mail.</p></body></html>",
        escape_html(&ticket.tenant_name)
    );
    let mail = Mail {
        recipient: ticket.email.clone(),
        subject,
        text,
        html,
        secret: true,
    };
    outbox::enqueue(tx, Some(&ticket.tenant_id), &mail, now).await?;
    Ok(())
}

async fn redemption(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<(String, Ticket, Option<Proven>)> {
    let token_hash = secrets::hash_secret(token);
    let (ticket, proven) = open_redemption(store, &token_hash, now).await?;
    Ok((token_hash, ticket, proven))
}

/// The redemption with this hash, while its invitation is still open; and the identity
/// proven for it, if any.
pub(crate) async fn open_redemption(
    store: &Store,
    token_hash: &str,
    now: i64,
) -> Result<(Ticket, Option<Proven>)> {
    store::invitations::by_redemption(&mut *store.read().await?, token_hash, now)
        .await?
        .filter(|(t, _)| redeemable(t, now))
        .ok_or(Error::InvalidLink)
}

/// The open redemption behind `token`, which must be one redeemed by `method` (for a new
/// account, with its address already confirmed by a code); `refusal` says why not.
pub(crate) async fn redemption_by(
    store: &Store,
    token: &str,
    method: ProofMethod,
    refusal: &str,
    now: i64,
) -> Result<(String, Ticket)> {
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    let ready = proof(store, &ticket).await?.method == method
        && (method != ProofMethod::NewAccount
            || store::accounts::address_confirmed(&mut *store.read().await?, &token_hash).await?);
    if !ready {
        return Err(Error::Conflict(refusal.into()));
    }
    Ok((token_hash, ticket))
}

/// Who is invited, for the passcode page; also says whether the address is proven.
pub async fn status(store: &Store, token: &str, now: i64) -> Result<RedemptionStatus> {
    let (token_hash, ticket, proven) = redemption(store, token, now).await?;
    let proof = proof(store, &ticket).await?;
    let pending =
        store::federation::pending_identity(&mut *store.read().await?, &token_hash).await?;
    Ok(RedemptionStatus {
        info: info(&ticket),
        method: proof.method,
        proven: proven.is_some(),
        provider: proof.provider.map(|p| p.name),
        code_also: pending.is_some(),
        address_confirmed: store::accounts::address_confirmed(
            &mut *store.read().await?,
            &token_hash,
        )
        .await?,
    })
}

/// How this invitation is redeemed, and the provider when it is federation.
struct Proof {
    method: ProofMethod,
    provider: Option<Provider>,
}

/// Codes go to the address only when a code is the way to redeem, or when a provider
/// vouched for the person but not for the address. Answers how the invitation is redeemed.
async fn refuse_codes_unless_due(
    store: &Store,
    ticket: &Ticket,
    token_hash: &str,
) -> Result<ProofMethod> {
    match proof(store, ticket).await?.method {
        method @ (ProofMethod::EmailCode | ProofMethod::NewAccount | ProofMethod::Account) => {
            Ok(method)
        }
        ProofMethod::Federated
            if store::federation::pending_identity(&mut *store.read().await?, token_hash)
                .await?
                .is_some() =>
        {
            Ok(ProofMethod::Federated)
        }
        ProofMethod::Federated => Err(Error::Conflict(
            "Sign in with your organization's identity provider instead.".into(),
        )),
        ProofMethod::HomePassword => Err(Error::Conflict(
            "This address has an account here: confirm it with that account's password.".into(),
        )),
    }
}

/// Picks how the invited person proves who they are, following the inviting
/// organization's redemption order: the primary methods in turn (a member account of
/// theirs on this Portico; the provider set up for their domain), else the fallbacks: a
/// Portico account they made before (when accounts are a fallback), else the first
/// fallback (a code mailed to the address, or a new account).
async fn proof(store: &Store, ticket: &Ticket) -> Result<Proof> {
    let order = federation::order_of(store, &ticket.tenant_id).await?;
    for method in &order.primary {
        match method {
            RedemptionMethod::HomeOrganization => {
                let home =
                    store::users::member_credentials(&mut *store.read().await?, &ticket.email)
                        .await?;
                if home.is_some_and(|m| m.enabled && m.password_hash.is_some()) {
                    return Ok(Proof {
                        method: ProofMethod::HomePassword,
                        provider: None,
                    });
                }
            }
            RedemptionMethod::Federation => {
                if let Some(provider) =
                    federation::provider_for(store, &ticket.tenant_id, &ticket.email).await?
                {
                    return Ok(Proof {
                        method: ProofMethod::Federated,
                        provider: Some(provider),
                    });
                }
            }
            RedemptionMethod::EmailCode | RedemptionMethod::NewAccount => {}
        }
    }
    let accounts_on = order.fallback.contains(&RedemptionMethod::NewAccount);
    let method = if accounts_on && accounts::by_email(store, &ticket.email).await?.is_some() {
        ProofMethod::Account
    } else if order.fallback.first() == Some(&RedemptionMethod::NewAccount) {
        ProofMethod::NewAccount
    } else {
        // The settings keep a fallback on; a passcode is the one that always applies.
        ProofMethod::EmailCode
    };
    Ok(Proof {
        method,
        provider: None,
    })
}

/// Sends the browser to the provider set up for the invited address's domain.
pub async fn depart_to_provider(
    store: &Store,
    federation: &Federation,
    token: &str,
    now: i64,
) -> Result<Departure> {
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    let Some(provider) = proof(store, &ticket).await?.provider else {
        return Err(Error::Conflict(
            "This invitation is not redeemed through an identity provider.".into(),
        ));
    };
    federation::depart(
        store,
        federation,
        &provider,
        Some(&token_hash),
        None,
        &ticket.email,
        now,
    )
    .await
}

/// The provider vouched for the person. Its address must be the invited one; when the
/// provider does not say the address is verified, a code mailed to it must confirm it
/// too (returns true then).
pub(crate) async fn vouched(
    store: &Store,
    token_hash: &str,
    vouched: &Vouched,
    now: i64,
) -> Result<bool> {
    let (ticket, _) = open_redemption(store, token_hash, now).await?;
    match vouched.email.as_deref() {
        Some(email) if email.eq_ignore_ascii_case(&ticket.email) => {}
        Some(email) => {
            return Err(Error::Conflict(format!(
                "{} signed you in as {email}, but the invitation is for {}. Sign in there with the invited address, or ask for an invitation to {email}.",
                vouched.provider_name, ticket.email
            )));
        }
        None => {
            return Err(Error::Conflict(format!(
                "{} did not tell Portico your email address, so the invitation to {} cannot be matched to you.",
                vouched.provider_name, ticket.email
            )));
        }
    }
    let mut tx = store.begin().await?;
    let code_also = !vouched.email_verified;
    if code_also {
        store::federation::set_pending_identity(&mut tx, token_hash, &vouched.identity).await?;
        send_code(&mut tx, &ticket, token_hash, now).await?;
    } else {
        let methods = vouched.methods_in(&mut tx, &ticket.tenant_id).await?;
        store::invitations::set_proven(&mut tx, token_hash, &vouched.identity, &methods).await?;
    }
    tx.commit().await?;
    Ok(code_also)
}

/// Proves the invited address with the password of the member account it belongs to in
/// its home organization. Failures count towards that account's sign-in throttle.
pub async fn verify_home_password(
    store: &Store,
    policy: &SessionPolicy,
    token: &str,
    password: &str,
    now: i64,
) -> Result<()> {
    let (token_hash, ticket) = redemption_by(
        store,
        token,
        ProofMethod::HomePassword,
        "This invitation is not redeemed with a password here.",
        now,
    )
    .await?;
    let member = store::users::member_credentials(&mut *store.read().await?, &ticket.email)
        .await?
        .filter(|m| m.enabled)
        .ok_or_else(|| Error::Conflict("Confirm your address with a code instead.".into()))?;
    let stored = member.password_hash.clone().unwrap_or_default();
    let identity = Identity::Member(member.id.clone());
    prove_with_password(
        store,
        policy,
        &ticket,
        &token_hash,
        stored,
        &identity,
        password,
        now,
    )
    .await
}

/// Proves who the invited person is with the password of the Portico account they made
/// earlier. Failures count towards the sign-in throttle of the address.
pub async fn verify_account_password(
    store: &Store,
    policy: &SessionPolicy,
    token: &str,
    password: &str,
    now: i64,
) -> Result<()> {
    let (token_hash, ticket) =
        redemption_by(store, token, ProofMethod::Account, NOT_BY_ACCOUNT, now).await?;
    let account = accounts::by_email(store, &ticket.email)
        .await?
        .ok_or_else(|| Error::Conflict("Confirm your address with a code instead.".into()))?;
    let Some(stored) = account.password_hash.clone() else {
        return Err(Error::Conflict(
            "Your account has no password: use your passkey, or a code mailed to you.".into(),
        ));
    };
    let identity = accounts::identity(&account.id);
    prove_with_password(
        store,
        policy,
        &ticket,
        &token_hash,
        stored,
        &identity,
        password,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn prove_with_password(
    store: &Store,
    policy: &SessionPolicy,
    ticket: &Ticket,
    token_hash: &str,
    stored: String,
    identity: &Identity,
    password: &str,
    now: i64,
) -> Result<()> {
    let key = format!("account:{}", ticket.email);
    sessions::reserve_attempt(
        store,
        policy,
        &[(&key, policy.max_failures_per_account)],
        now,
    )
    .await?;
    if !crate::password::verify_blocking(password.to_string(), stored).await {
        return Err(Error::Invalid(vec![types::FieldError {
            field: "password".into(),
            message: "That password is not right.".into(),
        }]));
    }
    let mut tx = store.begin().await?;
    store::sessions::clear_failures(&mut tx, &key).await?;
    let methods = AuthMethods::from(AuthMethod::Password);
    store::invitations::set_proven(&mut tx, token_hash, identity, &methods).await?;
    tx.commit().await?;
    Ok(())
}

/// Mails a new passcode, at most once a minute; the old one stops working.
pub async fn resend_code(store: &Store, token: &str, now: i64) -> Result<()> {
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    refuse_codes_unless_due(store, &ticket, &token_hash).await?;
    let mut tx = store.begin().await?;
    if let Some(code) = store::invitations::code(&mut tx, &token_hash).await?
        && code.created_at + RESEND_INTERVAL > now
    {
        return Err(Error::Throttled {
            retry_after: code.created_at + RESEND_INTERVAL - now,
        });
    }
    send_code(&mut tx, &ticket, &token_hash, now).await?;
    tx.commit().await?;
    Ok(())
}

/// What follows a right passcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterCode {
    /// Who they are is proven: the consent page.
    Consent,
    /// The address is confirmed: their account is to be made.
    CreateAccount,
}

/// Checks a passcode. Five wrong tries use the code up; a new one must be sent.
pub async fn verify_code(store: &Store, token: &str, code: &str, now: i64) -> Result<AfterCode> {
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    let method = refuse_codes_unless_due(store, &ticket, &token_hash).await?;
    let mut tx = store.begin().await?;
    let stored = store::invitations::code(&mut tx, &token_hash)
        .await?
        .ok_or_else(|| Error::Conflict("Ask for a new code.".into()))?;
    if stored.used_at.is_some() || stored.expires_at <= now {
        return Err(Error::Conflict(
            "This code has expired. Ask for a new one.".into(),
        ));
    }
    if stored.attempts >= MAX_CODE_ATTEMPTS {
        return Err(Error::Conflict(
            "Too many wrong codes. Ask for a new one.".into(),
        ));
    }
    let attempts = store::invitations::count_attempt(&mut tx, &token_hash).await?;
    if !secrets::same(&secrets::hash_code(&token_hash, code), &stored.code_hash) {
        let wrong = store::invitations::count_wrong_code(&mut tx, &ticket.invitation_id).await?;
        if wrong >= MAX_WRONG_CODES {
            lock(&mut tx, &ticket, wrong, now).await?;
            tx.commit().await?;
            return Err(Error::Conflict(locked_message(&ticket)));
        }
        tx.commit().await?;
        let left = MAX_CODE_ATTEMPTS - attempts;
        return Err(Error::Invalid(vec![types::FieldError {
            field: "code".into(),
            message: if left > 0 {
                format!("That code is not right. {left} tries left.")
            } else {
                "That code is not right, and it is now used up. Ask for a new one.".into()
            },
        }]));
    }
    store::invitations::use_code(&mut tx, &token_hash, now).await?;
    if method == ProofMethod::NewAccount {
        store::accounts::confirm_address(&mut tx, &token_hash).await?;
        tx.commit().await?;
        return Ok(AfterCode::CreateAccount);
    }
    // After a provider that left the address unconfirmed, the identity is still theirs;
    // else the address's own (its account's, when it has one).
    let (identity, methods) =
        match store::federation::pending_identity(&mut tx, &token_hash).await? {
            Some(federated) => (
                federated,
                AuthMethods::new(&[AuthMethod::Federated, AuthMethod::MailedCode]),
            ),
            None => (
                accounts::identity_of_address(&mut tx, &ticket.email).await?,
                AuthMethods::from(AuthMethod::MailedCode),
            ),
        };
    store::invitations::set_proven(&mut tx, &token_hash, &identity, &methods).await?;
    tx.commit().await?;
    Ok(AfterCode::Consent)
}

/// What the person is told when too many wrong codes locked their invitation.
fn locked_message(ticket: &Ticket) -> String {
    format!(
        "Too many wrong codes were typed for this invitation, so it is locked. Ask {} at {} to send you a new one.",
        ticket.inviter_name, ticket.tenant_name
    )
}

/// Locks an invitation whose codes were guessed at too often: every redemption of it ends,
/// its link stays dead until an administrator sends a new invitation. Audited with
/// Portico itself as the actor.
async fn lock(tx: &mut store::Tx, ticket: &Ticket, wrong: i64, now: i64) -> Result<()> {
    store::invitations::lock(tx, &ticket.invitation_id, now).await?;
    audit::record_by_portico(
        tx,
        &ticket.tenant_id,
        now,
        Change {
            action: "Lock invitation",
            target_type: "User",
            target_id: &ticket.user_id,
            target_name: &ticket.display_name,
            detail: format!(
                "{}: {wrong} wrong one-time codes; send a new invitation to let them in",
                ticket.email
            ),
        },
    )
    .await
}

/// Makes the invited person's Portico account, with a password (same rules as members'),
/// once a passcode confirmed the address; the account is who they are from now on.
pub async fn create_account(store: &Store, token: &str, password: &str, now: i64) -> Result<()> {
    let (token_hash, ticket) =
        redemption_by(store, token, ProofMethod::NewAccount, CONFIRM_FIRST, now).await?;
    crate::password::check_new("password", password, &ticket.email)?;
    let hash = crate::password::hash_blocking(password.to_string()).await?;
    let id = crate::new_id();
    let mut tx = store.begin().await?;
    accounts::create_in(
        &mut tx,
        &ticket,
        &token_hash,
        &id,
        Some(hash.0.as_str()),
        "a password",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What accepting gives the guest: a session in the inviting organization and where to go.
#[derive(Debug)]
pub struct Accepted {
    pub session: OpenedSession,
    pub redirect_url: Option<String>,
}

/// Accepts the invitation for a redemption whose address is proven. Only one acceptance of
/// an invitation ever succeeds. `previous` (the session the browser had, if any) ends: the
/// browser now belongs to the guest.
pub async fn accept(
    store: &Store,
    policy: &SessionPolicy,
    token: &str,
    client: &Client,
    previous: Option<&str>,
    now: i64,
) -> Result<Accepted> {
    let (token_hash, ticket, proven) = redemption(store, token, now).await?;
    let Proven { identity, methods } = proven
        .ok_or_else(|| Error::Conflict("Confirm your email address with the code first.".into()))?;
    let mut tx = store.begin().await?;
    // Checked inside the transaction that accepts, so that a list changed a moment ago
    // counts.
    if let Some((domain, rule)) = blocked_by(&mut tx, &ticket).await? {
        record_refusal(&mut tx, &ticket, &rule, now).await?;
        tx.commit().await?;
        return Err(Error::Forbidden(blocked_message(&ticket, &domain)));
    }
    if !store::invitations::mark_accepted(&mut tx, &ticket.invitation_id, now).await? {
        return Err(Error::InvalidLink);
    }
    store::invitations::set_external_state(
        &mut tx,
        &ticket.user_id,
        ExternalState::Accepted,
        Some(store::invitations::Redeemed {
            identity: &identity,
            email: &ticket.email,
        }),
        now,
    )
    .await?;
    store::invitations::delete_redemption(&mut tx, &token_hash).await?;
    crate::guest_access::start(
        &mut tx,
        &ticket.tenant_id,
        &ticket.user_id,
        &ticket.invitation_id,
        now,
    )
    .await?;
    let guest = Principal::user(
        &ticket.tenant_id,
        &ticket.user_id,
        &ticket.display_name,
        vec![],
        true,
        client.ip.as_deref(),
    );
    audit::record(
        &mut tx,
        &guest,
        now,
        Change {
            action: "Redeem external user invite",
            target_type: "User",
            target_id: &ticket.user_id,
            target_name: &ticket.display_name,
            detail: format!("{} proved {identity}", ticket.email),
        },
    )
    .await?;
    if let Some(previous) = previous {
        store::sessions::delete(&mut tx, &secrets::hash_secret(previous)).await?;
    }
    let session = sessions::open_in(
        &mut tx,
        policy,
        &ticket.user_id,
        &identity,
        &methods,
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        session,
        redirect_url: ticket.redirect_url,
    })
}

/// Declines: the redemption ends, the invitation stays pending (the inviter is told nothing
/// false), and the link can still be used later.
pub async fn decline(store: &Store, token: &str, now: i64) -> Result<()> {
    let (token_hash, _, _) = redemption(store, token, now).await?;
    let mut tx = store.begin().await?;
    store::invitations::delete_redemption(&mut tx, &token_hash).await?;
    tx.commit().await?;
    Ok(())
}
