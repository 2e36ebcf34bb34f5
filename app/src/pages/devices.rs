//! `/devices`: every browser signed in to the account, and the power to sign any of
//! them out, effective on that device's very next request.

use crate::i18n::Arg;
use crate::i18n::ui::{t, t_with, use_language};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::auth::whoami;
use crate::api::devices::{
    DeviceList, DeviceView, RevokeDevice, RevokeOtherDevices, SignedOutDevices, list_devices,
};
use crate::components::sudo::{ReauthForms, SudoFields, follow_sudo, provide_sudo_context};
use crate::components::suspense::render_once;
use crate::components::time::{ExactTime, RelativeTime};
use crate::components::viewer::{RequireSignIn, use_viewer};
use crate::error::AppError;
use crate::paths;

/// Protected: signed-out visitors are sent to `/login?next=/devices`.
///
/// The page's data is loaded here, outside [`RequireSignIn`] (see there why).
#[component]
pub fn DevicesPage() -> impl IntoView {
    provide_sudo_context();
    let revoke = ServerAction::<RevokeDevice>::new();
    let revoke_others = ServerAction::<RevokeOtherDevices>::new();
    let list = Resource::new(
        move || (revoke.version().get(), revoke_others.version().get()),
        |_| list_devices(),
    );
    view! {
        <Title text=t("devices-title")/>
        <RequireSignIn>
            <Devices list revoke revoke_others/>
            <ReauthForms/>
        </RequireSignIn>
    }
}

