//! The list of apps and registering one.

use leptos::prelude::*;
use leptos_meta::Title;
use types::AppSummary;

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/apps")]
pub async fn list_apps() -> Result<Vec<AppSummary>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::apps::list(&portal.store, &principal).await?)
}

/// `assignment_required` is a checkbox: present when ticked.
///
/// **Permissions:** global administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/apps/create")]
pub async fn create_app(
    name: String,
    description: String,
    launch_url: String,
    logo_url: String,
    assignment_required: Option<String>,
) -> Result<AppSummary, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    let input = domain::apps::AppInput {
        name: &name,
        description: &description,
        launch_url: &launch_url,
        logo_url: &logo_url,
        assignment_required: assignment_required.is_some(),
    };
    Ok(domain::apps::create(&portal.store, &principal, input, crate::server::now()).await?)
}

#[component]
pub fn Apps() -> impl IntoView {
    let create = ServerAction::<CreateApp>::new();
    let apps = Resource::new(|| (), |_| list_apps());
    let error = action_error(create.value());
    view! {
        <Title text="Apps · Portico admin" />
        <h1>"Apps"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading apps…"</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(apps) if apps.is_empty() => view! { <p class="empty">"No apps yet."</p> }.into_any(),
                    Ok(apps) => view! {
                        <table>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Launch address"</th><th scope="col">"Who may use it"</th></tr></thead>
                            <tbody>
                                {apps.into_iter().map(|a| view! {
                                    <tr>
                                        <td><a href=format!("/admin/apps/{}", a.id)>{a.name}</a></td>
                                        <td>{a.launch_url}</td>
                                        <td>{if a.assignment_required { "Assigned users and groups" } else { "Everyone in the organization" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="create-app">
            <h2 id="create-app">"Add app"</h2>
            <ActionForm action=create attr:class="grid">
                <FormError error />
                <AppFields error />
                <Submit label="Add app" busy_label="Adding…" pending=create.pending() />
            </ActionForm>
        </section>
    }
}

/// The fields of an app's settings, empty or filled with `app`.
#[component]
pub fn AppFields(
    #[prop(optional)] app: Option<AppSummary>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let app = app.unwrap_or(AppSummary {
        id: String::new(),
        name: String::new(),
        description: String::new(),
        launch_url: String::new(),
        logo_url: None,
        assignment_required: true,
    });
    // After a refused save, ticked as it was sent.
    let assignment_required = crate::components::typed(error)
        .map_or(app.assignment_required, |typed| {
            typed.get("assignment_required").is_some()
        });
    view! {
        <Field label="Name" name="name" value=app.name required=true error />
        <Field label="Description" name="description" value=app.description error />
        <Field label="Launch address" name="launch_url" kind="url" value=app.launch_url required=true hint="Where the tile takes people, like https://wiki.example.com/." error />
        <Field label="Logo address" name="logo_url" kind="url" value=app.logo_url.unwrap_or_default() hint="Optional: an https:// image shown on the tile." error />
        <div class="field check">
            <input id="field-assignment_required" type="checkbox" name="assignment_required" value="on" checked=assignment_required />
            <label for="field-assignment_required">"Only assigned users and groups may use it"</label>
        </div>
    }
}
