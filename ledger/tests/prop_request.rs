//! Property tests of the signed-request header (`Authorization: Aidledger key=…, ts=…,
//! sig=…`), which every private read carries: no header value makes the check panic,
//! and only a valid signature by the named key over the right method, path and a
//! timestamp near the clock authenticates (checks::request_header).
//!
//! Cases (CI): 512 arbitrary headers, 512 header-shaped ones, 32 signed requests each
//! changed once; a few seconds in a debug build, nearly all of it ed25519. More with
//! PROPTEST_CASES (prop_support::config); the fuzz target `request_header`
//! (ledger/fuzz) searches longer.

mod prop_support;

use ed25519_dalek::SigningKey;
use ledger::request::{self, RequestError, MAX_SKEW};
use prop_support::{checks, config};
use proptest::prelude::*;

const NOW: i64 = checks::NOW;

/// Parameter lists built from the header's own names and plausible values.
fn header_like() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[0-9a-f]{64}",
        "[0-9a-fA-F]{128}",
        any::<i64>().prop_map(|t| t.to_string()),
        (NOW - 400..NOW + 400).prop_map(|t| t.to_string()),
        "\\PC{0,8}",
    ];
    let param = (
        prop::sample::select(&["key", "ts", "sig", "", "KEY", " key"][..]),
        prop::sample::select(&["=", "==", ""][..]),
        value,
    )
        .prop_map(|(name, eq, value)| format!("{name}{eq}{value}"));
    (
        prop::sample::select(&["Aidledger ", "aidledger ", "Aidledger", "Bearer ", ""][..]),
        prop::collection::vec(param, 0..5),
        prop::sample::select(&[",", ", ", " ,"][..]),
    )
        .prop_map(|(scheme, params, sep)| format!("{scheme}{}", params.join(sep)))
}

/// One change to a signed request: what it claims or what it is checked against.
#[derive(Clone, Debug)]
enum Change {
    Method,
    Path(String),
    Clock(i64),
    OtherKey([u8; 32]),
    FlipSigBit(usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        Just(Change::Method),
        "[a-z0-9/?=&]{1,10}".prop_map(Change::Path),
        prop_oneof![MAX_SKEW + 1..i64::MAX / 2, i64::MIN / 2..-MAX_SKEW].prop_map(Change::Clock),
        any::<[u8; 32]>().prop_map(Change::OtherKey),
        (0..512usize).prop_map(Change::FlipSigBit),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_headers_never_panic(header in any::<String>(), path in "\\PC{0,20}") {
        checks::request_header(&header, "GET", &path);
    }

    #[test]
    fn header_shaped_values_do_not_authenticate(header in header_like()) {
        prop_assert!(checks::request_header(&header, "GET", "/api/v1/private/00").is_none());
    }
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn only_the_signed_request_authenticates(
        seed in any::<[u8; 32]>(),
        post in any::<bool>(),
        path in "/[a-z0-9/?=&%]{0,40}",
        skew in -MAX_SKEW..=MAX_SKEW,
        change in change(),
    ) {
        let key = SigningKey::from_bytes(&seed);
        let method = if post { "POST" } else { "GET" };
        let header = request::authorization(&key, method, &path, NOW + skew);
        prop_assert_eq!(
            checks::request_header(&header, method, &path),
            Some(key.verifying_key())
        );
        let (mut header, mut method, mut path, mut now) = (header, method, path, NOW + skew);
        match change {
            Change::Method => method = if post { "GET" } else { "POST" },
            Change::Path(other) => path.push_str(&other),
            Change::Clock(by) => now += by,
            Change::OtherKey(other) => {
                let other = SigningKey::from_bytes(&other).verifying_key();
                prop_assume!(other != key.verifying_key());
                let own = hex::encode(key.verifying_key().as_bytes());
                header = header.replace(&own, &hex::encode(other.as_bytes()));
            }
            Change::FlipSigBit(bit) => {
                let at = header.find("sig=").unwrap() + 4;
                let mut sig = hex::decode(&header[at..]).unwrap();
                sig[bit / 8] ^= 1 << (bit % 8);
                header.replace_range(at.., &hex::encode(sig));
            }
        }
        let refused = request::verify(&header, method, &path, now);
        prop_assert!(
            matches!(refused, Err(RequestError::BadSignature | RequestError::Skew | RequestError::Key)),
            "{refused:?}"
        );
    }
}
