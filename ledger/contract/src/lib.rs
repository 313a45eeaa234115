//! The public HTTP API's contract (docs/API.md): the parameters and answers of its
//! endpoints, as the server writes them and every client reads them (the web app, in
//! the browser and while rendering on the server; the CLI; anyone else). One
//! definition per answer, so the server and its clients cannot drift apart.
//!
//! Pure data with serde: it builds for wasm32 with the web app. Field order is the
//! order of the JSON the server sends.

use serde::{Deserialize, Serialize};

/// Every refusal: the HTTP status says what kind, `error` says what, naming the field,
/// parameter or limit at fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `POST /api/v1/entries` and `POST /api/v1/submissions`: where the entry is. 201 when
/// it was appended, 200 when the log already held it (then `index` and `tree_size`
/// are those of the first time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// The entry's id: its RFC 6962 leaf hash, lowercase hex.
    pub leaf_hash: String,
    /// Its position in the log, from 0.
    pub index: u64,
    /// The size of the first checkpoint that includes it.
    pub tree_size: u64,
}

/// `GET /api/v1/log/key`: what a client needs to check checkpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogKey {
    /// The checkpoints' origin line.
    pub origin: String,
    /// The log's verifier key in the C2SP signed-note format (`name+id+base64`).
    pub vkey: String,
}

/// Where a node stores the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `GET /api/v1/node`: this node's part in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub backend: Backend,
    /// Whether this node sequences (several nodes on one database take turns).
    pub integrator: bool,
    /// The tree size this node's readers serve.
    pub tree_size: u64,
}

/// `GET /api/v1/log/entries` and `GET /api/v1/authors/{key}/entries`: a page of entries
/// in log order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntries {
    pub entries: Vec<LogEntry>,
}

/// One entry as the log holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub index: u64,
    /// The entry's exact bytes (its canonical JSON), standard base64.
    pub leaf: String,
    /// RFC 6962 leaf hash of those bytes, lowercase hex.
    pub leaf_hash: String,
}

/// The default and largest page of entries.
pub const DEFAULT_ENTRIES_LIMIT: u64 = 100;

fn default_entries_limit() -> u64 {
    DEFAULT_ENTRIES_LIMIT
}

/// Parameters of the entry lists: `?start=&limit=` (the server caps `limit`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntriesQuery {
    #[serde(default)]
    pub start: u64,
    #[serde(default = "default_entries_limit")]
    pub limit: u64,
}

/// `GET /api/v1/log/proof/inclusion?leaf_hash=&tree_size=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionQuery {
    /// Lowercase hex.
    pub leaf_hash: String,
    pub tree_size: u64,
}

/// The RFC 9162 §2.1.3 inclusion proof of an entry in the tree of `tree_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The audit path, lowercase hex.
    pub hashes: Vec<String>,
    pub leaf_index: u64,
    pub tree_size: u64,
}

/// `GET /api/v1/log/proof/consistency?first=&second=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

/// The RFC 9162 §2.1.4 consistency proof between two tree sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Lowercase hex.
    pub hashes: Vec<String>,
}
