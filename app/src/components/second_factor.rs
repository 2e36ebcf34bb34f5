//! The two-step sign-in section of `/account`: add an authenticator app (QR code and
//! key, confirmed by one code), show the recovery codes once, get new ones, turn it off.

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;

use crate::api::second_factor::{RecoveryCodesRenew, TotpBegin, TotpConfirm, TotpDisable};
use crate::components::form::{FormError, described_by, failed};
use crate::components::sudo::{SudoFields, follow_sudo, use_sudo};
use crate::components::suspense::render_once;

/// From this many recovery codes left, the section warns (the server's `FEW_CODES_LEFT`).
const FEW_CODES_LEFT: i64 = 3;

/// Two-step sign-in on `/account`.
#[component]
pub fn SecondFactorSection() -> impl IntoView {
    let sudo = use_sudo();
    let begin = ServerAction::<TotpBegin>::new();
    let confirm = ServerAction::<TotpConfirm>::new();
    let disable = ServerAction::<TotpDisable>::new();
    let renew = ServerAction::<RecoveryCodesRenew>::new();
    follow_sudo(begin.value().into());
    follow_sudo(confirm.value().into());
    follow_sudo(disable.value().into());
    follow_sudo(renew.value().into());
    // Codes to show once: right after turning it on, or after asking for new ones.
    let fresh_codes = move || {
        renew
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| confirm.value().get().and_then(Result::ok))
    };
    view! {
        <section class="card settings-card" aria-labelledby="second-factor-heading">
            <h3 id="second-factor-heading">{t("code-title")}</h3>
            {move || fresh_codes().map(|codes| view! { <RecoveryCodes codes/> })}
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    let status = render_once(sudo.status).await.ok()?;
                    Some(if status.second_factor {
                        view! {
                            <p data-testid="second-factor-status">
                                <span class="badge badge--ok">{t("totp-on")}</span>
                                " " {t("totp-on-text")}
                            </p>
                            <p data-testid="codes-left">{t_with("totp-codes-left", &[("count", status.codes_left.into())])}</p>
                            {(status.codes_left <= FEW_CODES_LEFT).then(|| view! {
                                <p class="alert alert--error" role="alert">
                                    {t_with("totp-few-codes-left", &[("count", status.codes_left.into())])}
                                </p>
                            })}
                            <ActionForm action=renew attr:class="form">
                                <SudoFields id="renew-codes"/>
                                <FormError result=renew.value().into()/>
                                <button type="submit" class="button button--secondary">{t("totp-renew-codes")}</button>
                            </ActionForm>
                            <ActionForm action=disable attr:class="form">
                                <SudoFields id="disable-totp"/>
                                <FormError result=disable.value().into()/>
                                <button type="submit" class="button button--danger">{t("totp-turn-off")}</button>
                            </ActionForm>
                        }
                        .into_any()
                    } else {
                        view! {
                            <p data-testid="second-factor-status">
                                {t("totp-off-text")}
                            </p>
                            {move || (!matches!(begin.value().get(), Some(Ok(_)))).then(|| view! {
                                <ActionForm action=begin attr:class="form">
                                    <SudoFields id="begin-totp"/>
                                    <FormError result=begin.value().into()/>
                                    <button type="submit" class="button">{t("totp-set-up")}</button>
                                </ActionForm>
                            })}
                        }
                        .into_any()
                    })
                })}
            </Transition>
            // Outside the status above: reading the status again (after the answer to
            // "set up") must not redraw the form the user is typing the code into.
            {move || {
                let setup = begin.value().get().and_then(Result::ok)?;
                if matches!(confirm.value().get(), Some(Ok(_))) {
                    return None;
                }
                Some(view! {
                    <ol class="steps">
                        <li>
                            {t("totp-step-scan")}
                            <img class="qr" src=setup.qr alt=t("totp-qr-alt") width="200" height="200"/>
                        </li>
                        <li>
                            {t("totp-step-type")} " "
                            <code data-testid="totp-secret">{setup.secret}</code>
                        </li>
                        <li>
                            <ActionForm action=confirm attr:class="form">
                                <div class="field">
                                    <label for="totp_code">{t("totp-step-code")}</label>
                                    <input id="totp_code" type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="6"
                                        aria-describedby=described_by(None, "totp-code-error", failed(confirm.value().into()))/>
                                </div>
                                <FormError result=confirm.value().into() id="totp-code-error"/>
                                <button type="submit" class="button">{t("totp-turn-on")}</button>
                            </ActionForm>
                        </li>
                    </ol>
                })
            }}
        </section>
    }
}

/// Recovery codes, shown once, with a download and a copy button.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    let text = format!("{}\n\n{}\n", t("totp-codes-file-heading"), codes.join("\n"));
    let download = format!(
        "data:text/plain;charset=utf-8,{}",
        crate::paths::encode(&text)
    );
    let copied = RwSignal::new(false);
    let copy_text = text.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&copy_text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &copy_text;
    };
    view! {
        <div class="alert alert--info recovery-codes" role="status">
            <p><strong>{t("totp-codes-save")}</strong> " " {t("totp-codes-why")}</p>
            <ol data-testid="recovery-codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <p>
                <a class="button button--secondary" href=download download="gatehouse-recovery-codes.txt">{t("totp-codes-download")}</a>
                " "
                <button type="button" class="button button--secondary" on:click=copy>
                    {move || if copied.get() { t("totp-codes-copied") } else { t("totp-codes-copy") }}
                </button>
            </p>
        </div>
    }
}
