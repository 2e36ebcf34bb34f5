//! `/account`: the account's settings, in three groups a reader finds their way in:
//! profile and e-mail (the address, sign-in alerts, changing the address); security
//! (password, passkeys, two-step sign-in, connected accounts); and, set apart, deleting
//! the account. Also the example of a protected page. Every sensitive form carries
//! [`SudoFields`].

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::account::{
    ChangeEmail, EmailSettingsView, ResendVerification, SetNewDeviceNotice, email_settings,
};
use crate::api::account::{ChangePassword, DeleteAccount};
use crate::api::auth::take_notice;
use crate::components::connected::{ConnectedAccountsSection, ConnectedData};
use crate::components::form::{FormError, described_by, failed, focus_when_shown};
use crate::components::passkeys::{PasskeysData, PasskeysSection};
use crate::components::second_factor::SecondFactorSection;
use crate::components::sudo::{
    ReauthForms, SudoFields, follow_sudo, provide_sudo_context, use_sudo,
};
use crate::components::suspense::render_once;
use crate::components::viewer::{RequireSignIn, use_viewer};
use crate::error::AppError;
use crate::paths::{self, AccountNotice};

/// Protected: signed-out visitors are sent to `/login?next=/account`.
///
/// The page's data is loaded here, outside [`RequireSignIn`] (see there why).
#[component]
pub fn AccountPage() -> impl IntoView {
    provide_sudo_context();
    let notify = ServerAction::<SetNewDeviceNotice>::new();
    let settings = Resource::new(move || notify.version().get(), |_| email_settings());
    let passkeys = PasskeysData::load();
    let connected = ConnectedData::load();
    // A notice the previous request left (a provider connected, sudo mode renewed at a
    // provider, or why not), shown once.
    let flash = Resource::new(|| (), |_| take_notice());
    view! {
        <Title text=t("account-title")/>
        <RequireSignIn>
            <div class="settings">
                <AccountHeader flash/>
                <ProfileGroup settings notify/>
                <SecurityGroup passkeys connected/>
                <DangerGroup/>
                <ReauthForms/>
            </div>
        </RequireSignIn>
    }
}

// Each group's view is erased (`into_any`): as one type, the page's view tree is deeper
// than the compiler's query limit.

/// Profile and e-mail.
#[component]
fn ProfileGroup(
    settings: Resource<Result<EmailSettingsView, AppError>>,
    notify: ServerAction<SetNewDeviceNotice>,
) -> impl IntoView {
    view! {
        <section id="profile" class="settings__group" aria-labelledby="profile-heading">
            <h2 id="profile-heading">{t("settings-profile")}</h2>
            <EmailSection settings notify/>
        </section>
    }
    .into_any()
}

/// Security: the ways into the account.
#[component]
fn SecurityGroup(passkeys: PasskeysData, connected: ConnectedData) -> impl IntoView {
    view! {
        <section id="security" class="settings__group" aria-labelledby="security-heading">
            <h2 id="security-heading">{t("settings-security")}</h2>
            <ChangePasswordForm/>
            <PasskeysSection data=passkeys/>
            <SecondFactorSection/>
            <ConnectedAccountsSection data=connected/>
        </section>
    }
    .into_any()
}

/// Deleting the account, set apart.
#[component]
fn DangerGroup() -> impl IntoView {
    view! {
        <section id="delete" class="settings__group settings__group--danger" aria-labelledby="delete-heading">
            <h2 id="delete-heading">{t("delete-title")}</h2>
            <DeleteAccountForm/>
        </section>
    }
    .into_any()
}

/// The page's title, the way to each group, and the one-time notice the previous
/// request left (a provider connected, sudo mode renewed at a provider, or why not).
#[component]
fn AccountHeader(flash: Resource<Result<Option<String>, AppError>>) -> impl IntoView {
    view! {
        <header class="settings__header">
            <h1>{t("account-title")}</h1>
            <p class="lead">{t("account-intro")}</p>
            <nav class="settings__nav" aria-label=t("settings-nav")>
                <a href="#profile">{t("settings-profile")}</a>
                <a href="#security">{t("settings-security")}</a>
                <a href="#delete">{t("delete-title")}</a>
            </nav>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    flash.await.ok().flatten().map(|text| view! { <p class="alert alert--info" role="status" data-testid="account-notice">{text}</p> })
                })}
            </Transition>
        </header>
    }
}

