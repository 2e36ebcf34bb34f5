//! `/refresh?next=<path>`: renews an expired access token, then continues to `next`.
//!
//! A page load cannot refresh by itself: the refresh cookie is only sent to `/api/auth`,
//! and a GET must not change state. So a page that finds an expired access token
//! redirects here; once hydrated this page POSTs the refresh and moves on. Without
//! JavaScript the "Continue" button submits the same POST as a form.

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api::auth::Refresh;
use crate::components::form::next_param;
use crate::components::viewer::use_viewer;
use crate::paths::{login_url, safe_next};

/// The "Restoring your session…" page.
#[component]
pub fn RefreshPage() -> impl IntoView {
    let refresh = ServerAction::<Refresh>::new();
    let next = next_param();
    let session = use_viewer();
    let navigate = use_navigate();

    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        refresh.dispatch(Refresh {
            next: Some(next.get_untracked()),
            refresh_token: None,
            tokens: None,
        });
    });
    Effect::new(move |_| {
        let replace = NavigateOptions {
            replace: true,
            ..NavigateOptions::default()
        };
        match refresh.value().get() {
            Some(Ok(view)) => {
                session.changed();
                navigate(&view.next, replace);
            }
            Some(Err(_)) => navigate(
                &login_url(
                    &safe_next(Some(&next.get_untracked())),
                    Some(crate::paths::LoginReason::Ended),
                ),
                replace,
            ),
            None => {}
        }
    });

    view! {
        <Title text=t("refresh-title")/>
        <section class="card narrow" aria-busy="true">
            <h1>{t("refresh-heading")}</h1>
            <p>{t("refresh-body")}</p>
            <ActionForm action=refresh>
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="button">{t("refresh-continue")}</button>
            </ActionForm>
        </section>
    }
}
