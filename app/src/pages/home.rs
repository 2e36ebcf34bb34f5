//! The landing page: what Gatehouse is and how a session works.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::ui::{t, t_with};

/// The walkthrough's steps: each is a message `home-step-N-title` and `home-step-N-body`.
const STEPS: usize = 4;

/// The title and body of step `index` (from 0).
fn step_text(index: usize) -> (&'static str, &'static str) {
    let n = index + 1;
    match n {
        1 => (t("home-step-1-title"), t("home-step-1-body")),
        2 => (t("home-step-2-title"), t("home-step-2-body")),
        3 => (t("home-step-3-title"), t("home-step-3-body")),
        _ => (t("home-step-4-title"), t("home-step-4-body")),
    }
}

/// The home page: a short pitch and an interactive walkthrough of a session's life.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=t("home-title")/>
        <section class="hero">
            <h1>{t("home-title")}</h1>
            <p class="lead">{t("home-lead")}</p>
        </section>
        <SessionWalkthrough/>
    }
}

/// A step-by-step explainer whose buttons only work once the page has hydrated.
///
/// The buttons are rendered disabled on the server and enabled by an effect, which runs
/// in the browser only: a visitor never clicks a control that cannot respond yet, and the
/// end-to-end smoke test uses it to prove hydration happened.
#[component]
fn SessionWalkthrough() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let step = RwSignal::new(0_usize);
    let at_start = move || step.get() == 0;
    let at_end = move || step.get() + 1 == STEPS;

    view! {
        <section
            class="card walkthrough"
            aria-labelledby="walkthrough-title"
            data-hydrated=move || hydrated.get().to_string()
        >
            <h2 id="walkthrough-title">{t("home-walkthrough-title")}</h2>
            <p class="walkthrough__progress" aria-live="polite">
                {move || t_with("home-walkthrough-progress", &[
                    ("step", (step.get() + 1).into()),
                    ("steps", STEPS.into()),
                    ("title", step_text(step.get()).0.into()),
                ])}
            </p>
            <p class="walkthrough__body">{move || step_text(step.get()).1}</p>
            <div class="walkthrough__controls">
                <button
                    type="button"
                    class="button button--secondary"
                    disabled=move || !hydrated.get() || at_start()
                    on:click=move |_| step.update(|s| *s = s.saturating_sub(1))
                >
                    {t("home-walkthrough-previous")}
                </button>
                <button
                    type="button"
                    class="button"
                    disabled=move || !hydrated.get() || at_end()
                    on:click=move |_| step.update(|s| *s = (*s + 1).min(STEPS - 1))
                >
                    {t("home-walkthrough-next")}
                </button>
            </div>
        </section>
    }
}
