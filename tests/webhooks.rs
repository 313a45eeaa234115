//! Webhooks (docs/API.md "Webhooks"): subscriptions managed by signed requests, and
//! deliveries to a real receiving HTTP server — exactly the entries each selection
//! takes, signed with the subscription's secret, never carrying private data, retried
//! with back-off and logged.

use crate::common;

use aidledger::server::auth::authorization;
use aidledger::services::webhooks::Settings;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use common::{author, private_submission, public, signed, TestInstance};
use ed25519_dalek::SigningKey;
use hmac::{Hmac, Mac};
use ledger::entry::VerifiedEntry;
use ledger::Kind;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver got: the path's hook name, the headers and the body.
#[derive(Clone, Debug)]
struct Received {
    hook: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Per hook name, how many requests still to answer 500.
    failing: Arc<Mutex<HashMap<String, u32>>>,
}

impl Receiver {
    /// A receiving server on a random loopback port; its base URL.
    async fn start(&self) -> String {
        async fn hook(
            State(r): State<Receiver>,
            Path(name): Path<String>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> StatusCode {
            r.received.lock().unwrap().push(Received {
                hook: name.clone(),
                headers,
                body: body.to_vec(),
            });
            let mut failing = r.failing.lock().unwrap();
            match failing.get_mut(&name) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::NO_CONTENT,
            }
        }
        let app = axum::Router::new()
            .route("/hook/{name}", axum::routing::post(hook))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn of(&self, hook: &str) -> Vec<Received> {
        let all = self.received.lock().unwrap();
        all.iter().filter(|r| r.hook == hook).cloned().collect()
    }
}

/// Settings for tests: loopback receivers allowed, quick retries.
fn quick() -> Settings {
    Settings {
        allow_private_targets: true,
        retry_base: Duration::from_millis(50),
        poll: Duration::from_millis(50),
        max_attempts: 3,
        ..Settings::default()
    }
}

async fn start(settings: Settings) -> (TestInstance, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.limits = common::NO_WRITE_LIMITS;
        c.webhooks = settings;
    })
    .await;
    (instance, dir)
}

