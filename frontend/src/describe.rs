//! Entries described in words, from their public bodies: what the need page's chain
//! shows and what the Atom feeds say.

use crate::i18n;
use ledger::entry::SignedEntry;
use serde_json::Value;

/// Item lines (`{line, quantity}`) of a pledge, shipment or delivery body.
pub fn lines_of(body: &Value) -> Vec<(u32, u64)> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| Some((l["line"].as_u64()? as u32, l["quantity"].as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A line of a need as a chain names it: the item, and its unit in the reader's
/// language.
pub type LineName = (String, String);

/// What names the lines of a need (its `items`) for [`summary`].
pub fn line_names(
    lang: i18n::Lang,
    items: &[contract::ItemLine],
) -> impl Fn(u32) -> Option<LineName> + Clone + 'static {
    let names: Vec<(u32, LineName)> = items
        .iter()
        .map(|i| (i.line, (i.item.clone(), i18n::value(lang, "unit", &i.unit))))
        .collect();
    move |line| {
        names
            .iter()
            .find(|(l, _)| *l == line)
            .map(|(_, n)| n.clone())
    }
}

/// One line saying what an entry of a chain did, from its public body (the feeds
/// say the same). `line_name` names a line of the need where the caller knows it
/// (`N95口罩: 200 pieces`); else the line is named by its number.
pub fn summary(
    lang: i18n::Lang,
    entry: &SignedEntry,
    line_name: &dyn Fn(u32) -> Option<LineName>,
) -> String {
    let lines = lines_of(&entry.body)
        .iter()
        .map(|(line, q)| match line_name(*line) {
            Some((name, unit)) => format!("{name}: {q} {unit}"),
            None => format!("{} {line}: {q}", i18n::tr(lang, "chain.line")),
        })
        .collect::<Vec<_>>()
        .join(", ");
    // Optional public text (a tracking number, a delivery note) follows when given.
    let then = |field: &str| {
        entry.body[field]
            .as_str()
            .map(|v| format!(" · {v}"))
            .unwrap_or_default()
    };
    match entry.kind.as_str() {
        "shipment" => format!(
            "{lines} · {}{}",
            entry.body["carrier"].as_str().unwrap_or_default(),
            then("tracking")
        ),
        "delivery.confirm" => format!(
            "{lines} · {}{}",
            i18n::value(
                lang,
                "condition",
                entry.body["condition"].as_str().unwrap_or_default()
            ),
            then("note")
        ),
        "pledge.accept" => entry.body["note"].as_str().unwrap_or_default().to_owned(),
        "org.update" => ["delivery_point", "description"]
            .iter()
            .filter_map(|field| entry.body[*field].as_str())
            .collect::<Vec<_>>()
            .join(" · "),
        "need.post" | "offer.post" => entry.body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        format!(
                            "{} × {} {}",
                            i["item"].as_str().unwrap_or_default(),
                            i["quantity"],
                            i18n::value(lang, "unit", i["unit"].as_str().unwrap_or_default())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
        "verdict" => format!(
            "{} · {}",
            i18n::value(
                lang,
                "verdict",
                entry.body["verdict"].as_str().unwrap_or_default()
            ),
            entry.body["reason"].as_str().unwrap_or_default()
        ),
        _ => lines,
    }
}
