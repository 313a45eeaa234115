//! The public HTTP API's contract (docs/API.md): the parameters and answers of its
//! endpoints, as the server writes them and every client reads them (the web app, in
//! the browser and while rendering on the server; the CLI; anyone else). One
//! definition per answer, so the server and its clients cannot drift apart.
//!
//! Pure data with serde: it builds for wasm32 with the web app. Field order is the
//! order of the JSON the server sends.

use serde::{Deserialize, Serialize};

pub mod export;
#[cfg(feature = "openapi")]
pub mod openapi;

/// Every refusal: the HTTP status says what kind, `error` says what, naming the field,
/// parameter or limit at fault. A refused entry may also carry `fault`: a code, the
/// field and the number the message names, for an interface to say in its own words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<crate::openapi::Fault>"))]
    pub fault: Option<ledger::fault::Fault>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>) -> Self {
        ErrorBody {
            error: error.into(),
            fault: None,
        }
    }
}

/// `POST /api/v1/entries` and `POST /api/v1/submissions`: where the entry is. 201 when
/// it was appended, 200 when the log already held it (then `index` and `tree_size`
/// are those of the first time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Submitted {
    /// The entry's id: its RFC 6962 leaf hash, lowercase hex.
    pub leaf_hash: String,
    /// Its position in the log, from 0.
    pub index: u64,
    /// The size of the first checkpoint that includes it.
    pub tree_size: u64,
}

/// `POST /api/v1/photos`: the photo as stored, its metadata removed. 201 when it was
/// stored, 200 when the store held it already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PhotoStored {
    /// SHA-256 of the stored bytes, lowercase hex: the `photo_sha256` an entry names,
    /// and the hash of what `GET /api/v1/photos/{sha256}` serves.
    pub sha256: String,
    /// How many bytes are stored.
    pub bytes: u64,
    /// Its media type, told by its bytes: `image/jpeg`, `image/png` or `image/webp`.
    #[serde(rename = "type")]
    pub media_type: String,
}

/// `GET /api/v1/log/key`: what a client needs to check checkpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LogKey {
    /// The checkpoints' origin line.
    pub origin: String,
    /// The log's verifier key in the C2SP signed-note format (`name+id+base64`).
    pub vkey: String,
}

/// Where a node stores the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `GET /api/v1/node`: this node's part in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LogEntries {
    pub entries: Vec<LogEntry>,
}

/// One entry as the log holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EntriesQuery {
    #[serde(default)]
    pub start: u64,
    #[serde(default = "default_entries_limit")]
    pub limit: u64,
}

/// `GET /api/v1/log/proof/inclusion?leaf_hash=&tree_size=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct InclusionQuery {
    /// Lowercase hex.
    pub leaf_hash: String,
    pub tree_size: u64,
}

/// The RFC 9162 §2.1.3 inclusion proof of an entry in the tree of `tree_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct InclusionProof {
    /// The audit path, lowercase hex.
    pub hashes: Vec<String>,
    pub leaf_index: u64,
    pub tree_size: u64,
}

/// `GET /api/v1/log/proof/consistency?first=&second=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

/// `GET /api/v1/trace/{hash}`: the chain of a need or pledge with a proof for each link
/// (defined beside `ledger::chain::verify`, which checks it).
pub use ledger::chain::{Link as TraceLink, Trace};

/// The RFC 9162 §2.1.4 consistency proof between two tree sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ConsistencyProof {
    /// Lowercase hex.
    pub hashes: Vec<String>,
}

// ---------------------------------------------------------------------------------
// The workflow's views: needs, offers, organisations, the review queue.

/// A region as entries name it: an ISO 3166-2 style code and a display name.
pub use ledger::body::Area;
/// What an organisation is.
pub use ledger::body::OrgType;
/// How urgent a need is, most urgent first.
pub use ledger::body::Urgency;

/// A post is a need or an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PostKind {
    Need,
    Offer,
}

/// Where a post stands, as read now: `expired` is an open post past its date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Met,
    Withdrawn,
    Expired,
}

/// What moderators have said, as read with the instance's quorum: an organisation
/// is verified by the quorum of moderators, a post by a verdict of its own or through
/// its organisation; a rejection hides it from the lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    Verified,
    Pending,
    Rejected,
}

/// The value of a named type (a status, a kind, an urgency...) whose name is `name`,
/// as the API writes it; `None` for a word the type does not name.
pub fn from_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name)).ok()
}

/// `name()`: the word the API writes for a value (and the key of its translations).
macro_rules! names {
    ($ty:ty { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The word the API writes.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
    };
}

names!(PostKind { Need = "need", Offer = "offer" });
names!(Status { Open = "open", Met = "met", Withdrawn = "withdrawn", Expired = "expired" });
names!(Verification { Verified = "verified", Pending = "pending", Rejected = "rejected" });

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "{T}Page"))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    /// Items in the whole list.
    pub total: i64,
}

