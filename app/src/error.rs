//! The error every server function returns: it keeps its meaning on its way to the browser,
//! and its text is written for the person reading it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use types::FieldError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("You need to sign in first.")]
    NotAuthenticated,
    #[error("You are not allowed to do that.")]
    AccessDenied,
    #[error("{0}")]
    NotFound(String),
    #[error("Please correct the fields marked below.")]
    Invalid(Vec<FieldError>),
    /// Refused for a reason the person can act on; the text says which.
    #[error("{0}")]
    Refused(String),
    /// Details are in the server log, never sent.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    #[error("Portico could not be reached: {0}")]
    Transport(String),
    /// A conditional-access policy (named) asks for a second factor first.
    #[error("Your organization's policy \u{201c}{0}\u{201d} asks for a second factor first.")]
    SecondFactor(String),
    /// A conditional-access policy (named) asks the person to accept terms of use (by id)
    /// first.
    #[error(
        "Your organization's policy \u{201c}{policy}\u{201d} asks you to accept its terms of use first."
    )]
    TermsOfUse { policy: String, terms: String },
    /// A conditional-access policy (named) asks for a passkey first.
    #[error("Your organization's policy \u{201c}{0}\u{201d} asks for a passkey first.")]
    Passkey(String),
    /// A conditional-access policy (named) asks for a fresh sign-in first.
    #[error("Your organization's policy \u{201c}{0}\u{201d} asks you to sign in again.")]
    SignInAgain(String),
}

impl AppError {
    /// The message for one form field, if that field was refused.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid(fields) => fields
                .iter()
                .find(|f| f.field == name)
                .map(|f| f.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<domain::Error> for AppError {
    fn from(error: domain::Error) -> Self {
        use domain::Error as E;
        match error {
            E::NotAuthenticated => AppError::NotAuthenticated,
            E::AccessDenied => AppError::AccessDenied,
            E::NotFound(_) => AppError::NotFound(error.to_string()),
            E::Invalid(fields) => AppError::Invalid(fields),
            E::Conflict(_)
            | E::Forbidden(_)
            | E::Throttled { .. }
            | E::BadCredentials
            | E::InvalidLink => AppError::Refused(error.to_string()),
            E::Storage(_) | E::Migration(_) | E::Hashing(_) => {
                tracing::error!(%error, "request failed");
                AppError::Internal
            }
        }
    }
}
