//! The OpenAPI document (`GET /api/v1/openapi.json`) against the server itself: it
//! names every route the route modules register, and the answers of a real instance
//! that played a coherent aid effort, refusals included, are what it says.

use crate::common::{self, TestInstance, NO_WRITE_LIMITS};
use aidledger::sample::Workflow;
use aidledger::server::auth::authorization;
use jsonschema::Validator;
use ledger::Kind;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The API routes as the route modules register them: every `.route("<path>",
/// <method>(…)[.<method>(…)…])` in `src/server/`, but the web app's (`web.rs`: pages,
/// the bundle, the language switch). Reading the source is the one honest list: axum
/// cannot list a router's routes, and a route added anywhere in the server is read
/// here without anyone remembering to. A `.route(` this cannot read fails the test,
/// and so do ways to add routes it does not read.
fn registered_routes() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server");
    let mut routes = BTreeSet::new();
    let mut files = vec![dir];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.file_name().unwrap() == "web.rs" || path.extension().unwrap() != "rs" {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for unread in [".nest(", ".route_service(", ".nest_service("] {
            assert!(
                !source.contains(unread),
                "{}: routes added with `{unread}` are not read by this test",
                path.display()
            );
        }
        for (at, _) in source.match_indices(".route(") {
            let route = parse_route(&source[at + ".route(".len()..]).unwrap_or_else(|| {
                panic!(
                    "{}: a `.route(` at byte {at} this test cannot read",
                    path.display()
                )
            });
            routes.extend(route);
        }
    }
    routes
}

/// `"<path>", get(…).post(…)`: (method, path) for each method, `{*rest}` written as
/// OpenAPI writes it, `{rest}`.
fn parse_route(text: &str) -> Option<Vec<(String, String)>> {
    let text = text.trim_start().strip_prefix('"')?;
    let (path, rest) = text.split_once('"')?;
    let path = path.replace("{*", "{");
    let mut rest = rest.trim_start().strip_prefix(',')?.trim_start();
    let mut methods = vec![];
    loop {
        let name_end = rest.find('(')?;
        let name = rest[..name_end].rsplit("::").next()?.trim();
        if !["get", "post", "put", "patch", "delete"].contains(&name) {
            return None;
        }
        methods.push((name.to_owned(), path.clone()));
        // Past the handler's balanced parentheses.
        let mut depth = 0;
        let close = rest[name_end..].char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(name_end + i)
        })?;
        rest = rest[close + 1..].trim_start();
        match rest.strip_prefix('.') {
            Some(chained) if !chained.trim_start().starts_with("route(") => rest = chained,
            _ => return Some(methods),
        }
    }
}

/// The (method, path) of every operation the document describes.
fn documented_routes(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

async fn fetch_document(url: &str) -> Value {
    let answer = common::http()
        .get(format!("{url}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/json");
    answer.json().await.unwrap()
}

#[tokio::test]
async fn the_document_names_every_route_the_server_registers_and_no_other() {
    let routes = registered_routes();
    // The reading found the routes it must (it is not vacuous).
    for known in [
        ("post", "/api/v1/entries"),
        ("get", "/tile/{path}"),
        ("get", "/api/v1/export/{file}"),
        ("get", "/feeds/needs.atom"),
        ("get", "/api/v1/openapi.json"),
    ] {
        assert!(
            routes.contains(&(known.0.to_owned(), known.1.to_owned())),
            "{known:?} was not read from src/server"
        );
    }
    let inst = TestInstance::start().await;
    let document = fetch_document(&inst.url).await;
    assert_eq!(document["openapi"], "3.1.0");
    let documented = documented_routes(&document);
    let missing: Vec<_> = routes.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes without a description in src/server/openapi.rs: {missing:?}; \
         described but not routed: {extra:?}"
    );
    // Every path parameter the template names is described, and no other.
    for (path, item) in document["paths"].as_object().unwrap() {
        let named: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .map(|p| p.split_once('}').unwrap().0)
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            let described: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(named, described, "{method} {path}: path parameters");
            assert!(
                operation["responses"]["default"].is_object(),
                "{method} {path}: every route may be refused with the error shape"
            );
        }
    }
    inst.stop().await;
}

/// Every object of the document's schemas refusing properties it does not name, so
/// that a field the server writes and the document lacks fails validation. (The
/// document itself leaves them open: a client should read past a field it does not
/// know.)
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.contains_key("properties") && !object.contains_key("additionalProperties") {
                object.insert("additionalProperties".into(), Value::Bool(false));
            }
            object.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// Checks real answers against the document: each answer's status and media type must
