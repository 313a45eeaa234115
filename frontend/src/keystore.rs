//! The author key as the browser keeps and exports it. A key file is the CLI's
//! (`{"secret", "public"}`, so `aidledger sign --key` reads an unprotected export), or,
//! protected by a passphrase, `{"public", "sealed": {...}}`: the secret sealed with
//! XChaCha20-Poly1305 under a key derived from the passphrase with Argon2id.
//! Pure: the page decides where the text is stored (local storage) or sent (a download).

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("this is not an aidledger key file")]
    NotAKeyFile,
    #[error("the key file's public key does not belong to its secret")]
    Mismatch,
    #[error("this key file is protected: enter its passphrase")]
    NeedsPassphrase,
    #[error("wrong passphrase (or a damaged key file)")]
    WrongPassphrase,
    #[error("a passphrase must have at least 8 characters")]
    WeakPassphrase,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    public: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Sealed {
    /// Always `argon2id-m19456-t2-p1/xchacha20poly1305`; named so a later format can differ.
    scheme: String,
    salt: String,
    nonce: String,
    ciphertext: String,
}

const SCHEME: &str = "argon2id-m19456-t2-p1/xchacha20poly1305";
pub const MIN_PASSPHRASE: usize = 8;

pub fn generate() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

pub fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

fn cipher(passphrase: &str, salt: &[u8]) -> XChaCha20Poly1305 {
    // OWASP's minimum Argon2id settings: under a second in WASM on a phone.
    let params = Params::new(19_456, 2, 1, Some(32)).expect("valid Argon2 parameters");
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .expect("a 16-byte salt and a 32-byte output are valid");
    XChaCha20Poly1305::new(&key.into())
}

/// The key file text for `key`, sealed when a passphrase is given.
pub fn export(key: &SigningKey, passphrase: Option<&str>) -> Result<String, KeyError> {
    let public = public_hex(key);
    let file = match passphrase {
        None => KeyFile {
            secret: Some(hex::encode(key.to_bytes())),
            public,
            sealed: None,
        },
        Some(p) if p.chars().count() < MIN_PASSPHRASE => return Err(KeyError::WeakPassphrase),
        Some(p) => {
            let mut salt = [0u8; 16];
            let mut nonce = [0u8; 24];
            OsRng.fill_bytes(&mut salt);
            OsRng.fill_bytes(&mut nonce);
            let ciphertext = cipher(p, &salt)
                .encrypt(XNonce::from_slice(&nonce), key.to_bytes().as_slice())
                .expect("encrypting 32 bytes cannot fail");
            KeyFile {
                secret: None,
                public,
                sealed: Some(Sealed {
                    scheme: SCHEME.into(),
                    salt: hex::encode(salt),
                    nonce: hex::encode(nonce),
                    ciphertext: hex::encode(ciphertext),
                }),
            }
        }
    };
    Ok(serde_json::to_string_pretty(&file).expect("a key file serialises"))
}

/// The public key a key file names, without opening it.
pub fn public_of(text: &str) -> Result<String, KeyError> {
    let file: KeyFile = serde_json::from_str(text).map_err(|_| KeyError::NotAKeyFile)?;
    Ok(file.public)
}

/// Whether opening `text` needs a passphrase.
pub fn is_sealed(text: &str) -> bool {
    serde_json::from_str::<KeyFile>(text).is_ok_and(|f| f.sealed.is_some())
}

/// Opens a key file, with its passphrase if it is sealed.
pub fn open(text: &str, passphrase: Option<&str>) -> Result<SigningKey, KeyError> {
    let file: KeyFile = serde_json::from_str(text).map_err(|_| KeyError::NotAKeyFile)?;
    let seed: Vec<u8> = match (&file.secret, &file.sealed) {
        (Some(secret), None) => hex::decode(secret).map_err(|_| KeyError::NotAKeyFile)?,
        (None, Some(sealed)) => {
            if sealed.scheme != SCHEME {
                return Err(KeyError::NotAKeyFile);
            }
            let passphrase = passphrase
                .filter(|p| !p.is_empty())
                .ok_or(KeyError::NeedsPassphrase)?;
            let decode = |h: &str| hex::decode(h).map_err(|_| KeyError::NotAKeyFile);
            let (salt, nonce) = (decode(&sealed.salt)?, decode(&sealed.nonce)?);
            if nonce.len() != 24 || salt.len() < 8 {
                return Err(KeyError::NotAKeyFile);
            }
            cipher(passphrase, &salt)
                .decrypt(
                    XNonce::from_slice(&nonce),
                    decode(&sealed.ciphertext)?.as_slice(),
                )
                .map_err(|_| KeyError::WrongPassphrase)?
        }
        _ => return Err(KeyError::NotAKeyFile),
    };
    let seed: [u8; 32] = seed.try_into().map_err(|_| KeyError::NotAKeyFile)?;
    let key = SigningKey::from_bytes(&seed);
    if public_hex(&key) != file.public {
        return Err(KeyError::Mismatch);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_export_is_the_cli_key_file() {
        let key = generate();
        let text = export(&key, None).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["public"], public_hex(&key));
        assert_eq!(v["secret"], hex::encode(key.to_bytes()));
        assert_eq!(open(&text, None).unwrap().to_bytes(), key.to_bytes());
        assert!(!is_sealed(&text));
    }

    #[test]
    fn a_sealed_export_opens_only_with_its_passphrase() {
        let key = generate();
        let text = export(&key, Some("correct horse")).unwrap();
        assert!(is_sealed(&text));
        assert!(!text.contains(&hex::encode(key.to_bytes())));
        assert_eq!(public_of(&text).unwrap(), public_hex(&key));
        assert_eq!(open(&text, None), Err(KeyError::NeedsPassphrase));
        assert_eq!(
            open(&text, Some("wrong horse")),
            Err(KeyError::WrongPassphrase)
        );
        assert_eq!(
            open(&text, Some("correct horse")).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert_eq!(export(&key, Some("short")), Err(KeyError::WeakPassphrase));
    }

    #[test]
    fn a_tampered_file_is_refused() {
        let key = generate();
        let other = generate();
        let mut v: serde_json::Value = serde_json::from_str(&export(&key, None).unwrap()).unwrap();
        v["public"] = public_hex(&other).into();
        assert_eq!(open(&v.to_string(), None), Err(KeyError::Mismatch));
        assert_eq!(open("{}", None), Err(KeyError::NotAKeyFile));
        let mut sealed: serde_json::Value =
            serde_json::from_str(&export(&key, Some("passphrase!")).unwrap()).unwrap();
        sealed["sealed"]["ciphertext"] = hex::encode([0u8; 48]).into();
        assert_eq!(
            open(&sealed.to_string(), Some("passphrase!")),
            Err(KeyError::WrongPassphrase)
        );
    }
}
