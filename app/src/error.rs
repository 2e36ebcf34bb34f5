//! The error every server function returns, on both sides of the wire.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, coarse enough to show to a user and to pick an HTTP status.
///
/// Messages are in the reader's language: the server writes the ones it carries in the
/// request's language, and the fixed ones (`SudoRequired`, `Throttled`…) are worded
/// where they are shown, by `Display` ([`crate::i18n::ui::use_language`]).
///
/// The server serialises it as JSON; the server's status layer reads it back to set the
/// response status and headers ([`AppError::contract`], in `server/src/server_fn_status.rs`), and the browser deserialises
/// it to show the message inline. On the wire every error has one readable shape (see
/// [`WireError`]): `{"error": "throttled", "message": "Too many attempts…",
/// "retry_after": 900}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireError", from = "WireError")]
pub enum AppError {
    /// 400: the input is wrong; the message says how.
    BadRequest(String),
    /// 401: wrong credentials, or not signed in; the message says which to the user.
    Unauthorized(String),
    /// 401: the access token has expired; the client should refresh and retry.
    AccessTokenExpired,
    /// 401: this device was signed out (from another device, or after suspected theft).
    SessionRevoked,
    /// 403: the request came from another site, or the thing is not yours.
    Forbidden(String),
    /// 403: a sensitive action needs a fresh proof of identity (sudo mode): send the
    /// password (or a code) with it.
    SudoRequired,
    /// 404: no such thing (among yours).
    NotFound,
    /// 429: too many attempts; try again after this many seconds.
    Throttled(u64),
    /// 503: the database is unavailable.
    Unavailable(String),
    /// 500: a fault on our side; details are in the server log, not here.
    Internal,
}

/// The message in the page's language ([`crate::i18n::ui::use_language`]).
impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_in(crate::i18n::ui::use_language()))
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// The message for people, in `language`. (A message the error was made with is
    /// already in the reader's language.)
    pub fn message_in(&self, language: crate::i18n::Language) -> String {
        let key = match self {
            Self::BadRequest(message)
            | Self::Unauthorized(message)
            | Self::Forbidden(message)
            | Self::Unavailable(message) => return message.clone(),
            Self::Throttled(seconds) => {
                return language.text_with("error-throttled", &[("seconds", (*seconds).into())]);
            }
            Self::AccessTokenExpired => "error-access-token-expired",
            Self::SessionRevoked => "login-reason-revoked",
            Self::SudoRequired => "error-sudo-required",
            Self::NotFound => "error-not-found",
            Self::Internal => "error-internal",
        };
        language.text(key)
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) | Self::AccessTokenExpired | Self::SessionRevoked => 401,
            Self::Forbidden(_) | Self::SudoRequired => 403,
            Self::NotFound => 404,
            Self::Throttled(_) => 429,
            Self::Unavailable(_) => 503,
            Self::Internal => 500,
        }
    }
}

/// The HTTP contract of an error's answer (docs/HTTP.md): its status, and the headers
/// that tell a client what to do next. One definition for the server, which answers
/// with it, and the browser's client, which reads it back ([`SessionProblem::of_response`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// The status.
    pub status: u16,
    /// `Retry-After` in seconds: the throttle's wait, or a moment for a busy or
    /// unreachable service (a full hashing queue, a database that did not answer).
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` of a 401 a client can act on: refresh and retry, or leave.
    pub session: Option<SessionProblem>,
}

/// An error as a plain axum handler answers it: the status and headers of its
/// [`Contract`] and the one body shape ([`WireError`]), as server functions answer.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        self.into_response_in(crate::i18n::ui::use_language())
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The answer, worded in `language`: for a plain axum handler, which has no page to
    /// take the reader's language from (`web::context::request_language` reads it from
    /// the headers).
    pub fn into_response_in(self, language: crate::i18n::Language) -> axum::response::Response {
        use axum::response::IntoResponse;
        let contract = self.contract();
        let wire = WireError::in_language(self, language);
        let mut response = (contract.status(), axum::Json(wire)).into_response();
        contract.write_headers(response.headers_mut());
        response
    }
}

#[cfg(feature = "ssr")]
impl Contract {
    /// The status as `http` spells it.
    pub fn status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Sets `Retry-After` and `WWW-Authenticate` as the contract says.
    pub fn write_headers(&self, headers: &mut http::HeaderMap) {
        if let Some(seconds) = self.retry_after {
            headers.insert(http::header::RETRY_AFTER, seconds.into());
        }
        // Tells the browser's server-function client (and any API client) whether to
        // refresh and retry, or to give up on this device: `api::session_client`.
        if let Some(value) = self
            .session
            .and_then(|problem| http::HeaderValue::from_str(&problem.www_authenticate()).ok())
        {
            headers.insert(http::header::WWW_AUTHENTICATE, value);
        }
    }
}

/// `Retry-After` of a 503.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

impl AppError {
    /// The status and headers this error is answered with.
    pub fn contract(&self) -> Contract {
        Contract {
            status: self.status(),
            retry_after: match self {
                Self::Throttled(seconds) => Some(*seconds),
                Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECS),
                _ => None,
            },
            session: match self {
                Self::AccessTokenExpired => Some(SessionProblem::Expired),
                Self::SessionRevoked => Some(SessionProblem::Revoked),
                _ => None,
            },
        }
    }
}

/// What a 401 says about the device's session, in `WWW-Authenticate` as RFC 6750
/// spells it for bearer tokens:
/// `Bearer error="invalid_token", error_description="expired"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionProblem {
    /// The access token has expired: refresh, then send the request again.
    Expired,
    /// The device session was ended: nothing to retry, the device is signed out.
    Revoked,
}

