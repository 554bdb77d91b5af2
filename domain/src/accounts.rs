//! Portico accounts: what invited people make for themselves when no organization of
//! theirs signs them in (a fallback of the redemption order). An account is an identity,
//! `account:<id>`, behind guest users in any number of organizations; it signs in with its
//! password, and a passcode mailed to its address recovers it.

use crate::store::{self, accounts::Account};
use crate::{Result, Store};

pub(crate) fn identity(account_id: &str) -> String {
    format!("account:{account_id}")
}

pub(crate) async fn by_email(store: &Store, email: &str) -> Result<Option<Account>> {
    store::accounts::by_email(store.reader(), email).await
}

/// Who a passcode to `email` proves someone is: the account with that address when there
/// is one (the passcode recovers it), else the address itself.
pub(crate) async fn identity_of_address(store: &Store, email: &str) -> Result<String> {
    Ok(match by_email(store, email).await? {
        Some(account) => identity(&account.id),
        None => format!("email:{email}"),
    })
}
