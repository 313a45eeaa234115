//! Exports (docs/API.md "Exports"): needs, offers, organisations and donation chains
//! as CSV with an HXL hashtag row and as JSON, over HTTP and from the CLI; every row
//! names its entry by leaf hash and index, as the log does.

use crate::common;

use common::process::{command, path_str};
use common::{author, org_body, post_entry, signed, TestInstance};
use ed25519_dalek::SigningKey;
use ledger::Kind;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Read;

fn lines(quantities: &[(u32, u64)]) -> Value {
    quantities
        .iter()
        .map(|(line, quantity)| json!({"line": line, "quantity": quantity}))
        .collect()
}

/// A small aid effort: a hospital in Hubei whose need of masks and gloves is pledged,
/// accepted, shipped in part and delivered; a clinic in Guangdong with a need of
/// gloves; a donor's offer.
struct Effort {
    instance: TestInstance,
    hubei_org: String,
    need: String,
    other_need: String,
    pledge: String,
    shipment: String,
    delivery: String,
}

async fn org(url: &str, by: &SigningKey, code: &str, name: &str) -> String {
    let mut body = org_body(code);
    body["name"] = json!(name);
    body["area"] = json!({"code": code, "name": name});
    post_entry(url, signed(by, Kind::OrgRegister, body)).await
}

async fn need(url: &str, by: &SigningKey, org: &str, code: &str, items: Value) -> String {
    let body = json!({
        "org": org, "items": items, "urgency": "critical",
        "needed_by": "2099-01-01", "area": {"code": code, "name": code},
        "delivery_point": "Receiving dock 2",
    });
    post_entry(url, signed(by, Kind::NeedPost, body)).await
}

async fn effort() -> Effort {
    let instance = TestInstance::start().await;
    let url = &instance.url;
    let (hospital, clinic, donor) = (author(81), author(82), author(83));
    let hubei_org = org(url, &hospital, "CN-HB", "Wuhan Export Hospital").await;
    let need_id = need(
        url,
        &hospital,
        &hubei_org,
        "CN-HB",
        json!([
            {"item": "N95 masks", "category": "respirator", "quantity": 200, "unit": "piece", "spec": "GB 19083-2010"},
            {"item": "Nitrile gloves", "category": "gloves", "quantity": 50, "unit": "box"},
        ]),
    )
    .await;
    let guangdong_org = org(url, &clinic, "CN-GD", "Guangzhou Export Clinic").await;
    let other_need = need(
        url,
        &clinic,
        &guangdong_org,
        "CN-GD",
        json!([{"item": "Exam gloves", "category": "gloves", "quantity": 30, "unit": "box"}]),
    )
    .await;
    let pledge = post_entry(
        url,
        signed(
            &donor,
            Kind::Pledge,
            json!({"need": need_id, "items": lines(&[(0, 60), (1, 10)])}),
        ),
    )
    .await;
    post_entry(
        url,
        signed(&hospital, Kind::PledgeAccept, json!({"pledge": pledge})),
    )
    .await;
    let shipment = post_entry(
        url,
        signed(
            &donor,
            Kind::Shipment,
            json!({"pledge": pledge, "carrier": "SF Express", "tracking": "SF1234567",
                   "items": lines(&[(0, 40), (1, 10)])}),
        ),
    )
    .await;
    let delivery = post_entry(
        url,
        signed(
            &hospital,
            Kind::DeliveryConfirm,
            json!({"shipment": shipment, "items": lines(&[(0, 40), (1, 10)]), "condition": "good"}),
        ),
    )
    .await;
    post_entry(
        url,
        common::offer(&donor, "=HYPERLINK(\"http://example.org\")"),
    )
    .await;
    Effort {
        instance,
        hubei_org,
        need: need_id,
        other_need,
        pledge,
        shipment,
        delivery,
    }
}

/// An answer's status, content type and body (gzip asked for when `gzip`).
async fn get(url: &str, path: &str, gzip: bool) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = common::http().get(format!("{url}{path}"));
    if gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// A CSV export: its header row, its HXL row and its rows, each by header.
struct Csv {
    headers: Vec<String>,
    tags: Vec<String>,
    rows: Vec<HashMap<String, String>>,
}

