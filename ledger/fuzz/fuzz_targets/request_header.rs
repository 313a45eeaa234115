//! The signed-request `Authorization` header on arbitrary text (checks::request_header).
#![no_main]

libfuzzer_sys::fuzz_target!(|header: &str| {
    checks::request_header(header, "GET", "/api/v1/private/00");
});
