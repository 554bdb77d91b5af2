//! Users of a tenant: creating members, editing, disabling, deleting, passwords and roles.

use types::{Page, Role, UserDetail, UserSummary, UserType};

use crate::audit::{self, Change};
use crate::store::{self, Tx, users::NewUser};
use crate::{Error, Permission, Principal, Result, Store, password, validate};

pub const MAX_PAGE_SIZE: u32 = 200;

/// A new member, as typed by an administrator.
pub struct NewMember<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
}

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Matches the start of the display name or the email address, in any case.
    pub search: String,
    pub user_type: Option<UserType>,
    /// Guests in this state only.
    pub external_state: Option<types::ExternalState>,
    /// Only users with no sign-in for this many days (counted from their creation when they
    /// never signed in).
    pub inactive_days: Option<u32>,
    pub page: u32,
    pub page_size: u32,
}

/// A member checked and with its password hashed, ready to insert. Hashing happens here,
/// before any transaction starts, so that slow argon2id never holds the write lock.
pub(crate) struct PreparedMember {
    email: String,
    display_name: String,
    hash: password::StoredHash,
}

pub(crate) async fn prepare_member(input: NewMember<'_>) -> Result<PreparedMember> {
    let email = validate::email("email", input.email);
    let name = validate::name("display_name", input.display_name, 256);
    let secret = password::check_new(
        "password",
        input.password,
        email.as_deref().unwrap_or_default(),
    );
    validate::report([
        email.as_ref().err(),
        name.as_ref().err(),
        secret.as_ref().err(),
    ])?;
    Ok(PreparedMember {
        email: email?,
        display_name: name?,
        hash: password::hash_blocking(input.password.to_string()).await?,
    })
}

/// Inserts a prepared member inside `tx`.
pub(crate) async fn create_member_in(
    tx: &mut Tx,
    actor: &Principal,
    member: PreparedMember,
    now: i64,
) -> Result<UserSummary> {
    let PreparedMember {
        email,
        display_name,
        hash,
    } = member;
    crate::tenants::Domains::of(tx, &actor.tenant_id)
        .await?
        .check("email", &email)?;
    let id = crate::new_id();
    store::users::insert(
        tx,
        NewUser {
            id: &id,
            tenant_id: &actor.tenant_id,
            user_type: UserType::Member,
            email: &email,
            display_name: &display_name,
            password_hash: Some(&hash.0),
        },
        now,
    )
    .await
    .map_err(|e| {
        Error::conflict_on_unique(
            e,
            format!(
                "{email} already has an account. Each address can be a member of one organization."
            ),
        )
    })?;
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "Add user",
            target_type: "User",
            target_id: &id,
            target_name: &display_name,
            detail: format!("member {email}"),
        },
    )
    .await?;
    Ok(UserSummary {
        id,
        email,
        display_name,
        user_type: UserType::Member,
        enabled: true,
        created_at: now,
        external_state: None,
        last_sign_in_at: None,
    })
}

/// Creates a member who signs in with `input.password`.
///
/// **Permissions:** global or user administrators.
pub async fn create_member(
    store: &Store,
    actor: &Principal,
    input: NewMember<'_>,
    now: i64,
) -> Result<UserSummary> {
    actor.require(Permission::ManageUsers)?;
    let member = prepare_member(input).await?;
    let mut tx = store.begin().await?;
    let user = create_member_in(&mut tx, actor, member, now).await?;
    tx.commit().await?;
    Ok(user)
}

/// What an import did: how many members it created and, per refused line, why.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    /// (line number, from 1; reason)
    pub refused: Vec<(u32, String)>,
}

/// Lines written per transaction by [`import_members`].
const IMPORT_BATCH: usize = 500;

