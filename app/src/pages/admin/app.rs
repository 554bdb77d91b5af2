//! One app: settings, owners, and the users and groups it is assigned to.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::{AppDetail, GroupSummary};

use super::apps::AppFields;
use super::groups::list_groups;
use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app")]
pub async fn get_app(id: String) -> Result<AppDetail, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::apps::get(&portal.store, &principal, &id).await?)
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/update")]
pub async fn update_app(
    id: String,
    name: String,
    description: String,
    launch_url: String,
    logo_url: String,
    assignment_required: Option<String>,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let input = domain::apps::AppInput {
        name: &name,
        description: &description,
        launch_url: &launch_url,
        logo_url: &logo_url,
        assignment_required: assignment_required.is_some(),
    };
    domain::apps::update(&portal.store, &principal, &id, input, crate::server::now()).await?;
    Ok(())
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/delete")]
pub async fn delete_app(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::apps::delete(&portal.store, &principal, &id, crate::server::now()).await?;
    leptos_axum::redirect("/admin/apps");
    Ok(())
}

/// Adds (`present`) or removes an owner, named by email address or id.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/owner")]
pub async fn change_app_owner(id: String, user: String, present: bool) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let user = domain::users::resolve(&portal.store, &principal, &user).await?;
    domain::apps::set_owner(
        &portal.store,
        &principal,
        &id,
        &user.id,
        present,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// Assigns the app to (`present`), or takes it from, a user (by email address or id) or a
/// group (by id).
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/assignment")]
pub async fn change_app_assignment(
    id: String,
    kind: String,
    who: String,
    present: bool,
) -> Result<(), AppError> {
    use domain::apps::Assignee;
    let (portal, principal) = crate::server::principal().await?;
    let now = crate::server::now();
    match kind.as_str() {
        "user" => {
            let user = domain::users::resolve(&portal.store, &principal, &who).await?;
            domain::apps::set_assignment(
                &portal.store,
                &principal,
                &id,
                Assignee::User(&user.id),
                present,
                now,
            )
            .await?
        }
        "group" => {
            domain::apps::set_assignment(
                &portal.store,
                &principal,
                &id,
                Assignee::Group(&who),
                present,
                now,
            )
            .await?
        }
        _ => return Err(AppError::Refused("Choose a user or a group.".into())),
    };
    Ok(())
}

/// Whether the access panel offers "Request access" for the app.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/requestable")]
pub async fn set_app_requestable(id: String, requestable: Option<String>) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::apps::set_requestable(
        &portal.store,
        &principal,
        &id,
        requestable.is_some(),
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Access requests saved.", None).await;
    Ok(())
}

#[derive(Clone, Copy)]
struct AppActions {
    update: ServerAction<UpdateApp>,
    owner: ServerAction<ChangeAppOwner>,
    user: ServerAction<ChangeAppAssignment>,
    group: ServerAction<ChangeAppAssignment>,
    requestable: ServerAction<SetAppRequestable>,
    delete: ServerAction<DeleteApp>,
}

#[component]
pub fn AppPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = AppActions {
        update: ServerAction::new(),
        owner: ServerAction::new(),
        user: ServerAction::new(),
        group: ServerAction::new(),
        requestable: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let app = Resource::new(id, get_app);
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <Title text="App · Portico admin" />
        <p><a href="/admin/apps">"← Apps"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (app.await, groups.await) {
                    (Ok(detail), Ok(groups)) => view! { <AppView detail groups actions /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        <super::sso::AppSignInSection id=Signal::derive(id) />
    }
}

/// Hidden inputs carrying what a row's button acts on.
fn hidden_fields(fields: Vec<(&'static str, String)>) -> impl IntoView {
    fields
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view()
}

#[component]
fn AppView(detail: AppDetail, groups: Vec<GroupSummary>, actions: AppActions) -> impl IntoView {
    let AppDetail {
        app,
        requestable,
        api_permissions,
        delegated_permissions,
        owners,
        assigned_users,
        assigned_groups,
    } = detail;
    let update_error = action_error(actions.update.value());
    let owner_error = action_error(actions.owner.value());
    let user_error = action_error(actions.user.value());
    let group_error = action_error(actions.group.value());
    let delete_error = action_error(actions.delete.value());
    let id = StoredValue::new(app.id.clone());
    let name = app.name.clone();
    let open_to_all = !app.assignment_required;
    view! {
        <h1>{name}</h1>
        <section class="card" aria-labelledby="settings">
            <h2 id="settings">"Settings"</h2>
            <ActionForm action=actions.update attr:class="grid">
                <input type="hidden" name="id" value=id.get_value() />
                <FormError error=update_error />
                <AppFields app error=update_error />
                <Submit label="Save" busy_label="Saving…" pending=actions.update.pending() />
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="requests">
            <h2 id="requests">"Access requests"</h2>
            <FormError error=action_error(actions.requestable.value()) />
            <ActionForm action=actions.requestable>
                <input type="hidden" name="id" value=id.get_value() />
                <div class="field check">
                    <input type="checkbox" id="field-requestable" name="requestable" checked=requestable aria-describedby="requestable-hint" />
                    <label for="field-requestable">"Members may request access from the access panel"</label>
                </div>
                <p class="hint" id="requestable-hint">"The app's owners approve or deny each request from their Manage view; the requester is told by mail."</p>
                <Submit label="Save" busy_label="Saving…" pending=actions.requestable.pending() />
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="assignments">
            <h2 id="assignments">"Users and groups"</h2>
            {open_to_all.then(|| view! { <p class="banner">"Everyone in the organization may use this app; assignments below only matter once assignment is required."</p> })}
            <FormError error=user_error />
            <FormError error=group_error />
            <ul class="rows">
                {assigned_users.into_iter().map(|u| view! {
                    <li>
                        <span class="badge">"User"</span>
                        <a href=format!("/admin/users/{}", u.id)>{u.display_name.clone()}</a>
                        <span class="muted">{u.email}</span>
                        <Confirm ask="Remove" about=u.display_name.clone() consequence=format!("{} can no longer open this app, unless a group of theirs is assigned to it.", u.display_name)>
                            <ActionForm action=actions.user>{hidden_fields(vec![("id", id.get_value()), ("kind", "user".into()), ("who", u.id), ("present", "false".into())])}<button type="submit" class="danger">{format!("Remove {}", u.display_name)}</button></ActionForm>
                        </Confirm>
                    </li>
                }).collect_view()}
                {assigned_groups.into_iter().map(|g| view! {
                    <li>
                        <span class="badge">"Group"</span>
                        <a href=format!("/admin/groups/{}", g.id)>{g.name.clone()}</a>
                        <Confirm ask="Remove" about=g.name.clone() consequence=format!("The members of {} can no longer open this app through the group.", g.name)>
                            <ActionForm action=actions.group>{hidden_fields(vec![("id", id.get_value()), ("kind", "group".into()), ("who", g.id), ("present", "false".into())])}<button type="submit" class="danger">{format!("Remove {}", g.name)}</button></ActionForm>
                        </Confirm>
                    </li>
                }).collect_view()}
            </ul>
            <ActionForm action=actions.user attr:class="inline">
                <input type="hidden" name="id" value=id.get_value() />
                <input type="hidden" name="kind" value="user" />
                <input type="hidden" name="present" value="true" />
                <Field label="Assign a user (email address)" name="who" kind="email" id="assign-user" required=true error=user_error />
                <button type="submit" class="primary">"Assign"</button>
            </ActionForm>
            <ActionForm action=actions.group attr:class="inline">
                <input type="hidden" name="id" value=id.get_value() />
                <input type="hidden" name="kind" value="group" />
                <input type="hidden" name="present" value="true" />
                <div class="field">
                    <label for="assign-group">"Assign a group"</label>
                    <select id="assign-group" name="who" required=true>
                        {groups.into_iter().map(|g| view! { <option value=g.id>{g.name}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary">"Assign"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="owners">
            <h2 id="owners">"Owners"</h2>
            <FormError error=owner_error />
            <ul class="rows">
                {owners.into_iter().map(|u| view! {
                    <li>
                        <a href=format!("/admin/users/{}", u.id)>{u.display_name.clone()}</a>
                        <span class="muted">{u.email}</span>
                        <Confirm ask="Remove" about=format!("{} as an owner", u.display_name) consequence=format!("{} no longer manages this app: they cannot add or remove its people any more.", u.display_name)>
                            <ActionForm action=actions.owner>{hidden_fields(vec![("id", id.get_value()), ("user", u.id), ("present", "false".into())])}<button type="submit" class="danger">{format!("Remove {} as an owner", u.display_name)}</button></ActionForm>
                        </Confirm>
                    </li>
                }).collect_view()}
            </ul>
            <ActionForm action=actions.owner attr:class="inline">
                <input type="hidden" name="id" value=id.get_value() />
                <input type="hidden" name="present" value="true" />
                <Field label="Add owner (email address)" name="user" kind="email" id="add-owner" required=true error=owner_error />
                <button type="submit" class="primary">"Add"</button>
            </ActionForm>
        </section>
        <super::api_permissions::ApiPermissionsSection id=id.get_value() granted=api_permissions />
        <super::api_permissions::DelegatedPermissionsSection id=id.get_value() allowed=delegated_permissions />
        <section class="card danger-zone" aria-labelledby="delete">
            <h2 id="delete">"Delete"</h2>
            <FormError error=delete_error />
            <details>
                <summary>"Delete this app…"</summary>
                <p>"Its tile disappears for everyone and its assignments are removed."</p>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="id" value=id.get_value() />
                    <Submit label="Delete app" busy_label="Deleting…" pending=actions.delete.pending() class="danger" />
                </ActionForm>
            </details>
        </section>
    }
}
