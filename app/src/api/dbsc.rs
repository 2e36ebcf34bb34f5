//! Device-bound sessions' two endpoints (docs/DBSC.md), `POST /api/auth/dbsc/register`
//! and `POST /api/auth/dbsc/refresh`: plain routes (`server/src/dbsc_routes.rs`), since
//! the browser itself calls them with headers, not forms, and reads headers back; they
//! run in the same context as a server function, so they share its cookies, throttle
//! and errors.

#[cfg(feature = "ssr")]
pub use server::{Answer, refresh, register};

#[cfg(feature = "ssr")]
mod server {
    use crate::auth::dbsc::Renewal;
    use crate::auth::error::AuthError;
    use crate::auth::refresh_token::RefreshToken;
    use crate::error::AppError;
    use crate::secret::Secret;
    use crate::web::context::{
        ServerContext, client_info, request_parts, server_context, set_session_cookies,
    };
    use crate::web::{cookies, dbsc};

    /// What an endpoint answers when all went well.
    #[derive(Debug)]
    pub enum Answer {
        /// 200 with the session's configuration (JSON); the new access cookie is set.
        Config(serde_json::Value),
        /// 403 with `Secure-Session-Challenge`: sign this and ask again.
        Challenge {
            /// The challenge.
            challenge: Secret,
            /// The session it is for.
            session_id: String,
        },
    }

    /// `POST /api/auth/dbsc/register`: the browser's proof (in `Secure-Session-Response`)
    /// answers the challenge sent with its new session and carries the key to bind.
    pub async fn register() -> Result<Answer, AppError> {
        let ctx = server_context()?;
        let parts = request_parts()?;
        ctx.auth.dbsc.enabled()?;
        let proof = dbsc::proof(&parts.headers).ok_or(AuthError::DeviceProof)?;
        let client = client_info(&ctx, &parts);
        let signed_in = anonymous_write(&ctx, &client.ip, || {
            ctx.auth.dbsc.register(proof, client.clone())
        })
        .await?;
        set_session_cookies(&ctx, &signed_in);
        Ok(Answer::Config(dbsc::session_config(
            &ctx.cookies,
            &signed_in.session_id,
        )))
    }

    /// `POST /api/auth/dbsc/refresh`: without a proof, a challenge for the session the
    /// browser names (`Sec-Secure-Session-Id`); with one, a new access cookie, and the
    /// refresh cookie rotated. A session that is over gets a 401 (the browser then
    /// forgets it). No cookie is cleared here: the request names a session, which need
    /// not be the one its cookies belong to.
    pub async fn refresh() -> Result<Answer, AppError> {
        let ctx = server_context()?;
        let parts = request_parts()?;
        ctx.auth.dbsc.enabled()?;
        let session_id = dbsc::session_id(&parts.headers).ok_or(AuthError::DeviceProof)?;
        let client = client_info(&ctx, &parts);
        let challenge = |challenge| Answer::Challenge {
            challenge,
            session_id: session_id.to_owned(),
        };
        match dbsc::proof(&parts.headers) {
            None => {
                // Each challenge is a row: it costs one of the client's writes without
                // a session, whether or not the session is there (a browser asks once
                // per renewal).
                ctx.auth.guard.anonymous_write(&client.ip).await?;
                let issued = ctx.auth.dbsc.refresh_challenge(session_id, client).await?;
                Ok(challenge(issued))
            }
            Some(proof) => {
                let token = cookies::read(&parts.headers, ctx.cookies.refresh_name())
                    .and_then(RefreshToken::parse);
                let renewal = anonymous_write(&ctx, &client.ip, || {
                    ctx.auth
                        .dbsc
                        .refresh(session_id, proof, token.as_ref(), client.clone())
                })
                .await?;
                Ok(match renewal {
                    Renewal::Renewed(signed_in) => {
                        set_session_cookies(&ctx, &signed_in);
                        Answer::Config(dbsc::session_config(&ctx.cookies, session_id))
                    }
                    Renewal::SignAgain(again) => {
                        // A new challenge is a row: a proof replayed again and again
                        // spends the client's writes as asking does.
                        ctx.auth.guard.anonymous_write(&client.ip).await?;
                        challenge(again)
                    }
                })
            }
        }
    }

    /// Runs `work`, a write anyone may ask for, within the client's budget of anonymous
    /// writes: a client whose budget is spent waits, and a failure spends one (as a
    /// refresh with a made-up token does).
    async fn anonymous_write<T>(
        ctx: &ServerContext,
        ip: &str,
        work: impl AsyncFnOnce() -> Result<T, AuthError>,
    ) -> Result<T, AppError> {
        ctx.auth.guard.may_write(ip).await?;
        let result = work().await;
        if result.is_err()
            && let Err(err) = ctx.auth.guard.anonymous_write(ip).await
        {
            tracing::debug!(error = %err, "a failed DBSC request over the client's budget");
        }
        result.map_err(AppError::from)
    }
}
