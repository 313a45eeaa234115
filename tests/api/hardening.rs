//! The defences against what an attacker found in an afternoon (issue 11): redirects
//! that stay on the site, private files, slow clients let go, security headers,
//! client addresses behind proxies, and JSON for every refusal of the HTTP layer.

use super::{get, http, send, Reply};
use crate::common::{self, TestInstance};
use aidledger::server::connections::ConnectionLimits;
use aidledger::server::limits::Limits;
use aidledger::server::request_limits::{MAX_HEADERS, MAX_TARGET_BYTES};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn no_redirects() -> reqwest::Client {
    common::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_language_switch_only_sends_visitors_back_to_this_site() {
    let instance = TestInstance::start().await;
    for (back, expected) in [
        ("/needs/1?q=x", "/needs/1?q=x"),
        // Browsers drop the tab and would go to //evil.example, another site.
        ("/%09/evil.example", "/"),
        ("/%0d%0aSet-Cookie:%20x=1", "/"),
        ("//evil.example", "/"),
        ("/%5cevil.example", "/"),
        ("https://evil.example", "/"),
    ] {
        let reply = send(no_redirects().get(format!("{}/lang/zh?back={back}", instance.url))).await;
        assert_eq!(reply.status, 303, "back={back}");
        assert_eq!(reply.header(LOCATION), expected, "back={back}");
    }
    instance.stop().await;
}

#[tokio::test]
async fn the_data_directory_is_the_services_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let instance = TestInstance::start_in(&dir).await;
    // A write leaves rows in the WAL and segments in the index.
    let leaf = common::offer(&common::author(1), "modes");
    common::post_entry(&instance.url, leaf).await;
    let mut seen = 0;
    let mut stack = vec![dir.clone()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 3, "the key, the database or index files exist");
    instance.stop().await;
}

/// Reads from `stream` until the server closes it; `None` if it stays open past a
/// generous bound (a failure, not a timing measurement).
async fn closed_by_server(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut seen = vec![];
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_let_go_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.connections = ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            max_connections: 8,
            ..ConnectionLimits::default()
        };
    })
    .await;
    let addr = instance.url.trim_start_matches("http://").to_owned();
    // More slow clients than the server holds at once, each sending a header byte at
    // a time, slower than the head deadline allows.
    let mut slow = vec![];
    for _ in 0..16 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            let drip = async {
                for byte in b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n".iter().cycle() {
                    if stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            };
            // The drip never ends by itself: only the server closing stops it.
            let _ = tokio::time::timeout(Duration::from_secs(60), drip).await;
            closed_by_server(&mut stream).await
        }));
    }
    // Ordinary requests are answered meanwhile (queued behind at most a deadline).
    for _ in 0..3 {
        assert_eq!(get(&instance, "/checkpoint").await.status, 200);
    }
    for client in slow {
        let answer = client
            .await
            .unwrap()
            .expect("the server closed a slow client");
        // Nothing was answered to a head that never completed.
        assert!(!answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    }
    // An idle keep-alive connection is closed too, after its answer.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_by_server(&mut idle)
        .await
        .expect("idle connection closed");
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    instance.stop().await;
}

#[tokio::test]
async fn a_body_trickled_past_the_body_timeout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.connections.body_timeout = Duration::from_secs(1);
    })
    .await;
    let addr = instance.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/v1/entries HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let answer = closed_by_server(&mut stream).await.expect("answered");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#"{"error":"request body was not received within 1 seconds"}"#));
    instance.stop().await;
}

#[tokio::test]
async fn pages_carry_a_policy_that_admits_only_their_own_scripts() {
    let instance = TestInstance::start().await;
    let page = get(&instance, "/").await;
    assert_eq!(page.status, 200);
    let policy = page.header(CONTENT_SECURITY_POLICY);
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the page policy names a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // Every inline script carries this page's nonce; another page gets another one.
    let html = String::from_utf8(page.body.clone()).unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("<script nonce=\"{nonce}\"")).count()
            + html
                .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                .count(),
        scripts,
        "{html}"
    );
    let again = get(&instance, "/").await.header(CONTENT_SECURITY_POLICY);
    assert!(!again.contains(nonce));
    // Every answer, pages, JSON and refusals alike, has the other headers.
    for path in [
        "/",
        "/checkpoint",
        "/api/v1/needs",
        "/api/v1/nothing",
        "/pkg/aidledger.js",
    ] {
        let reply = get(&instance, path).await;
        assert_eq!(
            reply.header("x-content-type-options".parse().unwrap()),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            reply.header("x-frame-options".parse().unwrap()),
            "DENY",
            "{path}"
        );
        assert_eq!(
            reply.header("referrer-policy".parse().unwrap()),
            "same-origin",
            "{path}"
        );
        assert!(
            reply
                .header(CONTENT_SECURITY_POLICY)
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
    instance.stop().await;
}

/// A write from `forwarded_for` (as a proxy would report it): its status.
async fn write_via(instance: &TestInstance, forwarded_for: &str) -> u16 {
    send(
        http()
            .post(format!("{}/api/v1/entries", instance.url))
            .header("x-forwarded-for", forwarded_for)
            .body("not an entry"),
    )
    .await
    .status
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let limit = |c: &mut aidledger::server::Config| {
        c.limits = Limits {
            per_ip_per_minute: 2,
            per_key_per_minute: 0,
        };
    };
    // The test client connects from 127.0.0.1: here it is a trusted proxy.
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        limit(c);
        c.connections.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await;
    assert_eq!(write_via(&instance, "203.0.113.1").await, 400);
    assert_eq!(write_via(&instance, "203.0.113.1").await, 400);
    assert_eq!(write_via(&instance, "203.0.113.1").await, 429);
    // Another client behind the same proxy is not held back by the first...
    assert_eq!(write_via(&instance, "203.0.113.2").await, 400);
    // ...and a client cannot pick its bucket by writing its own header first.
    assert_eq!(write_via(&instance, "198.51.100.9, 203.0.113.1").await, 429);
    instance.stop().await;

    // Without trusted proxies the header is anyone's to write and is ignored.
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), limit).await;
    assert_eq!(write_via(&instance, "203.0.113.1").await, 400);
    assert_eq!(write_via(&instance, "203.0.113.2").await, 400);
    assert_eq!(write_via(&instance, "203.0.113.3").await, 429);
    instance.stop().await;
}