/// The address: verified or not (with a new link on request), changing it (confirmed
/// through a link sent to the new address), and the new-device sign-in mail.
#[component]
fn EmailSection(
    /// The address and its settings, reloaded after `notify`.
    settings: Resource<Result<EmailSettingsView, AppError>>,
    /// Turns the new-device sign-in mail on or off.
    notify: ServerAction<SetNewDeviceNotice>,
) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    let change = ServerAction::<ChangeEmail>::new();
    follow_sudo(change.value().into());
    follow_sudo(notify.value().into());
    let query = use_query_map();
    let notice = move || {
        let by_post = query
            .read()
            .get(paths::param::DONE)
            .and_then(|value| AccountNotice::parse(&value));
        let by_action = if matches!(change.value().get(), Some(Ok(()))) {
            Some(AccountNotice::ChangeSent)
        } else if matches!(resend.value().get(), Some(Ok(()))) {
            Some(AccountNotice::VerificationSent)
        } else {
            None
        };
        by_action.or(by_post).map(|notice| {
            view! { <p class="alert alert--success" role="status" data-testid="email-notice">{t(notice.message_key())}</p> }
        })
    };
    view! {
        <section class="card settings-card" aria-labelledby="email-heading">
            <h3 id="email-heading">{t("field-email")}</h3>
            {notice}
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    render_once(settings).await.ok().map(|s| {
                        let verified = s.verified;
                        let on = s.notify_new_device;
                        view! {
                            <p data-testid="email-status">
                                <strong>{s.email}</strong> " "
                                {if verified {
                                    view! { <span class="badge badge--ok">{t("email-verified")}</span> }.into_any()
                                } else {
                                    view! { <span class="badge badge--warn">{t("email-not-verified")}</span> }.into_any()
                                }}
                            </p>
                            {(!verified).then(|| view! {
                                <p>{t("email-confirm-why")}</p>
                                <ActionForm action=resend attr:class="inline-form">
                                    <button type="submit" class="button button--secondary">{t("email-resend")}</button>
                                </ActionForm>
                                <FormError result=resend.value().into()/>
                            })}
                            <h4>{t("alerts-title")}</h4>
                            <p data-testid="new-device-notice">
                                {if on { t("alerts-on") } else { t("alerts-off") }}
                            </p>
                            <ActionForm action=notify attr:class="inline-form">
                                <input type="hidden" name="on" value=(!on).to_string()/>
                                // Turning them off is a sensitive action.
                                {on.then(|| view! { <SudoFields id="alerts"/> })}
                                <button type="submit" class="button button--secondary">
                                    {if on { t("alerts-turn-off") } else { t("alerts-turn-on") }}
                                </button>
                            </ActionForm>
                            <FormError result=notify.value().into()/>
                        }
                    })
                })}
            </Transition>
            <h4>{t("email-change-title")}</h4>
            <p>{t("email-change-intro")}</p>
            <ActionForm action=change attr:class="form">
                <div class="field">
                    <label for="new_email">{t("email-change-field")}</label>
                    <input id="new_email" type="email" name="new_email" autocomplete="email" required maxlength="254"
                        aria-describedby=described_by(None, "change-email-error", failed(change.value().into()))/>
                </div>
                <SudoFields id="change-email"/>
                <FormError result=change.value().into() id="change-email-error"/>
                <button type="submit" class="button">{t("email-change-submit")}</button>
            </ActionForm>
        </section>
    }
}

/// Change the password; every other device is signed out.
#[component]
fn ChangePasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    follow_sudo(change.value().into());
    let query = use_query_map();
    let done = move || {
        change
            .value()
            .get()
            .and_then(Result::ok)
            .map(|c| c.signed_out)
            .or_else(|| query.read().get(paths::param::PASSWORD_CHANGED).and_then(|n| n.parse().ok()))
            .map(|count| {
                // Focus moves to the confirmation, so keyboard users hear and see it.
                let node = NodeRef::<leptos::html::P>::new();
                focus_when_shown(node);
                view! { <p class="alert alert--success" role="status" tabindex="-1" node_ref=node>{t_with("password-changed", &[("count", count.into())])}</p> }
            })
    };
    // An account made by a provider has no password yet: it may set one here (in sudo
    // mode, proven at the provider) or by the reset link. Read in a `Transition` of its
    // own: a read outside one would make the page's suspense show "Loading…" (and lose
    // the focus of the confirmation) whenever the sudo state is read again.
    let sudo = use_sudo();
    view! {
        <section class="card settings-card" aria-labelledby="password-heading">
            <h3 id="password-heading">{t("password-title")}</h3>
            <Transition fallback=|| view! { <p>{t("password-change-intro")}</p> }>
                {move || Suspend::new(async move {
                    let has_password = sudo.status.await.map(|s| s.has_password).unwrap_or(true);
                    if has_password {
                        view! { <p>{t("password-change-intro")}</p> }.into_any()
                    } else {
                        view! { <p data-testid="no-password">{t("password-none")}</p> }.into_any()
                    }
                })}
            </Transition>
            {done}
            <ActionForm action=change attr:class="form">
                <SudoFields id="change-password"/>
                <div class="field">
                    <label for="new_password">{t("password-change-field")}</label>
                    <input
                        id="new_password"
                        type="password"
                        name="new_password"
                        autocomplete="new-password"
                        required
                        minlength="8"
                        maxlength="128"
                        aria-describedby=described_by(Some("new-password-hint"), "change-password-error", failed(change.value().into()))
                    />
                    <p id="new-password-hint" class="field__hint">{t("password-change-hint")}</p>
                </div>
                <FormError result=change.value().into() id="change-password-error"/>
                <button type="submit" class="button">{t("password-change-title")}</button>
            </ActionForm>
        </section>
    }
}

/// Delete the account (sudo mode, and a tick that says the user means it).
#[component]
fn DeleteAccountForm() -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    follow_sudo(delete.value().into());
    let session = use_viewer();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            session.changed();
            navigate(&paths::LOGIN.path(), NavigateOptions::default());
        }
    });
    view! {
        <section class="card settings-card settings-card--danger" aria-labelledby="delete-heading">
            <p>{t("delete-intro")}</p>
            <ActionForm action=delete attr:class="form">
                <SudoFields id="delete-account"/>
                <div class="field field--check">
                    <input id="delete_confirm" type="checkbox" name="confirm" value="yes" required
                        aria-describedby=described_by(None, "delete-account-error", failed(delete.value().into()))/>
                    <label for="delete_confirm">{t("delete-confirm")}</label>
                </div>
                <FormError result=delete.value().into() id="delete-account-error"/>
                <button type="submit" class="button button--danger">{t("delete-submit")}</button>
            </ActionForm>
        </section>
    }
}
