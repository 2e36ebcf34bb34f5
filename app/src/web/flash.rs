//! The pre-authentication web session (tower-sessions): fixation defence, one-time
//! notices that must survive a redirect, a sign-in waiting for its second factor, and
//! the passkey ceremony a browser started.

use tower_sessions::Session;

const FLASH_KEY: &str = "flash";

async fn web_session() -> Option<Session> {
    match leptos_axum::extract::<Session>().await {
        Ok(session) => Some(session),
        Err(err) => {
            tracing::warn!(error = %err, "no web session on this request");
            None
        }
    }
}

/// Gives the web session a new id. Called whenever the signed-in state changes, so an id
/// known to an attacker before sign-in (fixation) or after sign-out is worthless.
pub async fn cycle_web_session_id() {
    let Some(session) = web_session().await else {
        return;
    };
    if let Err(err) = session.cycle_id().await {
        tracing::warn!(error = %err, "cannot cycle the web session id");
        return;
    }
    // The new id's row starts from what this request holds, with nothing to merge: the
    // store's copy of the old row goes, so a session left empty loses its cookie.
    let _ = session
        .remove_value(crate::store::WEB_SESSION_LOADED_KEY)
        .await;
}

/// Leaves a one-time notice for the next page this browser renders.
pub async fn set(message: &str) {
    if let Some(session) = web_session().await
        && let Err(err) = session.insert(FLASH_KEY, message).await
    {
        tracing::warn!(error = %err, "cannot store a notice");
    }
}

/// Takes the pending notice, if any; it is shown once.
pub async fn take() -> Option<String> {
    let session = web_session().await?;
    session.remove::<String>(FLASH_KEY).await.ok().flatten()
}

const PENDING_SIGN_IN_KEY: &str = "pending_sign_in";

/// The sign-in waiting for its second factor on this browser, if any (see
/// `auth::second_factor::PendingSignIn`).
pub async fn pending_sign_in() -> Option<crate::auth::second_factor::PendingSignIn> {
    let session = web_session().await?;
    session.get(PENDING_SIGN_IN_KEY).await.ok().flatten()
}

/// Keeps (or, with `None`, forgets) the sign-in waiting for its second factor.
pub async fn set_pending_sign_in(pending: Option<&crate::auth::second_factor::PendingSignIn>) {
    let Some(session) = web_session().await else {
        return;
    };
    let result = match pending {
        Some(pending) => session.insert(PENDING_SIGN_IN_KEY, pending).await,
        None => session
            .remove::<crate::auth::second_factor::PendingSignIn>(PENDING_SIGN_IN_KEY)
            .await
            .map(drop),
    };
    if let Err(err) = result {
        tracing::warn!(error = %err, "cannot keep the pending sign-in");
    }
}

/// The web-session key under which a passkey ceremony of `purpose` waits.
fn ceremony_key(purpose: crate::auth::passkeys::Purpose) -> String {
    format!("passkey_{}", purpose.as_str())
}

/// Remembers the passkey ceremony this browser started (its `passkey_challenges` id):
/// only this browser can finish it. A newer one of the same purpose replaces it; the
/// replaced id is returned, so its row can go.
pub async fn set_ceremony(
    purpose: crate::auth::passkeys::Purpose,
    challenge_id: &str,
) -> Option<String> {
    let session = web_session().await?;
    match session
        .insert_value(&ceremony_key(purpose), challenge_id.into())
        .await
    {
        Ok(previous) => previous.and_then(|value| value.as_str().map(str::to_owned)),
        Err(err) => {
            tracing::warn!(error = %err, "cannot keep a passkey ceremony");
            None
        }
    }
}

/// Takes the passkey ceremony of `purpose` this browser started, if any.
pub async fn take_ceremony(purpose: crate::auth::passkeys::Purpose) -> Option<String> {
    let session = web_session().await?;
    session
        .remove::<String>(&ceremony_key(purpose))
        .await
        .ok()
        .flatten()
}
