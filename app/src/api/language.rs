//! `/api/language`: the reader's choice of language, remembered in a cookie.

// `#[server]` generates a public argument struct whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;

use super::session_client::SessionClient;
use crate::error::AppError;

/// Remembers `language` (a code such as `de`) for a year and sends the browser back to
/// `to`, the page it was on (a local path; anything else sends it home).
///
/// A plain form post, so the switcher works without JavaScript and the next page is
/// rendered in the new language from the start: nothing flashes in the old one.
#[server(prefix = "/api", endpoint = "language", client = SessionClient)]
pub async fn set_language(language: String, to: Option<String>) -> Result<(), AppError> {
    use crate::i18n::Language;
    use crate::web::context::{request_parts, server_context, wants_html};

    let ctx = server_context()?;
    let parts = request_parts()?;
    // The reader's language is not the one being chosen yet: the error speaks the old one.
    let chosen = Language::from_code(&language).ok_or_else(|| {
        AppError::BadRequest(crate::i18n::ui::t("error-unknown-language").to_owned())
    })?;
    crate::web::context::append_set_cookie(ctx.cookies.language_cookie(chosen));
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::safe_next(to.as_deref()));
    }
    Ok(())
}
