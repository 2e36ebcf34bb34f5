//! Sign-up, sign-in, refresh rotation with theft detection, and sign-out: the life of
//! a device session. ARCHITECTURE: "Refresh rotation and the grace-window answer",
//! "Revocation".

use std::sync::Arc;

use super::client_info::ClientInfo;
use super::core::Core;
use super::email;
use super::error::AuthError;
use super::guard::Settles;
use super::notices::MailKind;
use super::password::{self, Verification};
use super::refresh_token::RefreshToken;
use super::second_factor::PendingSignIn;
use super::session::{Account, RevokeReason, SignInMethod, SignedIn, VerifiedLogin};
use super::throttle::Outcome;
use super::transactions::{
    Holder, create_account, credential_unchanged, new_account, queue_limited, queue_verification,
    revoke_device_session, rotate, start_device_session,
};
use crate::secret::Secret;
use crate::store::{accounts, device_sessions};

/// The result of a sign-up.
#[derive(Debug)]
pub enum Registered {
    /// The account exists and this device is signed in.
    SignedIn(Box<SignedIn>),
    /// `REQUIRE_VERIFIED_EMAIL`: a link went to the address (or, if it was taken, a
    /// warning to its owner); nobody is signed in yet.
    CheckInbox,
    /// The password was right and the account has two-step sign-in: the sign-in waits
    /// for a code.
    SecondFactor(PendingSignIn),
}

impl Settles for Registered {
    fn settles(&self) -> Option<Outcome> {
        match self {
            Registered::SignedIn(_) => Some(Outcome::Succeeded),
            Registered::SecondFactor(_) | Registered::CheckInbox => None,
        }
    }
}

/// Sign-up, sign-in, refresh and sign-out.
#[derive(Debug)]
pub struct Sessions {
    core: Arc<Core>,
}

impl Sessions {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Sign-up as configured: without `REQUIRE_VERIFIED_EMAIL` the account is created
    /// and signed in ([`Sessions::sign_up`]); with it, the answer is
    /// [`Registered::CheckInbox`] whether or not the address is taken, and for a taken
    /// one its owner is told by mail instead. Both paths hash the password and write one
    /// transaction with one mail, so they also take the same time.
    pub async fn register(
        &self,
        raw_email: &str,
        password: Secret,
        client: ClientInfo,
    ) -> Result<Registered, AuthError> {
        if !self.core.settings().require_verified_email {
            return Ok(Registered::SignedIn(Box::new(
                self.sign_up(raw_email, password, client).await?,
            )));
        }
        let email = email::normalize(raw_email)?;
        password::check_policy(password.expose())?;
        let password_hash = self.core.passwords.hash(password).await?;
        self.core
            .transaction(client, move |conn, tx| {
                if let Some(owner) = accounts::find_by_email(conn, &email)? {
                    queue_limited(conn, tx, MailKind::AddressInUse, &email, Some(&owner.id))?;
                    return Ok(());
                }
                create_account(conn, tx, new_account(email, password_hash))?;
                Ok(())
            })
            .await?;
        self.core.mail_queued();
        Ok(Registered::CheckInbox)
    }

    /// Creates an account and signs it in on this device.
    pub async fn sign_up(
        &self,
        raw_email: &str,
        password: Secret,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let email = email::normalize(raw_email)?;
        password::check_policy(password.expose())?;
        let password_hash = self.core.passwords.hash(password).await?;
        let user = new_account(email, password_hash);
        let account = Account {
            id: user.id.clone(),
            email: user.email.clone(),
        };
        let started = self
            .core
            .transaction(client, move |conn, tx| {
                let user_id = user.id.clone();
                create_account(conn, tx, user)?;
                start_device_session(conn, tx, &user_id, SignInMethod::Password, None)
            })
            .await?;
        self.core.mail_queued();
        Ok(self.core.started(account, started))
    }

    /// Checks the password and starts a new device session.
    ///
    /// An unknown e-mail costs one full Argon2 verification and gives the same error as a
    /// wrong password, so neither timing nor text tells whether the account exists.
    pub async fn log_in(
        &self,
        raw_email: &str,
        password: Secret,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let verified = self.verify_login(raw_email, password).await?;
        self.complete_login(verified, client).await
    }

    /// The first half of [`Sessions::log_in`]: the password check, on the hashing
    /// pool. Nothing is written yet.
    pub async fn verify_login(
        &self,
        raw_email: &str,
        password: Secret,
    ) -> Result<VerifiedLogin, AuthError> {
        // A malformed address cannot have an account: same answer, same cost.
        let email = email::normalize(raw_email).unwrap_or_default();
        let user = self
            .core
            .db
            .run(move |conn| Ok(accounts::find_by_email(conn, &email)?))
            .await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let Verification::Valid { rehashed } = self.core.passwords.verify(password, stored).await?
        else {
            return Err(AuthError::InvalidCredentials);
        };
        let user = user.ok_or(AuthError::InvalidCredentials)?;
        Ok(VerifiedLogin { user, rehashed })
    }

    /// The second half of [`Sessions::log_in`]: starts the session, unless the
    /// password changed while it was being checked (then the login fails as if the
    /// password had been wrong: it was, by the time it was written down).
    pub async fn complete_login(
        &self,
        verified: VerifiedLogin,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let VerifiedLogin { user, rehashed } = verified;
        let (user_id, verified_hash) = (user.id.clone(), user.password_hash.clone());
        let email = user.email.clone();
        let must_verify =
            self.core.settings.require_verified_email && user.email_verified_at.is_none();
        let started = self
            .core
            .transaction(client, move |conn, tx| {
                if !credential_unchanged(conn, &user_id, &verified_hash, rehashed)? {
                    return Ok(Err(AuthError::InvalidCredentials));
                }
                if must_verify {
                    // The password was right, so saying so reveals nothing; a fresh
                    // link goes out (within the per-address limit).
                    queue_verification(conn, tx, &email, &user_id)?;
                    return Ok(Err(AuthError::EmailNotVerified));
                }
                start_device_session(conn, tx, &user_id, SignInMethod::Password, None).map(Ok)
            })
            .await?;
        self.core.mail_queued();
        let started = started?;
        let account = Account {
            id: user.id,
            email: user.email,
        };
        Ok(self.core.started(account, started))
    }

    /// Exchanges a refresh token for a new token pair (rotation), with the grace window
    /// and reuse rule of ARCHITECTURE: "Refresh rotation and the grace-window answer".
    pub async fn refresh(
        &self,
        token: &RefreshToken,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let token = token.clone();
        let outcome = self
            .core
            .transaction(client, move |conn, tx| {
                rotate(conn, tx, &token, Holder::Token)
            })
            .await?;
        self.core.rotated(outcome)
    }

    /// Ends a device session: found by the access token's `sid` when there is one, else
    /// by the refresh token. Ending an already-ended session is not an error.
    pub async fn log_out(
        &self,
        session_id: Option<String>,
        refresh: Option<&RefreshToken>,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let hash = refresh.map(|t| t.hash().as_str().to_owned());
        let revoked = self
            .core
            .transaction(client, move |conn, tx| {
                let session_id = match (session_id, hash) {
                    (Some(id), _) => Some(id),
                    (None, Some(hash)) => device_sessions::session_of_refresh_token(conn, &hash)?,
                    (None, None) => None,
                };
                match session_id {
                    Some(id) => revoke_device_session(conn, tx, &id, RevokeReason::Logout),
                    None => Ok(None),
                }
            })
            .await?;
        self.core.remember_revoked(revoked);
        Ok(())
    }
}
