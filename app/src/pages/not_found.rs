//! The page for any path no route matches.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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
        <Title text="Page not found"/>
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><A href=crate::paths::HOME.path()>"Go to the home page"</A></p>
        </section>
    }
}
