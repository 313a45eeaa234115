//! Search follows the log: what is sequenced becomes findable, status changes show up,
//! the index survives restarts and can be rebuilt, and bad queries get a 400; free
//! text beyond the limits on its grammar is refused before it is parsed, by the API
//! and on the board page alike.

use crate::common;

use common::{post_entry, signed, TestInstance, NO_WRITE_LIMITS};
use ed25519_dalek::SigningKey;
use ledger::Kind;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// An instance as `aidledger serve` starts one (bootstrapped), with write limits off.
async fn start(dir: &Path) -> TestInstance {
    TestInstance::start_configured(dir, |config| {
        config.bootstrap = true;
        config.limits = NO_WRITE_LIMITS;
    })
    .await
}

async fn search(url: &str, query: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{url}/api/v1/search?{query}"))
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Polls until the search answers with `id` among its hits (the index follows the log
/// asynchronously); fails after a generous bound, without asserting any latency.
async fn eventually_finds(url: &str, query: &str, id: &str) -> Value {
    for _ in 0..100 {
        let (status, body) = search(url, query).await;
        assert_eq!(status, 200, "{body}");
        if body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == id)
        {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{query} never found {id}");
}

fn need_body(org: &str) -> Value {
    json!({
        "org": org,
        "items": [
            {"item": "医用防护口罩 N95口罩", "category": "respirator", "quantity": 1000, "unit": "piece", "spec": "GB 19083-2010"},
            {"item": "医用防护服", "category": "gown_coverall", "quantity": 200, "unit": "piece"},
        ],
        "urgency": "critical",
        "needed_by": "2099-01-01",
        "area": {"code": "CN-HB", "name": "湖北"},
        "description": "Surgical masks and protective gowns for the fever clinic",
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn sequenced_needs_are_found_in_english_and_chinese_and_follow_status_changes() {
    let dir = tempfile::tempdir().unwrap();
    let instance = start(dir.path()).await;
    let hospital = SigningKey::from_bytes(&[41; 32]);
    let org = post_entry(
        &instance.url,
        signed(&hospital, Kind::OrgRegister, json!({"name": "Wuhan Union Hospital", "type": "hospital", "area": {"code": "CN-HB", "name": "Hubei"}})),
    )
    .await;
    let need = post_entry(
        &instance.url,
        signed(&hospital, Kind::NeedPost, need_body(&org)),
    )
    .await;

    for q in [
        "q=口罩",
        "q=防护服",
        "q=mask",
        "q=gown",
        "q=N95 口罩",
        "q=Wuhan",
    ] {
        eventually_finds(&instance.url, &format!("{q}&kind=need"), &need).await;
    }
    let found = eventually_finds(
        &instance.url,
        "q=口罩&category=respirator&area=CN&status=open",
        &need,
    )
    .await;
    assert!(
        found["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<b>口罩</b>"),
        "{found}"
    );
    assert!(
        found["facets"]["category"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "respirator"),
        "{found}"
    );
    // A few matches: counted exactly (only broad searches of a large index sample).
    assert_eq!(found["facets_estimated"], false, "{found}");
    let (_, none) = search(&instance.url, "q=ventilator&kind=need").await;
    assert_eq!(none["total"], 0);

    post_entry(
        &instance.url,
        signed(
            &hospital,
            Kind::NeedUpdate,
            json!({"need": need, "close": "met"}),
        ),
    )
    .await;
    eventually_finds(&instance.url, "q=口罩&status=met", &need).await;
    let (_, open) = search(&instance.url, "q=口罩&status=open&kind=need").await;
    assert!(
        !open["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == need),
        "{open}"
    );

    for bad in [
        "q=%22unbalanced",
        "category=masks",
        "per_page=1000",
        "sort=sideways",
    ] {
        let (status, body) = search(&instance.url, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    instance.stop().await;

    // The index records what it covers: after a restart it serves at once and resumes.
    let instance = start(dir.path()).await;
    eventually_finds(&instance.url, "q=口罩&status=met", &need).await;
    let offer = post_entry(
        &instance.url,
        signed(&hospital, Kind::OfferPost, json!({"items": [{"item": "Nitrile gloves", "category": "gloves", "quantity": 100, "unit": "box"}], "area": {"code": "IT-25", "name": "Lombardy"}})),
    )
    .await;
    eventually_finds(&instance.url, "q=gloves", &offer).await;
    instance.stop().await;

    // A rebuilt index answers the same.
    reindex(dir.path()).await;
    let instance = start(dir.path()).await;
    eventually_finds(&instance.url, "q=口罩&status=met", &need).await;
    eventually_finds(&instance.url, "q=gloves", &offer).await;
    instance.stop().await;
}

/// Removes the stopped instance's search index and rebuilds it with `aidledger reindex`.
async fn reindex(dir: &Path) {
    std::fs::remove_dir_all(dir.join("index")).unwrap();
    let mut reindex = common::process::command(&["reindex", "--data-dir"]);
    reindex.arg(dir);
    if let Some(url) = common::database_url(dir).await {
        reindex.args(["--database-url", &url]);
    }
    let out = reindex.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many needs and offers the search finds, by kind.
async fn found_by_kind(url: &str) -> [i64; 2] {
    let mut found = [0; 2];
    for (kind, n) in ["need", "offer"].into_iter().zip(&mut found) {
        let (status, body) = search(url, &format!("kind={kind}")).await;
        assert_eq!(status, 200, "{body}");
        *n = body["total"].as_i64().unwrap();
    }
    found
}

/// A busy log's pages touch hundreds of needs and offers at once, which the index's
/// follower and `reindex` read a few hundred to a statement: every one is indexed, and
/// a rebuilt index holds the same.
#[tokio::test(flavor = "multi_thread")]
async fn every_need_and_offer_of_a_busy_log_is_indexed_and_rebuilt_alike() {
    let dir = tempfile::tempdir().unwrap();
    let instance = start(dir.path()).await;
    let (url, key) = (instance.url.clone(), dir.path().join("operator.key"));
    let seed = tokio::task::spawn_blocking(move || {
        common::process::command(&["seed", "--url", &url, "--count", "3000", "--operator-key"])
            .arg(key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    let pool = common::open_db(dir.path()).await;
    let mut stored = [0; 2];
    for (kind, n) in ["need", "offer"].into_iter().zip(&mut stored) {
        *n = sqlx::query_scalar("SELECT COUNT(*) FROM wf_posts WHERE kind = $1")
            .bind(kind)
            .fetch_one(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    assert!(
        stored[1] > 512,
        "more offers than one statement reads: {stored:?}"
    );

    let mut found = found_by_kind(&instance.url).await;
    for _ in 0..100 {
        if found == stored {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        found = found_by_kind(&instance.url).await;
    }
    assert_eq!(found, stored, "needs and offers found against stored");
    instance.stop().await;

    reindex(dir.path()).await;
    let instance = start(dir.path()).await;
    assert_eq!(found_by_kind(&instance.url).await, stored, "after reindex");
    instance.stop().await;
}

/// The query of the security finding: `depth` nested parentheses around one word,
/// percent-encoded. At depth 20 the old code parsed for 1.5 s, at 100 for ever.
/// Issue 14: a need written in Chinese is found in English, and filtered and faceted
/// by its region's name in either language.
#[tokio::test(flavor = "multi_thread")]
async fn needs_are_found_across_languages_and_by_their_regions_names() {
    let dir = tempfile::tempdir().unwrap();
    let instance = start(dir.path()).await;
    let hospital = SigningKey::from_bytes(&[43; 32]);
    let org = post_entry(
        &instance.url,
        signed(&hospital, Kind::OrgRegister, json!({"name": "孝感市中心医院", "type": "hospital", "area": {"code": "CN-HB", "name": "孝感"}})),
    )
    .await;
    let body = json!({
        "org": org,
        "items": [{"item": "无创呼吸机", "category": "ventilator", "quantity": 4, "unit": "piece"}],
        "urgency": "critical",
        "needed_by": "2099-01-01",
        "area": {"code": "CN-HB", "name": "孝感"},
        "description": "重症病房急需",
    });
    let need = post_entry(&instance.url, signed(&hospital, Kind::NeedPost, body)).await;

    // Nothing in the need is English, and its area's name is the city's.
    for q in [
        "q=ventilator",
        "q=ventilators Hubei",
        "q=呼吸机 湖北",
        "q=ventilator&area=Hubei",
        "q=ventilator&area=hubei%20sheng",
        "q=ventilator&area=湖北",
        "q=ventilator&area=湖北省",
        "q=ventilator&area=China",
        "q=ventilator&area=CN-HB",
    ] {
        eventually_finds(&instance.url, &format!("{q}&kind=need"), &need).await;
    }
    let (_, found) = search(&instance.url, "q=ventilator&kind=need").await;
    let names = |facet: &str, code: &str| {
        found["facets"][facet]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["value"] == code)
            .map(|f| f["names"].clone())
    };
    assert_eq!(
        names("area", "CN-HB"),
        Some(json!({"en": "Hubei Sheng", "zh": "湖北省"})),
        "{found}"
    );
    assert_eq!(
        names("country", "CN"),
        Some(json!({"en": "China", "zh": "中国"})),
        "{found}"
    );
    assert!(
        found["facets"]["category"][0].get("names").is_none(),
        "{found}"
    );

    for (bad, says) in [
        ("area=Atlantis", "area \"Atlantis\" is neither"),
        ("area=Georgia", "area \"Georgia\" names several regions"),
        ("area=", "area is empty"),
    ] {
        let (status, body) = search(&instance.url, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{bad}: {body}");
    }
    instance.stop().await;
}

fn nested(depth: usize) -> String {
    format!("{}a{}", "%28".repeat(depth), "%29".repeat(depth))
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_beyond_the_grammar_limits_are_refused_naming_the_limit() {
    use indexer::limits::{MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS};
    let dir = tempfile::tempdir().unwrap();
    let instance = start(dir.path()).await;
    let url = &instance.url;

    let depth = format!("q: at most {MAX_DEPTH} levels of parentheses");
    for d in [MAX_DEPTH + 1, 20, 100] {
        let (status, body) = search(url, &format!("q={}", nested(d))).await;
        assert_eq!(status, 400, "depth {d}: {body}");
        assert!(body["error"].as_str().unwrap().contains(&depth), "{body}");
    }
    let (status, body) = search(url, &format!("q={}", "a".repeat(MAX_QUERY_CHARS + 1))).await;
    assert_eq!(status, 400, "{body}");
    let length = format!("q: at most {MAX_QUERY_CHARS} characters");
    assert!(body["error"].as_str().unwrap().contains(&length), "{body}");
    let (status, body) = search(
        url,
        &format!("q={}", vec!["masks"; MAX_TERMS + 1].join("+")),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let terms = format!("q: at most {MAX_TERMS} terms");
    assert!(body["error"].as_str().unwrap().contains(&terms), "{body}");

    // Ordinary queries, nested within the limit too, still find what they should.
    let hospital = SigningKey::from_bytes(&[43; 32]);
    let org = post_entry(
        url,
        signed(&hospital, Kind::OrgRegister, json!({"name": "Wuhan Union Hospital", "type": "hospital", "area": {"code": "CN-HB", "name": "Hubei"}})),
    )
    .await;
    let need = post_entry(url, signed(&hospital, Kind::NeedPost, need_body(&org))).await;
    for q in [
        "q=口罩",
        "q=masks",
        "q=%28masks OR goggles%29 AND %28防护服 OR gloves%29",
        &format!("q={}", nested(MAX_DEPTH).replace('a', "口罩")),
    ] {
        eventually_finds(url, &format!("{q}&kind=need"), &need).await;
    }

    // The board page reads the same API in-process: it answers at once, with the
    // refusal shown where the results would be.
    let r = reqwest::get(format!("{url}/?q={}", nested(20)))
        .await
        .unwrap();
    let status = r.status().as_u16();
    let html = r.text().await.unwrap();
    assert!(status < 500, "{status}");
    assert!(html.contains(&depth), "{html}");
    instance.stop().await;
}