/// One line of a post: an item and how much of it is requested (or offered),
/// pledged, shipped and delivered so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ItemLine {
    /// The line's position in the post, from 0: pledges and shipments name it.
    pub line: u32,
    pub item: String,
    pub category: String,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    pub requested: i64,
    pub pledged: i64,
    pub shipped: i64,
    pub delivered: i64,
    /// Still to be pledged.
    pub remaining: i64,
}

/// The organisation a need is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OrgRef {
    pub id: String,
    pub name: String,
    pub verification: Verification,
}

/// `GET /api/v1/needs/{id}`, `GET /api/v1/offers/{id}`, and the items of their lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Post {
    /// The post's entry id (leaf hash, hex).
    pub id: String,
    pub index: i64,
    pub kind: PostKind,
    /// The author's public key, hex.
    pub author: String,
    /// Needs: the organisation they are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "Option<crate::openapi::Urgency>")
    )]
    pub urgency: Option<Urgency>,
    /// Needs: needed by; offers: available until (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::Area"))]
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Needs: where to ship, public (the need's own, else its organisation's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_point: Option<String>,
    pub status: Status,
    pub verification: Verification,
    /// Posted by a volunteer on the organisation's behalf.
    pub relayed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_photo_sha256: Option<String>,
    /// An earlier post a moderator flagged this one a duplicate of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Moderators who flagged it stale.
    pub stale_flags: i64,
    /// RFC 3339, as its author wrote it.
    pub created_at: String,
    pub items: Vec<ItemLine>,
}

/// `GET /api/v1/orgs/{id}` and the items of `GET /api/v1/orgs`. (Its fields are in
/// the alphabetical order the server has always written them in.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Org {
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::Area"))]
    pub area: Area,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where goods for it are received, public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_point: Option<String>,
    pub id: String,
    pub index: i64,
    pub name: String,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::OrgType"))]
    pub org_type: OrgType,
    pub verification: Verification,
    /// Moderators who verified it.
    pub verified_by: i64,
}

/// One item of `GET /api/v1/review`: what awaits a moderator, with what a moderator
/// weighs it by. (Its fields are in the alphabetical order the server has always
/// written them in.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReviewItem {
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::Area"))]
    pub area: Area,
    /// The key that wrote it.
    pub author: String,
    pub created_at: String,
    /// The organisation's or the post's own description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Evidence a post carries (a relayed need must): a photo's SHA-256 and a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_photo_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    /// What the log says of the author's other entries.
    pub history: AuthorHistory,
    pub id: String,
    pub index: i64,
    /// `org.register`, `need.post` or `offer.post`.
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::Kind"))]
    pub kind: ledger::Kind,
    /// The organisation a need is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgRef>,
    /// An organisation's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "Option<crate::openapi::OrgType>")
    )]
    pub org_type: Option<OrgType>,
    /// Pledges made to the need, or to the organisation's needs: donors waiting on a
    /// verdict.
    pub pledges: i64,
    /// How soon it should be reviewed, higher first (docs/API.md says how it is made).
    pub priority: i64,
    /// Written by a volunteer relaying what someone else needs.
    pub relayed: bool,
    /// Likely duplicates: the same organisation's (an offer: the same author's) other
    /// open posts sharing a category, or organisations of the same name; oldest first.
    pub similar: Vec<SimilarEntry>,
    /// An organisation's name; a post's item names.
    pub title: String,
    /// A need's `needed_by`, an offer's `available_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "Option<crate::openapi::Urgency>")
    )]
    pub urgency: Option<Urgency>,
    /// Verify verdicts so far (organisations and needs need their quorum).
    #[serde(default)]
    pub verifies: i64,
}

/// An author's record in the log: their needs and offers, organisations registered and
/// donation links written, and how moderators judged them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AuthorHistory {
    pub posts: i64,
    pub orgs: i64,
    /// Pledges, shipments and delivery confirmations.
    pub links: i64,
    /// Of their posts and organisations, how many moderators verified and rejected.
    pub verified: i64,
    pub rejected: i64,
    /// Their first entry's index.
    pub since: i64,
}

/// A likely duplicate of a review item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SimilarEntry {
    pub id: String,
    pub index: i64,
    /// An organisation's name; a post's item names.
    pub title: String,
    pub created_at: String,
}

/// What a search result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    Need,
    Offer,
    Org,
}

names!(SearchKind { Need = "need", Offer = "offer", Org = "org" });

