//! Passkeys as second factors, for anyone who signs in here: a member, a Portico account,
//! a guest with mailed codes, a partner's person. Kept by identity, as authenticator apps
//! are ([`crate::second_factors`], whose rules they follow: changes need a recent sign-in
//! and, for someone with a factor, a multi-factor session; each change ends the person's
//! other sessions and is audited; the last factor stays while a policy asks for one).
//!
//! A passkey factor is registered at the security page, or at the step-up page as a first
//! factor, and verified at the step-up page; either way the session gains
//! [`AuthMethod::PasskeyFactor`], which is multi-factor and phishing-resistant. It also
//! signs its holder in without a password ([`crate::passkeys::begin_sign_in`]), except a
//! partner's people, whose provider decides who they are.
//!
//! The ceremonies are [`crate::passkeys`]'s, bound to the identity and the session that
//! began them.

use webauthn_rs::prelude::{Passkey, Uuid};

use crate::auth_methods::AuthMethod;
use crate::passkeys::{Begun, Passkeys, Purpose, json, keep, refused};
use crate::second_factors::{self as factors, Purpose as Where};
use crate::sessions::SignedIn;
use crate::store::{self, passkeys::Ceremony};
use crate::{Error, Identity, Result, Store, secrets};

/// The name a passkey factor gets when the person gives none.
pub const DEFAULT_NAME: &str = "Passkey";

/// The identity's passkey factors as (credential id, passkey), as webauthn-rs reads them.
pub(crate) async fn stored(
    db: &mut sqlx::AnyConnection,
    identity: &Identity,
) -> Result<Vec<(String, Passkey)>> {
    Ok(store::passkeys::factors_of(db, identity)
        .await?
        .into_iter()
        .filter_map(|f| Some((f.id, serde_json::from_str(&f.passkey).ok()?)))
        .collect())
}

