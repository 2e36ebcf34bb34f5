//! The error every server function returns, on both sides of the wire.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, coarse enough to show to a user and to pick an HTTP status.
///
/// The server serialises it as JSON; the server's status layer reads it back to set the
/// response status (see `server/src/server_fn_status.rs`), and the browser deserialises
/// it to show the message inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: the input is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: wrong credentials, or not signed in; the message says which to the user.
    #[error("{0}")]
    Unauthorized(String),
    /// 401: the access token has expired; the client should refresh and retry.
    #[error("Your session needs refreshing.")]
    SessionExpired,
    /// 401: this device was signed out (from another device, or after suspected theft).
    #[error("This device was signed out.")]
    SessionRevoked,
    /// 403: the request came from another site, or the thing is not yours.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing (among yours).
    #[error("Not found.")]
    NotFound,
    /// 429: too many attempts; try again after this many seconds.
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(u64),
    /// 503: the database is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a fault on our side; details are in the server log, not here.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) | Self::SessionExpired | Self::SessionRevoked => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::Throttled(_) => 429,
            Self::Unavailable(_) => 503,
            Self::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Framework errors: undecodable input is the client's fault (400); the rest are ours.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => {
                Self::BadRequest(format!(
                    "The request could not be read: {}",
                    first_line(&message)
                ))
            }
            ServerFnErrorErr::MissingArg(name) => {
                Self::BadRequest(format!("The field {name} is missing."))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => Self::Unavailable(
                "Cannot reach the server. Check your connection and try again.".into(),
            ),
            _ => Self::Internal,
        }
    }
}

fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or_default();
    &line[..line
        .len()
        .min(200)
        .min(line.char_indices().nth(200).map_or(line.len(), |(i, _)| i))]
}

#[cfg(feature = "ssr")]
impl From<crate::auth::error::AuthError> for AppError {
    fn from(err: crate::auth::error::AuthError) -> Self {
        use crate::auth::error::AuthError as E;
        match &err {
            E::InvalidEmail | E::PasswordPolicy(_) | E::EmailTaken | E::WrongPassword => {
                Self::BadRequest(err.to_string())
            }
            E::InvalidCredentials
            | E::NotSignedIn
            | E::SessionRevoked
            | E::SessionEnded
            | E::TokenReuse => Self::Unauthorized(err.to_string()),
            E::NotFound => Self::NotFound,
            E::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::Unavailable(err.to_string())
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
            AppError::Throttled(3),
            AppError::Internal,
            AppError::SessionExpired,
        ] {
            assert_eq!(AppError::de(err.ser()), err);
        }
    }
}
