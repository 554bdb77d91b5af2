//! The admin console: users, groups, apps and the audit log of the signed-in
//! administrator's tenant.

mod api_permissions;
mod app;
mod apps;
mod audit;
mod bulk;
mod collaboration;
mod group;
mod groups;
mod identities;
mod invitations;
mod partners;
mod policies;
mod reviews;
mod settings;
mod sso;
mod terms;
mod user;
mod users;

pub use app::AppPage;
pub use apps::Apps;
pub use audit::Audit;
pub use collaboration::ExternalCollaborationPage;
pub use group::GroupPage;
pub use groups::Groups;
pub use identities::ExternalIdentities;
pub use invitations::{Invitations, Outbox};
pub use partners::CrossTenantAccess;
pub use policies::{Policies, PolicyPage};
pub use reviews::{ReviewPage, Reviews};
pub use settings::Settings;
pub use sso::SignIns;
pub use terms::{TermsOfUse, TermsPage};
pub use user::UserPage;
pub use users::Users;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_location;
use types::{ConsoleAccess, ConsoleDenial, ConsolePage};

use crate::error::AppError;

/// Whether the signed-in person may open the console page at `path`; if not, the role it
/// needs and whom to ask for it (see `domain::console`).
///
/// **Permissions:** anyone signed in.
#[leptos::server(prefix = "/fn", endpoint = "admin/access")]
pub async fn console_gate(path: String) -> Result<ConsoleAccess, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    Ok(domain::console::access(&portal.store, &signed_in, &path).await?)
}

/// The console's navigation around each admin page, for those whose role opens it:
/// someone signed out is sent to sign in (by the server, before anything of the console
/// is sent) and comes back here after; someone signed in without the role gets one page
/// (403) naming the role the page needs and whom to ask. Every server function still
/// checks on its own.
#[component]
pub fn AdminLayout() -> impl IntoView {
    let path = use_location().pathname.get_untracked();
    let access = Resource::new(move || path.clone(), console_gate);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match access.await {
                    Ok(ConsoleAccess::Open { pages }) => view! { <Console pages /> }.into_any(),
                    Ok(ConsoleAccess::Denied(denial)) => view! { <ConsoleDenied denial /> }.into_any(),
                    Err(error) => view! { <crate::components::LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Console(pages: Vec<ConsolePage>) -> impl IntoView {
    view! {
        <div class="admin">
            <nav class="side" aria-label="Admin">
                {pages
                    .into_iter()
                    .map(|page| view! { <A href=page.href()>{page.label()}</A> })
                    .collect_view()}
            </nav>
            <div class="content">
                <Outlet />
            </div>
        </div>
    }
}

/// "A, B or C".
fn either(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The one page someone gets at a console page their roles do not open (403): which role
/// it needs, and whom to ask for it.
#[component]
fn ConsoleDenied(denial: ConsoleDenial) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    let ConsoleDenial {
        task,
        roles,
        organization,
        ask,
    } = denial;
    let roles: Vec<String> = roles.iter().map(|r| r.label().to_string()).collect();
    let heading = format!("You need the {} role to {task}", either(&roles));
    let whom = if ask.is_empty() {
        view! {
            <p>{format!(
                "Roles in {organization} are given by its global administrators. Ask an administrator of {organization}: \
                 if you are a guest there, the people who invited you know whom."
            )}</p>
        }
        .into_any()
    } else {
        let names: Vec<String> = ask.iter().map(|a| a.display_name.clone()).collect();
        view! {
            <p>{format!(
                "Roles in {organization} are given by its global administrators. If your work needs this, ask {}:",
                either(&names)
            )}</p>
            <ul class="contacts">
                {ask.into_iter().map(|a| {
                    let mailto = format!("mailto:{}", a.email);
                    view! { <li>{a.display_name}" · "<a href=mailto>{a.email}</a></li> }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <Title text="Not open to you · Portico" />
        <section class="card narrow" aria-labelledby="denied">
            <h1 id="denied">{heading}</h1>
            {whom}
            <p><a href="/">"Back to my apps"</a></p>
        </section>
    }
}

/// Previous/next links for a paged list, keeping the other query parameters.
#[component]
fn Pager(page: u32, pages: u32, total: i64, base: String) -> impl IntoView {
    let link = move |p: u32| format!("{base}page={p}");
    view! {
        <nav class="pager" aria-label="Pages">
            <span>{format!("{total} in all · page {} of {}", page + 1, pages.max(1))}</span>
            {(page > 0).then(|| view! { <a href=link(page - 1) rel="prev">"Previous"</a> })}
            {(page + 1 < pages).then(|| view! { <a href=link(page + 1) rel="next">"Next"</a> })}
        </nav>
    }
}

pub(crate) use types::paths::encode;
