//! Flashes: what a form did (and a value shown this once, such as a new secret or link),
//! for the page the form leads back to. Forms post without JavaScript, so that page is a
//! new request, and perhaps on another replica: a flash waits in the database, bound to
//! the session that made it, for [`LIFETIME`] seconds, and is taken once.
//!
//! The browser holds a random id in a cookie. The row is found by the id's hash and its
//! content sealed (AES-256-GCM) with a key derived from the id, so the database alone
//! opens nothing.

use sha2::{Digest, Sha256};
use types::Flash;

use crate::vault::Vault;
use crate::{Error, Result, Store, secrets, store};

/// How long a flash waits for the page that shows it, in seconds.
pub const LIFETIME: i64 = 120;

/// The sealing key of the flash whose cookie carries `id`: apart from the id's hash (the
/// row's key), which is SHA-256 of the id alone.
fn key_of(id: &str) -> Result<Vault> {
    let mut digest = Sha256::new();
    digest.update(b"portico flash key\0");
    digest.update(id.as_bytes());
    Vault::with_key(&digest.finalize().into())
        .map_err(|_| Error::Conflict("Cannot make a key to seal the message.".into()))
}

/// Keeps `flash` for the session whose cookie hashes to `session_hash`; returns the id for
/// the browser's cookie.
pub async fn keep(
    store: &Store,
    session_hash: Option<&str>,
    flash: &Flash,
    now: i64,
) -> Result<String> {
    let id = secrets::new_secret();
    let plain = serde_json::to_vec(flash)
        .map_err(|e| Error::Conflict(format!("Cannot keep the message: {e}")))?;
    let sealed = key_of(&id)?.seal_bytes(b"", &plain)?;
    // A new row under a new key: it decides nothing.
    let mut tx = store.begin_plain().await?;
    store::flashes::insert(
        &mut tx,
        &secrets::hash_secret(&id),
        session_hash,
        &sealed,
        now + LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes the flash whose cookie carries `id`: it is gone afterwards, whoever asks. `None`
/// when there is none, it has expired, it was made in another session, or it does not
/// open with this id.
pub async fn take(
    store: &Store,
    id: &str,
    session_hash: Option<&str>,
    now: i64,
) -> Result<Option<Flash>> {
    let id_hash = secrets::hash_secret(id);
    // Any cookie may name a flash: only one that exists costs a write.
    if !store::flashes::exists(&mut *store.read().await?, &id_hash).await? {
        return Ok(None);
    }
    // Taking it is one statement that removes the row: one taker gets it.
    let mut tx = store.begin_plain().await?;
    let row = store::flashes::take(&mut tx, &id_hash).await?;
    tx.commit().await?;
    let Some((made_in, sealed, expires_at)) = row else {
        return Ok(None);
    };
    if expires_at <= now || made_in.as_deref() != session_hash {
        return Ok(None);
    }
    let Some(opened) = key_of(id)?.open_bytes(b"", sealed) else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&opened).ok())
}