/// The WebAuthn user handle of an identity: derived from its printed form, so it is the
/// same for each of the person's passkeys and says nothing of who they are (an address is
/// not handed to the authenticator as the handle).
fn user_handle(identity: &Identity) -> Uuid {
    let hash = ring::digest::digest(
        &ring::digest::SHA256,
        format!("portico-passkey-user:{identity}").as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    Uuid::from_bytes(bytes)
}

/// Begins registering a passkey as a second factor of the signed-in person, to be called
/// `name`, at the security page ([`Where::Settings`]) or as a first factor at the step-up
/// page ([`Where::StepUp`], going on to `next` after). Refused where setting up an
/// authenticator app would be.
///
/// **Permissions:** anyone signed in, for themselves, under [`Where`]'s rule.
#[allow(clippy::too_many_arguments)]
pub async fn begin_adding(
    store: &Store,
    passkeys: &Passkeys,
    signed_in: &SignedIn,
    session: &str,
    place: Where,
    name: &str,
    next: Option<&str>,
    now: i64,
) -> Result<Begun> {
    let webauthn = passkeys.webauthn()?;
    let identity = factors::identity_of(signed_in)?;
    let name = factors::factor_name(name, DEFAULT_NAME)?;
    let mut db = store.read().await?;
    let has_factor = factors::has_any(&mut db, identity).await?;
    factors::may_enroll(signed_in, place, has_factor, now)?;
    let existing: Vec<_> = stored(&mut db, identity)
        .await?
        .into_iter()
        .map(|(_, p)| p.cred_id().clone())
        .collect();
    drop(db);
    let (options, state) = webauthn
        .start_passkey_registration(
            user_handle(identity),
            &signed_in.me.email,
            &signed_in.me.display_name,
            Some(existing),
        )
        .map_err(refused)?;
    let purpose = match place {
        Where::Settings => Purpose::AddFactor,
        Where::StepUp => Purpose::AddFirstFactor,
    };
    let ceremony = Ceremony {
        identity: Some(identity.clone()),
        session_hash: Some(secrets::hash_secret(session)),
        name: Some(name),
        next: next.map(str::to_string),
        ..purpose.ceremony(json(&state)?, now)
    };
    keep(store, ceremony, json(&options)?).await
}

/// Begins verifying one of the signed-in person's passkey factors in this session, going
/// on to `next` after.
///
/// **Permissions:** anyone signed in, for themselves.
pub async fn begin_verifying(
    store: &Store,
    passkeys: &Passkeys,
    signed_in: &SignedIn,
    session: &str,
    next: Option<&str>,
    now: i64,
) -> Result<Begun> {
    let webauthn = passkeys.webauthn()?;
    let identity = factors::identity_of(signed_in)?;
    let list: Vec<Passkey> = stored(&mut *store.read().await?, identity)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if list.is_empty() {
        return Err(Error::Conflict(
            "You have no passkey registered as a second factor here.".into(),
        ));
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&list)
        .map_err(refused)?;
    let ceremony = Ceremony {
        identity: Some(identity.clone()),
        session_hash: Some(secrets::hash_secret(session)),
        next: next.map(str::to_string),
        ..Purpose::VerifyFactor.ceremony(json(&state)?, now)
    };
    keep(store, ceremony, json(&options)?).await
}

/// Keeps a registered passkey (credential `id`, webauthn-rs's `passkey` JSON) as the
/// person's second factor `name`: the rule of `place` is checked again (a factor may have
/// come meanwhile), this session gains it, the first factor comes with recovery codes
/// (returned, shown once), the person's other sessions end, and the audit log says so.
///
/// **Permissions:** anyone signed in, for themselves, under [`Where`]'s rule; called once
/// the ceremony they began in this session checked out.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    place: Where,
    name: &str,
    id: &str,
    passkey: &str,
    now: i64,
) -> Result<Option<Vec<String>>> {
    let identity = factors::identity_of(signed_in)?;
    let name = factors::factor_name(name, DEFAULT_NAME)?;
    let mut tx = store.begin().await?;
    let has_factor = factors::has_any(&mut tx, identity).await?;
    factors::may_enroll(signed_in, place, has_factor, now)?;
    store::passkeys::insert_factor(&mut tx, id, identity, &name, passkey, now)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "This passkey is registered already."))?;
    let recovery_codes = match store::second_factors::recovery_codes_left(&mut tx, identity).await?
    {
        0 => Some(factors::replace_recovery_codes(&mut tx, identity, now).await?),
        _ => None,
    };
    factors::gain(&mut tx, signed_in, session, AuthMethod::PasskeyFactor).await?;
    let ended = factors::end_others(&mut tx, identity, session).await?;
    let detail = format!(
        "passkey \u{201c}{name}\u{201d}{}; {ended}",
        if recovery_codes.is_some() {
            ", with new recovery codes"
        } else {
            ""
        }
    );
    factors::record(&mut tx, signed_in, "Add second factor", detail, now).await?;
    tx.commit().await?;
    Ok(recovery_codes)
}

/// Records that the person's passkey factor `id` answered a challenge begun in this
/// session: its counter (`updated`, when it moved) and last use are kept, the session
/// gains it, and the audit log says so.
///
/// **Permissions:** anyone signed in, for their own passkey; called once the ceremony
/// they began in this session checked out.
pub(crate) async fn verified(
    store: &Store,
    signed_in: &SignedIn,
    session: &str,
    id: &str,
    updated: Option<&str>,
    now: i64,
) -> Result<()> {
    let identity = factors::identity_of(signed_in)?;
    let mut tx = store.begin().await?;
    let factor = store::passkeys::factors_of(&mut tx, identity)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| {
            Error::Conflict("This passkey is not one of your second factors any more.".into())
        })?;
    store::passkeys::used_factor(&mut tx, &factor.id, updated, now).await?;
    factors::gain(&mut tx, signed_in, session, AuthMethod::PasskeyFactor).await?;
    let detail = format!("passkey \u{201c}{}\u{201d}", factor.name);
    factors::record(&mut tx, signed_in, "Verify second factor", detail, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_handle_is_stable_per_identity_and_says_nothing_of_it() {
        let mia = Identity::Member("0193".into());
        let ann = Identity::Email("ann@partner.example".into());
        assert_eq!(user_handle(&mia), user_handle(&mia.clone()));
        assert_ne!(user_handle(&mia), user_handle(&ann));
        assert!(!user_handle(&ann).to_string().contains("ann"));
    }
}
