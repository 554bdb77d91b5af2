//! The keys that sign ID tokens: one RS256 (RSA 2048, the default) and one ES256 (P-256)
//! key, made at first start and kept in the database, published as a JSON Web Key Set.
//! Each app's ID tokens are signed with the algorithm it asked for; rotation replaces both
//! keys, and the old ones stay published until the tokens they signed have expired.
//!
//! RSA keys are made and used with OpenSSL, which the server links already (passkeys use
//! it): on CPUs with AVX-512 IFMA its RSA-2048 signature takes half the time of `ring`'s,
//! and an RS256 code flow spends most of its time signing. ES256 stays with `ring`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use types::SigningAlg;

use super::ID_TOKEN_LIFETIME;
use crate::store::oidc::StoredKey;
use crate::{Error, Result, Store, secrets, store};

/// How often a server looks for a rotated key.
pub const RELOAD_SECONDS: u64 = 5;

/// Signs JSON Web Tokens with the current keys. Made once at start-up and shared.
#[derive(Clone)]
pub struct Signer {
    rs256: (String, PKey<Private>),
    es256: (String, Arc<EcdsaKeyPair>),
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("rs256", &self.rs256.0)
            .field("es256", &self.es256.0)
            .finish()
    }
}

fn key_error(error: impl std::fmt::Display) -> Error {
    Error::Hashing(format!("signing key: {error}"))
}

fn kid() -> String {
    secrets::hash_secret(&secrets::new_secret())[..16].to_string()
}

/// A new key for `alg`, as stored: the private key in PKCS#8, the public one as a JWK.
fn new_key(alg: SigningAlg) -> Result<StoredKey> {
    let kid = kid();
    let (der, jwk) = match alg {
        SigningAlg::RS256 => {
            let rsa = Rsa::generate(2048).map_err(key_error)?;
            let jwk = json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
                "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
            });
            let der = PKey::from_rsa(rsa)
                .and_then(|key| key.private_key_to_pkcs8())
                .map_err(key_error)?;
            (der, jwk)
        }
        SigningAlg::ES256 => {
            let rng = SystemRandom::new();
            let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let der = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(key_error)?;
            let pair = EcdsaKeyPair::from_pkcs8(alg, der.as_ref(), &rng).map_err(key_error)?;
            let jwk = es256_jwk(&kid, &pair);
            (der.as_ref().to_vec(), jwk)
        }
    };
    Ok(StoredKey {
        kid,
        alg: alg.as_str().into(),
        private_der: der,
        public_jwk: jwk.to_string(),
    })
}

/// The public half of an ES256 key as a JWK.
fn es256_jwk(kid: &str, pair: &EcdsaKeyPair) -> Value {
    // An uncompressed point: 0x04, then x and y.
    let point = pair.public_key().as_ref();
    json!({
        "kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    })
}

/// Checks a compact JWS signed with ES256 against `jwk` (an EC P-256 public key whose
/// `kid` the JWS names) and answers its payload; the error says what does not hold. Needs
/// nothing but the two: an auditor's copy is checked without the database.
pub fn verify_es256(jws: &str, jwk: &Value) -> std::result::Result<Value, String> {
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the signature is not a compact JWS".into());
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "the signature is not base64url".to_string())
    };
    let header: Value = serde_json::from_slice(&decode(header)?)
        .map_err(|_| "the signature's header is not JSON".to_string())?;
    if header["alg"] != "ES256" {
        return Err("the signature is not ES256".into());
    }
    if header["kid"] != jwk["kid"] {
        return Err("the signature names another key than the one given".into());
    }
    let coordinate = |name: &str| {
        jwk[name]
            .as_str()
            .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| format!("the key's {name} is not a P-256 coordinate"))
    };
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return Err("the key is not an EC P-256 key".into());
    }
    let mut point = vec![4u8];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    let input_len = jws.len() - signature.len() - 1;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(&jws.as_bytes()[..input_len], &decode(signature)?)
        .map_err(|_| "the signature does not verify with the key".to_string())?;
    serde_json::from_slice(&decode(payload)?).map_err(|_| "the signed payload is not JSON".into())
}

