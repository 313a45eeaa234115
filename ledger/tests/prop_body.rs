//! Property tests of the body schemas: no JSON makes a kind's parser panic, and a body
//! a kind accepts parses the same from its canonical bytes and signs into an entry the
//! log accepts with that same body (checks::body_value).
//!
//! Cases (CI): 128 bodies shaped like a kind's, 256 arbitrary JSON values and 256
//! arbitrary byte strings, each tried against every kind; a few seconds in a debug
//! build, nearly all of it signing the accepted bodies. More with PROPTEST_CASES
//! (prop_support::config); the fuzz target `body` (ledger/fuzz) searches longer.

mod prop_support;

use ledger::body::Body;
use ledger::Kind;
use prop_support::{any_json, body, checks, config};
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn bodies_shaped_like_a_kinds(body in body()) {
        checks::body_value(&body);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_json(value in any_json()) {
        checks::body_value(&value);
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        checks::body_bytes(&bytes);
    }
}

/// The shaped generator reaches acceptance for every kind it has a shape of, so the
/// round-trip property above is not vacuous. Deterministic, so it cannot flake.
#[test]
fn shaped_bodies_are_accepted_by_every_kind_with_a_shape() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut accepted = std::collections::BTreeSet::new();
    for _ in 0..600 {
        let value = body().new_tree(&mut runner).unwrap().current();
        accepted.extend(
            Kind::ALL
                .into_iter()
                .filter(|&k| Body::parse(k, &value).is_ok()),
        );
    }
    let names: Vec<&str> = accepted.iter().map(|k| k.name()).collect();
    for shape in prop_support::shape_names() {
        assert!(
            names.contains(&shape),
            "no generated body was a {shape}: {names:?}"
        );
    }
}
