//! The relying party of OpenID Connect: the providers of `OIDC_PROVIDERS_FILE`, their
//! discovery, the redirect to them and every check of their answer (with the
//! `openidconnect` crate). What comes out is an identity the provider vouched for
//! ([`ProviderIdentity`]); what it may do is the domain's (`auth::identities`).
//! Server-only (`ssr`).
//!
//! The checks, in the order the answer meets them (docs/OIDC.md):
//! `state` names a redirect this browser began and nobody used (the API and the
//! domain); the `iss` parameter (RFC 9207) is this provider's, and must be there when
//! its discovery says it sends it; the code is exchanged with the PKCE verifier (S256);
//! the ID token's signature (asymmetric algorithms only, keys refetched once when a
//! token names an unknown `kid`), issuer, audience, `azp`, expiry and nonce.

pub mod config;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClient, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    JsonWebKeySet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadata, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

pub use self::config::ProviderConfig;
use crate::auth::error::AuthError;
use crate::auth::identities::{Flow, FlowPurpose, NewFlow, ProviderIdentity, ProviderPolicy};
use crate::secret::Secret;

/// The one metadata field Gatehouse reads beyond the core ones: whether the provider
/// sends `iss` with its answer (RFC 9207), in which case an answer without it is
/// refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IssParameter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for IssParameter {}

type Metadata = ProviderMetadata<
    IssParameter,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// ID-token signatures accepted: asymmetric only. A provider may also offer HS256
/// (keyed with the client secret), which would make the secret a signing key.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// How long a call to a provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// The least time between two fetches of one provider's keys for an unknown `kid`.
const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The least time between two discoveries a sign-in makes itself.
const INLINE_DISCOVERY_INTERVAL: Duration = Duration::from_secs(5);
/// Discovery retries: the first wait, doubled up to the last.
const DISCOVERY_RETRY: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(300));

/// A provider as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Its id, in its URLs.
    pub id: String,
    /// Its name, on its button.
    pub name: String,
}

/// A redirect to a provider, ready to go: where to send the browser, and what the
/// answer will be checked against (for the domain to keep).
#[derive(Debug)]
pub struct Redirect {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// What the domain keeps until the answer.
    pub flow: NewFlow,
}

struct Provider {
    config: ProviderConfig,
    redirect_uri: RedirectUrl,
    metadata: RwLock<Option<Metadata>>,
    last_key_fetch: std::sync::Mutex<Option<Instant>>,
    /// When a sign-in last tried discovery itself (the provider was not discovered yet).
    last_inline_discovery: std::sync::Mutex<Option<Instant>>,
}

/// Every configured provider and the HTTP client that talks to them.
pub struct Providers {
    providers: Vec<Provider>,
    http: reqwest::Client,
    /// The origins a form may lead to for them (the page's `form-action`): each issuer's,
    /// and each authorization endpoint's once discovered.
    form_action: RwLock<String>,
    /// Codes sent to a token endpoint since start (tests check that a refused answer
    /// sent its code nowhere).
    code_exchanges: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.providers.iter().map(|p| &p.config.id))
            .finish()
    }
}

/// Why the providers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `PUBLIC_URL` does not make a redirect URI.
    #[error("PUBLIC_URL does not make a redirect URI: {0}")]
    RedirectUri(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for OpenID providers: {0}")]
    Http(String),
}

impl Providers {
    /// The providers of `configs`, answering at `public_url`'s
    /// `/auth/oidc/<id>/callback`. Nothing is fetched yet: see [`Providers::discover_all`].
    pub fn new(configs: Vec<ProviderConfig>, public_url: &str) -> Result<Self, SetupError> {
        let base = public_url.trim_end_matches('/');
        let providers = configs
            .into_iter()
            .map(|config| {
                let uri = format!("{base}{}", crate::paths::oidc_callback(&config.id));
                Ok(Provider {
                    redirect_uri: RedirectUrl::new(uri)
                        .map_err(|err| SetupError::RedirectUri(err.to_string()))?,
                    config,
                    metadata: RwLock::new(None),
                    last_key_fetch: std::sync::Mutex::new(None),
                    last_inline_discovery: std::sync::Mutex::new(None),
                })
            })
            .collect::<Result<_, SetupError>>()?;
        let providers = Self {
            providers,
            http: http_client()?,
            form_action: RwLock::default(),
            code_exchanges: Default::default(),
        };
        providers.update_form_action();
        Ok(providers)
    }

