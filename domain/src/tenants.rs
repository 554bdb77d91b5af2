//! Tenants: the organizations that use Portico.

use types::{Tenant, TenantSettings};

use crate::audit::{self, Change};
use crate::store::{self, Tx};
use crate::{Error, Permission, Principal, Result, Store, validate};

/// A new tenant's name and primary domain, as typed.
pub struct NewTenant<'a> {
    pub name: &'a str,
    pub primary_domain: &'a str,
}

/// Creates a tenant inside `tx`; the audit event is written by `actor_name` in the new
/// tenant. Used by first-run setup and by the operator's command line.
pub(crate) async fn create_in(
    tx: &mut Tx,
    input: NewTenant<'_>,
    actor_name: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Tenant> {
    let name = validate::name("tenant_name", input.name, 128);
    let domain = validate::domain_name("primary_domain", input.primary_domain);
    validate::report([name.as_ref().err(), domain.as_ref().err()])?;
    let (name, domain) = (name?, domain?);
    let base = validate::slug_from(&name);
    let mut slug = base.clone();
    let mut n = 2;
    while store::tenants::slug_taken(&mut **tx, &slug).await? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let tenant = Tenant {
        id: crate::new_id(),
        name,
        slug,
        primary_domain: domain,
    };
    store::tenants::insert(&mut **tx, &tenant, now)
        .await
        .map_err(|e| {
            Error::conflict_on_unique(e, "Another organization already uses that domain.")
        })?;
    let actor = Principal {
        tenant_id: tenant.id.clone(),
        user_id: None,
        name: actor_name.into(),
        roles: vec![],
        ip: ip.map(String::from),
    };
    audit::record(
        tx,
        &actor,
        now,
        Change {
            action: "Create tenant",
            target_type: "Tenant",
            target_id: &tenant.id,
            target_name: &tenant.name,
            detail: format!("domain {}", tenant.primary_domain),
        },
    )
    .await?;
    Ok(tenant)
}

/// Creates a tenant on behalf of the operator at the command line.
pub async fn create(store: &Store, input: NewTenant<'_>, now: i64) -> Result<Tenant> {
    let mut tx = store.begin().await?;
    let tenant = create_in(&mut tx, input, "Command line", None, now).await?;
    tx.commit().await?;
    Ok(tenant)
}

/// Finds a tenant by id, slug or primary domain.
pub async fn find(store: &Store, key: &str) -> Result<Tenant> {
    store::tenants::find(&mut *store.read().await?, key.trim())
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// The tenant's settings for guests.
///
/// **Permissions:** those who may invite guests (they read the lifetime they invite with).
pub async fn settings(store: &Store, actor: &Principal) -> Result<TenantSettings> {
    actor.require(Permission::InviteGuests)?;
    store::tenants::settings(&mut *store.read().await?, &actor.tenant_id)
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// Changes how long invitation links work (1 to 90 days) and the privacy statement shown
/// to invited people.
///
/// **Permissions:** global administrators.
pub async fn update_settings(
    store: &Store,
    actor: &Principal,
    lifetime_days: i64,
    privacy_url: &str,
    now: i64,
) -> Result<TenantSettings> {
    actor.require(Permission::ManageRoles)?;
    let lifetime = if (1..=90).contains(&lifetime_days) {
        Ok(lifetime_days)
    } else {
        Err(types::FieldError {
            field: "invitation_lifetime_days".into(),
            message: "Choose between 1 and 90 days.".into(),
        })
    };
    let privacy = validate::optional_web_url("privacy_url", privacy_url);
    validate::report([lifetime.as_ref().err(), privacy.as_ref().err()])?;
    let (lifetime, privacy) = (lifetime?, privacy?);
    let mut tx = store.begin().await?;
    let before = store::tenants::settings(&mut *tx, &actor.tenant_id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    store::tenants::update_settings(&mut *tx, &actor.tenant_id, lifetime, privacy.as_deref())
        .await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update organization settings",
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: &before.name,
            detail: format!(
                "invitation lifetime {lifetime} days; privacy statement {}",
                privacy.as_deref().unwrap_or("none")
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(TenantSettings {
        invitation_lifetime_days: lifetime,
        privacy_url: privacy,
        ..before
    })
}
