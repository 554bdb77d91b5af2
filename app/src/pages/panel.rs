//! The access panel: the apps the signed-in person may open, and their groups.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{AccessPanel, AppSummary, MyGroup};

use crate::components::LoadError;
use crate::error::AppError;

/// The signed-in user's apps and groups.
#[leptos::server(prefix = "/fn", endpoint = "panel")]
pub async fn access_panel_data() -> Result<AccessPanel, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::access::panel(&portal.store, &principal).await?)
}

#[component]
pub fn Panel() -> impl IntoView {
    let panel = Resource::new(|| (), |_| access_panel_data());
    let may_invite = Resource::new(|| (), |_| crate::pages::invite::may_invite());
    let session = crate::pages::session::use_session();
    view! {
        <Title text="My apps · Portico" />
        <Suspense fallback=|| view! { <p class="loading">"Loading your apps…"</p> }>
            {move || Suspend::new(async move {
                match panel.await {
                    Ok(panel) => {
                        let me = session.me.await.ok().flatten();
                        let may_invite = may_invite.await.unwrap_or(false);
                        view! {
                            {may_invite.then(|| view! { <p class="actions"><a href="/invite">"Invite a guest"</a></p> })}
                            <PanelView panel /> {me.filter(|m| m.guest).map(|me| view! { <LeaveOrganization tenant=me.tenant_name /> })} }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PanelView(panel: AccessPanel) -> impl IntoView {
    let no_apps = panel.apps.is_empty();
    let no_groups = panel.groups.is_empty();
    view! {
        <section aria-labelledby="apps-title">
            <h1 id="apps-title">"My apps"</h1>
            {no_apps.then(|| view! {
                <p class="empty">"No apps yet. When an administrator gives you access to an app, it appears here."</p>
            })}
            <ul class="tiles">
                {panel.apps.into_iter().map(|app| view! { <AppTile app /> }).collect_view()}
            </ul>
        </section>
        <section aria-labelledby="groups-title">
            <h2 id="groups-title">"My groups"</h2>
            {no_groups.then(|| view! { <p class="empty">"You are not in any group."</p> })}
            <ul class="groups">
                {panel.groups.into_iter().map(|group| view! { <GroupItem group /> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn AppTile(app: AppSummary) -> impl IntoView {
    let initial = app
        .name
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    view! {
        <li class="tile">
            <a href=app.launch_url rel="noopener noreferrer" target="_blank">
                {match app.logo_url {
                    Some(logo) => view! { <img src=logo alt="" width="48" height="48" /> }.into_any(),
                    None => view! { <span class="logo" aria-hidden="true">{initial}</span> }.into_any(),
                }}
                <span class="tile-name">{app.name}</span>
                <span class="tile-description">{app.description}</span>
            </a>
        </li>
    }
}

#[component]
fn GroupItem(group: MyGroup) -> impl IntoView {
    let role = match (group.is_owner, group.is_member) {
        (true, true) => "Owner and member",
        (true, false) => "Owner",
        _ => "Member",
    };
    view! {
        <li>
            <strong>{group.name}</strong>
            <span class="badge">{role}</span>
            <span class="muted">{group.description}</span>
        </li>
    }
}

/// A guest leaves the organization they are looking at.
#[component]
fn LeaveOrganization(tenant: String) -> impl IntoView {
    let leave = ServerAction::<crate::pages::session::LeaveOrganization>::new();
    let error = crate::components::action_error(leave.value());
    view! {
        <section class="card danger-zone" aria-labelledby="leave">
            <h2 id="leave">{format!("You are a guest of {tenant}")}</h2>
            <crate::components::FormError error />
            <details>
                <summary>{format!("Leave {tenant}…")}</summary>
                <p>"Your guest account there is removed with its access to apps and groups. To come back you would need a new invitation."</p>
                <ActionForm action=leave>
                    <crate::components::Submit label="Leave organization" busy_label="Leaving…" pending=leave.pending() class="danger" />
                </ActionForm>
            </details>
        </section>
    }
}
