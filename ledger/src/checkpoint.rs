//! C2SP tlog-checkpoint notes signed per C2SP signed-note with the log's ed25519 key.
//!
//! Note framing, key ids and signature lines come from the `signed_note` crate and the
//! checkpoint body from `tlog_tiles`; this module supplies the keys. Verification uses
//! `verify_strict`, the same rule as for entries (docs/FORMAT.md).

use crate::tree::Hash;
use base64::prelude::*;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use signed_note::{key_id, Note, NoteError, Signer, Verifier, VerifierList};

/// Algorithm byte of ed25519 keys in signed-note key encodings.
const ALG_ED25519: u8 = 0x01;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("log key: {0}")]
    Key(&'static str),
    #[error("checkpoint is not a well-formed signed note")]
    MalformedNote,
    #[error("checkpoint is not signed by the log key {0}")]
    NotSigned(String),
    #[error("checkpoint signature by the log key is invalid")]
    BadSignature,
    #[error("checkpoint body is malformed (C2SP tlog-checkpoint: origin, size, base64 root hash)")]
    MalformedBody,
    #[error("checkpoint origin {found:?} is not this log's origin {expected:?}")]
    WrongOrigin { expected: String, found: String },
}

/// A verified tree head.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

fn encoded_public_key(key: &VerifyingKey) -> Vec<u8> {
    let mut out = vec![ALG_ED25519];
    out.extend_from_slice(key.as_bytes());
    out
}

fn valid_name(name: &str) -> bool {
    signed_note::is_key_name_valid(name)
}

/// The log's private key; it signs checkpoints and the log's own clock entries
/// (`crate::clock`). The two cannot be confused: an entry's signed message starts with
/// the entry domain prefix and a JSON object, which is no checkpoint note.
#[derive(Clone)]
pub struct LogSigner {
    origin: String,
    id: u32,
    key: SigningKey,
}

impl LogSigner {
    /// A signer for `origin` (the checkpoint's first line and the key name).
    pub fn new(origin: &str, key: SigningKey) -> Result<Self, CheckpointError> {
        if !valid_name(origin) {
            return Err(CheckpointError::Key(
                "origin must be non-empty, without spaces or '+'",
            ));
        }
        let id = key_id(origin, &encoded_public_key(&key.verifying_key()));
        Ok(LogSigner {
            origin: origin.to_owned(),
            id,
            key,
        })
    }

    /// Parses the signed-note private key encoding `PRIVATE+KEY+<name>+<id>+<base64>`.
    pub fn from_skey(skey: &str) -> Result<Self, CheckpointError> {
        let parts: Vec<&str> = skey.trim().splitn(5, '+').collect();
        let [priv1, priv2, name, id_hex, key64] = parts[..] else {
            return Err(CheckpointError::Key("not a signed-note private key"));
        };
        if priv1 != "PRIVATE" || priv2 != "KEY" {
            return Err(CheckpointError::Key("not a signed-note private key"));
        }
        let raw = BASE64_STANDARD
            .decode(key64)
            .map_err(|_| CheckpointError::Key("key is not base64"))?;
        let seed: [u8; 32] = match raw.split_first() {
            Some((&ALG_ED25519, seed)) => seed
                .try_into()
                .map_err(|_| CheckpointError::Key("ed25519 seed must be 32 bytes"))?,
            _ => return Err(CheckpointError::Key("only ed25519 keys are supported")),
        };
        let signer = LogSigner::new(name, SigningKey::from_bytes(&seed))?;
        if format!("{:08x}", signer.id) != id_hex {
            return Err(CheckpointError::Key("key id does not match the key"));
        }
        Ok(signer)
    }

    pub fn to_skey(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.origin,
            self.id,
            BASE64_STANDARD.encode(raw)
        )
    }

    /// The verifier key `<name>+<id>+<base64>` that clients pin.
    pub fn vkey(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.origin,
            self.id,
            BASE64_STANDARD.encode(encoded_public_key(&self.key.verifying_key()))
        )
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's public key, the author of its clock entries.
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The key that signs the log's clock entries (`crate::clock::reading`).
    pub(crate) fn entry_key(&self) -> &SigningKey {
        &self.key
    }

    /// The signed checkpoint note for a tree of `size` leaves with `root`.
    pub fn sign(&self, size: u64, root: Hash) -> String {
        let body = tlog_tiles::Checkpoint::new(&self.origin, size, root, "")
            .expect("origin was validated when the signer was made");
        let mut note =
            Note::new(&body.to_bytes(), &[]).expect("checkpoint bodies are valid note text");
        note.add_sigs(&[self])
            .expect("ed25519 signing does not fail");
        String::from_utf8(note.to_bytes()).expect("notes are UTF-8")
    }
}

