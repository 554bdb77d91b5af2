//! One file per page.

pub mod admin;
mod not_found;
mod panel;
pub mod session;
mod setup;
mod signin;

pub use not_found::NotFound;
pub use panel::Panel;
pub use setup::Setup;
pub use signin::SignIn;
