//! `/admin/security/conditional-access`: the organization's conditional-access policies
//! (list, add, change, delete) and What If. Global administrators only.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::format::datetime;
use types::{AppSummary, PolicyForm, PolicyRow, WhatIfAnswer};

use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error, typed};
use crate::error::AppError;

const HOME: &str = "/admin/security/conditional-access";

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/policies")]
pub async fn list_policies() -> Result<(Vec<PolicyRow>, Vec<AppSummary>), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let policies = domain::conditional_access::list(&portal.store, &principal)
        .await?
        .into_iter()
        .map(|p| PolicyRow {
            summary: p.rules.summary(),
            id: p.id,
            name: p.name,
            state: p.state.label().into(),
            modified_at: p.modified_at,
        })
        .collect();
    let apps = domain::apps::list(&portal.store, &principal).await?;
    Ok((policies, apps))
}

/// The form of the policy `id`, or a new policy's (`id` empty).
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/policies/form")]
pub async fn load_policy_form(id: String) -> Result<PolicyForm, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    if id.is_empty() {
        return Ok(domain::conditional_access::form::blank(&principal)?);
    }
    let policy = domain::conditional_access::get(&portal.store, &principal, &id).await?;
    Ok(domain::conditional_access::form::write(&portal.store, &principal, &policy).await?)
}

/// Saves the form as the policy `id`, or as a new one (`id` empty). Checkboxes are
/// present when ticked.
///
/// **Permissions:** global administrators.
#[allow(clippy::too_many_arguments)]
#[leptos::server(prefix = "/fn", endpoint = "admin/policies/save")]
pub async fn save_policy(
    id: String,
    name: String,
    state: String,
    users: String,
    include_users: String,
    include_groups: String,
    include_roles: String,
    exclude_guests: Option<String>,
    exclude_users: String,
    exclude_groups: String,
    exclude_roles: String,
    apps: String,
    include_apps: String,
    portico: Option<String>,
    exclude_apps: String,
    locations: String,
    exclude_locations: String,
    grant: String,
    mfa: Option<String>,
    passkey: Option<String>,
    terms: String,
    operator: String,
    frequency_hours: String,
    accept_lock_out: Option<String>,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let form = PolicyForm {
        name,
        state,
        users,
        include_users,
        include_groups,
        include_roles,
        exclude_guests: exclude_guests.is_some(),
        exclude_users,
        exclude_groups,
        exclude_roles,
        apps,
        include_apps,
        portico: portico.is_some(),
        exclude_apps,
        locations,
        exclude_locations,
        grant,
        mfa: mfa.is_some(),
        passkey: passkey.is_some(),
        terms,
        operator,
        frequency_hours,
        accept_lock_out: accept_lock_out.is_some(),
    };
    let policy = domain::conditional_access::form::read(&portal.store, &principal, &form).await?;
    let now = crate::server::now();
    let saved = if id.is_empty() {
        domain::conditional_access::create(&portal.store, &principal, &policy, now).await?
    } else {
        domain::conditional_access::update(&portal.store, &principal, &id, &policy, now).await?
    };
    crate::server::flash(
        &format!("Saved the policy \u{201c}{}\u{201d}.", saved.name),
        None,
    )
    .await;
    leptos_axum::redirect(HOME);
    Ok(())
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/policies/delete")]
pub async fn delete_policy(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::conditional_access::delete(&portal.store, &principal, &id, crate::server::now())
        .await?;
    crate::server::flash("Deleted the policy.", None).await;
    leptos_axum::redirect(HOME);
    Ok(())
}

/// `user`: an address; `app`: an app's id or `portico`; `ip`: an address or empty.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/policies/what-if")]
pub async fn evaluate_what_if(
    user: String,
    app: String,
    ip: String,
) -> Result<WhatIfAnswer, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::conditional_access::form::what_if(
        &portal.store,
        &principal,
        &user,
        &app,
        &ip,
        crate::server::now(),
    )
    .await?)
}

