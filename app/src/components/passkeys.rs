//! Passkeys in the page: "Sign in with a passkey" (and the e-mail field's autofill) on
//! `/login`, and the passkey list on `/account`. A ceremony needs the browser's
//! `navigator.credentials`, so these work once the page is hydrated; before that the
//! buttons stay hidden and the password form works as ever.

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::passkeys::{
    PasskeyList, PasskeyRemove, PasskeyView, passkey_add_begin, passkey_add_finish,
    passkey_sign_in_begin, passkey_sign_in_finish, passkeys_list,
};
use crate::components::form::FormError;
use crate::components::sudo::{SudoFields, follow_sudo, use_sudo};
use crate::components::suspense::render_once;
use crate::components::time::RelativeTime;
use crate::error::AppError;

/// Why a ceremony stopped in the browser, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The user closed the prompt, or it timed out.
    Cancelled,
    /// The authenticator holds a passkey for this account already.
    AlreadyOnDevice,
    /// The page is not at the origin passkeys belong to.
    WrongSite,
    /// No passkey support in this browser.
    Unsupported,
    /// The server refused.
    Server(AppError),
    /// Something else went wrong in the browser.
    Browser(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = match self {
            Self::Server(err) => return write!(f, "{err}"),
            Self::Cancelled => "passkey-cancelled",
            Self::AlreadyOnDevice => "passkey-already-on-device",
            Self::WrongSite => "passkey-wrong-site",
            Self::Unsupported => "passkey-unsupported",
            Self::Browser(_) => "passkey-browser-failed",
        };
        f.write_str(t(key))
    }
}

impl From<AppError> for Failure {
    fn from(err: AppError) -> Self {
        Self::Server(err)
    }
}

/// `navigator.credentials`, through webauthn-rs's protocol types (the same the server
/// speaks), so no base64 juggling is written here.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use webauthn_rs_proto::{
        CreationChallengeResponse, Mediation, PublicKeyCredential, RegisterPublicKeyCredential,
        RequestChallengeResponse,
    };

    use super::Failure;

    fn failure(err: JsValue) -> Failure {
        let name = err
            .dyn_ref::<web_sys::DomException>()
            .map(|e| e.name())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "AbortError" => Failure::Cancelled,
            "InvalidStateError" => Failure::AlreadyOnDevice,
            "SecurityError" => Failure::WrongSite,
            "NotSupportedError" => Failure::Unsupported,
            _ => Failure::Browser(format!("{err:?}")),
        }
    }

    fn credentials() -> Result<web_sys::CredentialsContainer, Failure> {
        if !supported() {
            return Err(Failure::Unsupported);
        }
        Ok(leptos::prelude::window().navigator().credentials())
    }

    thread_local! {
        /// The login page's autofill wait, so the button can abort it.
        static AUTOFILL: std::cell::RefCell<Option<web_sys::AbortController>> =
            const { std::cell::RefCell::new(None) };
    }

    /// A signal for a new autofill wait (aborting any earlier one).
    pub fn autofill_signal() -> Option<web_sys::AbortSignal> {
        abort_autofill();
        let controller = web_sys::AbortController::new().ok()?;
        let signal = controller.signal();
        AUTOFILL.with(|slot| *slot.borrow_mut() = Some(controller));
        Some(signal)
    }

    /// Ends the autofill wait, if one is running.
    pub fn abort_autofill() {
        if let Some(controller) = AUTOFILL.with(|slot| slot.borrow_mut().take()) {
            controller.abort();
        }
    }

    /// Whether the browser has WebAuthn at all.
    pub fn supported() -> bool {
        js_sys::Reflect::has(&leptos::prelude::window(), &"PublicKeyCredential".into())
            .unwrap_or(false)
    }

    /// Whether the browser can offer passkeys in a field's autofill (conditional UI).
    pub async fn autofill_available() -> bool {
        let window = leptos::prelude::window();
        let Ok(class) = js_sys::Reflect::get(&window, &"PublicKeyCredential".into()) else {
            return false;
        };
        let Ok(check) = js_sys::Reflect::get(&class, &"isConditionalMediationAvailable".into())
        else {
            return false;
        };
        let Some(check) = check.dyn_ref::<js_sys::Function>() else {
            return false;
        };
        let Ok(promise) = check.call0(&class) else {
            return false;
        };
        JsFuture::from(js_sys::Promise::from(promise))
            .await
            .map(|answer| answer.as_bool() == Some(true))
            .unwrap_or(false)
    }

    /// Makes a passkey for the server's `options`; the answer as JSON.
    pub async fn create(options: &str) -> Result<String, Failure> {
        let ccr: CreationChallengeResponse =
            serde_json::from_str(options).map_err(|e| Failure::Browser(e.to_string()))?;
        let options: web_sys::CredentialCreationOptions = ccr.into();
        let promise = credentials()?
            .create_with_options(&options)
            .map_err(failure)?;
        let credential = JsFuture::from(promise).await.map_err(failure)?;
        let credential: web_sys::PublicKeyCredential = credential
            .dyn_into()
            .map_err(|_| Failure::Browser("not a public-key credential".into()))?;
        serde_json::to_string(&RegisterPublicKeyCredential::from(credential))
            .map_err(|e| Failure::Browser(e.to_string()))
    }

    /// Signs the server's `options` with a passkey the user picks, in a dialog or (with
    /// `autofill`) in the autofill of the field marked `autocomplete="… webauthn"`; the
    /// answer as JSON. `signal` aborts the wait.
    pub async fn get(
        options: &str,
        autofill: bool,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<String, Failure> {
        let mut rcr: RequestChallengeResponse =
            serde_json::from_str(options).map_err(|e| Failure::Browser(e.to_string()))?;
        rcr.mediation = autofill.then_some(Mediation::Conditional);
        let options: web_sys::CredentialRequestOptions = rcr.into();
        if let Some(signal) = signal {
            options.set_signal(signal);
        }
        let promise = credentials()?.get_with_options(&options).map_err(failure)?;
        let credential = JsFuture::from(promise).await.map_err(failure)?;
        let credential: web_sys::PublicKeyCredential = credential
            .dyn_into()
            .map_err(|_| Failure::Browser("not a public-key credential".into()))?;
        serde_json::to_string(&PublicKeyCredential::from(credential))
            .map_err(|e| Failure::Browser(e.to_string()))
    }
}

