//! The page frame every route is rendered in: header, main content, footer.

use leptos::prelude::*;
use leptos_router::components::A;

/// Wraps a page in the site header, a `<main>` landmark and the footer.
///
/// One frame for every page keeps navigation in the same place and gives screen-reader
/// users the landmarks they jump between.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container site-header__inner">
                <A href="/" attr:class="brand">
                    <span class="brand__mark" aria-hidden="true">"◆"</span>
                    <span class="brand__name">"Gatehouse"</span>
                </A>
                <nav class="site-nav" aria-label="Main">
                    <A href="/">"Home"</A>
                </nav>
            </div>
        </header>
        <main id="main" class="container site-main" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <div class="container">
                <p>
                    "Gatehouse — an open-source session-security starter for full-stack Rust. "
                    "Short-lived tokens, rotating refresh, per-device sign-out."
                </p>
            </div>
        </footer>
    }
}
