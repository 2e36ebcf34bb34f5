//! `/signup`: create an account.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::auth::Signup;
use crate::components::form::{
    CredentialFields, FormError, continue_after_sign_in, failed, next_param,
};
use crate::paths;

/// The sign-up form; like the sign-in form it works with and without JavaScript.
#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let next = next_param();
    continue_after_sign_in(signup.value().into());

    view! {
        <Title text="Create an account"/>
        <section class="card narrow auth-card">
            <h1>"Create an account"</h1>
            <ActionForm action=signup attr:class="form">
                <input type="hidden" name="next" value=next/>
                <CredentialFields
                    password_autocomplete="new-password"
                    password_hint="At least 8 characters. A passphrase of a few words is easy to remember and hard to guess."
                    error=("signup-error", failed(signup.value().into()))
                />
                <FormError result=signup.value().into() id="signup-error"/>
                <button type="submit" class="button button--block" disabled=move || signup.pending().get()>
                    {move || if signup.pending().get() { "Creating your account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="auth-card__switch">"Already have an account? " <A href=paths::LOGIN.path()>"Sign in"</A></p>
        </section>
    }
}
