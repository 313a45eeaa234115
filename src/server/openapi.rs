//! The API's OpenAPI 3.1 document, `GET /api/v1/openapi.json`: every route the route
//! modules answer but the web app's (`tests/openapi.rs` reads their `routes()` and
//! compares), with its parameters, bodies and answers. The schemas are the contract's
//! (`contract`, feature `openapi`) and the query types' own, so they are what serde
//! reads and writes; what has no Rust type of ours here is written out below, saying
//! why. Built once per process.

use super::workflow_api::{OrgQuery, PostQuery, ReviewQuery, SelectionQuery};
use super::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use contract::export::{ChainLine, NeedLine, OfferLine, OrgRow};
use contract::openapi::{Trace, TraceLink};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};
use std::sync::LazyLock;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(openapi_json))
}

async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// The document: paths in the order of docs/API.md, schemas by name.
fn document() -> Value {
    let mut d = Document {
        schemas: contract::openapi::generator(),
        paths: Map::new(),
    };
    d.schema::<contract::ErrorBody>();
    d.log_paths();
    d.private_paths();
    d.photo_paths();
    d.workflow_paths();
    d.feed_and_export_paths();
    d.webhook_paths();
    d.operator_paths();
    d.add(
        "get",
        "/api/v1/openapi.json",
        Operation::new("This document (OpenAPI 3.1)").answer(
            200,
            "the document",
            "application/json",
            json!({"type": "object"}),
        ),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "aidledger",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A public, tamper-evident ledger for crowdsourced disaster aid. \
                What each answer means, the signing schemes and the limits every request \
                meets: docs/API.md; the log's bytes: docs/FORMAT.md.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": d.paths,
        "components": {
            "schemas": d.schemas.take_definitions(true),
            "securitySchemes": {
                "signedRequest": {
                    "type": "http",
                    "scheme": "Aidledger",
                    "description": "`Authorization: Aidledger key=<hex public key>, ts=<unix \
                        seconds>, sig=<hex>`: the key's ed25519 signature over \
                        `aidledger/request/v1\\n` + method + `\\n` + path and query + `\\n` + \
                        ts, within 300 s of the server's clock (docs/API.md).",
                },
            },
        },
    })
}

/// The document being written.
struct Document {
    schemas: SchemaGenerator,
    paths: Map<String, Value>,
}

impl Document {
    fn add(&mut self, method: &str, path: &str, operation: Operation) {
        let item = self.paths.entry(path).or_insert_with(|| json!({}));
        item[method] = Value::Object(operation.0);
    }

    /// A reference to `T`'s schema, which the document's components then hold.
    fn schema<T: JsonSchema>(&mut self) -> Value {
        self.schemas.subschema_for::<T>().to_value()
    }

    /// The query parameters a query type reads, one per field, described by its
    /// schema (all optional but what the type requires).
    fn query<T: JsonSchema>(&mut self) -> Vec<Value> {
        let schema = SchemaGenerator::default().root_schema_for::<T>().to_value();
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        properties
            .into_iter()
            .map(|(name, mut property)| {
                let mut parameter = json!({"name": name, "in": "query"});
                parameter["required"] = required.contains(&parameter["name"]).into();
                if let Some(description) = property.as_object_mut().unwrap().remove("description") {
                    parameter["description"] = description;
                }
                // A query string has no null: an absent parameter is `None`.
                if let Some(types) = property["type"].as_array() {
                    let types: Vec<_> = types.iter().filter(|t| *t != "null").cloned().collect();
                    property["type"] = types.first().cloned().unwrap_or_default();
                }
                parameter["schema"] = property;
                parameter
            })
            .collect()
    }

