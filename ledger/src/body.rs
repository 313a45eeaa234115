//! The body of each kind: its schema, parsed from JSON with every error naming the
//! field (`items[0].quantity: ...`). docs/FORMAT.md §5 documents the same schemas.
//!
//! Only the form is checked here; whether the author may write the entry (roles,
//! ownership, remaining quantities) depends on the log so far and is decided by the
//! workflow rules when the entry is sequenced.

use crate::fault::FaultCode;
use crate::kind::{BodyError, Kind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest quantity of one item line.
pub const MAX_QUANTITY: u64 = 10_000_000;
/// Most item lines in one need, offer, pledge, shipment or confirmation.
pub const MAX_LINES: usize = 50;

/// Supply categories (DESIGN.md §5 taxonomy).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// N95, KN95, FFP2/FFP3 and equivalent respirators.
    Respirator,
    SurgicalMask,
    GownCoverall,
    Gloves,
    Goggles,
    FaceShield,
    Disinfectant,
    Thermometer,
    Ventilator,
    Oxygen,
    Medicine,
    Food,
    /// Anything else; the item name says what.
    Other,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Respirator,
        Category::SurgicalMask,
        Category::GownCoverall,
        Category::Gloves,
        Category::Goggles,
        Category::FaceShield,
        Category::Disinfectant,
        Category::Thermometer,
        Category::Ventilator,
        Category::Oxygen,
        Category::Medicine,
        Category::Food,
        Category::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Respirator => "respirator",
            Category::SurgicalMask => "surgical_mask",
            Category::GownCoverall => "gown_coverall",
            Category::Gloves => "gloves",
            Category::Goggles => "goggles",
            Category::FaceShield => "face_shield",
            Category::Disinfectant => "disinfectant",
            Category::Thermometer => "thermometer",
            Category::Ventilator => "ventilator",
            Category::Oxygen => "oxygen",
            Category::Medicine => "medicine",
            Category::Food => "food",
            Category::Other => "other",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Piece,
    Pair,
    Box,
    Carton,
    Bottle,
    Litre,
    Kilogram,
    Unit,
    Set,
    Dose,
    Cylinder,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Critical,
    High,
    Medium,
    Low,
}

impl Urgency {
    pub fn name(self) -> &'static str {
        match self {
            Urgency::Critical => "critical",
            Urgency::High => "high",
            Urgency::Medium => "medium",
            Urgency::Low => "low",
        }
    }

    /// Sort rank: most urgent first.
    pub fn rank(self) -> u8 {
        self as u8
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrgType {
    Hospital,
    Clinic,
    Shelter,
    Charity,
    Carrier,
    Company,
}

impl OrgType {
    pub fn name(self) -> &'static str {
        match self {
            OrgType::Hospital => "hospital",
            OrgType::Clinic => "clinic",
            OrgType::Shelter => "shelter",
            OrgType::Charity => "charity",
            OrgType::Carrier => "carrier",
            OrgType::Company => "company",
        }
    }
}

/// A delivery or service area: an ISO 3166-2 style region code and a display name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub code: String,
    pub name: String,
}

/// One requested or offered item.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub item: String,
    pub category: Category,
    pub quantity: u64,
    pub unit: Unit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// A quantity against one line of a referenced need (by position in its `items`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    pub line: u32,
    pub quantity: u64,
}

/// Where a volunteer found a need they relay.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_sha256: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrgRegister {
    pub name: String,
    #[serde(rename = "type")]
    pub org_type: OrgType,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where goods are received: public, a place, never a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_point: Option<String>,
    /// Commitment to the private contact data (docs/FORMAT.md §9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// `true` when a volunteer registers the organisation on its behalf (relaying its
    /// needs, e.g. from a sheet): the author does not become a member. Absent otherwise;
    /// `false` is not written, so the entry has one encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayed: Option<bool>,
}

