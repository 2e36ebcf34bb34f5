//! The browser entry point: cargo-leptos compiles this crate to wasm, and the
//! generated JS calls [`hydrate`] once the server-rendered HTML has loaded.

/// Attaches the Leptos app to the server-rendered `<body>`, making it interactive.
///
/// Panics are routed to the browser console so a broken hydration is visible to
/// developers (and to the Playwright smoke test, which fails on console errors).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
