//! The page for any path no route matches.

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_meta::Title;

/// Tells the visitor the page does not exist and offers a way back.
///
/// On the server the response status is set to 404 so crawlers and scripts see it too.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text=t("not-found-title")/>
        <section class="card narrow">
            <h1>{t("not-found-title")}</h1>
            <p>{t("not-found-body")}</p>
            <p><a href=crate::paths::HOME.path()>{t("not-found-home")}</a></p>
        </section>
    }
}
