//! `/activity`: what happened to the account, newest first, 50 at a time.

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::account::{ActivityView, activity};
use crate::components::suspense::render_once;
use crate::components::time::RelativeTime;
use crate::components::viewer::RequireSignIn;
use crate::error::AppError;
use crate::paths;

/// Protected: signed-out visitors are sent to `/login?next=/activity`.
///
/// The page's data is loaded here, outside [`RequireSignIn`] (see there why).
#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let before = Signal::derive(move || query.read().get(paths::param::BEFORE));
    let page = Resource::new(move || before.get(), activity);
    view! {
        <Title text=t("activity-title")/>
        <RequireSignIn>
            <Activity page/>
        </RequireSignIn>
    }
}

/// One page of events, with a link to the older ones.
#[component]
fn Activity(
    /// The events shown, newest first.
    page: Resource<Result<crate::api::account::ActivityPage, AppError>>,
) -> impl IntoView {
    view! {
        <section class="activity">
            <h1>{t("activity-title")}</h1>
            <p class="lead">{t("activity-lead")}</p>
            <Transition fallback=|| view! { <p class="muted">{t("activity-loading")}</p> }>
                {move || Suspend::new(async move {
                    match render_once(page).await {
                        Ok(page) if page.events.is_empty() => view! {
                            <p class="card">{t("activity-none")}</p>
                        }
                        .into_any(),
                        Ok(page) => {
                            let now = page.now;
                            view! {
                                <ol class="activity-list">
                                    {page.events.into_iter().map(|event| view! { <ActivityItem event now/> }).collect_view()}
                                </ol>
                                {page.older.map(|cursor| view! {
                                    <p><a href=paths::older_activity_url(&cursor) class="button button--secondary">{t("activity-older")}</a></p>
                                })}
                            }
                            .into_any()
                        }
                        Err(err) => view! {
                            <p class="alert alert--error" role="alert">{t("activity-load-failed")} " " {err.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// One event.
#[component]
fn ActivityItem(
    /// The event.
    event: ActivityView,
    /// The server's "now", for relative times.
    now: i64,
) -> impl IntoView {
    view! {
        <li class="activity-item card" class:activity-item--alert=event.warning data-testid="activity-item">
            <div class="activity-item__head">
                <h2 class="activity-item__title">{event.title}</h2>
                <RelativeTime at=event.at now/>
            </div>
            <p class="activity-item__text">{event.description}</p>
            <p class="activity-item__meta">{t("devices-ip")} " " {event.ip}</p>
        </li>
    }
}