/// A management request signed by `key` (or unsigned with `None`): status and JSON.
async fn manage(
    url: &str,
    method: &str,
    path_and_query: &str,
    key: Option<&SigningKey>,
) -> (u16, Value) {
    let method: reqwest::Method = method.parse().unwrap();
    let mut request = common::http().request(method.clone(), format!("{url}{path_and_query}"));
    if let Some(key) = key {
        request = request.header(
            "authorization",
            authorization(key, method.as_str(), path_and_query),
        );
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Subscribes `key` to `selection` (query parameters) at `callback`: (id, secret).
async fn subscribe(
    url: &str,
    key: &SigningKey,
    callback: &str,
    selection: &str,
) -> (String, String) {
    let (status, answer) = manage(
        url,
        "POST",
        &format!("/api/v1/webhooks?url={}&{selection}", encode(callback)),
        Some(key),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    (
        answer["id"].as_str().unwrap().to_owned(),
        answer["secret"].as_str().unwrap().to_owned(),
    )
}

/// Waits (at most 30 s) until `done` holds.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

/// The delivery log of subscription `id`, read by `key`.
async fn delivery_log(url: &str, key: &SigningKey, id: &str) -> Vec<Value> {
    let (status, answer) = manage(
        url,
        "GET",
        &format!("/api/v1/webhooks/{id}/deliveries"),
        Some(key),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["deliveries"].as_array().unwrap().clone()
}

/// Waits until the matcher has passed every entry of the log and no delivery of
/// `subscriptions` is pending: from then on nothing more will be sent.
async fn settled(instance: &TestInstance, size: u64, key: &SigningKey, subscriptions: &[&str]) {
    until("the matcher passed the log's head", async || {
        let pool = common::open_db(&instance.data_dir).await;
        let cursor: i64 = sqlx::query_scalar("SELECT next_index FROM webhook_cursor")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        cursor >= i64::try_from(size).unwrap()
    })
    .await;
    for id in subscriptions {
        until("every delivery is settled", async || {
            delivery_log(&instance.url, key, id)
                .await
                .iter()
                .all(|d| d["state"] != "pending")
        })
        .await;
    }
}

/// The signature a receiver expects of `r` with `secret` (docs/API.md): HMAC-SHA256
/// of `timestamp.body`.
fn expected_signature(r: &Received, secret: &str) -> String {
    let timestamp = r.headers["x-aidledger-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&r.body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a delivery as a receiver would: its signature with `secret`, and the body's
/// entry against its leaf hash.
fn verified(r: &Received, secret: &str) -> Value {
    let signature = r.headers["x-aidledger-signature"].to_str().unwrap();
    assert_eq!(
        signature,
        expected_signature(r, secret),
        "the signature verifies with the secret"
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let leaf = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        body["leaf"].as_str().unwrap(),
    )
    .unwrap();
    let entry = VerifiedEntry::from_leaf(&leaf).expect("the delivered leaf is a valid entry");
    assert_eq!(body["leaf_hash"], json!(common::id(&entry)));
    assert_eq!(
        body["entry"],
        serde_json::from_slice::<Value>(&leaf).unwrap()
    );
    body
}

fn canary_contact(tag: &str) -> Value {
    json!({
        "name": format!("CANARY-NAME-{tag}"),
        "phone": "+86 139 0000 7999",
        "email": format!("canary-{tag}@example.org"),
        "address": format!("CANARY-ADDR-{tag} Road"),
    })
}

/// Appends an entry (`leaf`) or a submission with private data: its index and id.
async fn append(url: &str, path: &str, body: Vec<u8>) -> (u64, String) {
    let answer = common::http()
        .post(format!("{url}{path}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let submitted: Value = answer.json().await.unwrap();
    (
        submitted["index"].as_u64().unwrap(),
        submitted["leaf_hash"].as_str().unwrap().to_owned(),
    )
}

async fn entry(url: &str, leaf: Vec<u8>) -> (u64, String) {
    append(url, "/api/v1/entries", leaf).await
}

async fn private(url: &str, submission: Vec<u8>) -> (u64, String) {
    append(url, "/api/v1/submissions", submission).await
}

fn org_body(code: &str, name: &str) -> Value {
    json!({"name": name, "type": "hospital", "area": {"code": code, "name": code}})
}

fn need_body(org: &str, code: &str, category: &str) -> Value {
    json!({
        "org": org,
        "items": [{"item": format!("{category} supplies"), "category": category, "quantity": 100, "unit": "piece"}],
        "urgency": "critical", "needed_by": "2099-01-01",
        "area": {"code": code, "name": code},
    })
}

fn pledge_body(need: &str) -> Value {
    json!({"need": need, "items": [{"line": 0, "quantity": 10}]})
}

/// Indices of what `hook` received, checked with `secret`.
fn indices(receiver: &Receiver, hook: &str, secret: &str, subscription: &str) -> BTreeSet<u64> {
    receiver
        .of(hook)
        .iter()
        .map(|r| {
            let body = verified(r, secret);
            assert_eq!(body["subscription"], json!(subscription));
            body["index"].as_u64().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn each_subscription_receives_exactly_what_it_selects_signed_and_without_private_data() {
    let (instance, _dir) = start(quick()).await;
    let url = &instance.url;
    let receiver = Receiver::default();
    let hooks = receiver.start().await;
    let (hospital, clinic, donor, integrator) = (author(91), author(92), author(93), author(94));

    let (_, hubei) = entry(
        url,
        signed(
            &hospital,
            Kind::OrgRegister,
            org_body("CN-HB", "Wuhan Hook Hospital"),
        ),
    )
    .await;
    let (_, guangdong) = entry(
        url,
        signed(
            &clinic,
            Kind::OrgRegister,
            org_body("CN-GD", "Guangzhou Hook Clinic"),
        ),
    )
    .await;

    let (by_filter, filter_secret) = subscribe(
        url,
        &integrator,
        &format!("{hooks}/hook/filter"),
        "kind=need&category=respirator&area=Hubei",
    )
    .await;
    let (by_org, org_secret) = subscribe(
        url,
        &integrator,
        &format!("{hooks}/hook/org"),
        &format!("org={hubei}"),
    )
    .await;
    let (by_author, author_secret) = subscribe(
        url,
        &integrator,
        &format!("{hooks}/hook/author"),
        &format!("author={}", public(&hospital)),
    )
    .await;

    let (submission, _) = private_submission(
        &hospital,
        Kind::NeedPost,
        need_body(&hubei, "CN-HB", "respirator"),
        canary_contact("need"),
    );
    let (respirators, respirators_id) = private(url, submission).await;
    let (_, clinic_need) = entry(
        url,
        signed(
            &clinic,
            Kind::NeedPost,
            need_body(&guangdong, "CN-GD", "gloves"),
        ),
    )
    .await;
    let (gloves, _) = entry(
        url,
        signed(
            &hospital,
            Kind::NeedPost,
            need_body(&hubei, "CN-HB", "gloves"),
        ),
    )
    .await;
    let (submission, _) = private_submission(
        &donor,
        Kind::Pledge,
        pledge_body(&respirators_id),
        canary_contact("pledge"),
    );
    let (pledge, _) = private(url, submission).await;
    entry(url, signed(&donor, Kind::Pledge, pledge_body(&clinic_need))).await;
    let (clinic_respirators, _) = entry(
        url,
        signed(
            &clinic,
            Kind::NeedPost,
            need_body(&guangdong, "CN-HB", "respirator"),
        ),
    )
    .await;

    settled(
        &instance,
        clinic_respirators + 1,
        &integrator,
        &[&by_filter, &by_org, &by_author],
    )
    .await;
    assert_eq!(
        indices(&receiver, "filter", &filter_secret, &by_filter),
        BTreeSet::from([respirators, clinic_respirators])
    );
    assert_eq!(
        indices(&receiver, "org", &org_secret, &by_org),
        BTreeSet::from([respirators, gloves, pledge])
    );
    assert_eq!(
        indices(&receiver, "author", &author_secret, &by_author),
        BTreeSet::from([pledge])
    );
    // Each was delivered once, and a subscription's secret signs only its own.
    assert_eq!(receiver.received.lock().unwrap().len(), 6);
    let delivered = &receiver.of("org")[0];
    assert_ne!(
        delivered.headers["x-aidledger-signature"].to_str().unwrap(),
        expected_signature(delivered, &filter_secret)
    );

    for r in receiver.received.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(&r.body).to_lowercase();
        for canary in ["canary", "139 0000 7999", "example.org"] {
            assert!(
                !text.contains(canary),
                "a delivery carries private data: {text}"
            );
        }
    }
    let log = delivery_log(url, &integrator, &by_org).await;
    assert_eq!(log.len(), 3);
    for d in &log {
        assert_eq!(d["state"], "delivered");
        assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
        assert_eq!(d["attempts"][0]["status"], 204);
    }
    instance.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_back_off_then_marked_failed_and_logged() {
    let (instance, _dir) = start(quick()).await;
    let url = &instance.url;
    let receiver = Receiver::default();
    let hooks = receiver.start().await;
    receiver.failing.lock().unwrap().insert("flaky".into(), 2);
    let integrator = author(95);
    let hospital = author(96);
    let (_, org) = entry(
        url,
        signed(
            &hospital,
            Kind::OrgRegister,
            org_body("CN-HB", "Retry Hospital"),
        ),
    )
    .await;
    let (flaky, secret) = subscribe(
        url,
        &integrator,
        &format!("{hooks}/hook/flaky"),
        &format!("org={org}"),
    )
    .await;
    // A port nobody listens on: connections are refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    // An https callback is spoken to in TLS: the receiver, plain HTTP, gets no request.
    let tls_url = format!("{}/hook/tls", hooks.replace("http://", "https://"));
    let (tls, _) = subscribe(url, &integrator, &tls_url, &format!("org={org}")).await;
    let (refused, _) = subscribe(
        url,
        &integrator,
        &format!("http://{closed}/hook"),
        &format!("org={org}"),
    )
    .await;

    let (need, _) = entry(
        url,
        signed(
            &hospital,
            Kind::NeedPost,
            need_body(&org, "CN-HB", "gloves"),
        ),
    )
    .await;
    settled(&instance, need + 1, &integrator, &[&flaky, &refused, &tls]).await;

    let got = receiver.of("flaky");
    assert_eq!(got.len(), 3, "two failures, then the success");
    let attempts: Vec<&str> = got
        .iter()
        .map(|r| r.headers["x-aidledger-attempt"].to_str().unwrap())
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    let bodies: BTreeSet<String> = got
        .iter()
        .map(|r| verified(r, &secret).to_string())
        .collect();
    assert_eq!(bodies.len(), 1, "every attempt carries the same body");

    let log = delivery_log(url, &integrator, &flaky).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["state"], "delivered");
    let statuses: Vec<&Value> = log[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(204)]);

    assert!(receiver.of("tls").is_empty());
    let log = delivery_log(url, &integrator, &tls).await;
    assert_eq!(log[0]["state"], "failed");
    assert_eq!(log[0]["attempts"][0]["error"], "could not connect");

    let log = delivery_log(url, &integrator, &refused).await;
    assert_eq!(log[0]["state"], "failed");
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "max_attempts, then failed");
    for a in attempts {
        assert_eq!(a["status"], Value::Null);
        assert_eq!(a["error"], "could not connect");
    }
    instance.stop().await;
}

#[tokio::test]
async fn only_the_owners_signed_requests_manage_a_subscription() {
    let (instance, _dir) = start(Settings {
        per_key: 2,
        ..quick()
    })
    .await;
    let url = &instance.url;
    let (owner, other) = (author(97), author(98));
    let org = "ab".repeat(32);
    let path = format!(
        "/api/v1/webhooks?url={}&org={org}",
        encode("http://127.0.0.1:9/hook")
    );

    let (status, answer) = manage(url, "POST", &path, None).await;
    assert_eq!(status, 401);
    assert!(common::error_message(&answer)
        .unwrap()
        .contains("signed request"));
    // Signed for another target: the signature does not verify.
    let bad = common::http()
        .post(format!("{url}{path}"))
        .header(
            "authorization",
            authorization(&owner, "POST", "/api/v1/webhooks"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(common::error_message(&bad.json().await.unwrap())
        .unwrap()
        .contains("does not verify"));
    let (_, listed) = manage(url, "GET", "/api/v1/webhooks", Some(&owner)).await;
    assert_eq!(
        listed["subscriptions"],
        json!([]),
        "refusals created nothing"
    );
    assert_eq!(manage(url, "GET", "/api/v1/webhooks", None).await.0, 401);

    let (id, _) = subscribe(
        url,
        &owner,
        "http://127.0.0.1:9/hook",
        &format!("org={org}"),
    )
    .await;
    let (status, answer) = manage(
        url,
        "DELETE",
        &format!("/api/v1/webhooks/{id}"),
        Some(&other),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        manage(
            url,
            "GET",
            &format!("/api/v1/webhooks/{id}/deliveries"),
            Some(&other)
        )
        .await
        .0,
        403
    );
    assert_eq!(
        manage(url, "DELETE", &format!("/api/v1/webhooks/{id}"), None)
            .await
            .0,
        401
    );
    let (_, listed) = manage(url, "GET", "/api/v1/webhooks", Some(&owner)).await;
    assert_eq!(listed["subscriptions"][0]["id"], json!(id));
    assert!(
        listed["subscriptions"][0].get("secret").is_none(),
        "the secret is shown once"
    );
    assert_eq!(
        manage(url, "GET", "/api/v1/webhooks", Some(&other)).await.1["subscriptions"],
        json!([])
    );

    // Refusals name what is wrong.
    for (query, needle) in [
        (
            format!("url={}&org={org}", encode("ftp://example.org/x")),
            "http or https",
        ),
        (
            format!(
                "url={}&org={org}",
                encode(&format!("https://example.org/{}", "a".repeat(2100)))
            ),
            "2048",
        ),
        (
            format!("url={}&org={org}", encode("https://me:pw@example.org/")),
            "password",
        ),
        (
            format!("url={}&org=xyz", encode("https://example.org/")),
            "org must be 64",
        ),
        (
            format!(
                "url={}&kind=need&category=caviar",
                encode("https://example.org/")
            ),
            "category must be one of",
        ),
        (
            format!(
                "url={}&org={org}&author={org}",
                encode("https://example.org/")
            ),
            "exactly one",
        ),
        (
            format!("url={}&org={org}&area=CN", encode("https://example.org/")),
            "kind=need",
        ),
        (format!("org={org}"), "url"),
    ] {
        let (status, answer) = manage(
            url,
            "POST",
            &format!("/api/v1/webhooks?{query}"),
            Some(&owner),
        )
        .await;
        assert_eq!(status, 400, "{query}: {answer}");
        let message = common::error_message(&answer).unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
    subscribe(url, &owner, "http://127.0.0.1:9/two", &format!("org={org}")).await;
    let (status, answer) = manage(url, "POST", &path, Some(&owner)).await;
    assert_eq!(status, 409, "{answer}");
    assert!(common::error_message(&answer)
        .unwrap()
        .contains("at most 2"));

    let (status, _) = manage(
        url,
        "DELETE",
        &format!("/api/v1/webhooks/{id}"),
        Some(&owner),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        manage(url, "GET", "/api/v1/webhooks", Some(&owner)).await.1["subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        manage(
            url,
            "DELETE",
            &format!("/api/v1/webhooks/{id}"),
            Some(&owner)
        )
        .await
        .0,
        404
    );
    instance.stop().await;
}

#[tokio::test]
async fn by_default_callbacks_must_reach_public_addresses() {
    let (instance, _dir) = start(Settings::default()).await;
    let owner = author(99);
    for target in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
    ] {
        let (status, answer) = manage(
            &instance.url,
            "POST",
            &format!(
                "/api/v1/webhooks?url={}&author={}",
                encode(target),
                "cd".repeat(32)
            ),
            Some(&owner),
        )
        .await;
        assert_eq!(status, 400, "{target}");
        assert!(
            common::error_message(&answer)
                .unwrap()
                .contains("public address"),
            "{answer}"
        );
    }
    subscribe(
        &instance.url,
        &owner,
        "https://hooks.example.org/aid",
        &format!("author={}", "cd".repeat(32)),
    )
    .await;
    instance.stop().await;
}

#[tokio::test]
async fn a_restarted_server_resumes_after_the_last_entry_it_matched() {
    let dir = tempfile::tempdir().unwrap();
    let configure = |c: &mut aidledger::server::Config| {
        c.limits = common::NO_WRITE_LIMITS;
        c.webhooks = quick();
    };
    let instance = TestInstance::start_configured(dir.path(), configure).await;
    let receiver = Receiver::default();
    let hooks = receiver.start().await;
    let (integrator, hospital) = (author(100), author(101));
    let (_, org) = entry(
        &instance.url,
        signed(
            &hospital,
            Kind::OrgRegister,
            org_body("CN-HB", "Restart Hospital"),
        ),
    )
    .await;
    let (id, secret) = subscribe(
        &instance.url,
        &integrator,
        &format!("{hooks}/hook/restart"),
        &format!("org={org}"),
    )
    .await;
    let (before, _) = entry(
        &instance.url,
        signed(
            &hospital,
            Kind::NeedPost,
            need_body(&org, "CN-HB", "gloves"),
        ),
    )
    .await;
    settled(&instance, before + 1, &integrator, &[&id]).await;
    instance.stop().await;

    let instance = TestInstance::start_configured(dir.path(), configure).await;
    let (after, _) = entry(
        &instance.url,
        signed(
            &hospital,
            Kind::NeedPost,
            need_body(&org, "CN-HB", "respirator"),
        ),
    )
    .await;
    settled(&instance, after + 1, &integrator, &[&id]).await;
    let got: Vec<u64> = receiver
        .of("restart")
        .iter()
        .map(|r| verified(r, &secret)["index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        got,
        [before, after],
        "each once, none again after the restart"
    );
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_deliver_each_entry_once() {
    if !common::on_postgres() {
        eprintln!("not run on SQLite: several nodes share only a PostgreSQL database");
        return;
    }
    let (first, first_dir) = start(quick()).await;
    let second_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        first_dir.path().join(aidledger::keys::LOG_KEY_FILE),
        second_dir.path().join(aidledger::keys::LOG_KEY_FILE),
    )
    .unwrap();
    let url = common::database_url(first_dir.path()).await;
    let second = TestInstance::start_configured(second_dir.path(), |c| {
        c.limits = common::NO_WRITE_LIMITS;
        c.webhooks = quick();
        c.database_url = url;
    })
    .await;
    let receiver = Receiver::default();
    let hooks = receiver.start().await;
    let (integrator, hospital) = (author(102), author(103));
    let (_, org) = entry(
        &first.url,
        signed(
            &hospital,
            Kind::OrgRegister,
            org_body("CN-HB", "Two Node Hospital"),
        ),
    )
    .await;
    let (id, secret) = subscribe(
        &second.url,
        &integrator,
        &format!("{hooks}/hook/nodes"),
        &format!("org={org}"),
    )
    .await;
    let mut expected = BTreeSet::new();
    for i in 0..20 {
        let node = if i % 2 == 0 { &first } else { &second };
        let mut body = need_body(&org, "CN-HB", "gloves");
        body["description"] = json!(format!("need {i}"));
        let (index, _) = entry(&node.url, signed(&hospital, Kind::NeedPost, body)).await;
        expected.insert(index);
    }
    let last = *expected.last().unwrap();
    settled(&first, last + 1, &integrator, &[&id]).await;
    assert_eq!(indices(&receiver, "nodes", &secret, &id), expected);
    assert_eq!(receiver.of("nodes").len(), expected.len(), "none twice");
    for d in delivery_log(&second.url, &integrator, &id).await {
        assert_eq!(d["attempts"].as_array().unwrap().len(), 1, "{d}");
    }
    second.stop().await;
    first.stop().await;
}