/// One result of `GET /api/v1/search`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SearchHit {
    /// The entry id (leaf hash, hex) of the need, offer or organisation.
    pub id: String,
    pub kind: SearchKind,
    /// Plain text: escape it when rendering.
    pub title: String,
    /// Relevance score (whatever the sort).
    pub score: f32,
    /// HTML: the best fragments of the items and description, query terms in
    /// `<b>…</b>`, everything else escaped; the start of the description when no
    /// term matched there (empty query, match on the title only).
    pub snippet: String,
    /// Read at the query's day: `open` past the deadline reads `expired`; an
    /// organisation is always `open`.
    pub status: Status,
    #[cfg_attr(
        feature = "openapi",
        schemars(with = "Option<crate::openapi::Urgency>")
    )]
    pub urgency: Option<Urgency>,
    pub verification: Verification,
    pub area_code: String,
    pub area_name: String,
    /// `YYYY-MM-DD`: a need's needed-by or an offer's available-until date.
    pub deadline: Option<String>,
    pub created_at: String,
    /// The entry's log index.
    pub index: u64,
}

/// How many matching documents have a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
    /// For `country` and `area`: the names of the region whose code is `value`, when
    /// ISO 3166 knows the code; absent otherwise and for the other facets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<PlaceNames>,
}

/// A region's names: ISO 3166's in English (`Hubei Sheng`, `Hatay`), and in Chinese a
/// curated name for China and its provinces (`湖北省`), elsewhere ISO's name again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PlaceNames {
    pub en: String,
    pub zh: String,
}

/// Counts over the documents that match the query and its filters (estimated from a
/// sample when they are many: [`SearchResults::facets_estimated`]), most frequent first; each facet is named by the search parameter it filters with
/// (`country` by `area`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Facets {
    /// A document with several items counts once per distinct category.
    pub category: Vec<FacetCount>,
    /// Country part of the area code (`CN`).
    pub country: Vec<FacetCount>,
    /// Full area code (`CN-HB`).
    pub area: Vec<FacetCount>,
    /// As read at the query's day.
    pub status: Vec<FacetCount>,
    pub urgency: Vec<FacetCount>,
    pub verification: Vec<FacetCount>,
}

impl Facets {
    /// The facet written under `name` in the JSON answer.
    pub fn get(&self, name: &str) -> Option<&[FacetCount]> {
        Some(match name {
            "category" => &self.category,
            "country" => &self.country,
            "area" => &self.area,
            "status" => &self.status,
            "urgency" => &self.urgency,
            "verification" => &self.verification,
            _ => return None,
        })
    }
}

/// `GET /api/v1/search`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Number of matching documents.
    pub total: u64,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
    pub facets: Facets,
    /// Whether the facet counts are estimated: a search matching more than a few
    /// thousand documents counts a sample of them (docs/API.md, "Facets"). `total` is
    /// always exact. Absent (false) in the answers of servers before it.
    #[serde(default)]
    pub facets_estimated: bool,
}

/// `GET /api/v1/needs/{id}/matches` (the offers that fit a need) and
/// `GET /api/v1/offers/{id}/matches` (the needs an offer could fill), best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Matches {
    pub matches: Vec<PostMatch>,
}

/// One post of the other side that fits, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PostMatch {
    pub post: Post,
    /// Where it is, seen from the post matched.
    pub region: RegionFit,
    /// The lines that fit: each open line of the need, with the offer's open line of
    /// the same category it takes from (an offer line gives each unit once).
    pub lines: Vec<MatchedLine>,
}

/// Same region code, same country, or elsewhere: the first thing a match is ranked by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegionFit {
    SameArea,
    SameCountry,
    Elsewhere,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MatchedLine {
    pub need_line: u32,
    pub offer_line: u32,
    pub category: String,
    /// Whether the two lines name the same item (one name holds the other, or they
    /// share a word of three or more letters), not only the same category.
    pub same_item: bool,
    /// What the offer could give of what the need still lacks, after the need's
    /// earlier lines took theirs.
    pub quantity: i64,
}

/// `GET /api/v1/keys/{key}/roles`: what a key may do, as the log's roles say (public:
/// every grant and revocation is in the log). The web app shows each user the forms
/// they may submit from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct KeyRoles {
    pub administrator: bool,
    pub moderator: bool,
    /// Ids of the organisations the key is a member of, oldest membership first (at
    /// most 1,000).
    pub member_of: Vec<String>,
}

/// One member of an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OrgMember {
    /// The member's public key, hex.
    pub key: String,
    /// Log index of the entry that made it a member (its registration or a grant).
    pub since: i64,
}

/// `GET /api/v1/orgs/{id}/members`, oldest first, at most 1,000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OrgMembers {
    pub members: Vec<OrgMember>,
}

