//! One file per page.

mod account;
pub mod admin;
mod continue_page;
mod invite;
mod manage;
mod not_found;
mod panel;
pub mod passkey;
mod redeem;
pub mod reviews;
mod security;
pub mod session;
mod setup;
mod signin;
pub mod sponsor;
mod terms;

pub use account::Account;
pub use continue_page::{Continue, Depart, continue_to, decode_hex, hex, local_path};
pub use invite::InviteGuest;
pub use manage::Manage;
pub use not_found::NotFound;
pub use panel::Panel;
pub use redeem::{Redeem, RedeemAccount, RedeemCode, RedeemConsent, RedeemDeclined};
pub use security::{Security, Verify};
pub use setup::Setup;
pub use signin::{SignIn, SignInWithCode};
pub use sponsor::SponsorGuest;
pub use terms::AcceptTerms;
