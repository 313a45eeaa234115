//! Contact sidecars on arbitrary bytes (checks::contact_sidecar).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::contact_sidecar(data);
});