/// Without a browser (server rendering), no ceremony runs; the buttons are hidden.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::Failure;

    pub fn supported() -> bool {
        false
    }

    pub fn autofill_signal() -> Option<web_sys::AbortSignal> {
        None
    }

    pub fn abort_autofill() {}

    pub async fn autofill_available() -> bool {
        false
    }

    pub async fn create(_options: &str) -> Result<String, Failure> {
        Err(Failure::Unsupported)
    }

    pub async fn get(
        _options: &str,
        _autofill: bool,
        _signal: Option<&web_sys::AbortSignal>,
    ) -> Result<String, Failure> {
        Err(Failure::Unsupported)
    }
}

/// A whole sign-in: begin, let the user pick a passkey, finish. An abandoned autofill
/// wait (the user chose the button, or left the page) ends as [`Failure::Cancelled`].
async fn sign_in_once(
    next: String,
    autofill: bool,
    signal: Option<web_sys::AbortSignal>,
) -> Result<crate::api::auth::SignedInView, Failure> {
    let ceremony = passkey_sign_in_begin().await?;
    let answer = browser::get(&ceremony.options, autofill, signal.as_ref()).await?;
    Ok(passkey_sign_in_finish(ceremony.id, answer, Some(next)).await?)
}

/// "Sign in with a passkey" under the password form, and the passkeys offered in the
/// e-mail field's autofill where the browser supports it.
#[component]
pub fn PasskeySignIn(
    /// Where to go once signed in.
    next: Signal<String>,
) -> impl IntoView {
    let ready = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let session = super::viewer::use_viewer();
    let navigate = leptos_router::hooks::use_navigate();

    // The end of a sign-in. A closed prompt or an abandoned autofill wait is not an
    // error worth a banner.
    let done = move |result: Result<crate::api::auth::SignedInView, Failure>| match result {
        Ok(view) => {
            session.changed();
            navigate(&view.next, leptos_router::NavigateOptions::default());
        }
        Err(Failure::Cancelled) => {}
        Err(err) => error.set(Some(err.to_string())),
    };
    let done_autofill = done.clone();

    // Leaving the page ends the autofill offer.
    on_cleanup(browser::abort_autofill);
    Effect::new(move |_| {
        if !browser::supported() {
            return;
        }
        ready.set(true);
        let done_autofill = done_autofill.clone();
        spawn_local(async move {
            if !browser::autofill_available().await {
                return;
            }
            // Aborted when the user chooses the button instead.
            let Some(signal) = browser::autofill_signal() else {
                return;
            };
            let result = sign_in_once(next.get_untracked(), true, Some(signal)).await;
            // The user never asked for this one: only the server's verdict on a passkey
            // they picked is worth a message, not the browser declining to offer one
            // (another address, no passkeys, the wait abandoned).
            if matches!(result, Ok(_) | Err(Failure::Server(_))) {
                done_autofill(result);
            }
        });
    });

    let on_click = move |_| {
        browser::abort_autofill();
        error.set(None);
        pending.set(true);
        let done = done.clone();
        spawn_local(async move {
            let result = sign_in_once(next.get_untracked(), false, None).await;
            pending.set(false);
            done(result);
        });
    };

    view! {
        <div class="passkey-sign-in" hidden=move || !ready.get()>
            <p class="divider"><span>{t("passkey-or")}</span></p>
            <button
                type="button"
                class="button button--secondary button--block"
                on:click=on_click
                disabled=move || pending.get()
            >
                {move || if pending.get() { t("passkey-sign-in-pending") } else { t("passkey-sign-in") }}
            </button>
            {move || error.get().map(|text| view! { <p class="alert alert--error" role="alert">{text}</p> })}
        </div>
    }
}

