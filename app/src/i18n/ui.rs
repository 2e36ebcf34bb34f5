//! The language inside Leptos: which one the page speaks, and short lookups for views.
//!
//! The language is fixed for a page's life: switching it reloads the page (a form post
//! that sets the cookie), so no view needs a signal for it and nothing ever re-renders
//! in another language.

use super::{Arg, Language};

/// The language of the page being rendered (server) or run (browser).
///
/// On the server: negotiated from the request's headers at the first call, as the
/// server's pipeline said to ([`NegotiateLanguage`]), and kept in the page's context for
/// the next; English for a request that did not pass the pipeline. In the browser: the one the
/// server wrote into `<html lang>`, read once, so hydration speaks the same language
/// and event handlers (which run outside any reactive owner) do too.
pub fn use_language() -> Language {
    #[cfg(feature = "hydrate")]
    {
        browser_language()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        if let Some(language) = leptos::prelude::use_context::<Language>() {
            return language;
        }
        #[cfg(feature = "ssr")]
        if let Some(language) = leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
            let negotiate = parts.extensions.get::<NegotiateLanguage>()?;
            Some((negotiate.0)(&parts.headers))
        })
        .flatten()
        {
            // Negotiated once per request: the next lookup finds it in the context.
            leptos::prelude::provide_context(language);
            return language;
        }
        Language::default()
    }
}

/// How the server negotiates a request's language from its headers: the pipeline puts
/// it into the request (`web::context::identify`), and [`use_language`] runs it at the
/// first use, so a request that says nothing in words (most JSON answers) pays nothing.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy)]
pub struct NegotiateLanguage(pub fn(&http::HeaderMap) -> Language);

/// The message `key` in the page's language, borrowed from the table made at start
/// ([`Language::message`]; the key itself when no language has it).
pub fn t(key: &'static str) -> &'static str {
    use_language().message(key).unwrap_or(key)
}

/// The message `key` with variables, in the page's language.
pub fn t_with(key: &str, args: &[(&'static str, Arg)]) -> String {
    use_language().text_with(key, args)
}

#[cfg(feature = "hydrate")]
fn browser_language() -> Language {
    thread_local! {
        static LANGUAGE: Language = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|code| Language::from_code(&code))
            .unwrap_or_default();
    }
    LANGUAGE.with(|language| *language)
}