/// `reply` is a JSON refusal with `status` whose message contains `needle`.
fn assert_json_refusal(what: &str, reply: &Reply, status: u16, needle: &str) {
    assert_eq!(
        reply.status,
        status,
        "{what}: {:?}",
        String::from_utf8_lossy(&reply.body)
    );
    let message = reply.error();
    assert!(
        message.contains(needle),
        "{what}: {message:?} names {needle:?}"
    );
}

#[tokio::test]
async fn every_refusal_of_the_http_layer_is_json_naming_the_limit() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let long = "a".repeat(MAX_TARGET_BYTES);
    let reply = send(http().get(format!("{url}/api/v1/search?q={long}"))).await;
    assert_json_refusal("long target", &reply, 414, &MAX_TARGET_BYTES.to_string());
    let reply = send(http().get(format!("{url}/?q={long}"))).await;
    assert_json_refusal(
        "long page target",
        &reply,
        414,
        &MAX_TARGET_BYTES.to_string(),
    );
    let reply = send(
        http()
            .get(format!("{url}/"))
            .header("x-big", "b".repeat(40_000)),
    )
    .await;
    assert_json_refusal("large header", &reply, 431, "limit");
    let mut many = http().get(format!("{url}/checkpoint"));
    for n in 0..MAX_HEADERS {
        many = many.header(format!("x-h{n}"), "v");
    }
    assert_json_refusal(
        "many headers",
        &send(many).await,
        431,
        &MAX_HEADERS.to_string(),
    );
    // Far past our limits, hyper itself refuses before any handler runs: JSON too.
    let addr = url.trim_start_matches("http://");
    let huge = "a".repeat(100_000);
    for (what, request, status, needle) in [
        (
            "100 KB target",
            format!("GET /api/v1/search?q={huge} HTTP/1.1\r\nHost: x\r\n\r\n"),
            "414 URI Too Long",
            MAX_TARGET_BYTES.to_string(),
        ),
        (
            "300 KB header",
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "b".repeat(300_000)
            ),
            "431 Request Header Fields Too Large",
            "limit".to_owned(),
        ),
        (
            "malformed head",
            "GET / HTTP/1.1\r\nBad Header\r\n\r\n".to_owned(),
            "400 Bad Request",
            "malformed HTTP request".to_owned(),
        ),
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The server may answer and close before it has read all of a huge head.
        let _ = stream.write_all(request.as_bytes()).await;
        let answer = closed_by_server(&mut stream).await.expect("answered");
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}\r\n")),
            "{what}: {head}"
        );
        assert!(
            head.contains("content-type: application/json"),
            "{what}: {head}"
        );
        let body: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
        let message = body["error"].as_str().expect("an error message");
        assert!(message.contains(&needle), "{what}: {message}");
    }
    // axum's own extractor refusals, before any handler code runs.
    let reply = send(http().get(format!("{url}/api/v1/needs/%FF"))).await;
    assert_json_refusal("undecodable path segment", &reply, 400, "UTF-8");
    let reply = send(http().get(format!("{url}/api/v1/log/entries?start=x"))).await;
    assert_json_refusal("bad query", &reply, 400, "start");
    let reply = send(http().post(format!("{url}/"))).await;
    assert_json_refusal("POST on a page", &reply, 405, "not allowed");
    let reply = send(http().get(format!("{url}/pkg/nothing.js"))).await;
    assert_json_refusal("missing asset", &reply, 404, "/pkg/nothing.js");
    // The limit an oversized submission is told is the limit enforced: one byte under
    // it is read (and refused for what it says), one byte over is not.
    let reply = send(
        http()
            .post(format!("{url}/api/v1/submissions"))
            .body(vec![b' '; 1 << 20]),
    )
    .await;
    assert_eq!(reply.status, 413);
    let limit: usize = reply
        .error()
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .expect("the message names the limit")
        .parse()
        .unwrap();
    let at_limit = send(
        http()
            .post(format!("{url}/api/v1/submissions"))
            .body(vec![b' '; limit]),
    )
    .await;
    assert_json_refusal("body at the limit", &at_limit, 400, "a submission is JSON");
    let over = send(
        http()
            .post(format!("{url}/api/v1/submissions"))
            .body(vec![b' '; limit + 1]),
    )
    .await;
    assert_json_refusal("body over the limit", &over, 413, &limit.to_string());
    instance.stop().await;
}

#[tokio::test]
async fn a_start_beyond_any_index_lists_nothing() {
    let instance = TestInstance::start().await;
    let key = common::author(3);
    common::post_entry(&instance.url, common::offer(&key, "start")).await;
    let author = hex::encode(key.verifying_key().as_bytes());
    let path = format!("/api/v1/authors/{author}/entries");
    assert_eq!(
        get(&instance, &path).await.json()["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // 2^63 once wrapped to a negative index and listed the author's entries from 0.
    let reply = get(&instance, &format!("{path}?start=9223372036854775808")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["entries"], serde_json::json!([]));
    instance.stop().await;
}
