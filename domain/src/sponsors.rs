//! A guest's sponsors: the members of the organization who answer for the guest, as Entra's
//! sponsors do. A guest has one to five, the inviter unless others are named at the
//! invitation. When a sponsor is disabled or deleted, the organization's fallback sponsor
//! takes their place in the same transaction; with no fallback sponsor set, a guest can
//! be left with none, and administrators find those guests listed.
//!
//! Sponsors are members: a guest answers for nobody here, and a disabled member cannot
//! answer for anyone.

use types::{FieldError, SponsorSettings, UserRef, UserSummary, UserType};

use crate::audit::{self, Change};
use crate::store::{self, Tx};
use crate::{Actor, Error, Permission, Principal, Result, Store};

/// The most sponsors a guest has, as in Entra.
pub const MOST: usize = 5;

/// The entries of a typed list of sponsors: addresses or user ids, separated by commas,
/// semicolons or white space.
pub fn parse_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .map(str::to_string)
        .collect()
}

fn invalid(message: String) -> Error {
    Error::Invalid(vec![FieldError {
        field: "sponsors".into(),
        message,
    }])
}

/// The member that `key` (a user id, or an address) names in the actor's tenant, if it
/// may sponsor: a member who is enabled. Why someone cannot is said only to those who may
/// read the directory (`reveal`); others are told what a sponsor must be, and not whether
/// the address is a guest, a disabled member or nobody here.
async fn sponsor_named(tx: &mut Tx, tenant_id: &str, key: &str, reveal: bool) -> Result<UserRef> {
    let found = if key.contains('@') {
        store::users::by_email(tx, tenant_id, key).await?
    } else {
        store::users::get(tx, tenant_id, key).await?
    };
    let usable = found
        .as_ref()
        .is_some_and(|user| user.user_type == UserType::Member && user.enabled);
    if !usable && !reveal {
        return Err(invalid(format!(
            "{key} cannot sponsor: sponsors are enabled members of this organization."
        )));
    }
    let Some(user) = found else {
        return Err(invalid(format!(
            "{key} is not a user of this organization; sponsors are its members."
        )));
    };
    if user.user_type != UserType::Member {
        return Err(invalid(format!(
            "{} is a guest; sponsors are members of this organization.",
            user.email
        )));
    }
    if !user.enabled {
        return Err(invalid(format!(
            "{} cannot sign in (disabled), so cannot sponsor anyone.",
            user.email
        )));
    }
    Ok(as_ref(user))
}

fn as_ref(user: UserSummary) -> UserRef {
    UserRef {
        id: user.id,
        display_name: user.display_name,
        email: user.email,
    }
}

/// The fallback sponsor when one is set and enabled.
async fn usable_fallback(tx: &mut Tx, tenant_id: &str) -> Result<Option<UserRef>> {
    Ok(store::sponsors::fallback(tx, tenant_id)
        .await?
        .and_then(|(user, enabled)| enabled.then_some(user)))
}

/// Whom a guest invited by `actor` gets as sponsors: those `named` (ids or addresses of
/// enabled members, at most [`MOST`]), else the inviter when a member, else the
/// organization's fallback sponsor when set and enabled, else nobody.
pub(crate) async fn choose(
    tx: &mut Tx,
    actor: &Principal,
    named: &[String],
) -> Result<Vec<UserRef>> {
    if named.len() > MOST {
        return Err(invalid(format!(
            "Name at most {MOST} sponsors; {} were named.",
            named.len()
        )));
    }
    if named.is_empty() {
        if let Actor::User {
            user_id,
            guest: false,
            ..
        } = &actor.actor
        {
            let inviter = store::users::get(tx, &actor.tenant_id, user_id).await?;
            if let Some(inviter) = inviter.filter(|u| u.user_type == UserType::Member) {
                return Ok(vec![as_ref(inviter)]);
            }
        }
        return Ok(usable_fallback(tx, &actor.tenant_id)
            .await?
            .into_iter()
            .collect());
    }
    let reveal = actor.may(Permission::ReadUsers);
    let mut chosen: Vec<UserRef> = Vec::with_capacity(named.len());
    for key in named {
        let sponsor = sponsor_named(tx, &actor.tenant_id, key.trim(), reveal).await?;
        if !chosen.iter().any(|s| s.id == sponsor.id) {
            chosen.push(sponsor);
        }
    }
    Ok(chosen)
}

