//! One user: edit, enable or disable, reset the password, roles, delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::{ExternalState, Role, UserDetail, UserType};

use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;
use types::format::datetime;

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/user")]
pub async fn get_user(id: String) -> Result<UserDetail, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::users::get(&portal.store, &principal, &id).await?)
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/update")]
pub async fn update_user(id: String, email: String, display_name: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::users::update(
        &portal.store,
        &principal,
        &id,
        &email,
        &display_name,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// **Permissions:** global or user administrators; not oneself.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/enabled")]
pub async fn set_user_enabled(id: String, enabled: bool) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::users::set_enabled(
        &portal.store,
        &principal,
        &id,
        enabled,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/password")]
pub async fn reset_user_password(id: String, password: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::users::reset_password(
        &portal.store,
        &principal,
        &id,
        &password,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Password changed. The user's sessions have ended.", None).await;
    Ok(())
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/role")]
pub async fn set_user_role(id: String, role: String, granted: bool) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let role = Role::parse(&role)
        .ok_or_else(|| AppError::Refused(format!("There is no role called '{role}'.")))?;
    domain::users::set_role(
        &portal.store,
        &principal,
        &id,
        role,
        granted,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// A guest goes back to pending acceptance with a new invitation; groups and apps stay.
///
/// **Permissions:** those who may invite guests.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/reset_redemption")]
pub async fn reset_redemption(id: String) -> Result<types::Invited, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let invited = domain::invitations::reset_redemption(
        &portal.store,
        &principal,
        &id,
        &portal.public_url,
        crate::server::now(),
    )
    .await?;
    crate::server::flash(
        "A new invitation was mailed.",
        Some(("Invitation link", &invited.redeem_url)),
    )
    .await;
    Ok(invited)
}

/// `sponsor`: an address or user id of a member.
///
/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/sponsor/add")]
pub async fn add_sponsor(id: String, sponsor: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::sponsors::add(
        &portal.store,
        &principal,
        &id,
        &sponsor,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// **Permissions:** global or user administrators; a guest keeps one sponsor.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/sponsor/remove")]
pub async fn remove_sponsor(id: String, sponsor_id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::sponsors::remove(
        &portal.store,
        &principal,
        &id,
        &sponsor_id,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// **Permissions:** global or user administrators; not oneself.
#[leptos::server(prefix = "/fn", endpoint = "admin/user/delete")]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::users::delete(&portal.store, &principal, &id, crate::server::now()).await?;
    leptos_axum::redirect("/admin/users");
    Ok(())
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let update = ServerAction::<UpdateUser>::new();
    let enabled = ServerAction::<SetUserEnabled>::new();
    let password = ServerAction::<ResetUserPassword>::new();
    let role = ServerAction::<SetUserRole>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let reset = ServerAction::<ResetRedemption>::new();
    let add_sponsor = ServerAction::<AddSponsor>::new();
    let remove_sponsor = ServerAction::<RemoveSponsor>::new();
    let restore = ServerAction::<crate::pages::sponsor::RestoreAccess>::new();
    let user = Resource::new(
        move || {
            (
                id(),
                add_sponsor.version().get(),
                remove_sponsor.version().get(),
                restore.version().get(),
            )
        },
        |(id, _, _, _)| get_user(id),
    );
    let actions = UserActions {
        update,
        enabled,
        password,
        role,
        delete,
        reset,
        add_sponsor,
        remove_sponsor,
        restore,
    };
    view! {
        <Title text="User · Portico admin" />
        <p><a href="/admin/users">"← Users"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(detail) => view! { <UserView detail actions /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct UserActions {
    update: ServerAction<UpdateUser>,
    enabled: ServerAction<SetUserEnabled>,
    password: ServerAction<ResetUserPassword>,
    role: ServerAction<SetUserRole>,
    delete: ServerAction<DeleteUser>,
    reset: ServerAction<ResetRedemption>,
    add_sponsor: ServerAction<AddSponsor>,
    remove_sponsor: ServerAction<RemoveSponsor>,
    restore: ServerAction<crate::pages::sponsor::RestoreAccess>,
}

#[component]
fn UserView(detail: UserDetail, actions: UserActions) -> impl IntoView {
    let UserDetail {
        user,
        roles,
        groups,
        apps,
        sponsors,
        access,
    } = detail;
    let update_error = action_error(actions.update.value());
    let enabled_error = action_error(actions.enabled.value());
    let password_error = action_error(actions.password.value());
    let role_error = action_error(actions.role.value());
    let delete_error = action_error(actions.delete.value());
    let is_member = user.user_type == UserType::Member;
    let guest_state = user.external_state;
    let reset_error = action_error(actions.reset.value());
    let id = StoredValue::new(user.id.clone());
    let name = StoredValue::new(user.display_name.clone());
    let disable_consequence = format!(
        "{} is signed out everywhere at once and cannot sign in until sign-in is enabled again. Their groups, apps and roles stay.",
        user.display_name
    );
    view! {
        <h1>{user.display_name.clone()}</h1>
        <p class="muted">
            {format!("{} · {} · created {}", user.user_type.as_str(), if user.enabled { "enabled" } else { "disabled" }, datetime(user.created_at))}
        </p>
        <section class="card" aria-labelledby="profile">
            <h2 id="profile">"Profile"</h2>
            <ActionForm action=actions.update attr:class="grid">
                <input type="hidden" name="id" value=id.get_value() />
                <FormError error=update_error />
                <Field label="Display name" name="display_name" value=user.display_name.clone() required=true error=update_error />
                <Field label="Email address" name="email" kind="email" value=user.email.clone() required=true error=update_error />
                <Submit label="Save" busy_label="Saving…" pending=actions.update.pending() />
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="access">
            <h2 id="access">"Sign-in"</h2>
            <FormError error=enabled_error />
            {if user.enabled {
                view! {
                    <p>"This user can sign in."</p>
                    <Confirm
                        ask="Disable sign-in"
                        consequence=disable_consequence.clone()
                    >
                        <ActionForm action=actions.enabled>
                            <input type="hidden" name="id" value=id.get_value() />
                            <input type="hidden" name="enabled" value="false" />
                            <Submit label="Disable sign-in" busy_label="Saving…" pending=actions.enabled.pending() class="danger" />
                        </ActionForm>
                    </Confirm>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=actions.enabled>
                        <input type="hidden" name="id" value=id.get_value() />
                        <input type="hidden" name="enabled" value="true" />
                        <p>"This user cannot sign in."</p>
                        <Submit label="Enable sign-in" busy_label="Saving…" pending=actions.enabled.pending() />
                    </ActionForm>
                }.into_any()
            }}
            {is_member.then(|| view! {
                <ActionForm action=actions.password attr:class="grid">
                    <input type="hidden" name="id" value=id.get_value() />
                    <FormError error=password_error />
                    <Field label="New password" name="password" kind="password" required=true autocomplete="new-password" error=password_error />
                    <Submit label="Reset password" busy_label="Saving…" pending=actions.password.pending() />
                </ActionForm>
            })}
        </section>
        {guest_state.map(|state| view! {
            <section class="card" aria-labelledby="guest">
                <h2 id="guest">"Guest"</h2>
                <p>{format!("Invitation: {}.", state.label().to_lowercase())}</p>
                <GuestAccessState id=id.get_value() access=access.clone() restore=actions.restore />
                {(state == ExternalState::Accepted).then(|| view! {
                    <FormError error=reset_error />
                    <Confirm
                        ask="Reset redemption"
                        consequence="They are signed out, back to pending acceptance, and get a new invitation by mail; the identity they accepted with stops working here until they accept again, perhaps with another. Their groups and apps stay."
                    >
                        <ActionForm action=actions.reset>
                            <input type="hidden" name="id" value=id.get_value() />
                            <Submit label="Reset redemption" busy_label="Resetting…" pending=actions.reset.pending() class="danger" />
                        </ActionForm>
                    </Confirm>
                })}
            </section>
            <Sponsors id=id.get_value() sponsors=sponsors.clone() add=actions.add_sponsor remove=actions.remove_sponsor />
        })}
        <section class="card" aria-labelledby="roles">
            <h2 id="roles">"Roles"</h2>
            <FormError error=role_error />
            <ul class="rows">
                {Role::ALL.into_iter().map(|r| {
                    let has = roles.contains(&r);
                    view! {
                        <li>
                            <span>{r.label()}</span>
                            <span class="badge">{if has { "Assigned" } else { "Not assigned" }}</span>
                            {if has {
                                view! {
                                    <Confirm
                                        ask="Remove"
                                        about=format!("the role {}", r.label())
                                        consequence=format!("{} loses what the {} role lets them do, from their next request on.", name.get_value(), r.label())
                                    >
                                        <ActionForm action=actions.role>
                                            <input type="hidden" name="id" value=id.get_value() />
                                            <input type="hidden" name="role" value=r.as_str() />
                                            <input type="hidden" name="granted" value="false" />
                                            <button type="submit" class="danger">{format!("Remove the role {}", r.label())}</button>
                                        </ActionForm>
                                    </Confirm>
                                }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=actions.role>
                                        <input type="hidden" name="id" value=id.get_value() />
                                        <input type="hidden" name="role" value=r.as_str() />
                                        <input type="hidden" name="granted" value="true" />
                                        <button type="submit" class="secondary" aria-label=format!("Assign the role {}", r.label())>"Assign"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <section class="card" aria-labelledby="memberships">
            <h2 id="memberships">"Groups and apps"</h2>
            <h3>"Groups"</h3>
            <ul>{groups.into_iter().map(|g| view! { <li><a href=format!("/admin/groups/{}", g.id)>{g.name}</a></li> }).collect_view()}</ul>
            <h3>"Apps assigned directly"</h3>
            <ul>{apps.into_iter().map(|a| view! { <li><a href=format!("/admin/apps/{}", a.id)>{a.name}</a></li> }).collect_view()}</ul>
        </section>
        <section class="card danger-zone" aria-labelledby="delete">
            <h2 id="delete">"Delete"</h2>
            <FormError error=delete_error />
            <details>
                <summary>"Delete this user…"</summary>
                <p>"The user, their group memberships, app assignments and sessions are removed. This cannot be undone."</p>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="id" value=id.get_value() />
                    <Submit label="Delete user" busy_label="Deleting…" pending=actions.delete.pending() class="danger" />
                </ActionForm>
            </details>
        </section>
    }
}

/// A guest's sponsors, with a form to add one and a button to remove each.
#[component]
fn Sponsors(
    id: String,
    sponsors: Vec<types::UserRef>,
    add: ServerAction<AddSponsor>,
    remove: ServerAction<RemoveSponsor>,
) -> impl IntoView {
    let add_error = action_error(add.value());
    let remove_error = action_error(remove.value());
    let id = StoredValue::new(id);
    view! {
        <section class="card" aria-labelledby="sponsors">
            <h2 id="sponsors">"Sponsors"</h2>
            <p class="muted">"Members who answer for this guest (one to five). A sponsor who is disabled or deleted is replaced by the fallback sponsor set under External collaboration."</p>
            <FormError error=remove_error />
            {if sponsors.is_empty() {
                view! { <p class="empty">"None. Add a sponsor below."</p> }.into_any()
            } else {
                view! {
                    <ul class="rows">
                        {sponsors.into_iter().map(|s| {
                            let label = format!("Remove {} as a sponsor", s.display_name);
                            let consequence = format!("{} no longer answers for this guest and is not asked in their reviews. A guest left with no sponsor gets the fallback sponsor.", s.display_name);
                            let about = format!("{} as a sponsor", s.display_name);
                            view! {
                                <li>
                                    <span><a href=format!("/admin/users/{}", s.id)>{s.display_name}</a>" "<span class="muted">{s.email}</span></span>
                                    <Confirm ask="Remove" about consequence>
                                        <ActionForm action=remove>
                                            <input type="hidden" name="id" value=id.get_value() />
                                            <input type="hidden" name="sponsor_id" value=s.id />
                                            <button type="submit" class="danger">{label}</button>
                                        </ActionForm>
                                    </Confirm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=add attr:class="grid">
                <input type="hidden" name="id" value=id.get_value() />
                <FormError error=add_error />
                <Field label="Add a sponsor" name="sponsor" kind="email" hint="The address of a member." required=true error=add_error />
                <Submit label="Add sponsor" busy_label="Adding…" pending=add.pending() class="secondary" />
            </ActionForm>
        </section>
    }
}

/// When a guest's access ends, or, once it ended, when they are deleted, with the action to
/// restore them meanwhile.
#[component]
fn GuestAccessState(
    id: String,
    access: types::GuestAccessState,
    restore: ServerAction<crate::pages::sponsor::RestoreAccess>,
) -> impl IntoView {
    let error = action_error(restore.value());
    let state = match (access.delete_after, access.ends_at) {
        (Some(delete_after), _) => format!(
            "Access ended on {} ({}); scheduled for deletion on {}.",
            access.ended_at.map(datetime).unwrap_or_default(),
            access.end_reason.clone().unwrap_or_default(),
            datetime(delete_after)
        ),
        (None, Some(ends_at)) => format!(
            "Access ends on {} unless a sponsor renews it.",
            datetime(ends_at)
        ),
        (None, None) => "Access does not end.".to_string(),
    };
    let ended = access.delete_after.is_some();
    view! {
        <p id="guest-access-state">{state}</p>
        {(!ended && access.ends_at.is_some()).then(|| view! {
            <p><a href=format!("/sponsor/{id}")>"Renew or let it end"</a></p>
        })}
        {ended.then(|| view! {
            <FormError error />
            <ActionForm action=restore>
                <input type="hidden" name="id" value=id.clone() />
                <Submit label="Restore access" busy_label="Restoring…" pending=restore.pending() />
            </ActionForm>
        })}
    }
}
