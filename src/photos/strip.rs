//! Metadata removal by allow-list: of an image's segments or chunks, only those a
//! viewer needs to show the picture as it was taken are kept (frames, tables, pixels,
//! transparency, colour profiles); everything else, known or not, is dropped. That
//! removes Exif (camera, time, GPS position), XMP, IPTC, comments, PNG text and
//! `eXIf` chunks, JPEG thumbnails and appended data, without decoding a pixel.
//!
//! The containers are read by `img-parts`. Its JPEG reader stops at the first scan and
//! keeps the rest of the file as that scan's data, so the rest (more scans, the
//! segments between them, the end marker and whatever follows it) is walked here.

use super::Format;
use img_parts::jpeg::{markers, Jpeg};
use img_parts::png::Png;
use img_parts::riff::RiffContent;
use img_parts::webp::{self, WebP};
use img_parts::Bytes;

/// Why an upload is not a photo the store takes. Nothing is stored for it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("photo: the body is empty; send the image's bytes")]
    Empty,
    #[error(
        "photo: not a JPEG, PNG or WebP image (the format is told by the image's first bytes, \
         whatever the Content-Type says)"
    )]
    NotAnImage,
    #[error("photo: the {} is truncated or malformed: {reason}", format.name())]
    Malformed {
        format: Format,
        reason: &'static str,
    },
}

/// An image with its metadata removed.
#[derive(Debug)]
pub struct Stripped {
    pub format: Format,
    pub bytes: Bytes,
}

/// Checks that `upload` is a whole JPEG, PNG or WebP image and returns it without its
/// metadata.
pub fn strip(upload: Bytes) -> Result<Stripped, PhotoError> {
    if upload.is_empty() {
        return Err(PhotoError::Empty);
    }
    let format = Format::sniff(&upload).ok_or(PhotoError::NotAnImage)?;
    let bytes = match format {
        Format::Jpeg => jpeg(upload),
        Format::Png => png(upload),
        Format::WebP => webp(upload),
    }
    .map_err(|reason| PhotoError::Malformed { format, reason })?;
    Ok(Stripped { format, bytes })
}

fn container(e: img_parts::Error) -> &'static str {
    match e {
        img_parts::Error::WrongSignature => "its signature is wrong",
        img_parts::Error::BadCRC => "a chunk's checksum does not match its data",
        img_parts::Error::Truncated => "it ends inside a segment or chunk",
    }
}

const TRUNCATED: &str = "it ends before its end-of-image marker";

/// Whether a JPEG segment is kept: what decoding needs (frame headers, Huffman,
/// arithmetic and quantisation tables, restart intervals, line counts, hierarchical
/// progression), an ICC colour profile and Adobe's colour-transform flag. Dropped:
/// JFIF (with its thumbnail) and every other application segment (APP1 holds Exif with
/// GPS and XMP, APP13 IPTC), comments and the reserved markers.
fn keep_jpeg(marker: u8, contents: &[u8]) -> bool {
    match marker {
        markers::SOF0..=markers::SOF7
        | markers::SOF9..=markers::SOF15
        | markers::DQT
        | markers::DNL
        | markers::DRI
        | markers::DHP
        | markers::EXP => true,
        markers::APP2 => contents.starts_with(b"ICC_PROFILE\0"),
        markers::APP14 => contents.starts_with(b"Adobe"),
        _ => false,
    }
}

fn jpeg(upload: Bytes) -> Result<Bytes, &'static str> {
    let image = Jpeg::from_bytes(upload).map_err(container)?;
    let mut out = vec![markers::P, markers::SOI];
    let mut framed = false;
    for segment in image.segments() {
        let marker = segment.marker();
        if marker == markers::SOS {
            if !framed {
                return Err("a scan comes before any frame header");
            }
            let encoded = segment.clone().encoder().bytes();
            let (header, rest) = encoded.split_at(segment.len());
            out.extend_from_slice(header);
            after_first_scan(rest, &mut out)?;
            return Ok(out.into());
        }
        framed |= matches!(marker, markers::SOF0..=markers::SOF15)
            && !matches!(marker, markers::DHT | markers::JPG | markers::DAC);
        if keep_jpeg(marker, segment.contents()) {
            out.extend_from_slice(&segment.clone().encoder().bytes());
        }
    }
    Err("it has no scan (no image data)")
}

