//! JSON Schemas of the contract (feature `openapi`, which only the server enables), for
//! the server's OpenAPI document (`GET /api/v1/openapi.json`). The contract's own types
//! derive theirs. The types it takes from `ledger` (areas, urgencies, organisation
//! types, kinds, verdicts, refusals, the trace) cannot: a trait of another crate may
//! not be implemented here for a type of another crate, and `ledger` stays free of
//! schema code. They are described below instead, under their own names: the values of
//! enums are read from `ledger` (a match that stops compiling when it adds one), and
//! objects are written field by field, which `tests/openapi.rs` holds to the real
//! answers, refusing any field they do not name.

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

/// Schemas as an OpenAPI 3.1 document holds them: JSON Schema 2020-12, each named type
/// once under `#/components/schemas/`.
pub fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.into_generator()
}

/// A string enum of `ledger`'s, named `$name` in the document.
macro_rules! ledger_enum {
    ($(#[doc = $doc:literal])+ $name:ident = $values:expr) => {
        $(#[doc = $doc])+
        pub struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let description = [$($doc),+].join("\n").trim().to_owned();
                json_schema!({ "type": "string", "enum": $values, "description": description })
            }
        }
    };
}

ledger_enum! {
    /// How urgent a need is, most urgent first.
    Urgency = {
        use ledger::body::Urgency::*;
        [Critical, High, Medium, Low].map(|u| match u {
            Critical | High | Medium | Low => u.name(),
        })
    }
}

ledger_enum! {
    /// What an organisation is.
    OrgType = {
        use ledger::body::OrgType::*;
        [Hospital, Clinic, Shelter, Charity, Carrier, Company].map(|t| match t {
            Hospital | Clinic | Shelter | Charity | Carrier | Company => t.name(),
        })
    }
}

ledger_enum! {
    /// What a verdict says of the entry it answers.
    VerdictKind = {
        use ledger::body::VerdictKind::*;
        [Verify, Reject, FlagDuplicate, FlagStale].map(|v| match v {
            Verify | Reject | FlagDuplicate | FlagStale => v.name(),
        })
    }
}

ledger_enum! {
    /// An entry's kind (docs/FORMAT.md).
    Kind = ledger::Kind::ALL.map(ledger::Kind::name)
}

ledger_enum! {
    /// What is wrong with a refused entry, for an interface to say in its own words.
    FaultCode = ledger::fault::FaultCode::ALL.map(|code| {
        serde_json::to_value(code).expect("a fault code is a string")
    })
}

/// A region as entries name it.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Area {
    /// ISO 3166-1 alpha-2 or ISO 3166-2 code (`CN-HB`).
    code: String,
    /// A display name, as the author wrote it.
    name: String,
}

/// A refusal an interface can explain: the code, the field and the number it needs.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Fault {
    code: FaultCode,
    /// The field inside the entry's body (`items[1].quantity`), or `body`, or inside
    /// the private data beside it (`contact.phone`); absent when the refusal is about
    /// the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
}

/// `GET /api/v1/trace/{hash}`: the chain of a need or pledge, each link with its leaf
/// and an inclusion proof against one checkpoint (verified by `ledger::chain::verify`).
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Trace {
    /// The signed checkpoint every proof is against (C2SP signed note).
    checkpoint: String,
    links: Vec<TraceLink>,
    /// The checkpoint's tree size.
    tree_size: u64,
}

/// One entry of a chain with its inclusion proof.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct TraceLink {
    index: u64,
    /// What the entry is in the chain: `need.post`, `pledge`, `pledge.accept`,
    /// `shipment`, `delivery.confirm`, `verdict`.
    kind: String,
    /// The entry's leaf bytes, standard base64.
    leaf: String,
    /// RFC 6962 leaf hash, lowercase hex.
    leaf_hash: String,
    /// The link this one continues (a pledge's need, a shipment's pledge...).
    parent: Option<String>,
    /// RFC 9162 §2.1.3 audit path, lowercase hex.
    proof: Vec<String>,
}
