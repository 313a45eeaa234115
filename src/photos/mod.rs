//! Photos as evidence, kept beside the log: a need's `evidence.photo_sha256` and a
//! delivery confirmation's `photo_sha256` name one by the SHA-256 of its stored bytes.
//! `strip` checks that an upload is a JPEG, PNG or WebP image by its own bytes and
//! removes its metadata (Exif with GPS, XMP, IPTC, comments, text chunks) without
//! decoding a pixel; `store` keeps the result in the data directory under its hash,
//! within a total size.

mod store;
mod strip;

pub use store::{PhotoStore, StoreError};
pub use strip::{strip, PhotoError, Stripped};

/// The largest photo accepted, in bytes, as sent (before its metadata is removed).
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// The image formats a photo may have, told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    /// The format whose signature `bytes` begin with, whatever a client says it sent.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Format::WebP)
        } else {
            None
        }
    }

    /// Its media type, as served.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::WebP => "WebP",
        }
    }
}
