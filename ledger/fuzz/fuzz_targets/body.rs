//! Every kind's body parser on arbitrary bytes that are JSON (checks::body_bytes).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::body_bytes(data);
});
