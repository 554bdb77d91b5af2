//! `/continue?to=…`: after signing in, back to where the person was going when that is not
//! one of Portico's pages (an app's sign-in through the authorization endpoint). The page
//! moves on by itself with a refresh, with or without JavaScript. The
//! destination travels hex-encoded: it passes through the sign-in forms' query strings,
//! and percent-encoding nested in percent-encoding does not survive every hop.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// A path on this site, never another site: `/x`, but not `//host` or `/\host`, and no
/// control characters (browsers drop tabs and line breaks, so `/<tab>/host` would become
/// `//host`; and a header cannot carry them).
pub fn local_path(to: &str) -> Option<&str> {
    let plain = !to.bytes().any(|b| b < 0x20 || b == 0x7f);
    (plain && to.starts_with('/') && !to.starts_with("//") && !to.contains('\\')).then_some(to)
}

/// The address of this page, leading on to `path`.
pub fn continue_to(path: &str) -> String {
    format!("/continue?to={}", hex(path.as_bytes()))
}

/// Bytes as lowercase hex: safe in a query string and in a cookie.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of [`hex`] text.
pub fn unhex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The text of [`hex`] bytes.
pub fn decode_hex(hex: &str) -> Option<String> {
    String::from_utf8(unhex(hex)?).ok()
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
    // A page rather than a redirect: after a sign-in form posted without JavaScript, a
    // redirect would still belong to the form's submission, and the page's policy lets
    // forms lead only to Portico itself. The refresh is a new navigation, and it also
    // runs when the router brings this page in after a sign-in with JavaScript.
    view! { <MoveOn title="Signing you in · Portico" heading="Signing you in…" link="Continue to the app" to /> }
}

/// A page that moves on to `to` by itself with a refresh, and links there too.
#[component]
fn MoveOn(
    title: &'static str,
    heading: &'static str,
    link: &'static str,
    to: String,
) -> impl IntoView {
    let refresh = format!("0;url={to}");
    view! {
        <Title text=title />
        <Meta http_equiv="refresh" content=refresh />
        <section class="card narrow">
            <h1>{heading}</h1>
            <p><a href=to>{link}</a></p>
        </section>
    }
}

/// `/depart`: on to another site after a form (see `server::leave_for`), with a refresh
/// and a link, with or without JavaScript.
#[component]
pub fn Depart() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let to = crate::server::take_departure();
    #[cfg(not(feature = "ssr"))]
    let to: Option<String> = None;
    match to {
        Some(to) => {
            view! { <MoveOn title="Continuing · Portico" heading="Continuing…" link="Continue" to /> }
                .into_any()
        }
        None => view! {
            <Title text="Nothing to continue · Portico" />
            <section class="card narrow">
                <h1>"Nothing to continue"</h1>
                <p>"This step was already taken or has expired. " <a href="/">"Back to my apps"</a></p>
            </section>
        }
        .into_any(),
    }
}