/// What the passkeys section shows: the account's passkeys, loaded by the page outside
/// its sign-in check (see `RequireSignIn`), and reloaded after an addition or removal.
#[derive(Clone, Copy)]
pub struct PasskeysData {
    version: RwSignal<u32>,
    list: Resource<Result<PasskeyList, AppError>>,
}

impl PasskeysData {
    /// Starts loading the list.
    pub fn load() -> Self {
        let version = RwSignal::new(0_u32);
        let list = Resource::new(move || version.get(), |_| passkeys_list());
        Self { version, list }
    }

    fn reload(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// The passkeys section of `/account`: the list, adding one (sudo mode, named by the
/// user), removing one (sudo mode).
#[component]
pub fn PasskeysSection(
    /// The list, from [`PasskeysData::load`].
    data: PasskeysData,
) -> impl IntoView {
    let sudo = use_sudo();
    let list = data.list;
    let remove = ServerAction::<PasskeyRemove>::new();
    follow_sudo(remove.value().into());
    Effect::new(move |_| {
        if matches!(remove.value().get(), Some(Ok(()))) {
            data.reload();
        }
    });
    let adding = RwSignal::new(false);
    let add_error = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<String>);
    // The origin passkeys belong to, when this page is somewhere else.
    let elsewhere = RwSignal::new(None::<String>);
    // Adding needs the browser: the form appears once the page is interactive (an
    // attribute computed differently on the server would not be redrawn at hydration).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(browser::supported()));
    // Only the browser knows where the page is; read after hydration, so the server's
    // HTML and the first render in the browser agree.
    Effect::new(move |_| {
        if let Some(Ok(list)) = list.get()
            && browser::supported()
        {
            let here = window().location().origin().unwrap_or_default();
            elsewhere.set(list.origin.filter(|origin| *origin != here));
        }
    });

    let on_add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev.target().and_then(|t| {
            leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlFormElement>(t).ok()
        }) else {
            return;
        };
        let field = |name: &str| {
            web_sys::FormData::new_with_form(&form)
                .ok()
                .and_then(|data| data.get(name).as_string())
                .filter(|value| !value.is_empty())
        };
        let (name, password, code) = (
            field("name").unwrap_or_default(),
            field("sudo_password"),
            field("sudo_code"),
        );
        add_error.set(None);
        added.set(None);
        adding.set(true);
        spawn_local(async move {
            let result: Result<String, Failure> = async {
                let ceremony =
                    passkey_add_begin(password.map(crate::secret::Secret::from), code).await;
                if matches!(ceremony, Err(AppError::SudoRequired)) || ceremony.is_ok() {
                    sudo.changed();
                }
                let ceremony = ceremony?;
                let answer = browser::create(&ceremony.options).await?;
                let name = if name.trim().is_empty() {
                    ceremony.suggested_name
                } else {
                    name
                };
                Ok(passkey_add_finish(ceremony.id, answer, name).await?.name)
            }
            .await;
            adding.set(false);
            match result {
                Ok(name) => {
                    added.set(Some(name));
                    form.reset();
                    data.reload();
                }
                Err(err) => add_error.set(Some(err.to_string())),
            }
        });
    };

