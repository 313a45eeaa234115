//! Key files: the log's checkpoint key in a data directory, and author keys.
//! Private key files are created with mode 0600 and never served.

use anyhow::{bail, Context};
use ed25519_dalek::SigningKey;
use ledger::checkpoint::LogSigner;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Name of the log key file inside a data directory.
pub const LOG_KEY_FILE: &str = "log.key";

/// Writes `contents` to a new file readable only by its owner; refuses to overwrite.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Loads the log key from `data_dir`, creating one for `origin` on first start.
pub fn load_or_create_log_key(data_dir: &Path, origin: &str) -> anyhow::Result<LogSigner> {
    let path = data_dir.join(LOG_KEY_FILE);
    if path.exists() {
        let signer = load_existing_log_key(data_dir)?;
        if signer.origin() != origin {
            bail!(
                "{} belongs to the log {:?}, not {:?}: a log keeps its origin for life",
                path.display(),
                signer.origin(),
                origin
            );
        }
        return Ok(signer);
    }
    let signer = LogSigner::new(origin, SigningKey::generate(&mut OsRng))?;
    write_private(&path, &signer.to_skey())?;
    Ok(signer)
}

/// Loads the log key of an existing data directory.
pub fn load_existing_log_key(data_dir: &Path) -> anyhow::Result<LogSigner> {
    let path = data_dir.join(LOG_KEY_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    LogSigner::from_skey(&text).with_context(|| format!("parsing {}", path.display()))
}

/// An author key file as written by `aidledger keygen`.
#[derive(Serialize, Deserialize)]
pub struct AuthorKeyFile {
    /// The 32-byte ed25519 secret seed, lowercase hex.
    pub secret: String,
    /// The public key, lowercase hex (as in an entry's `author`).
    pub public: String,
}

pub fn generate_author_key() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

pub fn author_key_file(key: &SigningKey) -> AuthorKeyFile {
    AuthorKeyFile {
        secret: hex::encode(key.to_bytes()),
        public: hex::encode(key.verifying_key().as_bytes()),
    }
}

pub fn read_author_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: AuthorKeyFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an aidledger key file", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(&file.secret, &mut seed)
        .context("the key file's secret is not 64 hex digits")?;
    let key = SigningKey::from_bytes(&seed);
    if hex::encode(key.verifying_key().as_bytes()) != file.public {
        bail!("the key file's public key does not match its secret");
    }
    Ok(key)
}
