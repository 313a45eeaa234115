//! The exports (`GET /api/v1/export/{needs|offers|orgs|chains}.{csv|json}`): one row
//! per item line (per organisation for `orgs`), each row a flat record whose fields
//! are the JSON keys and, in words, the CSV's headers, with the HXL hashtag of each
//! column (docs/API.md "Exports"). Every row names the entry it comes from by leaf
//! hash and index, so it can be checked against the log.

use crate::{OrgType, Status, Urgency, Verification};
use serde::{Deserialize, Serialize};

/// One column of an export: the row's field and its HXL hashtag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The JSON key; the CSV header is [`header`] of it.
    pub field: &'static str,
    /// The HXL hashtag with its attributes (hxlstandard.org), in the CSV's second row.
    pub hxl: &'static str,
}

/// A row of an export, with its columns in field order.
pub trait ExportRow: Serialize {
    const COLUMNS: &'static [Column];
}

/// A field's CSV header: its words, the first capitalised (`leaf_hash` → `Leaf hash`).
pub fn header(field: &str) -> String {
    let words = field.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

macro_rules! columns {
    ($($field:ident: $hxl:literal),+ $(,)?) => {
        &[$(Column { field: stringify!($field), hxl: $hxl }),+]
    };
}

/// `needs`: one row per line of each need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NeedLine {
    /// The `need.post` entry's leaf hash (the need's id).
    pub leaf_hash: String,
    /// Its index in the log.
    pub index: i64,
    /// The line's position in the need's `items`, from 0.
    pub line: u32,
    pub org_id: String,
    pub org_name: String,
    pub item: String,
    pub category: String,
    pub spec: Option<String>,
    pub unit: String,
    pub requested: i64,
    pub pledged: i64,
    pub shipped: i64,
    pub delivered: i64,
    /// Requested beyond what is pledged.
    pub remaining: i64,
    pub area_code: String,
    pub area_name: String,
    /// The first two letters of `area_code`.
    pub country: String,
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "Option<crate::openapi::Urgency>")
    )]
    pub urgency: Option<Urgency>,
    pub status: Status,
    pub verification: Verification,
    pub needed_by: Option<String>,
    /// The entry's `created_at`, as its author wrote it.
    pub created_at: String,
    pub delivery_point: Option<String>,
    pub description: Option<String>,
    pub evidence_url: Option<String>,
    /// The key that signed the entry (hex).
    pub author: String,
}

impl ExportRow for NeedLine {
    const COLUMNS: &'static [Column] = columns![
        leaf_hash: "#meta+id",
        index: "#meta+index",
        line: "#meta+line",
        org_id: "#org+id",
        org_name: "#org+name",
        item: "#item+name",
        category: "#item+type",
        spec: "#item+spec",
        unit: "#meta+unit",
        requested: "#item+num+requested",
        pledged: "#item+num+pledged",
        shipped: "#item+num+shipped",
        delivered: "#item+num+delivered",
        remaining: "#item+num+remaining",
        area_code: "#adm1+code",
        area_name: "#adm1+name",
        country: "#country+code",
        urgency: "#severity",
        status: "#status",
        verification: "#status+verification",
        needed_by: "#date+deadline",
        created_at: "#date+posted",
        delivery_point: "#loc+delivery",
        description: "#description",
        evidence_url: "#meta+url+evidence",
        author: "#meta+author",
    ];
}

/// `offers`: one row per line of each offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OfferLine {
    /// The `offer.post` entry's leaf hash (the offer's id).
    pub leaf_hash: String,
    pub index: i64,
    pub line: u32,
    pub item: String,
    pub category: String,
    pub spec: Option<String>,
    pub unit: String,
    pub offered: i64,
    pub area_code: String,
    pub area_name: String,
    pub country: String,
    pub status: Status,
    pub verification: Verification,
    pub available_until: Option<String>,
    pub created_at: String,
    pub description: Option<String>,
    pub author: String,
}

impl ExportRow for OfferLine {
    const COLUMNS: &'static [Column] = columns![
        leaf_hash: "#meta+id",
        index: "#meta+index",
        line: "#meta+line",
        item: "#item+name",
        category: "#item+type",
        spec: "#item+spec",
        unit: "#meta+unit",
        offered: "#item+num+offered",
        area_code: "#adm1+code",
        area_name: "#adm1+name",
        country: "#country+code",
        status: "#status",
        verification: "#status+verification",
        available_until: "#date+end",
        created_at: "#date+posted",
        description: "#description",
        author: "#meta+author",
    ];
}

/// `orgs`: one row per organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OrgRow {
    /// The `org.register` entry's leaf hash (the organisation's id).
    pub leaf_hash: String,
    pub index: i64,
    pub name: String,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::OrgType"))]
    pub org_type: OrgType,
    pub area_code: String,
    pub area_name: String,
    pub country: String,
    pub verification: Verification,
    /// Moderators' `verified` verdicts.
    pub verified_by: i64,
    pub created_at: String,
    pub delivery_point: Option<String>,
    pub description: Option<String>,
    pub author: String,
}