    fn log_paths(&mut self) {
        let submitted = self.schema::<contract::Submitted>();
        self.add(
            "post",
            "/api/v1/entries",
            Operation::new("Submit a signed entry")
                .body(
                    "application/json",
                    signed_entry(),
                    "one signed entry, exactly its canonical bytes, at most 65535 bytes",
                )
                .json(201, "appended", submitted.clone())
                .json(
                    200,
                    "the log holds it already: where it was appended",
                    submitted,
                )
                .refusals(&[400, 403, 409, 413, 422, 429]),
        );
        self.add(
            "get",
            "/checkpoint",
            Operation::new("The latest checkpoint (C2SP tlog-checkpoint signed note)").answer(
                200,
                "the checkpoint",
                "text/plain",
                json!({"type": "string"}),
            ),
        );
        let log_key = self.schema::<contract::LogKey>();
        self.add(
            "get",
            "/api/v1/log/key",
            Operation::new("The log's origin and verifier key").json(200, "the key", log_key),
        );
        let node = self.schema::<contract::NodeInfo>();
        self.add(
            "get",
            "/api/v1/node",
            Operation::new("This node's part in the log").json(200, "the node", node),
        );
        let entries = self.schema::<contract::LogEntries>();
        let query = self.query::<contract::EntriesQuery>();
        self.add(
            "get",
            "/api/v1/log/entries",
            Operation::new("Entries in log order, covered by the latest checkpoint")
                .parameters(query)
                .json(200, "a page of entries", entries)
                .refusals(&[400]),
        );
        let proof = self.schema::<contract::InclusionProof>();
        let query = self.query::<contract::InclusionQuery>();
        self.add(
            "get",
            "/api/v1/log/proof/inclusion",
            Operation::new("RFC 9162 inclusion proof of an entry")
                .parameters(query)
                .json(200, "the audit path", proof)
                .refusals(&[400, 404]),
        );
        let proof = self.schema::<contract::ConsistencyProof>();
        let query = self.query::<contract::ConsistencyQuery>();
        self.add(
            "get",
            "/api/v1/log/proof/consistency",
            Operation::new("RFC 9162 consistency proof between two tree sizes")
                .parameters(query)
                .json(200, "the proof", proof)
                .refusals(&[400]),
        );
        self.add(
            "get",
            "/tile/{path}",
            Operation::new("A tile of the tree or of entries (C2SP tlog-tiles)")
                .path_parameter(
                    "path",
                    "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (it holds slashes; docs/FORMAT.md §7)",
                )
                .answer(200, "the tile's bytes; full tiles are immutable", "application/octet-stream", binary())
                .refusals(&[404]),
        );
    }

    fn private_paths(&mut self) {
        let submitted = self.schema::<contract::Submitted>();
        self.add(
            "post",
            "/api/v1/submissions",
            Operation::new("Submit a signed entry with the private contact data it commits to")
                .body(
                    "application/json",
                    submission(),
                    "the entry as a string, and its private data",
                )
                .json(201, "appended", submitted.clone())
                .json(
                    200,
                    "the log holds it already: where it was appended",
                    submitted,
                )
                .refusals(&[400, 403, 409, 413, 422, 429]),
        );
        self.add(
            "get",
            "/api/v1/private/{entry}",
            Operation::new("An entry's private contact data, for those who may read it")
                .path_parameter("entry", "the entry's id (leaf hash, hex)")
                .signed()
                .json(200, "the data; the read is recorded", opened())
                .refusals(&[401, 403, 404, 410]),
        );
        self.add(
            "get",
            "/api/v1/private/{entry}/reads",
            Operation::new("Who read an entry's private data, for its author and moderators")
                .path_parameter("entry", "the entry's id (leaf hash, hex)")
                .signed()
                .json(200, "the reads, oldest first", read_records())
                .refusals(&[401, 403, 404]),
        );
    }

    fn photo_paths(&mut self) {
        let stored = self.schema::<contract::PhotoStored>();
        self.add(
            "post",
            "/api/v1/photos",
            Operation::new("Upload a photo as evidence; its metadata is removed")
                .body("application/octet-stream", binary(), "a JPEG, PNG or WebP image, at most 5242880 bytes (any Content-Type: the bytes tell the format)")
                .json(201, "stored", stored.clone())
                .json(200, "the store held the same bytes already", stored)
                .refusals(&[400, 413, 415, 429, 507]),
        );
        self.add(
            "get",
            "/api/v1/photos/{sha256}",
            Operation::new("A stored photo, by the SHA-256 of its bytes")
                .path_parameter("sha256", "64 lowercase hex digits")
                .answer(200, "the stored bytes, immutable", "image/jpeg", binary())
                .answer(200, "the stored bytes, immutable", "image/png", binary())
                .answer(200, "the stored bytes, immutable", "image/webp", binary())
                .refusals(&[400, 404]),
        );
    }