    view! {
        <section class="card settings-card" aria-labelledby="passkeys-heading">
            <h3 id="passkeys-heading">{t("passkeys-title")}</h3>
            <p>
                {t("passkeys-intro")}
            </p>
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    let list = match render_once(list).await {
                        Ok(list) => list,
                        Err(err) => return view! { <p class="alert alert--error" role="alert">{err.to_string()}</p> }.into_any(),
                    };
                    if list.origin.is_none() {
                        return view! { <p class="muted" data-testid="passkeys-off">{t("passkeys-off")}</p> }.into_any();
                    }
                    let full = list.passkeys.len() as i64 >= list.max;
                    let now = list.now;
                    view! {
                        {list.passkeys.is_empty().then(|| view! { <p data-testid="no-passkeys">{t("passkeys-none")}</p> })}
                        <ul class="passkey-list" data-testid="passkey-list">
                            {list.passkeys.into_iter().map(|passkey| {
                                let remove_id = format!("remove-passkey-{}", passkey.id.chars().take(12).collect::<String>());
                                view! {
                                    <li class="passkey">
                                        <PasskeyText passkey=passkey.clone() now/>
                                        <ActionForm action=remove attr:class="form form--inline">
                                            <input type="hidden" name="id" value=passkey.id.clone()/>
                                            <SudoFields id=remove_id/>
                                            <button type="submit" class="button button--danger" aria-label=t_with("passkeys-remove-label", &[("name", passkey.name.clone().into())])>{t("passkeys-remove")}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {full.then(|| view! {
                            <p class="alert alert--info" role="status">{t_with("passkeys-limit", &[("count", list.max.into())])}</p>
                        })}
                    }.into_any()
                })}
            </Transition>
            <FormError result=remove.value().into()/>
            {move || elsewhere.get().map(|origin| view! {
                <p class="alert alert--info" role="status" data-testid="passkeys-elsewhere">
                    {t("passkeys-elsewhere-before")} " " <a href=format!("{origin}/account")>{origin.clone()}</a>
                    {t("passkeys-elsewhere-after")}
                </p>
            })}
            {move || added.get().map(|name| view! {
                <p class="alert alert--info" role="status">{t_with("passkeys-added-notice", &[("name", name.into())])}</p>
            })}
            <form class="form" on:submit=on_add hidden=move || !ready.get() || elsewhere.get().is_some()>
                <div class="field">
                    <label for="passkey-name">{t("passkeys-name")}</label>
                    <input id="passkey-name" type="text" name="name" maxlength="60" autocomplete="off" aria-describedby="passkey-name-hint"/>
                    <p id="passkey-name-hint" class="field__hint">{t("passkeys-name-hint")}</p>
                </div>
                <SudoFields id="add-passkey"/>
                {move || add_error.get().map(|text| view! { <p class="alert alert--error" role="alert">{text}</p> })}
                <button type="submit" class="button" disabled=move || adding.get()>
                    {move || if adding.get() { t("passkeys-add-pending") } else { t("passkeys-add") }}
                </button>
            </form>
        </section>
    }
}

/// A passkey's name, whether it is synced, and when it was added and last used: how the
/// account page and the review after a reset describe one.
#[component]
pub fn PasskeyText(
    /// The passkey.
    passkey: PasskeyView,
    /// "Now" as the server saw it, for relative times.
    now: i64,
) -> impl IntoView {
    view! {
        <div class="passkey__text">
            <strong class="passkey__name">{passkey.name}</strong>
            {passkey.synced.then(|| view! { " " <span class="badge badge--ok">{t("passkeys-synced")}</span> })}
            <p class="muted">
                {t("passkeys-added")} " " <RelativeTime at=passkey.created_at now/>
                {match passkey.last_used_at {
                    Some(at) => view! { " · " {t("passkeys-last-used")} " " <RelativeTime at now/> }.into_any(),
                    None => view! { " · " {t("passkeys-not-used")} }.into_any(),
                }}
            </p>
        </div>
    }
}
