//! The page frame every route is rendered in: header, main content, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use super::session::{SignOutButton, use_session};
use crate::api::auth::Viewer;
use crate::paths;

/// Wraps a page in the site header, a `<main>` landmark and the footer.
///
/// One frame for every page keeps navigation in the same place and gives screen-reader
/// users the landmarks they jump between.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // Effects run only in the browser: this flips once the wasm bundle has taken over,
    // which end-to-end tests wait for before testing client-side behaviour.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container site-header__inner">
                <A href=paths::HOME.path() attr:class="brand">
                    <span class="brand__mark" aria-hidden="true">"◆"</span>
                    <span class="brand__name">"Gatehouse"</span>
                </A>
                <nav class="site-nav" aria-label="Main">
                    <A href=paths::HOME.path()>"Home"</A>
                    <ViewerNav/>
                </nav>
            </div>
        </header>
        <main id="main" class="container site-main" tabindex="-1" data-hydrated=move || hydrated.get().to_string()>
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

/// The signed-in e-mail and "Sign out", or the sign-in links.
#[component]
fn ViewerNav() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.viewer.await {
                    Ok(Viewer::SignedIn { email }) => {
                        let full = email.clone();
                        view! {
                        <A href=paths::DEVICES.path()>"Devices"</A>
                        <A href=paths::ACTIVITY.path()>"Activity"</A>
                        <A href=paths::ACCOUNT.path()>"Account"</A>
                        // Shortened on wide screens (style/main.css): the title shows the
                        // whole address on hover, and focus (it is in the tab order) unfolds it.
                        <span class="viewer" data-testid="viewer-email" title=full tabindex="0">{email}</span>
                        <SignOutButton/>
                    }
                    .into_any()
                    }
                    _ => view! {
                        <A href=paths::LOGIN.path()>"Sign in"</A>
                        <A href=paths::SIGNUP.path() attr:class="button button--small">"Create account"</A>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
