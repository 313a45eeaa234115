//! What the benches sign: an offer of about the size the sample generator produces
//! (600 bytes signed). Offers are valid under the body schema and anyone may post one.

use serde_json::{json, Value};

/// The body of offer number `n`; distinct `n` give distinct entries.
pub fn offer(n: u64) -> Value {
    json!({
        "items": [
            {"item": "医用防护口罩 N95口罩", "category": "respirator", "quantity": 3000, "unit": "piece", "spec": "GB 19083-2010"},
            {"item": "Nitrile gloves", "category": "gloves", "quantity": 1200, "unit": "box", "spec": "EN 455"},
        ],
        "area": {"code": "CN-HB", "name": "湖北"},
        "available_until": "2026-12-14",
        "description": format!("Bench offer {n:012}: surplus stock from a hospital supply warehouse; can ship within 48 hours."),
    })
}
