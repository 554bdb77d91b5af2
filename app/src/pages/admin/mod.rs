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
mod reviews;
mod settings;
mod sso;
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
pub use reviews::{ReviewPage, Reviews};
pub use settings::Settings;
pub use sso::SignIns;
pub use user::UserPage;
pub use users::Users;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet, Redirect};
use types::Role;

use crate::pages::session::use_session;

/// The console's navigation around each admin page, for administrators only: someone
/// signed out is sent to sign in (by the server, before anything of the console is sent),
/// and someone signed in without an administrator role gets one page saying which role the
/// console needs and whom to ask. Every server function still checks on its own.
#[component]
pub fn AdminLayout() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.me.await.ok().flatten() {
                    None => view! { <Redirect path="/signin" /> }.into_any(),
                    Some(me) if !is_administrator(&me.roles) => view! { <NoAdminRole tenant=me.tenant_name /> }.into_any(),
                    Some(me) => {
                        let global = me.roles.contains(&Role::GlobalAdministrator);
                        view! { <Console global /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Whether these roles open the console (its pages are for global and user administrators).
fn is_administrator(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r, Role::GlobalAdministrator | Role::UserAdministrator))
}

#[component]
fn Console(global: bool) -> impl IntoView {
    view! {
        <div class="admin">
            <nav class="side" aria-label="Admin">
                <A href="/admin/users">"Users"</A>
                <A href="/admin/groups">"Groups"</A>
                {global.then(|| view! { <A href="/admin/apps">"Apps"</A> <A href="/admin/sign-ins">"Sign-ins"</A> <A href="/admin/external-identities">"External identities"</A> })}
                <A href="/admin/invitations">"Invitations"</A>
                <A href="/admin/external-collaboration">"External collaboration"</A>
                <A href="/admin/reviews">"Access reviews"</A>
                <A href="/admin/outbox">"Outbox"</A>
                <A href="/admin/audit">"Audit log"</A>
                <A href="/admin/settings">"Settings"</A>
            </nav>
            <div class="content">
                <Outlet />
            </div>
        </div>
    }
}

/// What someone signed in without an administrator role sees at `/admin/…` (403).
#[component]
fn NoAdminRole(tenant: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text="Admin console · Portico" />
        <section class="card narrow">
            <h1>"You need an administrator role for the admin console"</h1>
            <p>{format!(
                "The admin console of {tenant} is for its global administrators and user administrators. \
                 If your work needs it, ask one of them to give you the User administrator or Global administrator role."
            )}</p>
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

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
