//! `/continue?to=…`: after signing in, back to where the person was going when that is not
//! one of Portico's pages (an app's sign-in through the authorization endpoint). The server
//! answers with a redirect; in the browser, a page load takes over from the router.

use leptos::prelude::*;
use leptos_meta::Title;

/// A path on this site, never another site: `/x`, but not `//host` or `/\host`.
pub fn local_path(to: &str) -> Option<&str> {
    (to.starts_with('/') && !to.starts_with("//") && !to.contains('\\')).then_some(to)
}

#[component]
pub fn Continue() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let to = query
        .read_untracked()
        .get("to")
        .and_then(|to| local_path(&to).map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    #[cfg(feature = "ssr")]
    leptos_axum::redirect(&to);
    let target = to.clone();
    Effect::new(move || {
        let _ = window().location().set_href(&target);
    });
    view! {
        <Title text="Signing you in · Portico" />
        <section class="card narrow">
            <h1>"Signing you in…"</h1>
            <p><a href=to>"Continue to the app"</a></p>
        </section>
    }
}