/// Copies what follows the first scan's header into `out`: entropy-coded data (where a
/// 0xFF byte is followed by a stuffed 0x00 or a restart marker), the segments between
/// scans (kept or dropped as before the first), further scans, and the end-of-image
/// marker. What follows that marker (a second image with its own Exif, say) is dropped.
fn after_first_scan(rest: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let mut at = entropy_end(rest, 0)?;
    out.extend_from_slice(&rest[..at]);
    loop {
        // At a 0xFF: fill bytes, then a marker.
        while rest.get(at + 1) == Some(&markers::P) {
            at += 1;
        }
        let marker = *rest.get(at + 1).ok_or(TRUNCATED)?;
        if marker == markers::EOI {
            out.extend_from_slice(&[markers::P, markers::EOI]);
            return Ok(());
        }
        if matches!(
            marker,
            markers::RST0..=markers::RST7 | markers::SOI | markers::Z | 0x01
        ) {
            return Err("a marker stands where a segment should");
        }
        let length = rest.get(at + 2..at + 4).ok_or(TRUNCATED)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        if length < 2 {
            return Err("a segment's length is below 2");
        }
        let end = at + 2 + length;
        let segment = rest.get(at..end).ok_or(TRUNCATED)?;
        if marker == markers::SOS {
            out.extend_from_slice(segment);
            at = entropy_end(rest, end)?;
            out.extend_from_slice(&rest[end..at]);
        } else {
            if keep_jpeg(marker, &segment[4..]) {
                out.extend_from_slice(segment);
            }
            at = end;
            if rest.get(at) != Some(&markers::P) {
                return Err(if at == rest.len() {
                    TRUNCATED
                } else {
                    "bytes stand between segments"
                });
            }
        }
    }
}

/// Where the entropy-coded data from `from` ends: at the first 0xFF that is neither a
/// stuffed 0x00 nor a restart marker.
fn entropy_end(rest: &[u8], from: usize) -> Result<usize, &'static str> {
    let mut at = from;
    loop {
        let ff = at
            + rest[at..]
                .iter()
                .position(|&b| b == markers::P)
                .ok_or(TRUNCATED)?;
        match rest.get(ff + 1) {
            None => return Err(TRUNCATED),
            Some(&(markers::Z | markers::RST0..=markers::RST7)) => at = ff + 2,
            Some(_) => return Ok(ff),
        }
    }
}

/// PNG chunks kept: the critical ones and those that say how to show the pixels
/// (transparency, gamma, chromaticities, colour profile and space, significant bits,
/// background, pixel size). Dropped: text (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `tIME`,
/// animation and every other or private chunk.
const PNG_KEPT: [[u8; 4]; 15] = [
    *b"IHDR", *b"PLTE", *b"IDAT", *b"IEND", *b"tRNS", *b"gAMA", *b"cHRM", *b"sRGB", *b"iCCP",
    *b"cICP", *b"mDCV", *b"cLLI", *b"sBIT", *b"bKGD", *b"pHYs",
];

fn png(upload: Bytes) -> Result<Bytes, &'static str> {
    let mut image = Png::from_bytes(upload).map_err(container)?;
    let kinds: Vec<[u8; 4]> = image.chunks().iter().map(|c| c.kind()).collect();
    if kinds.first() != Some(b"IHDR") {
        return Err("it does not begin with its header chunk (IHDR)");
    }
    if kinds.last() != Some(b"IEND") {
        return Err("it ends before its end chunk (IEND)");
    }
    if !kinds.contains(b"IDAT") {
        return Err("it has no image data (IDAT)");
    }
    image.chunks_mut().retain(|c| PNG_KEPT.contains(&c.kind()));
    Ok(image.encoder().bytes())
}

/// WebP chunks kept: the image (`VP8 `, `VP8L`, its alpha `ALPH`), the extended header
/// `VP8X`, animation (`ANIM`, `ANMF`) and the colour profile (`ICCP`). Dropped: `EXIF`,
/// `XMP ` and unknown chunks; `VP8X` then says there is no Exif or XMP.
const WEBP_KEPT: [[u8; 4]; 7] = [
    webp::CHUNK_VP8X,
    webp::CHUNK_VP8,
    webp::CHUNK_VP8L,
    webp::CHUNK_ALPH,
    webp::CHUNK_ANIM,
    webp::CHUNK_ANMF,
    webp::CHUNK_ICCP,
];

/// The Exif and XMP bits of the first byte of `VP8X`.
const VP8X_EXIF_XMP: u8 = 0b0000_1100;