impl Signer for LogSigner {
    fn name(&self) -> &str {
        &self.origin
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// Checks checkpoints against a pinned verifier key.
#[derive(Clone, Debug)]
pub struct LogVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
    vkey: String,
}

impl LogVerifier {
    /// Parses a verifier key `<name>+<id>+<base64(0x01 || public key)>`.
    pub fn new(vkey: &str) -> Result<Self, CheckpointError> {
        let vkey = vkey.trim();
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        let [name, id_hex, key64] = parts[..] else {
            return Err(CheckpointError::Key(
                "verifier key must be <name>+<id>+<base64 key>",
            ));
        };
        let raw = BASE64_STANDARD
            .decode(key64)
            .map_err(|_| CheckpointError::Key("verifier key is not base64"))?;
        let key_bytes: [u8; 32] = match raw.split_first() {
            Some((&ALG_ED25519, k)) => k
                .try_into()
                .map_err(|_| CheckpointError::Key("ed25519 public key must be 32 bytes"))?,
            _ => {
                return Err(CheckpointError::Key(
                    "only ed25519 verifier keys are supported",
                ))
            }
        };
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| CheckpointError::Key("not a valid ed25519 public key"))?;
        let id = key_id(name, &raw);
        if !valid_name(name) || format!("{id:08x}") != id_hex {
            return Err(CheckpointError::Key("verifier key name or id is invalid"));
        }
        Ok(LogVerifier {
            name: name.to_owned(),
            id,
            key,
            vkey: vkey.to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.name
    }

    /// The log's public key: checkpoints and the log's clock entries are signed by it.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies the note's signature by this key and parses the checkpoint body.
    pub fn verify(&self, note: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let parsed = Note::from_bytes(note).map_err(|_| CheckpointError::MalformedNote)?;
        parsed
            .verify(&VerifierList::new(vec![Box::new(self.clone())]))
            .map_err(|e| match e {
                NoteError::UnverifiedNote => CheckpointError::NotSigned(self.vkey.clone()),
                NoteError::InvalidSignature { .. } => CheckpointError::BadSignature,
                _ => CheckpointError::MalformedNote,
            })?;
        let body = tlog_tiles::Checkpoint::from_bytes(parsed.text())
            .map_err(|_| CheckpointError::MalformedBody)?;
        if body.origin() != self.name {
            return Err(CheckpointError::WrongOrigin {
                expected: self.name.clone(),
                found: body.origin().to_owned(),
            });
        }
        Ok(Checkpoint {
            origin: body.origin().to_owned(),
            size: body.size(),
            root: *body.hash(),
        })
    }
}

impl Verifier for LogVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(msg, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LogSigner {
        LogSigner::new("example.org/log", SigningKey::from_bytes(&[9u8; 32])).unwrap()
    }

    #[test]
    fn signs_and_verifies_and_round_trips_keys() {
        let s = signer();
        let again = LogSigner::from_skey(&s.to_skey()).unwrap();
        assert_eq!(again.vkey(), s.vkey());
        let v = LogVerifier::new(&s.vkey()).unwrap();
        let note = s.sign(5, Hash([3; 32]));
        assert!(note.starts_with("example.org/log\n5\n"));
        let cp = v.verify(note.as_bytes()).unwrap();
        assert_eq!((cp.size, cp.root), (5, Hash([3; 32])));
    }

    #[test]
    fn refuses_tampered_and_foreign_checkpoints() {
        let s = signer();
        let v = LogVerifier::new(&s.vkey()).unwrap();
        let note = s.sign(5, Hash([3; 32]));
        let tampered = note.replacen("\n5\n", "\n6\n", 1);
        assert!(matches!(
            v.verify(tampered.as_bytes()),
            Err(CheckpointError::BadSignature)
        ));
        let other = LogSigner::new("example.org/log", SigningKey::from_bytes(&[1u8; 32])).unwrap();
        assert!(matches!(
            v.verify(other.sign(5, Hash([3; 32])).as_bytes()),
            Err(CheckpointError::NotSigned(_))
        ));
    }
}
