//! Property test of the HTTP surface against a real instance: random query strings on
//! the read routes, random path segments and tile paths, random `Authorization` headers
//! on the private reads, random bodies on the two write routes. Whatever comes in, the
//! answer is never 5xx, every 4xx is `{"error": "<message>"}`, and a refused write
//! leaves the published log as it was.
//!
//! Cases (CI): 200 requests in all, a few seconds. More with PROPTEST_CASES, e.g.
//! `PROPTEST_CASES=5000 cargo test -p aidledger --test prop_http`.

use crate::common;
#[path = "../ledger/tests/prop_support/mod.rs"]
mod prop_support;

use common::{author, offer, TestInstance};
use ed25519_dalek::SigningKey;
use prop_support::{any_json, config, envelope, mutation, signed_leaf};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};

/// One request, as sent.
#[derive(Clone, Debug)]
struct Probe {
    post: bool,
    path_and_query: String,
    authorization: Option<Bytes>,
    body: Bytes,
}

/// Bytes shown as text in a failing case.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl Probe {
    fn get(path_and_query: String) -> Probe {
        Probe {
            post: false,
            path_and_query,
            authorization: None,
            body: Bytes(vec![]),
        }
    }

    fn post(path: &str, body: Vec<u8>) -> Probe {
        Probe {
            post: true,
            path_and_query: path.to_owned(),
            authorization: None,
            body: Bytes(body),
        }
    }
}

/// Leaf hashes of the entries the instance holds, so that some probes name real ones.
struct Known {
    leaf_hashes: Vec<String>,
    leaves: Vec<Vec<u8>>,
}

/// A query value: numbers at and past the edges of their types, hashes, text, and
/// percent escapes (valid, invalid and of invalid UTF-8).
fn query_value(known: &Known) -> BoxedStrategy<String> {
    prop_oneof![
        (0..20u64).prop_map(|n| n.to_string()),
        prop::sample::select(
            &[
                "0",
                "-1",
                "4294967295",
                "4294967296",
                "9223372036854775807",
                "9223372036854775808",
                "18446744073709551615",
                "18446744073709551616",
                "1e3",
                "",
                "%FF",
                "%",
                "%zz",
                "%E4%BD%A0",
                "true",
                "need",
                "CN-HB",
                "verified",
                "pending",
                "open",
                "critical",
                "need.post",
                "respirator",
            ][..]
        )
        .prop_map(String::from),
        prop::sample::select(known.leaf_hashes.clone()),
        "[0-9a-f]{64}",
        "[a-zA-Z0-9_.~+*-]{0,12}",
        "\\PC{0,12}".prop_map(|s| percent_encode(&s)),
    ]
    .boxed()
}

/// Percent-encodes every byte outside the unreserved set.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET routes with their query parameters (docs/API.md), plus names they do not take.
const QUERIED: &[(&str, &[&str])] = &[
    ("/api/v1/log/entries", &["start", "limit"]),
    ("/api/v1/log/proof/inclusion", &["leaf_hash", "tree_size"]),
    ("/api/v1/log/proof/consistency", &["first", "second"]),
    (
        "/api/v1/needs",
        &[
            "status", "category", "area", "urgency", "verified", "page", "per_page",
        ],
    ),
    (
        "/api/v1/offers",
        &[
            "status", "category", "area", "urgency", "verified", "page", "per_page",
        ],
    ),
    ("/api/v1/orgs", &["verified", "area", "page", "per_page"]),
    (
        "/api/v1/review",
        &["kind", "area", "sort", "page", "per_page"],
    ),
    (
        "/api/v1/search",
        &[
            "q", "kind", "category", "area", "status", "urgency", "verified", "sort", "page",
            "per_page", "limit", "offset",
        ],
    ),
];

