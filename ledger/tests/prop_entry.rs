//! Property tests of `VerifiedEntry::from_leaf`, the one validity rule for untrusted
//! entry bytes: it never panics, whatever it accepts round-trips to the same bytes and
//! leaf hash, and no change to a signed leaf verifies as its author's.
//!
//! Cases per property (CI): 256 arbitrary byte strings, 256 envelopes, 128 changed
//! leaves, 32 freshly signed leaves; a few seconds in a debug build, nearly all of it
//! ed25519. More with PROPTEST_CASES (prop_support::config); the fuzz target
//! `entry_leaf` (ledger/fuzz) searches longer.

mod prop_support;

use ledger::entry::{EntryError, VerifiedEntry};
use prop_support::{checks, config, envelope, mutation, signed_leaf, vector_leaves};
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        checks::entry_leaf(&bytes);
    }

    /// Random values in the envelope's fields get past JSON to every later rule; with
    /// a random signature none of them verifies.
    #[test]
    fn envelopes_with_random_fields_are_refused(leaf in envelope()) {
        prop_assert!(checks::entry_leaf(&leaf).is_none());
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn a_changed_leaf_never_verifies_as_its_authors(
        leaf in prop_oneof![
            1 => prop::sample::select(vector_leaves()),
            1 => signed_leaf(),
        ],
        change in mutation(),
    ) {
        let author = *checks::entry_leaf(&leaf).expect("the original verifies").author_key();
        let changed = change.apply(&leaf);
        prop_assume!(changed != leaf);
        if let Some(entry) = checks::entry_leaf(&changed) {
            prop_assert_ne!(entry.author_key(), &author, "{}", String::from_utf8_lossy(&changed));
        }
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Signing checks with `from_leaf`, so every leaf a signer hands out is one the log
    /// takes back unchanged.
    #[test]
    fn a_signed_leaf_round_trips(leaf in signed_leaf()) {
        let entry = checks::entry_leaf(&leaf).expect("a signed leaf verifies");
        prop_assert_eq!(entry.into_leaf(), leaf);
    }
}

#[test]
fn the_vectors_verify_and_a_body_from_another_entry_does_not() {
    let leaves = vector_leaves();
    for leaf in &leaves {
        assert!(checks::entry_leaf(leaf).is_some());
    }
    let mut first: serde_json::Value = serde_json::from_slice(&leaves[1]).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&leaves[2]).unwrap();
    first["body"] = second["body"].clone();
    first["kind"] = second["kind"].clone();
    assert_eq!(
        VerifiedEntry::from_leaf(&ledger::entry::canonical_json(&first)).unwrap_err(),
        EntryError::BadSignature
    );
}
