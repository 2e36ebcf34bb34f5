//! The landing page: what Gatehouse is and how a session works.

use leptos::prelude::*;
use leptos_meta::Title;

/// One step of the session walkthrough on the home page.
struct Step {
    title: &'static str,
    body: &'static str,
}

/// The life of a Gatehouse session, in the order the walkthrough shows it.
const STEPS: [Step; 4] = [
    Step {
        title: "Sign in",
        body: "Your password is checked against an Argon2id hash. A new device session starts \
               and your browser receives two HttpOnly cookies it cannot read from JavaScript.",
    },
    Step {
        title: "Short-lived access",
        body: "Each request carries a signed access token that lives 15 minutes. The server \
               checks its signature and an in-memory revocation list; no database trip.",
    },
    Step {
        title: "Quiet rotation",
        body: "Before the access token runs out, the refresh token is exchanged for a new pair. \
               Every refresh token works once: a replayed one reveals theft and ends the session.",
    },
    Step {
        title: "You stay in control",
        body: "Your devices page lists every signed-in browser. Signing one out takes effect \
               on its very next request, not when its token happens to expire.",
    },
];

/// The home page: a short pitch and an interactive walkthrough of a session's life.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Sessions done right"/>
        <section class="hero">
            <h1>"Sessions done right"</h1>
            <p class="lead">
                "Gatehouse signs you in with short-lived tokens, rotates them quietly, "
                "and lets you sign out any device at once."
            </p>
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
    let current = move || &STEPS[step.get()];
    let at_start = move || step.get() == 0;
    let at_end = move || step.get() + 1 == STEPS.len();

    view! {
        <section
            class="card walkthrough"
            aria-labelledby="walkthrough-title"
            data-hydrated=move || hydrated.get().to_string()
        >
            <h2 id="walkthrough-title">"How a session works"</h2>
            <p class="walkthrough__progress" aria-live="polite">
                {move || format!("Step {} of {}: {}", step.get() + 1, STEPS.len(), current().title)}
            </p>
            <p class="walkthrough__body">{move || current().body}</p>
            <div class="walkthrough__controls">
                <button
                    type="button"
                    class="button button--secondary"
                    disabled=move || !hydrated.get() || at_start()
                    on:click=move |_| step.update(|s| *s = s.saturating_sub(1))
                >
                    "Previous"
                </button>
                <button
                    type="button"
                    class="button"
                    disabled=move || !hydrated.get() || at_end()
                    on:click=move |_| step.update(|s| *s = (*s + 1).min(STEPS.len() - 1))
                >
                    "Next step"
                </button>
            </div>
        </section>
    }
}
