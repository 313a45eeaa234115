//! C2SP tlog-tiles: tile paths and the bytes of hash tiles and entry bundles.
//!
//! A hash tile at level L, index N and width W holds the hashes of the W complete
//! subtrees of height 8L starting at subtree N·256; an entry bundle holds leaves
//! N·256 .. N·256+W, each behind a big-endian u16 length. Full tiles have W = 256
//! and never change; partial tiles (`.p/W`) exist while the tree edge is inside them.

use crate::tree::{position, Hash};

/// Hashes (or entries) per full tile; tiles are 8 levels high.
pub const TILE_WIDTH: u64 = 256;
const TILE_HEIGHT: u32 = 8;

/// A parsed tile path (the part after `/tile/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tile {
    Hashes { level: u8, index: u64, width: u64 },
    Entries { index: u64, width: u64 },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TileError {
    #[error(
        "tile path {0:?} is not a C2SP tlog-tiles path (<L>/<N>[.p/<W>] or entries/<N>[.p/<W>])"
    )]
    BadPath(String),
    #[error("tile {0:?} is beyond the current tree")]
    BeyondTree(String),
}

fn parse_index(groups: &[&str]) -> Option<u64> {
    let (last, prefixes) = groups.split_last()?;
    let mut n: u64 = 0;
    for g in prefixes {
        let digits = g.strip_prefix('x')?;
        n = n.checked_mul(1000)?.checked_add(parse_group(digits)?)?;
    }
    let n = n.checked_mul(1000)?.checked_add(parse_group(last)?)?;
    // Each index has exactly one spelling, so a tile has exactly one address.
    (encode_index(n) == groups.join("/")).then_some(n)
}

/// The C2SP spelling of a tile index: three-digit groups, all but the last `x`-prefixed.
pub fn encode_index(mut n: u64) -> String {
    let mut path = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        path = format!("x{:03}/{path}", n % 1000);
    }
    path
}

fn parse_group(g: &str) -> Option<u64> {
    (g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())).then(|| g.parse().ok())?
}

fn parse_width(w: &str) -> Option<u64> {
    let width: u64 = w.parse().ok()?;
    (w == width.to_string() && (1..TILE_WIDTH).contains(&width)).then_some(width)
}

impl Tile {
    pub fn parse(path: &str) -> Result<Tile, TileError> {
        let bad = || TileError::BadPath(path.to_owned());
        let mut parts: Vec<&str> = path.split('/').collect();
        let mut width = TILE_WIDTH;
        if parts.len() >= 3 && parts[parts.len() - 2].ends_with(".p") {
            width = parse_width(parts.pop().ok_or_else(bad)?).ok_or_else(bad)?;
            let last = parts.len() - 1;
            parts[last] = parts[last].strip_suffix(".p").ok_or_else(bad)?;
        }
        let (first, groups) = parts.split_first().ok_or_else(bad)?;
        let index = parse_index(groups).ok_or_else(bad)?;
        if *first == "entries" {
            return Ok(Tile::Entries { index, width });
        }
        let level: u8 = first.parse().map_err(|_| bad())?;
        if level > 63 || *first != level.to_string() {
            return Err(bad());
        }
        Ok(Tile::Hashes {
            level,
            index,
            width,
        })
    }

    /// The smallest tree that contains this tile, or `None` if no u64-sized tree can.
    pub fn required_tree_size(&self) -> Option<u64> {
        match *self {
            Tile::Entries { index, width } => index.checked_mul(TILE_WIDTH)?.checked_add(width),
            Tile::Hashes {
                level,
                index,
                width,
            } => {
                let subtrees = index.checked_mul(TILE_WIDTH)?.checked_add(width)?;
                let shift = TILE_HEIGHT.checked_mul(u32::from(level))?;
                if shift >= 64 || subtrees.leading_zeros() < shift {
                    return None;
                }
                Some(subtrees << shift)
            }
        }
    }

    /// Errors unless a tree of `size` leaves contains the tile.
    pub fn check_within(&self, size: u64, path: &str) -> Result<(), TileError> {
        match self.required_tree_size() {
            Some(needed) if needed <= size => Ok(()),
            _ => Err(TileError::BeyondTree(path.to_owned())),
        }
    }

    /// For a hash tile, the storage positions of its hashes in order.
    pub fn hash_positions(&self) -> Vec<u64> {
        match *self {
            Tile::Hashes {
                level,
                index,
                width,
            } => {
                let tree_level = (TILE_HEIGHT as u8) * level;
                (index * TILE_WIDTH..index * TILE_WIDTH + width)
                    .map(|n| position(tree_level, n))
                    .collect()
            }
            Tile::Entries { .. } => vec![],
        }
    }

    /// For an entry bundle, the leaf indexes it holds.
    pub fn entry_range(&self) -> std::ops::Range<u64> {
        match *self {
            Tile::Entries { index, width } => index * TILE_WIDTH..index * TILE_WIDTH + width,
            Tile::Hashes { .. } => 0..0,
        }
    }

    /// Whether the tile is full (and so immutable and cacheable forever).
    pub fn is_full(&self) -> bool {
        matches!(
            self,
            Tile::Hashes {
                width: TILE_WIDTH,
                ..
            } | Tile::Entries {
                width: TILE_WIDTH,
                ..
            }
        )
    }
}

/// The bytes of a hash tile: its hashes concatenated.
pub fn hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// The bytes of an entry bundle: each leaf behind its big-endian u16 length.
pub fn entry_bundle<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for leaf in leaves {
        let len = u16::try_from(leaf.len()).expect("leaves are at most 65535 bytes");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(leaf);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_c2sp_paths() {
        assert_eq!(
            Tile::parse("0/000"),
            Ok(Tile::Hashes {
                level: 0,
                index: 0,
                width: 256
            })
        );
        assert_eq!(
            Tile::parse("1/x001/x234/067.p/8"),
            Ok(Tile::Hashes {
                level: 1,
                index: 1_234_067,
                width: 8
            })
        );
        assert_eq!(
            Tile::parse("entries/001.p/3"),
            Ok(Tile::Entries { index: 1, width: 3 })
        );
        for bad in [
            "0/x000/000",
            "entries/x000/005.p/5",
            "0/1",
            "0/0001",
            "0/x001",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/08",
            "64/000",
            "01/000",
            "entries",
            "a/000",
            "",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn knows_which_trees_contain_a_tile() {
        let t = Tile::Hashes {
            level: 1,
            index: 0,
            width: 2,
        };
        assert_eq!(t.required_tree_size(), Some(512));
        assert_eq!(
            Tile::Hashes {
                level: 63,
                index: 0,
                width: 1
            }
            .required_tree_size(),
            None
        );
        assert_eq!(
            Tile::Entries { index: 2, width: 5 }.required_tree_size(),
            Some(517)
        );
    }

    #[test]
    fn bundles_entries_with_length_prefixes() {
        assert_eq!(
            entry_bundle([&b"ab"[..], b""]),
            vec![0, 2, b'a', b'b', 0, 0]
        );
    }
}
