//! Who is signed in: the `Me` resource every page shares, the header with the sign-out
//! button, and the sign-out server function.

use leptos::prelude::*;
use types::Me;

use crate::error::AppError;

/// Who is signed in, or `None`.
#[leptos::server(prefix = "/fn", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    let signed_in = crate::server::current_principal().await?;
    Ok(signed_in.map(|s| s.me))
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
}

/// Loads who is signed in, again after every navigation: signing in and out end in one.
pub fn provide_session() {
    let location = leptos_router::hooks::use_location();
    let me = Resource::new(move || location.pathname.get(), |_| who_am_i());
    provide_context(Session { me });
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
                    session.me.await.ok().flatten().map(|me| view! { <SignedIn me /> })
                })}
            </Transition>
        </header>
    }
}

#[component]
fn SignedIn(me: Me) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let admin = me.is_admin();
    view! {
        <nav aria-label="Main">
            <a href="/">"My apps"</a>
            {admin.then(|| view! { <a href="/admin">"Admin"</a> })}
        </nav>
        <div class="who">
            <span class="tenant">{me.tenant_name}</span>
            <span class="name" title=me.email>{me.display_name}</span>
            <ActionForm action=sign_out>
                <button type="submit" class="link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
