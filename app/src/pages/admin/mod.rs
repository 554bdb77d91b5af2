//! The admin console: users, groups, apps and the audit log of the signed-in
//! administrator's tenant.

mod app;
mod apps;
mod audit;
mod group;
mod groups;
mod invitations;
mod user;
mod users;

pub use app::AppPage;
pub use apps::Apps;
pub use audit::Audit;
pub use group::GroupPage;
pub use groups::Groups;
pub use invitations::{Invitations, Outbox};
pub use user::UserPage;
pub use users::Users;

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use types::Role;

use crate::components::LoadError;
use crate::error::AppError;
use crate::pages::session::use_session;

/// The console's navigation around each admin page; only administrators get past it.
#[component]
pub fn AdminLayout() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(me)) if me.is_admin() => view! {
                        <div class="admin">
                            <nav class="side" aria-label="Admin">
                                <A href="/admin/users">"Users"</A>
                                <A href="/admin/groups">"Groups"</A>
                                {me.roles.contains(&Role::GlobalAdministrator).then(|| view! { <A href="/admin/apps">"Apps"</A> })}
                                <A href="/admin/invitations">"Invitations"</A>
                                <A href="/admin/outbox">"Outbox"</A>
                                <A href="/admin/audit">"Audit log"</A>
                            </nav>
                            <div class="content">
                                <Outlet />
                            </div>
                        </div>
                    }
                    .into_any(),
                    Ok(Some(_)) => view! { <LoadError error=AppError::AccessDenied /> }.into_any(),
                    Ok(None) => view! { <LoadError error=AppError::NotAuthenticated /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
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
