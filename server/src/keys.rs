//! Which keys sign and verify access tokens, from the configuration.

use app::auth::keys::{KeySet, SigningKey, verifying_key_from_pem};

use crate::config::{Config, Mode};
use crate::error::StartupError;

/// File name of the development key inside the data directory.
pub const DEV_KEY_FILE: &str = "jwt-signing-key.pem";

/// Loads the signing key (from `JWT_SIGNING_KEY`, `JWT_SIGNING_KEY_FILE`, or, in
/// development only, a key generated once in the data directory) and the retired keys.
pub fn load(config: &Config) -> Result<KeySet, StartupError> {
    let signing = if let Some(pem) = &config.jwt_signing_key {
        SigningKey::from_pem(pem.expose(), "JWT_SIGNING_KEY")?
    } else if let Some(path) = &config.jwt_signing_key_file {
        let text = read(path)?;
        SigningKey::from_pem(&text, &path.display().to_string())?
    } else if config.mode == Mode::Development {
        let path = config.data_dir.join(DEV_KEY_FILE);
        let (key, generated) = SigningKey::load_or_generate(&path)?;
        if generated {
            tracing::info!(path = %path.display(), "generated a development signing key");
        }
        key
    } else {
        return Err(StartupError::MissingSigningKey);
    };
    // A retired key given as a private key also opens the authenticator secrets it
    // sealed; a public key only verifies its tokens.
    let mut previous = Vec::new();
    let mut retired = Vec::new();
    for path in &config.jwt_previous_key_files {
        let text = read(path)?;
        let name = path.display().to_string();
        match SigningKey::from_pem(&text, &name) {
            Ok(key) => retired.push(key),
            Err(_) => previous.push(verifying_key_from_pem(&text, &name)?),
        }
    }
    Ok(KeySet::new(signing, previous).with_retired(retired))
}

fn read(path: &std::path::Path) -> Result<String, StartupError> {
    std::fs::read_to_string(path).map_err(|source| StartupError::KeyFile {
        path: path.to_owned(),
        source,
    })
}