    fn workflow_paths(&mut self) {
        for (kind, path) in [("needs", "/api/v1/needs"), ("offers", "/api/v1/offers")] {
            let page = self.schema::<contract::Page<contract::Post>>();
            let query = self.query::<PostQuery>();
            self.add(
                "get",
                path,
                Operation::new(&format!("List {kind}"))
                    .parameters(query)
                    .json(200, "a page", page)
                    .refusals(&[400]),
            );
            let post = self.schema::<contract::Post>();
            self.add(
                "get",
                &format!("{path}/{{id}}"),
                Operation::new(&format!("One of the {kind}"))
                    .path_parameter("id", "its entry id (leaf hash, hex)")
                    .json(200, "the post", post)
                    .refusals(&[404]),
            );
            let matches = self.schema::<contract::Matches>();
            self.add(
                "get",
                &format!("{path}/{{id}}/matches"),
                Operation::new(&format!("What fits one of the {kind}, best first"))
                    .path_parameter("id", "its entry id (leaf hash, hex)")
                    .json(200, "the matches", matches)
                    .refusals(&[404]),
            );
        }
        let page = self.schema::<contract::Page<contract::Org>>();
        let query = self.query::<OrgQuery>();
        self.add(
            "get",
            "/api/v1/orgs",
            Operation::new("List organisations")
                .parameters(query)
                .json(200, "a page", page)
                .refusals(&[400]),
        );
        let org = self.schema::<contract::Org>();
        self.add(
            "get",
            "/api/v1/orgs/{id}",
            Operation::new("One organisation")
                .path_parameter("id", "its registration's entry id (leaf hash, hex)")
                .json(200, "the organisation", org)
                .refusals(&[404]),
        );
        let members = self.schema::<contract::OrgMembers>();
        self.add(
            "get",
            "/api/v1/orgs/{id}/members",
            Operation::new("An organisation's members, oldest first")
                .path_parameter("id", "its registration's entry id (leaf hash, hex)")
                .json(200, "the members", members)
                .refusals(&[404]),
        );
        let roles = self.schema::<contract::KeyRoles>();
        self.add(
            "get",
            "/api/v1/keys/{key}/roles",
            Operation::new("What a key may do, as the log's roles say")
                .path_parameter("key", "a public key, hex")
                .json(200, "the roles", roles)
                .refusals(&[400]),
        );
        let activity = self.schema::<contract::Activity>();
        self.add(
            "get",
            "/api/v1/keys/{key}/activity",
            Operation::new("What waits for a key, and where its needs and donations stand")
                .path_parameter("key", "a public key, hex")
                .json(200, "the activity", activity)
                .refusals(&[400]),
        );
        let page = self.schema::<contract::Page<contract::ReviewItem>>();
        let query = self.query::<ReviewQuery>();
        self.add(
            "get",
            "/api/v1/review",
            Operation::new("The review queue, by priority")
                .parameters(query)
                .json(200, "a page", page)
                .refusals(&[400]),
        );
        let entries = self.schema::<contract::LogEntries>();
        let query = self.query::<contract::EntriesQuery>();
        self.add(
            "get",
            "/api/v1/authors/{key}/entries",
            Operation::new("One author's entries in log order")
                .path_parameter("key", "the author's public key, 64 lowercase hex digits")
                .parameters(query)
                .json(200, "a page of entries", entries)
                .refusals(&[400]),
        );
        // `Trace` is `ledger::chain::Trace`, described in `contract::openapi`; naming
        // its link there too keeps the component's name the contract's.
        let trace = self.schema::<Trace>();
        self.schema::<TraceLink>();
        self.add(
            "get",
            "/api/v1/trace/{hash}",
            Operation::new("The verifiable chain of a need or pledge")
                .path_parameter(
                    "hash",
                    "the need's or pledge's entry id, 64 lowercase hex digits",
                )
                .json(200, "the chain with a proof for each link", trace)
                .refusals(&[400, 404]),
        );
        let results = self.schema::<contract::SearchResults>();
        self.add(
            "get",
            "/api/v1/search",
            Operation::new("Full-text search over needs, offers and organisations")
                .parameters(search_parameters(true))
                .json(200, "the hits and facets", results)
                .refusals(&[400, 503]),
        );
        let stats = self.schema::<contract::Stats>();
        let query = self.query::<SelectionQuery>();
        self.add(
            "get",
            "/api/v1/stats",
            Operation::new("Totals of the needs the filters select")
                .parameters(query)
                .json(200, "the totals", stats)
                .refusals(&[400, 503]),
        );
    }

