//! Redeeming an invitation. Opening the link only shows it (mail scanners fetch links); the
//! person then starts a redemption, which is bound to their browser by a cookie. They prove
//! control of the invited address with a one-time passcode mailed there (8 digits, 10
//! minutes, 5 attempts, resent at most once a minute), then accept or decline on a consent
//! page. Accepting succeeds once, however many browsers try at the same moment.

use types::{ExternalState, InvitationInfo, ProofMethod, RedemptionStatus, TicketState};

use crate::audit::{self, Change};
use crate::outbox::{self, Mail, escape_html};
use crate::sessions::{self, Client, OpenedSession, SessionPolicy};
use crate::store::{self, invitations::Ticket};
use crate::{Error, Principal, Result, Store, secrets};

pub const CODE_LIFETIME: i64 = 600;
pub const MAX_CODE_ATTEMPTS: i64 = 5;
pub const RESEND_INTERVAL: i64 = 60;
/// Redemptions one invitation may start in [`START_WINDOW`] seconds.
pub const MAX_STARTS_PER_WINDOW: i64 = 20;
pub const START_WINDOW: i64 = 900;
/// How long a started redemption may take.
pub const REDEMPTION_LIFETIME: i64 = 3600;

fn info(ticket: &Ticket) -> InvitationInfo {
    InvitationInfo {
        tenant_name: ticket.tenant_name.clone(),
        tenant_domain: ticket.tenant_domain.clone(),
        privacy_url: ticket.privacy_url.clone(),
        inviter_name: ticket.inviter_name.clone(),
        email: ticket.email.clone(),
        display_name: ticket.display_name.clone(),
        message: ticket.message.clone(),
    }
}

