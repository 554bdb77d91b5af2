//! The admin console: users, groups, apps and the audit log of the signed-in
//! administrator's tenant.

mod app;
mod apps;
mod audit;
mod bulk;
mod group;
mod groups;
mod identities;
mod invitations;
mod settings;
mod sso;
mod user;
mod users;

pub use app::AppPage;
pub use apps::Apps;
pub use audit::Audit;
pub use group::GroupPage;
pub use groups::Groups;
pub use identities::ExternalIdentities;
pub use invitations::{Invitations, Outbox};
pub use settings::Settings;
pub use sso::SignIns;
pub use user::UserPage;
pub use users::Users;

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use types::Role;

use crate::pages::session::use_session;

/// The console's navigation around each admin page. The pages themselves say when the
/// signed-in person may not see them (every server function checks).
#[component]
pub fn AdminLayout() -> impl IntoView {
    let session = use_session();
    view! {
        <div class="admin">
            <nav class="side" aria-label="Admin">
                <A href="/admin/users">"Users"</A>
                <A href="/admin/groups">"Groups"</A>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let global = session
                            .me
                            .await
                            .ok()
                            .flatten()
                            .is_some_and(|me| me.roles.contains(&Role::GlobalAdministrator));
                        global.then(|| view! { <A href="/admin/apps">"Apps"</A> <A href="/admin/sign-ins">"Sign-ins"</A> <A href="/admin/external-identities">"External identities"</A> })
                    })}
                </Transition>
                <A href="/admin/invitations">"Invitations"</A>
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