    fn feed_and_export_paths(&mut self) {
        let atom = json!({"type": "string", "contentMediaType": "application/atom+xml"});
        self.add(
            "get",
            "/feeds/needs.atom",
            Operation::new("New needs matching the board's filters (Atom)")
                .parameters(search_parameters(false))
                .answer(
                    200,
                    "the feed, newest first",
                    "application/atom+xml",
                    atom.clone(),
                )
                .refusals(&[400, 503]),
        );
        self.add(
            "get",
            "/feeds/orgs/{file}",
            Operation::new("Everything about one organisation's needs (Atom)")
                .path_parameter("file", "the organisation's id followed by `.atom`")
                .answer(
                    200,
                    "the feed, newest first",
                    "application/atom+xml",
                    atom.clone(),
                )
                .refusals(&[400, 404]),
        );
        self.add(
            "get",
            "/feeds/authors/{file}",
            Operation::new("Everything that answers one author's entries (Atom)")
                .path_parameter("file", "the author's public key (hex) followed by `.atom`")
                .answer(200, "the feed, newest first", "application/atom+xml", atom)
                .refusals(&[400, 404]),
        );
        let rows = json!({"anyOf": [
            {"type": "array", "items": self.schema::<NeedLine>()},
            {"type": "array", "items": self.schema::<OfferLine>()},
            {"type": "array", "items": self.schema::<OrgRow>()},
            {"type": "array", "items": self.schema::<ChainLine>()},
        ]});
        let query = self.query::<SelectionQuery>();
        let files: Vec<String> = ["needs", "offers", "orgs", "chains"]
            .iter()
            .flat_map(|name| [format!("{name}.csv"), format!("{name}.json")])
            .collect();
        let file = json!({
            "name": "file",
            "in": "path",
            "required": true,
            "description": "the dataset and the format",
            "schema": {"type": "string", "enum": files},
        });
        let operation = Operation::new("An export: CSV with an HXL hashtag row, or JSON")
            .parameters(vec![file])
            .parameters(query)
            .answer(
                200,
                "the rows, streamed",
                "text/csv",
                json!({"type": "string"}),
            )
            .answer(200, "the rows, streamed", "application/json", rows)
            .refusals(&[400, 404]);
        self.add("get", "/api/v1/export/{file}", operation);
    }
}

impl Document {
    fn webhook_paths(&mut self) {
        let created = self.schema::<super::webhooks_api::Created>();
        let query = self.query::<super::webhooks_api::SubscribeQuery>();
        self.add(
            "post",
            "/api/v1/webhooks",
            Operation::new("Subscribe a callback to a selection of new entries (everything in the signed query; no body)")
                .parameters(query)
                .signed()
                .json(201, "the subscription, with its secret shown this once", created)
                .refusals(&[400, 401, 409, 429]),
        );
        let subscriptions = self.schema::<super::webhooks_api::Subscriptions>();
        self.add(
            "get",
            "/api/v1/webhooks",
            Operation::new("The signing key's subscriptions")
                .signed()
                .json(
                    200,
                    "its subscriptions, without their secrets",
                    subscriptions,
                )
                .refusals(&[401]),
        );
        let deleted = self.schema::<super::webhooks_api::Deleted>();
        self.add(
            "delete",
            "/api/v1/webhooks/{id}",
            Operation::new("Delete one of the signing key's subscriptions")
                .path_parameter("id", "the subscription's id")
                .signed()
                .json(200, "deleted", deleted)
                .refusals(&[401, 403, 404]),
        );
        let deliveries = self.schema::<super::webhooks_api::Deliveries>();
        self.add(
            "get",
            "/api/v1/webhooks/{id}/deliveries",
            Operation::new("A subscription's delivery log, newest first (at most 100)")
                .path_parameter("id", "the subscription's id")
                .signed()
                .json(200, "its deliveries, each with its attempts", deliveries)
                .refusals(&[401, 403, 404]),
        );
    }

