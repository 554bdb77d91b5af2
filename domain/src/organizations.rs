//! A person across organizations: guests sign in again with a passcode to their address,
//! switch between the organizations where they are accepted guests (and their home one),
//! and leave an organization.

use crate::audit::{self, Change};
use crate::auth_methods::{AuthMethod, AuthMethods};
use crate::outbox::{self, Mail, escape_html};
use crate::sessions::{self, Client, OpenedSession, SessionPolicy, SignedIn};
use crate::store::Tx;
use crate::{Error, Identity, Result, Store, secrets, store, validate};

pub const CODE_LIFETIME: i64 = 600;
pub const MAX_ATTEMPTS: i64 = 5;
/// One-time codes made for one mailbox in a quarter of an hour, at most: sign-in codes and
/// redemption codes together (see [`reserve_mailbox_code`]).
pub const MAX_CODES_PER_WINDOW: i64 = 5;
/// Codes asked for from one address of origin in a quarter of an hour, at most, whatever
/// the mailboxes.
pub const MAX_CODES_PER_ORIGIN: i64 = 30;
/// The window in which codes are counted per mailbox and per address of origin.
pub const CODE_WINDOW: i64 = 900;

/// Starts a guest's sign-in with a passcode. The answer is the same whether or not the
/// address belongs to a guest (nothing tells who has an account); the code is mailed only
/// when it does. Throttled per mailbox and per address of origin (`ip`). Returns the token
/// of this sign-in, for a cookie.
pub async fn send_sign_in_code(
    store: &Store,
    email: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<String> {
    let email = validate::email("email", email)?;
    let identity = crate::accounts::identity_of_address(&mut *store.read().await?, &email).await?;
    let token = secrets::new_secret();
    let token_hash = secrets::hash_secret(&token);
    let mut tx = store.begin().await?;
    let from_origin = match ip {
        Some(ip) => store::sessions::codes_asked_from_since(&mut tx, ip, now - CODE_WINDOW).await?,
        None => 0,
    };
    if from_origin >= MAX_CODES_PER_ORIGIN {
        return Err(Error::Throttled {
            retry_after: CODE_WINDOW,
        });
    }
    reserve_mailbox_code(&mut tx, &email, now).await?;
    let code = secrets::new_code();
    store::sessions::insert_sign_in_code(
        &mut tx,
        &token_hash,
        &email,
        &secrets::hash_code(&token_hash, &code),
        ip,
        now,
        now + CODE_LIFETIME,
    )
    .await?;
    let places = store::sessions::memberships(&mut tx, &identity, None).await?;
    if !places.is_empty() {
        let mail = Mail {
            recipient: email.clone(),
            subject: "Your Portico sign-in code".into(),
            text: format!(
                "Your code to sign in is {code}. It works for 10 minutes.\nIf you did not ask for it, ignore this mail.\n"
            ),
            html: format!(
                "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>Your code to sign in is</p>\
                 <p style=\"font-size:1.6em;letter-spacing:.2em\"><strong>{}</strong></p>\
                 <p>It works for 10 minutes. If you did not ask for it, ignore this mail.</p></body></html>",
                escape_html(&code)
            ),
            secret: true,
        };
        // Filed under no organization: none of them asked for it, and their administrators
        // must not learn who signs in where else.
        outbox::enqueue(&mut tx, None, &mail, now).await?;
    }
    tx.commit().await?;
    Ok(token)
}

/// Counts a one-time code for `email` against the mailbox's limit, which sign-in and
/// redemption share: a code may be tried only so often, so how many codes one mailbox
/// gets bounds how often its codes can be guessed, whichever way they are asked for.
pub(crate) async fn reserve_mailbox_code(tx: &mut Tx, email: &str, now: i64) -> Result<()> {
    if store::sessions::mailbox_codes_since(tx, email, now - CODE_WINDOW).await?
        >= MAX_CODES_PER_WINDOW
    {
        return Err(Error::Throttled {
            retry_after: CODE_WINDOW,
        });
    }
    store::sessions::record_mailbox_code(tx, email, now).await
}

/// Checks the code; on success opens a session in the first organization where the address
/// is an accepted guest.
pub async fn verify_sign_in_code(
    store: &Store,
    policy: &SessionPolicy,
    token: &str,
    code: &str,
    client: &Client,
    now: i64,
) -> Result<OpenedSession> {
    let token_hash = secrets::hash_secret(token);
    let mut tx = store.begin().await?;
    let stored = store::sessions::sign_in_code(&mut tx, &token_hash)
        .await?
        .filter(|c| c.used_at.is_none() && c.expires_at > now)
        .ok_or_else(|| Error::Conflict("This code has expired. Ask for a new one.".into()))?;
    if stored.attempts >= MAX_ATTEMPTS {
        return Err(Error::Conflict(
            "Too many wrong codes. Ask for a new one.".into(),
        ));
    }
    let attempts = store::sessions::count_sign_in_attempt(&mut tx, &token_hash).await?;
    let identity = crate::accounts::identity_of_address(&mut tx, &stored.email).await?;
    let places = store::sessions::memberships(&mut tx, &identity, None).await?;
    let right = secrets::same(&secrets::hash_code(&token_hash, code), &stored.code_hash);
    let Some(first) = places.first().filter(|_| right) else {
        tx.commit().await?;
        let left = MAX_ATTEMPTS - attempts;
        return Err(Error::Invalid(vec![types::FieldError {
            field: "code".into(),
            message: format!("That code is not right. {left} tries left."),
        }]));
    };
    store::sessions::use_sign_in_code(&mut tx, &token_hash, now).await?;
    let methods = AuthMethods::from(AuthMethod::MailedCode);
    let opened = sessions::open_in(
        &mut tx,
        policy,
        &first.user_id,
        &identity,
        &methods,
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(opened)
}

/// Whether a session of `identity`, now in the organization `current`, reaches the
/// organization `place` (the person may switch there, and its apps take the session).
/// An identity from a partner's provider (`oidc:<issuer>#<subject>`) reaches only the
/// organization whose registration of that provider the session signed in through, which
/// is the one it opened in (federated sessions never switch): the provider decided for
/// that organization's client alone, and another organization that registered the same
/// provider needs a sign-in through its own registration. A member's, an account's or an
/// address's identity reaches every organization it redeemed into.
pub(crate) fn reaches(identity: Option<&Identity>, current: &str, place: &str) -> bool {
    match identity {
        Some(identity) if identity.is_federated() => place == current,
        _ => true,
    }
}

/// Moves the session to the person's user in `tenant_id`, which counts as that user's
/// sign-in there.
pub async fn switch(
    store: &Store,
    signed_in: &SignedIn,
    token: &str,
    tenant_id: &str,
    now: i64,
) -> Result<()> {
    // The places the session reaches were read with it (see `sessions::signed_in_of`).
    let target = signed_in
        .memberships
        .iter()
        .find(|p| p.tenant_id == tenant_id)
        .ok_or(Error::NotFound("organization"))?;
    let mut tx = store.begin().await?;
    store::sessions::switch_user(&mut tx, &secrets::hash_secret(token), &target.user_id).await?;
    store::users::signed_in(&mut tx, &target.user_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A guest leaves the current organization: their guest user there is deleted (audited),
/// and the session moves to another organization of theirs, or ends. Returns whether the
/// person is still signed in.
pub async fn leave(store: &Store, signed_in: &SignedIn, token: &str, now: i64) -> Result<bool> {
    if !signed_in.me.guest {
        return Err(Error::Conflict(
            "Only guests can leave an organization; members are removed by an administrator."
                .into(),
        ));
    }
    let user_id = signed_in.me.user_id.clone();
    let mut tx = store.begin().await?;
    // Guests are given no administrator roles, but one given a role before that rule
    // must not leave the organization without a global administrator.
    let user = crate::users::find_in_tenant(&mut tx, &signed_in.principal, &user_id).await?;
    crate::users::keep_a_global_admin(&mut tx, &signed_in.principal.tenant_id, &user).await?;
    audit::record(
        &mut tx,
        &signed_in.principal,
        now,
        Change {
            action: "Leave organization",
            target_type: "User",
            target_id: &user_id,
            target_name: &signed_in.me.display_name,
            detail: signed_in.me.email.clone(),
        },
    )
    .await?;
    // Move the session elsewhere first: deleting the user ends the sessions it has.
    let elsewhere = signed_in.memberships.iter().find(|p| p.user_id != user_id);
    if let Some(place) = &elsewhere {
        store::sessions::switch_user(&mut tx, &secrets::hash_secret(token), &place.user_id).await?;
    }
    store::users::delete(&mut tx, &signed_in.principal.tenant_id, &user_id).await?;
    let still_signed_in = elsewhere.is_some();
    tx.commit().await?;
    Ok(still_signed_in)
}
