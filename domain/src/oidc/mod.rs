//! Portico as an OpenID Connect provider: every app registered in a tenant is a relying
//! party, and Portico signs people in to it only when they may use it. A tenant's issuer
//! is `{public URL}/{tenant}/v2.0`, like Entra's, under each of the tenant's names. Authorization code flow only,
//! PKCE (S256) required for public clients, codes single-use for a minute, refresh tokens
//! rotated with reuse detection, and client credentials for programs.

pub mod access;
pub mod authorize;
pub mod clients;
pub mod keys;
pub mod tokens;

pub use keys::Signer;

/// Seconds an authorization code may wait for its exchange.
pub const CODE_LIFETIME: i64 = 60;
/// Seconds an access token works.
pub const ACCESS_TOKEN_LIFETIME: i64 = 3600;
/// Seconds an ID token is valid (and a retired key stays published after its last one).
pub const ID_TOKEN_LIFETIME: i64 = 3600;
/// Seconds a refresh token may wait to be used.
pub const REFRESH_TOKEN_LIFETIME: i64 = 14 * 86_400;

/// The issuer of a tenant's tokens under one of its names (its id, slug or primary
/// domain): each name is an issuer of its own, so that discovery under any of them names
/// the address it was fetched from (OpenID Connect Discovery 1.0 §4.3), and tokens issued
/// through that name's endpoints name it too. The id never changes.
pub fn issuer(public_url: &str, tenant: &str) -> String {
    format!("{}/{tenant}/v2.0", public_url.trim_end_matches('/'))
}

/// An OAuth 2.0 error, as the protocol names it (`invalid_grant`, …), with words for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    pub error: &'static str,
    pub description: String,
}

impl ProtocolError {
    pub fn new(error: &'static str, description: impl Into<String>) -> ProtocolError {
        ProtocolError {
            error,
            description: description.into(),
        }
    }
}

/// What the token endpoint and the authorize endpoint fail with: a protocol error the
/// client is told about, or a failure of Portico itself.
#[derive(Debug)]
pub enum Failure {
    Protocol(ProtocolError),
    Internal(crate::Error),
}

impl From<crate::Error> for Failure {
    fn from(error: crate::Error) -> Self {
        Failure::Internal(error)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Failure::Internal(error.into())
    }
}

impl From<ProtocolError> for Failure {
    fn from(error: ProtocolError) -> Self {
        Failure::Protocol(error)
    }
}

pub(crate) fn refuse<T>(error: &'static str, description: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Protocol(ProtocolError::new(error, description)))
}
