//! Owners in the access panel: whoever owns an app or a group sees who has access to it,
//! adds people by email address (an address that is new here is invited as a guest and
//! added in the same commit), removes them, and sends again or revokes the invitations they
//! made. An owner acts only on what they own: every operation here checks the actor
//! against the object's owners, whatever roles the actor holds elsewhere (administrators
//! have the console).

use sqlx::AnyConnection;
use types::{Added, InvitationStatus, InvitationSummary, Invited, Managed, ObjectKind, UserRef};

use crate::audit::{self, Change};
use crate::invitations::{InviteInput, invite_guest_in};
pub use crate::store::owners::Object;
use crate::store::{self, Tx, owners::Found};
use crate::{Error, Principal, Result, Store, validate};

/// Who loses access to an app or a group: a user, or (for an app) a group it is given to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grantee<'a> {
    User(&'a str),
    Group(&'a str),
}

fn noun(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::App => "app",
        ObjectKind::Group => "group",
    }
}

/// The object, when it is in the actor's tenant and the actor is one of its owners:
/// `NotFound` when it is not in the tenant, `AccessDenied` when the actor does not own it
/// (or is not a signed-in person at all).
pub(crate) async fn require_owner(
    db: &mut AnyConnection,
    actor: &Principal,
    object: Object<'_>,
) -> Result<Found> {
    let user_id = actor.user_id().ok_or(Error::AccessDenied)?;
    let found = store::owners::find(&mut *db, &actor.tenant_id, object)
        .await?
        .ok_or(Error::NotFound(noun(object.kind)))?;
    if !store::owners::is_owner(&mut *db, object, user_id).await? {
        return Err(Error::AccessDenied);
    }
    Ok(found)
}

/// Gives the user the app, or makes them a member of the group; false when they had it.
pub(crate) async fn grant(
    db: &mut AnyConnection,
    object: Object<'_>,
    user_id: &str,
) -> Result<bool> {
    match object.kind {
        ObjectKind::App => {
            store::apps::assign(db, object.id, store::apps::Assignee::User(user_id)).await
        }
        ObjectKind::Group => {
            store::groups::add_link(db, store::groups::Link::Member, object.id, user_id).await
        }
    }
}

/// The audit action of giving (or taking) access, the same words the console uses.
pub(crate) fn grant_action(kind: ObjectKind, present: bool) -> &'static str {
    match (kind, present) {
        (ObjectKind::App, true) => "Add app role assignment",
        (ObjectKind::App, false) => "Remove app role assignment",
        (ObjectKind::Group, true) => "Add member to group",
        (ObjectKind::Group, false) => "Remove member from group",
    }
}

pub(crate) fn target_type(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::App => "App",
        ObjectKind::Group => "Group",
    }
}

/// An owned app or group as its owner manages it: who has access (guests with where they
/// stand), the owner's own invitations still waiting, and the requests waiting.
///
/// **Permissions:** the object's owners.
pub async fn manage(
    store: &Store,
    actor: &Principal,
    object: Object<'_>,
    now: i64,
) -> Result<Managed> {
    let mut db = store.read().await?;
    let found = require_owner(&mut db, actor, object).await?;
    let owner_id = actor.user_id().unwrap_or_default();
    // A guest who owns something sees who else has access as far as the organization's
    // guest access level lets guests see the members of what they belong to.
    let level = crate::collaboration::read_in(&mut db, &actor.tenant_id)
        .await?
        .guest_access;
    let people_hidden = !crate::collaboration::may_see_members_of_own_groups(&actor.actor, level);
    Ok(Managed {
        kind: object.kind,
        id: object.id.to_string(),
        name: found.name,
        description: found.description,
        join_policy: match object.kind {
            ObjectKind::Group => {
                store::owners::join_policy(&mut db, &actor.tenant_id, object.id).await?
            }
            ObjectKind::App => None,
        },
        users: if people_hidden {
            Vec::new()
        } else {
            store::owners::holders(&mut db, object).await?
        },
        people_hidden,
        groups: match object.kind {
            ObjectKind::App => store::apps::assigned_groups(&mut db, object.id).await?,
            ObjectKind::Group => Vec::new(),
        },
        invitations: store::invitations::waiting_by_inviter(
            &mut db,
            &actor.tenant_id,
            owner_id,
            object,
            now,
        )
        .await?,
        requests: store::owners::pending_requests(&mut db, object).await?,
    })
}

