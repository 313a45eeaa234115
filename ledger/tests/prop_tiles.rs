//! Property tests of the C2SP tile path parser, which reads `/tile/...` URLs: it never
//! panics, and what it accepts is the one spelling of a tile that some tree holds
//! (checks::tile_path).
//!
//! Cases (CI): 1024 arbitrary strings, 1024 path-like strings, 512 valid tiles; well
//! under a second. More with PROPTEST_CASES (prop_support::config); the fuzz target
//! `tile_path` (ledger/fuzz) searches longer.

mod prop_support;

use ledger::tiles::Tile;
use prop_support::{checks, config};
use proptest::prelude::*;

/// Strings made of the pieces tile paths are made of, so most get past the first split.
fn path_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("entries".to_owned()),
        "[0-9]{1,4}",
        "x[0-9]{2,4}",
        "[0-9x]{3}\\.p",
        Just(".p".to_owned()),
        Just(String::new()),
        "[0-9]{1,20}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.join("/"))
}

fn tile() -> impl Strategy<Value = Tile> {
    let index = prop_oneof![0..2000u64, any::<u64>()];
    let width = prop_oneof![Just(256u64), 1..256u64];
    prop_oneof![
        (0..=63u8, index.clone(), width.clone()).prop_map(|(level, index, width)| {
            Tile::Hashes {
                level,
                index,
                width,
            }
        }),
        (index, width).prop_map(|(index, width)| Tile::Entries { index, width }),
    ]
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn arbitrary_strings_never_panic(path in any::<String>()) {
        checks::tile_path(&path);
    }

    #[test]
    fn path_like_strings_never_panic(path in path_like()) {
        checks::tile_path(&path);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn every_tile_has_a_path_that_parses_back(tile in tile()) {
        let path = checks::tile_path_of(&tile);
        prop_assert_eq!(checks::tile_path(&path), Some(tile));
    }
}
