//! The two-step sign-in section of `/account`: add an authenticator app (QR code and
//! key, confirmed by one code), show the recovery codes once, get new ones, turn it off.

use leptos::prelude::*;

use crate::api::second_factor::{RecoveryCodesRenew, TotpBegin, TotpConfirm, TotpDisable};
use crate::components::form::FormError;
use crate::components::sudo::{SudoFields, follow_sudo, use_sudo};

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
        <section class="card account-section" aria-labelledby="second-factor-heading">
            <h2 id="second-factor-heading">"Two-step sign-in"</h2>
            {move || fresh_codes().map(|codes| view! { <RecoveryCodes codes/> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let status = sudo.status.await.ok()?;
                    Some(if status.second_factor {
                        view! {
                            <p data-testid="second-factor-status">
                                <span class="badge badge--ok">"On"</span>
                                " Signing in needs your password and a code from your authenticator app."
                            </p>
                            <p data-testid="codes-left">{format!("{} recovery codes left.", status.codes_left)}</p>
                            {(status.codes_left <= FEW_CODES_LEFT).then(|| view! {
                                <p class="alert alert--error" role="alert">
                                    {format!("Only {} recovery codes left. Get new ones so a lost phone never locks you out.", status.codes_left)}
                                </p>
                            })}
                            <ActionForm action=renew attr:class="form">
                                <SudoFields id="renew-codes"/>
                                <FormError result=renew.value().into()/>
                                <button type="submit" class="button button--secondary">"Get new recovery codes"</button>
                            </ActionForm>
                            <ActionForm action=disable attr:class="form">
                                <SudoFields id="disable-totp"/>
                                <FormError result=disable.value().into()/>
                                <button type="submit" class="button button--danger">"Turn off two-step sign-in"</button>
                            </ActionForm>
                        }
                        .into_any()
                    } else {
                        view! {
                            <p data-testid="second-factor-status">
                                "Off. Add a second step to signing in: after your password, a 6-digit code from an "
                                "authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator, "
                                "1Password or Aegis). Someone who learns your password still cannot sign in."
                            </p>
                            {move || (!matches!(begin.value().get(), Some(Ok(_)))).then(|| view! {
                                <ActionForm action=begin attr:class="form">
                                    <SudoFields id="begin-totp"/>
                                    <FormError result=begin.value().into()/>
                                    <button type="submit" class="button">"Set up an authenticator app"</button>
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
                            "Open your authenticator app, add an account, and scan this code:"
                            <img class="qr" src=setup.qr alt="QR code to scan with your authenticator app" width="200" height="200"/>
                        </li>
                        <li>
                            "Cannot scan it? Type this key instead: "
                            <code data-testid="totp-secret">{setup.secret}</code>
                        </li>
                        <li>
                            <ActionForm action=confirm attr:class="form">
                                <div class="field">
                                    <label for="totp_code">"Enter the 6-digit code the app now shows"</label>
                                    <input id="totp_code" type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="6"/>
                                </div>
                                <FormError result=confirm.value().into()/>
                                <button type="submit" class="button">"Turn on two-step sign-in"</button>
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
    let text = format!(
        "Gatehouse recovery codes. Each works once, instead of a code from your authenticator app.\n\n{}\n",
        codes.join("\n")
    );
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
            <p><strong>"Save your recovery codes now."</strong>
                " If you lose your phone, each of these codes signs you in once instead of a code from the app. "
                "Keep them somewhere safe, such as a password manager. They will not be shown again."</p>
            <ol data-testid="recovery-codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <p>
                <a class="button button--secondary" href=download download="gatehouse-recovery-codes.txt">"Download"</a>
                " "
                <button type="button" class="button button--secondary" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </p>
        </div>
    }
}
