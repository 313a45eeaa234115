//! Entries: the envelope every record travels in, its canonical bytes, its signature
//! and its leaf hash. `VerifiedEntry::from_leaf` is the one validity rule for an entry's
//! form and signature; the server, the CLI, the audit and the browser all call it.
//! docs/FORMAT.md specifies the same rules for implementers in other languages.

use crate::body::Body;
use crate::kind::{BodyError, Kind, UnknownKind};
use crate::tree::{self, Hash};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// The envelope version this code writes and accepts.
pub const FORMAT_VERSION: u64 = 1;

/// Prefix of every signed message, so that an entry signature can never be replayed as
/// a signature over anything else (a checkpoint, a login challenge).
pub const SIGNATURE_DOMAIN: &[u8] = b"aidledger/entry/v1\n";

/// Leaf data is carried in C2SP entry bundles behind a big-endian u16 length.
pub const MAX_LEAF_BYTES: usize = u16::MAX as usize;

/// An entry before signing: what an author writes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UnsignedEntry {
    pub v: u64,
    pub kind: String,
    pub author: String,
    pub created_at: String,
    pub body: Value,
}

/// A signed entry exactly as it is stored in the log (its canonical JSON is the leaf).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignedEntry {
    pub v: u64,
    pub kind: String,
    pub author: String,
    pub created_at: String,
    pub body: Value,
    pub sig: String,
}

/// The fields covered by the signature, borrowed so that signing and verifying
/// serialise the same thing without copying the body.
#[derive(Serialize)]
struct SignedPart<'a> {
    v: u64,
    kind: &'a str,
    author: &'a str,
    created_at: &'a str,
    body: &'a Value,
}

impl SignedPart<'_> {
    fn message(&self) -> Vec<u8> {
        let mut msg = SIGNATURE_DOMAIN.to_vec();
        msg.extend(canonical_json(self));
        msg
    }
}

/// An entry whose form and signature have been checked, with its leaf bytes and hash.
#[derive(Clone, Debug)]
pub struct VerifiedEntry {
    entry: SignedEntry,
    kind: Kind,
    body: Body,
    author_key: VerifyingKey,
    leaf: Vec<u8>,
    leaf_hash: Hash,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("entry is {0} bytes; the limit is {MAX_LEAF_BYTES} bytes")]
    TooLarge(usize),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("entry does not have the envelope's shape: {0}")]
    Shape(String),
    #[error("entry is not in canonical form (RFC 8785 JSON Canonicalization Scheme): submit the exact canonical bytes that were signed")]
    NotCanonical,
    #[error("v: unsupported format version {0}; this log accepts {FORMAT_VERSION}")]
    Version(u64),
    #[error("kind: {0}")]
    Kind(#[from] UnknownKind),
    #[error("author: {0}")]
    Author(&'static str),
    #[error("created_at: {0}")]
    CreatedAt(&'static str),
    #[error("sig: {0}")]
    SignatureEncoding(&'static str),
    #[error(
        "bad signature: sig does not verify for this author and content (ed25519 verify_strict)"
    )]
    BadSignature,
    #[error(transparent)]
    Body(#[from] BodyError),
}

impl EntryError {
    /// What an interface can explain in its own words: schema errors of the body.
    pub fn fault(&self) -> Option<crate::fault::Fault> {
        match self {
            EntryError::Body(b) => Some(b.fault()),
            _ => None,
        }
    }
}

/// RFC 8785 canonical JSON of a value. Serialising our own types cannot fail.
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("entry values serialise to JSON")
}

/// Formats a timestamp the one way `created_at` may be written: UTC, whole seconds.
pub fn format_timestamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("a UTC timestamp formats")
}

/// Parses `created_at`, refusing any spelling other than the canonical one.
pub fn parse_timestamp(text: &str) -> Result<OffsetDateTime, EntryError> {
    let t = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| EntryError::CreatedAt("not an RFC 3339 timestamp"))?;
    if format_timestamp(t) != text {
        return Err(EntryError::CreatedAt(
            "must be UTC with whole seconds, as YYYY-MM-DDTHH:MM:SSZ",
        ));
    }
    Ok(t)
}

/// Parses an author's public key from 64 lowercase hex digits.
pub fn parse_author(text: &str) -> Result<VerifyingKey, EntryError> {
    let bytes =
        crate::hex32::decode(text).ok_or(EntryError::Author("must be 64 lowercase hex digits"))?;
    let key = VerifyingKey::from_bytes(&bytes.0)
        .map_err(|_| EntryError::Author("not a valid ed25519 public key"))?;
    if key.is_weak() {
        return Err(EntryError::Author(
            "a small-order ed25519 key is not allowed",
        ));
    }
    Ok(key)
}

fn parse_signature(text: &str) -> Result<Signature, EntryError> {
    if text.len() != 128 || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(EntryError::SignatureEncoding(
            "must be 128 lowercase hex digits",
        ));
    }
    let mut bytes = [0u8; 64];
    hex::decode_to_slice(text, &mut bytes)
        .map_err(|_| EntryError::SignatureEncoding("must be 128 lowercase hex digits"))?;
    Ok(Signature::from_bytes(&bytes))
}

