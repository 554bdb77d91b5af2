//! `/account/terms/:id?next=…&policy=…`: terms of use an organization's policy asks the
//! person to accept before they go on (to an app, or to Portico itself).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use types::TermsToAccept;
use types::format::datetime;

use crate::components::{FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// The terms as the signed-in person is asked to accept them. Read without the policies
/// for Portico itself, which may be what sends the person here.
///
/// **Permissions:** anyone signed in with a user in the terms' organization.
#[leptos::server(prefix = "/fn", endpoint = "account/terms")]
pub async fn load_terms_to_accept(id: String) -> Result<TermsToAccept, AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    Ok(domain::terms::to_accept(&portal.store, &signed_in, &id).await?)
}

/// Accepts `version` of the terms `id`, then goes on to `next` (a path on Portico;
/// anything else leads home).
///
/// **Permissions:** anyone signed in with a user in the terms' organization.
#[leptos::server(prefix = "/fn", endpoint = "account/terms/accept")]
pub async fn accept_terms(id: String, version: i64, next: Option<String>) -> Result<(), AppError> {
    let (portal, signed_in) = crate::server::signed_in().await?;
    domain::terms::accept(
        &portal.store,
        &signed_in,
        &id,
        version,
        crate::server::now(),
    )
    .await?;
    leptos_axum::redirect(&super::signin::after_sign_in(next.as_deref()));
    Ok(())
}

#[component]
pub fn AcceptTerms() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    let next = query.read_untracked().get("next");
    let policy = query
        .read_untracked()
        .get("policy")
        .filter(|p| !p.is_empty());
    let terms = Resource::new(move || id.clone(), load_terms_to_accept);
    view! {
        <Title text="Terms of use · Portico" />
        <section class="card narrow">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let (next, policy) = (next.clone(), policy.clone());
                    Suspend::new(async move {
                        match terms.await {
                            Ok(terms) => view! { <TermsPage terms next policy /> }.into_any(),
                            Err(error) => view! { <LoadError error /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn TermsPage(terms: TermsToAccept, next: Option<String>, policy: Option<String>) -> impl IntoView {
    let accept = ServerAction::<AcceptTerms>::new();
    let decline = ServerAction::<super::session::SignOut>::new();
    let error = action_error(accept.value());
    let onward = next
        .as_deref()
        .and_then(super::local_path)
        .unwrap_or("/")
        .to_string();
    let TermsToAccept {
        terms,
        organization,
        accepted_at,
    } = terms;
    let why = match &policy {
        Some(policy) => format!(
            "{organization} asks you to read and accept these terms before you go on (its policy “{policy}”)."
        ),
        None => format!("{organization} asks you to read and accept these terms before you go on."),
    };
    let paragraphs: Vec<String> = terms
        .text
        .split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    view! {
        <h1>{terms.name.clone()}</h1>
        <p>{why}</p>
        <p class="hint">{format!("Version {}, last changed {}.", terms.version, datetime(terms.modified_at))}</p>
        <div class="terms-text" role="region" aria-label="The terms" tabindex="0">
            {paragraphs.into_iter().map(|p| view! { <p>{p}</p> }).collect_view()}
        </div>
        {match accepted_at {
            Some(at) => view! {
                <p class="banner ok" role="status">{format!("You accepted this version on {}.", datetime(at))}</p>
                <p><a href=onward class="button">"Continue"</a></p>
            }
            .into_any(),
            None => view! {
                <FormError error />
                <ActionForm action=accept>
                    <input type="hidden" name="id" value=terms.id.clone() />
                    <input type="hidden" name="version" value=terms.version.to_string() />
                    <input type="hidden" name="next" value=next.clone().unwrap_or_default() />
                    <Submit label="Accept" busy_label="Accepting…" pending=accept.pending() />
                </ActionForm>
                <p class="hint">"If you decline, you cannot go on; you are signed out. You can come back and accept later."</p>
                <ActionForm action=decline>
                    <button type="submit" class="secondary">"Decline and sign out"</button>
                </ActionForm>
            }
            .into_any(),
        }}
    }
}
