//! The pages of account recovery and of the links sent by mail: `/forgot` asks for a
//! reset link; `/reset`, `/verify-email` and `/confirm-email` are where those links
//! land (the server has already moved the link's token out of the address bar, see
//! `web::email_link`). Each works as a plain form post before hydration.

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::recovery::{
    ConfirmEmailChange, EmailLink, ForgotPassword, ResetPassword, ResetReviewView,
    ReviewRemovePasskey, ReviewTurnOffSecondFactor, ReviewedPasskey, ReviewedProvider, VerifyEmail,
    check_email_link, reset_review,
};
use crate::components::form::{FormError, described_by, failed};
use crate::components::passkeys::PasskeyText;
use crate::components::suspense::render_once;
use crate::components::time::{ExactTime, RelativeTime};
use crate::paths;

/// `/forgot`: asks for a link to choose a new password. Says the same whatever the
/// address, so it cannot be used to find out who has an account.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let forgot = ServerAction::<ForgotPassword>::new();
    let query = use_query_map();
    let sent = move || {
        matches!(forgot.value().get(), Some(Ok(())))
            || query.read().get(paths::param::SENT).is_some()
    };
    view! {
        <Title text=t("login-forgot")/>
        <section class="card narrow auth-card">
            <h1>{t("login-forgot")}</h1>
            <Show
                when=sent
                fallback=move || view! {
                    <p>{t("forgot-intro")}</p>
                    <ActionForm action=forgot attr:class="form">
                        <div class="field">
                            <label for="email">{t("field-email")}</label>
                            <input id="email" type="email" name="email" autocomplete="username" required maxlength="254"
                                aria-describedby=described_by(None, "forgot-error", failed(forgot.value().into()))/>
                        </div>
                        <FormError result=forgot.value().into() id="forgot-error"/>
                        <button type="submit" class="button button--block" disabled=move || forgot.pending().get()>
                            {move || if forgot.pending().get() { t("forgot-submitting") } else { t("forgot-submit") }}
                        </button>
                    </ActionForm>
                }
            >
                <p class="alert alert--success" role="status" data-testid="forgot-sent">
                    {t("forgot-sent")}
                </p>
            </Show>
            <p class="auth-card__switch">{t("forgot-remembered")} " " <a href=paths::LOGIN.path()>{t("nav-sign-in")}</a></p>
        </section>
    }
}