/// What a member may change of its organisation: the logistics, not the identity
/// (name, type and area) that moderators verified.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrgUpdate {
    pub org: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_point: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrgVerdict {
    Verified,
    Rejected,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrgVerify {
    pub org: String,
    pub verdict: OrgVerdict,
    pub reason: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NeedPost {
    pub org: String,
    pub items: Vec<Item>,
    pub urgency: Urgency,
    pub needed_by: String,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Where this need's goods are received, when not at its organisation's point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_point: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Met,
    Withdrawn,
    Expired,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NeedUpdate {
    pub need: String,
    /// New requested quantities for some lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<LineQuantity>,
    /// Closes the need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<CloseReason>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OfferPost {
    pub items: Vec<Item>,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pledge {
    pub need: String,
    pub items: Vec<LineQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PledgeAccept {
    pub pledge: String,
    /// A word to the donor (public, like the rest of the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    pub pledge: String,
    pub carrier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
    pub items: Vec<LineQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Good,
    Damaged,
    Partial,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfirm {
    pub shipment: String,
    pub items: Vec<LineQuantity>,
    pub condition: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// SHA-256 of a photo of the goods as received, stored off the log
    /// (`POST /api/v1/photos`). Absent from confirmations written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_sha256: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Verify,
    Reject,
    FlagDuplicate,
    FlagStale,
}

impl VerdictKind {
    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::Verify => "verify",
            VerdictKind::Reject => "reject",
            VerdictKind::FlagDuplicate => "flag_duplicate",
            VerdictKind::FlagStale => "flag_stale",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub entry: String,
    pub verdict: VerdictKind,
    pub reason: String,
    /// For `flag_duplicate`: the entry this one duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Moderator,
    /// Member of one organisation (`org` names it).
    Member,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// The public key (64 hex digits) the role is granted to or revoked from.
    pub key: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RedactionReason {
    Request,
    Retention,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// The entry whose private data was erased.
    pub entry: String,
    pub reason: RedactionReason,
    /// For `retention`: the rule applied, e.g. "365 days after the need closed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// A reading of the log's clock (`log.clock`): the time the log admits what follows
/// at, until the next reading. Only the log's key writes it (docs/FORMAT.md §5).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogClock {
    /// UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`, like `created_at`.
    pub time: String,
}

/// A parsed, form-checked body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    OrgRegister(OrgRegister),
    OrgUpdate(OrgUpdate),
    OrgVerify(OrgVerify),
    NeedPost(NeedPost),
    NeedUpdate(NeedUpdate),
    OfferPost(OfferPost),
    Pledge(Pledge),
    PledgeAccept(PledgeAccept),
    Shipment(Shipment),
    DeliveryConfirm(DeliveryConfirm),
    Verdict(Verdict),
    RoleGrant(RoleChange),
    RoleRevoke(RoleChange),
    Redaction(Redaction),
    LogClock(LogClock),
}

fn parse<T: DeserializeOwned>(body: &Value) -> Result<T, BodyError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        // serde names a missing field in its message only; a quantity that does not
        // fit a u64 (1.5, -1, "ten") is one that is not a whole number in range.
        let code = if reason.starts_with("missing field") {
            FaultCode::Required
        } else if field.ends_with("quantity") {
            return err(&field, FaultCode::Quantity, &reason).limit(MAX_QUANTITY);
        } else {
            FaultCode::Invalid
        };
        err(&field, code, &reason)
    })
}

impl Body {
    /// Parses and checks `body` as the body of `kind`.
    pub fn parse(kind: Kind, body: &Value) -> Result<Body, BodyError> {
        // serde would also read a struct from an array of its fields in order.
        if !body.is_object() {
            return Err(err("body", FaultCode::Invalid, "must be a JSON object"));
        }
        let parsed = match kind {
            Kind::OrgRegister => Body::OrgRegister(parse(body)?),
            Kind::OrgUpdate => Body::OrgUpdate(parse(body)?),
            Kind::OrgVerify => Body::OrgVerify(parse(body)?),
            Kind::NeedPost => Body::NeedPost(parse(body)?),
            Kind::NeedUpdate => Body::NeedUpdate(parse(body)?),
            Kind::OfferPost => Body::OfferPost(parse(body)?),
            Kind::Pledge => Body::Pledge(parse(body)?),
            Kind::PledgeAccept => Body::PledgeAccept(parse(body)?),
            Kind::Shipment => Body::Shipment(parse(body)?),
            Kind::DeliveryConfirm => Body::DeliveryConfirm(parse(body)?),
            Kind::Verdict => Body::Verdict(parse(body)?),
            Kind::RoleGrant => Body::RoleGrant(parse(body)?),
            Kind::RoleRevoke => Body::RoleRevoke(parse(body)?),
            Kind::Redaction => Body::Redaction(parse(body)?),
            Kind::LogClock => Body::LogClock(parse(body)?),
        };
        parsed.check()?;
        Ok(parsed)
    }

    fn check(&self) -> Result<(), BodyError> {
        match self {
            Body::OrgRegister(b) => {
                text("name", &b.name, 200)?;
                area("area", &b.area)?;
                opt_text("description", &b.description, 2000)?;
                opt_text("delivery_point", &b.delivery_point, 500)?;
                if b.relayed == Some(false) {
                    return Err(err(
                        "relayed",
                        FaultCode::Invalid,
                        "is true or left out (an organisation's own registration leaves it out)",
                    ));
                }
                opt_hash("contact", &b.contact)
            }
            Body::OrgUpdate(b) => {
                hash("org", &b.org)?;
                if b.delivery_point.is_none() && b.description.is_none() {
                    return Err(err(
                        "body",
                        FaultCode::Required,
                        "an update sets `delivery_point`, `description` or both",
                    ));
                }
                opt_text("delivery_point", &b.delivery_point, 500)?;
                opt_text("description", &b.description, 2000)
            }
            Body::OrgVerify(b) => {
                hash("org", &b.org)?;
                text("reason", &b.reason, 500)
            }
            Body::NeedPost(b) => {
                hash("org", &b.org)?;
                items("items", &b.items)?;
                date("needed_by", &b.needed_by)?;
                area("area", &b.area)?;
                opt_text("description", &b.description, 2000)?;
                if let Some(e) = &b.evidence {
                    evidence("evidence", e)?;
                }
                opt_text("delivery_point", &b.delivery_point, 500)?;
                opt_hash("contact", &b.contact)
            }
            Body::NeedUpdate(b) => {
                hash("need", &b.need)?;
                if b.items.is_empty() && b.close.is_none() {
                    return Err(err(
                        "body",
                        FaultCode::Required,
                        "an update changes `items` or sets `close`",
                    ));
                }
                if !b.items.is_empty() {
                    lines("items", &b.items)?;
                }
                Ok(())
            }
            Body::OfferPost(b) => {
                items("items", &b.items)?;
                area("area", &b.area)?;
                if let Some(d) = &b.available_until {
                    date("available_until", d)?;
                }
                opt_text("description", &b.description, 2000)?;
                opt_hash("contact", &b.contact)
            }
            Body::Pledge(b) => {
                hash("need", &b.need)?;
                lines("items", &b.items)?;
                opt_hash("offer", &b.offer)?;
                opt_hash("contact", &b.contact)
            }
            Body::PledgeAccept(b) => {
                hash("pledge", &b.pledge)?;
                opt_text("note", &b.note, 500)
            }
            Body::Shipment(b) => {
                hash("pledge", &b.pledge)?;
                text("carrier", &b.carrier, 100)?;
                opt_text("tracking", &b.tracking, 100)?;
                lines("items", &b.items)?;
                opt_hash("contact", &b.contact)
            }
            Body::DeliveryConfirm(b) => {
                hash("shipment", &b.shipment)?;
                lines("items", &b.items)?;
                opt_text("note", &b.note, 2000)?;
                opt_hash("photo_sha256", &b.photo_sha256)
            }
            Body::Verdict(b) => {
                hash("entry", &b.entry)?;
                text("reason", &b.reason, 500)?;
                match (b.verdict, &b.original) {
                    (VerdictKind::FlagDuplicate, None) => Err(err(
                        "original",
                        FaultCode::Required,
                        "required when the verdict is flag_duplicate",
                    )),
                    (VerdictKind::FlagDuplicate, Some(o)) => hash("original", o),
                    (_, Some(_)) => Err(err(
                        "original",
                        FaultCode::Invalid,
                        "only allowed with flag_duplicate",
                    )),
                    (_, None) => Ok(()),
                }
            }
            Body::RoleGrant(b) | Body::RoleRevoke(b) => {
                hash("key", &b.key)?;
                match (b.role, &b.org) {
                    (Role::Member, None) => Err(err(
                        "org",
                        FaultCode::Required,
                        "required for the member role",
                    )),
                    (Role::Member, Some(o)) => hash("org", o),
                    (_, Some(_)) => Err(err(
                        "org",
                        FaultCode::Invalid,
                        "only allowed with the member role",
                    )),
                    (_, None) => Ok(()),
                }
            }
            Body::Redaction(b) => {
                hash("entry", &b.entry)?;
                opt_text("rule", &b.rule, 200)
            }
            Body::LogClock(b) => crate::entry::parse_timestamp(&b.time)
                .map(|_| ())
                .map_err(|_| {
                    err(
                        "time",
                        FaultCode::Invalid,
                        "must be UTC with whole seconds, as YYYY-MM-DDTHH:MM:SSZ",
                    )
                }),
        }
    }

    /// The commitment to private contact data this body carries, if any.
    pub fn contact_commitment(&self) -> Option<&str> {
        match self {
            Body::OrgRegister(b) => b.contact.as_deref(),
            Body::NeedPost(b) => b.contact.as_deref(),
            Body::OfferPost(b) => b.contact.as_deref(),
            Body::Pledge(b) => b.contact.as_deref(),
            Body::Shipment(b) => b.contact.as_deref(),
            _ => None,
        }
    }
}

fn err(field: &str, code: FaultCode, reason: &str) -> BodyError {
    BodyError {
        field: field.to_owned(),
        reason: reason.to_owned(),
        code,
        limit: None,
    }
}

fn text(field: &str, value: &str, max_chars: usize) -> Result<(), BodyError> {
    text_fault(value, max_chars).map_or(Ok(()), |(code, reason)| {
        let e = err(field, code, &reason);
        Err(if code == FaultCode::TooLong {
            e.limit(max_chars)
        } else {
            e
        })
    })
}

/// What is wrong with free text of at most `max_chars` characters, if anything: the
/// one rule for every text an author or a contact supplies (newlines allowed, other
/// control characters not, since they hide text from readers and break exports).
pub(crate) fn text_fault(value: &str, max_chars: usize) -> Option<(FaultCode, String)> {
    if value.trim().is_empty() {
        return Some((FaultCode::Required, "must not be empty".into()));
    }
    if value.chars().count() > max_chars {
        return Some((
            FaultCode::TooLong,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Some((
            FaultCode::ControlCharacters,
            "must not contain control characters".into(),
        ));
    }
    None
}

fn opt_text(field: &str, value: &Option<String>, max_chars: usize) -> Result<(), BodyError> {
    value
        .as_deref()
        .map_or(Ok(()), |v| text(field, v, max_chars))
}

/// A reference to an entry (its leaf hash) or a public key: 64 lowercase hex digits.
fn hash(field: &str, value: &str) -> Result<(), BodyError> {
    crate::hex32::decode(value)
        .map(|_| ())
        .ok_or_else(|| err(field, FaultCode::Invalid, "must be 64 lowercase hex digits"))
}

fn opt_hash(field: &str, value: &Option<String>) -> Result<(), BodyError> {
    value.as_deref().map_or(Ok(()), |v| hash(field, v))
}

/// A calendar date, `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, format)
        .ok()
        .filter(|d| d.format(format).ok().as_deref() == Some(value))
}

fn date(field: &str, value: &str) -> Result<(), BodyError> {
    parse_date(value)
        .map(|_| ())
        .ok_or_else(|| err(field, FaultCode::Date, "must be a date written YYYY-MM-DD"))
}

fn area(field: &str, a: &Area) -> Result<(), BodyError> {
    let code_ok = {
        let (country, region) = a.code.split_once('-').unwrap_or((&a.code, ""));
        country.len() == 2
            && country.bytes().all(|b| b.is_ascii_uppercase())
            && region.len() <= 3
            && region
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (region.is_empty() != a.code.contains('-'))
    };
    if !code_ok {
        return Err(err(
            &format!("{field}.code"),
            FaultCode::RegionCode,
            "must be an ISO 3166 region code such as CN or CN-HB",
        ));
    }
    text(&format!("{field}.name"), &a.name, 100)
}

fn quantity(field: &str, q: u64) -> Result<(), BodyError> {
    if q == 0 || q > MAX_QUANTITY {
        return Err(err(
            field,
            FaultCode::Quantity,
            &format!("must be a whole number from 1 to {MAX_QUANTITY}"),
        )
        .limit(MAX_QUANTITY));
    }
    Ok(())
}

fn items(field: &str, items: &[Item]) -> Result<(), BodyError> {
    if items.is_empty() || items.len() > MAX_LINES {
        return Err(err(
            field,
            FaultCode::LineCount,
            &format!("must list 1 to {MAX_LINES} items"),
        )
        .limit(MAX_LINES));
    }
    for (i, item) in items.iter().enumerate() {
        text(&format!("{field}[{i}].item"), &item.item, 200)?;
        quantity(&format!("{field}[{i}].quantity"), item.quantity)?;
        opt_text(&format!("{field}[{i}].spec"), &item.spec, 100)?;
    }
    Ok(())
}

fn lines(field: &str, lines: &[LineQuantity]) -> Result<(), BodyError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(err(
            field,
            FaultCode::LineCount,
            &format!("must list 1 to {MAX_LINES} lines"),
        )
        .limit(MAX_LINES));
    }
    for (i, l) in lines.iter().enumerate() {
        quantity(&format!("{field}[{i}].quantity"), l.quantity)?;
        if lines[..i].iter().any(|earlier| earlier.line == l.line) {
            return Err(err(
                &format!("{field}[{i}].line"),
                FaultCode::RepeatedLine,
                "names a line already listed",
            ));
        }
    }
    Ok(())
}

fn evidence(field: &str, e: &Evidence) -> Result<(), BodyError> {
    if e.url.is_none() && e.photo_sha256.is_none() {
        return Err(err(
            field,
            FaultCode::EvidenceMissing,
            "must give a source url, a photo_sha256, or both",
        ));
    }
    if let Some(url) = &e.url {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 500
            && !url.chars().any(char::is_whitespace);
        if !ok {
            return Err(err(
                &format!("{field}.url"),
                FaultCode::Url,
                "must be an http(s) URL of at most 500 characters",
            ));
        }
    }
    opt_hash(&format!("{field}.photo_sha256"), &e.photo_sha256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn need() -> Value {
        json!({
            "org": "a".repeat(64),
            "items": [{"item": "N95口罩", "category": "respirator", "quantity": 1000, "unit": "piece", "spec": "GB 19083-2010"}],
            "urgency": "critical",
            "needed_by": "2026-12-01",
            "area": {"code": "CN-HB", "name": "湖北"},
        })
    }

    fn field_of(kind: Kind, body: Value) -> String {
        Body::parse(kind, &body).unwrap_err().field
    }

    #[test]
    fn a_relayed_registration_says_true_or_nothing() {
        let org = json!({"name": "协和医院", "type": "hospital", "area": {"code": "CN-HB", "name": "武汉"}});
        assert!(Body::parse(Kind::OrgRegister, &org).is_ok());
        let mut relayed = org.clone();
        relayed["relayed"] = json!(true);
        assert!(matches!(
            Body::parse(Kind::OrgRegister, &relayed),
            Ok(Body::OrgRegister(OrgRegister {
                relayed: Some(true),
                ..
            }))
        ));
        relayed["relayed"] = json!(false);
        assert_eq!(field_of(Kind::OrgRegister, relayed), "relayed");
    }

    #[test]
    fn errors_carry_a_code_and_the_number_they_name() {
        use crate::fault::Fault;
        let fault = |kind, body| Body::parse(kind, &body).unwrap_err().fault();
        let cases = [
            (
                "items[0].quantity",
                json!(0),
                FaultCode::Quantity,
                Some(MAX_QUANTITY),
            ),
            (
                "items[0].quantity",
                json!(-3),
                FaultCode::Quantity,
                Some(MAX_QUANTITY),
            ),
            ("items[0].item", json!(" "), FaultCode::Required, None),
            (
                "description",
                json!("x".repeat(2001)),
                FaultCode::TooLong,
                Some(2000),
            ),
            (
                "description",
                json!("a\u{7}b"),
                FaultCode::ControlCharacters,
                None,
            ),
            ("needed_by", json!("2026-02-30"), FaultCode::Date, None),
            ("area.code", json!("Hubei"), FaultCode::RegionCode, None),
            (
                "items[0].category",
                json!("masks"),
                FaultCode::Invalid,
                None,
            ),
        ];
        for (field, value, code, limit) in cases {
            let mut b = need();
            let (head, tail) = field.split_once('.').unwrap_or((field, ""));
            match (head, tail) {
                ("items[0]", leaf) => b["items"][0][leaf] = value,
                (top, "") => b[top] = value,
                (top, leaf) => b[top][leaf] = value,
            }
            let mut expected = Fault::new(code).at(field);
            expected.limit = limit;
            assert_eq!(fault(Kind::NeedPost, b), expected, "{field}");
        }
    }

    #[test]
    fn a_delivery_may_carry_a_photo_hash_and_older_ones_parse_unchanged() {
        let older = json!({"shipment": "a".repeat(64), "items": [{"line": 0, "quantity": 1}], "condition": "good"});
        let Ok(Body::DeliveryConfirm(b)) = Body::parse(Kind::DeliveryConfirm, &older) else {
            panic!("a confirmation without a photo parses");
        };
        assert_eq!(b.photo_sha256, None);
        assert_eq!(serde_json::to_value(&b).unwrap(), older);
        let mut with_photo = older.clone();
        with_photo["photo_sha256"] = json!("b".repeat(64));
        assert!(Body::parse(Kind::DeliveryConfirm, &with_photo).is_ok());
        for bad in ["B".repeat(64), "b".repeat(63), String::new()] {
            with_photo["photo_sha256"] = json!(bad);
            assert_eq!(
                field_of(Kind::DeliveryConfirm, with_photo.clone()),
                "photo_sha256"
            );
        }
    }

    #[test]
    fn a_valid_need_parses() {
        assert!(matches!(
            Body::parse(Kind::NeedPost, &need()),
            Ok(Body::NeedPost(_))
        ));
    }

    #[test]
    fn errors_name_the_field() {
        let mut b = need();
        b["items"][0]["quantity"] = json!(0);
        assert_eq!(field_of(Kind::NeedPost, b), "items[0].quantity");
        let mut b = need();
        b["items"][0]["category"] = json!("masks");
        assert_eq!(field_of(Kind::NeedPost, b), "items[0].category");
        let mut b = need();
        b["items"][0]["quantity"] = json!(1.5);
        assert_eq!(field_of(Kind::NeedPost, b), "items[0].quantity");
        let mut b = need();
        b["needed_by"] = json!("2026-13-01");
        assert_eq!(field_of(Kind::NeedPost, b), "needed_by");
        let mut b = need();
        b["area"]["code"] = json!("hubei");
        assert_eq!(field_of(Kind::NeedPost, b), "area.code");
        let mut b = need();
        b["evidence"] = json!({});
        assert_eq!(field_of(Kind::NeedPost, b), "evidence");
        let mut b = need();
        b["delivery_point"] = json!(" ");
        assert_eq!(field_of(Kind::NeedPost, b), "delivery_point");
        assert_eq!(
            field_of(
                Kind::PledgeAccept,
                json!({"pledge": "a".repeat(64), "note": ""})
            ),
            "note"
        );
        let mut b = need();
        b["colour"] = json!("red");
        assert_eq!(field_of(Kind::NeedPost, b), "colour");
        let org = "a".repeat(64);
        assert_eq!(field_of(Kind::OrgUpdate, json!({"org": org})), "body");
        assert_eq!(
            field_of(Kind::OrgUpdate, json!({"org": org, "name": "Renamed"})),
            "name"
        );
        assert_eq!(
            field_of(Kind::OrgUpdate, json!({"org": org, "delivery_point": " "})),
            "delivery_point"
        );
        let mut b = need();
        b.as_object_mut().unwrap().remove("urgency");
        assert_eq!(field_of(Kind::NeedPost, b), "body");
        assert_eq!(
            field_of(
                Kind::Verdict,
                json!({"entry": "a".repeat(64), "verdict": "flag_duplicate", "reason": "same"})
            ),
            "original"
        );
        assert_eq!(
            field_of(
                Kind::RoleGrant,
                json!({"key": "a".repeat(64), "role": "member"})
            ),
            "org"
        );
        assert_eq!(
            field_of(
                Kind::Pledge,
                json!({"need": "a".repeat(64), "items": [{"line": 0, "quantity": 1}, {"line": 0, "quantity": 2}]})
            ),
            "items[1].line"
        );
    }
}