/// be documented for its route, and a JSON body must validate against its schema.
struct Checker {
    url: String,
    document: Value,
    components: Value,
    http: reqwest::Client,
    /// The (method, path template) of the operations checked, and their statuses.
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
}

impl Checker {
    async fn new(url: &str) -> Checker {
        let document = fetch_document(url).await;
        let mut components = document["components"].clone();
        strict(&mut components);
        Checker {
            url: url.to_owned(),
            document,
            components,
            http: common::http(),
            seen: BTreeMap::new(),
        }
    }

    fn validator(&self, schema: &Value) -> Validator {
        // The schema's references (`#/components/schemas/…`) resolve in this document.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.components,
            "allOf": [schema],
        });
        jsonschema::draft202012::new(&root).expect("a valid JSON Schema")
    }

    /// Sends `request` (to `template` with its parameters filled in) and checks the
    /// answer; returns its status and JSON body (`Null` for other media).
    async fn check(
        &mut self,
        method: &str,
        template: &str,
        request: reqwest::RequestBuilder,
    ) -> (u16, Value) {
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let media_type = answer
            .headers()
            .get("content-type")
            .map(|t| {
                t.to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let bytes = answer.bytes().await.unwrap();
        let context = format!("{method} {template} answered {status} {media_type}");
        let operation = &self.document["paths"][template][method];
        assert!(operation.is_object(), "{context}: not in the document");
        let responses = &operation["responses"];
        let response = match &responses[status.to_string()] {
            Value::Null => &responses["default"],
            documented => documented,
        };
        assert!(
            status >= 400 || responses[status.to_string()].is_object(),
            "{context}: a success the document does not list"
        );
        let schema = &response["content"][&media_type]["schema"];
        assert!(
            schema.is_object(),
            "{context}: media type not in the document"
        );
        self.seen
            .entry((method.to_owned(), template.to_owned()))
            .or_default()
            .insert(status);
        if media_type != "application/json" {
            return (status, Value::Null);
        }
        let body: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{context}: not JSON: {e}"));
        let validator = self.validator(schema);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{context}: {errors:#?}\nbody: {body:#}");
        (status, body)
    }

    async fn get(&mut self, template: &str, path: &str) -> (u16, Value) {
        let request = self.http.get(format!("{}{path}", self.url));
        self.check("get", template, request).await
    }

    async fn post(&mut self, template: &str, body: Vec<u8>) -> (u16, Value) {
        let request = self.http.post(format!("{}{template}", self.url)).body(body);
        self.check("post", template, request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_to_a_played_aid_effort_are_what_the_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let inst = TestInstance::start_configured(dir.path(), |config| {
        config.bootstrap = true;
        config.limits = NO_WRITE_LIMITS;
        config.webhooks.allow_private_targets = true;
    })
    .await;
    let mut c = Checker::new(&inst.url).await;

    // A coherent effort: organisations, verdicts, needs, offers, pledges, shipments,
    // deliveries, each entry's answer checked.
    let operator = aidledger::keys::read_author_key(&dir.path().join("operator.key")).unwrap();
    let mut workflow = Workflow::new(Some(operator));
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let mut first = None;
    for _ in 0..12 {
        for entry in workflow.round(&mut rng, 25).unwrap() {
            let (status, _) = c.post("/api/v1/entries", entry.leaf().to_vec()).await;
            assert_eq!(status, 201);
            first.get_or_insert(entry);
        }
    }
    let first = first.unwrap();
    let (status, _) = c.post("/api/v1/entries", first.leaf().to_vec()).await;
    assert_eq!(status, 200, "the same entry again");
    let (status, _) = c.post("/api/v1/submissions", b"{}".to_vec()).await;
    assert_eq!(status, 400);
    let (status, _) = c.post("/api/v1/photos", b"not an image".to_vec()).await;
    assert_eq!(status, 415);
    let (status, photo) = c.post("/api/v1/photos", common::jpeg(&[])).await;
    assert_eq!(status, 201);
    let (status, _) = c.post("/api/v1/photos", common::jpeg(&[])).await;
    assert_eq!(status, 200);
    let photo = photo["sha256"].as_str().unwrap().to_owned();

    // An offer with private contact data, which its author reads back by signed requests.
    let holder = common::key();
    let salt: [u8; 32] = rand::random();
    let contact = json!({"name": "Depot desk", "phone": "+86 27 0000 0000"});
    let commitment =
        moderation::private::commitment(&salt, &serde_json::from_value(contact.clone()).unwrap());
    let mut body = common::offer_body("with a contact");
    body["contact"] = json!(commitment);
    let offer = common::sign(&holder, Kind::OfferPost, body);
    let submission = json!({
        "entry": std::str::from_utf8(offer.leaf()).unwrap(),
        "private": {"salt": hex::encode(salt), "contact": contact},
    });
    let (status, _) = c
        .post(
            "/api/v1/submissions",
            serde_json::to_vec(&submission).unwrap(),
        )
        .await;
    assert_eq!(status, 201);
    let private = common::id(&offer);
    for (template, path) in [
        (
            "/api/v1/private/{entry}",
            format!("/api/v1/private/{private}"),
        ),
        (
            "/api/v1/private/{entry}/reads",
            format!("/api/v1/private/{private}/reads"),
        ),
    ] {
        let request = c
            .http
            .get(format!("{}{path}", c.url))
            .header("authorization", authorization(&holder, "GET", &path));
        let (status, _) = c.check("get", template, request).await;
        assert_eq!(status, 200, "{path}");
    }

    // What an operator's probes and scraper read.
    for template in ["/healthz", "/readyz", "/metrics"] {
        let (status, _) = c.get(template, template).await;
        assert_eq!(status, 200, "{template}");
    }

    // A webhook subscription, managed by its owner's signed requests.
    let subscriber = common::key();
    let signed = |c: &Checker, method: reqwest::Method, path: &str| {
        c.http
            .request(method.clone(), format!("{}{path}", c.url))
            .header(
                "authorization",
                authorization(&subscriber, method.as_str(), path),
            )
    };
    let subscribe = "/api/v1/webhooks?url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&kind=need&area=CN-HB";
    let request = signed(&c, reqwest::Method::POST, subscribe);
    let (status, created) = c.check("post", "/api/v1/webhooks", request).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let request = c.http.get(format!("{}/api/v1/webhooks", c.url));
    assert_eq!(c.check("get", "/api/v1/webhooks", request).await.0, 401);
    let request = signed(&c, reqwest::Method::GET, "/api/v1/webhooks");
    assert_eq!(c.check("get", "/api/v1/webhooks", request).await.0, 200);
    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    let request = signed(&c, reqwest::Method::GET, &deliveries);
    let template = "/api/v1/webhooks/{id}/deliveries";
    assert_eq!(c.check("get", template, request).await.0, 200);
    let one = format!("/api/v1/webhooks/{id}");
    let request = signed(&c, reqwest::Method::DELETE, &one);
    assert_eq!(
        c.check("delete", "/api/v1/webhooks/{id}", request).await.0,
        200
    );

    // Every read, with the ids the effort made.
    let (_, needs) = c.get("/api/v1/needs", "/api/v1/needs?per_page=100").await;
    let need = needs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| {
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["pledged"] != 0)
        })
        .expect("a pledged need");
    let (need_id, author) = (
        need["id"].as_str().unwrap(),
        need["author"].as_str().unwrap(),
    );
    let org_id = need["org"]["id"].as_str().unwrap();
    // A refusal by the rules, with its fault.
    let too_much = json!({"need": need_id, "items": [{"line": 0, "quantity": 10_000_000}]});
    let (status, refusal) = c
        .post(
            "/api/v1/entries",
            common::signed(&common::key(), Kind::Pledge, too_much),
        )
        .await;
    assert!((400..500).contains(&status), "{status}");
    assert!(
        refusal["fault"].is_object(),
        "a refusal with a fault: {refusal}"
    );
    let (_, offers) = c.get("/api/v1/offers", "/api/v1/offers").await;
    let offer_id = offers["items"][0]["id"].as_str().unwrap();
    let size = c.get("/api/v1/node", "/api/v1/node").await.1["tree_size"]
        .as_u64()
        .unwrap();
    let reads = [
        ("/checkpoint", "/checkpoint".to_owned()),
        ("/api/v1/log/key", "/api/v1/log/key".to_owned()),
        (
            "/api/v1/log/entries",
            "/api/v1/log/entries?start=5&limit=20".to_owned(),
        ),
        (
            "/api/v1/log/entries",
            "/api/v1/log/entries?start=x".to_owned(),
        ),
        (
            "/api/v1/log/proof/inclusion",
            format!("/api/v1/log/proof/inclusion?leaf_hash={need_id}&tree_size={size}"),
        ),
        (
            "/api/v1/log/proof/inclusion",
            format!(
                "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={size}",
                "0".repeat(64)
            ),
        ),
        (
            "/api/v1/log/proof/consistency",
            format!("/api/v1/log/proof/consistency?first=3&second={size}"),
        ),
        (
            "/api/v1/log/proof/consistency",
            format!("/api/v1/log/proof/consistency?first={size}&second=3"),
        ),
        ("/tile/{path}", "/tile/0/000".to_owned()),
        ("/tile/{path}", "/tile/9/nowhere".to_owned()),
        ("/api/v1/needs", "/api/v1/needs?status=unheard".to_owned()),
        ("/api/v1/needs/{id}", format!("/api/v1/needs/{need_id}")),
        (
            "/api/v1/needs/{id}",
            format!("/api/v1/needs/{}", "0".repeat(64)),
        ),
        (
            "/api/v1/needs/{id}/matches",
            format!("/api/v1/needs/{need_id}/matches"),
        ),
        ("/api/v1/offers/{id}", format!("/api/v1/offers/{offer_id}")),
        (
            "/api/v1/offers/{id}/matches",
            format!("/api/v1/offers/{offer_id}/matches"),
        ),
        ("/api/v1/orgs", "/api/v1/orgs?per_page=100".to_owned()),
        ("/api/v1/orgs/{id}", format!("/api/v1/orgs/{org_id}")),
        (
            "/api/v1/orgs/{id}/members",
            format!("/api/v1/orgs/{org_id}/members"),
        ),
        (
            "/api/v1/keys/{key}/roles",
            format!("/api/v1/keys/{author}/roles"),
        ),
        (
            "/api/v1/keys/{key}/activity",
            format!("/api/v1/keys/{author}/activity"),
        ),
        ("/api/v1/review", "/api/v1/review?per_page=100".to_owned()),
        ("/api/v1/review", "/api/v1/review?sort=sideways".to_owned()),
        (
            "/api/v1/authors/{key}/entries",
            format!("/api/v1/authors/{author}/entries"),
        ),
        (
            "/api/v1/authors/{key}/entries",
            "/api/v1/authors/nobody/entries".to_owned(),
        ),
        ("/api/v1/trace/{hash}", format!("/api/v1/trace/{need_id}")),
        ("/api/v1/trace/{hash}", "/api/v1/trace/short".to_owned()),
        (
            "/api/v1/search",
            "/api/v1/search?q=&per_page=100".to_owned(),
        ),
        ("/api/v1/search", "/api/v1/search?sort=sideways".to_owned()),
        ("/api/v1/stats", "/api/v1/stats".to_owned()),
        ("/feeds/needs.atom", "/feeds/needs.atom".to_owned()),
        ("/feeds/orgs/{file}", format!("/feeds/orgs/{org_id}.atom")),
        (
            "/feeds/authors/{file}",
            format!("/feeds/authors/{author}.atom"),
        ),
        (
            "/feeds/authors/{file}",
            format!("/feeds/authors/{author}.rss"),
        ),
        (
            "/api/v1/private/{entry}",
            format!("/api/v1/private/{need_id}"),
        ),
        (
            "/api/v1/private/{entry}/reads",
            format!("/api/v1/private/{need_id}/reads"),
        ),
        ("/api/v1/photos/{sha256}", format!("/api/v1/photos/{photo}")),
        (
            "/api/v1/photos/{sha256}",
            format!("/api/v1/photos/{}", "0".repeat(64)),
        ),
        (
            "/api/v1/photos/{sha256}",
            "/api/v1/photos/not-hex".to_owned(),
        ),
        (
            "/api/v1/export/{file}",
            "/api/v1/export/needs.csv".to_owned(),
        ),
        (
            "/api/v1/export/{file}",
            "/api/v1/export/people.json".to_owned(),
        ),
        ("/api/v1/openapi.json", "/api/v1/openapi.json".to_owned()),
    ];
    for (template, path) in reads {
        c.get(template, &path).await;
    }
    for dataset in ["needs", "offers", "orgs", "chains"] {
        let (status, rows) = c
            .get(
                "/api/v1/export/{file}",
                &format!("/api/v1/export/{dataset}.json"),
            )
            .await;
        assert_eq!(status, 200);
        assert!(!rows.as_array().unwrap().is_empty(), "{dataset}: rows");
    }

    // What was checked: every operation of the document, each with a success.
    let documented = documented_routes(&c.document);
    let checked: BTreeSet<_> = c.seen.keys().cloned().collect();
    assert_eq!(checked, documented, "operations checked");
    for ((method, template), statuses) in &c.seen {
        assert!(
            statuses.iter().any(|s| (200..300).contains(s)),
            "{method} {template}: only {statuses:?} seen"
        );
    }
    inst.stop().await;
}
