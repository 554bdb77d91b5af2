//! Passwords: the rules a new password must meet (OWASP ASVS 5.0, 6.2) and argon2id hashing.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash};
use types::FieldError;

use crate::{Error, Result};

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// The most common passwords of at least eight characters (from Django's list, itself from
/// Royce Williams' compilation of breached passwords), lower-cased.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// A stored argon2id hash. Deliberately neither `Serialize` nor `Display`, so it cannot end
/// up in a response or a log.
pub struct StoredHash(pub(crate) String);

/// Checks a new password; `email` is the account's address, which the password may not be.
pub fn check_new(field: &str, password: &str, email: &str) -> Result<(), FieldError> {
    let refuse = |message: &str| {
        Err(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return refuse("Use at least 8 characters.");
    }
    if length > MAX_LENGTH {
        return refuse("Use at most 128 characters.");
    }
    let lower = password.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return refuse("This password is one of the most common ones. Choose another.");
    }
    if !email.is_empty() && (lower == email || lower == email.split('@').next().unwrap_or("")) {
        return refuse("Do not use your email address as your password.");
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash(password: &str) -> Result<StoredHash> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| StoredHash(hash.to_string()))
        .map_err(|e| Error::Hashing(e.to_string()))
}

/// Whether `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that a sign-in for an
/// unknown address takes as long as one with a wrong password.
pub(crate) static DECOY: LazyLock<String> = LazyLock::new(|| {
    hash("portico-decoy-password")
        .map(|h| h.0)
        .unwrap_or_default()
});

/// [`hash`] on a blocking thread: argon2id is deliberately slow and must not stall the
/// threads that serve requests.
pub async fn hash_blocking(password: String) -> Result<StoredHash> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| Error::Hashing(e.to_string()))?
}

/// [`verify`] on a blocking thread.
pub async fn verify_blocking(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &stored))
        .await
        .unwrap_or(false)
}