    fn operator_paths(&mut self) {
        let up = self.schema::<super::health::Up>();
        self.add(
            "get",
            "/healthz",
            Operation::new("Liveness: the process answers").json(200, "up", up),
        );
        let ready = self.schema::<super::health::Ready>();
        let not_ready = self.schema::<super::health::NotReady>();
        self.add(
            "get",
            "/readyz",
            Operation::new("Readiness: the database answers, the stored log head is verified, the search index is within its bound")
                .json(200, "ready, with each check", ready)
                .json(503, "not ready: the failing checks named, and every check", not_ready),
        );
        self.add(
            "get",
            "/metrics",
            Operation::new("Metrics in the OpenMetrics text format, which Prometheus scrapes (docs/API.md \"Metrics\")").answer(
                200,
                "the series",
                "application/openmetrics-text",
                json!({"type": "string"}),
            ),
        );
    }
}

/// One operation of a path.
struct Operation(Map<String, Value>);

impl Operation {
    /// An operation that, like every route, may also be refused with the error shape
    /// for reasons every request meets (docs/API.md "Limits every request meets").
    fn new(summary: &str) -> Self {
        let mut operation = Map::new();
        operation.insert("summary".into(), summary.into());
        operation.insert("parameters".into(), json!([]));
        operation.insert(
            "responses".into(),
            json!({"default": refusal("any other refusal: a limit every request meets (413, 414, 429, 431, 503…), or an internal error (500)")}),
        );
        Operation(operation)
    }

    fn path_parameter(self, name: &str, description: &str) -> Self {
        self.parameters(vec![json!({
            "name": name,
            "in": "path",
            "required": true,
            "description": description,
            "schema": {"type": "string"},
        })])
    }

    fn parameters(mut self, parameters: Vec<Value>) -> Self {
        let list = self.0["parameters"].as_array_mut().expect("a list");
        list.extend(parameters);
        self
    }

    fn body(mut self, media_type: &str, schema: Value, description: &str) -> Self {
        self.0.insert(
            "requestBody".into(),
            json!({"required": true, "description": description, "content": {media_type: {"schema": schema}}}),
        );
        self
    }

    fn json(self, status: u16, description: &str, schema: Value) -> Self {
        self.answer(status, description, "application/json", schema)
    }

    /// An answer of `status` in `media_type`; several media types may share a status.
    fn answer(mut self, status: u16, description: &str, media_type: &str, schema: Value) -> Self {
        let responses = &mut self.0["responses"];
        let answer = responses
            .as_object_mut()
            .expect("an object")
            .entry(status.to_string())
            .or_insert_with(|| json!({"description": description, "content": {}}));
        answer["content"][media_type] = json!({"schema": schema});
        self
    }

    /// The refusals this route has reasons of its own for.
    fn refusals(mut self, statuses: &[u16]) -> Self {
        for status in statuses {
            self.0["responses"][status.to_string()] = refusal(refusal_reason(*status));
        }
        self
    }

    /// Answered only to a signed request.
    fn signed(mut self) -> Self {
        self.0
            .insert("security".into(), json!([{"signedRequest": []}]));
        self
    }
}

