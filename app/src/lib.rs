//! Gatehouse's Leptos application.
//!
//! The same crate is compiled twice: with `ssr` into the server (pages are rendered to
//! HTML there, and the server-only modules such as [`store`] exist), and with `hydrate`
//! into the browser's wasm bundle, which takes over the server-rendered page.

pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod components;
pub mod error;
pub mod i18n;
#[cfg(all(test, feature = "ssr"))]
mod import_graph;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod oidc;
pub mod pages;
pub mod paths;
pub mod secret;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod web;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::components::layout::Layout;
use crate::components::viewer::provide_viewer_context;
use crate::pages::{
    account::AccountPage, activity::ActivityPage, devices::DevicesPage, home::HomePage,
    login::LoginPage, not_found::NotFound, recovery::ConfirmEmailPage, recovery::ForgotPage,
    recovery::ResetPage, recovery::ResetReviewPage, recovery::VerifyEmailPage,
    refresh::RefreshPage, sign_in_code::SignInCodePage, signup::SignupPage,
};

/// The name cargo-leptos gives the generated JS, wasm and CSS files under `/pkg`.
///
/// It must equal `name` in the workspace's `[[workspace.metadata.leptos]]` table and
/// `LEPTOS_OUTPUT_NAME` in `.cargo/config.toml`; the server uses it so the binary also
/// runs without cargo-leptos setting its variables.
pub const SITE_NAME: &str = "gatehouse";

/// The HTML document around the app, rendered on the server only.
///
/// Kept separate from [`App`] because the browser hydrates `<body>` alone; the head
/// carries the hydration script that loads `/pkg/gatehouse.js`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    web::csp::set_page_policy();
    // Negotiated once per page (and kept in its context); the browser reads it back from
    // `lang` (see `i18n::ui`).
    let language = i18n::ui::use_language();
    view! {
        <!DOCTYPE html>
        <html lang=language.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The root component: stylesheet, title and the route table inside the layout shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_viewer_context();

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{SITE_NAME}.css")/>
        <Title formatter=|text: String| {
            if text.is_empty() {
                i18n::ui::t("brand-name").to_owned()
            } else {
                i18n::ui::t_with("page-title", &[("page", text.into())])
            }
        }/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    // Async: the page is sent once the viewer is known, so a protected
                    // page can answer with a real 302 instead of a client-side hop.
                    <Route path=StaticSegment(paths::HOME.segment()) view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::LOGIN.segment()) view=LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::SIGNUP.segment()) view=SignupPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::REFRESH.segment()) view=RefreshPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::ACCOUNT.segment()) view=AccountPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::DEVICES.segment()) view=DevicesPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::ACTIVITY.segment()) view=ActivityPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::SIGN_IN_CODE.segment()) view=SignInCodePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::FORGOT.segment()) view=ForgotPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::RESET.segment()) view=ResetPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::RESET_REVIEW.segment()) view=ResetReviewPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::VERIFY_EMAIL.segment()) view=VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment(paths::CONFIRM_EMAIL.segment()) view=ConfirmEmailPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    /// The three places that name the bundle must agree, or pages render but never hydrate.
    #[test]
    fn site_name_matches_cargo_leptos_and_cargo_config() {
        let manifest = include_str!("../../Cargo.toml");
        assert!(
            manifest.contains(&format!("name = \"{}\"", super::SITE_NAME)),
            "Cargo.toml [[workspace.metadata.leptos]] name"
        );
        let config = include_str!("../../.cargo/config.toml");
        assert!(
            config.contains(&format!("LEPTOS_OUTPUT_NAME = \"{}\"", super::SITE_NAME)),
            ".cargo/config.toml [env]"
        );
        assert_eq!(option_env!("LEPTOS_OUTPUT_NAME"), Some(super::SITE_NAME));
    }
}
