//! `/signup`: create an account, with a password or through an OpenID provider.

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::Signup;
use crate::components::form::{
    CredentialFields, FormError, continue_after_sign_in, failed, next_param,
};
use crate::components::providers::ProviderButtons;
use crate::paths;

/// The sign-up form; like the sign-in form it works with and without JavaScript.
#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let next = next_param();
    continue_after_sign_in(signup.value().into());

    view! {
        <Title text=t("signup-title")/>
        <section class="card narrow auth-card">
            <h1>{t("signup-title")}</h1>
            <ActionForm action=signup attr:class="form">
                <input type="hidden" name="next" value=next/>
                <CredentialFields
                    password_autocomplete="new-password"
                    password_hint=t("signup-password-hint")
                    error=("signup-error", failed(signup.value().into()))
                />
                <FormError result=signup.value().into() id="signup-error"/>
                <button type="submit" class="button button--block" disabled=move || signup.pending().get()>
                    {move || if signup.pending().get() { t("signup-submitting") } else { t("signup-submit") }}
                </button>
            </ActionForm>
            <ProviderButtons next/>
            <p class="auth-card__switch">{t("signup-have-account")} " " <a href=paths::LOGIN.path()>{t("nav-sign-in")}</a></p>
        </section>
    }
}