/// What a refusal's status says (docs/API.md names the cases of each route).
fn refusal_reason(status: u16) -> &'static str {
    match status {
        400 => "bad input: the message names the parameter or field",
        401 => "not signed, or the signature is wrong or out of date",
        403 => "the key may not do this",
        404 => "no such resource",
        409 => "the entry conflicts with the log's state",
        410 => "the data was erased",
        413 => "the body is larger than the route's limit",
        415 => "not a JPEG, PNG or WebP image",
        422 => "the entry refers to an entry the log does not hold",
        429 => "too many writes from this address or key; Retry-After says when to retry",
        503 => "too many of these at once, or the database is unreachable; Retry-After says when to retry",
        507 => "storage is full (the photo store, or the server's disk)",
        _ => "refused",
    }
}

fn refusal(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

fn binary() -> Value {
    json!({"type": "string", "contentMediaType": "application/octet-stream"})
}

/// The search's parameters, and the needs feed's (which fixes kind, sort and paging).
/// Written out: `indexer::Query` is the indexer's, which does not depend on schemars.
fn search_parameters(paged: bool) -> Vec<Value> {
    let text = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}});
    let mut parameters = vec![
        text(
            "q",
            "free text in tantivy's query syntax; terms are ANDed; empty matches everything",
        ),
        text(
            "category",
            "a category name (`respirator`, `surgical_mask`…)",
        ),
        text(
            "area",
            "a region code or its country's, or a region's name in English or Chinese",
        ),
        text("status", "`open`, `met`, `withdrawn` or `expired`"),
        text("urgency", "`critical`, `high`, `medium` or `low`"),
        text("verified", "`verified`, `pending` or `rejected`"),
    ];
    if paged {
        parameters.extend([
            text("kind", "`need`, `offer` or `org`"),
            json!({"name": "sort", "in": "query", "required": false, "schema": {"type": "string", "enum": ["relevance", "urgency", "deadline", "recent"], "default": "relevance"}}),
            json!({"name": "page", "in": "query", "required": false, "description": "from 1; 0 means 1", "schema": {"type": "integer", "minimum": 0}}),
            json!({"name": "per_page", "in": "query", "required": false, "description": "1 to 100; 0 means 20", "schema": {"type": "integer", "minimum": 0}}),
        ]);
    }
    parameters
}

/// A signed entry as submitted. Its envelope is `ledger::entry`'s (docs/FORMAT.md),
/// which has no schema: the server checks the exact bytes, not a JSON shape.
fn signed_entry() -> Value {
    json!({
        "type": "object",
        "description": "a signed entry: its canonical JSON (RFC 8785) exactly as signed (docs/FORMAT.md)",
    })
}

/// `POST /api/v1/submissions`'s body. `private_api` reads it by hand (so that serde's
/// messages cannot quote private values) into `ledger::contact::Sidecar`.
fn submission() -> Value {
    let text = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["entry"],
        "additionalProperties": false,
        "properties": {
            "entry": {"type": "string", "description": "the signed entry's canonical JSON, as a string"},
            "private": {
                "type": "object",
                "required": ["salt", "contact"],
                "additionalProperties": false,
                "properties": {
                    "salt": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "contact": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {"name": text, "phone": text, "email": text, "address": text},
                    },
                },
            },
        },
    })
}

/// `GET /api/v1/private/{entry}`: `moderation::private::Opened`, whose contact is
/// written with sorted keys as stored (not yet a contract type, see ARCHITECTURE.md).
fn opened() -> Value {
    json!({
        "type": "object",
        "required": ["entry", "salt", "contact"],
        "properties": {
            "entry": {"type": "string"},
            "salt": {"type": "string"},
            "contact": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    })
}

/// `GET /api/v1/private/{entry}/reads`: `moderation::private::ReadRecord`s.
fn read_records() -> Value {
    json!({
        "type": "object",
        "required": ["reads"],
        "properties": {"reads": {"type": "array", "items": {
            "type": "object",
            "required": ["reader", "at"],
            "properties": {
                "reader": {"type": "string", "description": "the reader's public key, hex"},
                "at": {"type": "string", "description": "RFC 3339"},
            },
        }}},
    })
}
