//! Single sign-on: how an app signs people in through Portico (OpenID Connect client
//! settings, its secret) and the log of every sign-in attempt.

use leptos::prelude::*;
use leptos_meta::Title;
use types::format::datetime;
use types::{AppSignIn, ClientType, SignInEvent};

use crate::components::{FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/sign-in")]
pub async fn get_app_sign_in(id: String) -> Result<AppSignIn, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let settings = domain::oidc::clients::settings(&portal.store, &principal, &id).await?;
    let issuer = domain::oidc::issuer(&portal.public_url, &principal.tenant_id);
    Ok(AppSignIn {
        client_id: id,
        discovery_url: format!("{issuer}/.well-known/openid-configuration"),
        issuer,
        settings,
    })
}

/// Addresses one per line.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/sign-in/save")]
pub async fn save_app_sign_in(
    id: String,
    client_type: String,
    id_token_alg: String,
    redirect_uris: String,
    post_logout_uris: String,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let input = domain::oidc::clients::ClientInput {
        client_type: &client_type,
        id_token_alg: &id_token_alg,
        redirect_uris: &redirect_uris,
        post_logout_uris: &post_logout_uris,
    };
    domain::oidc::clients::configure(&portal.store, &principal, &id, input, crate::server::now())
        .await?;
    Ok(())
}

/// A new client secret, shown this once.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/app/secret")]
pub async fn new_client_secret(id: String) -> Result<String, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let secret =
        domain::oidc::clients::new_secret(&portal.store, &principal, &id, crate::server::now())
            .await?;
    crate::server::flash(
        "Copy the secret now: Portico keeps only its hash and cannot show it again.",
        Some(("Client secret", &secret)),
    )
    .await;
    Ok(secret)
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/sign-ins")]
pub async fn list_sign_ins(policy: Option<String>) -> Result<Vec<SignInEvent>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let policy = policy.as_deref().filter(|p| !p.is_empty());
    Ok(domain::oidc::clients::sign_ins(&portal.store, &principal, policy, 200).await?)
}

