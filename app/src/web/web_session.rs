//! The pre-authentication web session (tower-sessions): fixation defence, one-time
//! notices that must survive a redirect, a sign-in waiting for its second factor, the
//! review a completed reset allows, and the passkey ceremonies and redirects to
//! OpenID providers a browser began.

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
    // A reset's review belongs to the signed-out browser that made the reset: signing
    // in or out in it ends the review (a reset sets a new one after cycling).
    let _ = session.remove_value(RESET_GRANT_KEY).await;
}

/// Leaves a one-time notice for the next page this browser renders.
pub async fn set_notice(message: &str) {
    if let Some(session) = web_session().await
        && let Err(err) = session.insert(FLASH_KEY, message).await
    {
        tracing::warn!(error = %err, "cannot store a notice");
    }
}

/// Takes the pending notice, if any; it is shown once.
pub async fn take_notice() -> Option<String> {
    let session = web_session().await?;
    session.remove::<String>(FLASH_KEY).await.ok().flatten()
}

/// The value kept under `key` in this browser's web session, if any.
async fn kept<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    web_session().await?.get(key).await.ok().flatten()
}

/// Keeps `value` under `key` in this browser's web session, or with `None` forgets it.
async fn keep<T: serde::Serialize + serde::de::DeserializeOwned>(key: &str, value: Option<&T>) {
    let Some(session) = web_session().await else {
        return;
    };
    let result = match value {
        Some(value) => session.insert(key, value).await,
        None => session.remove::<T>(key).await.map(drop),
    };
    if let Err(err) = result {
        tracing::warn!(error = %err, key, "cannot update the web session");
    }
}

const PENDING_SIGN_IN_KEY: &str = "pending_sign_in";

/// The sign-in waiting for its second factor on this browser, if any (see
/// `auth::second_factor::PendingSignIn`).
pub async fn pending_sign_in() -> Option<crate::auth::second_factor::PendingSignIn> {
    kept(PENDING_SIGN_IN_KEY).await
}

/// Keeps (or, with `None`, forgets) the sign-in waiting for its second factor.
pub async fn set_pending_sign_in(pending: Option<&crate::auth::second_factor::PendingSignIn>) {
    keep(PENDING_SIGN_IN_KEY, pending).await;
}

const RESET_GRANT_KEY: &str = "reset_grant";

/// The review this browser may make after completing a reset, if any (see
/// `auth::reset_review`).
pub async fn reset_grant() -> Option<crate::auth::reset_review::ResetGrant> {
    kept(RESET_GRANT_KEY).await
}

/// Keeps the grant of a reset this browser completed.
pub async fn set_reset_grant(grant: &crate::auth::reset_review::ResetGrant) {
    keep(RESET_GRANT_KEY, Some(grant)).await;
}

/// The web-session key under which a passkey ceremony of `purpose` waits.
fn ceremony_key(purpose: crate::auth::passkeys::Purpose) -> String {
    format!("passkey_{}", purpose.as_str())
}

/// How many passkey ceremonies of one purpose, or redirects to an OpenID provider, a
/// browser keeps waiting: one for each open tab (the login page starts a ceremony on
/// every visit), within reason.
const PENDING_CEREMONIES: usize = 4;

/// Remembers a passkey ceremony this browser started (its `passkey_challenges` id): only
/// this browser can finish it. Up to [`PENDING_CEREMONIES`] of one purpose wait, so a
/// login page left open in one tab still signs in after another tab began its own; the
/// older ids beyond that are returned, so their rows can go.
///
/// Two tabs beginning in the very same instant can still lose one of the two (both
/// write the list); that tab's answer is then "took too long", and trying again works.
pub async fn add_ceremony(
    purpose: crate::auth::passkeys::Purpose,
    challenge_id: &str,
) -> Vec<String> {
    add_waiting(&ceremony_key(purpose), challenge_id).await
}

/// Takes the passkey ceremony `challenge_id` of `purpose`: true if this browser started
/// it and it still waited.
pub async fn take_ceremony(purpose: crate::auth::passkeys::Purpose, challenge_id: &str) -> bool {
    take_waiting(&ceremony_key(purpose), challenge_id).await
}

const OIDC_FLOWS_KEY: &str = "oidc_flows";

/// Remembers a redirect to an OpenID provider this browser began (its `oidc_flows`
/// id): only this browser can bring the answer back. As for passkey ceremonies, a few
/// wait at once (one per tab); the ids of older ones are returned, so their rows go.
pub async fn add_oidc_flow(flow_id: &str) -> Vec<String> {
    add_waiting(OIDC_FLOWS_KEY, flow_id).await
}

/// Takes the redirect `flow_id`: true if this browser began it and it still waited.
pub async fn take_oidc_flow(flow_id: &str) -> bool {
    take_waiting(OIDC_FLOWS_KEY, flow_id).await
}

/// Adds `id` to the list under `key` of things this browser began and may finish, at
/// most [`PENDING_CEREMONIES`]; returns the ids that fell off.
async fn add_waiting(key: &str, id: &str) -> Vec<String> {
    let Some(session) = web_session().await else {
        return Vec::new();
    };
    // A value from before there were several (one id) reads as none.
    let mut pending: Vec<String> = session.get(key).await.ok().flatten().unwrap_or_default();
    pending.push(id.to_owned());
    let dropped = pending
        .drain(..pending.len().saturating_sub(PENDING_CEREMONIES))
        .collect();
    if let Err(err) = session.insert(key, pending).await {
        tracing::warn!(error = %err, key, "cannot keep what this browser began");
    }
    dropped
}

/// Takes `id` from the list under `key`: true if it was there.
async fn take_waiting(key: &str, id: &str) -> bool {
    let Some(session) = web_session().await else {
        return false;
    };
    let mut pending: Vec<String> = session.get(key).await.ok().flatten().unwrap_or_default();
    let Some(index) = pending.iter().position(|pending| pending == id) else {
        return false;
    };
    pending.remove(index);
    let kept = if pending.is_empty() {
        session.remove_value(key).await.map(drop)
    } else {
        session.insert(key, pending).await
    };
    if let Err(err) = kept {
        tracing::warn!(error = %err, key, "cannot update what this browser began");
    }
    true
}