fn parse_csv(bytes: &[u8]) -> Csv {
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .into_records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        });
    let headers = records.next().expect("a header row");
    let tags = records.next().expect("an HXL row");
    let rows = records
        .map(|r| headers.iter().cloned().zip(r).collect())
        .collect();
    Csv {
        headers,
        tags,
        rows,
    }
}

async fn csv_export(url: &str, path: &str) -> Csv {
    let (status, headers, body) = get(url, path, false).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        headers.get("content-length").is_none(),
        "streamed: {headers:?}"
    );
    parse_csv(&body)
}

async fn json_export(url: &str, path: &str) -> Vec<Value> {
    let (status, headers, body) = get(url, path, false).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/json");
    serde_json::from_slice::<Value>(&body)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .as_array()
        .unwrap()
        .clone()
}

/// A JSON value as its CSV cell (docs/API.md): text a spreadsheet would take for a
/// formula follows a `'`.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn column<'a>(csv: &'a Csv, header: &str) -> Vec<&'a str> {
    csv.rows.iter().map(|r| r[header].as_str()).collect()
}

/// Every export, in both formats, carries the same rows; each names its entry by the
/// leaf hash and index the log serves; the HXL row follows the headers.
#[tokio::test]
async fn exports_carry_the_workflow_with_hxl_tags_and_the_logs_positions() {
    let e = effort().await;
    let url = &e.instance.url;
    let log: HashMap<String, u64> = e
        .instance
        .client
        .entries(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (ledger::hex32::encode(&s.leaf_hash), s.index))
        .collect();

    let mut counts = HashMap::new();
    for dataset in ["needs", "offers", "orgs", "chains"] {
        let csv = csv_export(url, &format!("/api/v1/export/{dataset}.csv")).await;
        assert_eq!(csv.headers[..2], ["Leaf hash", "Index"], "{dataset}");
        assert_eq!(csv.tags[..2], ["#meta+id", "#meta+index"], "{dataset}");
        assert_eq!(csv.tags.len(), csv.headers.len());
        assert!(
            csv.tags.iter().all(|t| t.starts_with('#')),
            "{:?}",
            csv.tags
        );
        for row in &csv.rows {
            let index = log
                .get(&row["Leaf hash"])
                .expect("the row's entry is in the log");
            assert_eq!(row["Index"], index.to_string(), "{dataset}: {row:?}");
        }
        // The JSON holds the same rows, its keys the headers in snake case.
        let json = json_export(url, &format!("/api/v1/export/{dataset}.json")).await;
        assert_eq!(json.len(), csv.rows.len(), "{dataset}");
        for (object, row) in json.iter().zip(&csv.rows) {
            let object = object.as_object().unwrap();
            assert_eq!(object.len(), csv.headers.len());
            for header in &csv.headers {
                let key = header.to_lowercase().replace(' ', "_");
                assert_eq!(cell(&object[&key]), row[header], "{dataset}: {key}");
            }
        }
        counts.insert(dataset, csv.rows.len());
    }
    // Three need lines, one offer line, two organisations, and two lines each of the
    // pledge, the shipment and the delivery.
    assert_eq!(
        counts,
        HashMap::from([("needs", 3), ("offers", 1), ("orgs", 2), ("chains", 6)])
    );

    let needs = csv_export(url, "/api/v1/export/needs.csv").await;
    let masks = needs
        .rows
        .iter()
        .find(|r| r["Leaf hash"] == e.need && r["Line"] == "0")
        .unwrap();
    for (header, value) in [
        ("Item", "N95 masks"),
        ("Category", "respirator"),
        ("Spec", "GB 19083-2010"),
        ("Unit", "piece"),
        ("Requested", "200"),
        ("Pledged", "60"),
        ("Shipped", "40"),
        ("Delivered", "40"),
        ("Remaining", "140"),
        ("Org id", e.hubei_org.as_str()),
        ("Org name", "Wuhan Export Hospital"),
        ("Area code", "CN-HB"),
        ("Country", "CN"),
        ("Urgency", "critical"),
        ("Status", "open"),
        ("Needed by", "2099-01-01"),
        ("Delivery point", "Receiving dock 2"),
    ] {
        assert_eq!(masks[header], value, "{header}");
    }
    let tag = |csv: &Csv, header: &str| {
        let at = csv.headers.iter().position(|h| h == header).unwrap();
        csv.tags[at].clone()
    };
    for (header, hxl) in [
        ("Org name", "#org+name"),
        ("Item", "#item+name"),
        ("Category", "#item+type"),
        ("Unit", "#meta+unit"),
        ("Requested", "#item+num+requested"),
        ("Delivered", "#item+num+delivered"),
        ("Area code", "#adm1+code"),
        ("Created at", "#date+posted"),
    ] {
        assert_eq!(tag(&needs, header), hxl);
    }

    // The chain, link by link: each row's quantity is in its kind's column, and the
    // ids lead back through the chain.
    let chains = csv_export(url, "/api/v1/export/chains.csv").await;
    let kinds = column(&chains, "Kind");
    assert_eq!(
        kinds,
        [
            "pledge",
            "pledge",
            "shipment",
            "shipment",
            "delivery.confirm",
            "delivery.confirm"
        ]
    );
    assert_eq!(column(&chains, "Pledged"), ["60", "10", "", "", "", ""]);
    assert_eq!(column(&chains, "Shipped"), ["", "", "40", "10", "", ""]);
    assert_eq!(column(&chains, "Delivered"), ["", "", "", "", "40", "10"]);
    assert_eq!(
        column(&chains, "Item")[..2],
        ["N95 masks", "Nitrile gloves"]
    );
    for row in &chains.rows {
        assert_eq!(row["Need id"], e.need);
        assert_eq!(row["Pledge id"], e.pledge);
        assert_eq!(row["Org name"], "Wuhan Export Hospital");
    }
    assert_eq!(
        column(&chains, "Shipment id")[2..],
        [e.shipment.as_str(); 4]
    );
    assert_eq!(
        column(&chains, "Delivery id")[4..],
        [e.delivery.as_str(); 2]
    );
    assert_eq!(column(&chains, "Leaf hash")[4..], [e.delivery.as_str(); 2]);
    assert_eq!(column(&chains, "Carrier")[2..4], ["SF Express"; 2]);
    assert_eq!(column(&chains, "Tracking")[2..4], ["SF1234567"; 2]);
    assert_eq!(column(&chains, "Condition")[4..], ["good"; 2]);

    // Text that a spreadsheet would run as a formula is kept as text in the CSV; the
    // JSON has it as signed.
    let offers = csv_export(url, "/api/v1/export/offers.csv").await;
    assert_eq!(
        column(&offers, "Description"),
        ["'=HYPERLINK(\"http://example.org\")"]
    );
    let offers = json_export(url, "/api/v1/export/offers.json").await;
    assert_eq!(
        offers[0]["description"],
        "=HYPERLINK(\"http://example.org\")"
    );

    let orgs = csv_export(url, "/api/v1/export/orgs.csv").await;
    assert_eq!(column(&orgs, "Type"), ["hospital", "hospital"]);
    assert_eq!(tag(&orgs, "Name"), "#org+name");
    e.instance.stop().await;
}

