//! The two endpoints of device-bound sessions (docs/DBSC.md),
//! `POST /api/auth/dbsc/register` and `POST /api/auth/dbsc/refresh`: plain routes the
//! browser itself calls, run in the same context as a server function
//! ([`in_app_context`]) so the app's code behind them (`app::api::dbsc`) uses the same
//! cookies, throttle and errors.
//!
//! The browser sends these two without `Origin` (it is not a page's request), so they are
//! the same-site check's only exemption (`csrf::exempt`): what stands in its place is
//! the proof, signed with the session's key over a single-use challenge sent for that
//! session.

use app::api::dbsc::Answer;
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos_axum::ResponseOptions;

use crate::server_fns::in_app_context;
use crate::state::AppState;

/// `POST /api/auth/dbsc/register`.
pub async fn register(State(state): State<AppState>, request: Request) -> Response {
    serve(&state, request, app::api::dbsc::register()).await
}

/// `POST /api/auth/dbsc/refresh`.
pub async fn refresh(State(state): State<AppState>, request: Request) -> Response {
    serve(&state, request, app::api::dbsc::refresh()).await
}

/// Runs `work` (one of the two endpoints) in the app's context for `request`. A
/// throttled answer waits as a 429 does ([`crate::pacer`]): it is sent as a 503
/// ([`respond`]), which the pipeline does not hold.
async fn serve(
    state: &AppState,
    request: Request,
    work: impl Future<Output = Result<Answer, AppError>>,
) -> Response {
    let (parts, _) = request.into_parts();
    let (answer, options) = in_app_context(state.server.clone(), parts, work).await;
    if matches!(answer, Err(AppError::Throttled(_))) {
        state.refusals.hold().await;
    }
    respond(answer, options)
}

/// The answer, with the headers (cookies) the work set. A throttled request gets a 503
/// instead of a 429: Chrome ends its bound session on a 429 (as on a 401), and a busy
/// server must not unbind a device.
fn respond(answer: Result<Answer, AppError>, options: ResponseOptions) -> Response {
    let mut response = match answer {
        Ok(Answer::Config(config)) => (StatusCode::OK, axum::Json(config)).into_response(),
        Ok(Answer::Challenge {
            challenge,
            session_id,
        }) => {
            let value = app::web::dbsc::challenge(challenge.expose(), &session_id);
            match HeaderValue::try_from(value) {
                Ok(value) => (
                    StatusCode::FORBIDDEN,
                    [(
                        HeaderName::from_static(app::web::dbsc::CHALLENGE_HEADER),
                        value,
                    )],
                )
                    .into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Err(AppError::Throttled(wait)) => {
            let mut response = AppError::Throttled(wait).into_response();
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
        Err(err) => err.into_response(),
    };
    crate::server_fns::add_headers_set(&mut response, &options);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
