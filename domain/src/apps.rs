//! Apps: the corporate applications people open from the access panel, who owns them and
//! who they are assigned to.

use types::{AppDetail, AppPermission, AppSummary};

use crate::audit::{self, Change};
use crate::store;
pub use crate::store::apps::Assignee;
use crate::store::apps::PermissionKind;
use crate::users::find_in_tenant;
use crate::{Error, Permission, Principal, Result, Store, validate};

const DUPLICATE: &str = "Another app already has that name.";

/// An app's settings, as typed.
pub struct AppInput<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub launch_url: &'a str,
    pub logo_url: &'a str,
    pub assignment_required: bool,
}

fn check(id: String, input: &AppInput<'_>) -> Result<AppSummary> {
    let name = validate::name("name", input.name, 128);
    let description = validate::text("description", input.description, 1024);
    let launch_url = validate::web_url("launch_url", input.launch_url);
    let logo_url = validate::optional_web_url("logo_url", input.logo_url);
    validate::report([
        name.as_ref().err(),
        description.as_ref().err(),
        launch_url.as_ref().err(),
        logo_url.as_ref().err(),
    ])?;
    Ok(AppSummary {
        id,
        name: name?,
        description: description?,
        launch_url: launch_url?,
        logo_url: logo_url?,
        assignment_required: input.assignment_required,
    })
}

async fn find(db: &mut sqlx::AnyConnection, actor: &Principal, id: &str) -> Result<AppSummary> {
    store::apps::get(db, &actor.tenant_id, id)
        .await?
        .ok_or(Error::NotFound("app"))
}

/// **Permissions:** global administrators.
pub async fn list(store: &Store, actor: &Principal) -> Result<Vec<AppSummary>> {
    actor.require(Permission::ManageApps)?;
    store::apps::list(&mut *store.read().await?, &actor.tenant_id).await
}

/// **Permissions:** global administrators.
pub async fn get(store: &Store, actor: &Principal, id: &str) -> Result<AppDetail> {
    actor.require(Permission::ManageApps)?;
    let mut db = store.read().await?;
    let app = find(&mut db, actor, id).await?;
    Ok(AppDetail {
        requestable: store::owners::requestable(&mut db, &actor.tenant_id, id)
            .await?
            .unwrap_or_default(),
        api_permissions: store::apps::permissions(&mut db, id).await?,
        delegated_permissions: store::apps::delegated_permissions(&mut db, id).await?,
        owners: store::apps::owners(&mut db, id).await?,
        assigned_users: store::apps::assigned_users(&mut db, id).await?,
        assigned_groups: store::apps::assigned_groups(&mut db, id).await?,
        app,
    })
}