/// Creates members in bulk from CSV records (email address, display name), without
/// passwords: they sign in once an administrator has set one. Bad or taken rows are reported and skipped;
/// the others are created, each with its audit event.
///
/// **Permissions:** global or user administrators.
pub async fn import_members(
    store: &Store,
    actor: &Principal,
    rows: &[types::csv::Record],
    now: i64,
) -> Result<ImportReport> {
    actor.require(Permission::ManageUsers)?;
    let mut report = ImportReport::default();
    for batch in rows.chunks(IMPORT_BATCH) {
        let mut tx = store.begin().await?;
        let domains = crate::tenants::Domains::of(&mut tx, &actor.tenant_id).await?;
        for record in batch {
            let line = record.line;
            let column = |i: usize| record.fields.get(i).map(String::as_str).unwrap_or_default();
            let email = validate::email("email", column(0))
                .and_then(|email| domains.check("email", &email).map(|()| email));
            let name = validate::name("display_name", column(1), 256);
            let (email, display_name) = match (email, name) {
                (Ok(email), Ok(name)) => (email, name),
                (Err(e), _) | (_, Err(e)) => {
                    report.refused.push((line, e.message));
                    continue;
                }
            };
            let id = crate::new_id();
            let user = NewUser {
                id: &id,
                tenant_id: &actor.tenant_id,
                user_type: UserType::Member,
                email: &email,
                display_name: &display_name,
                password_hash: None,
            };
            // One taken address does not undo the batch.
            if !store::users::insert_new(&mut tx, user, now).await? {
                report
                    .refused
                    .push((line, format!("{email} already has an account.")));
                continue;
            }
            audit::record(
                &mut tx,
                actor,
                now,
                Change {
                    action: "Add user",
                    target_type: "User",
                    target_id: &id,
                    target_name: &display_name,
                    detail: format!("member {email} (import)"),
                },
            )
            .await?;
            report.created += 1;
        }
        tx.commit().await?;
    }
    if report.created >= IMPORT_BATCH {
        store::refresh_statistics(&mut *store.read().await?, "users").await?;
    }
    Ok(report)
}

/// The most days [`UserQuery::inactive_days`] takes: ten years.
pub const MOST_INACTIVE_DAYS: u32 = 3650;

/// Since when (Unix seconds) a user must not have signed in to count as inactive for
/// `days` days at `now`.
pub fn inactive_cutoff(days: u32, now: i64) -> Result<i64> {
    if !(1..=MOST_INACTIVE_DAYS).contains(&days) {
        return Err(Error::Invalid(vec![types::FieldError {
            field: "inactive".into(),
            message: format!("Give a number of days from 1 to {MOST_INACTIVE_DAYS}."),
        }]));
    }
    Ok(now - i64::from(days) * 86_400)
}

/// A page of the tenant's users, by display name.
///
/// **Permissions:** global or user administrators.
pub async fn list(
    store: &Store,
    actor: &Principal,
    query: &UserQuery,
    now: i64,
) -> Result<Page<UserSummary>> {
    actor.require(Permission::ManageUsers)?;
    let inactive_before = query
        .inactive_days
        .map(|days| inactive_cutoff(days, now))
        .transpose()?;
    let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
    let (items, total) = store::users::list(
        &mut *store.read().await?,
        &actor.tenant_id,
        &store::users::Listing {
            search: query.search.trim(),
            user_type: query.user_type,
            external_state: query.external_state,
            inactive_before,
        },
        i64::from(query.page) * i64::from(page_size),
        i64::from(page_size),
    )
    .await?;
    Ok(Page {
        items,
        total,
        page: query.page,
        page_size,
    })
}

pub(crate) async fn find_in_tenant(
    db: &mut sqlx::AnyConnection,
    actor: &Principal,
    id: &str,
) -> Result<UserSummary> {
    store::users::get(db, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("user"))
}

