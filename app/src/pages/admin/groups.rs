//! The list of groups and creating one.

use leptos::prelude::*;
use leptos_meta::Title;
use types::GroupSummary;

use crate::components::{Field, FormError, LoadError, Submit, action_error};
use crate::error::AppError;

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/groups")]
pub async fn list_groups() -> Result<Vec<GroupSummary>, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::groups::list(&portal.store, &principal).await?)
}

/// **Permissions:** global or user administrators.
#[leptos::server(prefix = "/fn", endpoint = "admin/groups/create")]
pub async fn create_group(name: String, description: String) -> Result<GroupSummary, AppError> {
    let (portal, principal) = crate::server::principal().await?;
    Ok(domain::groups::create(
        &portal.store,
        &principal,
        &name,
        &description,
        crate::server::now(),
    )
    .await?)
}

#[component]
pub fn Groups() -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let groups = Resource::new(|| (), |_| list_groups());
    let error = action_error(create.value());
    view! {
        <Title text="Groups · Portico admin" />
        <h1>"Groups"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading groups…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(groups) if groups.is_empty() => view! { <p class="empty">"No groups yet."</p> }.into_any(),
                    Ok(groups) => view! {
                        <table>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Description"</th><th scope="col">"Members"</th><th scope="col">"Owners"</th></tr></thead>
                            <tbody>
                                {groups.into_iter().map(|g| view! {
                                    <tr>
                                        <td><a href=format!("/admin/groups/{}", g.id)>{g.name}</a></td>
                                        <td>{g.description}</td>
                                        <td>{g.member_count}</td>
                                        <td>{g.owner_count}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="create-group">
            <h2 id="create-group">"Create group"</h2>
            <ActionForm action=create attr:class="grid">
                <FormError error />
                <Field label="Name" name="name" required=true error />
                <Field label="Description" name="description" error />
                <Submit label="Create group" busy_label="Creating…" pending=create.pending() />
            </ActionForm>
        </section>
    }
}
