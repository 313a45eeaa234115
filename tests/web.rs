//! The web app as a browser without JavaScript sees it: pages rendered on the server
//! from the public API, the language switch, the bundle served from the binary, and no
//! private data on any page. (tests/browser/ drives the hydrated app in Chromium.)

use crate::common;

use common::{author, post_entry, signed, TestInstance};
use ledger::contact::{commitment, Contact};
use ledger::Kind;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CANARY_NAME: &str = "Canary Zhang Wei 7731";
const CANARY_PHONE: &str = "+86 139 0000 7731";

/// Submits `body` as an entry of `kind` by `key` with the canary contact beside it,
/// and returns its id.
async fn with_canary_contact(url: &str, key: u8, kind: Kind, mut body: Value) -> String {
    let contact = Contact {
        name: Some(CANARY_NAME.into()),
        phone: Some(CANARY_PHONE.into()),
        email: None,
        address: None,
    };
    let salt = [7u8; 32];
    body["contact"] = json!(commitment(&salt, &contact));
    let leaf = String::from_utf8(signed(&author(key), kind, body)).unwrap();
    let r = common::http()
        .post(format!("{url}/api/v1/submissions"))
        .json(&json!({"entry": leaf, "private": {"salt": hex::encode(salt), "contact": contact}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["leaf_hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A donor's offer of gloves, with a private contact.
async fn donor_with_offer(url: &str) -> String {
    let mut body = common::offer_body("spare stock from the Jiangxia plant");
    body["items"][0]["item"] = json!("丁腈手套 nitrile gloves");
    with_canary_contact(url, 43, Kind::OfferPost, body).await
}

/// A hospital that registered with a private contact, and one of its needs.
async fn hospital_with_need(url: &str) -> (String, String) {
    let key = author(41);
    let mut body = common::org_body("fever clinic");
    body["name"] = json!("Jinyintan Hospital 金银潭医院");
    let org_id = with_canary_contact(url, 41, Kind::OrgRegister, body).await;
    let need = signed(
        &key,
        Kind::NeedPost,
        json!({
            "org": org_id,
            "items": [{"item": "N95口罩", "category": "respirator", "quantity": 1000, "unit": "piece", "spec": "GB 19083-2010"}],
            "urgency": "critical",
            "needed_by": "2099-01-01",
            "area": {"code": "CN-HB", "name": "湖北"},
        }),
    );
    let need_id = post_entry(url, need).await;
    (org_id, need_id)
}

async fn page(url: &str, path: &str, lang: Option<&str>) -> (u16, String) {
    let mut request = common::http().get(format!("{url}{path}"));
    if let Some(l) = lang {
        request = request.header("cookie", format!("lang={l}"));
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Polls the board until the index has caught up with the need (no latency asserted).
async fn board_showing(url: &str, need_id: &str) -> String {
    showing(url, "/?q=口罩", need_id).await
}

/// Polls the page at `path` until it shows `id`.
async fn showing(url: &str, path: &str, id: &str) -> String {
    for _ in 0..100 {
        let (status, html) = page(url, path, None).await;
        assert_eq!(status, 200);
        if html.contains(id) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never showed {id}");
}

/// Instances started in one process while another renders pages leave its renders
/// alone, as the suite's parallel tests need. Listing the app's routes used to happen
/// at every start and sets leptos's process-wide "suppress resource loads" flag while
/// it renders the app; a page that created a resource meanwhile never finished
/// (ARCHITECTURE.md, "Web app"). A stalled render never answers, so any answer is
/// progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_instances_does_not_stall_pages_another_instance_renders() {
    let rendering = TestInstance::start().await;
    let url = rendering.url.clone();
    let starting = Arc::new(AtomicBool::new(true));
    let still_starting = starting.clone();
    let pages = tokio::spawn(async move {
        let mut rendered = 0;
        while still_starting.load(Ordering::SeqCst) || rendered < 20 {
            let path = ["/", "/audit", "/moderation"][rendered % 3];
            let answer = tokio::time::timeout(Duration::from_secs(60), page(&url, path, None))
                .await
                .unwrap_or_else(|_| panic!("GET {path} (page {rendered}) never answered"));
            assert_eq!(answer.0, 200, "GET {path}");
            rendered += 1;
        }
        rendered
    });
    for _ in 0..10 {
        TestInstance::start().await.stop().await;
    }
    starting.store(false, Ordering::SeqCst);
    assert!(pages.await.unwrap() >= 20);
    rendering.stop().await;
}

#[tokio::test]
async fn pages_are_whole_html_before_any_javascript_runs() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let (org_id, need_id) = hospital_with_need(url).await;

    let board = board_showing(url, &need_id).await;
    assert!(board.contains("Jinyintan Hospital 金银潭医院"), "{board}");
    let remaining = &board[board
        .find("data-testid=\"remaining\"")
        .expect("a remaining cell")..];
    assert!(
        remaining[remaining.find('>').unwrap() + 1..].starts_with("1000"),
        "remaining quantity"
    );
    // The board only reads: it is sent without the WebAssembly (pages with forms
    // link it).
    assert!(
        !board.contains("/pkg/aidledger"),
        "the board links no hydration script"
    );
    assert!(
        board.contains("<b>口罩</b>"),
        "the snippet highlights the match"
    );

    let (status, need) = page(url, &format!("/needs/{need_id}"), None).await;
    assert_eq!(status, 200);
    assert!(need.contains("data-testid=\"chain-link\""), "{need}");
    assert!(need.contains("GB 19083-2010"));
    assert!(
        need.contains("/pkg/aidledger.js"),
        "a page with forms links the hydration script"
    );
    // Without a key (every page on the server), the page asks for one instead of
    // showing forms the visitor could not sign.
    assert!(need.contains("data-testid=\"key-first\""), "{need}");
    assert!(!need.contains("<form"), "{need}");
    let (status, missing) = page(url, &format!("/needs/{}", "0".repeat(64)), None).await;
    assert_eq!(status, 404, "an unknown need is a 404 page");
    assert!(missing.contains("data-testid=\"not-found\""), "{missing}");

    let (_, org_page) = page(url, &format!("/orgs/{org_id}"), None).await;
    assert!(org_page.contains("Jinyintan Hospital"));
    assert!(org_page.contains("Not yet verified"));

    // An author's public page: the hospital's need with its progress, read-only.
    let hospital = hex::encode(author(41).verifying_key().as_bytes());
    let (status, author_page) = page(url, &format!("/authors/{hospital}"), None).await;
    assert_eq!(status, 200);
    assert!(
        author_page.contains("data-testid=\"my-need\""),
        "{author_page}"
    );
    assert!(author_page.contains("N95口罩") && author_page.contains(&need_id));
    assert!(
        !author_page.contains("/pkg/aidledger"),
        "an author's page only reads"
    );

    let (_, audit) = page(url, "/audit", None).await;
    assert!(
        audit.contains("aidledger.localhost/log"),
        "the checkpoint is on the page"
    );
    assert!(
        audit.contains("the log's signed promise") && audit.contains("href=\"/log\""),
        "each check says what it proves, and the log can be browsed"
    );

    // The log, newest first: the need (entry 1) before the organisation (entry 0),
    // each with its kind, a link to its page and its author's page. It only reads.
    let (status, log) = page(url, "/log", None).await;
    assert_eq!(status, 200);
    assert!(log.contains("data-testid=\"log-entries\""), "{log}");
    let (need_at, org_at) = (
        log.find(&format!("href=\"/needs/{need_id}\""))
            .expect("the need is listed"),
        log.find(&format!("href=\"/orgs/{org_id}\""))
            .expect("the organisation is listed"),
    );
    assert!(need_at < org_at, "newest first");
    assert!(log.contains("/authors/") && log.contains("N95口罩 × 1000"));
    assert!(!log.contains("/pkg/aidledger"), "the log page only reads");
    let (status, first) = page(url, "/log?start=0", None).await;
    assert_eq!(status, 200);
    assert!(first.contains(&format!("href=\"/orgs/{org_id}\"")));
    let (status, _) = page(url, "/log?start=99999", None).await;
    assert_eq!(status, 200, "a start past the end shows the last entries");

    let (_, queue) = page(url, "/moderation", None).await;
    assert!(queue.contains(&org_id), "the hospital awaits review");

    for path in ["/post/need", "/post/offer", "/orgs/new", "/keys"] {
        let (status, html) = page(url, path, None).await;
        assert_eq!(status, 200, "{path}");
        for input in html.match_indices("<input id=\"") {
            let id = &html[input.0 + 11..];
            let id = &id[..id.find('"').unwrap()];
            assert!(
                html.contains(&format!("for=\"{id}\"")),
                "{path}: input {id} has no label"
            );
        }
    }
    instance.stop().await;
}

/// Offers have a board of their own, searchable like the needs board, and a page
/// each; both only read, so neither loads the WebAssembly.
#[tokio::test]
async fn offers_have_a_board_and_a_page_each() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let (_, need_id) = hospital_with_need(url).await;
    let offer_id = donor_with_offer(url).await;

    let board = showing(url, "/offers?q=gloves", &offer_id).await;
    assert!(board.contains("data-testid=\"offer-card\""), "{board}");
    assert!(board.contains("丁腈手套 nitrile gloves"));
    assert!(
        !board.contains(&need_id),
        "the offers board lists offers only"
    );
    assert!(
        !board.contains("/pkg/aidledger"),
        "the offers board only reads"
    );
    assert!(
        !board.contains("data-badge=\"urgency\""),
        "an offer has no urgency, so no urgency badge (it showed as an empty pill)"
    );
    let count = board
        .split("data-testid=\"result-count\"")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap();
    assert!(
        count.contains("offer found") && !count.contains("offers"),
        "one result, in the singular: {count}"
    );
    // The needs board lists needs only.
    let needs = board_showing(url, &need_id).await;
    assert!(!needs.contains(&offer_id));
    // Either language finds it: the item is named in both.
    showing(url, "/offers?q=手套", &offer_id).await;

    let (status, offer) = page(url, &format!("/offers/{offer_id}"), Some("zh")).await;
    assert_eq!(status, 200);
    assert!(offer.contains("data-testid=\"offer\""), "{offer}");
    assert!(offer.contains("丁腈手套 nitrile gloves") && offer.contains("捐赠量"));
    assert!(
        !offer.contains("/pkg/aidledger"),
        "an offer's page only reads"
    );
    let (status, missing) = page(url, &format!("/offers/{}", "0".repeat(64)), None).await;
    assert_eq!(status, 404, "an unknown offer is a 404 page");
    assert!(missing.contains("data-testid=\"not-found\""));
    // A need's id is not an offer's.
    let (status, _) = page(url, &format!("/offers/{need_id}"), None).await;
    assert_eq!(status, 404);
    instance.stop().await;
}

/// The board names regions in the page's language and filters by their names.
#[tokio::test]
async fn the_board_names_regions_in_the_pages_language() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let (_, need_id) = hospital_with_need(url).await;
    let en = board_showing(url, &need_id).await;
    assert!(en.contains(">Hubei Sheng<"), "{en}");
    assert!(en.contains("title=\"CN-HB\""), "{en}");
    let (_, zh) = page(url, "/?q=口罩", Some("zh")).await;
    assert!(zh.contains(">湖北省<"), "{zh}");
    for area in ["湖北", "Hubei", "CN-HB"] {
        showing(url, &format!("/?q=口罩&area={area}"), &need_id).await;
    }
    instance.stop().await;
}

#[tokio::test]
async fn the_language_cookie_turns_every_string_to_chinese() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let no_redirects = common::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(format!("{url}/lang/zh?back=/orgs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/orgs");
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("lang=zh;"));

    let (_, zh) = page(url, "/orgs", Some("zh")).await;
    assert!(zh.contains("<html lang=\"zh\""), "{zh}");
    assert!(zh.contains("登记机构"));
    assert!(!zh.contains("Register an organisation"));
    let (_, en) = page(url, "/orgs", None).await;
    assert!(en.contains("Register an organisation"));

    let r = no_redirects
        .get(format!("{url}/lang/zh?back=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/",
        "never a redirect off the site"
    );
    let r = no_redirects
        .get(format!("{url}/lang/fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("unknown language \\\"fr\\\""));
    instance.stop().await;
}

#[tokio::test]
async fn the_bundle_is_served_gzipped_from_the_binary_and_revalidated() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let client = common::http();
    let r = client
        .get(format!("{url}/pkg/aidledger_bg.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let etag = r.headers()["etag"].clone();
    let gz = std::fs::read("static/pkg/aidledger_bg.wasm.gz").unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), gz.len());

    let r = client
        .get(format!("{url}/pkg/aidledger_bg.wasm"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    let r = client
        .get(format!("{url}/pkg/other.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client
        .get(format!("{url}/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.json::<Value>().await.unwrap()["error"].is_string(),
        "the API still answers JSON"
    );
    let (status, html) = page(url, "/no/such/page", None).await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
    instance.stop().await;
}

#[tokio::test]
async fn no_page_shows_private_contact_data() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let (org_id, need_id) = hospital_with_need(url).await;
    let offer_id = donor_with_offer(url).await;
    board_showing(url, &need_id).await;
    showing(url, "/offers", &offer_id).await;
    let pledge_body = json!({"need": need_id, "items": [{"line": 0, "quantity": 10}]});
    let pledge = with_canary_contact(url, 45, Kind::Pledge, pledge_body).await;
    let paths = [
        "/".to_owned(),
        "/stats".to_owned(),
        format!("/receipts/{pledge}"),
        "/offers".to_owned(),
        format!("/offers/{offer_id}"),
        "/?q=金银潭".to_owned(),
        format!("/needs/{need_id}"),
        format!("/orgs/{org_id}"),
        "/orgs".to_owned(),
        "/moderation".to_owned(),
        "/log".to_owned(),
        "/log?start=0".to_owned(),
        format!("/audit?entry={org_id}"),
        format!(
            "/authors/{}",
            hex::encode(author(41).verifying_key().as_bytes())
        ),
    ];
    for path in paths {
        for lang in [None, Some("zh")] {
            let (status, html) = page(url, &path, lang).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                !html.contains(CANARY_NAME) && !html.contains(CANARY_PHONE),
                "{path} leaks the contact"
            );
        }
    }
    // The organisation exists and is shown; only its contact is withheld.
    let (_, html) = page(url, &format!("/orgs/{org_id}"), None).await;
    assert!(html.contains("Jinyintan"));
    instance.stop().await;
}

/// Totals read without JavaScript: figures in words beside each bar, the filters
/// applied, and no WebAssembly.
#[tokio::test]
async fn totals_are_drawn_on_the_server_with_their_figures() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    hospital_with_need(url).await;

    let (status, html) = page(url, "/stats", None).await;
    assert_eq!(status, 200);
    assert!(!html.contains("/pkg/aidledger"), "the totals only read");
    assert!(html.contains("class=\"stats-count\">1 needs<"), "{html}");
    assert!(
        html.contains(
            "Requested 1,000 pieces · Pledged 0 · Shipped 0 · Delivered 0 · Still needed 1,000"
        ),
        "{html}"
    );
    assert!(
        html.contains("class=\"bar\"><rect x=\"0.00\" y=\"0\" width=\"100.00\" height=\"10\" class=\"remaining\">"),
        "one bar, all still needed: {html}"
    );
    assert!(html.contains("湖北") && html.contains("CN-HB"));

    let (_, zh) = page(url, "/stats?category=respirator", Some("zh")).await;
    assert!(zh.contains("需求量 1,000 个"), "{zh}");
    let (_, none) = page(url, "/stats?category=gloves", None).await;
    assert!(none.contains("data-testid=\"stats-empty\""), "{none}");
    let (_, bad) = page(url, "/stats?category=masks", None).await;
    assert!(bad.contains("category must be one of"), "{bad}");
    instance.stop().await;
}

/// A donor's receipts, printable without JavaScript: the pledge's and a shipment's,
/// each naming the items, where they go and the command that verifies them, with a QR
/// code that opens the shipment's delivery form for the receiving hospital.
#[tokio::test]
async fn pledges_and_shipments_have_printable_receipts() {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let (_, need_id) = hospital_with_need(url).await;
    let donor = author(44);
    let pledge_body = json!({"need": need_id, "items": [{"line": 0, "quantity": 200}]});
    let pledge = post_entry(url, signed(&donor, Kind::Pledge, pledge_body)).await;
    let shipment_body = json!({"pledge": pledge, "carrier": "SF Express", "tracking": "SF1234567890",
                               "items": [{"line": 0, "quantity": 120}]});
    let shipment = post_entry(url, signed(&donor, Kind::Shipment, shipment_body)).await;

    let (status, html) = page(url, &format!("/receipts/{pledge}"), None).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Pledge receipt") && html.contains("N95口罩"),
        "{html}"
    );
    assert!(html.contains("200 pieces"), "{html}");
    assert!(html.contains(&format!("aidledger trace {pledge} --url http://127.0.0.1")));
    assert!(html.contains("<svg"), "a QR code: {html}");
    assert!(!html.contains("/pkg/aidledger"), "a receipt only reads");

    let (status, html) = page(url, &format!("/receipts/{pledge}/{shipment}"), Some("zh")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("发货凭证") && html.contains("SF Express · SF1234567890"),
        "{html}"
    );
    assert!(html.contains("120 个"), "{html}");
    let index = common::http()
        .get(format!("{url}/api/v1/trace/{pledge}"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leaf_hash"] == shipment.as_str())
        .unwrap()["index"]
        .clone();
    let deliver = format!("/needs/{need_id}#deliver-{index}\"");
    assert!(
        html.contains("data-target=\"http://127.0.0.1:") && html.contains(&deliver),
        "{html}"
    );

    // A shipment of another pledge, or a need's id, has no receipt here.
    let (status, _) = page(url, &format!("/receipts/{pledge}/{pledge}"), None).await;
    assert_eq!(status, 404);
    let (status, _) = page(url, &format!("/receipts/{need_id}"), None).await;
    assert_eq!(status, 404);
    instance.stop().await;
}