/// The board's filters select what an export holds; a filter the export does not
/// take, or a value it does not know, is refused with JSON naming it.
#[tokio::test]
async fn exports_take_the_boards_filters_and_refuse_others() {
    let e = effort().await;
    let url = &e.instance.url;
    let ids = |csv: &Csv| -> Vec<(String, String)> {
        csv.rows
            .iter()
            .map(|r| (r["Leaf hash"].clone(), r["Line"].clone()))
            .collect()
    };
    let line = |id: &str, line: &str| (id.to_owned(), line.to_owned());
    for (query, want) in [
        ("area=CN-GD", vec![line(&e.other_need, "0")]),
        ("area=Hubei", vec![line(&e.need, "0"), line(&e.need, "1")]),
        (
            "category=gloves",
            vec![line(&e.need, "1"), line(&e.other_need, "0")],
        ),
        ("category=gloves&area=CN-HB", vec![line(&e.need, "1")]),
        ("status=met", vec![]),
        ("urgency=critical&verified=pending&status=open", {
            vec![
                line(&e.need, "0"),
                line(&e.need, "1"),
                line(&e.other_need, "0"),
            ]
        }),
    ] {
        let csv = csv_export(url, &format!("/api/v1/export/needs.csv?{query}")).await;
        assert_eq!(ids(&csv), want, "{query}");
    }
    let chains = csv_export(url, "/api/v1/export/chains.csv?category=gloves").await;
    assert_eq!(column(&chains, "Item"), ["Nitrile gloves"; 3]);
    let chains = csv_export(url, "/api/v1/export/chains.csv?area=CN-GD").await;
    assert!(chains.rows.is_empty());
    let orgs = csv_export(url, "/api/v1/export/orgs.csv?area=Guangdong").await;
    assert_eq!(column(&orgs, "Name"), ["Guangzhou Export Clinic"]);

    for (path, status, needle) in [
        ("/api/v1/export/needs.csv?page=2", 400, "page"),
        ("/api/v1/export/needs.json?colour=red", 400, "colour"),
        ("/api/v1/export/chains.csv?urgency=lost", 400, "urgency"),
        ("/api/v1/export/offers.csv?area=Atlantis", 400, "area"),
        ("/api/v1/export/orgs.csv?status=open", 400, "status"),
        ("/api/v1/export/orgs.json?verified=maybe", 400, "verified"),
        ("/api/v1/export/people.csv", 404, "exports are"),
        ("/api/v1/export/needs.xlsx", 404, "exports are"),
    ] {
        let (got, headers, body) = get(url, path, false).await;
        assert_eq!(got, status, "{path}: {}", String::from_utf8_lossy(&body));
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let answer: Value = serde_json::from_slice(&body).unwrap();
        let message = common::error_message(&answer).expect("an error answer");
        assert!(message.contains(needle), "{path}: {message}");
    }
    e.instance.stop().await;
}

