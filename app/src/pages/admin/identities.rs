//! External identities: partners' OpenID Connect providers (direct federation by email
//! domain) and the redemption order invited people go through.

use leptos::prelude::*;
use leptos_meta::Title;
use types::IdentityProviders;

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/identity_providers")]
pub async fn list_identity_providers() -> Result<IdentityProviders, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::federation::list(&portal.store, &portal.federation, &principal).await?)
}

/// Checks the provider's discovery document before saving it. **Permissions:** global
/// administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/identity_providers/add")]
pub async fn add_identity_provider(
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    domains: String,
    token_auth_method: Option<String>,
) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let form = domain::federation::NewProvider {
        name,
        issuer,
        client_id,
        client_secret,
        scopes,
        domains,
        token_auth_method: token_auth_method.unwrap_or_default(),
    };
    domain::federation::add(
        &portal.store,
        &portal.federation,
        &principal,
        &form,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Provider added.", None).await;
    Ok(())
}

/// How Portico authenticates at the provider's token endpoint (a `TokenAuthMethod` key).
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/identity_providers/token_auth")]
pub async fn set_token_auth_method(id: String, token_auth_method: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::federation::set_token_auth_method(
        &portal.store,
        &portal.federation,
        &principal,
        &id,
        &token_auth_method,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Token endpoint method saved.", None).await;
    Ok(())
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/identity_providers/remove")]
pub async fn remove_identity_provider(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::federation::remove(&portal.store, &principal, &id, crate::server::now()).await?)
}

/// `primary` and `fallback` list methods in order, e.g. `home,federation` and
/// `account,code`. **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/redemption_order")]
pub async fn set_redemption_order(primary: String, fallback: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let order = domain::federation::parse_order(&primary, &fallback)?;
    domain::federation::set_redemption_order(
        &portal.store,
        &principal,
        &order,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Redemption order saved.", None).await;
    Ok(())
}

/// The primary orders an admin may pick, as stored and as said.
const PRIMARY_CHOICES: [(&str, &str); 5] = [
    (
        "home,federation",
        "Their account on this Portico, then their identity provider",
    ),
    (
        "federation,home",
        "Their identity provider, then their account on this Portico",
    ),
    ("home", "Only their account on this Portico"),
    ("federation", "Only their identity provider"),
    ("", "None: always the fallback"),
];

/// The fallback orders an admin may pick. None at all is not offered: one stays on.
const FALLBACK_CHOICES: [(&str, &str); 4] = [
    ("code", "A passcode mailed to them each time"),
    (
        "code,account",
        "A passcode each time; those who made a Portico account use it",
    ),
    (
        "account,code",
        "They make a Portico account (a passcode confirms the address first)",
    ),
    ("account", "Only a Portico account"),
];

#[component]
pub fn ExternalIdentities() -> impl IntoView {
    let add = ServerAction::<AddIdentityProvider>::new();
    let remove = ServerAction::<RemoveIdentityProvider>::new();
    let set_auth = ServerAction::<SetTokenAuthMethod>::new();
    let order = ServerAction::<SetRedemptionOrder>::new();
    let providers = Resource::new(|| (), |_| list_identity_providers());
    let settings = Resource::new(|| (), |_| super::settings::get_settings());
    let add_error = action_error(add.value());
    let remove_error = action_error(remove.value());
    let set_auth_error = action_error(set_auth.value());
    let order_error = action_error(order.value());
    view! {
        <Title text="External identities · Portico admin" />
        <h1>"External identities"</h1>
        <p>"Invited people can sign in with their own organization's OpenID Connect provider. Set one up for the email domains it serves; people of those domains then redeem and sign in there, and Portico keeps no password of theirs."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading providers…"</p> }>
            {move || Suspend::new(async move {
                match providers.await {
                    Ok(list) => view! {
                        <section class="card" aria-labelledby="providers">
                            <h2 id="providers">"Identity providers"</h2>
                            <p>"Register Portico at each provider as a confidential web app with this redirect URI:"</p>
                            <p><code id="redirect-uri">{list.redirect_uri.clone()}</code></p>
                            <FormError error=remove_error />
                            <FormError error=set_auth_error />
                            {if list.providers.is_empty() {
                                view! { <p class="empty">"No identity providers yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table>
                                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Issuer"</th><th scope="col">"Domains"</th><th scope="col">"Client id"</th><th scope="col">"Token endpoint"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                        <tbody>
                                            {list.providers.into_iter().map(|p| {
                                                let id = p.id.clone();
                                                let method = p.token_auth_method;
                                                let method_label = format!("Client authentication at the token endpoint of {}", p.name);
                                                let save_label = format!("Save the token endpoint method of {}", p.name);
                                                view! {
                                                <tr>
                                                    <td>{p.name.clone()}</td>
                                                    <td><code>{p.issuer}</code></td>
                                                    <td>{p.domains.join(", ")}</td>
                                                    <td><code>{p.client_id}</code></td>
                                                    <td>
                                                        <ActionForm action=set_auth>
                                                            <input type="hidden" name="id" value=id />
                                                            <select name="token_auth_method" aria-label=method_label>
                                                                {types::TokenAuthMethod::ALL.into_iter().map(|m| {
                                                                    view! { <option value=m.key() selected=m == method>{m.label()}</option> }
                                                                }).collect_view()}
                                                            </select>
                                                            <button type="submit" class="secondary" aria-label=save_label>"Save"</button>
                                                        </ActionForm>
                                                    </td>
                                                    <td>
                                                        <crate::components::Confirm
                                                            ask="Remove"
                                                            about=p.name.clone()
                                                            consequence=format!("Nobody signs in here through {} any more: guests who accepted with it cannot sign in until an administrator resets their redemption.", p.name)
                                                        >
                                                            <ActionForm action=remove>
                                                                <input type="hidden" name="id" value=p.id />
                                                                <button type="submit" class="danger">{format!("Remove {}", p.name)}</button>
                                                            </ActionForm>
                                                        </crate::components::Confirm>
                                                    </td>
                                                </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="add-provider">
            <h2 id="add-provider">"Add an identity provider"</h2>
            <ActionForm action=add attr:class="grid">
                <FormError error=add_error />
                <Field label="Name" name="name" required=true hint="Shown to invited people, e.g. Fabrikam sign-in." error=add_error />
                <Field label="Issuer" name="issuer" kind="url" required=true hint="As the provider states it; Portico reads its discovery document when you save." error=add_error />
                <Field label="Client id" name="client_id" required=true error=add_error />
                <Field label="Client secret" name="client_secret" kind="password" autocomplete="new-password" required=true hint="Not shown again." error=add_error />
                <Field label="Scopes" name="scopes" value=types::DEFAULT_PROVIDER_SCOPES hint="Space-separated; must include openid and email." error=add_error />
                <Field label="Email domains" name="domains" required=true hint="The domains whose people sign in here, separated by commas." error=add_error />
                <div class="field">
                    <label for="field-token_auth_method">"Client authentication at the token endpoint"</label>
                    <select id="field-token_auth_method" name="token_auth_method" aria-describedby="field-token_auth_method-hint">
                        {types::TokenAuthMethod::ALL.into_iter().map(|m| {
                            view! { <option value=m.key()>{m.label()}</option> }
                        }).collect_view()}
                    </select>
                    <p class="hint" id="field-token_auth_method-hint">"Automatic sends the secret with HTTP Basic when the provider offers it, else in the form. Choose one yourself only for a provider that does otherwise than its discovery document says."</p>
                    {move || add_error.get().and_then(|e| e.field("token_auth_method")).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <Submit label="Check and add" busy_label="Checking the provider…" pending=add.pending() />
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading the redemption order…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(current) => {
                        let current = &current.redemption_order;
                        let primary = types::RedemptionOrder::keys(&current.primary);
                        let fallback = types::RedemptionOrder::keys(&current.fallback);
                        view! {
                            <section class="card" aria-labelledby="redemption-order">
                                <h2 id="redemption-order">"Redemption order"</h2>
                                <p>"How invited people prove who they are. Primary methods are tried in order where they apply; when none does, the fallback is used."</p>
                                <ActionForm action=order attr:class="grid">
                                    <FormError error=order_error />
                                    <label for="field-primary">"Primary"</label>
                                    <select id="field-primary" name="primary">
                                        {PRIMARY_CHOICES.into_iter().map(|(key, label)| {
                                            view! { <option value=key selected=key == primary>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                    <label for="field-fallback">"Fallback"</label>
                                    <select id="field-fallback" name="fallback" aria-describedby="field-fallback-hint">
                                        {FALLBACK_CHOICES.into_iter().map(|(key, label)| {
                                            view! { <option value=key selected=key == fallback>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                    <p class="hint" id="field-fallback-hint">"At least one fallback stays on."</p>
                                    <Submit label="Save order" busy_label="Saving…" pending=order.pending() />
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