/// What the link in a mail leads to. Changes nothing.
pub async fn look_up(store: &Store, ticket: &str, now: i64) -> Result<TicketState> {
    let Some(found) =
        store::invitations::by_ticket(store.reader(), &secrets::hash_secret(ticket)).await?
    else {
        return Ok(TicketState::Unknown);
    };
    Ok(match found.status.as_str() {
        "PendingAcceptance" if found.expires_at > now => TicketState::Open(info(&found)),
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

/// A redemption just started: `token` goes into a cookie of the browser that started it.
#[derive(Debug)]
pub struct Started {
    pub token: String,
    pub email: String,
}

/// Starts redeeming an open invitation: mails a passcode to the invited address.
pub async fn start(store: &Store, ticket: &str, now: i64) -> Result<Started> {
    let found = store::invitations::by_ticket(store.reader(), &secrets::hash_secret(ticket))
        .await?
        .filter(|t| t.status == "PendingAcceptance" && t.expires_at > now)
        .ok_or(Error::InvalidLink)?;
    let token = secrets::new_secret();
    let token_hash = secrets::hash_secret(&token);
    let mut tx = store.begin().await?;
    // Each start mails a code to the invited address: a link in the wrong hands must not
    // become a way to flood that mailbox.
    let recent =
        store::invitations::redemptions_since(&mut *tx, &found.invitation_id, now - START_WINDOW)
            .await?;
    if recent >= MAX_STARTS_PER_WINDOW {
        return Err(Error::Throttled {
            retry_after: START_WINDOW,
        });
    }
    store::invitations::insert_redemption(
        &mut *tx,
        &token_hash,
        &found.invitation_id,
        now,
        now + REDEMPTION_LIFETIME,
    )
    .await?;
    if proof_method(store, &found.email).await? == ProofMethod::EmailCode {
        send_code(&mut tx, &found, &token_hash, now).await?;
    }
    tx.commit().await?;
    Ok(Started {
        token,
        email: found.email,
    })
}

async fn send_code(tx: &mut store::Tx, ticket: &Ticket, token_hash: &str, now: i64) -> Result<()> {
    let code = secrets::new_code();
    store::invitations::put_code(
        &mut **tx,
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
    outbox::enqueue(tx, &ticket.tenant_id, &mail, now).await?;
    Ok(())
}

async fn redemption(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<(String, Ticket, Option<String>)> {
    let token_hash = secrets::hash_secret(token);
    let (ticket, proven) = store::invitations::by_redemption(store.reader(), &token_hash, now)
        .await?
        .filter(|(t, _)| t.status == "PendingAcceptance" && t.expires_at > now)
        .ok_or(Error::InvalidLink)?;
    Ok((token_hash, ticket, proven))
}

/// Who is invited, for the passcode page; also says whether the address is proven.
pub async fn status(store: &Store, token: &str, now: i64) -> Result<RedemptionStatus> {
    let (_, ticket, proven) = redemption(store, token, now).await?;
    Ok(RedemptionStatus {
        info: info(&ticket),
        method: proof_method(store, &ticket.email).await?,
        proven: proven.is_some(),
    })
}

async fn refuse_codes_for_members(store: &Store, email: &str) -> Result<()> {
    if proof_method(store, email).await? == ProofMethod::HomePassword {
        return Err(Error::Conflict(
            "This address has an account here: confirm it with that account's password.".into(),
        ));
    }
    Ok(())
}

/// A member of another organization here proves the address by signing in at home (their
/// own credentials); anyone else with a code to the address.
async fn proof_method(store: &Store, email: &str) -> Result<ProofMethod> {
    let home = store::users::member_credentials(store.reader(), email).await?;
    Ok(match home {
        Some(member) if member.enabled && member.password_hash.is_some() => {
            ProofMethod::HomePassword
        }
        _ => ProofMethod::EmailCode,
    })
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
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    let key = format!("account:{}", ticket.email);
    let (failures, window_start) =
        store::sessions::failures(store.reader(), &key, now, policy.throttle_window).await?;
    if failures >= policy.max_failures_per_account {
        return Err(Error::Throttled {
            retry_after: (window_start + policy.throttle_window - now).max(1),
        });
    }
    let member = store::users::member_credentials(store.reader(), &ticket.email)
        .await?
        .filter(|m| m.enabled)
        .ok_or_else(|| Error::Conflict("Confirm your address with a code instead.".into()))?;
    let stored = member.password_hash.clone().unwrap_or_default();
    let mut tx = store.begin().await?;
    if !crate::password::verify_blocking(password.to_string(), stored).await {
        store::sessions::record_failure(&mut *tx, &key, now, policy.throttle_window).await?;
        tx.commit().await?;
        return Err(Error::Invalid(vec![types::FieldError {
            field: "password".into(),
            message: "That password is not right.".into(),
        }]));
    }
    store::invitations::set_proven(&mut *tx, &token_hash, &format!("member:{}", member.id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Mails a new passcode, at most once a minute; the old one stops working.
pub async fn resend_code(store: &Store, token: &str, now: i64) -> Result<()> {
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    refuse_codes_for_members(store, &ticket.email).await?;
    let mut tx = store.begin().await?;
    if let Some(code) = store::invitations::code(&mut *tx, &token_hash).await?
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

/// Checks a passcode. Five wrong tries use the code up; a new one must be sent.
pub async fn verify_code(store: &Store, token: &str, code: &str, now: i64) -> Result<()> {
    let (token_hash, ticket, _) = redemption(store, token, now).await?;
    refuse_codes_for_members(store, &ticket.email).await?;
    let mut tx = store.begin().await?;
    let stored = store::invitations::code(&mut *tx, &token_hash)
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
    let attempts = store::invitations::count_attempt(&mut *tx, &token_hash).await?;
    if secrets::hash_code(&token_hash, code) != stored.code_hash {
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
    store::invitations::use_code(&mut *tx, &token_hash, now).await?;
    store::invitations::set_proven(&mut *tx, &token_hash, &format!("email:{}", ticket.email))
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
    let identity = proven
        .ok_or_else(|| Error::Conflict("Confirm your email address with the code first.".into()))?;
    let mut tx = store.begin().await?;
    if !store::invitations::mark_accepted(&mut *tx, &ticket.invitation_id, now).await? {
        return Err(Error::InvalidLink);
    }
    store::invitations::set_external_state(
        &mut *tx,
        &ticket.user_id,
        ExternalState::Accepted,
        Some(&identity),
        now,
    )
    .await?;
    store::invitations::delete_redemption(&mut *tx, &token_hash).await?;
    let guest = Principal {
        tenant_id: ticket.tenant_id.clone(),
        user_id: Some(ticket.user_id.clone()),
        name: ticket.display_name.clone(),
        roles: vec![],
        ip: client.ip.clone(),
    };
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
        store::sessions::delete(&mut *tx, &secrets::hash_secret(previous)).await?;
    }
    let session =
        sessions::open_in(&mut tx, policy, &ticket.user_id, &identity, client, now).await?;
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
    store::invitations::delete_redemption(&mut *tx, &token_hash).await?;
    tx.commit().await?;
    Ok(())
}