/// Shows `children` (given the address the link was sent to) when the link this browser
/// opened for `link` works; otherwise says why not, with a way forward.
#[component]
fn LinkGate(
    link: EmailLink,
    /// What to offer when the link does not work.
    retry: (&'static str, String),
    children: ChildrenFn,
) -> impl IntoView {
    let status = Resource::new(|| (), move |_| check_email_link(link));
    let children = StoredValue::new(children);
    let (retry_text, retry_href) = retry;
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t("link-checking")}</p> }>
            {move || {
                let retry_href = retry_href.clone();
                Suspend::new(async move {
                    match render_once(status).await {
                        Ok(email) => {
                            provide_context(LinkAddress(email));
                            children.read_value()().into_any()
                        }
                        Err(err) => view! {
                            <p class="alert alert--error" role="alert" data-testid="link-problem">{err.to_string()}</p>
                            <p><a href=retry_href>{retry_text}</a></p>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The address a working link was sent to, for the page inside [`LinkGate`].
#[derive(Clone)]
struct LinkAddress(String);

fn link_address() -> String {
    use_context::<LinkAddress>()
        .map(|a| a.0)
        .unwrap_or_default()
}

/// `/reset`: choose a new password with the link from the mail.
#[component]
pub fn ResetPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = reset.value().get() {
            navigate(&paths::RESET_REVIEW.path(), NavigateOptions::default());
        }
    });
    view! {
        <Title text=t("reset-title")/>
        <section class="card narrow auth-card">
            <h1>{t("reset-title")}</h1>
            <LinkGate link=EmailLink::PasswordReset retry=(t("link-ask-again"), paths::FORGOT.path())>
                <p>{t("reset-for-before")} <strong>{link_address()}</strong> {t("reset-for-after")}</p>
                <ActionForm action=reset attr:class="form">
                    // Lets password managers file the new password under the right account.
                    <input type="email" name="username" autocomplete="username" value=link_address() hidden readonly/>
                    <div class="field">
                        <label for="new_password">{t("password-change-field")}</label>
                        <input id="new_password" type="password" name="new_password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby=described_by(Some("new-password-hint"), "reset-error", failed(reset.value().into()))/>
                        <p id="new-password-hint" class="field__hint">{t("password-change-hint")}</p>
                    </div>
                    <FormError result=reset.value().into() id="reset-error"/>
                    <button type="submit" class="button button--block" disabled=move || reset.pending().get()>
                        {move || if reset.pending().get() { t("reset-submitting") } else { t("reset-submit") }}
                    </button>
                </ActionForm>
            </LinkGate>
        </section>
    }
}

/// `/reset-review`: after a reset, the account's passkeys and two-step sign-in, each
/// removable right here: whoever held the account may have added one (a passkey signs
/// in without the password). Open to the browser that completed the reset, for a while
/// (`auth::reset_review`).
#[component]
pub fn ResetReviewPage() -> impl IntoView {
    let remove = ServerAction::<ReviewRemovePasskey>::new();
    let turn_off = ServerAction::<ReviewTurnOffSecondFactor>::new();
    let review = Resource::new(
        move || (remove.version().get(), turn_off.version().get()),
        |_| reset_review(),
    );
    view! {
        <Title text=t("review-title")/>
        <section class="card narrow auth-card">
            <h1>{t("review-title")}</h1>
            <Transition fallback=|| view! { <p class="muted">{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match render_once(review).await {
                        Ok(review) => view! { <ReviewList review remove turn_off/> }.into_any(),
                        Err(err) => view! {
                            <p class="alert alert--info" role="status" data-testid="review-closed">{err.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
            <FormError result=remove.value().into()/>
            <FormError result=turn_off.value().into()/>
            <a class="button button--block" href=paths::LOGIN.path()>{t("review-continue")}</a>
        </section>
    }
}

/// The methods of [`ResetReviewPage`], with a form to remove each.
#[component]
fn ReviewList(
    review: ResetReviewView,
    remove: ServerAction<ReviewRemovePasskey>,
    turn_off: ServerAction<ReviewTurnOffSecondFactor>,
) -> impl IntoView {
    let now = review.now;
    let days = review.recent_days;
    view! {
        <p data-testid="review-intro">
            {t("review-intro-before")} " " <strong>{review.email.clone()}</strong> {t("review-intro-after")}
        </p>
        <h2>{t("passkeys-title")}</h2>
        {if review.passkeys.is_empty() {
            view! { <p data-testid="review-no-passkeys">{t("review-no-passkeys")}</p> }.into_any()
        } else {
            view! {
                <p>{t("review-passkeys-intro")}</p>
                <ul class="passkey-list" data-testid="review-passkeys">
                    {review.passkeys.into_iter().map(|ReviewedPasskey { passkey, removable }| view! {
                        <li class="passkey">
                            <PasskeyText passkey=passkey.clone() now/>
                            {if removable {
                                view! {
                                    <ActionForm action=remove attr:class="form form--inline">
                                        <input type="hidden" name="id" value=passkey.id.clone()/>
                                        <button type="submit" class="button button--danger" aria-label=t_with("passkeys-remove-label", &[("name", passkey.name.clone().into())])>{t("passkeys-remove")}</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! { <p class="muted">{t_with("review-passkey-kept", &[("days", days.into())])}</p> }.into_any()
                            }}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!review.providers.is_empty()).then(|| view! {
            <h2>{t("connected-title")}</h2>
            <p>{t("review-providers-intro")}</p>
            <ul class="item-list" data-testid="review-providers">
                {review.providers.into_iter().map(|ReviewedProvider { name, email, linked_at, .. }| view! {
                    <li class="item">
                        <div class="item__text">
                            <strong>{name}</strong>
                            <span class="muted">{email}</span>
                            <span class="muted">{t("connected-since")} " " <RelativeTime at=linked_at now/></span>
                        </div>
                        <p class="muted">{t_with("review-provider-kept", &[("days", days.into())])}</p>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <h2>{t("review-second-factor-title")}</h2>
        {match review.second_factor_since {
            None => view! { <p data-testid="review-second-factor">{t("review-second-factor-off")}</p> }.into_any(),
            Some(since) => view! {
                <p data-testid="review-second-factor">
                    {t("review-second-factor-on")} " " <RelativeTime at=since now/> "."
                </p>
                {if review.second_factor_removable {
                    view! {
                        <p>{t("review-second-factor-recent")}</p>
                        <ActionForm action=turn_off attr:class="form">
                            <button type="submit" class="button button--danger">{t("review-second-factor-turn-off")}</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <p>{t_with("review-second-factor-kept", &[("days", days.into())])}</p> }.into_any()
                }}
            }.into_any(),
        }}
        <p class="muted">{t("review-open-until")} " " <ExactTime at=review.open_until/>"."</p>
    }
}

/// `/verify-email`: confirm the address with the link from the mail.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    view! {
        <Title text=t("verify-title")/>
        <ConfirmLink title=t("verify-heading") link=EmailLink::EmailVerification result=verify.value().into() done=verified_message>
            <p>{t("verify-intro")} " " <strong>{link_address()}</strong></p>
            <ActionForm action=verify attr:class="form">
                <FormError result=verify.value().into()/>
                <button type="submit" class="button button--block">{t("verify-submit")}</button>
            </ActionForm>
        </ConfirmLink>
    }
}

/// `/confirm-email`: switch to a new address with the link sent to it.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    view! {
        <Title text=t("confirm-title")/>
        <ConfirmLink title=t("confirm-heading") link=EmailLink::EmailChange result=confirm.value().into() done=changed_message>
            <p>{t("confirm-intro")} " " <strong>{link_address()}</strong></p>
            <ActionForm action=confirm attr:class="form">
                <FormError result=confirm.value().into()/>
                <button type="submit" class="button button--block">{t("confirm-submit")}</button>
            </ActionForm>
        </ConfirmLink>
    }
}

fn verified_message(email: Option<String>) -> String {
    match email {
        Some(email) => t_with("verify-done", &[("email", email.into())]),
        None => t("verify-done-unnamed").to_owned(),
    }
}

fn changed_message(email: Option<String>) -> String {
    match email {
        Some(email) => t_with("confirm-done", &[("email", email.into())]),
        None => t("confirm-done-unnamed").to_owned(),
    }
}

/// A link page whose only step is one button (`children`: verification, address
/// change). A button rather than acting on the click itself, because mail scanners open
/// links too. Shows the success message instead once `result` is a success, or when a
/// plain form post came back with `?done=1`.
#[component]
fn ConfirmLink(
    title: &'static str,
    link: EmailLink,
    /// The action's last result: the address, on success.
    result: Signal<Option<Result<String, crate::error::AppError>>>,
    /// The success message, naming the address when the answer did (after hydration).
    done: fn(Option<String>) -> String,
    children: ChildrenFn,
) -> impl IntoView {
    let query = use_query_map();
    let done_by_post = move || query.read().get(paths::param::DONE).is_some();
    let children = StoredValue::new(children);
    view! {
        <section class="card narrow auth-card">
            <h1>{title}</h1>
            {move || {
                if let Some(Ok(email)) = result.get() {
                    view! { <DoneMessage text=done(Some(email))/> }.into_any()
                } else if done_by_post() {
                    view! { <DoneMessage text=done(None)/> }.into_any()
                } else {
                    view! {
                        <LinkGate link=link retry=(t("link-go-to-account"), paths::ACCOUNT.path())>
                            {children.read_value()()}
                        </LinkGate>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn DoneMessage(text: String) -> impl IntoView {
    view! {
        <p class="alert alert--success" role="status" data-testid="link-done">{text}</p>
        <p><a href=paths::ACCOUNT.path()>{t("link-go-to-account")}</a></p>
    }
}
