//! Private contact data as it travels beside an entry (DESIGN.md §6): the data, the
//! salt, and the commitment `SHA-256(salt || JCS(contact))` the entry carries instead.
//! Pure, so the browser computes and checks commitments with the code the server uses.
//! Nothing here formats the data itself into an error.

use crate::entry::canonical_json;
use crate::fault::{Fault, FaultCode};
use crate::hex32;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Contact details; at least one field is required.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// What a submitter sends beside the entry: the data and the salt of its commitment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// 32 random bytes, 64 lowercase hex digits.
    pub salt: String,
    pub contact: Contact,
}

/// Longest contact field, in characters.
pub const MAX_CONTACT_CHARS: usize = 200;

/// Private data that does not fit its entry. The messages never repeat the data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContactError {
    #[error("private.{message}")]
    Invalid { message: String, fault: Fault },
    #[error("private: the data does not match the entry's contact commitment")]
    CommitmentMismatch,
    #[error("private: the entry has no contact commitment, so it takes no private data")]
    NoCommitment,
    #[error("private: the entry's contact commitment needs the private data beside it")]
    Missing,
}

impl ContactError {
    fn invalid(field: &str, code: FaultCode, reason: &str) -> Self {
        ContactError::Invalid {
            message: format!("{field}: {reason}"),
            fault: Fault::new(code).at(field),
        }
    }

    /// What an interface can explain in its own words: the form of the data.
    pub fn fault(&self) -> Option<Fault> {
        match self {
            ContactError::Invalid { fault, .. } => Some(fault.clone()),
            _ => None,
        }
    }
}

/// `SHA-256(salt || JCS(contact))`, lowercase hex.
pub fn commitment(salt: &[u8], contact: &Contact) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(canonical_json(contact));
    hex::encode(h.finalize())
}

impl Sidecar {
    /// Checks the form of the data and that it opens `commitment`.
    pub fn check(&self, commitment_hex: Option<&str>) -> Result<(), ContactError> {
        let commitment_hex = commitment_hex.ok_or(ContactError::NoCommitment)?;
        let salt = hex32::decode(&self.salt).ok_or_else(|| {
            ContactError::invalid(
                "salt",
                FaultCode::Invalid,
                "must be 64 lowercase hex digits",
            )
        })?;
        let c = &self.contact;
        let fields = [
            ("name", &c.name),
            ("phone", &c.phone),
            ("email", &c.email),
            ("address", &c.address),
        ];
        if fields.iter().all(|(_, v)| v.is_none()) {
            return Err(ContactError::invalid(
                "contact",
                FaultCode::Required,
                "give at least one of name, phone, email, address",
            ));
        }
        for (field, value) in fields {
            if let Some((code, reason)) = value
                .as_deref()
                .and_then(|v| crate::body::text_fault(v, MAX_CONTACT_CHARS))
            {
                let fault = Fault::new(code).at(format!("contact.{field}"));
                return Err(ContactError::Invalid {
                    message: format!("contact.{field}: {reason}"),
                    fault: if code == FaultCode::TooLong {
                        fault.limit(MAX_CONTACT_CHARS)
                    } else {
                        fault
                    },
                });
            }
        }
        if let Some(phone) = &c.phone {
            if !phone
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +-()".contains(ch))
            {
                return Err(ContactError::invalid(
                    "contact.phone",
                    FaultCode::Phone,
                    "only digits, spaces and + - ( )",
                ));
            }
        }
        if let Some(email) = &c.email {
            if !email.contains('@') || email.contains(char::is_whitespace) {
                return Err(ContactError::invalid(
                    "contact.email",
                    FaultCode::Email,
                    "not an e-mail address",
                ));
            }
        }
        if commitment(&salt.0, c) != commitment_hex {
            return Err(ContactError::CommitmentMismatch);
        }
        Ok(())
    }
}
