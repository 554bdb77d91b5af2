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
            <p class="muted">"Invited as a guest? " <a href="/signin/code">"Sign in with a code sent to your email"</a></p>
        </section>
    }
}

/// Mails a sign-in code to a guest's address. Says the same whatever the address.
#[leptos::server(prefix = "/fn", endpoint = "sign_in/code/send")]
pub async fn send_sign_in_code(email: String) -> Result<(), AppError> {
    use crate::server::{Cookie, now, portal, set_cookie};
    let portal = portal()?;
    let token = domain::organizations::send_sign_in_code(&portal.store, &email, now()).await?;
    set_cookie(
        &portal,
        Cookie::CodeSignIn,
        &token,
        domain::organizations::CODE_LIFETIME,
    );
    leptos_axum::redirect("/signin/code?sent=1");
    Ok(())
}

#[leptos::server(prefix = "/fn", endpoint = "sign_in/code/verify")]
pub async fn verify_sign_in_code(code: String) -> Result<(), AppError> {
    use crate::server::{Cookie, client, cookie, now, portal, set_cookie, set_session_cookie};
    let portal = portal()?;
    let token = cookie(&portal, Cookie::CodeSignIn)
        .ok_or_else(|| AppError::Refused("Ask for a code first.".into()))?;
    let opened = domain::organizations::verify_sign_in_code(
        &portal.store,
        &portal.policy,
        &token,
        &code,
        &client(),
        now(),
    )
    .await?;
    set_cookie(&portal, Cookie::CodeSignIn, "", 0);
    set_session_cookie(&portal, &opened.token, opened.expires_at - now());
    leptos_axum::redirect("/");
    Ok(())
}

/// `/signin/code`: guests, whose identity is their email address, sign in with a code.
#[component]
pub fn SignInWithCode() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let sent = move || query.read().get("sent").is_some();
    let send = ServerAction::<SendSignInCode>::new();
    let verify = ServerAction::<VerifySignInCode>::new();
    let send_error = action_error(send.value());
    let verify_error = action_error(verify.value());
    view! {
        <Title text="Sign in with a code · Portico" />
        <section class="card narrow">
            <h1>"Sign in with a code"</h1>
            <p>"For guests: we mail a code to the address you were invited with."</p>
            <ActionForm action=send>
                <FormError error=send_error />
                <Field label="Email address" name="email" kind="email" required=true autocomplete="username" error=send_error />
                <Submit label="Send me a code" busy_label="Sending…" pending=send.pending() class=if sent() { "secondary" } else { "primary" } />
            </ActionForm>
            {move || sent().then(|| view! {
                <p class="banner ok" role="status">"If this address belongs to a guest here, a code is on its way. It works for 10 minutes."</p>
                <ActionForm action=verify>
                    <FormError error=verify_error />
                    <Field label="Code" name="code" autocomplete="one-time-code" required=true error=verify_error />
                    <Submit label="Sign in" busy_label="Signing in…" pending=verify.pending() />
                </ActionForm>
            })}
        </section>
    }
}
