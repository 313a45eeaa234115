//! Photos as evidence: uploads lose their metadata before they are stored under the
//! SHA-256 of what is served, entries name them by that hash, and refused uploads store
//! nothing.

use crate::common::{self, jpeg, segment, TestInstance};
use aidledger::data_dir::PHOTOS_DIR;
use base64::prelude::*;
use img_parts::jpeg::Jpeg;
use img_parts::png::{Png, PngChunk};
use img_parts::{Bytes, ImageEXIF};
use ledger::Kind;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GPSInfo, the Exif tag (0x8825, little-endian) pointing at the GPS directory.
const GPS_INFO_TAG: [u8; 2] = [0x25, 0x88];

/// Exif (little-endian TIFF) with a GPS directory: latitude 30° 35' N.
fn exif_with_gps() -> Vec<u8> {
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    // IFD0 at 8: one entry, GPSInfo (LONG) → the GPS directory at 26.
    tiff.extend([1, 0]);
    tiff.extend(GPS_INFO_TAG);
    tiff.extend([4, 0, 1, 0, 0, 0, 26, 0, 0, 0]);
    tiff.extend([0, 0, 0, 0]);
    // GPS IFD at 26: GPSLatitudeRef "N", GPSLatitude 30/1 35/1 0/1 (RATIONAL×3 at 56).
    tiff.extend([2, 0]);
    tiff.extend([1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend([2, 0, 5, 0, 3, 0, 0, 0, 56, 0, 0, 0]);
    tiff.extend([0, 0, 0, 0]);
    for (num, den) in [(30u32, 1u32), (35, 1), (0, 1)] {
        tiff.extend(num.to_le_bytes());
        tiff.extend(den.to_le_bytes());
    }
    [b"Exif\0\0".as_slice(), &tiff].concat()
}

fn png_chunk(kind: &[u8; 4], contents: &[u8]) -> Bytes {
    PngChunk::new(*kind, Bytes::copy_from_slice(contents))
        .encoder()
        .bytes()
}

/// A 1×1 grey PNG with a text chunk and an `eXIf` chunk holding GPS.
fn png_with_text_and_exif() -> Vec<u8> {
    // Scanline: filter 0, pixel 0x80, as one stored deflate block in zlib.
    let idat = [
        0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0x80, 0x00, 0x82, 0x00, 0x81,
    ];
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [
        png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]),
        png_chunk(b"tEXt", b"Comment\0taken at Ward 3, 30.58N 114.27E"),
        png_chunk(b"eXIf", &exif_with_gps()[6..]),
        png_chunk(b"IDAT", &idat),
        png_chunk(b"IEND", &[]),
    ] {
        out.extend(chunk);
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn stored_photos(data_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join(PHOTOS_DIR))
        .unwrap()
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON answer")
    }

    fn error(&self) -> String {
        common::error_message(&self.json())
            .unwrap_or_else(|| panic!("an error answer: {}", String::from_utf8_lossy(&self.body)))
            .to_owned()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let r = request.send().await.unwrap();
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

async fn upload(url: &str, bytes: Vec<u8>) -> Answer {
    send(
        common::http()
            .post(format!("{url}/api/v1/photos"))
            .header("content-type", "image/jpeg")
            .body(bytes),
    )
    .await
}

async fn get_photo(url: &str, hash: &str) -> Answer {
    send(common::http().get(format!("{url}/api/v1/photos/{hash}"))).await
}

#[tokio::test]
async fn a_jpeg_is_stored_without_its_exif_and_gps_and_served_as_hashed() {
    let instance = TestInstance::start().await;
    let original = jpeg(&[
        segment(0xE1, &exif_with_gps()),
        segment(0xFE, b"Ward 3, bed 12"),
    ]);
    assert!(contains(&original, &GPS_INFO_TAG));

    let stored = upload(&instance.url, original.clone()).await;
    assert_eq!(
        stored.status,
        201,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    let answer = stored.json();
    let hash = answer["sha256"].as_str().unwrap().to_owned();
    assert_eq!(answer["type"], "image/jpeg");

    let served = get_photo(&instance.url, &hash).await;
    assert_eq!(served.status, 200);
    assert_eq!(answer["bytes"], served.body.len());
    assert_eq!(hex::encode(Sha256::digest(&served.body)), hash);
    assert_eq!(served.headers["content-type"], "image/jpeg");
    assert_eq!(served.headers["x-content-type-options"], "nosniff");
    assert_eq!(
        served.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let policy = served.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");

    // What is served is what is on disk, private to the service, and has no metadata.
    assert_eq!(
        stored_photos(&instance.data_dir),
        std::slice::from_ref(&hash)
    );
    let file = instance.data_dir.join(PHOTOS_DIR).join(&hash);
    assert_eq!(std::fs::read(&file).unwrap(), served.body);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    for needle in [b"Exif".as_slice(), &GPS_INFO_TAG, b"II\x2a\x00", b"Ward 3"] {
        assert!(!contains(&served.body, needle), "{needle:?} left in");
    }
    let parsed = Jpeg::from_bytes(Bytes::from(served.body.clone())).unwrap();
    assert_eq!(parsed.exif(), None);
    assert!(parsed
        .segments()
        .iter()
        .all(|s| !matches!(s.marker(), 0xE0..=0xEF | 0xFE)));
    // The image itself is untouched: everything but the two segments.
    assert_eq!(served.body, jpeg(&[]));

    // The same photo again is the same file.
    let again = upload(&instance.url, original).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), answer);
    assert_eq!(stored_photos(&instance.data_dir).len(), 1);
    instance.stop().await;
}

#[tokio::test]
async fn a_png_loses_its_text_and_exif_chunks_whatever_its_claimed_type() {
    let instance = TestInstance::start().await;
    // Sent as image/jpeg: the bytes say PNG.
    let stored = upload(&instance.url, png_with_text_and_exif()).await;
    assert_eq!(
        stored.status,
        201,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    let answer = stored.json();
    assert_eq!(answer["type"], "image/png");
    let served = get_photo(&instance.url, answer["sha256"].as_str().unwrap()).await;
    assert_eq!(served.headers["content-type"], "image/png");
    let parsed = Png::from_bytes(Bytes::from(served.body.clone())).unwrap();
    let kinds: Vec<[u8; 4]> = parsed.chunks().iter().map(|c| c.kind()).collect();
    assert_eq!(kinds, [*b"IHDR", *b"IDAT", *b"IEND"]);
    assert!(!contains(&served.body, &GPS_INFO_TAG));
    assert!(!contains(&served.body, b"Ward 3"));
    instance.stop().await;
}

#[tokio::test]
async fn refused_uploads_say_why_and_store_nothing() {
    let instance = TestInstance::start().await;
    let whole = jpeg(&[segment(0xE1, &exif_with_gps())]);
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        ("empty", vec![], 400, "empty"),
        (
            "text",
            b"<html>not a photo</html>".to_vec(),
            415,
            "not a JPEG, PNG or WebP",
        ),
        (
            "a GIF",
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            415,
            "first bytes",
        ),
        (
            "truncated JPEG",
            whole[..whole.len() - 3].to_vec(),
            400,
            "JPEG is truncated",
        ),
        (
            "PNG without its end",
            png_with_text_and_exif()[..60].to_vec(),
            400,
            "PNG is truncated",
        ),
    ];
    for (what, body, status, needle) in cases {
        let refused = upload(&instance.url, body).await;
        assert_eq!(refused.status, status, "{what}");
        assert!(
            refused.error().contains(needle),
            "{what}: {}",
            refused.error()
        );
        assert!(stored_photos(&instance.data_dir).is_empty(), "{what}");
    }
    instance.stop().await;
}

#[tokio::test]
async fn an_upload_past_the_size_limit_is_refused_before_it_is_all_sent() {
    let instance = TestInstance::start().await;
    let addr = instance.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // It claims a gigabyte; the server stops reading after its 5 MiB limit.
    let claimed: u64 = 1 << 30;
    let head = format!(
        "POST /api/v1/photos HTTP/1.1\r\nHost: {addr}\r\nContent-Type: image/jpeg\r\nContent-Length: {claimed}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let mut chunk = jpeg(&[]);
        chunk.resize(1 << 16, 0);
        let mut sent = 0u64;
        while sent < claimed && writer.write_all(&chunk).await.is_ok() {
            sent += chunk.len() as u64;
            chunk[..3].fill(0);
        }
        sent
    });
    let mut answer = vec![];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        while !contains(&answer, b"}") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "answered before the whole body was sent");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("5242880-byte limit"), "{answer}");
    drop(reader);
    let sent = sender.await.unwrap();
    assert!(sent < claimed, "sent {sent} bytes");
    assert!(stored_photos(&instance.data_dir).is_empty());
    instance.stop().await;
}