/// A query on one of the routes: either its own parameters, each at most once, with
/// plausible values (which reaches the handlers' answers), or any names in any number.
fn query_get(known: &Known) -> impl Strategy<Value = Probe> {
    let value = query_value(known);
    let small = prop_oneof![
        2 => (0..4u64).prop_map(|n| n.to_string()),
        1 => prop::sample::select(known.leaf_hashes.clone()),
        2 => value.clone(),
    ];
    prop::sample::select(QUERIED).prop_flat_map(move |(path, names)| {
        let own = prop::sample::subsequence(names.to_vec(), 0..=names.len()).prop_flat_map({
            let small = small.clone();
            move |names| {
                names
                    .into_iter()
                    .map(|n| small.clone().prop_map(move |v| format!("{n}={v}")))
                    .collect::<Vec<_>>()
            }
        });
        let name = prop_oneof![
            6 => prop::sample::select(names.to_vec()).prop_map(String::from),
            1 => "[a-z_%]{0,8}",
        ];
        let any =
            prop::collection::vec((name, value.clone(), any::<bool>()), 0..5).prop_map(|params| {
                params
                    .into_iter()
                    .map(|(n, v, eq)| if eq { format!("{n}={v}") } else { n })
                    .collect::<Vec<_>>()
            });
        prop_oneof![own, any]
            .prop_map(move |query| Probe::get(format!("{path}?{}", query.join("&"))))
    })
}

/// A path segment: a real or random hash, text, or an escape that does not decode.
fn segment(known: &Known) -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(known.leaf_hashes.clone()),
        "[0-9a-f]{64}",
        "[0-9a-fA-F]{0,66}",
        "\\PC{1,12}".prop_map(|s| percent_encode(&s)),
        prop::sample::select(&["%FF", "%C3%28", "%00", "..", "%2F"][..]).prop_map(String::from),
    ]
    .boxed()
}

fn path_get(known: &Known) -> impl Strategy<Value = Probe> {
    let tile = prop_oneof![
        "(entries|[0-9]{1,2})/(x[0-9]{3}/){0,2}[0-9]{3}(\\.p/[0-9]{1,3})?",
        "[0-9a-z./]{0,20}",
    ];
    prop_oneof![
        (
            prop::sample::select(
                &[
                    "/api/v1/needs/",
                    "/api/v1/offers/",
                    "/api/v1/orgs/",
                    "/api/v1/trace/",
                    "/api/v1/authors/",
                ][..]
            ),
            segment(known),
            query_value(known),
        )
            .prop_map(|(route, id, start)| {
                if route.ends_with("authors/") {
                    Probe::get(format!("{route}{id}/entries?start={start}"))
                } else {
                    Probe::get(format!("{route}{id}"))
                }
            }),
        prop_oneof![tile, segment(known)].prop_map(|t| Probe::get(format!("/tile/{t}"))),
    ]
}

/// `Authorization` values: signed by a random key now or at any time, header-shaped
/// junk around a real key, or arbitrary bytes.
fn signed_get(known: &Known) -> impl Strategy<Value = Probe> {
    (
        segment(known),
        any::<bool>(),
        (any::<[u8; 32]>(), any::<i64>(), 0..4u8, "\\PC{0,40}"),
        prop::collection::vec(any::<u8>(), 0..20),
    )
        .prop_map(|(id, reads, (seed, ts, how, junk), raw)| {
            let path = format!("/api/v1/private/{id}{}", if reads { "/reads" } else { "" });
            let key = SigningKey::from_bytes(&seed);
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let header = match how {
                0 => ledger::request::authorization(&key, "GET", &path, now).into_bytes(),
                1 => ledger::request::authorization(&key, "GET", &path, ts).into_bytes(),
                2 => format!("Aidledger key={}, ts={ts}, {junk}", hex::encode(seed)).into_bytes(),
                _ => raw,
            };
            Probe {
                authorization: Some(Bytes(header)),
                ..Probe::get(path)
            }
        })
}

