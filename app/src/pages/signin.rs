//! Signing in: the address first, then a password, a passkey, a code mailed to the
//! address, or the partner's provider.

use leptos::prelude::*;
use leptos_meta::Title;

use super::passkey::PasskeyButton;
use crate::components::{Field, FormError, Submit, action_error};
use crate::error::AppError;

/// Checks the credentials and opens a new session (a new id, whatever the browser had).
#[leptos::server(prefix = "/fn", endpoint = "sign_in")]
pub async fn sign_in_user(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
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
    leptos_axum::redirect(&after_sign_in(next.as_deref()));
    Ok(())
}

/// Where a sign-in ends: the page the person was going to (`next`, a path on this site),
/// else their apps.
#[cfg(feature = "ssr")]
pub(crate) fn after_sign_in(next: Option<&str>) -> String {
    next.and_then(super::local_path)
        .map_or_else(|| "/".to_string(), str::to_string)
}

/// The query that carries the address and where to go next through the sign-in steps.
#[cfg(feature = "ssr")]
fn step_query(email: &str, next: Option<&str>) -> String {
    let mut query = format!("email={}", encode_query_value(email.trim()));
    if let Some(next) = next.and_then(super::local_path) {
        query.push_str(&format!("&next={}", encode_query_value(next)));
    }
    query
}

/// Mails a code (only where a guest exists), keeps the sign-in's token in a cookie and
/// goes on to the code step.
#[cfg(feature = "ssr")]
async fn start_code_sign_in(email: &str, next: Option<&str>) -> Result<(), AppError> {
    use crate::server::{Cookie, client, now, portal, set_cookie};
    let portal = portal()?;
    let token = domain::organizations::send_sign_in_code(
        &portal.store,
        email,
        client().ip.as_deref(),
        now(),
    )
    .await?;
    set_cookie(
        &portal,
        Cookie::CodeSignIn,
        &token,
        domain::organizations::CODE_LIFETIME,
    );
    leptos_axum::redirect(&format!("/signin/code?sent=1&{}", step_query(email, next)));
    Ok(())
}

/// The first step of signing in: the address decides how. Members go on to their password;
/// guests who redeemed through their organization's identity provider go there; anyone
/// else gets a code by mail (sent only where a guest exists).
#[leptos::server(prefix = "/fn", endpoint = "sign_in/identify")]
pub async fn identify(email: String, next: Option<String>) -> Result<(), AppError> {
    use domain::sessions::SignInMethod;
    let portal = crate::server::portal()?;
    match domain::sessions::sign_in_method(&portal.store, &email).await? {
        SignInMethod::Password => leptos_axum::redirect(&format!(
            "/signin?step=password&{}",
            step_query(&email, next.as_deref())
        )),
        SignInMethod::Account => leptos_axum::redirect(&format!(
            "/signin?step=account&{}",
            step_query(&email, next.as_deref())
        )),
        SignInMethod::IdentityProvider => {
            let next = next.as_deref().and_then(super::local_path);
            let departure = domain::federation::depart_to_sign_in(
                &portal.store,
                &portal.federation,
                &email,
                None,
                next,
                crate::server::now(),
            )
            .await?;
            match departure {
                Some(departure) => crate::server::leave_for_provider(&portal, &departure),
                None => start_code_sign_in(&email, next).await?,
            }
        }
        SignInMethod::EmailCode => start_code_sign_in(&email, next.as_deref()).await?,
    }
    Ok(())
}

/// The providers guests with this address redeemed through, with the organizations that
/// set them up. (Identity-first sign-in says as much already.)
#[leptos::server(prefix = "/fn", endpoint = "sign_in/providers")]
pub async fn sign_in_providers(email: String) -> Result<Vec<types::ProviderChoice>, AppError> {
    let portal = crate::server::portal()?;
    Ok(domain::federation::providers_of_guest(&portal.store, &email).await?)
}

/// Signs in at one of those providers.
#[leptos::server(prefix = "/fn", endpoint = "sign_in/provider")]
pub async fn sign_in_at_provider(
    email: String,
    provider: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let portal = crate::server::portal()?;
    let next = next.as_deref().and_then(super::local_path);
    let departure = domain::federation::depart_to_sign_in(
        &portal.store,
        &portal.federation,
        &email,
        Some(&provider),
        next,
        crate::server::now(),
    )
    .await?
    .ok_or_else(|| {
        AppError::Refused("You did not redeem an invitation through that provider.".into())
    })?;
    crate::server::leave_for_provider(&portal, &departure);
    Ok(())
}

/// "Or continue with": the providers this address redeemed through, each naming the
/// organization that set it up.
#[component]
fn ProviderChoices(email: String, next: Option<String>) -> impl IntoView {
    let choose = ServerAction::<SignInAtProvider>::new();
    let error = action_error(choose.value());
    let asked = email.clone();
    let choices = Resource::new(move || asked.clone(), sign_in_providers);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let next = next.clone();
                let email = email.clone();
                Suspend::new(async move {
                    let list = choices.await.unwrap_or_default();
                    (!list.is_empty()).then(|| view! {
                        <h2>"Or continue with"</h2>
                        <FormError error />
                        {list.into_iter().map(|c| {
                            let next = next.clone();
                            let email = email.clone();
                            view! {
                                <ActionForm action=choose>
                                    <input type="hidden" name="email" value=email />
                                    <input type="hidden" name="provider" value=c.id />
                                    {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                                    <button type="submit" class="secondary">{format!("{} (set up by {})", c.name, c.tenant_name)}</button>
                                </ActionForm>
                            }
                        }).collect_view()}
                    })
                })
            }}
        </Suspense>
    }
}