/// Makes `sponsors` the guest's sponsors, in place of any they had.
pub(crate) async fn replace(
    tx: &mut Tx,
    guest_id: &str,
    sponsors: &[UserRef],
    now: i64,
) -> Result<()> {
    store::sponsors::clear(tx, guest_id).await?;
    for sponsor in sponsors {
        store::sponsors::add(tx, guest_id, &sponsor.id, now).await?;
    }
    Ok(())
}

/// Names for an audit detail: "Olive (olive@…), Sam (sam@…)", or "none".
pub(crate) fn describe(sponsors: &[UserRef]) -> String {
    if sponsors.is_empty() {
        return "none".into();
    }
    sponsors
        .iter()
        .map(|s| format!("{} ({})", s.display_name, s.email))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A member who is disabled or deleted (`why`) stops sponsoring: the fallback sponsor takes
/// their place for each of their guests, or, with none set, the guest keeps their other
/// sponsors or is left without. Each guest's change is audited.
pub(crate) async fn step_down(
    tx: &mut Tx,
    actor: &Principal,
    leaving: &UserSummary,
    why: &str,
    now: i64,
) -> Result<()> {
    let was_fallback = store::sponsors::fallback(tx, &actor.tenant_id)
        .await?
        .is_some_and(|(fallback, _)| fallback.id == leaving.id);
    if was_fallback && why == "deleted" {
        // The setting empties itself with the user (ON DELETE SET NULL): say so.
        let tenant = crate::collaboration::read_in(tx, &actor.tenant_id).await?;
        audit::record(
            tx,
            actor,
            now,
            Change {
                action: "Set fallback sponsor",
                target_type: "Tenant",
                target_id: &actor.tenant_id,
                target_name: &tenant.tenant_name,
                detail: format!(
                    "none: {} ({}) was deleted",
                    leaving.display_name, leaving.email
                ),
            },
        )
        .await?;
    }
    let guests = store::sponsors::guests_of(tx, &leaving.id).await?;
    if guests.is_empty() {
        return Ok(());
    }
    let fallback = usable_fallback(tx, &actor.tenant_id)
        .await?
        .filter(|fallback| fallback.id != leaving.id);
    for guest in guests {
        store::sponsors::remove(tx, &guest.id, &leaving.id).await?;
        let left = format!("{} ({}) was {why}", leaving.display_name, leaving.email);
        let detail = match &fallback {
            Some(fallback) => {
                store::sponsors::add(tx, &guest.id, &fallback.id, now).await?;
                format!(
                    "{left}; the fallback sponsor {} ({}) takes their place",
                    fallback.display_name, fallback.email
                )
            }
            None if store::sponsors::of_guest(tx, &guest.id).await?.is_empty() => {
                format!("{left}; no fallback sponsor is set, so the guest has no sponsor now")
            }
            None => format!("{left}; the guest's other sponsors remain"),
        };
        audit::record(
            tx,
            actor,
            now,
            Change {
                action: "Replace sponsor",
                target_type: "User",
                target_id: &guest.id,
                target_name: &guest.display_name,
                detail,
            },
        )
        .await?;
    }
    Ok(())
}

/// The guest `guest_id` of the actor's tenant; members have no sponsors.
async fn guest_in_tenant(tx: &mut Tx, actor: &Principal, guest_id: &str) -> Result<UserSummary> {
    let user = store::users::get(tx, &actor.tenant_id, guest_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if user.user_type != UserType::Guest {
        return Err(Error::Conflict(format!(
            "{} is a member; only guests have sponsors.",
            user.display_name
        )));
    }
    Ok(user)
}

/// Adds a sponsor (an id or an address of an enabled member) to a guest who has fewer
/// than [`MOST`]. Returns the guest's sponsors.
///
/// **Permissions:** global or user administrators.
pub async fn add(
    store: &Store,
    actor: &Principal,
    guest_id: &str,
    sponsor: &str,
    now: i64,
) -> Result<Vec<UserRef>> {
    actor.require(Permission::ManageUsers)?;
    let mut tx = store.begin().await?;
    let guest = guest_in_tenant(&mut tx, actor, guest_id).await?;
    let sponsor = sponsor_named(&mut tx, &actor.tenant_id, sponsor.trim(), true).await?;
    let current = store::sponsors::of_guest(&mut tx, guest_id).await?;
    if current.iter().any(|s| s.id == sponsor.id) {
        return Err(Error::Conflict(format!(
            "{} sponsors {} already.",
            sponsor.display_name, guest.display_name
        )));
    }
    if current.len() >= MOST {
        return Err(Error::Conflict(format!(
            "{} has {MOST} sponsors, the most a guest has; remove one first.",
            guest.display_name
        )));
    }
    store::sponsors::add(&mut tx, guest_id, &sponsor.id, now).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Add sponsor",
            target_type: "User",
            target_id: guest_id,
            target_name: &guest.display_name,
            detail: describe(std::slice::from_ref(&sponsor)),
        },
    )
    .await?;
    let sponsors = store::sponsors::of_guest(&mut tx, guest_id).await?;
    tx.commit().await?;
    Ok(sponsors)
}

