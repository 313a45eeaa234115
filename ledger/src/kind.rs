//! The registry of entry kinds (DESIGN.md §5). Each kind's body schema is in `body`.

use crate::fault::{Fault, FaultCode};
use std::fmt;
use std::str::FromStr;

/// Every kind of entry the log accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    OrgRegister,
    OrgVerify,
    /// A member changes the organisation's delivery point or description.
    OrgUpdate,
    NeedPost,
    NeedUpdate,
    OfferPost,
    Pledge,
    /// The receiving side accepts a pledge (which opens the need's contact to its donor).
    PledgeAccept,
    Shipment,
    DeliveryConfirm,
    Verdict,
    RoleGrant,
    RoleRevoke,
    Redaction,
    /// The log's own clock: a time the log vouches for, signed by the log's key.
    LogClock,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::OrgRegister,
        Kind::OrgVerify,
        Kind::OrgUpdate,
        Kind::NeedPost,
        Kind::NeedUpdate,
        Kind::OfferPost,
        Kind::Pledge,
        Kind::PledgeAccept,
        Kind::Shipment,
        Kind::DeliveryConfirm,
        Kind::Verdict,
        Kind::RoleGrant,
        Kind::RoleRevoke,
        Kind::Redaction,
        Kind::LogClock,
    ];

    /// The name used in the entry's `kind` field.
    pub fn name(self) -> &'static str {
        match self {
            Kind::OrgRegister => "org.register",
            Kind::OrgVerify => "org.verify",
            Kind::OrgUpdate => "org.update",
            Kind::NeedPost => "need.post",
            Kind::NeedUpdate => "need.update",
            Kind::OfferPost => "offer.post",
            Kind::Pledge => "pledge",
            Kind::PledgeAccept => "pledge.accept",
            Kind::Shipment => "shipment",
            Kind::DeliveryConfirm => "delivery.confirm",
            Kind::Verdict => "verdict",
            Kind::RoleGrant => "role.grant",
            Kind::RoleRevoke => "role.revoke",
            Kind::Redaction => "redaction",
            Kind::LogClock => "log.clock",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// In JSON a kind is its name (`need.post`).
impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown kind {0:?}")]
pub struct UnknownKind(pub String);

/// A body that does not fit its kind's schema, naming the offending field by its path
/// inside the body (`items[0].quantity`; `body` for the body as a whole).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}: {reason}", if field == "body" { "body".to_owned() } else { format!("body.{field}") })]
pub struct BodyError {
    pub field: String,
    /// In English, for logs and the CLI.
    pub reason: String,
    /// The same, for an interface to put in its own words.
    pub code: FaultCode,
    pub limit: Option<u64>,
}

impl BodyError {
    pub(crate) fn limit(mut self, limit: impl TryInto<u64>) -> Self {
        self.limit = limit.try_into().ok();
        self
    }

    pub fn fault(&self) -> Fault {
        Fault {
            code: self.code,
            field: Some(self.field.clone()),
            limit: self.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.name().parse::<Kind>(), Ok(k));
        }
        assert_eq!(
            "need.delete".parse::<Kind>(),
            Err(UnknownKind("need.delete".into()))
        );
    }
}
