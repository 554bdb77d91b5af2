//! `/admin/security/terms-of-use`: terms of use that conditional-access policies can ask
//! people to accept (list, add, change, delete, and who accepted which version). Global
//! administrators only.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use types::format::datetime;
use types::{Terms, TermsDetail};

use crate::components::{Confirm, Field, FormError, LoadError, Submit, action_error, typed};
use crate::error::AppError;

const HOME: &str = "/admin/security/terms-of-use";

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/terms")]
pub async fn list_terms() -> Result<Vec<Terms>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::terms::list(&portal.store, &principal).await?)
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/terms/detail")]
pub async fn load_terms_detail(id: String) -> Result<TermsDetail, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::terms::detail(&portal.store, &principal, &id).await?)
}

/// Saves the terms `id`, or new terms (`id` empty).
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/terms/save")]
pub async fn save_terms(id: String, name: String, text: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let now = crate::server::now();
    let saved = if id.is_empty() {
        domain::terms::create(&portal.store, &principal, &name, &text, now).await?
    } else {
        domain::terms::update(&portal.store, &principal, &id, &name, &text, now).await?
    };
    crate::server::flash(
        &format!(
            "Saved \u{201c}{}\u{201d} (version {}).",
            saved.name, saved.version
        ),
        None,
    )
    .await;
    leptos_axum::redirect(&format!("{HOME}/{}", saved.id));
    Ok(())
}

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/terms/delete")]
pub async fn delete_terms(id: String) -> Result<(), AppError> {
    let (portal, principal) = crate::server::principal().await?;
    domain::terms::delete(&portal.store, &principal, &id, crate::server::now()).await?;
    crate::server::flash("Deleted the terms of use.", None).await;
    leptos_axum::redirect(HOME);
    Ok(())
}

#[component]
pub fn TermsOfUse() -> impl IntoView {
    let terms = Resource::new(|| (), |_| list_terms());
    view! {
        <Title text="Terms of use · Portico admin" />
        <h1>"Terms of use"</h1>
        <p>"Texts people must accept before they open an app, or Portico itself: a conditional-access policy says who is asked, for which apps. Changing a text makes a new version, and everyone is asked to accept it again; every acceptance is kept with its version and time."</p>
        <p><a class="button" href=format!("{HOME}/new")>"New terms of use"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading terms of use…"</p> }>
            {move || Suspend::new(async move {
                match terms.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="empty">"None yet. Add terms here, then ask for them in a conditional-access policy."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <table>
                            <thead><tr><th scope="col">"Terms"</th><th scope="col">"Version"</th><th scope="col">"Changed"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|t| view! {
                                    <tr>
                                        <td><a href=format!("{HOME}/{}", t.id)>{t.name}</a></td>
                                        <td>{t.version}</td>
                                        <td>{datetime(t.modified_at)}</td>
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

/// `/admin/security/terms-of-use/new` and `/admin/security/terms-of-use/:id`.
#[component]
pub fn TermsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .filter(|id| id != "new")
            .unwrap_or_default()
    };
    let detail = Resource::new(id, |id| async move {
        if id.is_empty() {
            Ok(None)
        } else {
            load_terms_detail(id).await.map(Some)
        }
    });
    view! {
        <Title text="Terms of use · Portico admin" />
        <p><a href=HOME>"← Terms of use"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading the terms…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <TermsEditor detail /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TermsEditor(detail: Option<TermsDetail>) -> impl IntoView {
    let save = ServerAction::<SaveTerms>::new();
    let delete = ServerAction::<DeleteTerms>::new();
    let error = action_error(save.value());
    let delete_error = action_error(delete.value());
    let (id, name, text, title) = match &detail {
        Some(d) => (
            d.terms.id.clone(),
            d.terms.name.clone(),
            d.terms.text.clone(),
            format!("{} (version {})", d.terms.name, d.terms.version),
        ),
        None => (
            String::new(),
            String::new(),
            String::new(),
            "New terms of use".to_string(),
        ),
    };
    let text = typed(error).and_then(|t| t.get("text")).unwrap_or(text);
    let text_error = move || error.get().and_then(|e| e.field("text"));
    let rows = text.lines().count().clamp(8, 30).to_string();
    view! {
        <h1>{title}</h1>
        <ActionForm action=save attr:class="grid">
            <FormError error />
            <input type="hidden" name="id" value=id.clone() />
            <Field label="Name" name="name" value=name required=true hint="As people see it, e.g. “Partner code of conduct”." error />
            <div class="field">
                <label for="field-text">"Text"</label>
                <textarea id="field-text" name="text" rows=rows required=true aria-describedby="field-text-hint" aria-invalid=move || text_error().is_some().then_some("true")>{text}</textarea>
                <p class="hint" id="field-text-hint">"Plain text; a blank line starts a new paragraph. Changing it makes a new version, which everyone accepts again."</p>
                {move || text_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <Submit label="Save the terms" busy_label="Saving…" pending=save.pending() />
        </ActionForm>
        {detail.map(|d| {
            let asking = if d.policies.is_empty() {
                "None: no policy asks for these terms yet.".to_string()
            } else {
                d.policies.join(", ")
            };
            view! {
                <section class="card" aria-labelledby="terms-policies">
                    <h2 id="terms-policies">"Policies asking for them"</h2>
                    <p>{asking}</p>
                </section>
                <section class="card" aria-labelledby="terms-acceptances">
                    <h2 id="terms-acceptances">"Accepted by"</h2>
                    {if d.acceptances.is_empty() {
                        view! { <p class="empty">"None yet."</p> }.into_any()
                    } else {
                        view! {
                            <table>
                                <thead><tr><th scope="col">"Person"</th><th scope="col">"Address"</th><th scope="col">"Version"</th><th scope="col">"Accepted"</th></tr></thead>
                                <tbody>
                                    {d.acceptances.into_iter().map(|a| view! {
                                        <tr>
                                            <td><a href=format!("/admin/users/{}", a.user_id)>{a.display_name}</a></td>
                                            <td>{a.email}</td>
                                            <td>{a.version}</td>
                                            <td>{datetime(a.accepted_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                </section>
                <section class="card" aria-labelledby="delete-terms">
                    <h2 id="delete-terms">"Delete"</h2>
                    <FormError error=delete_error />
                    <Confirm ask="Delete the terms" consequence="The terms and the record of who accepted them are deleted. Terms a policy asks for cannot be deleted: take them out of the policy first.">
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=d.terms.id.clone() />
                            <Submit label="Delete the terms" busy_label="Deleting…" pending=delete.pending() class="danger" />
                        </ActionForm>
                    </Confirm>
                </section>
            }
        })}
    }
}
