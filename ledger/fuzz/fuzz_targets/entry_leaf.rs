//! `VerifiedEntry::from_leaf` on arbitrary bytes (checks::entry_leaf).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::entry_leaf(data);
});