/// Adds someone by email address: a user of the tenant (member or guest) is given the app
/// or made a member of the group; an address that is new here is invited as a guest by
/// mail, under every rule of inviting, and given access in the same commit, so that the
/// guest finds it when they accept. One audit event for the invitation, one for the access.
///
/// **Permissions:** the object's owners; an invitation also needs whatever inviting needs.
pub async fn add(
    store: &Store,
    actor: &Principal,
    object: Object<'_>,
    email: &str,
    message: &str,
    base_url: &str,
    now: i64,
) -> Result<Added> {
    let mut tx = store.begin().await?;
    let found = require_owner(&mut tx, actor, object).await?;
    let address = validate::email("email", email)?;
    let existing = store::users::by_email(&mut tx, &actor.tenant_id, &address).await?;
    let (user, invited) = match existing {
        Some(user) => (user, false),
        None => {
            let input = InviteInput {
                email: &address,
                display_name: "",
                message,
                redirect_url: "",
                send_email: true,
                sponsors: &[],
                access_days: None,
            };
            (
                invite_guest_in(&mut tx, actor, input, base_url, now)
                    .await?
                    .user,
                true,
            )
        }
    };
    if !grant(&mut tx, object, &user.id).await? {
        return Err(Error::Conflict(format!(
            "{} has access to {} already.",
            user.email, found.name
        )));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: grant_action(object.kind, true),
            target_type: target_type(object.kind),
            target_id: object.id,
            target_name: &found.name,
            detail: format!(
                "{} ({}); by an owner{}",
                user.display_name,
                user.email,
                if invited { ", invited as a guest" } else { "" }
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Added {
        user: UserRef {
            id: user.id,
            display_name: user.display_name,
            email: user.email,
        },
        invited,
    })
}

/// Takes the app, or the membership of the group, from a user; or, for an app, from a
/// group it is given to.
///
/// **Permissions:** the object's owners.
pub async fn remove(
    store: &Store,
    actor: &Principal,
    object: Object<'_>,
    grantee: Grantee<'_>,
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let found = require_owner(&mut tx, actor, object).await?;
    let (removed, who) = match (object.kind, grantee) {
        (_, Grantee::User(user_id)) => {
            let user = store::users::get(&mut tx, &actor.tenant_id, user_id)
                .await?
                .ok_or(Error::NotFound("user"))?;
            let removed = match object.kind {
                ObjectKind::App => {
                    store::apps::unassign(&mut tx, object.id, store::apps::Assignee::User(user_id))
                        .await?
                }
                ObjectKind::Group => {
                    store::groups::remove_link(
                        &mut tx,
                        store::groups::Link::Member,
                        object.id,
                        user_id,
                    )
                    .await?
                }
            };
            (removed, format!("{} ({})", user.display_name, user.email))
        }
        (ObjectKind::App, Grantee::Group(group_id)) => {
            let group = store::groups::get(&mut tx, &actor.tenant_id, group_id)
                .await?
                .ok_or(Error::NotFound("group"))?;
            let removed =
                store::apps::unassign(&mut tx, object.id, store::apps::Assignee::Group(group_id))
                    .await?;
            (removed, format!("group {}", group.name))
        }
        (ObjectKind::Group, Grantee::Group(_)) => {
            return Err(Error::Conflict("A group has no groups as members.".into()));
        }
    };
    if !removed {
        return Err(Error::Conflict(format!(
            "{who} has no access to {} to take away.",
            found.name
        )));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: grant_action(object.kind, false),
            target_type: target_type(object.kind),
            target_id: object.id,
            target_name: &found.name,
            detail: format!("{who}; by an owner"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The invitation, when the actor owns `object`, made the invitation themselves, it still
/// waits, and its guest has access to `object`.
async fn own_invitation(
    tx: &mut Tx,
    actor: &Principal,
    object: Object<'_>,
    invitation_id: &str,
    now: i64,
) -> Result<InvitationSummary> {
    require_owner(tx, actor, object).await?;
    let inviter = store::invitations::inviter_of(tx, &actor.tenant_id, invitation_id)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    if inviter.as_deref() != actor.user_id() {
        return Err(Error::AccessDenied);
    }
    let invitation = store::invitations::get(tx, &actor.tenant_id, invitation_id, now)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    if !store::owners::holds(tx, object, &invitation.user_id).await? {
        return Err(Error::AccessDenied);
    }
    if matches!(
        invitation.status,
        InvitationStatus::Accepted | InvitationStatus::Revoked
    ) {
        return Err(Error::Conflict(format!(
            "This invitation is {} already.",
            invitation.status.label().to_lowercase()
        )));
    }
    Ok(invitation)
}

/// Sends one of the owner's own invitations again, with a new link (the old one stops
/// working), under every rule of inviting.
///
/// **Permissions:** the object's owners, for invitations they made of people who have
/// access to it.
pub async fn resend(
    store: &Store,
    actor: &Principal,
    object: Object<'_>,
    invitation_id: &str,
    base_url: &str,
    now: i64,
) -> Result<Invited> {
    let mut tx = store.begin().await?;
    let invitation = own_invitation(&mut tx, actor, object, invitation_id, now).await?;
    let input = InviteInput {
        email: &invitation.email,
        display_name: &invitation.display_name,
        message: "",
        redirect_url: "",
        send_email: true,
        sponsors: &[],
        access_days: None,
    };
    let invited = invite_guest_in(&mut tx, actor, input, base_url, now).await?;
    tx.commit().await?;
    Ok(invited)
}

/// Revokes one of the owner's own invitations: its link stops working. The guest keeps
/// their place on the list until the owner removes them.
///
/// **Permissions:** the object's owners, for invitations they made of people who have
/// access to it.
pub async fn revoke(
    store: &Store,
    actor: &Principal,
    object: Object<'_>,
    invitation_id: &str,
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let invitation = own_invitation(&mut tx, actor, object, invitation_id, now).await?;
    if !store::invitations::revoke(&mut tx, &actor.tenant_id, invitation_id).await? {
        return Err(Error::Conflict(
            "This invitation cannot be revoked any more.".into(),
        ));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Revoke invitation",
            target_type: "User",
            target_id: &invitation.user_id,
            target_name: &invitation.display_name,
            detail: format!("{}; by an owner", invitation.email),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
