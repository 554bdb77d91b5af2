//! Signing in with email and password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Field, FormError, Submit, action_error};
use crate::error::AppError;

/// Checks the credentials and opens a new session (a new id, whatever the browser had).
#[leptos::server(prefix = "/fn", endpoint = "sign_in")]
pub async fn sign_in_user(email: String, password: String) -> Result<(), AppError> {
    use crate::server::{client, now, portal, session_token, set_session_cookie};
    let portal = portal()?;
    let previous = session_token(&portal);
    let opened = domain::sessions::sign_in(
        &portal.store,
        &portal.policy,
        &email,
        &password,
        &client(),
        previous.as_deref(),
        now(),
    )
    .await?;
    set_session_cookie(&portal, &opened.token, opened.expires_at - now());
    leptos_axum::redirect("/");
    Ok(())
}

#[component]
pub fn SignIn() -> impl IntoView {
    let action = ServerAction::<SignInUser>::new();
    let error = action_error(action.value());
    view! {
        <Title text="Sign in · Portico" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action>
                <FormError error />
                <Field label="Email address" name="email" kind="email" required=true autocomplete="username" error />
                <Field label="Password" name="password" kind="password" required=true autocomplete="current-password" error />
                <Submit label="Sign in" busy_label="Signing in…" pending=action.pending() />
            </ActionForm>
        </section>
    }
}
