//! Tenants: the organizations that use Portico.

use sqlx::AnyConnection;
use types::{FieldError, Tenant, TenantSettings};

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
    while store::tenants::slug_taken(tx, &slug).await? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let tenant = Tenant {
        id: crate::new_id(),
        name,
        slug,
        primary_domain: domain,
    };
    refuse_overlap(tx, &tenant.id, &tenant.primary_domain).await?;
    store::tenants::insert(tx, &tenant, now)
        .await
        .map_err(|e| {
            Error::conflict_on_unique(e, "Another organization already uses that domain.")
        })?;
    store::tenants::insert_domain(tx, &tenant.id, &tenant.primary_domain, now).await?;
    let actor = Principal::operator_named(&tenant.id, actor_name, ip);
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

/// The tenant's settings, with the domains it holds.
async fn settings_in(db: &mut AnyConnection, tenant_id: &str) -> Result<TenantSettings> {
    let settings = store::tenants::settings(&mut *db, tenant_id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    Ok(TenantSettings {
        domains: store::tenants::domains(&mut *db, tenant_id).await?,
        ..settings
    })
}

/// The tenant's settings for guests, and the domains its members have addresses at.
///
/// **Permissions:** those who manage invitations (they read the lifetime they invite with).
pub async fn settings(store: &Store, actor: &Principal) -> Result<TenantSettings> {
    actor.require(Permission::ManageInvitations)?;
    settings_in(&mut *store.read().await?, &actor.tenant_id).await
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
    let before = settings_in(&mut tx, &actor.tenant_id).await?;
    store::tenants::update_settings(&mut tx, &actor.tenant_id, lifetime, privacy.as_deref())
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

/// Whether an address at `domain` is covered by the held domain `held`: it is `held` or
/// under it.
pub(crate) fn covers(held: &str, domain: &str) -> bool {
    domain
        .strip_suffix(held)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// The domain of a (validated) address: what follows its `@`.
pub(crate) fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
}

/// The domains a tenant's members have their addresses at, and those other tenants hold
/// under them (databases from before this rule may have such). Read once, checked for many
/// addresses (an import).
pub(crate) struct Domains {
    /// Each domain, and whether the tenant holds it.
    held: Vec<(String, bool)>,
}

impl Domains {
    pub(crate) async fn of(db: &mut AnyConnection, tenant_id: &str) -> Result<Domains> {
        Ok(Domains {
            held: store::tenants::domains_within(db, tenant_id).await?,
        })
    }

    /// Refuses a (validated) member address outside the tenant's domains: a member's
    /// address says which organization is their home, so an organization makes members
    /// only at domains the operator has given it. The most specific domain covering the
    /// address decides whose it is.
    pub(crate) fn check(&self, field: &str, email: &str) -> Result<(), FieldError> {
        let domain = domain_of(email);
        let owner = self
            .held
            .iter()
            .filter(|(held, _)| covers(held, domain))
            .max_by_key(|(held, _)| held.len());
        if let Some((_, true)) = owner {
            return Ok(());
        }
        let ours: Vec<&str> = self
            .held
            .iter()
            .filter(|(_, ours)| *ours)
            .map(|(held, _)| held.as_str())
            .collect();
        Err(FieldError {
            field: field.into(),
            message: format!(
                "Members have addresses at {}. Invite people from other organizations as guests.",
                ours.join(", ")
            ),
        })
    }
}

/// Refuses `domain` for `tenant_id` when another organization holds it, a domain above it
/// or one under it, or when this one holds it or a domain above it already (a domain above
/// its own ones it may take: it widens what it holds).
async fn refuse_overlap(tx: &mut Tx, tenant_id: &str, domain: &str) -> Result<()> {
    let parents: Vec<&str> = domain
        .match_indices('.')
        .map(|(i, _)| &domain[i + 1..])
        .collect();
    let held = store::tenants::overlapping_domains(tx, domain, &parents).await?;
    let others = held.iter().filter(|(_, owner)| owner != tenant_id);
    let own = held
        .iter()
        .filter(|(other, owner)| owner == tenant_id && covers(other, domain));
    let Some((other, owner)) = others.chain(own).next() else {
        return Ok(());
    };
    let whose = if owner == tenant_id {
        "This organization"
    } else {
        "Another organization"
    };
    Err(Error::Conflict(if other == domain {
        format!("{whose} holds {domain} already.")
    } else if covers(other, domain) {
        format!("{whose} holds {other}, which covers {domain}.")
    } else {
        format!("{whose} holds {other}, which is under {domain}.")
    }))
}

/// Gives the tenant another domain (with its subdomains) for its members' addresses.
/// Returns the domains it holds now.
///
/// **Permissions:** the operator at the command line, who has checked that the
/// organization owns the domain.
pub async fn add_domain(
    store: &Store,
    actor: &Principal,
    domain: &str,
    now: i64,
) -> Result<Vec<String>> {
    let (mut tx, tenant, domain) = begin_domain_change(store, actor, domain).await?;
    refuse_overlap(&mut tx, &actor.tenant_id, &domain).await?;
    // Members other organizations made there before domains were checked.
    let elsewhere = store::tenants::members_elsewhere(&mut tx, &actor.tenant_id, &domain).await?;
    if elsewhere > 0 {
        return Err(Error::Conflict(format!(
            "Other organizations have {} at {domain}. Change their addresses or remove them first.",
            members(elsewhere)
        )));
    }
    // `refuse_overlap` found no one holding it, inside this same write transaction.
    store::tenants::insert_domain(&mut tx, &actor.tenant_id, &domain, now).await?;
    domain_changed(tx, actor, &tenant.name, "Add domain", &domain, now).await
}

/// Checks that the operator asks and that `domain` is a domain name, and begins the
/// change: the transaction, the tenant's settings and domains, and the domain as checked.
async fn begin_domain_change(
    store: &Store,
    actor: &Principal,
    domain: &str,
) -> Result<(Tx, TenantSettings, String)> {
    actor.require_operator()?;
    let domain = validate::domain_name("domain", domain)?;
    let mut tx = store.begin().await?;
    let tenant = settings_in(&mut tx, &actor.tenant_id).await?;
    Ok((tx, tenant, domain))
}

/// "1 member" or "N members".
fn members(count: i64) -> String {
    if count == 1 {
        "1 member".into()
    } else {
        format!("{count} members")
    }
}

/// Audits a domain given or taken, commits, and answers the domains the tenant holds now.
async fn domain_changed(
    mut tx: Tx,
    actor: &Principal,
    tenant_name: &str,
    action: &str,
    domain: &str,
    now: i64,
) -> Result<Vec<String>> {
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action,
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: tenant_name,
            detail: format!("domain {domain}"),
        },
    )
    .await?;
    let domains = store::tenants::domains(&mut tx, &actor.tenant_id).await?;
    tx.commit().await?;
    Ok(domains)
}

/// Takes a domain from the tenant. Its primary domain stays, and so does a domain some of
/// its members still have addresses at. Returns the domains it holds now.
///
/// **Permissions:** the operator at the command line.
pub async fn remove_domain(
    store: &Store,
    actor: &Principal,
    domain: &str,
    now: i64,
) -> Result<Vec<String>> {
    let (mut tx, tenant, domain) = begin_domain_change(store, actor, domain).await?;
    if domain == tenant.primary_domain {
        return Err(Error::Conflict(format!(
            "{domain} is the organization's primary domain; it stays."
        )));
    }
    if !tenant.domains.contains(&domain) {
        return Err(Error::Conflict(format!(
            "This organization does not hold {domain}."
        )));
    }
    let at = store::tenants::members_at(&mut tx, &actor.tenant_id, &domain).await?;
    if at > 0 {
        let verb = if at == 1 { "has" } else { "have" };
        return Err(Error::Conflict(format!(
            "{} {verb} an address at {domain}. Change their addresses or remove them first.",
            members(at)
        )));
    }
    store::tenants::delete_domain(&mut tx, &actor.tenant_id, &domain).await?;
    domain_changed(tx, actor, &tenant.name, "Remove domain", &domain, now).await
}