/// The single sign-on section of an app's page.
#[component]
pub fn AppSignInSection(#[prop(into)] id: Signal<String>) -> impl IntoView {
    let save = ServerAction::<SaveAppSignIn>::new();
    let secret = ServerAction::<NewClientSecret>::new();
    let info = Resource::new(move || id.get(), get_app_sign_in);
    let save_error = action_error(save.value());
    let secret_error = action_error(secret.value());
    view! {
        <section class="card" aria-labelledby="sso">
            <h2 id="sso">"Single sign-on (OpenID Connect)"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(info) => view! { <SignInSettings info save secret save_error secret_error /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SignInSettings(
    info: AppSignIn,
    save: ServerAction<SaveAppSignIn>,
    secret: ServerAction<NewClientSecret>,
    save_error: Signal<Option<AppError>>,
    secret_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let AppSignIn {
        client_id,
        issuer,
        discovery_url,
        settings,
    } = info;
    // After a refused save, what was chosen and typed, not what is stored.
    let typed = crate::components::typed(save_error);
    let typed_or = |name: &str, stored: String| {
        typed
            .as_ref()
            .and_then(|typed| typed.get(name))
            .unwrap_or(stored)
    };
    let public = settings.client_type == ClientType::Public;
    let choose_public = typed_or("client_type", settings.client_type.as_str().into()) == "public";
    let es256 = typed_or("id_token_alg", settings.id_token_alg.as_str().into()) == "ES256";
    let redirect_uris = typed_or("redirect_uris", settings.redirect_uris.join("\n"));
    let post_logout_uris = typed_or("post_logout_uris", settings.post_logout_uris.join("\n"));
    let id = client_id.clone();
    let secret_id = client_id.clone();
    view! {
        <dl class="facts">
            <dt>"Client id"</dt><dd><input class="copy" readonly=true value=client_id aria-label="Client id" /></dd>
            <dt>"Issuer"</dt><dd><input class="copy" readonly=true value=issuer aria-label="Issuer" /></dd>
            <dt>"Discovery"</dt><dd><input class="copy" readonly=true value=discovery_url aria-label="Discovery address" /></dd>
        </dl>
        <ActionForm action=save attr:class="grid">
            <FormError error=save_error />
            <input type="hidden" name="id" value=id />
            <div class="field">
                <label for="client_type">"Client type"</label>
                <select id="client_type" name="client_type">
                    <option value="confidential" selected=!choose_public>"Confidential (a server that keeps a secret)"</option>
                    <option value="public" selected=choose_public>"Public (browser or mobile app; must use PKCE)"</option>
                </select>
            </div>
            <div class="field">
                <label for="id_token_alg">"ID token signature"</label>
                <select id="id_token_alg" name="id_token_alg">
                    <option value="RS256" selected=!es256>"RS256 (RSA; every client supports it)"</option>
                    <option value="ES256" selected=es256>"ES256 (ECDSA P-256; smaller, faster)"</option>
                </select>
            </div>
            <div class="field">
                <label for="redirect_uris">"Redirect addresses (one per line, matched exactly)"</label>
                <textarea id="redirect_uris" name="redirect_uris" rows="3" aria-describedby="redirect_uris_hint">{redirect_uris}</textarea>
                <p class="hint" id="redirect_uris_hint">"Character for character, except that a public app\u{2019}s http://127.0.0.1 or http://[::1] address matches on any port: native apps listen on whatever port they are given."</p>
            </div>
            <div class="field">
                <label for="post_logout_uris">"After sign-out addresses (one per line)"</label>
                <textarea id="post_logout_uris" name="post_logout_uris" rows="2">{post_logout_uris}</textarea>
            </div>
            <Submit label="Save sign-in settings" busy_label="Saving…" pending=save.pending() />
        </ActionForm>
        {(!public).then(|| view! {
            <ActionForm action=secret>
                <FormError error=secret_error />
                <input type="hidden" name="id" value=secret_id />
                <p class="muted">{if settings.has_secret { "The app has a secret. A new one replaces it at once." } else { "The app has no secret yet." }}</p>
                <Submit label=if settings.has_secret { "Replace the client secret" } else { "Create a client secret" } busy_label="Creating…" pending=secret.pending() class="secondary" />
            </ActionForm>
        })}
    }
}

/// `/admin/sign-ins`: every attempt to sign in to an app, with each conditional-access
/// policy's result; `?policy=<id>` shows only the sign-ins that evaluated that policy.
#[component]
pub fn SignIns() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let policy = move || query.read().get("policy").filter(|p| !p.is_empty());
    let filtered = move || policy().is_some();
    let events = Resource::new(policy, list_sign_ins);
    view! {
        <Title text="Sign-ins · Portico admin" />
        <h1>"Sign-in log"</h1>
        {move || filtered().then(|| view! { <p class="banner" role="status">"Only the sign-ins that evaluated one conditional-access policy. "<a href="/admin/sign-ins">"Show all"</a></p> })}
        <Transition fallback=|| view! { <p class="loading">"Loading sign-ins…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nobody has signed in to an app yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table>
                            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"App"</th><th scope="col">"Result"</th><th scope="col">"Why"</th><th scope="col">"Conditional access"</th><th scope="col">"From"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{datetime(e.created_at)}</td>
                                        <td>{e.user_name}<br /><span class="muted">{e.user_email}</span></td>
                                        <td>{e.app_name}</td>
                                        <td class=if e.success { "ok" } else { "field-error" }>{if e.success { "Allowed" } else { "Refused" }}</td>
                                        <td>{e.reason}</td>
                                        <td>
                                            {e.ca_status}
                                            <ul class="plain">
                                                {e.ca_policies.into_iter().map(|p| view! {
                                                    <li><a href=format!("/admin/sign-ins?policy={}", p.id)>{p.name}</a>": "{p.result}</li>
                                                }).collect_view()}
                                            </ul>
                                        </td>
                                        <td>{e.ip.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
