//! Printable receipts (`/receipts/{pledge}` and `/receipts/{pledge}/{shipment}`): what
//! was pledged or shipped, to which need and delivery point, with the entries' places
//! in the log, the command that verifies them, and a QR code. A shipment's code opens
//! the need page at that shipment's delivery form, so the receiving hospital scans
//! the paper that came with the goods and confirms. Rendered on the server only.

use super::{short, LoadError};
use crate::api::{client, Failure};
use crate::describe::{lines_of, summary};
use crate::i18n;
use crate::session::{t, use_session};
use base64::prelude::*;
use contract::{Post, Trace};
use ledger::entry::SignedEntry;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// An entry of the chain, decoded.
#[derive(Clone)]
struct Link {
    index: u64,
    hash: String,
    entry: SignedEntry,
}

fn links(trace: &Trace) -> Vec<Link> {
    trace
        .links
        .iter()
        .filter_map(|l| {
            let leaf = BASE64_STANDARD.decode(&l.leaf).ok()?;
            Some(Link {
                index: l.index,
                hash: l.leaf_hash.clone(),
                entry: serde_json::from_slice(&leaf).ok()?,
            })
        })
        .collect()
}

/// This site's address as the reader reached it: what a code printed on paper must
/// open. Plain HTTP only on the loopback (anything else is served behind TLS,
/// docs/DEPLOY.md).
fn site() -> String {
    let host = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::HOST)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".into());
    let loopback = ["localhost", "127.", "[::1]"]
        .iter()
        .any(|l| host.starts_with(l));
    format!("{}://{host}", if loopback { "http" } else { "https" })
}

/// A QR code of `text` as SVG (dark modules on white, with the quiet zone).
fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .build(),
    )
}

/// `SF Express · SF1234567890`: the carrier, and the tracking number when given.
fn carrier_and_tracking(shipment: &SignedEntry) -> String {
    let carrier = shipment.body["carrier"].as_str().unwrap_or_default();
    match shipment.body["tracking"].as_str() {
        Some(tracking) => format!("{carrier} · {tracking}"),
        None => carrier.to_owned(),
    }
}

#[component]
pub fn PledgeReceipt() -> impl IntoView {
    view! { <Receipt/> }
}

#[component]
pub fn ShipmentReceipt() -> impl IntoView {
    view! { <Receipt/> }
}

