//! `/sign-in-code`: the second step of signing in to an account with two-step sign-in.
//! The password was right; the server keeps that in the pre-authentication web session
//! for five minutes and five tries. Only a right code signs the device in.

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::second_factor::LoginCode;
use crate::components::form::{
    FormError, continue_after_sign_in, described_by, failed, next_param,
};
use crate::paths;

/// The code form; like the login form it works with and without JavaScript.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let login_code = ServerAction::<LoginCode>::new();
    let next = next_param();
    continue_after_sign_in(login_code.value().into());
    view! {
        <Title text=t("code-title")/>
        <section class="card narrow auth-card">
            <h1>{t("code-title")}</h1>
            <p>{t("code-intro")}</p>
            <ActionForm action=login_code attr:class="form">
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="code">{t("code-field")}</label>
                    <input id="code" type="text" name="code" autocomplete="one-time-code" required maxlength="32" aria-describedby=described_by(Some("code-hint"), "code-error", failed(login_code.value().into()))/>
                    <p id="code-hint" class="field__hint">{t("code-hint")}</p>
                </div>
                <FormError result=login_code.value().into() id="code-error"/>
                <button type="submit" class="button button--block" disabled=move || login_code.pending().get()>
                    {move || if login_code.pending().get() { t("code-submitting") } else { t("code-submit") }}
                </button>
            </ActionForm>
            <p class="auth-card__switch"><a href=paths::LOGIN.path()>{t("code-start-again")}</a></p>
        </section>
    }
}
