//! The access panel: the apps the signed-in person may open, and their groups.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{
    AccessPanel, AppRef, AppSummary, JoinPolicy, JoinableGroup, MyGroup, MyRequest, OwnedRef,
};

use crate::components::LoadError;
use crate::error::AppError;
use crate::pages::reviews::ReviewsForYou;

/// The signed-in user's apps and groups.
#[leptos::server(prefix = "/fn", endpoint = "panel")]
pub async fn access_panel_data() -> Result<AccessPanel, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::access::panel(&portal.store, &principal).await?)
}

/// Joins an open group, or asks its owners when it takes requests with approval.
///
/// **Permissions:** members (not guests), for groups that take requests.
#[leptos::server(prefix = "/fn", endpoint = "panel/join")]
pub async fn join_group(id: String) -> Result<(), AppError> {
    use domain::requests::Joining;
    let (portal, principal) = crate::server::principal().await?;
    let done =
        match domain::requests::join_group(&portal.store, &principal, &id, crate::server::now())
            .await?
        {
            Joining::Joined => "You joined the group.",
            Joining::Requested => "Your request was sent to the group's owners.",
        };
    crate::server::flash(done, None).await;
    Ok(())
}

/// Asks the owners of a requestable app for access.
///
/// **Permissions:** members (not guests), for requestable apps.
#[leptos::server(prefix = "/fn", endpoint = "panel/request")]
pub async fn request_app(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::requests::request_app(&portal.store, &principal, &id, crate::server::now()).await?;
    crate::server::flash("Your request was sent to the app's owners.", None).await;
    Ok(())
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
                        let sponsors = panel.sponsors.clone();
                        view! {
                            {may_invite.then(|| view! { <p class="actions"><a href="/invite">"Invite a guest"</a></p> })}
                            <PanelView panel />
                            <ReviewsForYou />
                            {me.filter(|m| m.guest).map(|me| view! {
                                <Contacts tenant=me.tenant_name sponsors />
                            })}
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Apps shown before the panel offers a search box.
const SEARCH_FROM: usize = 7;

/// Whether `app` matches the search `query` (words, each found in the name or the
/// description, whatever the case).
fn matches(app: &AppSummary, query: &str) -> bool {
    let text = format!("{} {}", app.name, app.description).to_lowercase();
    query
        .to_lowercase()
        .split_whitespace()
        .all(|word| text.contains(word))
}

/// The search box of the apps: a form that reloads the panel with `?q=`, so it works
/// without JavaScript, and says how many apps match.
#[component]
fn AppSearch(query: String, shown: usize, total: usize) -> impl IntoView {
    let query = query.trim().to_string();
    let searching = !query.is_empty();
    let said = match shown {
        0 => format!("No app matches \u{201c}{query}\u{201d}."),
        1 => format!("1 of {total} apps matches \u{201c}{query}\u{201d}."),
        n => format!("{n} of {total} apps match \u{201c}{query}\u{201d}."),
    };
    view! {
        <form class="app-search" role="search" method="get" action="/">
            <label for="app-search">"Find an app"</label>
            <input id="app-search" type="search" name="q" value=query autocomplete="off" />
            <button type="submit" class="secondary">"Search"</button>
            {searching.then(|| view! { <a href="/">"Show all apps"</a> })}
        </form>
        {searching.then(|| view! { <p class="muted" role="status">{said}</p> })}
    }
}

#[component]
fn PanelView(panel: AccessPanel) -> impl IntoView {
    let AccessPanel {
        apps,
        groups,
        owned,
        joinable,
        requestable,
        requests,
        ..
    } = panel;
    let no_apps = apps.is_empty();
    let no_groups = groups.is_empty();
    let query = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("q")
        .unwrap_or_default();
    let total = apps.len();
    let search = total >= SEARCH_FROM || !query.trim().is_empty();
    let apps: Vec<AppSummary> = apps.into_iter().filter(|a| matches(a, &query)).collect();
    let shown = apps.len();
    view! {
        <section aria-labelledby="apps-title">
            <h1 id="apps-title">"My apps"</h1>
            {no_apps.then(|| view! {
                <p class="empty">"No apps yet. When an administrator gives you access to an app, it appears here."</p>
            })}
            {search.then(|| view! { <AppSearch query shown total /> })}
            <ul class="tiles">
                {apps.into_iter().map(|app| view! { <AppTile app /> }).collect_view()}
            </ul>
        </section>
        <section aria-labelledby="groups-title">
            <h2 id="groups-title">"My groups"</h2>
            {no_groups.then(|| view! { <p class="empty">"You are not in any group."</p> })}
            <ul class="groups">
                {groups.into_iter().map(|group| view! { <GroupItem group /> }).collect_view()}
            </ul>
        </section>
        {(!owned.is_empty()).then(|| view! { <Owned owned /> })}
        <SelfService joinable requestable />
        {(!requests.is_empty()).then(|| view! { <MyRequests requests /> })}
    }
}

/// What the person owns, each with a link to its Manage view. Not shown to someone who
/// owns nothing.
#[component]
fn Owned(owned: Vec<OwnedRef>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="manage-title">
            <h2 id="manage-title">"Manage"</h2>
            <p class="muted">"Apps and groups you own: see who has access, add people by email address, decide requests."</p>
            <ul class="rows">
                {owned.into_iter().map(|item| {
                    let href = format!("/manage/{}/{}", item.kind.path(), item.id);
                    let waiting = match item.pending_requests {
                        0 => None,
                        1 => Some("1 request waiting".to_string()),
                        n => Some(format!("{n} requests waiting")),
                    };
                    view! {
                        <li>
                            <a href=href>{format!("Manage {}", item.name)}</a>
                            <span class="badge">{item.kind.label()}</span>
                            {waiting.map(|w| view! { <strong class="waiting">{w}</strong> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Groups the person may join or ask to join, and apps they may ask for.
#[component]
fn SelfService(joinable: Vec<JoinableGroup>, requestable: Vec<AppRef>) -> impl IntoView {
    let join = ServerAction::<JoinGroup>::new();
    let request = ServerAction::<RequestApp>::new();
    let join_error = crate::components::action_error(join.value());
    let request_error = crate::components::action_error(request.value());
    view! {
        {(!joinable.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="join-title">
                <h2 id="join-title">"Groups you can join"</h2>
                <crate::components::FormError error=join_error />
                <ul class="rows">
                    {joinable.into_iter().map(|group| {
                        let label = match group.join_policy {
                            JoinPolicy::Open => format!("Join {}", group.name),
                            _ => format!("Ask to join {}", group.name),
                        };
                        let hint = match group.join_policy {
                            JoinPolicy::Open => "You join at once.",
                            _ => "An owner decides; you are told by mail.",
                        };
                        view! {
                            <li>
                                <strong>{group.name}</strong>
                                <span class="muted">{group.description}</span>
                                <span class="muted">{hint}</span>
                                <ActionForm action=join>
                                    <input type="hidden" name="id" value=group.id />
                                    <button type="submit" class="secondary">{label}</button>
                                </ActionForm>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!requestable.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="request-title">
                <h2 id="request-title">"Apps you can request"</h2>
                <crate::components::FormError error=request_error />
                <ul class="rows">
                    {requestable.into_iter().map(|app| view! {
                        <li>
                            <strong>{app.name.clone()}</strong>
                            <span class="muted">"Its owners decide; you are told by mail."</span>
                            <ActionForm action=request>
                                <input type="hidden" name="id" value=app.id />
                                <button type="submit" class="secondary">{format!("Request access to {}", app.name)}</button>
                            </ActionForm>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
}

/// The person's own requests and where each stands.
#[component]
fn MyRequests(requests: Vec<MyRequest>) -> impl IntoView {
    view! {
        <section aria-labelledby="requests-title">
            <h2 id="requests-title">"My requests"</h2>
            <ul class="groups">
                {requests.into_iter().map(|r| {
                    let what = match r.kind {
                        types::ObjectKind::App => format!("Access to {}", r.name),
                        types::ObjectKind::Group => format!("To join {}", r.name),
                    };
                    view! {
                        <li>
                            <strong>{what}</strong>
                            <span class="badge">{r.state.label()}</span>
                            <span class="muted">{types::format::datetime(r.created_at)}</span>
                        </li>
                    }
                }).collect_view()}
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

/// A guest's sponsors: whom to ask at the organization.
#[component]
fn Contacts(tenant: String, sponsors: Vec<types::UserRef>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="contacts">
            <h2 id="contacts">{format!("Your contacts at {tenant}")}</h2>
            {if sponsors.is_empty() {
                view! { <p class="empty">"Nobody is named as your sponsor yet; the person who invited you can help."</p> }.into_any()
            } else {
                view! {
                    <p>"Your sponsors: ask them about your access."</p>
                    <ul>
                        {sponsors.into_iter().map(|s| {
                            let mailto = format!("mailto:{}", s.email);
                            view! { <li>{s.display_name}" · "<a href=mailto>{s.email}</a></li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
