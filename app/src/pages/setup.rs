//! First-run setup: the single-use link printed at the first start creates the first
//! organization and its first administrator.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// Whether the setup link can still be used.
#[leptos::server(prefix = "/fn", endpoint = "setup_status")]
pub async fn setup_link_open(ticket: String) -> Result<bool, AppError> {
    use crate::server::{now, portal};
    Ok(domain::setup::ticket_is_open(&portal()?.store, &ticket, now()).await?)
}

/// Creates the organization and its first administrator, then signs that administrator in.
#[leptos::server(prefix = "/fn", endpoint = "setup")]
pub async fn complete_setup(
    ticket: String,
    tenant_name: String,
    primary_domain: String,
    display_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use crate::server::{client, now, portal, set_session_cookie};
    let portal = portal()?;
    let client = client();
    domain::setup::complete(
        &portal.store,
        &ticket,
        domain::setup::SetupInput {
            tenant_name: &tenant_name,
            primary_domain: &primary_domain,
            admin_email: &email,
            admin_name: &display_name,
            admin_password: &password,
        },
        client.ip.as_deref(),
        now(),
    )
    .await?;
    let opened = domain::sessions::sign_in(
        &portal.store,
        &portal.policy,
        &email,
        &password,
        &client,
        None,
        now(),
    )
    .await?;
    set_session_cookie(&portal, &opened.token, opened.expires_at - now());
    leptos_axum::redirect("/admin");
    Ok(())
}

#[component]
pub fn Setup() -> impl IntoView {
    let query = use_query_map();
    let ticket = move || query.read().get("ticket").unwrap_or_default();
    let open = Resource::new(ticket, setup_link_open);
    view! {
        <Title text="Set up Portico" />
        <Suspense fallback=|| view! { <p class="loading">"Checking the link…"</p> }>
            {move || Suspend::new(async move {
                match open.await {
                    Ok(true) => view! { <SetupForm ticket=ticket() /> }.into_any(),
                    Ok(false) => view! {
                        <section class="card narrow">
                            <h1>"This setup link cannot be used"</h1>
                            <p>"It was used already, has expired (links last one hour), or was mistyped. \
                               If Portico has not been set up yet, restart it to print a new link."</p>
                            <p><a href="/signin">"Sign in"</a></p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SetupForm(ticket: String) -> impl IntoView {
    let action = ServerAction::<CompleteSetup>::new();
    let error = action_error(action.value());
    view! {
        <section class="card narrow">
            <h1>"Set up Portico"</h1>
            <p>"Create your organization and its first administrator. This link works once."</p>
            <ActionForm action>
                <input type="hidden" name="ticket" value=ticket />
                <FormError error />
                <fieldset>
                    <legend>"Organization"</legend>
                    <Field label="Name" name="tenant_name" required=true autocomplete="organization" autofocus=true error />
                    <Field label="Primary domain" name="primary_domain" required=true hint="The domain of your email addresses, like example.com." error />
                </fieldset>
                <fieldset>
                    <legend>"First administrator"</legend>
                    <Field label="Your name" name="display_name" required=true autocomplete="name" error />
                    <Field label="Email address" name="email" kind="email" required=true autocomplete="username" error />
                    <Field label="Password" name="password" kind="password" required=true autocomplete="new-password" hint="At least 8 characters; not a common password." error />
                </fieldset>
                <Submit label="Create organization" busy_label="Creating…" pending=action.pending() />
            </ActionForm>
        </section>
    }
}
