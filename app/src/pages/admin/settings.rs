//! The organization's settings for guests: how long invitation links work, and the
//! privacy statement invited people are shown; and the domains its members are at.

use leptos::prelude::*;
use leptos_meta::Title;
use types::TenantSettings;

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** those who may invite guests.
#[leptos::server(prefix = "/fn", endpoint = "admin/settings")]
pub async fn get_settings() -> Result<TenantSettings, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::tenants::settings(&portal.store, &principal).await?)
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/settings/update")]
pub async fn update_settings(
    invitation_lifetime_days: String,
    privacy_url: String,
) -> Result<TenantSettings, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let days = invitation_lifetime_days
        .trim()
        .parse::<i64>()
        .map_err(|_| {
            AppError::Invalid(vec![types::FieldError {
                field: "invitation_lifetime_days".into(),
                message: "Enter a number of days.".into(),
            }])
        })?;
    let saved = domain::tenants::update_settings(
        &portal.store,
        &principal,
        days,
        &privacy_url,
        crate::server::now(),
    )
    .await?;
    crate::server::flash("Saved.", None).await;
    Ok(saved)
}

#[component]
pub fn Settings() -> impl IntoView {
    let update = ServerAction::<UpdateSettings>::new();
    let settings = Resource::new(|| (), |_| get_settings());
    let error = action_error(update.value());
    view! {
        <Title text="Settings · Portico admin" />
        <h1>"Organization settings"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(current) => view! {
                        <section class="card" aria-labelledby="guests">
                            <h2 id="guests">{format!("Guests of {} ({})", current.name, current.primary_domain)}</h2>
                            <ActionForm action=update attr:class="grid">
                                <FormError error />
                                <Field label="Invitation links work for (days)" name="invitation_lifetime_days" kind="number" value=current.invitation_lifetime_days.to_string() required=true hint="1 to 90." error />
                                <Field label="Privacy statement address" name="privacy_url" kind="url" value=current.privacy_url.unwrap_or_default() hint="Shown to invited people before they accept." error />
                                <Submit label="Save" busy_label="Saving…" pending=update.pending() />
                            </ActionForm>
                        </section>
                        <section class="card" aria-labelledby="domains">
                            <h2 id="domains">"Domains"</h2>
                            <p>"Members have their addresses at these domains or under them. People at other domains join as guests."</p>
                            <ul>
                                {current.domains.into_iter().map(|domain| view! { <li>{domain}</li> }).collect_view()}
                            </ul>
                            <p class="hint">"The operator of this Portico adds a domain with "<code>"portico tenant add-domain"</code>", after checking that the organization owns it."</p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
