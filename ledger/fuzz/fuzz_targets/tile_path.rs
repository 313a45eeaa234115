//! The C2SP tile path parser on arbitrary text (checks::tile_path).
#![no_main]

libfuzzer_sys::fuzz_target!(|path: &str| {
    checks::tile_path(path);
});
