//! One group: its name and description, owners and members.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::{GroupDetail, JoinPolicy, UserRef};

use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/group")]
pub async fn get_group(id: String) -> Result<GroupDetail, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::groups::get(&portal.store, &principal, &id).await?)
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/group/update")]
pub async fn update_group(id: String, name: String, description: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::groups::update(
        &portal.store,
        &principal,
        &id,
        &name,
        &description,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/group/delete")]
pub async fn delete_group(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::groups::delete(&portal.store, &principal, &id, crate::server::now()).await?;
    leptos_axum::redirect("/admin/groups");
    Ok(())
}

/// Adds (`present`) or removes a user, named by email address or id, as owner or member.
///
/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/group/link")]
pub async fn change_group_user(
    id: String,
    user: String,
    relation: String,
    present: bool,
) -> Result<(), AppError> {
    use domain::groups::Link;
    let (portal, principal) = crate::server::principal().await?;
    let link = match relation.as_str() {
        "owner" => Link::Owner,
        "member" => Link::Member,
        _ => return Err(AppError::Refused("Choose owner or member.".into())),
    };
    let user = domain::users::resolve(&portal.store, &principal, &user).await?;
    domain::groups::set_link(
        &portal.store,
        &principal,
        &id,
        &user.id,
        link,
        present,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// Sets whether members may ask to join: `Closed`, `OwnerApproval` or `Open`.
///
/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/group/join-policy")]
pub async fn set_join_policy(id: String, policy: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let policy = JoinPolicy::parse(&policy)
        .ok_or_else(|| AppError::Refused("Choose closed, owner approval or open.".into()))?;
    domain::groups::set_join_policy(&portal.store, &principal, &id, policy, crate::server::now())
        .await?;
    crate::server::flash("Requests to join saved.", None).await;
    Ok(())
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let update = ServerAction::<UpdateGroup>::new();
    let members = ServerAction::<ChangeGroupUser>::new();
    let owners = ServerAction::<ChangeGroupUser>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let join = ServerAction::<SetJoinPolicy>::new();
    let group = Resource::new(id, get_group);
    view! {
        <Title text="Group · Portico admin" />
        <p><a href="/admin/groups">"← Groups"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match group.await {
                    Ok(detail) => view! { <GroupView detail update members owners join delete /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GroupView(
    detail: GroupDetail,
    update: ServerAction<UpdateGroup>,
    members: ServerAction<ChangeGroupUser>,
    owners: ServerAction<ChangeGroupUser>,
    join: ServerAction<SetJoinPolicy>,
    delete: ServerAction<DeleteGroup>,
) -> impl IntoView {
    let GroupDetail {
        group,
        join_policy,
        owners: owner_list,
        members: member_list,
    } = detail;
    let update_error = action_error(update.value());
    let delete_error = action_error(delete.value());
    let id = StoredValue::new(group.id.clone());
    view! {
        <h1>{group.name.clone()}</h1>
        <section class="card" aria-labelledby="settings">
            <h2 id="settings">"Settings"</h2>
            <ActionForm action=update attr:class="grid">
                <input type="hidden" name="id" value=id.get_value() />
                <FormError error=update_error />
                <Field label="Name" name="name" value=group.name.clone() required=true error=update_error />
                <Field label="Description" name="description" value=group.description.clone() error=update_error />
                <Submit label="Save" busy_label="Saving…" pending=update.pending() />
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="join-policy">
            <h2 id="join-policy">"Requests to join"</h2>
            <FormError error=action_error(join.value()) />
            <ActionForm action=join attr:class="inline">
                <input type="hidden" name="id" value=id.get_value() />
                <div class="field">
                    <label for="field-policy">"Members may request to join"</label>
                    <select id="field-policy" name="policy" aria-describedby="policy-hint">
                        {JoinPolicy::ALL.into_iter().map(|policy| view! {
                            <option value=policy.as_str() selected=policy == join_policy>{policy.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <Submit label="Save" busy_label="Saving…" pending=join.pending() />
            </ActionForm>
            <p class="hint" id="policy-hint">"With owner approval, requests wait in the owners' Manage view on their access panel; the requester is told by mail. Guests do not see the groups they could join."</p>
        </section>
        <UserList title="Members" relation="member" group_id=id.get_value() users=member_list link=members />
        <UserList title="Owners" relation="owner" group_id=id.get_value() users=owner_list link=owners />
        <section class="card danger-zone" aria-labelledby="delete">
            <h2 id="delete">"Delete"</h2>
            <FormError error=delete_error />
            <details>
                <summary>"Delete this group…"</summary>
                <p>"Its memberships and app assignments are removed; the users stay."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.get_value() />
                    <Submit label="Delete group" busy_label="Deleting…" pending=delete.pending() class="danger" />
                </ActionForm>
            </details>
        </section>
    }
}

/// Members or owners, with a form to add one by email and a button to remove each.
#[component]
fn UserList(
    title: &'static str,
    relation: &'static str,
    group_id: String,
    users: Vec<UserRef>,
    link: ServerAction<ChangeGroupUser>,
) -> impl IntoView {
    let error = action_error(link.value());
    let group_id = StoredValue::new(group_id);
    let heading = format!("{relation}-list");
    let labelled_by = heading.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading>{title}</h2>
            {users.is_empty().then(|| view! { <p class="empty">"None yet."</p> })}
            <ul class="rows">
                {users.into_iter().map(|u| view! {
                    <li>
                        <a href=format!("/admin/users/{}", u.id)>{u.display_name.clone()}</a>
                        <span class="muted">{u.email}</span>
                        <Confirm
                            ask="Remove"
                            about=format!("{} from the {relation}s", u.display_name)
                            consequence=if relation == "owner" {
                                format!("{} no longer manages this group.", u.display_name)
                            } else {
                                format!("{} leaves the group and loses the access it gives them to apps.", u.display_name)
                            }
                        >
                            <ActionForm action=link>
                                <input type="hidden" name="id" value=group_id.get_value() />
                                <input type="hidden" name="user" value=u.id />
                                <input type="hidden" name="relation" value=relation />
                                <input type="hidden" name="present" value="false" />
                                <button type="submit" class="danger">{format!("Remove {} from the {relation}s", u.display_name)}</button>
                            </ActionForm>
                        </Confirm>
                    </li>
                }).collect_view()}
            </ul>
            <ActionForm action=link attr:class="inline">
                <input type="hidden" name="id" value=group_id.get_value() />
                <input type="hidden" name="relation" value=relation />
                <input type="hidden" name="present" value="true" />
                <Field label=if relation == "owner" { "Add owner (email address)" } else { "Add member (email address)" } name="user" kind="email" id=format!("add-{relation}") required=true error />
                <button type="submit" class="primary">"Add"</button>
            </ActionForm>
        </section>
    }
}