impl UnsignedEntry {
    /// An entry by `author` at `created_at`, with the current format version.
    pub fn new(kind: Kind, author: &VerifyingKey, created_at: OffsetDateTime, body: Value) -> Self {
        UnsignedEntry {
            v: FORMAT_VERSION,
            kind: kind.name().to_owned(),
            author: hex::encode(author.as_bytes()),
            created_at: format_timestamp(created_at),
            body,
        }
    }

    fn signed_part(&self) -> SignedPart<'_> {
        SignedPart {
            v: self.v,
            kind: &self.kind,
            author: &self.author,
            created_at: &self.created_at,
            body: &self.body,
        }
    }

    /// Signs the entry and checks the result with the same rule the log applies, so a
    /// signer never hands out an entry the log would refuse.
    pub fn sign(self, key: &SigningKey) -> Result<VerifiedEntry, EntryError> {
        if self.author != hex::encode(key.verifying_key().as_bytes()) {
            return Err(EntryError::Author(
                "is not the public key of the signing key",
            ));
        }
        let sig = key.sign(&self.signed_part().message());
        let signed = SignedEntry {
            v: self.v,
            kind: self.kind,
            author: self.author,
            created_at: self.created_at,
            body: self.body,
            sig: hex::encode(sig.to_bytes()),
        };
        VerifiedEntry::from_leaf(&canonical_json(&signed))
    }
}

impl SignedEntry {
    /// The signed message, read off `leaf`, this entry's canonical JSON, instead of
    /// serialised again (the validity rule's second-largest cost after the signature).
    /// RFC 8785 sorts an object's members, so `sig` is the leaf's second-to-last member,
    /// between `kind` and `v`, and the leaf without it is byte for byte the canonical
    /// JSON of the signed part. `None`, never another message, when `leaf` does not end
    /// with this entry's `sig` and `v` members as canonical JSON writes them: the cut is
    /// anchored at the end, so a `sig` member nested in the body cannot move it.
    fn message_in(&self, leaf: &[u8]) -> Option<Vec<u8>> {
        let v_member = format!(",\"v\":{}}}", self.v);
        let signed = leaf
            .strip_suffix(v_member.as_bytes())?
            .strip_suffix(format!(",\"sig\":\"{}\"", self.sig).as_bytes())?;
        Some([SIGNATURE_DOMAIN, signed, v_member.as_bytes()].concat())
    }
}