#[tokio::test]
async fn photo_reads_refuse_malformed_and_unknown_hashes() {
    let instance = TestInstance::start().await;
    for bad in ["abc", &"A".repeat(64), &"g".repeat(64)] {
        let refused = get_photo(&instance.url, bad).await;
        assert_eq!(refused.status, 400, "{bad}");
        assert!(refused.error().contains("sha256"), "{}", refused.error());
    }
    let unknown = get_photo(&instance.url, &"0".repeat(64)).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.error().contains("no photo"), "{}", unknown.error());
    instance.stop().await;
}

#[tokio::test]
async fn uploads_are_bounded_per_address_and_by_the_stores_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.photos.per_ip_per_minute = 2;
    })
    .await;
    for n in 0..2u8 {
        let stored = upload(&instance.url, jpeg(&[segment(0xFE, &[n])])).await;
        assert!(stored.status == 201 || stored.status == 200);
    }
    let limited = upload(&instance.url, jpeg(&[])).await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        limited.error().contains("photo uploads"),
        "{}",
        limited.error()
    );
    instance.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.photos.store_bytes = 4096;
    })
    .await;
    assert_eq!(upload(&instance.url, jpeg(&[])).await.status, 201);
    let full = upload(&instance.url, png_with_text_and_exif()).await;
    assert_eq!(full.status, 507);
    assert!(
        full.error().contains("photo store is full"),
        "{}",
        full.error()
    );
    assert!(full.error().contains("4096"), "{}", full.error());
    assert_eq!(stored_photos(&instance.data_dir).len(), 1);
    // What is stored is still served, and stored again without room needed.
    assert_eq!(upload(&instance.url, jpeg(&[])).await.status, 200);
    instance.stop().await;
}

