//! The page for addresses Portico does not have.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Portico" />
        <section class="card narrow">
            <h1>"This page does not exist"</h1>
            <p>"Check the address, or go back to " <a href="/">"your apps"</a> "."</p>
        </section>
    }
}