impl VerifiedEntry {
    /// Checks leaf bytes against every rule of docs/FORMAT.md, cheapest first:
    /// size, JSON, envelope shape, canonical form, version, kind, author key,
    /// timestamp, signature encoding, body schema, and last the signature itself.
    pub fn from_leaf(leaf: &[u8]) -> Result<Self, EntryError> {
        if leaf.len() > MAX_LEAF_BYTES {
            return Err(EntryError::TooLarge(leaf.len()));
        }
        let entry: SignedEntry = serde_json::from_slice(leaf).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => EntryError::Shape(e.to_string()),
            _ => EntryError::MalformedJson(e.to_string()),
        })?;
        if canonical_json(&entry) != leaf {
            return Err(EntryError::NotCanonical);
        }
        if entry.v != FORMAT_VERSION {
            return Err(EntryError::Version(entry.v));
        }
        let kind: Kind = entry.kind.parse()?;
        let author_key = parse_author(&entry.author)?;
        parse_timestamp(&entry.created_at)?;
        let sig = parse_signature(&entry.sig)?;
        let body = Body::parse(kind, &entry.body)?;
        // Unreachable for a leaf that passed the canonical check above; a refusal, not
        // a panic, should that check ever change.
        let message = entry.message_in(leaf).ok_or(EntryError::NotCanonical)?;
        author_key
            .verify_strict(&message, &sig)
            .map_err(|_| EntryError::BadSignature)?;
        Ok(VerifiedEntry {
            kind,
            body,
            author_key,
            leaf_hash: tree::leaf_hash(leaf),
            leaf: leaf.to_vec(),
            entry,
        })
    }

    pub fn entry(&self) -> &SignedEntry {
        &self.entry
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The body, parsed and checked against its kind's schema.
    pub fn body(&self) -> &Body {
        &self.body
    }

    pub fn author_key(&self) -> &VerifyingKey {
        &self.author_key
    }

    /// The canonical bytes of the signed entry: the Merkle leaf.
    pub fn leaf(&self) -> &[u8] {
        &self.leaf
    }

    /// SHA-256(0x00 || leaf): the entry's content address.
    pub fn leaf_hash(&self) -> Hash {
        self.leaf_hash
    }

    pub fn into_leaf(self) -> Vec<u8> {
        self.leaf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn sample() -> VerifiedEntry {
        let k = key();
        UnsignedEntry::new(
            Kind::OfferPost,
            &k.verifying_key(),
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            offer("N95口罩"),
        )
        .sign(&k)
        .unwrap()
    }

    fn offer(description: &str) -> Value {
        json!({
            "items": [{"item": "N95口罩", "category": "respirator", "quantity": 1000, "unit": "piece"}],
            "area": {"code": "CN-HB", "name": "湖北"},
            "description": description,
        })
    }

    fn with_field(field: &str, value: Value) -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(sample().leaf()).unwrap();
        v[field] = value;
        canonical_json(&v)
    }

    #[test]
    fn a_signed_entry_verifies_and_round_trips() {
        let e = sample();
        let again = VerifiedEntry::from_leaf(e.leaf()).unwrap();
        assert_eq!(again.leaf_hash(), e.leaf_hash());
        assert_eq!(e.kind(), Kind::OfferPost);
    }

    #[test]
    fn each_rule_refuses_with_its_own_error() {
        let leaf = sample().into_leaf();
        let mut spaced = leaf.clone();
        spaced.insert(1, b' ');
        assert_eq!(
            VerifiedEntry::from_leaf(&spaced).unwrap_err(),
            EntryError::NotCanonical
        );
        assert!(matches!(
            VerifiedEntry::from_leaf(b"{\"v\":"),
            Err(EntryError::MalformedJson(_))
        ));
        assert!(matches!(
            VerifiedEntry::from_leaf(&with_field("extra", json!(1))),
            Err(EntryError::Shape(m)) if m.contains("extra")
        ));
        assert_eq!(
            VerifiedEntry::from_leaf(&with_field("kind", json!("need.delete"))).unwrap_err(),
            EntryError::Kind(UnknownKind("need.delete".into()))
        );
        assert_eq!(
            VerifiedEntry::from_leaf(&with_field("v", json!(2))).unwrap_err(),
            EntryError::Version(2)
        );
        assert!(matches!(
            VerifiedEntry::from_leaf(&with_field(
                "created_at",
                json!("2023-11-14T22:13:20+00:00")
            )),
            Err(EntryError::CreatedAt(_))
        ));
        assert!(matches!(
            VerifiedEntry::from_leaf(&with_field("author", json!("AB"))),
            Err(EntryError::Author(_))
        ));
        assert_eq!(
            VerifiedEntry::from_leaf(&with_field("body", offer("tampered"))).unwrap_err(),
            EntryError::BadSignature
        );
        assert!(matches!(
            VerifiedEntry::from_leaf(&with_field("body", json!([1]))),
            Err(EntryError::Body(_))
        ));
        assert_eq!(
            VerifiedEntry::from_leaf(&vec![b' '; MAX_LEAF_BYTES + 1]).unwrap_err(),
            EntryError::TooLarge(MAX_LEAF_BYTES + 1)
        );
    }

    /// Any JSON, with the strings and keys that could confuse a cut at `sig`: nested
    /// `sig` and `v` members, quotes, escapes and the member's own bytes in a string.
    fn any_json() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            Just(",\"sig\":\"".to_owned()),
            Just("sig".to_owned()),
            Just("v".to_owned()),
            any::<String>(),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(Value::from),
            text.clone().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(text.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_message_read_off_a_leaf_is_the_one_serialised(
            v in 0u64..1000,
            kind in any::<String>(),
            author in any::<String>(),
            created_at in any::<String>(),
            body in any_json(),
            // 32 random bytes twice: proptest's arrays stop at 32 elements.
            sig in prop::array::uniform32(any::<u8>()),
        ) {
            let unsigned = UnsignedEntry { v, kind, author, created_at, body };
            let entry = SignedEntry {
                v,
                kind: unsigned.kind.clone(),
                author: unsigned.author.clone(),
                created_at: unsigned.created_at.clone(),
                body: unsigned.body.clone(),
                sig: hex::encode([sig, sig].concat()),
            };
            let leaf = canonical_json(&entry);
            prop_assert_eq!(entry.message_in(&leaf), Some(unsigned.signed_part().message()));
        }
    }

    #[test]
    fn a_leaf_that_does_not_end_with_its_own_sig_and_v_has_no_message() {
        let e = sample();
        let mut other = e.entry().clone();
        other.v = 2;
        assert_eq!(other.message_in(e.leaf()), None);
        other.v = e.entry().v;
        other.sig = "00".repeat(64);
        assert_eq!(other.message_in(e.leaf()), None);
    }

    #[test]
    fn a_malleated_signature_is_refused() {
        // Adding the group order L to S gives a signature that the permissive
        // ed25519 equation accepts but verify_strict refuses (non-canonical S).
        let e = sample();
        let mut sig = hex::decode(&e.entry().sig).unwrap();
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let s = sig[32 + i] as u16 + l[i] as u16 + carry;
            sig[32 + i] = s as u8;
            carry = s >> 8;
        }
        let leaf = with_field("sig", json!(hex::encode(sig)));
        assert!(matches!(
            VerifiedEntry::from_leaf(&leaf),
            Err(EntryError::BadSignature) | Err(EntryError::SignatureEncoding(_))
        ));
    }
}
