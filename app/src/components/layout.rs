//! The page frame every route is rendered in: header, main content, footer.

use super::language::LanguageSwitcher;
use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::suspense::build_once;
use super::viewer::{SignOutButton, use_viewer};
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
    let here = use_location().pathname;
    view! {
        <a class="skip-link" href="#main">{t("skip-to-content")}</a>
        <header class="site-header">
            <div class="container site-header__inner">
                <a href=paths::HOME.path() class="brand">
                    <span class="brand__mark" aria-hidden="true">"◆"</span>
                    <span class="brand__name">{t("brand-name")}</span>
                </a>
                <nav class="site-nav" aria-label=t("nav-main")>
                    <NavLink page=paths::HOME here>{t("nav-home")}</NavLink>
                    <ViewerNav here/>
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
fn ViewerNav(
    /// The current path, for the links' active state.
    here: Memo<String>,
) -> impl IntoView {
    let session = use_viewer();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.viewer.await {
                    Ok(Viewer::SignedIn { email }) => {
                        build_once().await;
                        let full = email.clone();
                        view! {
                        <NavLink page=paths::DEVICES here>{t("nav-devices")}</NavLink>
                        <NavLink page=paths::ACTIVITY here>{t("nav-activity")}</NavLink>
                        <NavLink page=paths::ACCOUNT here>{t("nav-account")}</NavLink>
                        // Shortened on wide screens (style/main.css): the title shows the
                        // whole address on hover, and focus (it is in the tab order) unfolds it.
                        <span class="viewer" data-testid="viewer-email" title=full tabindex="0">{email}</span>
                        <SignOutButton/>
                    }
                    .into_any()
                    }
                    _ => view! {
                        <NavLink page=paths::LOGIN here>{t("nav-sign-in")}</NavLink>
                        <NavLink page=paths::SIGNUP here attr:class="button button--small">{t("nav-create-account")}</NavLink>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// A header link, marked `aria-current="page"` (and styled so) while its page is shown.
///
/// A plain `<a>`: the router follows same-origin anchors client-side whether or not they
/// come from its `<A>` component. `<A>` also resolves relative paths and keeps a memo of
/// its own active state; these absolute links share the layout's one pathname instead,
/// which is cheaper on every page render (docs/PERFORMANCE.md).
#[component]
fn NavLink(
    /// The page it leads to.
    page: paths::Page,
    /// The current path.
    here: Memo<String>,
    children: Children,
) -> impl IntoView {
    let href = page.path();
    let current = {
        let href = href.clone();
        move || here.with(|here| *here == href).then_some("page")
    };
    view! { <a href=href aria-current=current>{children()}</a> }
}
