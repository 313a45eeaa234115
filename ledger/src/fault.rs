//! Why an entry was refused, as a code an interface can put in its own language.
//!
//! The server's `error` message stays English and whole (it is what logs and the CLI
//! show). Beside it, an error answer may carry a [`Fault`]: its code, the field it is
//! about (a path inside the body, `items[1].quantity`) and the one number the sentence
//! needs (a length, a quantity), so the web app can say the same thing next to the
//! field, in the reader's language.

use serde::{Deserialize, Serialize};

/// What is wrong, in words a person filling a form understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultCode {
    /// A required value is missing or blank.
    Required,
    /// Longer than `limit` characters.
    TooLong,
    /// Control characters in text.
    ControlCharacters,
    /// Not a whole number from 1 to `limit`.
    Quantity,
    /// More than `limit` item lines, or none.
    LineCount,
    /// The same line listed twice.
    RepeatedLine,
    /// Not a date written YYYY-MM-DD.
    Date,
    /// Not an ISO 3166 region code.
    RegionCode,
    /// Not an http(s) address.
    Url,
    /// Evidence must give a source address or a photo hash.
    EvidenceMissing,
    /// A phone number holds only digits, spaces and + - ( ).
    Phone,
    /// Not an e-mail address.
    Email,
    /// Any other value the field does not accept (an unknown option, a wrong type).
    Invalid,
    /// The date has passed by the log's clock.
    DatePassed,
    /// More than the `limit` still open on that line.
    AboveRemaining,
    /// Less than the `limit` already pledged on that line.
    BelowPledged,
    /// The need is closed, expired or rejected: it takes no pledges or updates.
    NeedClosed,
    /// The organisation was rejected by a moderator.
    OrgRejected,
    /// Posting for an organisation one is not a member of needs evidence.
    EvidenceRequired,
    /// The pledge was accepted already.
    AlreadyAccepted,
    /// The organisation has `limit` open needs, the most it may have.
    TooManyOpenNeeds,
    /// The author may not write this entry.
    NotAllowed,
}

impl FaultCode {
    pub const ALL: [FaultCode; 22] = [
        FaultCode::Required,
        FaultCode::TooLong,
        FaultCode::ControlCharacters,
        FaultCode::Quantity,
        FaultCode::LineCount,
        FaultCode::RepeatedLine,
        FaultCode::Date,
        FaultCode::RegionCode,
        FaultCode::Url,
        FaultCode::EvidenceMissing,
        FaultCode::Phone,
        FaultCode::Email,
        FaultCode::Invalid,
        FaultCode::DatePassed,
        FaultCode::AboveRemaining,
        FaultCode::BelowPledged,
        FaultCode::NeedClosed,
        FaultCode::OrgRejected,
        FaultCode::EvidenceRequired,
        FaultCode::AlreadyAccepted,
        FaultCode::TooManyOpenNeeds,
        FaultCode::NotAllowed,
    ];
}

/// A refusal an interface can explain: the code, the field and the number it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub code: FaultCode,
    /// The field inside the entry's body (`items[1].quantity`), or `body` for the
    /// body as a whole, or inside the private data beside it (`contact.phone`);
    /// absent when the refusal is about the entry, not a field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl Fault {
    pub fn new(code: FaultCode) -> Self {
        Fault {
            code,
            field: None,
            limit: None,
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn limit(mut self, limit: impl TryInto<u64>) -> Self {
        self.limit = limit.try_into().ok();
        self
    }
}
