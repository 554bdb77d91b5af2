//! The WebAssembly entry point: hydrates the islands of the server-rendered pages, the
//! few parts that need JavaScript (everything else is plain HTML and forms).

// The islands live in `app`; naming it keeps their entry points in this build.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
