//! Who is signed in: the `Me` resource every page shares, the header with the sign-out
//! button, and the sign-out server function.

use leptos::prelude::*;
use types::{Me, Organization};

use crate::error::AppError;

/// Who is signed in, or `None`.
#[leptos::server(prefix = "/fn", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    let signed_in = crate::server::current_principal().await?;
    Ok(signed_in.map(|s| s.me))
}

/// The organizations the signed-in person can switch between.
#[leptos::server(prefix = "/fn", endpoint = "organizations")]
pub async fn my_organizations() -> Result<Vec<Organization>, AppError> {
    let signed_in = crate::server::current_principal().await?;
    Ok(signed_in.map(|s| s.organizations).unwrap_or_default())
}

/// Moves the session to the person's user in another organization.
#[leptos::server(prefix = "/fn", endpoint = "organizations/switch")]
pub async fn switch_organization(tenant_id: String) -> Result<(), AppError> {
    use crate::server::{session_token, signed_in};
    let (portal, signed_in) = signed_in().await?;
    let token = session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    domain::organizations::switch(
        &portal.store,
        &signed_in,
        &token,
        &tenant_id,
        crate::server::now(),
    )
    .await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// A guest leaves the current organization.
#[leptos::server(prefix = "/fn", endpoint = "organizations/leave")]
pub async fn leave_organization() -> Result<(), AppError> {
    use crate::server::{clear_session_cookie, now, session_token, signed_in};
    let (portal, signed_in) = signed_in().await?;
    let token = session_token(&portal).ok_or(AppError::NotAuthenticated)?;
    let still = domain::organizations::leave(&portal.store, &signed_in, &token, now()).await?;
    if still {
        leptos_axum::redirect("/");
    } else {
        clear_session_cookie(&portal);
        leptos_axum::redirect("/signin");
    }
    Ok(())
}

/// Ends the session on the server and clears the cookie.
#[leptos::server(prefix = "/fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::{clear_session_cookie, portal, session_token};
    let portal = portal()?;
    if let Some(token) = session_token(&portal) {
        domain::sessions::sign_out(&portal.store, &token).await?;
    }
    clear_session_cookie(&portal);
    leptos_axum::redirect("/signin");
    Ok(())
}

/// What pages share about the session.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: Resource<Result<Option<Me>, AppError>>,
    pub organizations: Resource<Result<Vec<Organization>, AppError>>,
}

/// Loads who is signed in, for the page being rendered (one read, shared with the page's
/// own server functions).
pub fn provide_session() {
    let me = Resource::new(|| (), |_| who_am_i());
    let organizations = Resource::new(|| (), |_| my_organizations());
    provide_context(Session { me, organizations });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <a class="brand" href="/">"Portico"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let me = session.me.await.ok().flatten();
                    let organizations = session.organizations.await.unwrap_or_default();
                    me.map(|me| view! { <SignedIn me organizations /> })
                })}
            </Transition>
        </header>
    }
}

/// Who is signed in, and the organizations to switch to.
#[component]
fn SignedIn(me: Me, organizations: Vec<Organization>) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let switch = ServerAction::<SwitchOrganization>::new();
    let admin = me.is_admin();
    view! {
        <nav aria-label="Main">
            <a href="/">"My apps"</a>
            {admin.then(|| view! { <a href="/admin">"Admin"</a> })}
            {me.has_account.then(|| view! { <a href="/account">"Your account"</a> })}
        </nav>
        <div class="who">
            {(organizations.len() > 1).then(|| view! {
                <ActionForm action=switch attr:class="switcher">
                    <label for="organization" class="visually-hidden">"Organization"</label>
                    <select id="organization" name="tenant_id">
                        {organizations.into_iter().map(|o| {
                            let label = if o.guest { format!("{} (guest)", o.tenant_name) } else { o.tenant_name.clone() };
                            view! { <option value=o.tenant_id selected=o.current>{label}</option> }
                        }).collect_view()}
                    </select>
                    <button type="submit" class="secondary">"Switch"</button>
                </ActionForm>
            })}
            <span class="tenant">{me.tenant_name}</span>
            <span class="name" title=me.email>{me.display_name}</span>
            <ActionForm action=sign_out>
                <button type="submit" class="link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