/// One user with their roles, groups and directly assigned apps.
///
/// **Permissions:** global or user administrators.
pub async fn get(store: &Store, actor: &Principal, id: &str) -> Result<UserDetail> {
    actor.require(Permission::ManageUsers)?;
    let mut db = store.read().await?;
    let user = find_in_tenant(&mut db, actor, id).await?;
    Ok(UserDetail {
        roles: store::users::roles(&mut db, &user.id).await?,
        groups: store::users::groups_of(&mut db, &user.id).await?,
        apps: store::users::apps_assigned_directly(&mut db, &user.id).await?,
        sponsors: store::sponsors::of_guest(&mut db, &user.id).await?,
        access: store::guest_access::of_user(&mut db, &actor.tenant_id, &user.id)
            .await?
            .unwrap_or_default(),
        user,
    })
}

/// A user of the tenant named by email address or id, for forms where an administrator
/// types who to add.
///
/// **Permissions:** administrators who manage users, groups or apps.
pub async fn resolve(store: &Store, actor: &Principal, key: &str) -> Result<UserSummary> {
    if ![
        Permission::ManageUsers,
        Permission::ManageGroups,
        Permission::ManageApps,
    ]
    .into_iter()
    .any(|p| actor.may(p))
    {
        return Err(Error::AccessDenied);
    }
    let key = key.trim();
    let found = if key.contains('@') {
        store::users::by_email(
            &mut *store.read().await?,
            &actor.tenant_id,
            &key.to_lowercase(),
        )
        .await?
    } else {
        store::users::get(&mut *store.read().await?, &actor.tenant_id, key).await?
    };
    found.ok_or_else(|| {
        Error::Invalid(vec![types::FieldError {
            field: "user".into(),
            message: format!("Nobody in this organization has the address or id '{key}'."),
        }])
    })
}

/// Changes a user's email address and display name.
///
/// **Permissions:** global or user administrators (only a global administrator for a
/// global administrator).
pub async fn update(
    store: &Store,
    actor: &Principal,
    id: &str,
    email: &str,
    display_name: &str,
    now: i64,
) -> Result<UserSummary> {
    actor.require(Permission::ManageUsers)?;
    let email = validate::email("email", email);
    let name = validate::name("display_name", display_name, 256);
    validate::report([email.as_ref().err(), name.as_ref().err()])?;
    let (email, display_name) = (email?, name?);
    let mut tx = store.begin().await?;
    let before = find_in_tenant(&mut tx, actor, id).await?;
    guard_admin_target(&mut tx, actor, id).await?;
    if before.user_type == UserType::Member && before.email != email {
        crate::tenants::Domains::of(&mut tx, &actor.tenant_id)
            .await?
            .check("email", &email)?;
    }
    store::users::update(&mut tx, &actor.tenant_id, id, &email, &display_name, now)
        .await
        .map_err(|e| Error::conflict_on_unique(e, format!("{email} already has an account.")))?;
    let mut changes = Vec::new();
    if before.email != email {
        changes.push(format!("email {} → {email}", before.email));
    }
    if before.display_name != display_name {
        changes.push(format!(
            "display name {} → {display_name}",
            before.display_name
        ));
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update user",
            target_type: "User",
            target_id: id,
            target_name: &display_name,
            detail: changes.join("; "),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(UserSummary {
        email,
        display_name,
        ..before
    })
}

/// Refuses a change that would leave the tenant without an enabled global administrator:
/// taking `user` away as one (disabling, deleting, taking the role, leaving) when they are
/// an enabled global administrator and the last. A disabled one counts for nothing, so
/// taking them away never leaves the tenant with fewer.
pub(crate) async fn keep_a_global_admin(
    tx: &mut Tx,
    tenant_id: &str,
    user: &UserSummary,
) -> Result<()> {
    if !user.enabled {
        return Ok(());
    }
    let roles = store::users::roles(tx, &user.id).await?;
    if roles.contains(&Role::GlobalAdministrator)
        && store::users::count_active_global_admins(tx, tenant_id).await? <= 1
    {
        return Err(Error::Conflict(
            "This is the organization's last global administrator. Make someone else a global administrator first."
                .into(),
        ));
    }
    Ok(())
}

/// Disables or enables a user. Disabling ends all of the user's sessions at once.
///
/// **Permissions:** global or user administrators; nobody disables themselves, and only a
/// global administrator disables a global administrator.
pub async fn set_enabled(
    store: &Store,
    actor: &Principal,
    id: &str,
    enabled: bool,
    now: i64,
) -> Result<UserSummary> {
    actor.require(Permission::ManageUsers)?;
    if !enabled && actor.is_user(id) {
        return Err(Error::Conflict(
            "You cannot disable your own account.".into(),
        ));
    }
    let mut tx = store.begin().await?;
    let user = find_in_tenant(&mut tx, actor, id).await?;
    guard_admin_target(&mut tx, actor, id).await?;
    if !enabled {
        keep_a_global_admin(&mut tx, &actor.tenant_id, &user).await?;
    }
    if enabled && user.user_type == UserType::Guest {
        // A guest whose access ended comes back as a restore does: deletion called off,
        // a new period from now.
        let access = crate::guest_access::of_user_in(&mut tx, &actor.tenant_id, id).await?;
        if access.delete_after.is_some() {
            crate::guest_access::restore_in(&mut tx, actor, id, now).await?;
            tx.commit().await?;
            return Ok(UserSummary { enabled, ..user });
        }
        // Disabled by hand past their end: enabled, they get a new period rather than
        // being disabled again by the next sweep.
        crate::guest_access::renew_if_past(&mut tx, actor, id, &access, now).await?;
    }
    store::users::set_enabled(&mut tx, &actor.tenant_id, id, enabled, now).await?;
    let ended = if enabled {
        0
    } else {
        crate::sponsors::step_down(&mut tx, actor, &user, "disabled", now).await?;
        end_access(&mut tx, &user, now).await?
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: if enabled {
                "Enable account"
            } else {
                "Disable account"
            },
            target_type: "User",
            target_id: id,
            target_name: &user.display_name,
            detail: if enabled {
                String::new()
            } else {
                format!("{ended} sessions ended")
            },
        },
    )
    .await?;
    tx.commit().await?;
    Ok(UserSummary { enabled, ..user })
}