    /// The origins, besides the page's own, that a form may lead to: the providers'
    /// (for the page's `Content-Security-Policy`, whose `form-action` browsers also
    /// check against the redirect a form's answer makes).
    pub fn form_action_sources(&self) -> String {
        self.form_action
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn update_form_action(&self) {
        let mut origins: Vec<String> = Vec::new();
        for provider in &self.providers {
            let endpoint = provider
                .metadata()
                .map(|m| m.authorization_endpoint().url().clone());
            let urls = [url::Url::parse(&provider.config.issuer).ok(), endpoint];
            for url in urls.into_iter().flatten() {
                let origin = url.origin().ascii_serialization();
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        *self.form_action.write().unwrap_or_else(|e| e.into_inner()) = origins.join(" ");
    }

    /// How many codes were sent to a provider's token endpoint since start.
    pub fn code_exchanges(&self) -> u64 {
        self.code_exchanges
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The configured providers, in file order.
    pub fn list(&self) -> Vec<ProviderInfo> {
        self.providers
            .iter()
            .map(|p| ProviderInfo {
                id: p.config.id.clone(),
                name: p.config.name.clone(),
            })
            .collect()
    }

    /// Each provider's redirect URI, to print at start-up (it is registered there).
    pub fn redirect_uris(&self) -> Vec<(String, String)> {
        self.providers
            .iter()
            .map(|p| (p.config.id.clone(), p.redirect_uri.to_string()))
            .collect()
    }

    /// A provider's name by its id; the id itself for one no longer configured.
    pub fn name_of(&self, id: &str) -> String {
        self.find(id)
            .map_or_else(|| id.to_owned(), |p| p.config.name.clone())
    }

    /// How far the provider `id` is trusted.
    pub fn policy(&self, id: &str) -> ProviderPolicy {
        ProviderPolicy {
            trust_email: self.find(id).is_some_and(|p| p.config.trust_email),
        }
    }

    fn find(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.config.id == id)
    }

    /// Discovers every provider not yet discovered, retrying each that does not answer
    /// (logged, never fatal) with a growing wait, until all have answered. Run it in
    /// the background at start-up.
    pub async fn discover_all(self: Arc<Self>) {
        let mut wait = DISCOVERY_RETRY.0;
        loop {
            let mut missing = 0;
            for provider in &self.providers {
                if provider.metadata().is_none()
                    && let Err(err) = self.discover(provider).await
                {
                    missing += 1;
                    tracing::warn!(provider = %provider.config.id, error = %err, retry_in = ?wait, "an OpenID provider did not answer discovery");
                }
            }
            if missing == 0 {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(DISCOVERY_RETRY.1);
        }
    }

    async fn discover(&self, provider: &Provider) -> Result<(), String> {
        let issuer = IssuerUrl::new(provider.config.issuer.clone()).map_err(|e| e.to_string())?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| error_chain(&e))?;
        tracing::info!(provider = %provider.config.id, "OpenID provider discovered");
        *provider.metadata.write().unwrap_or_else(|e| e.into_inner()) = Some(metadata);
        self.update_form_action();
        Ok(())
    }

    /// The provider's metadata, discovering it now if the background task has not yet
    /// (at most once per [`INLINE_DISCOVERY_INTERVAL`] per provider: sign-ins of
    /// strangers must not make a request to a silent provider each).
    async fn metadata_of(&self, provider: &Provider) -> Result<Metadata, AuthError> {
        if let Some(metadata) = provider.metadata() {
            return Ok(metadata);
        }
        if !once_per(&provider.last_inline_discovery, INLINE_DISCOVERY_INTERVAL) {
            return Err(AuthError::ProviderUnavailable);
        }
        if let Err(err) = self.discover(provider).await {
            tracing::warn!(provider = %provider.config.id, error = %err, "an OpenID provider did not answer discovery");
        }
        provider.metadata().ok_or(AuthError::ProviderUnavailable)
    }

    /// The redirect that starts a sign-in (or a link, or a re-authentication) at the
    /// provider `id`: authorization code flow with PKCE (S256), a fresh `state` and
    /// nonce, response mode `query`. A link and a re-authentication ask the provider to
    /// sign the person in again (`prompt=login`, `max_age=0`): whoever is signed in at
    /// the provider in this browser (someone else, on a shared computer) must not be
    /// what gets linked or what proves it is them.
    pub async fn redirect(
        &self,
        id: &str,
        purpose: FlowPurpose,
        next: String,
    ) -> Result<Redirect, AuthError> {
        let provider = self.find(id).ok_or(AuthError::ProviderUnavailable)?;
        let client = client_for(provider, self.metadata_of(provider).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            // The default for the code flow, said aloud: a form post would come back
            // cross-site, without the `SameSite=Lax` web-session cookie.
            .add_extra_param("response_mode", "query");
        for scope in &provider.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if purpose != FlowPurpose::SignIn {
            request = request
                .add_prompt(CoreAuthPrompt::Login)
                .set_max_age(Duration::ZERO);
        }
        let (url, state, nonce) = request.url();
        Ok(Redirect {
            url: url.to_string(),
            flow: NewFlow {
                provider_id: id.to_owned(),
                purpose,
                state: Secret::from(state.secret().clone()),
                nonce: Secret::from(nonce.secret().clone()),
                pkce_verifier: Secret::from(verifier.secret().clone()),
                next,
            },
        })
    }

    /// Checks the provider's answer to `flow` (already taken by its `state`): the `iss`
    /// parameter, the code exchange with the PKCE verifier, and the ID token.
    pub async fn finish(
        &self,
        flow: &Flow,
        code: &str,
        iss: Option<&str>,
    ) -> Result<ProviderIdentity, AuthError> {
        let provider = self
            .find(&flow.provider_id)
            .ok_or(AuthError::ProviderUnavailable)?;
        let metadata = self.metadata_of(provider).await?;
        let sends_iss = metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported
            == Some(true);
        match iss {
            Some(iss) if iss != metadata.issuer().as_str() => {
                tracing::info!(provider = %provider.config.id, "an answer named another issuer (mix-up)");
                return Err(AuthError::ProviderFailed);
            }
            None if sends_iss => {
                tracing::info!(provider = %provider.config.id, "an answer without the iss its provider sends");
                return Err(AuthError::ProviderFailed);
            }
            _ => {}
        }
        self.code_exchanges
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // One client for the exchange and the checks, made again only if the keys are.
        let mut client = client_for(provider, metadata.clone());
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| AuthError::ProviderUnavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(
                flow.pkce_verifier.expose().to_owned(),
            ))
            .request_async(&self.http)
            .await;
        let tokens = match exchange {
            Ok(tokens) => tokens,
            Err(RequestTokenError::ServerResponse(refusal)) => {
                tracing::info!(provider = %provider.config.id, error = %refusal.error(), "the provider refused the code");
                return Err(AuthError::ProviderFailed);
            }
            Err(err) => {
                tracing::warn!(provider = %provider.config.id, error = %error_chain(&err), "the code exchange failed");
                return Err(AuthError::ProviderUnavailable);
            }
        };
        let id_token = tokens.id_token().ok_or_else(|| {
            tracing::info!(provider = %provider.config.id, "the token answer had no ID token");
            AuthError::ProviderFailed
        })?;
        let nonce = Nonce::new(flow.nonce.expose().to_owned());
        let claims = loop {
            let refused = {
                let verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
                match id_token.claims(&verifier, &nonce) {
                    Ok(claims) => break claims.clone(),
                    Err(err) => err,
                }
            };
            match refused {
                openidconnect::ClaimsVerificationError::SignatureVerification(
                    openidconnect::SignatureVerificationError::NoMatchingKey,
                ) if provider.may_refetch_keys() => {
                    let refreshed = self.refetch_keys(provider, metadata.clone()).await?;
                    client = client_for(provider, refreshed);
                }
                err => {
                    tracing::info!(provider = %provider.config.id, error = %err, "an ID token was refused");
                    return Err(AuthError::ProviderFailed);
                }
            }
        };
        // The access token is the provider's, unused here; its hash is checked anyway
        // where the token names it, so a swapped one is noticed.
        if let Some(expected) = claims.access_token_hash() {
            let verifier = client.id_token_verifier();
            let actual = id_token
                .signing_alg()
                .ok()
                .zip(id_token.signing_key(&verifier).ok())
                .and_then(|(alg, key)| {
                    openidconnect::AccessTokenHash::from_token(tokens.access_token(), alg, key).ok()
                });
            if actual.as_ref() != Some(expected) {
                tracing::info!(provider = %provider.config.id, "an ID token's at_hash did not match");
                return Err(AuthError::ProviderFailed);
            }
        }
        let email = claims
            .email()
            .and_then(|email| crate::auth::email::normalize(email.as_str()).ok());
        Ok(ProviderIdentity {
            provider_id: provider.config.id.clone(),
            provider_name: provider.config.name.clone(),
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email,
            email_verified: claims.email_verified() == Some(true),
            auth_time: claims.auth_time().map(|at| at.naive_utc()),
        })
    }

    /// Fetches the provider's keys again (a token named a `kid` it did not have).
    async fn refetch_keys(
        &self,
        provider: &Provider,
        mut metadata: Metadata,
    ) -> Result<Metadata, AuthError> {
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|err| {
                tracing::warn!(provider = %provider.config.id, error = %error_chain(&err), "the provider's keys could not be fetched");
                AuthError::ProviderUnavailable
            })?;
        tracing::info!(provider = %provider.config.id, "the provider's keys were fetched again (unknown kid)");
        metadata = metadata.set_jwks(jwks);
        *provider.metadata.write().unwrap_or_else(|e| e.into_inner()) = Some(metadata.clone());
        Ok(metadata)
    }
}

impl Provider {
    fn metadata(&self) -> Option<Metadata> {
        self.metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// True (and remembered) when the keys were not fetched in the last
    /// [`KEY_REFETCH_INTERVAL`].
    fn may_refetch_keys(&self) -> bool {
        once_per(&self.last_key_fetch, KEY_REFETCH_INTERVAL)
    }
}

/// The client of one provider, its token endpoint maybe set (discovery may omit it),
/// its user-info endpoint unused.
type ProviderClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// True (and remembered) when `last` is longer than `interval` ago, or never.
fn once_per(last: &std::sync::Mutex<Option<Instant>>, interval: Duration) -> bool {
    let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
    let allowed = last.is_none_or(|at| at.elapsed() >= interval);
    if allowed {
        *last = Some(Instant::now());
    }
    allowed
}

fn client_for(provider: &Provider, metadata: Metadata) -> ProviderClient {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.config.client_id.clone()),
        Some(ClientSecret::new(
            provider.config.client_secret.expose().to_owned(),
        )),
    )
    .set_redirect_uri(provider.redirect_uri.clone())
}

/// The HTTP client for providers: rustls with the aws-lc-rs provider and the WebPKI
/// roots, a timeout, and no redirects followed (a provider's endpoints are where its
/// discovery says; following redirects would let a response point the server anywhere).
fn http_client() -> Result<reqwest::Client, SetupError> {
    // reqwest is built without a crypto provider of its own: every client of the
    // process (this one is configured below) uses aws-lc-rs, like the rest.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Http(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .connect_timeout(PROVIDER_TIMEOUT / 2)
        .build()
        .map_err(|e| SetupError::Http(e.to_string()))
}

/// An error with its causes, for the log.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
