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

/// Where to go, and who is signed in: the person's menu holds everything about them
/// (their organizations, leaving one as a guest, their account, signing out), so that
/// the header stays one row on a phone. The menu is a `<details>`: it opens by keyboard
/// and works without JavaScript.
#[component]
fn SignedIn(me: Me, organizations: Vec<Organization>) -> impl IntoView {
    let admin = me.is_admin();
    let initial = me
        .display_name
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    view! {
        <nav aria-label="Main">
            <a href="/">"My apps"</a>
            {admin.then(|| view! { <a href="/admin">"Admin"</a> })}
        </nav>
        <details class="profile">
            <summary>
                <span class="avatar" aria-hidden="true">{initial}</span>
                <span class="profile-name">{me.display_name.clone()}</span>
                <span class="profile-org">{me.tenant_name.clone()}</span>
                <span class="visually-hidden">" (your menu)"</span>
            </summary>
            <div class="menu">
                <p class="menu-who">
                    <strong>{me.display_name.clone()}</strong>
                    <span class="muted">{me.email.clone()}</span>
                </p>
                <Organizations current=me.tenant_name.clone() guest=me.guest organizations />
                <a href="/account">"Your account"</a>
                {me.guest.then(|| view! { <LeaveThisOrganization tenant=me.tenant_name.clone() /> })}
                <SignOutButton />
            </div>
        </details>
    }
}

/// The organizations the person belongs to, each once, the current one marked and the
/// others a button that switches to it; just the current one's name when there is no
/// other.
#[component]
fn Organizations(current: String, guest: bool, organizations: Vec<Organization>) -> impl IntoView {
    let label = |name: &str, guest: bool| {
        if guest {
            format!("{name} (guest)")
        } else {
            name.to_string()
        }
    };
    if organizations.len() < 2 {
        return view! { <p class="menu-org">{label(&current, guest)}</p> }.into_any();
    }
    let switch = ServerAction::<SwitchOrganization>::new();
    view! {
        <ActionForm action=switch attr:class="organizations">
            <fieldset>
                <legend>"Organization"</legend>
                <ul>
                    {organizations.into_iter().map(|o| {
                        let name = label(&o.tenant_name, o.guest);
                        if o.current {
                            view! { <li aria-current="true"><span class="current">{name}</span><span class="muted">" · you are here"</span></li> }.into_any()
                        } else {
                            view! {
                                <li><button type="submit" class="link" name="tenant_id" value=o.tenant_id>{name}</button></li>
                            }.into_any()
                        }
                    }).collect_view()}
                </ul>
            </fieldset>
        </ActionForm>
    }
    .into_any()
}

/// A guest leaves the organization they are looking at, after reading what that means.
#[component]
fn LeaveThisOrganization(tenant: String) -> impl IntoView {
    let leave = ServerAction::<LeaveOrganization>::new();
    view! {
        <details class="leave">
            <summary>{format!("Leave {tenant}…")}</summary>
            <p>{format!("Your guest account at {tenant} is removed with its access to apps and groups. To come back you would need a new invitation.")}</p>
            <ActionForm action=leave>
                <button type="submit" class="danger">"Leave organization"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <ActionForm action=sign_out>
            <button type="submit" class="link">"Sign out"</button>
        </ActionForm>
    }
}
