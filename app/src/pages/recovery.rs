//! The pages of account recovery and of the links sent by mail: `/forgot` asks for a
//! reset link; `/reset`, `/verify-email` and `/confirm-email` are where those links
//! land (the server has already moved the link's token out of the address bar, see
//! `web::email_link`). Each works as a plain form post before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::recovery::{
    ConfirmEmailChange, EmailLink, ForgotPassword, ResetPassword, VerifyEmail, check_email_link,
};
use crate::components::form::FormError;
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
        <Title text="Forgot your password?"/>
        <section class="card narrow auth-card">
            <h1>"Forgot your password?"</h1>
            <Show
                when=sent
                fallback=move || view! {
                    <p>"Enter the address you signed up with. We will send you a link to choose a new password."</p>
                    <ActionForm action=forgot attr:class="form">
                        <div class="field">
                            <label for="email">"E-mail address"</label>
                            <input id="email" type="email" name="email" autocomplete="username" required maxlength="254"/>
                        </div>
                        <FormError result=forgot.value().into()/>
                        <button type="submit" class="button button--block" disabled=move || forgot.pending().get()>
                            {move || if forgot.pending().get() { "Sending…" } else { "Send me a link" }}
                        </button>
                    </ActionForm>
                }
            >
                <p class="alert alert--success" role="status" data-testid="forgot-sent">
                    "If an account uses that address, we have sent it a link to choose a new password. "
                    "The link works for 30 minutes. If nothing arrives within a few minutes, check your spam folder."
                </p>
            </Show>
            <p class="auth-card__switch">"Remembered it? " <A href=paths::LOGIN.path()>"Sign in"</A></p>
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
        <Suspense fallback=|| view! { <p class="muted">"Checking your link…"</p> }>
            {move || {
                let retry_href = retry_href.clone();
                Suspend::new(async move {
                    match status.await {
                        Ok(email) => {
                            provide_context(LinkAddress(email));
                            children.read_value()().into_any()
                        }
                        Err(err) => view! {
                            <p class="alert alert--error" role="alert" data-testid="link-problem">{err.to_string()}</p>
                            <p><A href=retry_href>{retry_text}</A></p>
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
            navigate(&paths::LOGIN.path(), NavigateOptions::default());
        }
    });
    view! {
        <Title text="Choose a new password"/>
        <section class="card narrow auth-card">
            <h1>"Choose a new password"</h1>
            <LinkGate link=EmailLink::PasswordReset retry=("Ask for a new link", paths::FORGOT.path())>
                <p>"For " <strong>{link_address()}</strong> ". Every device signed in to this account will be signed out."</p>
                <ActionForm action=reset attr:class="form">
                    // Lets password managers file the new password under the right account.
                    <input type="email" name="username" autocomplete="username" value=link_address() hidden readonly/>
                    <div class="field">
                        <label for="new_password">"New password"</label>
                        <input id="new_password" type="password" name="new_password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="new-password-hint"/>
                        <p id="new-password-hint" class="field__hint">"At least 8 characters."</p>
                    </div>
                    <FormError result=reset.value().into()/>
                    <button type="submit" class="button button--block" disabled=move || reset.pending().get()>
                        {move || if reset.pending().get() { "Saving…" } else { "Set new password" }}
                    </button>
                </ActionForm>
            </LinkGate>
        </section>
    }
}

/// `/verify-email`: confirm the address with the link from the mail.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    view! {
        <Title text="Confirm your address"/>
        <ConfirmLink title="Confirm your e-mail address" link=EmailLink::EmailVerification result=verify.value().into() done=verified_message>
            <p>"Confirm that this address is yours: " <strong>{link_address()}</strong></p>
            <ActionForm action=verify attr:class="form">
                <FormError result=verify.value().into()/>
                <button type="submit" class="button button--block">"Confirm my address"</button>
            </ActionForm>
        </ConfirmLink>
    }
}

/// `/confirm-email`: switch to a new address with the link sent to it.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    view! {
        <Title text="Confirm your new address"/>
        <ConfirmLink title="Confirm your new e-mail address" link=EmailLink::EmailChange result=confirm.value().into() done=changed_message>
            <p>"Use this address for your account from now on: " <strong>{link_address()}</strong></p>
            <ActionForm action=confirm attr:class="form">
                <FormError result=confirm.value().into()/>
                <button type="submit" class="button button--block">"Use this address"</button>
            </ActionForm>
        </ConfirmLink>
    }
}

fn verified_message(email: Option<String>) -> String {
    match email {
        Some(email) => format!("Thank you: {email} is confirmed."),
        None => "Thank you: your address is confirmed.".to_owned(),
    }
}

fn changed_message(email: Option<String>) -> String {
    match email {
        Some(email) => format!("Done: your account now uses {email}."),
        None => "Done: your account now uses its new address.".to_owned(),
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
    result: Signal<Option<Result<String, crate::api::error::AppError>>>,
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
                        <LinkGate link=link retry=("Go to your account", paths::ACCOUNT.path())>
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
        <p><A href=paths::ACCOUNT.path()>"Go to your account"</A></p>
    }
}
