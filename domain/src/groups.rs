//! Groups: named sets of users, with owners, that apps can be assigned to.

use types::{GroupDetail, GroupSummary, JoinPolicy};

use crate::audit::{self, Change};
use crate::store;
pub use crate::store::groups::Link;
use crate::users::find_in_tenant;
use crate::{Error, Permission, Principal, Result, Store, validate};

const DUPLICATE: &str = "Another group already has that name.";

fn check(name: &str, description: &str) -> Result<(String, String)> {
    let name = validate::name("name", name, 128);
    let description = validate::text("description", description, 1024);
    validate::report([name.as_ref().err(), description.as_ref().err()])?;
    Ok((name?, description?))
}

/// **Permissions:** global or user administrators; apps with Group.Read.All or
/// GroupMember.ReadWrite.All.
pub async fn list(store: &Store, actor: &Principal) -> Result<Vec<GroupSummary>> {
    actor.require(Permission::ReadGroups)?;
    store::groups::list(&mut *store.read().await?, &actor.tenant_id).await
}

async fn find(db: &mut sqlx::AnyConnection, actor: &Principal, id: &str) -> Result<GroupSummary> {
    store::groups::get(db, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("group"))
}

/// **Permissions:** as [`list`].
pub async fn get(store: &Store, actor: &Principal, id: &str) -> Result<GroupDetail> {
    actor.require(Permission::ReadGroups)?;
    let mut db = store.read().await?;
    let group = find(&mut db, actor, id).await?;
    Ok(GroupDetail {
        join_policy: store::owners::join_policy(&mut db, &actor.tenant_id, id)
            .await?
            .unwrap_or_default(),
        owners: store::groups::linked_users(&mut db, Link::Owner, id).await?,
        members: store::groups::linked_users(&mut db, Link::Member, id).await?,
        group,
    })
}

/// **Permissions:** global or user administrators.
pub async fn create(
    store: &Store,
    actor: &Principal,
    name: &str,
    description: &str,
    now: i64,
) -> Result<GroupSummary> {
    actor.require(Permission::ManageGroups)?;
    let (name, description) = check(name, description)?;
    let id = crate::new_id();
    let mut tx = store.begin().await?;
    store::groups::insert(&mut tx, &id, &actor.tenant_id, &name, &description, now)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Add group",
            target_type: "Group",
            target_id: &id,
            target_name: &name,
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(GroupSummary {
        id,
        name,
        description,
        member_count: 0,
        owner_count: 0,
    })
}

/// **Permissions:** global or user administrators.
pub async fn update(
    store: &Store,
    actor: &Principal,
    id: &str,
    name: &str,
    description: &str,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageGroups)?;
    let (name, description) = check(name, description)?;
    let mut tx = store.begin().await?;
    let before = find(&mut tx, actor, id).await?;
    store::groups::update(&mut tx, &actor.tenant_id, id, &name, &description)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    let detail = if before.name == name {
        String::new()
    } else {
        format!("name {} → {name}", before.name)
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update group",
            target_type: "Group",
            target_id: id,
            target_name: &name,
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a group; its memberships and app assignments go with it.
///
/// **Permissions:** global or user administrators.
pub async fn delete(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageGroups)?;
    let mut tx = store.begin().await?;
    let group = find(&mut tx, actor, id).await?;
    store::groups::delete(&mut tx, &actor.tenant_id, id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Delete group",
            target_type: "Group",
            target_id: id,
            target_name: &group.name,
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a user of the tenant to a group as owner or member, or removes them. Adding what
/// is there already, or removing what is not, changes nothing and writes no event; the
/// answer says whether anything changed.
///
/// **Permissions:** global or user administrators; apps with GroupMember.ReadWrite.All.
pub async fn set_link(
    store: &Store,
    actor: &Principal,
    group_id: &str,
    user_id: &str,
    link: Link,
    present: bool,
    now: i64,
) -> Result<bool> {
    actor.require(Permission::ManageGroups)?;
    let mut tx = store.begin().await?;
    let group = find(&mut tx, actor, group_id).await?;
    let user = find_in_tenant(&mut tx, actor, user_id).await?;
    let changed = if present {
        store::groups::add_link(&mut tx, link, group_id, user_id).await?
    } else {
        store::groups::remove_link(&mut tx, link, group_id, user_id).await?
    };
    if changed {
        let action = match (link, present) {
            (Link::Member, true) => "Add member to group",
            (Link::Member, false) => "Remove member from group",
            (Link::Owner, true) => "Add owner to group",
            (Link::Owner, false) => "Remove owner from group",
        };
        audit::record(
            &mut tx,
            actor,
            now,
            Change {
                action,
                target_type: "Group",
                target_id: group_id,
                target_name: &group.name,
                detail: format!("{} ({})", user.display_name, user.email),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Sets whether members may ask to join the group: closed, with an owner's approval, or
/// open (they join at once).
///
/// **Permissions:** global or user administrators.
pub async fn set_join_policy(
    store: &Store,
    actor: &Principal,
    id: &str,
    policy: JoinPolicy,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageGroups)?;
    let mut tx = store.begin().await?;
    let group = find(&mut tx, actor, id).await?;
    store::owners::set_join_policy(&mut tx, &actor.tenant_id, id, policy).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update group",
            target_type: "Group",
            target_id: id,
            target_name: &group.name,
            detail: format!("requests to join: {}", policy.label()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
