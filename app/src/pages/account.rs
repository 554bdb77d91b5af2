//! `/account`: a Portico account's own page, for people who signed in with one: its
//! passkeys (add, remove) and its password (set a new one, e.g. after signing in with a
//! code because it was forgotten).

use leptos::prelude::*;
use leptos_meta::Title;
use types::AccountOverview;

use super::passkey::PasskeyButton;
use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** the account's holder, signed in with it.
#[leptos::server(prefix = "/fn", endpoint = "account")]
pub async fn my_account() -> Result<AccountOverview, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    Ok(domain::accounts::overview(&portal.store, &signed_in).await?)
}

/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
#[leptos::server(prefix = "/fn", endpoint = "account/password")]
pub async fn set_account_password(password: String) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    domain::accounts::set_password(
        &portal.store,
        &signed_in,
        &crate::server::session_token(&portal).unwrap_or_default(),
        &password,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Password saved.", None).await;
    Ok(())
}

/// **Permissions:** the account's holder, signed in with it less than 15 minutes ago.
#[leptos::server(prefix = "/fn", endpoint = "account/passkey/remove")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    Ok(domain::accounts::remove_passkey(
        &portal.store,
        &signed_in,
        &crate::server::session_token(&portal).unwrap_or_default(),
        &id,
        crate::server::now(),
    )
    .await?)
}

#[component]
pub fn Account() -> impl IntoView {
    let password = ServerAction::<SetAccountPassword>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let overview = Resource::new(|| (), |_| my_account());
    let password_error = action_error(password.value());
    let remove_error = action_error(remove.value());
    view! {
        <Title text="Your account · Portico" />
        <h1>"Your Portico account"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(account) => view! {
                        <p>{format!("You sign in as {}. If you lose every way below, a code mailed to this address gets you back in.", account.email)}</p>
                        <section class="card" aria-labelledby="passkeys">
                            <h2 id="passkeys">"Passkeys"</h2>
                            <FormError error=remove_error />
                            {if account.passkeys.is_empty() {
                                view! { <p class="empty">"No passkeys yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table>
                                        <thead><tr><th scope="col">"Added"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                        <tbody>
                                            {account.passkeys.into_iter().enumerate().map(|(i, p)| view! {
                                                <tr>
                                                    <td>{types::format::datetime(p.created_at)}</td>
                                                    <td>{p.last_used_at.map(types::format::datetime).unwrap_or_else(|| "never".into())}</td>
                                                    <td>
                                                        <ActionForm action=remove>
                                                            <input type="hidden" name="id" value=p.id />
                                                            <button type="submit" class="secondary" aria-label=format!("Remove passkey {}", i + 1)>"Remove"</button>
                                                        </ActionForm>
                                                    </td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <PasskeyButton purpose="add" label="Add a passkey" />
                        </section>
                        <section class="card" aria-labelledby="password">
                            <h2 id="password">{if account.has_password { "Change your password" } else { "Set a password" }}</h2>
                            <ActionForm action=password attr:class="grid">
                                <FormError error=password_error />
                                <input type="email" name="username" value=account.email.clone() autocomplete="username" hidden=true readonly=true />
                                <Field label="New password" name="password" kind="password" autocomplete="new-password" required=true hint="At least 8 characters; not a common password." error=password_error />
                                <Submit label="Save password" busy_label="Saving…" pending=password.pending() />
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