/// Takes a sponsor from a guest, who keeps at least one. Returns the guest's sponsors.
///
/// **Permissions:** global or user administrators.
pub async fn remove(
    store: &Store,
    actor: &Principal,
    guest_id: &str,
    sponsor_id: &str,
    now: i64,
) -> Result<Vec<UserRef>> {
    actor.require(Permission::ManageUsers)?;
    let mut tx = store.begin().await?;
    let guest = guest_in_tenant(&mut tx, actor, guest_id).await?;
    let current = store::sponsors::of_guest(&mut tx, guest_id).await?;
    let Some(sponsor) = current.iter().find(|s| s.id == sponsor_id) else {
        return Err(Error::NotFound("sponsor"));
    };
    if current.len() == 1 {
        return Err(Error::Conflict(format!(
            "A guest keeps at least one sponsor: add another before removing {}.",
            sponsor.display_name
        )));
    }
    store::sponsors::remove(&mut tx, guest_id, sponsor_id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Remove sponsor",
            target_type: "User",
            target_id: guest_id,
            target_name: &guest.display_name,
            detail: describe(std::slice::from_ref(sponsor)),
        },
    )
    .await?;
    let sponsors = store::sponsors::of_guest(&mut tx, guest_id).await?;
    tx.commit().await?;
    Ok(sponsors)
}

/// The guest's sponsors.
///
/// **Permissions:** global or user administrators, and the guest.
pub async fn of_guest(store: &Store, actor: &Principal, guest_id: &str) -> Result<Vec<UserRef>> {
    if !actor.is_user(guest_id) {
        actor.require(Permission::ReadUsers)?;
    }
    let mut tx = store.read().await?;
    if store::users::get(&mut tx, &actor.tenant_id, guest_id)
        .await?
        .is_none()
    {
        return Err(Error::NotFound("user"));
    }
    store::sponsors::of_guest(&mut tx, guest_id).await
}

/// The fallback sponsor and the guests without a sponsor.
///
/// **Permissions:** global or user administrators.
pub async fn settings(store: &Store, actor: &Principal) -> Result<SponsorSettings> {
    actor.require(Permission::ManageUsers)?;
    let mut db = store.read().await?;
    let fallback = store::sponsors::fallback(&mut db, &actor.tenant_id).await?;
    let unsponsored = store::sponsors::unsponsored(&mut db, &actor.tenant_id).await?;
    Ok(SponsorSettings {
        fallback_enabled: fallback.as_ref().is_some_and(|(_, enabled)| *enabled),
        fallback: fallback.map(|(user, _)| user),
        unsponsored,
    })
}

/// Sets the fallback sponsor (an id or an address of an enabled member), or, with an empty
/// `who`, sets none. Guests are not given the new fallback sponsor: it takes the place
/// of sponsors who leave from now on.
///
/// **Permissions:** global administrators.
pub async fn set_fallback(store: &Store, actor: &Principal, who: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageRoles)?;
    let mut tx = store.begin().await?;
    let who = who.trim();
    let chosen = if who.is_empty() {
        None
    } else {
        Some(sponsor_named(&mut tx, &actor.tenant_id, who, true).await?)
    };
    store::sponsors::set_fallback(
        &mut tx,
        &actor.tenant_id,
        chosen.as_ref().map(|u| u.id.as_str()),
    )
    .await?;
    let tenant = crate::collaboration::read_in(&mut tx, &actor.tenant_id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Set fallback sponsor",
            target_type: "Tenant",
            target_id: &actor.tenant_id,
            target_name: &tenant.tenant_name,
            detail: match &chosen {
                Some(user) => describe(std::slice::from_ref(user)),
                None => "none".into(),
            },
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