/// A client that accepts gzip gets the export gzipped, the same bytes once inflated.
#[tokio::test]
async fn exports_are_gzipped_for_clients_that_accept_it() {
    let e = effort().await;
    let url = &e.instance.url;
    for path in ["/api/v1/export/chains.csv", "/api/v1/export/needs.json"] {
        let (_, plain_headers, plain) = get(url, path, false).await;
        assert!(plain_headers.get("content-encoding").is_none());
        let (status, headers, gzipped) = get(url, path, true).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-encoding"], "gzip", "{path}");
        let mut inflated = vec![];
        flate2::read::GzDecoder::new(gzipped.as_slice())
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, plain, "{path}");
    }
    e.instance.stop().await;
}

/// An export longer than a page is read page by page and comes whole, in log order.
#[tokio::test]
async fn an_export_longer_than_a_page_comes_whole_in_log_order() {
    let instance = TestInstance::start().await;
    let donor = author(84);
    let count = moderation::export::PAGE_ENTRIES as usize + 1;
    let mut posted = vec![];
    for n in 0..count {
        posted.push(post_entry(&instance.url, common::offer(&donor, &format!("offer {n}"))).await);
    }
    let csv = csv_export(&instance.url, "/api/v1/export/offers.csv").await;
    assert_eq!(column(&csv, "Leaf hash"), posted);
    let json = json_export(&instance.url, "/api/v1/export/offers.json").await;
    assert_eq!(json.len(), count);
    instance.stop().await;
}

/// `aidledger export` writes what the HTTP export answers, to a file or stdout.
#[tokio::test]
async fn the_cli_writes_the_same_export_as_http() {
    let e = effort().await;
    let url = e.instance.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chains.csv");
    let (_, _, http) = get(&url, "/api/v1/export/chains.csv", false).await;
    let (_, _, http_filtered) = get(
        &url,
        "/api/v1/export/needs.json?area=CN-GD&category=gloves",
        false,
    )
    .await;
    let out_file = file.clone();
    let (to_file, to_stdout) = tokio::task::spawn_blocking(move || {
        let to_file = command(&[
            "export",
            "chains",
            "--url",
            &url,
            "--out",
            path_str(&out_file),
        ])
        .output()
        .unwrap();
        let to_stdout = command(&[
            "export",
            "needs",
            "--format",
            "json",
            "--area",
            "CN-GD",
            "--category",
            "gloves",
            "--url",
            &url,
        ])
        .output()
        .unwrap();
        (to_file, to_stdout)
    })
    .await
    .unwrap();
    assert!(
        to_file.status.success(),
        "{}",
        String::from_utf8_lossy(&to_file.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), http);
    assert!(
        to_stdout.status.success(),
        "{}",
        String::from_utf8_lossy(&to_stdout.stderr)
    );
    assert_eq!(to_stdout.stdout, http_filtered);

    let refused = tokio::task::spawn_blocking({
        let url = e.instance.url.clone();
        move || {
            command(&["export", "orgs", "--status", "open", "--url", &url])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("status"));
    e.instance.stop().await;
}
