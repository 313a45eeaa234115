//! The properties every parser of untrusted bytes must keep, one function per fuzz
//! target. Each returns normally for any input it refuses and panics only when a
//! property fails, which is what libFuzzer reports as a crash.
//!
//! ledger/tests/prop_*.rs compile this same file (`#[path]`) and call these functions
//! on proptest's inputs, so on stable, where libFuzzer cannot run, every check still
//! runs in CI.

use ed25519_dalek::{SigningKey, VerifyingKey};
use ledger::body::Body;
use ledger::contact::{self, Sidecar};
use ledger::entry::{canonical_json, EntryError, UnsignedEntry, VerifiedEntry};
use ledger::request;
use ledger::tiles::{encode_index, Tile};
use ledger::{tree, Kind};
use serde_json::Value;
use time::OffsetDateTime;

/// The clock the request checks run at (any fixed time does).
pub const NOW: i64 = 1_700_000_000;

/// `from_leaf` on any bytes. An accepted leaf is exactly its own canonical form, its
/// hash is the leaf hash of those bytes, and its body is what its kind's parser reads.
pub fn entry_leaf(bytes: &[u8]) -> Option<VerifiedEntry> {
    let entry = VerifiedEntry::from_leaf(bytes).ok()?;
    accepted_leaf(&entry, bytes);
    Some(entry)
}

/// What holds of every entry `from_leaf` accepted from `bytes`.
fn accepted_leaf(entry: &VerifiedEntry, bytes: &[u8]) {
    assert_eq!(
        entry.leaf(),
        bytes,
        "an accepted leaf is kept byte for byte"
    );
    assert_eq!(
        canonical_json(entry.entry()),
        bytes,
        "an accepted leaf re-serialises to itself"
    );
    assert_eq!(entry.leaf_hash(), tree::leaf_hash(bytes));
    assert_eq!(
        Body::parse(entry.kind(), &entry.entry().body).as_ref(),
        Ok(entry.body())
    );
}

/// Every kind's body parser on any bytes that are JSON (see [`body_value`]).
pub fn body_bytes(bytes: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        body_value(&value);
    }
}

/// Every kind's body parser on one JSON value. A body one kind accepts parses to the
/// same body from its canonical bytes, and signs into an entry `from_leaf` accepts with
/// that body, unless it is too large for a leaf. Returns the kinds that accepted it.
pub fn body_value(value: &Value) -> Vec<Kind> {
    let key = SigningKey::from_bytes(&[1; 32]);
    let mut accepted = vec![];
    for kind in Kind::ALL {
        let Ok(body) = Body::parse(kind, value) else {
            continue;
        };
        let canonical: Value =
            serde_json::from_slice(&canonical_json(value)).expect("canonical JSON parses");
        assert_eq!(Body::parse(kind, &canonical).as_ref(), Ok(&body));
        let unsigned = UnsignedEntry::new(
            kind,
            &key.verifying_key(),
            OffsetDateTime::UNIX_EPOCH,
            value.clone(),
        );
        match unsigned.sign(&key) {
            Ok(entry) => {
                // `sign` ends with `from_leaf`, so the leaf was accepted.
                assert_eq!(entry.body(), &body);
                accepted_leaf(&entry, entry.leaf());
            }
            Err(EntryError::TooLarge(_)) => {}
            Err(e) => panic!("a body {kind} accepts does not sign: {e}"),
        }
        accepted.push(kind);
    }
    accepted
}

/// The one spelling of a tile's path (C2SP tlog-tiles), written independently of the
/// parser as its oracle.
pub fn tile_path_of(tile: &Tile) -> String {
    let (first, index, width) = match *tile {
        Tile::Hashes {
            level,
            index,
            width,
        } => (level.to_string(), index, width),
        Tile::Entries { index, width } => ("entries".to_owned(), index, width),
    };
    let partial = if width == 256 {
        String::new()
    } else {
        format!(".p/{width}")
    };
    format!("{first}/{}{partial}", encode_index(index))
}

/// Trees up to this size are checked for the positions and ranges of their tiles;
/// beyond it the arithmetic of a 2^64-leaf tree would be exercised, which no log
/// reaches.
const LARGEST_CHECKED_TREE: u64 = 1 << 48;

/// The tile path parser on any string. An accepted path is the one spelling of its
/// tile; the smallest tree holding the tile holds it and one leaf fewer does not.
pub fn tile_path(path: &str) -> Option<Tile> {
    let tile = Tile::parse(path).ok()?;
    assert_eq!(tile_path_of(&tile), path, "a tile has one path");
    if let Some(size) = tile.required_tree_size() {
        assert!(tile.check_within(size, path).is_ok());
        assert!(tile.check_within(size - 1, path).is_err());
        if size <= LARGEST_CHECKED_TREE {
            let (positions, range) = (tile.hash_positions(), tile.entry_range());
            assert_eq!(
                (positions.len() + range.clone().count()) as u64,
                match tile {
                    Tile::Hashes { width, .. } | Tile::Entries { width, .. } => width,
                }
            );
            assert!(range.end <= size);
        }
    }
    Some(tile)
}

/// The signed-request check on any header, method and path at [`NOW`]. Whatever it
/// accepts is a signature by the key it names over exactly this method and path.
pub fn request_header(header: &str, method: &str, path: &str) -> Option<VerifyingKey> {
    let key = request::verify(header, method, path, NOW).ok()?;
    let other_method = if method == "GET" { "POST" } else { "GET" };
    assert!(request::verify(header, other_method, path, NOW).is_err());
    assert!(request::verify(header, method, &format!("{path}/"), NOW).is_err());
    Some(key)
}

/// The contact sidecar on any bytes, against the commitment it would need and against
/// an unrelated one. One that checks opens only its own commitment and still checks
/// after a round trip through its JSON.
pub fn contact_sidecar(bytes: &[u8]) -> Option<Sidecar> {
    let sidecar: Sidecar = serde_json::from_slice(bytes).ok()?;
    assert!(sidecar.check(None).is_err(), "no commitment takes no data");
    let wrong = "0".repeat(64);
    let own = hex::decode(&sidecar.salt)
        .ok()
        .map(|salt| contact::commitment(&salt, &sidecar.contact));
    let checked = sidecar.check(Some(own.as_deref().unwrap_or(&wrong))).ok();
    if own.as_deref() != Some(wrong.as_str()) {
        assert!(sidecar.check(Some(&wrong)).is_err());
    }
    checked?;
    let again: Sidecar = serde_json::from_slice(&canonical_json(&sidecar)).expect("round trip");
    assert_eq!(again, sidecar);
    assert_eq!(again.check(own.as_deref()), Ok(()));
    Some(sidecar)
}
