//! The workflow's JSON answers (docs/API.md) that pages show, with only the fields they
//! use. The log's answers are the `contract` crate's, the same types the server
//! answers with; these views move there next (ARCHITECTURE.md).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemLine {
    pub line: u32,
    pub item: String,
    pub category: String,
    pub unit: String,
    #[serde(default)]
    pub spec: Option<String>,
    pub requested: i64,
    pub pledged: i64,
    pub shipped: i64,
    pub delivered: i64,
    pub remaining: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
    pub verification: String,
}

/// A need or an offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub index: i64,
    pub kind: String,
    pub author: String,
    #[serde(default)]
    pub org: Option<OrgRef>,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    pub area: Area,
    #[serde(default)]
    pub description: Option<String>,
    pub status: String,
    pub verification: String,
    #[serde(default)]
    pub relayed: bool,
    #[serde(default)]
    pub evidence_url: Option<String>,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub stale_flags: i64,
    pub created_at: String,
    pub items: Vec<ItemLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub index: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub org_type: String,
    pub area: Area,
    #[serde(default)]
    pub description: Option<String>,
    pub verification: String,
    pub verified_by: i64,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub snippet: String,
    pub status: String,
    #[serde(default)]
    pub urgency: Option<String>,
    pub verification: String,
    #[serde(default)]
    pub area_name: Option<String>,
    #[serde(default)]
    pub deadline: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub facets: std::collections::BTreeMap<String, Vec<FacetCount>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub id: String,
    pub index: i64,
    pub kind: String,
    pub title: String,
    pub area: Area,
    pub created_at: String,
    #[serde(default)]
    pub verifies: i64,
}

/// `GET /api/v1/private/{entry}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub entry: String,
    pub contact: ledger::contact::Contact,
}