fn lines(quantity: u64) -> Value {
    json!([{"line": 0, "quantity": quantity}])
}

#[tokio::test]
async fn a_need_and_a_delivery_name_photos_that_the_chain_shows() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let evidence = upload(url, jpeg(&[segment(0xE1, &exif_with_gps())]))
        .await
        .json()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let received = upload(url, png_with_text_and_exif()).await.json()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    let (hospital, donor) = (common::key(), common::key());
    let org = common::post_entry(url, common::org(&hospital, "photos")).await;
    let needed_by = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    let need = common::post_entry(
        url,
        common::signed(
            &hospital,
            Kind::NeedPost,
            json!({
                "org": org,
                "items": [{"item": "N95 respirators", "category": "respirator", "quantity": 100, "unit": "piece"}],
                "urgency": "high",
                "needed_by": needed_by,
                "area": {"code": "CN-HB", "name": "Hubei"},
                "evidence": {"photo_sha256": evidence},
            }),
        ),
    )
    .await;
    let pledge = common::post_entry(
        url,
        common::signed(
            &donor,
            Kind::Pledge,
            json!({"need": need, "items": lines(40)}),
        ),
    )
    .await;
    let shipment = common::post_entry(
        url,
        common::signed(
            &donor,
            Kind::Shipment,
            json!({"pledge": pledge, "carrier": "SF Express", "items": lines(40)}),
        ),
    )
    .await;
    // (A malformed hash is refused by the body schema: `ledger::body`'s tests.)
    let delivery = common::post_entry(
        url,
        common::signed(
            &hospital,
            Kind::DeliveryConfirm,
            json!({"shipment": shipment, "items": lines(40), "condition": "good", "photo_sha256": received}),
        ),
    )
    .await;

    let need_read = send(common::http().get(format!("{url}/api/v1/needs/{need}"))).await;
    assert_eq!(need_read.json()["evidence_photo_sha256"], evidence.as_str());
    let trace = send(common::http().get(format!("{url}/api/v1/trace/{need}"))).await;
    assert_eq!(trace.status, 200);
    let trace = trace.json();
    let link = trace["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leaf_hash"] == delivery.as_str())
        .expect("the delivery is in the need's chain");
    assert_eq!(link["kind"], "delivery.confirm");
    let leaf: Value = serde_json::from_slice(
        &BASE64_STANDARD
            .decode(link["leaf"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(leaf["body"]["photo_sha256"], received.as_str());
    // And each photo named is served with the hash the log holds.
    for hash in [&evidence, &received] {
        let served = get_photo(url, hash).await;
        assert_eq!(&hex::encode(Sha256::digest(&served.body)), hash);
    }
    instance.stop().await;
}
