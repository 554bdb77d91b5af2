//! Portico's rules and data. Every operation takes the acting [`Principal`] and `now`
//! (Unix seconds), checks what that principal may do in its tenant, changes the store in one
//! transaction and writes an audit event in the same transaction. Nothing here knows about
//! HTTP or pages.

pub mod access;
pub mod accounts;
pub mod apps;
pub mod audit;
pub mod auth_methods;
pub mod collaboration;
pub mod conditional_access;
pub mod console;
pub mod copy;
pub mod federation;
pub mod flashes;
pub mod graph;
pub mod groups;
pub mod guest_access;
mod identity;
pub mod invitations;
pub mod oidc;
pub mod organizations;
pub mod outbox;
pub mod owners;
pub mod partners;
pub mod passkey_factors;
pub mod passkeys;
pub mod password;
mod principal;
pub mod proxies;
pub mod redemption;
pub mod requests;
pub mod retention;
pub mod reviews;
pub mod second_factors;
pub mod secrets;
pub mod self_service;
pub mod sessions;
pub mod setup;
pub mod sponsors;
pub mod store;
pub mod sweeper;
pub mod tenants;
pub mod terms;
pub mod users;
pub mod validate;
pub mod vault;

pub use identity::Identity;
pub use principal::{Actor, Delegation, Permission, Principal};
pub use store::Store;
pub use types;

use types::FieldError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("You need to sign in first.")]
    NotAuthenticated,
    #[error("You are not allowed to do that.")]
    AccessDenied,
    #[error("That {0} does not exist.")]
    NotFound(&'static str),
    #[error("{}", describe_fields(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    /// Refused by a rule the organization set (who may invite, which domains guests may
    /// come from); the text names the rule.
    #[error("{0}")]
    Forbidden(String),
    #[error("Too many attempts. Try again in {retry_after} seconds.")]
    Throttled { retry_after: i64 },
    /// Deliberately the same for an unknown account, a wrong password and a disabled user.
    #[error("The email address or password is not right.")]
    BadCredentials,
    #[error("That link is not valid: it was used already, has expired, or was mistyped.")]
    InvalidLink,
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn describe_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        Error::Invalid(vec![error])
    }
}

impl Error {
    /// Turns a unique-constraint violation into a [`Error::Conflict`] with a message a
    /// person understands; any other storage error stays what it is.
    pub(crate) fn conflict_on_unique(error: sqlx::Error, message: impl Into<String>) -> Error {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(message.into())
            }
            _ => Error::Storage(error),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A new random identifier in the UUID v4 format.
pub fn new_id() -> String {
    let mut bytes = secrets::random_bytes::<16>();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;
