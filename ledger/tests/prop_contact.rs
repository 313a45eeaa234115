//! Property tests of contact sidecars, the private data submitted beside an entry: no
//! bytes make parsing or checking panic, and a sidecar opens its own commitment and no
//! other (checks::contact_sidecar).
//!
//! Cases (CI): 512 arbitrary byte strings, 512 sidecar-shaped values; well under a
//! second. More with PROPTEST_CASES (prop_support::config); the fuzz target
//! `contact_sidecar` (ledger/fuzz) searches longer.

mod prop_support;

use ledger::contact::{commitment, ContactError, Sidecar};
use prop_support::{any_json, checks, config};
use proptest::prelude::*;
use serde_json::{json, Value};

fn field() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        8 => "[a-zA-Z0-9 @.+()-]{1,30}".prop_map(Value::from),
        1 => "\\PC{0,210}".prop_map(Value::from),
        1 => any_json(),
    ])
}

fn sidecar_like() -> impl Strategy<Value = Value> {
    let salt = prop_oneof![8 => "[0-9a-f]{64}".prop_map(Value::from), 1 => any_json()];
    (salt, field(), field(), field(), field(), any::<bool>()).prop_map(
        |(salt, name, phone, email, address, extra)| {
            let mut contact = json!({});
            for (k, v) in [
                ("name", name),
                ("phone", phone),
                ("email", email),
                ("address", address),
            ] {
                if let Some(v) = v {
                    contact[k] = v;
                }
            }
            if extra {
                contact["fax"] = json!("1");
            }
            json!({"salt": salt, "contact": contact})
        },
    )
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        checks::contact_sidecar(&bytes);
    }

    #[test]
    fn sidecars_open_their_own_commitment_only(value in sidecar_like()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        if let Some(sidecar) = checks::contact_sidecar(&bytes) {
            let mut other = sidecar.clone();
            let last = if other.salt.ends_with('0') { '1' } else { '0' };
            other.salt.pop();
            other.salt.push(last);
            let salt = hex::decode(&sidecar.salt).unwrap();
            prop_assert_eq!(
                other.check(Some(&commitment(&salt, &sidecar.contact))),
                Err(ContactError::CommitmentMismatch)
            );
        }
    }
}

#[test]
fn a_valid_sidecar_is_accepted() {
    let sidecar: Sidecar = serde_json::from_value(json!({
        "salt": "ab".repeat(32),
        "contact": {"name": "Li Wei", "phone": "+86 (27) 1234-5678", "email": "li@example.org"},
    }))
    .unwrap();
    let bytes = serde_json::to_vec(&sidecar).unwrap();
    assert_eq!(checks::contact_sidecar(&bytes), Some(sidecar));
}
