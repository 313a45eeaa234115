//! Lowercase-hex encoding of 32-byte values (hashes, public keys) as used in JSON and URLs.

use crate::tree::Hash;

/// Encodes a hash as 64 lowercase hex digits.
pub fn encode(hash: &Hash) -> String {
    hex::encode(hash.0)
}

/// Decodes 64 lowercase hex digits; uppercase is refused so that every value has one spelling.
pub fn decode(text: &str) -> Option<Hash> {
    if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(Hash(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_uppercase() {
        let h = Hash([0xab; 32]);
        assert_eq!(decode(&encode(&h)), Some(h));
        assert_eq!(decode(&encode(&h).to_uppercase()), None);
        assert_eq!(decode("ab"), None);
    }
}
