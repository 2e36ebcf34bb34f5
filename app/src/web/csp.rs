//! The Content-Security-Policy of HTML pages: scripts run only if they carry this
//! response's nonce, which Leptos puts on its hydration and resource scripts.

use http::HeaderValue;
use http::header::CONTENT_SECURITY_POLICY;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;

/// The page policy for `nonce`. `'strict-dynamic'` lets the nonce'd hydration script load
/// the wasm bundle's JS module; `'wasm-unsafe-eval'` lets it compile the wasm. No
/// `'unsafe-inline'`: an injected `<script>` without the nonce does not run.
///
/// `form_action` lists the origins a form may lead to besides this one: the OpenID
/// providers' (the "Sign in with" buttons post here, and the answer redirects there,
/// which browsers check against `form-action` too).
pub fn page_policy(nonce: &str, form_action: &str) -> String {
    let space = if form_action.is_empty() { "" } else { " " };
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
         object-src 'none'; base-uri 'self'; form-action 'self'{space}{form_action}"
    )
}

/// Sets the page policy on the response being rendered (called from the HTML shell).
/// The server's header middleware keeps it and adds its baseline only where none is set.
pub fn set_page_policy() {
    let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let providers = leptos::prelude::with_context::<super::context::ServerContext, _>(|ctx| {
        ctx.providers.form_action_sources()
    })
    .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce.to_string(), &providers)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_need_the_nonce_and_nothing_inline_is_allowed() {
        let policy = page_policy("abc123", "");
        assert!(policy.contains("script-src 'nonce-abc123' 'strict-dynamic' 'wasm-unsafe-eval'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.ends_with("form-action 'self'"));
        let policy = page_policy("abc123", "https://accounts.example.com");
        assert!(policy.ends_with("form-action 'self' https://accounts.example.com"));
    }
}
