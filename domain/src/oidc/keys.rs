//! The keys that sign ID tokens: made at first start and kept in the database, published
//! as a JSON Web Key Set. Signing uses the newest key; older ones stay published until the
//! tokens they signed have expired.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, sha2::Sha256};
use serde_json::{Value, json};

use super::ID_TOKEN_LIFETIME;
use crate::store::oidc::StoredKey;
use crate::{Error, Result, Store, secrets, store};

/// Signs JSON Web Tokens with the current key. Made once at start-up and shared.
#[derive(Clone)]
pub struct Signer {
    kid: String,
    key: SigningKey<Sha256>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish()
    }
}

fn key_error(error: impl std::fmt::Display) -> Error {
    Error::Hashing(format!("signing key: {error}"))
}

/// A new RSA 2048 key for RS256, as stored.
fn new_key() -> Result<StoredKey> {
    let private = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(key_error)?;
    let kid = secrets::hash_secret(&secrets::new_secret())[..16].to_string();
    let public = private.to_public_key();
    let jwk = json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    });
    Ok(StoredKey {
        kid,
        alg: "RS256".into(),
        private_der: private
            .to_pkcs8_der()
            .map_err(key_error)?
            .as_bytes()
            .to_vec(),
        public_jwk: jwk.to_string(),
    })
}

fn signer_of(stored: StoredKey) -> Result<Signer> {
    let private = RsaPrivateKey::from_pkcs8_der(&stored.private_der).map_err(key_error)?;
    Ok(Signer {
        kid: stored.kid,
        key: SigningKey::<Sha256>::new(private),
    })
}

/// The current signing key, made and stored when there is none yet.
pub async fn load_or_create(store: &Store, now: i64) -> Result<Signer> {
    let mut tx = store.begin().await?;
    let stored = match store::oidc::current_key(&mut *tx).await? {
        Some(stored) => stored,
        None => {
            let stored = new_key()?;
            store::oidc::insert_key(&mut *tx, &stored, now).await?;
            stored
        }
    };
    tx.commit().await?;
    signer_of(stored)
}

/// The current signing key when it is not `kid` any more (another process rotated it).
pub async fn changed_since(store: &Store, kid: &str) -> Result<Option<Signer>> {
    match store::oidc::current_key(store.reader()).await? {
        Some(stored) if stored.kid != kid => signer_of(stored).map(Some),
        _ => Ok(None),
    }
}

/// Replaces the signing key: a new one signs from now on; the old one stays published
/// until the last ID token it signed has expired. Returns the new key's id. Operators
/// rotate from the command line; running servers pick the new key up within
/// [`RELOAD_SECONDS`].
pub async fn rotate(store: &Store, now: i64) -> Result<String> {
    let stored = new_key()?;
    let mut tx = store.begin().await?;
    store::oidc::retire_keys(&mut *tx, now).await?;
    store::oidc::insert_key(&mut *tx, &stored, now).await?;
    tx.commit().await?;
    Ok(stored.kid)
}

/// How often a server looks for a rotated key.
pub const RELOAD_SECONDS: u64 = 5;

impl Signer {
    /// The id of the key, as published.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS (RS256) of `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(input.as_bytes()).to_vec();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// The published key set: `{"keys": [...]}`.
pub async fn jwks(store: &Store, now: i64) -> Result<Value> {
    let keys: Vec<Value> = store::oidc::published_keys(store.reader(), now - ID_TOKEN_LIFETIME)
        .await?
        .iter()
        .filter_map(|k| serde_json::from_str(k).ok())
        .collect();
    Ok(json!({ "keys": keys }))
}
