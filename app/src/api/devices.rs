//! `/api/devices/*`: the caller's signed-in devices, and signing them out.

// `#[server]` generates public argument structs whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;

use super::session_client::SessionClient;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One signed-in device, as the devices page shows it. Times are Unix seconds (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    /// The device session id (what `revoke` takes).
    pub id: String,
    /// "Chrome 131 on Linux", or "Unknown device".
    pub label: String,
    /// The IP address it signed in from.
    pub ip: String,
    /// When it signed in.
    pub signed_in_at: i64,
    /// When it was last active (refresh, or a request at most a minute ago).
    pub last_seen_at: i64,
    /// When it will be signed out unless used again.
    pub expires_at: i64,
    /// True for the device making this request.
    pub current: bool,
    /// How it signed in: "password", "password and authenticator app"…
    pub sign_in_method: String,
    /// Its session is bound to a key its browser keeps (DBSC).
    pub bound: bool,
}

/// The device list, with the server's clock so relative times render the same on the
/// server and in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// "Now" when the list was read (Unix seconds).
    pub now: i64,
    /// The devices, current first, then by last activity.
    pub devices: Vec<DeviceView>,
}

/// The caller's live device sessions, the current one first, then by last activity.
#[server(prefix = "/api/devices", endpoint = "list", client = SessionClient)]
pub async fn list_devices() -> Result<DeviceList, AppError> {
    use crate::auth::client_info::localized_device_label;
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let language = crate::i18n::ui::use_language();
    let ctx = server_context()?;
    let devices = ctx.auth.devices.list_devices(&session).await?;
    let devices = devices
        .into_iter()
        .map(|d| DeviceView {
            current: d.current,
            bound: d.bound,
            sign_in_method: d.sign_in_method.describe(
                language,
                d.sign_in_provider
                    .as_deref()
                    .map(|id| ctx.providers.name_of(id))
                    .as_deref(),
            ),
            id: d.id,
            label: localized_device_label(language, &d.label),
            ip: d.ip,
            signed_in_at: d.signed_in_at,
            last_seen_at: d.last_seen_at,
            expires_at: d.expires_at,
        })
        .collect();
    Ok(DeviceList {
        now: crate::auth::now_unix(),
        devices,
    })
}

/// What a sign-out action did, for the confirmation message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOutDevices {
    /// How many devices were signed out.
    pub count: usize,
    /// True when the current device was among them (the caller is now signed out).
    pub this_device: bool,
}

/// Signs out one of the caller's devices; 404 if `session_id` is not one of theirs.
#[server(prefix = "/api/devices", endpoint = "revoke", client = SessionClient)]
pub async fn revoke_device(session_id: String) -> Result<SignedOutDevices, AppError> {
    use crate::web::context::{
        clear_session_cookies, client_info, request_parts, require_device_session, server_context,
        wants_html,
    };
    let session = require_device_session()?;
    let ctx = server_context()?;
    let parts = request_parts()?;
    ctx.auth
        .devices
        .revoke_device(&session, &session_id, client_info(&ctx, &parts))
        .await?;
    let this_device = session_id == session.session_id;
    if this_device {
        clear_session_cookies(&ctx);
        crate::web::web_session::cycle_web_session_id().await;
        if wants_html(&parts) {
            leptos_axum::redirect(&crate::paths::LOGIN.path());
        }
    } else if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::DevicesDone::One.url());
    }
    Ok(SignedOutDevices {
        count: 1,
        this_device,
    })
}

/// Signs out every device of the caller except this one.
#[server(prefix = "/api/devices", endpoint = "revoke_others", client = SessionClient)]
pub async fn revoke_other_devices(
    sudo_password: Option<crate::secret::Secret>,
    sudo_code: Option<String>,
) -> Result<SignedOutDevices, AppError> {
    use crate::web::context::{SudoCaller, sudo_caller, wants_html};
    let SudoCaller {
        ctx,
        parts,
        session,
        client,
    } = sudo_caller(sudo_password, sudo_code).await?;
    let count = ctx
        .auth
        .devices
        .revoke_other_devices(&session, client)
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::DevicesDone::Others(count).url());
    }
    Ok(SignedOutDevices {
        count,
        this_device: false,
    })
}
