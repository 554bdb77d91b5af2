//! An app's permissions for Portico's Graph-compatible API, granted one by one by a global
//! administrator: application permissions (what it may do as itself) and delegated
//! permissions (the scopes it may ask a person signing in for, to act as that person).

use leptos::prelude::*;
use types::AppPermission;

use crate::components::{FormError, Submit, action_error};
use crate::error::AppError;

/// Grants (`present`) or takes back one application permission, by its Graph name.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/api-permission")]
pub async fn change_api_permission(
    id: String,
    permission: String,
    present: bool,
    understood: Option<String>,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let Some(permission) = AppPermission::parse(&permission) else {
        return Err(AppError::Refused(
            "Choose a permission from the list.".into(),
        ));
    };
    if present && understood.is_none() {
        return Err(AppError::Refused(
            "Tick the box to confirm that this app may act on its own, with no person signed in."
                .into(),
        ));
    }
    domain::apps::set_api_permission(
        &portal.store,
        &principal,
        &id,
        permission,
        present,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// Allows (`present`) the app to ask for one delegated permission, by its Graph name, or
/// takes that back.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/delegated-permission")]
pub async fn change_delegated_permission(
    id: String,
    permission: String,
    present: bool,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let Some(permission) = AppPermission::parse(&permission) else {
        return Err(AppError::Refused(
            "Choose a permission from the list.".into(),
        ));
    };
    domain::apps::set_delegated_permission(
        &portal.store,
        &principal,
        &id,
        permission,
        present,
        crate::server::now(),
    )
    .await?;
    Ok(())
}

/// The delegated permissions the app may ask for when a person signs in to it.
#[component]
pub fn DelegatedPermissionsSection(id: String, allowed: Vec<AppPermission>) -> impl IntoView {
    let change = ServerAction::<ChangeDelegatedPermission>::new();
    let error = action_error(change.value());
    let allowable: Vec<AppPermission> = AppPermission::ALL
        .into_iter()
        .filter(|p| !allowed.contains(p))
        .collect();
    let id = StoredValue::new(id);
    view! {
        <section class="card" aria-labelledby="delegated-permissions">
            <h2 id="delegated-permissions">"Delegated permissions"</h2>
            <p>
                "When a person signs in to this app, it may ask for these scopes of the API (for example "
                <code>"https://graph.microsoft.com/User.Invite.All"</code>
                ") and then act as that person: never beyond what the person may do in this console. Allowing one here consents for the whole organization; a request for a scope not allowed is refused."
            </p>
            <FormError error />
            {if allowed.is_empty() {
                view! { <p class="empty">"None allowed."</p> }.into_any()
            } else {
                view! {
                    <ul class="rows">
                        {allowed.into_iter().map(|p| view! {
                            <li>
                                <code>{p.as_str()}</code>
                                <span class="muted">{p.description()}" (as the signed-in person)"</span>
                                <ActionForm action=change>
                                    <input type="hidden" name="id" value=id.get_value() />
                                    <input type="hidden" name="permission" value=p.as_str() />
                                    <input type="hidden" name="present" value="false" />
                                    <button type="submit" class="secondary" aria-label=format!("Disallow delegated {}", p.as_str())>"Disallow"</button>
                                </ActionForm>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!allowable.is_empty()).then(|| view! {
                <ActionForm action=change attr:class="grid">
                    <input type="hidden" name="id" value=id.get_value() />
                    <input type="hidden" name="present" value="true" />
                    <div class="field">
                        <label for="allow-delegated">"Delegated permission to allow"</label>
                        <select id="allow-delegated" name="permission" required=true>
                            {allowable.into_iter().map(|p| view! {
                                <option value=p.as_str()>{format!("{} — {}", p.as_str(), p.description())}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <Submit label="Allow" busy_label="Allowing…" pending=change.pending() />
                </ActionForm>
            })}
        </section>
    }
}

#[component]
pub fn ApiPermissionsSection(id: String, granted: Vec<AppPermission>) -> impl IntoView {
    let change = ServerAction::<ChangeApiPermission>::new();
    let error = action_error(change.value());
    let grantable: Vec<AppPermission> = AppPermission::ALL
        .into_iter()
        .filter(|p| !granted.contains(p))
        .collect();
    let id = StoredValue::new(id);
    view! {
        <section class="card" aria-labelledby="api-permissions">
            <h2 id="api-permissions">"API permissions"</h2>
            <p>
                "A program signed in as this app (with its client secret) may use Portico's Microsoft Graph-compatible API under "
                <code>"/v1.0"</code>
                " with these permissions, and no others. It asks for a token with the scope "
                <code>"…/.default"</code>
                " of this Portico's address (or "
                <code>"https://graph.microsoft.com/.default"</code>
                "). Each request checks what the app holds at that moment: taking a permission back takes effect at once."
            </p>
            <FormError error />
            {if granted.is_empty() {
                view! { <p class="empty">"None granted."</p> }.into_any()
            } else {
                view! {
                    <ul class="rows">
                        {granted.into_iter().map(|p| view! {
                            <li>
                                <code>{p.as_str()}</code>
                                <span class="muted">{p.description()}</span>
                                <crate::components::Confirm
                                    ask="Revoke"
                                    about=p.as_str()
                                    consequence=format!("The app loses {}: {}", p.as_str(), p.description())
                                >
                                    <ActionForm action=change>
                                        <input type="hidden" name="id" value=id.get_value() />
                                        <input type="hidden" name="permission" value=p.as_str() />
                                        <input type="hidden" name="present" value="false" />
                                        <button type="submit" class="danger">{format!("Revoke {}", p.as_str())}</button>
                                    </ActionForm>
                                </crate::components::Confirm>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!grantable.is_empty()).then(|| view! {
                <ActionForm action=change attr:class="grid">
                    <input type="hidden" name="id" value=id.get_value() />
                    <input type="hidden" name="present" value="true" />
                    <div class="field">
                        <label for="grant-permission">"Permission to grant"</label>
                        <select id="grant-permission" name="permission" required=true>
                            {grantable.into_iter().map(|p| view! {
                                <option value=p.as_str()>{format!("{} — {}", p.as_str(), p.description())}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field checkbox">
                        <input type="checkbox" id="grant-understood" name="understood" value="yes" required=true />
                        <label for="grant-understood">"I grant this to the app itself: it may use it with no person signed in, until the permission is revoked."</label>
                    </div>
                    <Submit label="Grant" busy_label="Granting…" pending=change.pending() />
                </ActionForm>
            })}
        </section>
    }
}