/// Ends a user's sessions. For a member, everything their identity holds ends with them:
/// the sessions they switched to organizations where they are a guest, and the tokens
/// issued to those guest users (see [`crate::sessions::end_identity`]). Returns the sessions
/// ended.
async fn end_access(tx: &mut Tx, user: &UserSummary, now: i64) -> Result<u64> {
    match user.user_type {
        UserType::Member => {
            let identity = crate::Identity::Member(user.id.clone());
            crate::sessions::end_identity(tx, &identity, None, now).await
        }
        UserType::Guest => store::sessions::delete_for_user(tx, &user.id).await,
    }
}

/// User administrators manage ordinary users; changing a global administrator takes
/// whoever may manage roles (a global administrator, or the operator).
async fn guard_admin_target(tx: &mut Tx, actor: &Principal, user_id: &str) -> Result<()> {
    if actor.may(Permission::ManageRoles) {
        return Ok(());
    }
    let roles = store::users::roles(tx, user_id).await?;
    if roles.contains(&Role::GlobalAdministrator) {
        Err(Error::AccessDenied)
    } else {
        Ok(())
    }
}

/// Sets a new password for a member and ends their sessions.
///
/// **Permissions:** global or user administrators (only a global administrator for a
/// global administrator).
pub async fn reset_password(
    store: &Store,
    actor: &Principal,
    id: &str,
    new_password: &str,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageUsers)?;
    let user = find_in_tenant(&mut *store.read().await?, actor, id).await?;
    if user.user_type != UserType::Member {
        return Err(Error::Conflict(
            "Guests sign in with their own identity; they have no password here.".into(),
        ));
    }
    password::check_new("password", new_password, &user.email)?;
    let hash = password::hash_blocking(new_password.to_string()).await?;
    let mut tx = store.begin().await?;
    guard_admin_target(&mut tx, actor, id).await?;
    store::users::set_password_hash(&mut tx, &actor.tenant_id, id, &hash.0, now).await?;
    let ended = if actor.is_user(id) {
        0
    } else {
        end_access(&mut tx, &user, now).await?
    };
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Reset password",
            target_type: "User",
            target_id: id,
            target_name: &user.display_name,
            detail: format!("{ended} sessions ended"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a user, with their memberships, ownerships, assignments and sessions.
///
/// **Permissions:** global or user administrators; nobody deletes themselves, and the
/// last global administrator is never deleted.
pub async fn delete(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageUsers)?;
    if actor.is_user(id) {
        return Err(Error::Conflict(
            "You cannot delete your own account.".into(),
        ));
    }
    let mut tx = store.begin().await?;
    let user = find_in_tenant(&mut tx, actor, id).await?;
    guard_admin_target(&mut tx, actor, id).await?;
    keep_a_global_admin(&mut tx, &actor.tenant_id, &user).await?;
    crate::sponsors::step_down(&mut tx, actor, &user, "deleted", now).await?;
    end_access(&mut tx, &user, now).await?;
    store::users::delete(&mut tx, &actor.tenant_id, id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Delete user",
            target_type: "User",
            target_id: id,
            target_name: &user.display_name,
            detail: user.email.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a user a role, or takes it away.
///
/// **Permissions:** global administrators only; a global administrator cannot take that
/// role from themselves, so a tenant always keeps one.
pub async fn set_role(
    store: &Store,
    actor: &Principal,
    id: &str,
    role: Role,
    granted: bool,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageRoles)?;
    if !granted && role == Role::GlobalAdministrator && actor.is_user(id) {
        return Err(Error::Conflict(
            "You cannot remove your own global administrator role.".into(),
        ));
    }
    let mut tx = store.begin().await?;
    let user = find_in_tenant(&mut tx, actor, id).await?;
    if granted && user.user_type == UserType::Guest && role != Role::GuestInviter {
        return Err(Error::Conflict(format!(
            "Guests cannot be {}s: guests never reach the admin console. Give the role to a member.",
            role.label().to_lowercase()
        )));
    }
    if !granted && role == Role::GlobalAdministrator {
        keep_a_global_admin(&mut tx, &actor.tenant_id, &user).await?;
    }
    if granted {
        store::users::add_role(&mut tx, id, role).await?;
    } else {
        store::users::remove_role(&mut tx, id, role).await?;
    }
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: if granted {
                "Add member to role"
            } else {
                "Remove member from role"
            },
            target_type: "User",
            target_id: id,
            target_name: &user.display_name,
            detail: role.label().to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a role inside `tx` without the permission check: first-run setup and the
/// operator make the first administrator this way.
pub(crate) async fn grant_role_in(
    tx: &mut Tx,
    actor: &Principal,
    user: &UserSummary,
    role: Role,
    now: i64,
) -> Result<()> {
    store::users::add_role(tx, &user.id, role).await?;
    audit::record(
        tx,
        actor,
        now,
        Change {
            action: "Add member to role",
            target_type: "User",
            target_id: &user.id,
            target_name: &user.display_name,
            detail: role.label().to_string(),
        },
    )
    .await
}

/// Whom to ask for a role in the tenant: its enabled global administrators (they alone
/// give roles), named to its members. A guest gets an empty list and is pointed at the
/// organization: its directory is not theirs to read.
///
/// **Permissions:** anyone signed in to the tenant.
pub async fn role_givers(store: &Store, actor: &Principal) -> Result<Vec<types::UserRef>> {
    match &actor.actor {
        crate::Actor::User { guest: false, .. } => {
            store::users::global_admins(&mut *store.read().await?, &actor.tenant_id).await
        }
        crate::Actor::User { guest: true, .. } => Ok(Vec::new()),
        _ => Err(Error::AccessDenied),
    }
}
