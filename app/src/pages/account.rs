//! `/account`: the signed-in user's account. The example of a protected page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::whoami;
use crate::components::session::{RequireSignIn, with_refresh};

/// Protected: signed-out visitors are sent to `/login?next=/account`.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account"/>
        <RequireSignIn>
            <AccountDetails/>
        </RequireSignIn>
    }
}

/// The account facts, and a button that calls a protected server function, refreshing
/// the access token first if it has expired.
#[component]
fn AccountDetails() -> impl IntoView {
    let check = Action::new(|_: &()| with_refresh(whoami));
    view! {
        <section class="card">
            <h1>"Your account"</h1>
            <p>"You are signed in on this device. Access tokens are renewed quietly while you use the app."</p>
            <button type="button" class="button button--secondary" on:click=move |_| { check.dispatch(()); }>
                "Check my session"
            </button>
            {move || check.value().get().map(|result| match result {
                Ok(me) => view! {
                    <p class="alert alert--success" role="status" data-testid="session-check">
                        "Signed in as " <strong>{me.email}</strong> " on this device."
                    </p>
                }
                .into_any(),
                Err(err) => view! { <p class="alert alert--error" role="alert">{err.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}