impl SessionProblem {
    /// The `error_description`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// The `WWW-Authenticate` value.
    pub fn www_authenticate(self) -> String {
        format!(
            r#"Bearer error="invalid_token", error_description="{}""#,
            self.description()
        )
    }

    /// Reads the problem back from an answer's status and `WWW-Authenticate`.
    pub fn of_response(status: u16, www_authenticate: Option<&str>) -> Option<Self> {
        if status != 401 {
            return None;
        }
        let (_, rest) = www_authenticate?.split_once("error_description=\"")?;
        match rest.split('"').next()? {
            "expired" => Some(Self::Expired),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// How an [`AppError`] looks in a response body: a stable code for programs, the
/// message for people, and for 429s how long to wait.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireError {
    /// `bad_request`, `unauthorized`, `access_token_expired`, `session_revoked`, `forbidden`, `sudo_required`,
    /// `not_found`, `throttled`, `unavailable` or `internal`.
    pub error: String,
    /// What to tell the user.
    pub message: String,
    /// Seconds to wait before trying again (429 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl From<AppError> for WireError {
    fn from(err: AppError) -> Self {
        Self::in_language(err, crate::i18n::ui::use_language())
    }
}

impl WireError {
    /// `err` as a body, its message in `language`.
    pub fn in_language(err: AppError, language: crate::i18n::Language) -> Self {
        let code = match &err {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::AccessTokenExpired => "access_token_expired",
            AppError::SessionRevoked => "session_revoked",
            AppError::Forbidden(_) => "forbidden",
            AppError::SudoRequired => "sudo_required",
            AppError::NotFound => "not_found",
            AppError::Throttled(_) => "throttled",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal => "internal",
        };
        Self {
            error: code.to_owned(),
            message: err.message_in(language),
            retry_after: match err {
                AppError::Throttled(seconds) => Some(seconds),
                _ => None,
            },
        }
    }
}

impl From<WireError> for AppError {
    fn from(wire: WireError) -> Self {
        match wire.error.as_str() {
            "bad_request" => Self::BadRequest(wire.message),
            "unauthorized" => Self::Unauthorized(wire.message),
            "access_token_expired" => Self::AccessTokenExpired,
            "session_revoked" => Self::SessionRevoked,
            "forbidden" => Self::Forbidden(wire.message),
            "sudo_required" => Self::SudoRequired,
            "not_found" => Self::NotFound,
            "throttled" => Self::Throttled(wire.retry_after.unwrap_or(1)),
            "unavailable" => Self::Unavailable(wire.message),
            _ => Self::Internal,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Framework errors: undecodable input is the client's fault (400); the rest are ours.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        use crate::i18n::ui::{t, t_with};
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => {
                Self::BadRequest(t_with(
                    "error-unreadable-request",
                    &[("reason", first_line(&message).into())],
                ))
            }
            ServerFnErrorErr::MissingArg(name) => {
                Self::BadRequest(t_with("error-missing-field", &[("field", name.into())]))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                Self::Unavailable(t("error-unreachable").to_owned())
            }
            _ => Self::Internal,
        }
    }
}

/// The first line of a framework message, at most 200 characters (cut on a character
/// boundary: the message may quote the client's own multi-byte input).
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or_default();
    line.char_indices()
        .nth(200)
        .map_or(line, |(end, _)| &line[..end])
}

/// A database error in a server function of your own: 503 when the database did not
/// answer in time, else 500, with the details in the log only.
#[cfg(feature = "ssr")]
impl From<crate::store::DbError> for AppError {
    fn from(err: crate::store::DbError) -> Self {
        match err {
            crate::store::DbError::Unavailable(reason) => {
                crate::auth::error::AuthError::Unavailable(reason).into()
            }
            other => crate::auth::error::AuthError::Internal(other.to_string()).into(),
        }
    }
}

/// `Retry-After` of a per-address mail limit: the window it counts.
#[cfg(feature = "ssr")]
const MAIL_LIMIT_RETRY_SECS: u64 = 3600;

#[cfg(feature = "ssr")]
impl From<crate::auth::error::AuthError> for AppError {
    fn from(err: crate::auth::error::AuthError) -> Self {
        use crate::auth::error::AuthError as E;
        let message = err.message(crate::i18n::ui::use_language());
        match &err {
            E::InvalidEmail
            | E::PasswordPolicy(_)
            | E::EmailTaken
            | E::WrongPassword
            | E::Link(_)
            | E::SameEmail
            | E::WrongCode
            | E::NoEnrolment
            | E::SecondFactorAlreadyOn
            | E::PasskeysUnavailable
            | E::PasskeyLimit
            | E::PasskeyExpired
            | E::PasskeyFailed
            | E::PasskeyAlreadyAdded
            | E::ProviderFailed
            | E::ProviderCancelled
            | E::ProviderEmailUnverified
            | E::ProviderLinkedElsewhere
            | E::LastSignInMethod => Self::BadRequest(message),
            E::ProviderUnavailable => Self::Unavailable(message),
            E::SudoRequired => Self::SudoRequired,
            E::NoPendingSignIn => Self::Unauthorized(message),
            E::EmailNotVerified | E::ReviewClosed | E::AddedTooLongAgo => Self::Forbidden(message),
            E::MailLimit => Self::Throttled(MAIL_LIMIT_RETRY_SECS),
            E::InvalidCredentials
            | E::NotSignedIn
            | E::SessionRevoked
            | E::SessionEnded
            | E::TokenReuse
            | E::DeviceProof => Self::Unauthorized(message),
            E::AccessTokenExpired => Self::AccessTokenExpired,
            E::NotFound => Self::NotFound,
            E::Throttled(wait) => Self::Throttled(crate::auth::error::whole_seconds(*wait)),
            E::Busy => Self::Unavailable(message),
            E::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::Unavailable(message)
            }
            E::Internal(reason) => {
                tracing::error!(%reason, "internal error");
                Self::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_input_is_a_400_with_a_message() {
        let err =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `email`".into()));
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("missing field `email`"));
    }

    #[test]
    fn errors_round_trip_through_json() {
        for err in [
            AppError::BadRequest("x".into()),
            AppError::Unauthorized("y".into()),
            AppError::Throttled(3),
            AppError::Internal,
            AppError::AccessTokenExpired,
            AppError::SessionRevoked,
            AppError::Forbidden("z".into()),
            AppError::SudoRequired,
            AppError::NotFound,
            AppError::Unavailable("w".into()),
        ] {
            assert_eq!(AppError::de(err.ser()), err);
        }
    }

    #[test]
    fn a_throttled_answer_reads_like_every_other_error() {
        let body: serde_json::Value =
            serde_json::from_slice(&AppError::Throttled(900).ser()).unwrap();
        assert_eq!(body["error"], "throttled");
        assert_eq!(
            body["message"],
            "Too many attempts. Try again in 900 seconds."
        );
        assert_eq!(body["retry_after"], 900);
        let body: serde_json::Value = serde_json::from_slice(
            &AppError::BadRequest("Enter a valid e-mail address.".into()).ser(),
        )
        .unwrap();
        assert_eq!(body["error"], "bad_request");
        assert_eq!(body["message"], "Enter a valid e-mail address.");
    }

    #[test]
    fn a_long_multibyte_message_is_cut_on_a_character_boundary() {
        // The defect: 199 ASCII bytes, then a 3-byte character across byte 200.
        let message = format!("unknown field `{}€€`", "x".repeat(184));
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args(message));
        assert_eq!(err.status(), 400);
        for prefix in 0..8 {
            let message = format!("{}{}", "a".repeat(prefix), "€".repeat(300));
            let cut = first_line(&message);
            assert_eq!(cut.chars().count(), 200);
        }
    }

    /// The server's headers and the browser's reading of them are one contract: a
    /// session problem survives the trip, and nothing else reads as one.
    #[test]
    fn the_session_problem_goes_out_and_comes_back_the_same() {
        for (error, problem) in [
            (AppError::AccessTokenExpired, SessionProblem::Expired),
            (AppError::SessionRevoked, SessionProblem::Revoked),
        ] {
            let contract = error.contract();
            assert_eq!((contract.status, contract.session), (401, Some(problem)));
            let header = problem.www_authenticate();
            assert_eq!(
                SessionProblem::of_response(401, Some(&header)),
                Some(problem)
            );
            assert_eq!(SessionProblem::of_response(403, Some(&header)), None);
        }
        assert_eq!(
            SessionProblem::Expired.www_authenticate(),
            r#"Bearer error="invalid_token", error_description="expired""#
        );
        let wrong = AppError::Unauthorized("Wrong password".into()).contract();
        assert_eq!((wrong.status, wrong.session), (401, None));
        assert_eq!(AppError::Throttled(7).contract().retry_after, Some(7));
        assert_eq!(
            AppError::Unavailable(String::new()).contract().retry_after,
            Some(UNAVAILABLE_RETRY_AFTER_SECS)
        );
    }
}