fn webp(upload: Bytes) -> Result<Bytes, &'static str> {
    let mut image = WebP::from_bytes(upload).map_err(container)?;
    let has_image = image.chunks().iter().any(|c| {
        [webp::CHUNK_VP8, webp::CHUNK_VP8L, webp::CHUNK_ANMF].contains(&c.id())
            && c.content().data().is_some()
    });
    if !has_image {
        return Err("it has no image data (VP8, VP8L or ANMF)");
    }
    image.chunks_mut().retain(|c| WEBP_KEPT.contains(&c.id()));
    for chunk in image.chunks_mut() {
        if chunk.id() != webp::CHUNK_VP8X {
            continue;
        }
        match chunk.content_mut() {
            RiffContent::Data(header) if header.len() == 10 => {
                let mut flags = header.to_vec();
                flags[0] &= !VP8X_EXIF_XMP;
                *header = flags.into();
            }
            _ => return Err("its extended header (VP8X) is not 10 bytes"),
        }
    }
    Ok(image.encoder().bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, a segment per (marker, contents), and `tail` (scan data, EOI, ...).
    fn jpeg_of(segments: &[(u8, &[u8])], tail: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for (marker, contents) in segments {
            out.extend([0xFF, *marker]);
            out.extend(((contents.len() + 2) as u16).to_be_bytes());
            out.extend(*contents);
        }
        out.extend(tail);
        out
    }

    const SOF: (u8, &[u8]) = (0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    const SOS: (u8, &[u8]) = (0xDA, &[1, 1, 0, 0, 63, 0]);

    #[test]
    fn a_jpeg_keeps_its_frame_and_scans_and_loses_what_else_it_carried() {
        let image = jpeg_of(
            &[
                (0xE1, b"Exif\0\0GPS here"),
                (0xE2, b"ICC_PROFILE\0\x01\x01profile"),
                (0xFE, b"a comment"),
                SOF,
                (0xC4, b"\x00huffman"),
                SOS,
            ],
            // Scan data with a stuffed 0xFF and a restart marker; a second scan
            // after a comment; the end; a second image appended.
            b"\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xFE\x00\x05xyz\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x78\xFF\xFF\xD9\xFF\xD8\xFF\xE1\x00\x06Exif",
        );
        let out = strip(image.into()).unwrap();
        assert_eq!(out.format, Format::Jpeg);
        let expected = jpeg_of(
            &[
                (0xE2, b"ICC_PROFILE\0\x01\x01profile"),
                SOF,
                (0xC4, b"\x00huffman"),
                SOS,
            ],
            b"\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x78\xFF\xD9",
        );
        assert_eq!(out.bytes.as_ref(), expected.as_slice());
    }

    #[test]
    fn a_jpeg_cut_short_or_without_a_frame_is_refused() {
        let whole = jpeg_of(&[SOF, SOS], b"\x12\x34\xFF\xD9");
        assert!(strip(whole.clone().into()).is_ok());
        for cut in 3..whole.len() - 1 {
            let refused = strip(Bytes::copy_from_slice(&whole[..cut])).unwrap_err();
            assert!(
                matches!(
                    refused,
                    PhotoError::Malformed {
                        format: Format::Jpeg,
                        ..
                    }
                ),
                "cut at {cut}: {refused:?}"
            );
        }
        let unframed = jpeg_of(&[SOS], b"\x12\xFF\xD9");
        assert!(strip(unframed.into()).is_err());
    }

    #[test]
    fn what_is_not_an_image_is_told_by_its_bytes() {
        assert_eq!(strip(Bytes::new()).unwrap_err(), PhotoError::Empty);
        assert_eq!(
            strip(Bytes::from_static(b"GIF89a....")).unwrap_err(),
            PhotoError::NotAnImage
        );
        assert_eq!(
            strip(Bytes::from_static(b"RIFF\x04\x00\x00\x00WAVE")).unwrap_err(),
            PhotoError::NotAnImage
        );
    }

    proptest::proptest! {
        /// Whatever follows a format's signature, stripping never panics, and what it
        /// keeps is a fixed point: stripping it again changes nothing.
        #[test]
        fn stripping_any_bytes_is_total_and_idempotent(
            magic in proptest::sample::select(vec![
                b"\xFF\xD8\xFF".to_vec(),
                b"\x89PNG\r\n\x1a\n".to_vec(),
                b"RIFF\x20\x00\x00\x00WEBP".to_vec(),
            ]),
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        ) {
            let upload = [magic, rest].concat();
            if let Ok(once) = strip(upload.into()) {
                let twice = strip(once.bytes.clone()).unwrap();
                proptest::prop_assert_eq!(once.bytes, twice.bytes);
            }
        }

        /// A JPEG keeps its frame and scans whatever segments surround them.
        #[test]
        fn a_jpeg_keeps_no_application_segment_or_comment(
            extra in proptest::collection::vec(
                (proptest::prop_oneof![0xE0u8..=0xEF, proptest::strategy::Just(0xFEu8)],
                 proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
                0..6,
            ),
        ) {
            let kept = |(m, c): &(u8, Vec<u8>)| *m == 0xE2 && c.starts_with(b"ICC_PROFILE\0")
                || *m == 0xEE && c.starts_with(b"Adobe");
            let segments: Vec<(u8, &[u8])> = extra
                .iter()
                .map(|(m, c)| (*m, c.as_slice()))
                .chain([SOF, SOS])
                .collect();
            let out = strip(jpeg_of(&segments, b"\x12\xFF\xD9").into()).unwrap();
            let expected: Vec<(u8, &[u8])> = extra
                .iter()
                .filter(|s| kept(s))
                .map(|(m, c)| (*m, c.as_slice()))
                .chain([SOF, SOS])
                .collect();
            let expected = jpeg_of(&expected, b"\x12\xFF\xD9");
            proptest::prop_assert_eq!(out.bytes.as_ref(), expected.as_slice());
        }
    }
}