impl ExportRow for OrgRow {
    const COLUMNS: &'static [Column] = columns![
        leaf_hash: "#meta+id",
        index: "#meta+index",
        name: "#org+name",
        type: "#org+type",
        area_code: "#adm1+code",
        area_name: "#adm1+name",
        country: "#country+code",
        verification: "#status+verification",
        verified_by: "#meta+verifications+num",
        created_at: "#date+registered",
        delivery_point: "#loc+delivery",
        description: "#description",
        author: "#meta+author",
    ];
}

/// What a link of a donation's chain is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum LinkKind {
    #[serde(rename = "pledge")]
    Pledge,
    #[serde(rename = "shipment")]
    Shipment,
    #[serde(rename = "delivery.confirm")]
    Delivery,
}

/// `chains`: one row per line of each pledge, shipment and delivery confirmation of a
/// need, with the ids of the chain it continues (need → pledge → shipment →
/// delivery) and the quantity in the column of its kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChainLine {
    /// The link's entry: its leaf hash and index.
    pub leaf_hash: String,
    pub index: i64,
    pub kind: LinkKind,
    pub need_id: String,
    pub pledge_id: String,
    /// For shipments and deliveries.
    pub shipment_id: Option<String>,
    /// For deliveries (the row's own leaf hash).
    pub delivery_id: Option<String>,
    /// The need's organisation, which receives.
    pub org_id: String,
    pub org_name: String,
    /// The key that signed the link: the donor of a pledge, the sender of a shipment,
    /// the member who confirmed a delivery.
    pub author: String,
    /// The need's line the quantity is of.
    pub line: u32,
    pub item: String,
    pub category: String,
    pub unit: String,
    pub pledged: Option<i64>,
    pub shipped: Option<i64>,
    pub delivered: Option<i64>,
    /// Shipments only.
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// Deliveries only: `good`, `damaged` or `partial`.
    pub condition: Option<String>,
    /// The need's area.
    pub area_code: String,
    pub country: String,
    pub created_at: String,
}

impl ExportRow for ChainLine {
    const COLUMNS: &'static [Column] = columns![
        leaf_hash: "#meta+id",
        index: "#meta+index",
        kind: "#meta+type",
        need_id: "#meta+need",
        pledge_id: "#meta+pledge",
        shipment_id: "#meta+shipment",
        delivery_id: "#meta+delivery",
        org_id: "#org+id",
        org_name: "#org+name",
        author: "#meta+author",
        line: "#meta+line",
        item: "#item+name",
        category: "#item+type",
        unit: "#meta+unit",
        pledged: "#item+num+pledged",
        shipped: "#item+num+shipped",
        delivered: "#item+num+delivered",
        carrier: "#org+carrier",
        tracking: "#meta+tracking",
        condition: "#status+condition",
        area_code: "#adm1+code",
        country: "#country+code",
        created_at: "#date+posted",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns name the fields serde writes, in its order.
    fn check<T: ExportRow>(row: T) {
        let json = serde_json::to_string(&row).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), T::COLUMNS.len(), "{json}");
        let at: Vec<usize> = T::COLUMNS
            .iter()
            .map(|c| json.find(&format!("\"{}\":", c.field)).expect(c.field))
            .collect();
        assert!(at.is_sorted(), "{json}");
        assert!(T::COLUMNS.iter().all(|c| c.hxl.starts_with('#')));
    }

    #[test]
    fn columns_follow_the_fields() {
        let s = String::new;
        check(NeedLine {
            leaf_hash: s(),
            index: 0,
            line: 0,
            org_id: s(),
            org_name: s(),
            item: s(),
            category: s(),
            spec: None,
            unit: s(),
            requested: 0,
            pledged: 0,
            shipped: 0,
            delivered: 0,
            remaining: 0,
            area_code: s(),
            area_name: s(),
            country: s(),
            urgency: None,
            status: Status::Open,
            verification: Verification::Pending,
            needed_by: None,
            created_at: s(),
            delivery_point: None,
            description: None,
            evidence_url: None,
            author: s(),
        });
        check(OfferLine {
            leaf_hash: s(),
            index: 0,
            line: 0,
            item: s(),
            category: s(),
            spec: None,
            unit: s(),
            offered: 0,
            area_code: s(),
            area_name: s(),
            country: s(),
            status: Status::Open,
            verification: Verification::Pending,
            available_until: None,
            created_at: s(),
            description: None,
            author: s(),
        });
        check(OrgRow {
            leaf_hash: s(),
            index: 0,
            name: s(),
            org_type: OrgType::Hospital,
            area_code: s(),
            area_name: s(),
            country: s(),
            verification: Verification::Pending,
            verified_by: 0,
            created_at: s(),
            delivery_point: None,
            description: None,
            author: s(),
        });
        check(ChainLine {
            leaf_hash: s(),
            index: 0,
            kind: LinkKind::Pledge,
            need_id: s(),
            pledge_id: s(),
            shipment_id: None,
            delivery_id: None,
            org_id: s(),
            org_name: s(),
            author: s(),
            line: 0,
            item: s(),
            category: s(),
            unit: s(),
            pledged: None,
            shipped: None,
            delivered: None,
            carrier: None,
            tracking: None,
            condition: None,
            area_code: s(),
            country: s(),
            created_at: s(),
        });
    }

    #[test]
    fn headers_are_the_fields_in_words() {
        assert_eq!(header("leaf_hash"), "Leaf hash");
        assert_eq!(header("type"), "Type");
    }
}