#[component]
fn Receipt() -> impl IntoView {
    let params = use_params_map();
    let ids = move || params.with(|p| (p.get("pledge").unwrap_or_default(), p.get("shipment")));
    let api = client();
    let data = Resource::new(ids, move |(pledge, _)| {
        let api = api.clone();
        async move {
            let trace: Trace = api.get(format!("/api/v1/trace/{pledge}")).await?;
            let need_id = trace
                .links
                .first()
                .map(|l| l.leaf_hash.clone())
                .unwrap_or_default();
            let need: Post = api.get(format!("/api/v1/needs/{need_id}")).await?;
            Ok::<_, Failure>((trace, need))
        }
    });
    view! {
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                let (pledge, shipment) = ids();
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok((trace, need)) => {
                        let links = links(&trace);
                        let found = links.iter().find(|l| l.hash == pledge && l.entry.kind == "pledge").cloned();
                        let sent = shipment.map(|s| {
                            links.iter().find(|l| l.hash == s && l.entry.kind == "shipment").cloned()
                        });
                        match (found, sent) {
                            (Some(pledge), None) => view! { <ReceiptView need pledge shipment=None links size=trace.tree_size/> }.into_any(),
                            (Some(pledge), Some(Some(shipment))) => view! { <ReceiptView need pledge shipment=Some(shipment) links size=trace.tree_size/> }.into_any(),
                            _ => view! { <LoadError error=Failure { status: 404, message: "no such pledge or shipment".into(), fault: None }/> }.into_any(),
                        }
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ReceiptView(
    need: Post,
    pledge: Link,
    shipment: Option<Link>,
    links: Vec<Link>,
    size: u64,
) -> impl IntoView {
    let lang = use_session().lang;
    let site = site();
    let title = if shipment.is_some() {
        t("receipt.shipment_title")
    } else {
        t("receipt.pledge_title")
    };
    let subject = shipment.clone().unwrap_or_else(|| pledge.clone());
    // A shipment's code opens its delivery form on the need page; a pledge's, the need.
    let target = match &shipment {
        Some(s) => format!("{site}/needs/{}#deliver-{}", need.id, s.index),
        None => format!("{site}/needs/{}", need.id),
    };
    let qr = qr_svg(&target).unwrap_or_default();
    let item = |line: u32| need.items.iter().find(|i| i.line == line).cloned();
    let rows: Vec<(String, String)> = lines_of(&subject.entry.body)
        .into_iter()
        .map(|(line, quantity)| match item(line) {
            Some(i) => (
                i.item.clone(),
                format!("{quantity} {}", i18n::value(lang, "unit", &i.unit)),
            ),
            None => (format!("{} {line}", t("chain.line")), quantity.to_string()),
        })
        .collect();
    // What became of it since: the shipments of a pledge, the confirmations of a shipment.
    let later: Vec<Link> = links
        .into_iter()
        .filter(|l| match &shipment {
            Some(s) => {
                l.entry.kind == "delivery.confirm" && l.entry.body["shipment"] == s.hash.as_str()
            }
            None => {
                (l.entry.kind == "shipment" || l.entry.kind == "pledge.accept")
                    && l.entry.body["pledge"] == pledge.hash.as_str()
            }
        })
        .collect();
    let name_of = crate::describe::line_names(lang, &need.items);
    let org = need
        .org
        .as_ref()
        .map(|o| o.name.clone())
        .unwrap_or_default();
    view! {
        <Title text=title/>
        <article class="receipt" data-testid="receipt">
            <h1>{title}</h1>
            <div class="receipt-head">
                <dl class="facts">
                    <dt>{t("receipt.to")}</dt><dd><a href=format!("/needs/{}", need.id)>{org}</a> " · " {need.area.name.clone()}</dd>
                    {need.delivery_point.clone().map(|d| view! { <dt>{t("need.delivery_point")}</dt><dd data-testid="receipt-delivery-point">{d}</dd> })}
                    <dt>{t("receipt.by")}</dt><dd><code>{subject.entry.author.clone()}</code></dd>
                    <dt>{t("receipt.date")}</dt><dd>{subject.entry.created_at.clone()}</dd>
                    {shipment.as_ref().map(|s| view! {
                        <dt>{t("receipt.carrier")}</dt>
                        <dd data-testid="receipt-carrier">{carrier_and_tracking(&s.entry)}</dd>
                    })}
                </dl>
                <figure class="qr" data-testid="receipt-qr" data-target=target.clone()>
                    <div inner_html=qr></div>
                    <figcaption>{if shipment.is_some() { t("receipt.scan_to_confirm") } else { t("receipt.scan_to_open") }}</figcaption>
                </figure>
            </div>
            <table class="receipt-items">
                <thead><tr><th scope="col">{t("items.item")}</th><th scope="col">{t("receipt.quantity")}</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(name, quantity)| view! { <tr><th scope="row">{name}</th><td>{quantity}</td></tr> }).collect_view()}
                </tbody>
            </table>
            {(!later.is_empty()).then(|| view! {
                <h2>{t("receipt.since")}</h2>
                <ul data-testid="receipt-since">
                    {later.into_iter().map(|l| view! {
                        <li><span class="badge kind">{i18n::value(lang, "kind", &l.entry.kind)}</span> " " {l.entry.created_at.clone()} " · " {summary(lang, &l.entry, &name_of)}</li>
                    }).collect_view()}
                </ul>
            })}
            <h2>{t("receipt.proof")}</h2>
            <p>{t("receipt.proof_text")}</p>
            <dl class="facts">
                <dt>{t("receipt.entry")}</dt><dd>"#" {subject.index} " · " <code>{subject.hash.clone()}</code></dd>
                <dt>{t("receipt.checkpoint")}</dt><dd>{size}</dd>
            </dl>
            <pre data-testid="receipt-verify">{format!("aidledger trace {} --url {site}", pledge.hash)}</pre>
            <p class="hint no-print">{t("receipt.print_hint")} " " <code>{short(&subject.hash)}</code></p>
        </article>
    }
}
