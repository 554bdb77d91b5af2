//! `/continue?to=…`: after signing in, back to where the person was going when that is not
//! one of Portico's pages (an app's sign-in through the authorization endpoint). The server
//! answers with a redirect; in the browser, a page load takes over from the router. The
//! destination travels hex-encoded: it passes through the sign-in forms' query strings,
//! and percent-encoding nested in percent-encoding does not survive every hop.

use leptos::prelude::*;
use leptos_meta::Title;

/// A path on this site, never another site: `/x`, but not `//host` or `/\host`.
pub fn local_path(to: &str) -> Option<&str> {
    (to.starts_with('/') && !to.starts_with("//") && !to.contains('\\')).then_some(to)
}

/// The address of this page, leading on to `path`.
pub fn continue_to(path: &str) -> String {
    let hex: String = path.bytes().map(|b| format!("{b:02x}")).collect();
    format!("/continue?to={hex}")
}

fn decode_hex(hex: &str) -> Option<String> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[component]
pub fn Continue() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let to = query
        .read_untracked()
        .get("to")
        .and_then(|to| decode_hex(&to))
        .and_then(|to| local_path(&to).map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    #[cfg(feature = "ssr")]
    {
        leptos_axum::redirect(&to);
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::SEE_OTHER);
        }
    }
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
