//! First-run setup: on an empty instance, a single-use link (valid one hour) creates the
//! first tenant and its first global administrator. Nothing else can make an admin.

use types::{Role, Tenant, UserSummary};

use crate::tenants::{self, NewTenant};
use crate::users::{self, NewMember};
use crate::{Error, Principal, Result, Store, secrets, store, validate};

pub const LINK_LIFETIME: i64 = 3600;

/// A new setup ticket when the instance has no tenant yet; `None` once it has one.
/// Each start of an empty instance issues a fresh ticket.
pub async fn issue_ticket(store: &Store, now: i64) -> Result<Option<String>> {
    let mut tx = store.begin().await?;
    if store::tenants::count(&mut tx).await? > 0 {
        return Ok(None);
    }
    let ticket = secrets::new_secret();
    store::setup::insert(
        &mut tx,
        &secrets::hash_secret(&ticket),
        now,
        now + LINK_LIFETIME,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(ticket))
}

/// Whether `ticket` can still be used (the setup page asks before showing the form).
pub async fn ticket_is_open(store: &Store, ticket: &str, now: i64) -> Result<bool> {
    store::setup::is_open(
        &mut *store.read().await?,
        &secrets::hash_secret(ticket),
        now,
    )
    .await
}

/// What the setup form asks for.
pub struct SetupInput<'a> {
    pub tenant_name: &'a str,
    pub primary_domain: &'a str,
    pub admin_email: &'a str,
    pub admin_name: &'a str,
    pub admin_password: &'a str,
}

/// Uses the ticket: creates the tenant and its first global administrator in one
/// transaction. Bad input leaves the ticket usable; a used or expired ticket changes nothing.
pub async fn complete(
    store: &Store,
    ticket: &str,
    input: SetupInput<'_>,
    ip: Option<&str>,
    now: i64,
) -> Result<(Tenant, UserSummary)> {
    if !ticket_is_open(store, ticket, now).await? {
        return Err(Error::InvalidLink);
    }
    // The first administrator is the first member: their address is at the domain.
    let elsewhere = match (
        validate::domain_name("primary_domain", input.primary_domain),
        validate::email("email", input.admin_email),
    ) {
        (Ok(domain), Ok(email)) if !tenants::covers(&domain, tenants::domain_of(&email)) => {
            Some(types::FieldError {
                field: "email".into(),
                message: format!("Use your address at {domain}, the organization's domain."),
            })
        }
        _ => None,
    };
    let member = users::prepare_member(NewMember {
        email: input.admin_email,
        display_name: input.admin_name,
        password: input.admin_password,
    })
    .await;
    // Said together with whatever else is wrong with the form.
    let member = match (member, elsewhere) {
        (Err(Error::Invalid(mut fields)), Some(elsewhere)) => {
            fields.push(elsewhere);
            return Err(Error::Invalid(fields));
        }
        (_, Some(elsewhere)) => return Err(elsewhere.into()),
        (member, None) => member?,
    };
    let mut tx = store.begin().await?;
    if !store::setup::consume(&mut tx, &secrets::hash_secret(ticket), now).await?
        || store::tenants::count(&mut tx).await? > 0
    {
        return Err(Error::InvalidLink);
    }
    let tenant = tenants::create_in(
        &mut tx,
        NewTenant {
            name: input.tenant_name,
            primary_domain: input.primary_domain,
        },
        "Setup",
        ip,
        now,
    )
    .await?;
    let actor = Principal::operator_named(&tenant.id, "Setup", ip);
    let admin = users::create_member_in(&mut tx, &actor, member, now).await?;
    users::grant_role_in(&mut tx, &actor, &admin, Role::GlobalAdministrator, now).await?;
    store::setup::close_all(&mut tx, now).await?;
    tx.commit().await?;
    Ok((tenant, admin))
}
