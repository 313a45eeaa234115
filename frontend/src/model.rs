//! The answers pages read that are not yet in the `contract` crate (search results and
//! an opened contact), with only the fields they use; every other answer is decoded
//! with the contract's types, the same the server answers with.

use serde::{Deserialize, Serialize};

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

/// `GET /api/v1/private/{entry}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub entry: String,
    pub contact: ledger::contact::Contact,
}
