//! `/login`: sign in with e-mail and password, with a passkey, or with an OpenID
//! provider.

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{Login, take_notice};
use crate::components::form::{
    CredentialFields, FormError, Notice, continue_after_sign_in, failed, next_param,
};
use crate::components::passkeys::PasskeySignIn;
use crate::components::providers::ProviderButtons;
use crate::paths::{self, LoginReason};

/// The sign-in form. Works as a plain form post before hydration (the server redirects
/// to `next`, or back here with the error) and as an inline form after it.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = next_param();
    continue_after_sign_in(login.value().into());

    let query = use_query_map();
    let reason = Signal::derive(move || {
        query
            .read()
            .get(paths::param::REASON)
            .and_then(|value| LoginReason::parse(&value))
            .map(|reason| t(reason.notice_key()))
    });
    // A notice left by the previous request (sign-out), shown once.
    let flash = Resource::new(|| (), |_| take_notice());
    let signup_href = move || paths::signup_url(&next.get());

    view! {
        <Title text=t("login-title")/>
        <section class="card narrow auth-card">
            <h1>{t("login-title")}</h1>
            <Notice text=reason/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    flash.await.ok().flatten().map(|text| view! { <p class="alert alert--info" role="status">{text}</p> })
                })}
            </Transition>
            <ActionForm action=login attr:class="form" attr:novalidate=false>
                <input type="hidden" name="next" value=next/>
                <CredentialFields
                    password_autocomplete="current-password"
                    email_autocomplete="username webauthn"
                    error=("login-error", failed(login.value().into()))
                />
                <FormError result=login.value().into() id="login-error"/>
                <button type="submit" class="button button--block" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { t("login-submitting") } else { t("login-submit") }}
                </button>
            </ActionForm>
            <PasskeySignIn next/>
            <ProviderButtons next/>
            <p class="auth-card__switch"><a href=paths::FORGOT.path()>{t("login-forgot")}</a></p>
            <p class="auth-card__switch">{t("login-new")} " " <a href=signup_href>{t("login-create-account")}</a></p>
        </section>
    }
}
