//! Matching supply to demand (docs/API.md "Matching"), on a fixture whose expected
//! orders are written out: the same area first, then the same country, then
//! elsewhere; within each, posts naming the same item and covering more first.

use crate::common;

use common::{author, post_entry, signed, TestInstance};
use ed25519_dalek::SigningKey;
use ledger::Kind;
use serde_json::{json, Value};

fn item(name: &str, category: &str, quantity: u64, unit: &str) -> Value {
    json!({"item": name, "category": category, "quantity": quantity, "unit": unit})
}

fn area(code: &str) -> Value {
    json!({"code": code, "name": code})
}

async fn offer(url: &str, by: &SigningKey, items: Vec<Value>, code: &str) -> String {
    let body = json!({"items": items, "area": area(code), "available_until": "2099-12-31"});
    post_entry(url, signed(by, Kind::OfferPost, body)).await
}

/// A hospital in `code` (registered by `by`, who posts) and its need of `items`.
async fn need(url: &str, by: &SigningKey, items: Vec<Value>, code: &str) -> String {
    let mut org = common::org_body(code);
    org["area"] = area(code);
    let org = post_entry(url, signed(by, Kind::OrgRegister, org)).await;
    let body = json!({
        "org": org, "items": items, "urgency": "high",
        "needed_by": "2099-01-01", "area": area(code),
    });
    post_entry(url, signed(by, Kind::NeedPost, body)).await
}

async fn matches(url: &str, path: &str) -> (u16, Value) {
    let r = common::http()
        .get(format!("{url}{path}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn ids(answer: &Value) -> Vec<String> {
    answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["post"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn offers_fit_a_need_and_needs_an_offer_nearest_and_closest_first() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let hospital = author(61);
    let wuhan = need(
        url,
        &hospital,
        vec![
            item("N95口罩", "respirator", 500, "piece"),
            item("丁腈手套", "gloves", 100, "box"),
        ],
        "CN-HB",
    )
    .await;
    let same_area = offer(
        url,
        &author(62),
        vec![item("N95 口罩 3M 1860", "respirator", 300, "piece")],
        "CN-HB",
    )
    .await;
    let same_country = offer(
        url,
        &author(63),
        vec![item("KN95 masks", "respirator", 1000, "piece")],
        "CN-ZJ",
    )
    .await;
    let gloves = offer(
        url,
        &author(64),
        vec![item("丁腈手套", "gloves", 50, "box")],
        "CN-HB",
    )
    .await;
    let abroad = offer(
        url,
        &author(65),
        vec![item("N95口罩", "respirator", 200, "piece")],
        "US-CA",
    )
    .await;
    let rice = offer(
        url,
        &author(66),
        vec![item("rice", "food", 1000, "kilogram")],
        "CN-HB",
    )
    .await;
    let own = offer(
        url,
        &hospital,
        vec![item("N95口罩", "respirator", 10, "piece")],
        "CN-HB",
    )
    .await;
    let hangzhou = need(
        url,
        &author(67),
        vec![item("医用N95口罩", "respirator", 100, "piece")],
        "CN-ZJ",
    )
    .await;
    let gloves_only = need(
        url,
        &author(68),
        vec![item("gloves", "gloves", 10, "box")],
        "CN-HB",
    )
    .await;

    let (status, answer) = matches(url, &format!("/api/v1/needs/{wuhan}/matches")).await;
    assert_eq!(status, 200, "{answer}");
    // Rice fits no line, and the hospital's own offer is not a match for its need.
    assert_eq!(
        ids(&answer),
        [same_area.as_str(), &gloves, &same_country, &abroad],
        "{answer}"
    );
    assert!(!ids(&answer).contains(&rice) && !ids(&answer).contains(&own));
    // Each match says why: where it is, which lines fit and how much of them.
    let first = &answer["matches"][0];
    assert_eq!(first["region"], "same_area");
    assert_eq!(
        first["lines"],
        json!([{"need_line": 0, "offer_line": 0, "category": "respirator", "same_item": true, "quantity": 300}])
    );
    assert_eq!(answer["matches"][2]["region"], "same_country");
    assert_eq!(answer["matches"][2]["lines"][0]["same_item"], false);
    assert_eq!(answer["matches"][2]["lines"][0]["quantity"], 500);
    assert_eq!(answer["matches"][3]["region"], "elsewhere");

    // From the offer's side: needs it could fill, nearest first; a need of gloves only
    // does not fit an offer of respirators.
    let (status, answer) = matches(url, &format!("/api/v1/offers/{same_area}/matches")).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&answer), [wuhan.as_str(), &hangzhou], "{answer}");
    assert!(!ids(&answer).contains(&gloves_only));

    // What is still needed bounds a match: after 450 of 500 are pledged, the offer
    // covers the 50 that remain.
    let donor = author(69);
    post_entry(
        url,
        signed(
            &donor,
            Kind::Pledge,
            json!({"need": wuhan, "items": [{"line": 0, "quantity": 450}]}),
        ),
    )
    .await;
    let (_, answer) = matches(url, &format!("/api/v1/needs/{wuhan}/matches")).await;
    assert_eq!(answer["matches"][0]["lines"][0]["quantity"], 50, "{answer}");

    // An offer line gives each unit once: a need asking for the same item on two lines
    // is matched for no more than the offer holds.
    let two_lines = need(
        url,
        &author(70),
        vec![
            item("N95口罩", "respirator", 200, "piece"),
            item("N95口罩 儿童", "respirator", 200, "piece"),
        ],
        "CN-JX",
    )
    .await;
    let small = offer(
        url,
        &author(71),
        vec![item("N95口罩", "respirator", 250, "piece")],
        "CN-JX",
    )
    .await;
    let (_, answer) = matches(url, &format!("/api/v1/needs/{two_lines}/matches")).await;
    assert_eq!(
        answer["matches"][0]["post"]["id"],
        small.as_str(),
        "{answer}"
    );
    let given: Vec<i64> = answer["matches"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap())
        .collect();
    assert_eq!(given, [200, 50], "{answer}");

    // Unknown and malformed ids, and the wrong kind, are refused by name.
    let (status, answer) = matches(url, &format!("/api/v1/needs/{}/matches", "0".repeat(64))).await;
    assert_eq!(status, 404, "{answer}");
    let (status, _) = matches(url, &format!("/api/v1/offers/{wuhan}/matches")).await;
    assert_eq!(status, 404);
    let (status, answer) = matches(url, "/api/v1/needs/nope/matches").await;
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("id"), "{answer}");
    instance.stop().await;
}
