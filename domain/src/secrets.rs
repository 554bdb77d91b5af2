//! Random secrets (session ids, setup tickets) and how they are kept: only a SHA-256 hash
//! of a secret is ever stored, so a copy of the database opens no session. Looking a secret
//! up by its hash means no comparison of the secret itself ever depends on its bytes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A new secret of 256 random bits, URL-safe, to hand out once.
pub fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The form in which a secret is stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// Same bytes, compared without stopping at the first difference (for hashes of secrets
/// presented by clients).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A new 8-digit one-time code, for a person to type.
pub fn new_code() -> String {
    let number = u32::from_le_bytes(random_bytes::<4>()) % 100_000_000;
    format!("{number:08}")
}

/// How a one-time code is stored: hashed together with the hash of the secret it belongs
/// to, so the same digits mean nothing for another sign-in or redemption. Whatever the
/// person typed besides digits (spaces, dashes) is ignored.
pub fn hash_code(owner_hash: &str, typed: &str) -> String {
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    hash_secret(&format!("{owner_hash}:{digits}"))
}
