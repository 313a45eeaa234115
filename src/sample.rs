//! Realistic sample entries (English and Chinese) for demos, tests and benchmarks.

use ledger::Kind;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

const HOSPITALS: &[(&str, &str, &str)] = &[
    ("Wuhan Union Hospital", "CN-HB", "Hubei"),
    ("武汉市第一医院", "CN-HB", "湖北"),
    ("Jinyintan Hospital", "CN-HB", "Hubei"),
    ("黄冈市中心医院", "CN-HB", "湖北"),
    ("Xiaogan Central Hospital", "CN-HB", "Hubei"),
    ("温州医科大学附属第一医院", "CN-ZJ", "浙江"),
    ("Bergamo Papa Giovanni XXIII", "IT-25", "Lombardy"),
    ("Antakya Field Hospital", "TR-31", "Hatay"),
];

/// (item, category, unit, specification standard or "")
const ITEMS: &[(&str, &str, &str, &str)] = &[
    ("N95 respirator", "respirator", "piece", "NIOSH N95"),
    (
        "医用防护口罩 N95口罩",
        "respirator",
        "piece",
        "GB 19083-2010",
    ),
    ("KN95 mask", "respirator", "piece", "GB 2626-2019"),
    ("医用外科口罩", "surgical_mask", "piece", "YY 0469-2011"),
    ("Surgical masks", "surgical_mask", "box", "EN 14683"),
    ("医用防护服", "gown_coverall", "piece", "GB 19082-2009"),
    ("Isolation gowns", "gown_coverall", "piece", ""),
    ("Nitrile gloves", "gloves", "box", "EN 455"),
    ("护目镜", "goggles", "piece", ""),
    ("Face shields", "face_shield", "piece", ""),
    ("84消毒液", "disinfectant", "litre", ""),
    ("Infrared thermometers", "thermometer", "piece", ""),
    ("呼吸机", "ventilator", "unit", ""),
    ("Oxygen concentrators", "oxygen", "unit", ""),
];

const URGENCY: &[&str] = &["critical", "high", "medium", "low"];

/// A random need, offer or organisation registration, as (kind, body).
pub fn sample_entry(rng: &mut impl Rng) -> (Kind, Value) {
    let (kind, mut body) = sample_body(rng);
    // Sample bodies repeat; a reference number keeps every sample a distinct entry.
    body["ref"] = json!(format!(
        "SAMPLE-{:012}",
        rng.gen_range(0..1_000_000_000_000u64)
    ));
    (kind, body)
}

fn sample_body(rng: &mut impl Rng) -> (Kind, Value) {
    let (hospital, code, area) = *HOSPITALS.choose(rng).expect("non-empty");
    match rng.gen_range(0..10) {
        0 => (
            Kind::OrgRegister,
            json!({
                "name": hospital,
                "type": "hospital",
                "area": {"code": code, "name": area},
            }),
        ),
        1..=2 => {
            let (item, category, unit, spec) = *ITEMS.choose(rng).expect("non-empty");
            (
                Kind::OfferPost,
                json!({
                    "items": [{"item": item, "category": category, "quantity": rng.gen_range(1..50) * 100, "unit": unit, "spec": spec}],
                    "area": {"code": code, "name": area},
                }),
            )
        }
        _ => {
            let count = rng.gen_range(1..4);
            let chosen: Vec<_> = ITEMS.choose_multiple(rng, count).collect();
            let lines: Vec<Value> = chosen
                .into_iter()
                .map(|(item, category, unit, spec)| {
                    json!({"item": item, "category": category, "quantity": rng.gen_range(1..100) * 50, "unit": unit, "spec": spec})
                })
                .collect();
            (
                Kind::NeedPost,
                json!({
                    "organisation": hospital,
                    "items": lines,
                    "urgency": URGENCY.choose(rng).expect("non-empty"),
                    "needed_by": format!("2026-12-{:02}", rng.gen_range(1..29)),
                    "area": {"code": code, "name": area},
                }),
            )
        }
    }
}