fn entry_post(known: &Known) -> impl Strategy<Value = Probe> {
    let leaves = known.leaves.clone();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        envelope(),
        signed_leaf(),
        (prop::sample::select(leaves), mutation()).prop_map(|(leaf, m)| m.apply(&leaf)),
    ]
    .prop_map(|body| Probe::post("/api/v1/entries", body))
}

fn submission_post(known: &Known) -> impl Strategy<Value = Probe> {
    let leaves = known.leaves.clone();
    let entry = prop_oneof![
        prop::sample::select(leaves).prop_map(|l| Value::from(String::from_utf8(l).unwrap())),
        signed_leaf().prop_map(|l| Value::from(String::from_utf8(l).unwrap())),
        any_json(),
    ];
    let private = prop_oneof![
        Just(None),
        any_json().prop_map(Some),
        ("[0-9a-f]{64}", "\\PC{0,20}")
            .prop_map(|(salt, name)| Some(json!({"salt": salt, "contact": {"name": name}}))),
    ];
    prop_oneof![
        3 => (entry, private).prop_map(|(entry, private)| {
            let mut v = json!({ "entry": entry });
            if let Some(p) = private {
                v["private"] = p;
            }
            serde_json::to_vec(&v).unwrap()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
    .prop_map(|body| Probe::post("/api/v1/submissions", body))
}

fn probe(known: &Known) -> impl Strategy<Value = Probe> {
    prop_oneof![
        8 => query_get(known),
        4 => path_get(known),
        3 => signed_get(known),
        3 => entry_post(known),
        2 => submission_post(known),
    ]
}

/// The tree size of the published checkpoint (its second line).
async fn log_size(url: &str) -> u64 {
    let note = reqwest::get(format!("{url}/checkpoint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    note.lines().nth(1).unwrap().parse().unwrap()
}

async fn check(http: &reqwest::Client, url: &str, probe: Probe) -> Result<(), TestCaseError> {
    let before = log_size(url).await;
    let target = format!("{url}{}", probe.path_and_query);
    let mut request = if probe.post {
        http.post(&target).body(probe.body.0)
    } else {
        http.get(&target)
    };
    if let Some(value) = &probe.authorization {
        // A value HTTP cannot carry never reaches the server.
        let Ok(value) = HeaderValue::from_bytes(&value.0) else {
            return Ok(());
        };
        request = request.header(AUTHORIZATION, value);
    }
    let response = request.send().await.expect("every request is answered");
    let status = response.status();
    let body = response.bytes().await.unwrap();
    let shown = String::from_utf8_lossy(&body);
    prop_assert!(!status.is_server_error(), "{status}: {shown}");
    if status.is_client_error() {
        let error: Value = serde_json::from_slice(&body)
            .map_err(|_| TestCaseError::fail(format!("{status} is not JSON: {shown:?}")))?;
        let message = common::error_message(&error);
        prop_assert!(
            message.is_some_and(|m| !m.trim().is_empty()),
            "{status} is not {{\"error\": message}}: {shown}"
        );
        prop_assert_eq!(
            log_size(url).await,
            before,
            "a refused request changed the log"
        );
    }
    Ok(())
}

#[test]
fn no_request_gets_a_server_error_or_an_error_that_is_not_json() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let instance = runtime.block_on(TestInstance::start());
    let leaves: Vec<Vec<u8>> = (0..2)
        .map(|n| offer(&author(1), &format!("probe {n}")))
        .collect();
    let leaf_hashes = runtime.block_on(async {
        let mut hashes = vec![];
        for leaf in &leaves {
            hashes.push(common::post_entry(&instance.url, leaf.clone()).await);
        }
        hashes
    });
    let known = Known {
        leaf_hashes,
        leaves,
    };
    let http = common::http();
    // A failing case is printed whole; it is not replayed from a file.
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..config(200)
    });
    let result = runner.run(&probe(&known), |probe| {
        runtime.block_on(check(&http, &instance.url, probe))
    });
    runtime.block_on(instance.stop());
    result.unwrap();
}