/// Where a donation stands along its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Pledged, not yet accepted by the need's side.
    Pledged,
    /// Accepted: the donor may read the need's contact and ship.
    Accepted,
    /// Some or all of it shipped, nothing confirmed yet.
    Shipped,
    /// Confirmed delivered in full, in good condition.
    Delivered,
    /// Part of it confirmed delivered, or confirmed as partial.
    Partial,
    /// A delivery of it was confirmed damaged.
    Damaged,
}

names!(Stage { Pledged = "pledged", Accepted = "accepted", Shipped = "shipped", Delivered = "delivered", Partial = "partial", Damaged = "damaged" });

/// An entry waiting for the key's action: a pledge to accept or a shipment to confirm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Waiting {
    /// The waiting entry's id (a pledge or a shipment).
    pub id: String,
    pub index: i64,
    /// The need it is for, and the names of its items.
    pub need: String,
    pub items: Vec<String>,
    /// The name of the need's organisation.
    pub org: String,
    /// Who wrote the waiting entry (the donor).
    pub author: String,
    pub created_at: String,
}

/// One of the key's pledges and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Donation {
    /// The pledge's entry id.
    pub pledge: String,
    pub index: i64,
    /// The need, and the names of its items.
    pub need: String,
    pub items: Vec<String>,
    /// The name of the need's organisation.
    pub org: String,
    pub stage: Stage,
    /// Units pledged, shipped and confirmed delivered, over all its lines.
    pub pledged: i64,
    pub shipped: i64,
    pub delivered: i64,
}

/// `GET /api/v1/keys/{key}/activity`: what waits for the key (as the author of needs
/// or a member of their organisations), where its needs and its own donations stand,
/// and the verdicts it gave; at most 100 of each, oldest waiting first, newest first
/// otherwise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Activity {
    /// The key's needs and its organisations' needs, with every line's progress.
    pub needs: Vec<Post>,
    /// Pledges to the key's needs or its organisations' needs, not yet accepted.
    pub to_accept: Vec<Waiting>,
    /// Shipments to its organisations' needs with something not yet confirmed.
    pub to_confirm: Vec<Waiting>,
    pub donations: Vec<Donation>,
    pub verdicts: Vec<VerdictGiven>,
}

/// What a verdict answers.
pub use ledger::body::VerdictKind;

/// A verdict the key gave, on an organisation, a need or an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct VerdictGiven {
    /// The verdict's entry id.
    pub id: String,
    pub index: i64,
    /// The entry it is about, and what that is.
    pub entry: String,
    pub about: SearchKind,
    /// The organisation's name, or the post's item names.
    pub title: String,
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::VerdictKind"))]
    pub verdict: VerdictKind,
    pub reason: String,
}

/// `GET /api/v1/stats`: what the needs the filters select ask for, and how much of it
/// has been pledged, shipped and delivered, by category, by region and over time.
/// Quantities add up only within one unit (pieces and boxes do not sum), so every
/// group lists its amounts unit by unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Stats {
    /// Needs counted.
    pub needs: i64,
    /// All of them together.
    pub totals: Vec<Amounts>,
    /// Every category with a line in the selection, most needs first.
    pub by_category: Vec<CategoryStats>,
    /// Regions by their code, most needs first; at most [`Stats::MAX_REGIONS`].
    pub by_region: Vec<RegionStats>,
    /// Regions in the selection, of which `by_region` lists the first.
    pub regions: i64,
    /// Where things stood at the end of each day with an entry of the selection, oldest
    /// first; at most the last [`Stats::MAX_DAYS`] such days.
    pub per_day: Vec<DayStats>,
}

impl Stats {
    pub const MAX_REGIONS: usize = 100;
    pub const MAX_DAYS: usize = 366;
}

/// Quantities of one unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Amounts {
    pub unit: String,
    pub requested: i64,
    pub pledged: i64,
    pub shipped: i64,
    pub delivered: i64,
    /// Still to be pledged: over each line, what is requested beyond what is pledged.
    pub remaining: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CategoryStats {
    pub category: String,
    /// Needs with a line of this category.
    pub needs: i64,
    pub amounts: Vec<Amounts>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RegionStats {
    /// The region's code, and a name one of its needs gave it.
    #[cfg_attr(feature = "openapi", schemars(with = "crate::openapi::Area"))]
    pub area: Area,
    pub needs: i64,
    /// Of which still open.
    pub open: i64,
    pub amounts: Vec<Amounts>,
}

/// One day (UTC, by the `created_at` its entries' authors wrote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DayStats {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Entries of that day: needs posted, pledges, shipments, delivery confirmations.
    pub needs: i64,
    pub pledges: i64,
    pub shipments: i64,
    pub deliveries: i64,
    /// Running totals at the end of the day. A need counts with the quantities it
    /// requests now, from the day it was posted.
    pub amounts: Vec<Amounts>,
}