/// **Permissions:** global administrators.
pub async fn create(
    store: &Store,
    actor: &Principal,
    input: AppInput<'_>,
    now: i64,
) -> Result<AppSummary> {
    actor.require(Permission::ManageApps)?;
    let app = check(crate::new_id(), &input)?;
    let mut tx = store.begin().await?;
    store::apps::insert(&mut tx, &actor.tenant_id, &app, now)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Add application",
            target_type: "App",
            target_id: &app.id,
            target_name: &app.name,
            detail: app.launch_url.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// **Permissions:** global administrators.
pub async fn update(
    store: &Store,
    actor: &Principal,
    id: &str,
    input: AppInput<'_>,
    now: i64,
) -> Result<AppSummary> {
    actor.require(Permission::ManageApps)?;
    let app = check(id.to_string(), &input)?;
    let mut tx = store.begin().await?;
    find(&mut tx, actor, id).await?;
    store::apps::update(&mut tx, &actor.tenant_id, &app)
        .await
        .map_err(|e| Error::conflict_on_unique(e, DUPLICATE))?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update application",
            target_type: "App",
            target_id: id,
            target_name: &app.name,
            detail: format!(
                "launch {}; assignment {}",
                app.launch_url,
                if app.assignment_required {
                    "required"
                } else {
                    "not required"
                }
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// **Permissions:** global administrators.
pub async fn delete(store: &Store, actor: &Principal, id: &str, now: i64) -> Result<()> {
    actor.require(Permission::ManageApps)?;
    let mut tx = store.begin().await?;
    let app = find(&mut tx, actor, id).await?;
    store::apps::delete(&mut tx, &actor.tenant_id, id).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Delete application",
            target_type: "App",
            target_id: id,
            target_name: &app.name,
            detail: String::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a user of the tenant an owner of the app, or no longer one.
///
/// **Permissions:** global administrators.
pub async fn set_owner(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    user_id: &str,
    present: bool,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageApps)?;
    let mut tx = store.begin().await?;
    let app = find(&mut tx, actor, app_id).await?;
    let user = find_in_tenant(&mut tx, actor, user_id).await?;
    let changed = if present {
        store::apps::add_owner(&mut tx, app_id, user_id).await?
    } else {
        store::apps::remove_owner(&mut tx, app_id, user_id).await?
    };
    if changed {
        audit::record(
            &mut tx,
            actor,
            now,
            Change {
                action: if present {
                    "Add owner to application"
                } else {
                    "Remove owner from application"
                },
                target_type: "App",
                target_id: app_id,
                target_name: &app.name,
                detail: format!("{} ({})", user.display_name, user.email),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Assigns the app to a user or a group of the tenant, or takes the assignment away;
/// whether that changed anything (false: it was so already).
///
/// **Permissions:** global administrators.
pub async fn set_assignment(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    assignee: Assignee<'_>,
    present: bool,
    now: i64,
) -> Result<bool> {
    actor.require(Permission::ManageApps)?;
    let mut tx = store.begin().await?;
    let app = find(&mut tx, actor, app_id).await?;
    let who = match assignee {
        Assignee::User(id) => {
            let user = find_in_tenant(&mut tx, actor, id).await?;
            format!("user {} ({})", user.display_name, user.email)
        }
        Assignee::Group(id) => {
            let group = store::groups::get(&mut tx, &actor.tenant_id, id)
                .await?
                .ok_or(Error::NotFound("group"))?;
            format!("group {}", group.name)
        }
    };
    let changed = if present {
        store::apps::assign(&mut tx, app_id, assignee).await?
    } else {
        store::apps::unassign(&mut tx, app_id, assignee).await?
    };
    if changed {
        audit::record(
            &mut tx,
            actor,
            now,
            Change {
                action: if present {
                    "Add app role assignment"
                } else {
                    "Remove app role assignment"
                },
                target_type: "App",
                target_id: app_id,
                target_name: &app.name,
                detail: who,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Sets whether the access panel offers "Request access" for the app to members who cannot
/// open it; its owners decide the requests.
///
/// **Permissions:** global administrators.
pub async fn set_requestable(
    store: &Store,
    actor: &Principal,
    id: &str,
    requestable: bool,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageApps)?;
    let mut tx = store.begin().await?;
    let app = find(&mut tx, actor, id).await?;
    store::owners::set_requestable(&mut tx, &actor.tenant_id, id, requestable).await?;
    audit::record(
        &mut tx,
        actor,
        now,
        Change {
            action: "Update application",
            target_type: "App",
            target_id: id,
            target_name: &app.name,
            detail: if requestable {
                "members may request access".into()
            } else {
                "requests for access closed".into()
            },
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Grants the app an application permission (what it may do as itself, with its own
/// credentials), or takes it back. Takes effect at the app's next request: each request
/// checks what the app holds then, whatever its token says.
///
/// **Permissions:** whoever may manage roles (global administrators): a program with
/// these permissions acts like an administrator.
pub async fn set_api_permission(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    permission: AppPermission,
    present: bool,
    now: i64,
) -> Result<()> {
    set_permission(
        store,
        actor,
        app_id,
        PermissionKind::Application,
        permission,
        present,
        now,
    )
    .await
}

/// Allows the app to ask people who sign in to it for a delegated permission (a scope of
/// the Graph-compatible API, with which it acts as that person, never beyond their own
/// rights), or takes that back. A request for a scope the app is not allowed is refused
/// (`invalid_scope`); taking one back takes effect at the app's next API request, whatever
/// its tokens say.
///
/// **Permissions:** whoever may manage roles (global administrators), as for application
/// permissions.
pub async fn set_delegated_permission(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    permission: AppPermission,
    present: bool,
    now: i64,
) -> Result<()> {
    set_permission(
        store,
        actor,
        app_id,
        PermissionKind::Delegated,
        permission,
        present,
        now,
    )
    .await
}

async fn set_permission(
    store: &Store,
    actor: &Principal,
    app_id: &str,
    kind: PermissionKind,
    permission: AppPermission,
    present: bool,
    now: i64,
) -> Result<()> {
    actor.require(Permission::ManageRoles)?;
    let mut tx = store.begin().await?;
    let app = find(&mut tx, actor, app_id).await?;
    let changed = if present {
        store::apps::grant(&mut tx, app_id, kind, permission, now).await?
    } else {
        store::apps::revoke(&mut tx, app_id, kind, permission).await?
    };
    if changed {
        let action = match (kind, present) {
            (PermissionKind::Application, true) => "Grant application permission",
            (PermissionKind::Application, false) => "Revoke application permission",
            (PermissionKind::Delegated, true) => "Grant delegated permission",
            (PermissionKind::Delegated, false) => "Revoke delegated permission",
        };
        audit::record(
            &mut tx,
            actor,
            now,
            Change {
                action,
                target_type: "App",
                target_id: app_id,
                target_name: &app.name,
                detail: permission.as_str().into(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