/// The RFC 7638 thumbprint of an EC public key (SHA-256, base64url): what to compare with a
/// key one trusts.
pub fn ec_thumbprint(jwk: &Value) -> String {
    use sha2::{Digest, Sha256};
    let canonical = format!(
        r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#,
        jwk["crv"], jwk["kty"], jwk["x"], jwk["y"]
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn signer_of(rs256: &StoredKey, es256: &StoredKey) -> Result<Signer> {
    let rng = SystemRandom::new();
    let rsa = PKey::private_key_from_pkcs8(&rs256.private_der).map_err(key_error)?;
    // An RSA key of at least 2048 bits whose parts agree (as `ring` checked before).
    let sound = rsa.id() == Id::RSA
        && rsa.bits() >= 2048
        && rsa.rsa().and_then(|key| key.check_key()).unwrap_or(false);
    if !sound {
        return Err(key_error(format!(
            "key {} is not a sound RSA key of 2048 bits or more",
            rs256.kid
        )));
    }
    let ec = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &es256.private_der,
        &rng,
    )
    .map_err(key_error)?;
    Ok(Signer {
        rs256: (rs256.kid.clone(), rsa),
        es256: (es256.kid.clone(), Arc::new(ec)),
        rng,
    })
}

/// The current key of each algorithm, made and stored where there is none yet.
pub async fn load_or_create(store: &Store, now: i64) -> Result<Signer> {
    let mut tx = store.begin().await?;
    let mut keys = Vec::new();
    for alg in [SigningAlg::RS256, SigningAlg::ES256] {
        let key = match store::oidc::current_key(&mut tx, alg.as_str()).await? {
            Some(key) => key,
            None => {
                let key = new_key(alg)?;
                store::oidc::insert_key(&mut tx, &key, now).await?;
                key
            }
        };
        keys.push(key);
    }
    tx.commit().await?;
    signer_of(&keys[0], &keys[1])
}

/// The current keys when they are not the ones `signer` has (another process rotated
/// them).
pub async fn changed_since(store: &Store, signer: &Signer) -> Result<Option<Signer>> {
    let mut db = store.read().await?;
    let rs256 = store::oidc::current_key(&mut db, SigningAlg::RS256.as_str()).await?;
    let es256 = store::oidc::current_key(&mut db, SigningAlg::ES256.as_str()).await?;
    match (rs256, es256) {
        (Some(rs), Some(es)) if rs.kid != signer.rs256.0 || es.kid != signer.es256.0 => {
            signer_of(&rs, &es).map(Some)
        }
        _ => Ok(None),
    }
}

/// Replaces both signing keys: new ones sign from now on; the old ones stay published
/// until the last ID token they signed has expired. Returns the new keys' ids. Operators
/// rotate from the command line; running servers pick the new keys up within
/// [`RELOAD_SECONDS`].
pub async fn rotate(store: &Store, now: i64) -> Result<Vec<String>> {
    let keys = [new_key(SigningAlg::RS256)?, new_key(SigningAlg::ES256)?];
    let mut tx = store.begin().await?;
    store::oidc::retire_keys(&mut tx, now).await?;
    for key in &keys {
        store::oidc::insert_key(&mut tx, key, now).await?;
    }
    tx.commit().await?;
    Ok(keys.into_iter().map(|k| k.kid).collect())
}

impl Signer {
    /// The ids of the keys in use, RS256 first.
    pub fn kids(&self) -> [&str; 2] {
        [&self.rs256.0, &self.es256.0]
    }

    /// The public half of the ES256 key, as a JWK.
    pub fn es256_public_jwk(&self) -> Value {
        es256_jwk(&self.es256.0, &self.es256.1)
    }

    /// A compact JWS of `claims` signed with `alg`.
    pub fn sign(&self, alg: SigningAlg, claims: &Value) -> Result<String> {
        let kid = match alg {
            SigningAlg::RS256 => &self.rs256.0,
            SigningAlg::ES256 => &self.es256.0,
        };
        let header = json!({ "alg": alg.as_str(), "typ": "JWT", "kid": kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match alg {
            // PKCS #1 v1.5 padding, OpenSSL's default for RSA.
            SigningAlg::RS256 => openssl::sign::Signer::new(MessageDigest::sha256(), &self.rs256.1)
                .and_then(|mut signer| signer.sign_oneshot_to_vec(input.as_bytes()))
                .map_err(key_error)?,
            SigningAlg::ES256 => self
                .es256
                .1
                .sign(&self.rng, input.as_bytes())
                .map_err(key_error)?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The published key set: `{"keys": [...]}`.
pub async fn jwks(store: &Store, now: i64) -> Result<Value> {
    let keys: Vec<Value> =
        store::oidc::published_keys(&mut *store.read().await?, now - ID_TOKEN_LIFETIME)
            .await?
            .iter()
            .filter_map(|k| serde_json::from_str(k).ok())
            .collect();
    Ok(json!({ "keys": keys }))
}

/// The claims of a compact JWS that this Portico signed with ES256 (a program's access
/// token), when its signature checks out against the current key or one still published;
/// `None` for anything else. Says nothing of the claims themselves: the caller checks
/// issuer, audience and times.
pub async fn verified_es256(
    store: &Store,
    signer: &Signer,
    token: &str,
    now: i64,
) -> Result<Option<Value>> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let Some(header_json) = decode(header).and_then(|h| serde_json::from_slice::<Value>(&h).ok())
    else {
        return Ok(None);
    };
    let (Some("ES256"), Some(kid)) = (header_json["alg"].as_str(), header_json["kid"].as_str())
    else {
        return Ok(None);
    };
    let point = if kid == signer.es256.0 {
        Some(signer.es256.1.public_key().as_ref().to_vec())
    } else {
        published_point(store, kid, now).await?
    };
    let (Some(point), Some(signature)) = (point, decode(signature)) else {
        return Ok(None);
    };
    let key = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point);
    if key
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .is_err()
    {
        return Ok(None);
    }
    Ok(decode(claims).and_then(|c| serde_json::from_slice(&c).ok()))
}

/// The public point (`0x04 ‖ x ‖ y`) of the published P-256 key `kid`, if there is one.
async fn published_point(store: &Store, kid: &str, now: i64) -> Result<Option<Vec<u8>>> {
    let published = store::oidc::published_keys(
        &mut *store.read().await?,
        now - super::ACCESS_TOKEN_LIFETIME,
    )
    .await?;
    Ok(published
        .iter()
        .filter_map(|jwk| serde_json::from_str::<Value>(jwk).ok())
        .find(|jwk| jwk["kid"] == kid && jwk["kty"] == "EC" && jwk["crv"] == "P-256")
        .and_then(|jwk| {
            let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str()?).ok()?;
            let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str()?).ok()?;
            (x.len() == 32 && y.len() == 32).then(|| [&[4u8][..], &x, &y].concat())
        }))
}
