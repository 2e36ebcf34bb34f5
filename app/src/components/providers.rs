//! "Sign in with <provider>" buttons on `/login` and `/signup`: one plain form per
//! OpenID provider, posting to `/auth/oidc/<id>/start`, which sends the browser to the
//! provider. Plain forms work before hydration and without JavaScript; with no
//! provider configured nothing shows.

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;

use crate::api::oidc::providers;

/// The buttons, with `next` carried through the provider and back.
#[component]
pub fn ProviderButtons(
    /// Where to continue after signing in.
    #[prop(into)]
    next: Signal<String>,
) -> impl IntoView {
    let list = Resource::new(|| (), |_| providers());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = list.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <div class="provider-sign-in" data-testid="provider-sign-in">
                        <p class="divider"><span>{t("provider-or")}</span></p>
                        {list.into_iter().map(|provider| view! {
                            <form method="post" action=provider.action class="provider-sign-in__form">
                                <input type="hidden" name="next" value=next/>
                                <button type="submit" class="button button--secondary button--block">
                                    {t_with("provider-sign-in", &[("provider", provider.name.into())])}
                                </button>
                            </form>
                        }).collect_view()}
                    </div>
                })
            })}
        </Transition>
    }
}
