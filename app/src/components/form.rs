//! Small pieces of the sign-in forms.

use crate::i18n::ui::t;
use leptos::prelude::*;

use crate::error::AppError;

/// The error of the last submission, as an alert screen readers announce; nothing when
/// the last submission succeeded or none happened yet. When it appears, focus moves to
/// it (GOV.UK's error-summary rule), so keyboard and screen-reader users land on what
/// went wrong; `id` lets the form's fields point at it with `aria-describedby`.
#[component]
pub fn FormError<T>(
    /// The action's last result.
    result: Signal<Option<Result<T, AppError>>>,
    /// The alert's id, for the fields' `aria-describedby`.
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    move || {
        result.get().and_then(Result::err).map(|err| {
            let node = NodeRef::<leptos::html::P>::new();
            focus_when_shown(node);
            view! { <p id=id class="alert alert--error" role="alert" tabindex="-1" node_ref=node>{err.to_string()}</p> }
        })
    }
}

/// Moves focus to `node` once it is on the page: for the message an action leaves (an
/// error, or "your password was changed"), which needs `tabindex="-1"`.
pub fn focus_when_shown(node: NodeRef<leptos::html::P>) {
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.focus();
        }
    });
}

/// Whether the action's last result is an error: the fields then point at it.
pub fn failed<T>(result: Signal<Option<Result<T, AppError>>>) -> Signal<bool>
where
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || result.with(|r| matches!(r, Some(Err(_)))))
}

/// A field's `aria-describedby`: its hint, if it has one, and the form's error (the
/// [`FormError`] with `error_id`) while the form has `failed`, so a screen reader reads
/// the error with the field.
pub fn described_by(
    hint: Option<&'static str>,
    error_id: &'static str,
    failed: Signal<bool>,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let ids: Vec<&str> = [hint, failed.get().then_some(error_id)]
            .into_iter()
            .flatten()
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    })
}

/// A notice at the top of a form (why you are here), read from the page's query.
#[component]
pub fn Notice(
    /// The notice, if any.
    #[prop(into)]
    text: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        text.get()
            .map(|text| view! { <p class="alert alert--info" role="status">{text}</p> })
    }
}

/// The e-mail and password inputs shared by the sign-up and sign-in forms.
#[component]
pub fn CredentialFields(
    /// `current-password` to sign in, `new-password` to sign up (password managers care).
    password_autocomplete: &'static str,
    /// Shown under the password input.
    #[prop(optional, into)]
    password_hint: Option<String>,
    /// `username`, or on the sign-in form `username webauthn`: the browser then offers
    /// the site's passkeys in the field's autofill.
    #[prop(default = "username")]
    email_autocomplete: &'static str,
    /// The form's [`FormError`] id and whether it is showing: both fields then point at
    /// it (`aria-describedby`), so a screen reader reads the error with the field.
    error: (&'static str, Signal<bool>),
) -> impl IntoView {
    let (error_id, failed) = error;
    let hint = password_hint.is_some().then_some("password-hint");
    view! {
        <div class="field">
            <label for="email">{t("field-email")}</label>
            <input id="email" type="email" name="email" autocomplete=email_autocomplete required maxlength="254" aria-describedby=described_by(None, error_id, failed)/>
        </div>
        <div class="field">
            <label for="password">{t("field-password")}</label>
            <input
                id="password"
                type="password"
                name="password"
                autocomplete=password_autocomplete
                required
                minlength="8"
                maxlength="128"
                aria-describedby=described_by(hint, error_id, failed)
            />
            {password_hint.map(|hint| view! { <p id="password-hint" class="field__hint">{hint}</p> })}
        </div>
    }
}

/// After a successful sign-in or sign-up from the hydrated page: refresh the viewer and
/// go to `next` without a full reload.
pub fn continue_after_sign_in(
    result: Signal<Option<Result<crate::api::auth::SignedInView, AppError>>>,
) {
    let session = super::viewer::use_viewer();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(view)) = result.get() {
            session.changed();
            navigate(&view.next, leptos_router::NavigateOptions::default());
        }
    });
}

/// The `next` query parameter of the current page, for the hidden form field.
pub fn next_param() -> Signal<String> {
    let query = leptos_router::hooks::use_query_map();
    Signal::derive(move || query.read().get("next").unwrap_or_default())
}