#[component]
pub fn Policies() -> impl IntoView {
    let policies = Resource::new(|| (), |_| list_policies());
    view! {
        <Title text="Conditional access · Portico admin" />
        <h1>"Conditional access"</h1>
        <p>"Policies decide what a sign-in to the organization's apps, or to Portico itself, must bring: a second factor, a passkey, accepted terms of use, a recent sign-in, or nothing at all (a block). A policy applies when every condition it sets matches; every policy that applies and is on must be satisfied, and a block wins. Report-only policies are evaluated and shown in the sign-in log but never enforced: try a policy that way first."</p>
        <p><a class="button" href=format!("{HOME}/new")>"New policy"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading policies…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok((rows, apps)) => view! {
                        {if rows.is_empty() {
                            view! { <p class="empty">"No policies yet: every sign-in the directory allows goes through."</p> }.into_any()
                        } else {
                            view! {
                                <table>
                                    <thead><tr><th scope="col">"Policy"</th><th scope="col">"State"</th><th scope="col">"What it does"</th><th scope="col">"Changed"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|p| view! {
                                            <tr>
                                                <td><a href=format!("{HOME}/{}", p.id)>{p.name}</a></td>
                                                <td>{p.state}</td>
                                                <td>{p.summary}</td>
                                                <td>{datetime(p.modified_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        <WhatIf apps />
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn WhatIf(apps: Vec<AppSummary>) -> impl IntoView {
    let ask = ServerAction::<EvaluateWhatIf>::new();
    let error = action_error(ask.value());
    view! {
        <section class="card" aria-labelledby="what-if">
            <h2 id="what-if">"What If"</h2>
            <p>"Which policies would apply to a sign-in, why the others would not, and what it would be asked for, without anybody signing in."</p>
            <ActionForm action=ask attr:class="grid">
                <FormError error />
                <Field label="User's address" name="user" kind="email" required=true error />
                <div class="field">
                    <label for="field-app">"App"</label>
                    <select id="field-app" name="app">
                        <option value="portico">"Portico itself (access panel and admin console)"</option>
                        {apps.into_iter().map(|a| view! { <option value=a.id>{a.name}</option> }).collect_view()}
                    </select>
                </div>
                <Field label="Client address (IP)" name="ip" hint="Optional, e.g. 203.0.113.7; empty for unknown." error />
                <Submit label="Evaluate" busy_label="Evaluating…" pending=ask.pending() />
            </ActionForm>
            {move || ask.value().get().and_then(Result::ok).map(|answer| view! {
                <div role="status">
                    <p class="banner"><strong>{answer.outcome}</strong></p>
                    <table>
                        <thead><tr><th scope="col">"Policy"</th><th scope="col">"State"</th><th scope="col">"Applies"</th><th scope="col">"Why"</th></tr></thead>
                        <tbody>
                            {answer.policies.into_iter().map(|r| view! {
                                <tr>
                                    <td>{r.name}</td>
                                    <td>{r.state}</td>
                                    <td>{if r.applies { "Yes" } else { "No" }}</td>
                                    <td>{r.why}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

/// `/admin/security/conditional-access/new` and `/admin/security/conditional-access/:id`.
#[component]
pub fn PolicyPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .filter(|id| id != "new")
            .unwrap_or_default()
    };
    let form = Resource::new(id, load_policy_form);
    view! {
        <Title text="Policy · Conditional access · Portico admin" />
        <p><a href=HOME>"← Conditional access"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading the policy…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(current) => view! { <PolicyEditor id=id() current /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A text area with its label, hint and error; after a refused post it holds what was
/// typed.
#[component]
fn Lines(
    label: &'static str,
    name: &'static str,
    value: String,
    hint: &'static str,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let value = typed(error).and_then(|t| t.get(name)).unwrap_or(value);
    let message = move || error.get().and_then(|e| e.field(name));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    // Only the hint and the error that are on the page describe the field.
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows="3" aria-describedby=described aria-invalid=move || message().is_some().then_some("true")>{value}</textarea>
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {move || message().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// A radio button of the group `name`; after a refused post, the choice posted wins over
/// `current`.
#[component]
fn Choice(
    name: &'static str,
    value: &'static str,
    label: &'static str,
    current: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let current = typed(error).and_then(|t| t.get(name)).unwrap_or(current);
    let id = format!("field-{name}-{value}");
    view! {
        <div class="field check">
            <input type="radio" id=id.clone() name=name value=value checked=current == value />
            <label for=id>{label}</label>
        </div>
    }
}

/// A checkbox, present in the post when ticked; after a refused post, ticked as posted.
#[component]
fn Tick(
    name: &'static str,
    label: &'static str,
    checked: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let checked = typed(error).map_or(checked, |t| t.get(name).is_some());
    let id = format!("field-{name}");
    view! {
        <div class="field check">
            <input type="checkbox" id=id.clone() name=name value="on" checked=checked />
            <label for=id>{label}</label>
        </div>
    }
}

#[component]
fn PolicyEditor(id: String, current: PolicyForm) -> impl IntoView {
    let save = ServerAction::<SavePolicy>::new();
    let delete = ServerAction::<DeletePolicy>::new();
    let error = action_error(save.value());
    let delete_error = action_error(delete.value());
    let c = current;
    let is_new = id.is_empty();
    let delete_id = id.clone();
    let title = if is_new {
        "New policy".to_string()
    } else {
        c.name.clone()
    };
    let field_error = move |name: &'static str| {
        move || {
            error
                .get()
                .and_then(|e| e.field(name))
                .map(|m| view! { <p class="field-error" role="alert">{m}</p> })
        }
    };
    view! {
        <h1>{title}</h1>
        <ActionForm action=save attr:class="grid">
            <FormError error />
            <input type="hidden" name="id" value=id.clone() />
            <Field label="Name" name="name" value=c.name.clone() required=true error />
            <fieldset>
                <legend>"State"</legend>
                <Choice name="state" value="enabled" label="On: enforced" current=c.state.clone() error />
                <Choice name="state" value="enabledForReportingButNotEnforced" label="Report-only: evaluated and logged, never enforced" current=c.state.clone() error />
                <Choice name="state" value="disabled" label="Off" current=c.state.clone() error />
                {field_error("state")}
            </fieldset>
            <fieldset>
                <legend>"Users"</legend>
                <Choice name="users" value="everyone" label="Everyone (guests included)" current=c.users.clone() error />
                <Choice name="users" value="guests" label="All guests and external users" current=c.users.clone() error />
                <Choice name="users" value="selected" label="Selected users, groups and roles:" current=c.users.clone() error />
                {field_error("users")}
                <Lines label="Users (addresses, one a line)" name="include_users" value=c.include_users.clone() hint="Only with “Selected”." error />
                <Lines label="Groups (names, one a line)" name="include_groups" value=c.include_groups.clone() hint="Only with “Selected”." error />
                <Lines label="Roles (one a line)" name="include_roles" value=c.include_roles.clone() hint="GlobalAdministrator, UserAdministrator or GuestInviter; only with “Selected”." error />
            </fieldset>
            <fieldset>
                <legend>"Leave out (exclusions win)"</legend>
                <Tick name="exclude_guests" label="All guests and external users" checked=c.exclude_guests error />
                <Lines label="Users (addresses, one a line)" name="exclude_users" value=c.exclude_users.clone() hint="Leave out an emergency administrator account here." error />
                <Lines label="Groups (names, one a line)" name="exclude_groups" value=c.exclude_groups.clone() hint="" error />
                <Lines label="Roles (one a line)" name="exclude_roles" value=c.exclude_roles.clone() hint="" error />
                {field_error("exclude")}
            </fieldset>
            <fieldset>
                <legend>"Apps"</legend>
                <Choice name="apps" value="all" label="All apps, and Portico itself" current=c.apps.clone() error />
                <Choice name="apps" value="selected" label="Selected apps:" current=c.apps.clone() error />
                {field_error("apps")}
                <Lines label="Apps (names, one a line)" name="include_apps" value=c.include_apps.clone() hint="Only with “Selected”." error />
                <Tick name="portico" label="Portico itself: the access panel and the admin console (with “Selected”)" checked=c.portico error />
                <Lines label="Leave out these apps (names, one a line)" name="exclude_apps" value=c.exclude_apps.clone() hint="" error />
            </fieldset>
            <fieldset>
                <legend>"Locations"</legend>
                <Lines label="Only from these address ranges" name="locations" value=c.locations.clone() hint="CIDR ranges or addresses, one a line, e.g. 203.0.113.0/24 or 2001:db8::/32; empty for any address." error />
                <Lines label="Never from these address ranges" name="exclude_locations" value=c.exclude_locations.clone() hint="For example your offices' ranges. A sign-in whose address is unknown is in no range." error />
            </fieldset>
            <fieldset>
                <legend>"Grant"</legend>
                <Choice name="grant" value="block" label="Block the sign-in" current=c.grant.clone() error />
                <Choice name="grant" value="require" label="Allow, and require:" current=c.grant.clone() error />
                <Tick name="mfa" label="A second factor (an authenticator app code, a passkey, or a trusted partner's multi-factor sign-in)" checked=c.mfa error />
                <Tick name="passkey" label="A phishing-resistant second factor (a passkey)" checked=c.passkey error />
                <Lines label="Terms of use to accept (names, one a line)" name="terms" value=c.terms.clone() hint="Write them at Terms of use first. People are asked after any second factor." error />
                <Choice name="operator" value="all" label="All the ticked controls" current=c.operator.clone() error />
                <Choice name="operator" value="any" label="Any one of them" current=c.operator.clone() error />
                {field_error("grant")}
            </fieldset>
            <fieldset>
                <legend>"Session"</legend>
                <Field label="Sign in again after (hours)" name="frequency_hours" value=c.frequency_hours.clone() hint="Empty for no limit; from 1 to 8760." error />
                {field_error("frequency")}
            </fieldset>
            <Tick name="accept_lock_out" label="I understand this policy may block every global administrator from the admin console" checked=false error />
            <Submit label="Save the policy" busy_label="Saving…" pending=save.pending() />
        </ActionForm>
        {(!is_new).then(|| view! {
            <section class="card" aria-labelledby="delete-policy">
                <h2 id="delete-policy">"Delete"</h2>
                <FormError error=delete_error />
                <Confirm ask="Delete the policy" consequence="The policy stops applying at once. The sign-in log keeps its past results.">
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=delete_id.clone() />
                        <Submit label="Delete the policy" busy_label="Deleting…" pending=delete.pending() class="danger" />
                    </ActionForm>
                </Confirm>
            </section>
        })}
    }
}
