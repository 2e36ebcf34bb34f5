//! The page frame every route is rendered in: header, main content, footer.

use super::language::LanguageSwitcher;
use crate::i18n::ui::t;
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
        <a class="skip-link" href="#main">{t("skip-to-content")}</a>
        <header class="site-header">
            <div class="container site-header__inner">
                <A href=paths::HOME.path() attr:class="brand">
                    <span class="brand__mark" aria-hidden="true">"◆"</span>
                    <span class="brand__name">{t("brand-name")}</span>
                </A>
                <nav class="site-nav" aria-label=t("nav-main")>
                    <A href=paths::HOME.path()>{t("nav-home")}</A>
                    <ViewerNav/>
                </nav>
            </div>
        </header>
        <main id="main" class="container site-main" tabindex="-1" data-hydrated=move || hydrated.get().to_string()>
            {children()}
        </main>
        <footer class="site-footer">
            <div class="container">
                <p>{t("footer-about")}</p>
                <LanguageSwitcher/>
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
                        <A href=paths::DEVICES.path()>{t("nav-devices")}</A>
                        <A href=paths::ACTIVITY.path()>{t("nav-activity")}</A>
                        <A href=paths::ACCOUNT.path()>{t("nav-account")}</A>
                        // Shortened on wide screens (style/main.css): the title shows the
                        // whole address on hover, and focus (it is in the tab order) unfolds it.
                        <span class="viewer" data-testid="viewer-email" title=full tabindex="0">{email}</span>
                        <SignOutButton/>
                    }
                    .into_any()
                    }
                    _ => view! {
                        <A href=paths::LOGIN.path()>{t("nav-sign-in")}</A>
                        <A href=paths::SIGNUP.path() attr:class="button button--small">{t("nav-create-account")}</A>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