/// The list and its actions. Every action is a form (so it works before hydration);
/// after hydration the list reloads in place and a confirmation appears.
#[component]
fn Devices(
    /// The devices, reloaded after each sign-out.
    list: Resource<Result<DeviceList, AppError>>,
    /// Signs out one device.
    revoke: ServerAction<RevokeDevice>,
    /// Signs out every other device.
    revoke_others: ServerAction<RevokeOtherDevices>,
) -> impl IntoView {
    follow_sudo(revoke_others.value().into());
    let query = use_query_map();
    let confirming = Signal::derive(move || query.read().get(paths::param::CONFIRM));

    // Signing out this device from here ends the session: go to the login page.
    let session = use_viewer();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(SignedOutDevices {
            this_device: true, ..
        })) = revoke.value().get()
        {
            session.changed();
            navigate(&paths::LOGIN.path(), NavigateOptions::default());
        }
    });

    let message = move || {
        let from_action = revoke
            .value()
            .get()
            .or_else(|| revoke_others.value().get())
            .map(|result| result.map(|done| done_message(done.count, done.this_device)));
        let from_query = || {
            let query = query.read();
            paths::DevicesDone::from_query(|name| query.get(name)).map(|done| {
                Ok(match done {
                    paths::DevicesDone::One => done_message(1, false),
                    paths::DevicesDone::Others(count) => done_message(count, false),
                })
            })
        };
        from_action
            .or_else(from_query)
            .map(|result: Result<String, AppError>| match result {
                Ok(text) => {
                    view! { <p class="alert alert--success" role="status">{text}</p> }.into_any()
                }
                Err(err) => {
                    view! { <p class="alert alert--error" role="alert">{err.to_string()}</p> }
                        .into_any()
                }
            })
    };

    view! {
        <section class="devices">
            <h1>{t("devices-title")}</h1>
            <p class="lead">{t("devices-lead")}</p>
            <SessionCheck/>
            {message}
            <Transition fallback=|| view! { <p class="muted">{t("devices-loading")}</p> }>
                {move || Suspend::new(async move {
                    match render_once(list).await {
                        Ok(list) if list.devices.is_empty() => view! {
                            <p class="card">{t("devices-none")}</p>
                        }
                        .into_any(),
                        Ok(list) => {
                            let others = list.devices.iter().filter(|d| !d.current).count();
                            let now = list.now;
                            view! {
                                <ul class="device-list" aria-label=t("devices-list")>
                                    {list
                                        .devices
                                        .into_iter()
                                        .map(|device| view! { <DeviceItem device now revoke confirming/> })
                                        .collect_view()}
                                </ul>
                                <SignOutOthers others revoke_others/>
                            }
                            .into_any()
                        }
                        Err(err) => view! {
                            <p class="alert alert--error" role="alert">
                                {t("devices-load-failed")} " " {err.to_string()}
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// "Check my session": calls a protected server function, refreshing the access token
/// first if it has expired (the example of a protected call from the browser).
#[component]
fn SessionCheck() -> impl IntoView {
    let check = Action::new(|_: &()| whoami());
    view! {
        <div class="session-check">
            <button type="button" class="button button--secondary button--small" on:click=move |_| { check.dispatch(()); }>
                {t("account-check-session")}
            </button>
            {move || check.value().get().map(|result| match result {
                Ok(me) => view! {
                    <p class="alert alert--success" role="status" data-testid="session-check">
                        {t("account-session-ok-before")} <strong>{me.email}</strong> {t("account-session-ok-after")}
                    </p>
                }
                .into_any(),
                Err(err) => view! { <p class="alert alert--error" role="alert">{err.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}

fn done_message(count: usize, this_device: bool) -> String {
    if this_device {
        t("devices-this-signed-out").to_owned()
    } else {
        t_with("devices-signed-out", &[("count", count.into())])
    }
}

/// One device: what it is, where and when it was used, and how to sign it out.
#[component]
fn DeviceItem(
    /// The device.
    device: DeviceView,
    /// The server's "now", for relative times.
    now: i64,
    /// The sign-out action.
    revoke: ServerAction<RevokeDevice>,
    /// The id of the device whose sign-out awaits confirmation, if any.
    confirming: Signal<Option<String>>,
) -> impl IntoView {
    let DeviceView {
        id,
        label,
        ip,
        signed_in_at,
        last_seen_at,
        expires_at,
        current,
        sign_in_method,
        bound,
    } = device;
    // One language lookup for the dozen texts of each device: `t` looks it up per call,
    // walking up the component tree.
    let language = use_language();
    let t = move |key: &str| language.text(key);
    let t_with = move |key: &str, args: &[(&'static str, Arg)]| language.text_with(key, args);
    let heading_id = format!("device-{id}");
    let labelled_by = heading_id.clone();
    let confirm_id = id.clone();
    let is_confirming = move || confirming.get().as_deref() == Some(confirm_id.as_str());
    let (form_label, form_id) = (label.clone(), id.clone());

    let actions = move || {
        let (label, id) = (form_label.clone(), form_id.clone());
        if current {
            view! {
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="session_id" value=id/>
                    <button type="submit" class="button button--secondary">{t("devices-sign-out-this")}</button>
                </ActionForm>
            }
            .into_any()
        } else if is_confirming() {
            view! {
                <div class="device__confirm" role="group" aria-label=t_with("devices-confirm-label", &[("device", label.clone().into())])>
                    <p>{t("devices-confirm-before")} <strong>{label.clone()}</strong> {t("devices-confirm-after")}</p>
                    <ActionForm action=revoke attr:class="inline-form">
                        <input type="hidden" name="session_id" value=id/>
                        <button type="submit" class="button button--danger">{t("devices-confirm-yes")}</button>
                    </ActionForm>
                    <a href=paths::DEVICES.path() class="button button--secondary">{t("cancel")}</a>
                </div>
            }
            .into_any()
        } else {
            view! {
                <a href=paths::confirm_sign_out_url(&id) class="button button--secondary" aria-label=t_with("devices-sign-out-label", &[("device", label.into())])>
                    {t("nav-sign-out")}
                </a>
            }
            .into_any()
        }
    };

    view! {
        <li class="device card" class:device--current=current aria-labelledby=labelled_by data-testid="device">
            <div class="device__main">
                <h2 class="device__label" id=heading_id>
                    {label}
                    {current.then(|| view! { <span class="badge">{t("devices-this")}</span> })}
                    {bound.then(|| view! { <span class="badge badge--ok" data-testid="bound-badge" title=t("devices-bound-hint")>{t("devices-bound")}</span> })}
                </h2>
                <dl class="device__facts">
                    <div><dt>{t("devices-ip")}</dt><dd>{ip}</dd></div>
                    <div><dt>{t("devices-signed-in")}</dt><dd><ExactTime at=signed_in_at/></dd></div>
                    <div><dt>{t("devices-last-active")}</dt><dd><RelativeTime at=last_seen_at now/></dd></div>
                    <div><dt>{t("devices-expires")}</dt><dd><RelativeTime at=expires_at now/></dd></div>
                    <div><dt>{t("devices-method")}</dt><dd data-testid="sign-in-method">{sign_in_method}</dd></div>
                </dl>
            </div>
            <div class="device__actions">{actions}</div>
        </li>
    }
}

/// "Sign out of all other devices", shown when there are other devices.
#[component]
fn SignOutOthers(
    /// How many other devices are signed in.
    others: usize,
    /// The action.
    revoke_others: ServerAction<RevokeOtherDevices>,
) -> impl IntoView {
    (others > 0).then(|| {
        view! {
            <section class="card devices__others">
                <h2>{t("devices-others-title")}</h2>
                <p>
                    {t_with("devices-others-intro", &[("count", others.into())])}
                </p>
                <ActionForm action=revoke_others attr:class="form">
                    <SudoFields id="sign-out-others"/>
                    <button type="submit" class="button button--danger">{t("devices-others-submit")}</button>
                </ActionForm>
            </section>
        }
    })
}
