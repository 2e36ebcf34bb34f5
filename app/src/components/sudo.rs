//! Sudo mode in the page: the "confirm it is you" fields of sensitive forms, shown only
//! when the server says this device has not proven who it is lately (ARCHITECTURE:
//! "Second factor and sudo mode").

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;

use crate::api::second_factor::{SecurityView, security_status};
use crate::components::suspense::render_once;
use crate::error::AppError;

/// This device's sudo and second-factor state, shared by the sensitive forms of a page.
#[derive(Clone, Copy)]
pub struct SudoContext {
    version: RwSignal<u32>,
    /// `security_status`, refetched after an action that changed it.
    pub status: Resource<Result<SecurityView, AppError>>,
}

impl SudoContext {
    /// Reads the state again (after a proof was given, or the server asked for one).
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// Provides the [`SudoContext`] for a page with sensitive forms. Call it in the page
/// component, outside `RequireSignIn` (it creates a resource; see there why).
pub fn provide_sudo_context() -> SudoContext {
    let version = RwSignal::new(0_u32);
    let status = Resource::new(move || version.get(), |_| security_status());
    let context = SudoContext { version, status };
    provide_context(context);
    context
}

/// The page's [`SudoContext`].
pub fn use_sudo() -> SudoContext {
    expect_context::<SudoContext>()
}

/// After each answer of a sensitive action, read the sudo state again: a refusal
/// (`sudo_required`) shows the fields, and a proof given with the form hides them.
pub fn follow_sudo<T>(result: Signal<Option<Result<T, AppError>>>)
where
    T: Clone + Send + Sync + 'static,
{
    let sudo = use_sudo();
    Effect::new(move |previous: Option<bool>| {
        let answered = result.with(Option::is_some);
        if answered && previous.is_some() {
            sudo.changed();
        }
        answered
    });
}

/// The "confirm it is you" fields of a sensitive form (`sudo_password`, and
/// `sudo_code` when the account has an authenticator app): nothing while this device is
/// in sudo mode. `id` makes the inputs' ids unique on the page.
#[component]
pub fn SudoFields(
    /// Prefix of the inputs' ids, unique on the page.
    #[prop(into)]
    id: String,
) -> impl IntoView {
    let sudo = use_sudo();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let id = id.clone();
                Suspend::new(async move {
                let status = render_once(sudo.status).await;
                let (needed, second_factor, has_password, providers) = match status {
                    Ok(status) => (!status.sudo, status.second_factor, status.has_password, status.providers),
                    Err(_) => (true, false, true, Vec::new()),
                };
                needed.then(|| {
                    let password_id = format!("{id}-password");
                    let code_id = format!("{id}-code");
                    view! {
                        <fieldset class="sudo" data-testid="sudo-fields">
                            <legend>{t("sudo-legend")}</legend>
                            <p class="field__hint">{if has_password { t("sudo-hint") } else { t("sudo-hint-no-password") }}</p>
                            {has_password.then(|| view! {
                                <div class="field">
                                    <label for=password_id.clone()>{t("sudo-password")}</label>
                                    <input id=password_id type="password" name="sudo_password" autocomplete="current-password" maxlength="128"/>
                                </div>
                            })}
                            {second_factor.then(|| view! {
                                <div class="field">
                                    <label for=code_id.clone()>{t("sudo-code")}</label>
                                    <input id=code_id type="text" name="sudo_code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"/>
                                </div>
                            })}
                            // Each button submits its own form of `ReauthForms` (a form
                            // cannot hold another): the provider signs the person in again.
                            {providers.into_iter().map(|provider| view! {
                                <button type="submit" form=reauth_form_id(&provider.id) class="button button--secondary sudo__provider">
                                    {t_with("sudo-provider", &[("provider", provider.name.into())])}
                                </button>
                            }).collect_view()}
                        </fieldset>
                    }
                })
            })}}
        </Transition>
    }
}

/// The id of the form that renews sudo mode at the provider `provider_id`.
fn reauth_form_id(provider_id: &str) -> String {
    format!("reauthenticate-{provider_id}")
}

/// One hidden form per connected provider, which the "confirm by signing in again"
/// buttons of [`SudoFields`] submit: `POST /auth/oidc/<id>/start` with
/// `purpose=reauthenticate` (the provider asks for the sign-in again, then this device
/// is in sudo mode). Place it once on a page with sensitive forms, outside them.
#[component]
pub fn ReauthForms() -> impl IntoView {
    let sudo = use_sudo();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let providers = sudo.status.await.map(|s| s.providers).unwrap_or_default();
                providers.into_iter().map(|provider| view! {
                    <form id=reauth_form_id(&provider.id) method="post" action=provider.action hidden>
                        <input type="hidden" name="purpose" value="reauthenticate"/>
                    </form>
                }).collect_view()
            })}
        </Transition>
    }
}
