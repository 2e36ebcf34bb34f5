//! The footer's language switcher.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use crate::api::language::SetLanguage;
use crate::i18n::Language;
use crate::i18n::ui::{t, t_with, use_language};

/// "English · Deutsch": the current language as text, each other one as a button that
/// posts the choice and comes back to this page, now in that language.
///
/// A plain form (no JavaScript needed): the next page is rendered in the new language
/// on the server, so it never shows a flash of the old one. Each name is written in its
/// own language and marked with its `lang`, so a screen reader pronounces it right.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let current = use_language();
    let location = use_location();
    let here = move || format!("{}{}", location.pathname.get(), location.search.get());
    let choices = Language::ALL
        .into_iter()
        .map(|language| {
            if language == current {
                view! {
                    <span class="language-switcher__current" lang=language.code()
                        aria-label=t_with("language-current", &[("language", language.native_name().into())])>
                        {language.native_name()}
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <button type="submit" class="language-switcher__choice" name="language"
                        value=language.code() lang=language.code()>
                        {language.native_name()}
                    </button>
                }
                .into_any()
            }
        })
        .collect_view();
    view! {
        <form class="language-switcher" method="post" action=SetLanguage::url()
            aria-label=t("language-switcher")>
            <input type="hidden" name="to" value=here/>
            <span class="language-switcher__label" aria-hidden="true">{t("language-switcher")} ": "</span>
            {choices}
        </form>
    }
}