/// The `next` query parameter, carried through the sign-in forms.
fn next_param() -> Option<String> {
    let query = leptos_router::hooks::use_query_map();
    query.read_untracked().get("next")
}

/// `/signin`: the address first; then, for members, the password.
#[component]
pub fn SignIn() -> impl IntoView {
    let identify = ServerAction::<Identify>::new();
    let action = ServerAction::<SignInUser>::new();
    let identify_error = action_error(identify.value());
    let error = action_error(action.value());
    let query = leptos_router::hooks::use_query_map();
    let next = next_param();
    let email = move || query.read().get("email").unwrap_or_default();
    let step = move || query.read().get("step").unwrap_or_default();
    let password_step = move || matches!(step().as_str(), "password" | "account");
    // A Portico account (not a member's) may recover with a code mailed to its address.
    let send_code = ServerAction::<SendSignInCode>::new();
    let send_error = action_error(send_code.value());
    let restart = match &next {
        Some(next) => format!("/signin?next={}", encode_query_value(next)),
        None => "/signin".to_string(),
    };
    view! {
        <Title text="Sign in · Portico" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            {move || {
                let next = next.clone();
                if password_step() {
                    let restart = restart.clone();
                    view! {
                        <ActionForm action>
                            <FormError error />
                            {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                            <input type="hidden" name="email" value=email() />
                            <p>"Signing in as " <strong>{email()}</strong> ". " <a href=restart>"Use another address"</a></p>
                            <Field label="Password" name="password" kind="password" required=true autocomplete="current-password" autofocus=true error />
                            <Submit label="Sign in" busy_label="Signing in…" pending=action.pending() />
                        </ActionForm>
                        // Members and accounts alike: a passkey registered (as an account's,
                        // or as a second factor) signs in without the password.
                        <PasskeyButton purpose="sign_in" label="Sign in with a passkey" email=email() next=next_param().unwrap_or_default() />
                        {(step() == "account").then(|| view! {
                            <ProviderChoices email=email() next=next_param() />
                            <ActionForm action=send_code>
                                <FormError error=send_error />
                                {next_param().map(|next| view! { <input type="hidden" name="next" value=next /> })}
                                <input type="hidden" name="email" value=email() />
                                <button type="submit" class="link">"Forgot your password? Email me a code instead"</button>
                            </ActionForm>
                        })}
                    }.into_any()
                } else {
                    view! {
                        <ActionForm action=identify>
                            <FormError error=identify_error />
                            {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                            <Field label="Email address" name="email" kind="email" value=email() required=true autocomplete="username" autofocus=true error=identify_error />
                            <p class="hint">"Members go on to their password; guests get a code by mail."</p>
                            <Submit label="Next" busy_label="One moment…" pending=identify.pending() />
                        </ActionForm>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// Mails a sign-in code to a guest's address. Says the same whatever the address.
#[leptos::server(prefix = "/fn", endpoint = "sign_in/code/send")]
pub async fn send_sign_in_code(email: String, next: Option<String>) -> Result<(), AppError> {
    start_code_sign_in(&email, next.as_deref()).await
}

#[leptos::server(prefix = "/fn", endpoint = "sign_in/code/verify")]
pub async fn verify_sign_in_code(code: String, next: Option<String>) -> Result<(), AppError> {
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
    leptos_axum::redirect(&after_sign_in(next.as_deref()));
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
    let next = next_param();
    let next_again = next.clone();
    view! {
        <Title text="Sign in with a code · Portico" />
        <section class="card narrow">
            <h1>"Sign in with a code"</h1>
            <p>"For guests: we mail a code to the address you were invited with."</p>
            <ActionForm action=send>
                <FormError error=send_error />
                {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                <Field label="Email address" name="email" kind="email" value=query.read_untracked().get("email").unwrap_or_default() required=true autocomplete="username" autofocus=!sent() error=send_error />
                <Submit label="Send me a code" busy_label="Sending…" pending=send.pending() class=if sent() { "secondary" } else { "primary" } />
            </ActionForm>
            {move || {
                let next = next_again.clone();
                sent().then(move || view! {
                <p class="banner ok" role="status">"If this address belongs to a guest here, a code is on its way. It works for 10 minutes."</p>
                <ActionForm action=verify>
                    <FormError error=verify_error />
                    {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                    <Field label="Code" name="code" autocomplete="one-time-code" required=true autofocus=true error=verify_error />
                    <Submit label="Sign in" busy_label="Signing in…" pending=verify.pending() />
                </ActionForm>
                })
            }}
            {move || {
                let email = query.read().get("email").unwrap_or_default();
                (!email.is_empty()).then(|| view! {
                    // A guest who registered a passkey as a second factor may use it instead.
                    <PasskeyButton purpose="sign_in" label="Sign in with a passkey" email=email.clone() next=next_param().unwrap_or_default() secondary=true />
                    <ProviderChoices email next=next_param() />
                })
            }}
        </section>
    }
}

use types::paths::encode as encode_query_value;
