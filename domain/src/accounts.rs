//! Portico accounts: what invited people make for themselves when no organization of
//! theirs signs them in (a fallback of the redemption order). An account is an identity,
//! `account:<id>`, behind guest users in any number of organizations; it signs in with its
//! password, and a passcode mailed to its address recovers it.

use types::AccountOverview;

use crate::audit::{self, Change};
use crate::sessions::SignedIn;
use crate::store::{self, accounts::Account};
use crate::{Error, Identity, Result, Store};

/// How recent a sign-in must be to change how the account signs in, in seconds.
pub const RECENT_SIGN_IN: i64 = 900;

pub(crate) fn identity(account_id: &str) -> Identity {
    Identity::Account(account_id.into())
}

pub(crate) async fn by_email(store: &Store, email: &str) -> Result<Option<Account>> {
    store::accounts::by_email(&mut *store.read().await?, email).await
}

/// Who a passcode to `email` proves someone is: the account with that address when there
/// is one (the passcode recovers it), else the address itself. Read on `db`: inside a
/// write transaction, that transaction.
pub(crate) async fn identity_of_address(
    db: &mut sqlx::AnyConnection,
    email: &str,
) -> Result<Identity> {
    Ok(match store::accounts::by_email(db, email).await? {
        Some(account) => identity(&account.id),
        None => Identity::Email(email.into()),
    })
}

/// The account the signed-in person used, if they signed in with one.
pub(crate) fn account_of(signed_in: &SignedIn) -> Result<String> {
    signed_in
        .identity
        .as_ref()
        .and_then(Identity::account)
        .map(str::to_string)
        .ok_or(Error::AccessDenied)
}

/// Changing how an account signs in needs a fresh sign-in: a session left open somewhere
/// must not be enough to take the account over.
pub(crate) fn require_recent(signed_in: &SignedIn, now: i64) -> Result<()> {
    if signed_in.auth_time + RECENT_SIGN_IN < now {
        return Err(Error::Conflict(
            "For your safety, sign out and sign in again first (it must be less than 15 minutes ago)."
                .into(),
        ));
    }
    Ok(())
}

/// The signed-in person's account: its address, whether it has a password, its passkeys.
///
/// **Permissions:** the account's holder, signed in with it.
pub async fn overview(store: &Store, signed_in: &SignedIn) -> Result<AccountOverview> {
    let id = account_of(signed_in)?;
    let account = store::accounts::by_id(&mut *store.read().await?, &id)
        .await?
        .ok_or(Error::NotFound("account"))?;
    Ok(AccountOverview {
        email: account.email,
        has_password: account.password_hash.is_some(),
        passkeys: store::accounts::passkey_list(&mut *store.read().await?, &id).await?,
    })
}

fn audit_change<'a>(signed_in: &'a SignedIn, action: &'a str, detail: String) -> Change<'a> {
    Change {
        action,
        target_type: "User",
        target_id: &signed_in.me.user_id,
        target_name: &signed_in.me.display_name,
        detail,
    }
}

/// Ends the account's sessions elsewhere (`session` is the token of the one acting) and
/// revokes the tokens of every guest user it redeemed: after its way in changed, nothing
/// someone else opened with the old one may go on.
async fn end_other_sessions(
    tx: &mut crate::store::Tx,
    account_id: &str,
    session: &str,
    now: i64,
) -> Result<()> {
    let keep = crate::secrets::hash_secret(session);
    crate::sessions::end_identity(tx, &identity(account_id), Some(&keep), now).await?;
    Ok(())
}

/// Sets a new password (the members' rules), e.g. after signing in with a code because
/// the old one was forgotten. The account's other sessions end.
///
/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
pub async fn set_password(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    password: &str,
    now: i64,
) -> Result<()> {
    let id = account_of(signed_in)?;
    require_recent(signed_in, now)?;
    let account = store::accounts::by_id(&mut *store.read().await?, &id)
        .await?
        .ok_or(Error::NotFound("account"))?;
    crate::password::check_new("password", password, &account.email)?;
    let hash = crate::password::hash_blocking(password.to_string()).await?;
    let mut tx = store.begin().await?;
    store::accounts::set_password(&mut tx, &id, &hash.0, now).await?;
    end_other_sessions(&mut tx, &id, session, now).await?;
    let change = audit_change(signed_in, "Change account password", account.email);
    audit::record(&mut tx, &signed_in.principal, now, change).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a passkey; the account keeps at least one way to sign in besides codes. Its
/// other sessions end.
///
/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
pub async fn remove_passkey(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    passkey_id: &str,
    now: i64,
) -> Result<()> {
    let id = account_of(signed_in)?;
    require_recent(signed_in, now)?;
    // Counted inside the write transaction, so two removals at once cannot both pass.
    let mut tx = store.begin().await?;
    let account = store::accounts::by_id(&mut tx, &id)
        .await?
        .ok_or(Error::NotFound("account"))?;
    let passkeys = store::accounts::passkey_list(&mut tx, &id).await?;
    if account.password_hash.is_none() && passkeys.len() <= 1 {
        return Err(Error::Conflict(
            "This is your only passkey and your account has no password: set a password first."
                .into(),
        ));
    }
    if !store::accounts::delete_passkey(&mut tx, &id, passkey_id).await? {
        return Err(Error::NotFound("passkey"));
    }
    end_other_sessions(&mut tx, &id, session, now).await?;
    let change = audit_change(signed_in, "Remove passkey", account.email);
    audit::record(&mut tx, &signed_in.principal, now, change).await?;
    tx.commit().await?;
    Ok(())
}

/// Keeps a new account, made at a redemption whose address a passcode proved: the guests
/// that proved this address with passcodes before belong to it from now on (the same
/// person), the redemption is proven with it, and the inviting organization's audit log
/// says so.
pub(crate) async fn create_in(
    tx: &mut crate::store::Tx,
    ticket: &crate::store::invitations::Ticket,
    redemption_hash: &str,
    id: &str,
    password_hash: Option<&str>,
    how: &str,
    now: i64,
) -> Result<()> {
    store::accounts::insert(tx, id, &ticket.email, password_hash, now)
        .await
        .map_err(|e| {
            Error::conflict_on_unique(
                e,
                "An account with this address was made meanwhile: sign in with it.",
            )
        })?;
    let account = identity(id);
    let address = Identity::Email(ticket.email.clone());
    store::accounts::adopt_identity(tx, &address, &account, now).await?;
    // A code mailed to the address proved it; the new credential proves nothing yet.
    let methods =
        crate::auth_methods::AuthMethods::from(crate::auth_methods::AuthMethod::MailedCode);
    store::invitations::set_proven(tx, redemption_hash, &account, &methods).await?;
    let guest = crate::Principal::user(
        &ticket.tenant_id,
        &ticket.user_id,
        &ticket.display_name,
        vec![],
        true,
        None,
    );
    audit::record(
        tx,
        &guest,
        now,
        Change {
            action: "Create account",
            target_type: "User",
            target_id: &ticket.user_id,
            target_name: &ticket.display_name,
            detail: format!("{} made a Portico account with {how}", ticket.email),
        },
    )
    .await
}
