//! Realistic sample data (English and Chinese) for demos, tests and benchmarks.
//!
//! `sample_entry` makes standalone entries anyone may write (offers); `Workflow` plays
//! a coherent aid effort round by round: hospitals register and post needs, moderators
//! verify them, donors offer, pledge and ship, hospitals confirm deliveries. Every entry
//! it makes is one the workflow rules admit, given the rounds are sequenced in order.

use ed25519_dalek::SigningKey;
use ledger::body::Role;
use ledger::entry::{EntryError, UnsignedEntry, VerifiedEntry};
use ledger::{hex32, Kind};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashSet;
use time::{Duration, OffsetDateTime};

/// (name, region code, region name)
const HOSPITALS: &[(&str, &str, &str)] = &[
    ("Wuhan Union Hospital", "CN-HB", "Hubei"),
    ("武汉市第一医院", "CN-HB", "湖北"),
    ("Jinyintan Hospital", "CN-HB", "Hubei"),
    ("黄冈市中心医院", "CN-HB", "湖北"),
    ("Xiaogan Central Hospital", "CN-HB", "Hubei"),
    ("温州医科大学附属第一医院", "CN-ZJ", "浙江"),
    ("Papa Giovanni XXIII Hospital, Bergamo", "IT-25", "Lombardy"),
    ("Antakya Field Hospital", "TR-31", "Hatay"),
];

/// (item, category, unit, specification standard)
const ITEMS: &[(&str, &str, &str, Option<&str>)] = &[
    ("N95 respirator", "respirator", "piece", Some("NIOSH N95")),
    (
        "医用防护口罩 N95口罩",
        "respirator",
        "piece",
        Some("GB 19083-2010"),
    ),
    ("KN95 mask", "respirator", "piece", Some("GB 2626-2019")),
    (
        "医用外科口罩",
        "surgical_mask",
        "piece",
        Some("YY 0469-2011"),
    ),
    ("Surgical masks", "surgical_mask", "box", Some("EN 14683")),
    (
        "医用防护服",
        "gown_coverall",
        "piece",
        Some("GB 19082-2009"),
    ),
    ("Isolation gowns", "gown_coverall", "piece", None),
    ("Nitrile gloves", "gloves", "box", Some("EN 455")),
    ("护目镜", "goggles", "piece", None),
    ("Face shields", "face_shield", "piece", None),
    ("84消毒液", "disinfectant", "litre", None),
    ("Infrared thermometers", "thermometer", "piece", None),
    ("呼吸机", "ventilator", "unit", None),
    ("Oxygen concentrators", "oxygen", "unit", None),
];

const URGENCY: &[&str] = &["critical", "high", "medium", "low"];
const CARRIERS: &[&str] = &[
    "SF Express",
    "顺丰速运",
    "China Post EMS",
    "DHL",
    "Volunteer convoy",
];

fn item_line(rng: &mut impl Rng, scale: u64) -> Value {
    let (item, category, unit, spec) = *ITEMS.choose(rng).expect("non-empty");
    let mut line = json!({"item": item, "category": category, "quantity": rng.gen_range(1..40) * scale, "unit": unit});
    if let Some(spec) = spec {
        line["spec"] = json!(spec);
    }
    line
}

fn area(code: &str, name: &str) -> Value {
    json!({"code": code, "name": name})
}

/// A standalone offer (anyone may post one on any log), as (kind, body).
pub fn sample_entry(rng: &mut impl Rng) -> (Kind, Value) {
    let (_, code, region) = *HOSPITALS.choose(rng).expect("non-empty");
    let count = rng.gen_range(1..4);
    let items: Vec<Value> = (0..count).map(|_| item_line(rng, 100)).collect();
    (
        Kind::OfferPost,
        json!({
            "items": items,
            "area": area(code, region),
            // Sample bodies repeat; a reference keeps every sample a distinct entry.
            "description": format!("Donation batch SAMPLE-{:012}", rng.gen_range(0..1_000_000_000_000u64)),
        }),
    )
}

struct Hospital {
    key: SigningKey,
    org: String,
    name: usize,
}

struct OpenNeed {
    id: String,
    hospital: usize,
    /// Quantity still unpledged, per line.
    remaining: Vec<u64>,
}

struct OpenPledge {
    id: String,
    donor: usize,
    hospital: usize,
    lines: Vec<(u32, u64)>,
}

struct Sent {
    id: String,
    hospital: usize,
    lines: Vec<(u32, u64)>,
}

/// A coherent aid workflow, produced round by round.
pub struct Workflow {
    operator: Option<SigningKey>,
    moderators: Vec<SigningKey>,
    hospitals: Vec<Hospital>,
    /// Hospitals registered in earlier rounds (the first `ready` of `hospitals`).
    ready: usize,
    unverified: Vec<(String, usize)>,
    registered: Vec<(String, usize)>,
    donors: Vec<SigningKey>,
    needs: Vec<OpenNeed>,
    /// Pledges waiting for the hospital's acceptance.
    pledges: Vec<OpenPledge>,
    /// Accepted pledges, waiting to be shipped.
    accepted: Vec<OpenPledge>,
    shipments: Vec<Sent>,
    /// When the entries of this round are dated: `lag` before the host's clock.
    now: OffsetDateTime,
    lag: Duration,
    /// Leaf hashes of needs and pledges made so far: an identical entry (same author,
    /// second and content) would be a duplicate, not a second need or pledge.
    seen: HashSet<[u8; 32]>,
}

impl Workflow {
    /// A workflow; with the instance's operator key it also appoints moderators who
    /// verify organisations and needs.
    pub fn new(operator: Option<SigningKey>) -> Self {
        Workflow {
            operator,
            moderators: vec![],
            hospitals: vec![],
            ready: 0,
            unverified: vec![],
            registered: vec![],
            donors: (0..6).map(|_| crate::keys::generate_author_key()).collect(),
            needs: vec![],
            pledges: vec![],
            accepted: vec![],
            shipments: vec![],
            now: OffsetDateTime::now_utc(),
            lag: Duration::ZERO,
            seen: HashSet::new(),
        }
    }

    fn sign(&self, key: &SigningKey, kind: Kind, body: Value) -> Result<VerifiedEntry, EntryError> {
        UnsignedEntry::new(kind, &key.verifying_key(), self.now, body).sign(key)
    }

    /// Dates the entries of the next rounds `lag` before now, so that a seeded effort
    /// can unfold over past days (deadlines stay ahead of the real date).
    pub fn date_behind(&mut self, lag: Duration) {
        self.lag = lag;
    }

    /// The next round: at most `max` entries that may be sequenced in any order, each
    /// depending only on entries of earlier rounds.
    pub fn round(
        &mut self,
        rng: &mut impl Rng,
        max: usize,
    ) -> Result<Vec<VerifiedEntry>, EntryError> {
        self.now = OffsetDateTime::now_utc() - self.lag;
        let mut out = Vec::new();
        if let Some(operator) = self.operator.clone().filter(|_| self.moderators.is_empty()) {
            for _ in 0..2.min(max) {
                let moderator = crate::keys::generate_author_key();
                let body = json!({"key": hex::encode(moderator.verifying_key().as_bytes()), "role": Role::Moderator});
                out.push(self.sign(&operator, Kind::RoleGrant, body)?);
                self.moderators.push(moderator);
            }
            return Ok(out);
        }
        let mut new_needs = Vec::new();
        let mut new_pledges = Vec::new();
        let mut new_acceptances = Vec::new();
        let mut new_shipments = Vec::new();
        while out.len() < max {
            let entry = match rng.gen_range(0..10) {
                0 if self.hospitals.len() < 40 => self.register(rng)?,
                1 if !self.unverified.is_empty() && !self.moderators.is_empty() => {
                    self.verify_org(rng)?
                }
                2..=3 if self.ready > 0 => match self.post_need(rng)? {
                    Some((entry, need)) => {
                        new_needs.push(need);
                        entry
                    }
                    None => continue,
                },
                4 => {
                    let (kind, body) = sample_entry(rng);
                    let donor = self.donors.choose(rng).expect("donors").clone();
                    self.sign(&donor, kind, body)?
                }
                5..=6 if !self.needs.is_empty() => match self.pledge(rng)? {
                    Some((entry, pledge)) => {
                        new_pledges.push(pledge);
                        entry
                    }
                    None => continue,
                },
                7 if !self.pledges.is_empty() => {
                    let (entry, accepted) = self.accept(rng)?;
                    new_acceptances.push(accepted);
                    entry
                }
                8 if !self.accepted.is_empty() => {
                    let (entry, sent) = self.ship(rng)?;
                    new_shipments.push(sent);
                    entry
                }
                9 if !self.shipments.is_empty() => self.confirm(rng)?,
                _ if self.hospitals.is_empty() => self.register(rng)?,
                _ => {
                    let (kind, body) = sample_entry(rng);
                    let donor = self.donors.choose(rng).expect("donors").clone();
                    self.sign(&donor, kind, body)?
                }
            };
            out.push(entry);
        }
        self.ready = self.hospitals.len();
        self.unverified.append(&mut self.registered);
        self.needs.extend(new_needs);
        self.pledges.extend(new_pledges);
        self.accepted.extend(new_acceptances);
        self.shipments.extend(new_shipments);
        Ok(out)
    }

    fn register(&mut self, rng: &mut impl Rng) -> Result<VerifiedEntry, EntryError> {
        let key = crate::keys::generate_author_key();
        let name = rng.gen_range(0..HOSPITALS.len());
        let (title, code, region) = HOSPITALS[name];
        let body = json!({
            "name": format!("{title} #{}", self.hospitals.len() + 1),
            "type": "hospital",
            "area": area(code, region),
            "description": "Designated hospital for infectious disease patients / 传染病定点医院",
        });
        let entry = self.sign(&key, Kind::OrgRegister, body)?;
        let org = hex32::encode(&entry.leaf_hash());
        self.registered.push((org.clone(), 0));
        self.hospitals.push(Hospital { key, org, name });
        Ok(entry)
    }

    fn verify_org(&mut self, rng: &mut impl Rng) -> Result<VerifiedEntry, EntryError> {
        let (org, verdicts) = self
            .unverified
            .remove(rng.gen_range(0..self.unverified.len()));
        let moderator = self.moderators[verdicts % self.moderators.len()].clone();
        if verdicts + 1 < self.moderators.len() {
            self.unverified.push((org.clone(), verdicts + 1));
        }
        let body = json!({"org": org, "verdict": "verified", "reason": "confirmed by phone with the hospital switchboard / 已电话核实"});
        self.sign(&moderator, Kind::OrgVerify, body)
    }

    fn post_need(
        &mut self,
        rng: &mut impl Rng,
    ) -> Result<Option<(VerifiedEntry, OpenNeed)>, EntryError> {
        let hospital = rng.gen_range(0..self.ready);
        let h = &self.hospitals[hospital];
        let (_, code, region) = HOSPITALS[h.name];
        let lines: Vec<Value> = (0..rng.gen_range(1..4))
            .map(|_| item_line(rng, 50))
            .collect();
        let remaining = lines
            .iter()
            .map(|l| l["quantity"].as_u64().unwrap_or(0))
            .collect();
        let needed_by = (OffsetDateTime::now_utc() + Duration::days(rng.gen_range(7..60)))
            .date()
            .to_string();
        let body = json!({
            "org": h.org,
            "items": lines,
            "urgency": URGENCY.choose(rng).expect("non-empty"),
            "needed_by": needed_by,
            "area": area(code, region),
            "description": "Stock runs out within days; please ship to the logistics gate / 物资仅够维持数日",
        });
        let entry = self.sign(&h.key.clone(), Kind::NeedPost, body)?;
        if !self.seen.insert(entry.leaf_hash().0) {
            return Ok(None);
        }
        let need = OpenNeed {
            id: hex32::encode(&entry.leaf_hash()),
            hospital,
            remaining,
        };
        Ok(Some((entry, need)))
    }

    fn pledge(
        &mut self,
        rng: &mut impl Rng,
    ) -> Result<Option<(VerifiedEntry, OpenPledge)>, EntryError> {
        let n = rng.gen_range(0..self.needs.len());
        let donor = rng.gen_range(0..self.donors.len());
        let need = &self.needs[n];
        let lines: Vec<(u32, u64)> = need
            .remaining
            .iter()
            .enumerate()
            .filter(|(_, remaining)| **remaining > 0)
            .map(|(line, remaining)| (line as u32, rng.gen_range(1..=*remaining)))
            .collect();
        if lines.is_empty() {
            return Ok(None);
        }
        let body = json!({
            "need": need.id,
            "items": lines.iter().map(|(line, q)| json!({"line": line, "quantity": q})).collect::<Vec<_>>(),
        });
        let hospital = need.hospital;
        let entry = self.sign(&self.donors[donor].clone(), Kind::Pledge, body)?;
        if !self.seen.insert(entry.leaf_hash().0) {
            return Ok(None);
        }
        for (line, q) in &lines {
            self.needs[n].remaining[*line as usize] -= q;
        }
        let pledge = OpenPledge {
            id: hex32::encode(&entry.leaf_hash()),
            donor,
            hospital,
            lines,
        };
        Ok(Some((entry, pledge)))
    }

    /// The hospital accepts a pledge: the donor may now read its contact.
    fn accept(&mut self, rng: &mut impl Rng) -> Result<(VerifiedEntry, OpenPledge), EntryError> {
        let p = self
            .pledges
            .swap_remove(rng.gen_range(0..self.pledges.len()));
        let entry = self.sign(
            &self.hospitals[p.hospital].key.clone(),
            Kind::PledgeAccept,
            json!({"pledge": p.id}),
        )?;
        Ok((entry, p))
    }

    fn ship(&mut self, rng: &mut impl Rng) -> Result<(VerifiedEntry, Sent), EntryError> {
        let p = self
            .accepted
            .swap_remove(rng.gen_range(0..self.accepted.len()));
        let body = json!({
            "pledge": p.id,
            "carrier": CARRIERS.choose(rng).expect("non-empty"),
            "tracking": format!("SF{:010}", rng.gen_range(0..10_000_000_000u64)),
            "items": p.lines.iter().map(|(line, q)| json!({"line": line, "quantity": q})).collect::<Vec<_>>(),
        });
        let entry = self.sign(&self.donors[p.donor].clone(), Kind::Shipment, body)?;
        let sent = Sent {
            id: hex32::encode(&entry.leaf_hash()),
            hospital: p.hospital,
            lines: p.lines,
        };
        Ok((entry, sent))
    }

    fn confirm(&mut self, rng: &mut impl Rng) -> Result<VerifiedEntry, EntryError> {
        let s = self
            .shipments
            .swap_remove(rng.gen_range(0..self.shipments.len()));
        let body = json!({
            "shipment": s.id,
            "items": s.lines.iter().map(|(line, q)| json!({"line": line, "quantity": q})).collect::<Vec<_>>(),
            "condition": "good",
        });
        self.sign(
            &self.hospitals[s.hospital].key.clone(),
            Kind::DeliveryConfirm,
            body,
        )
    }
}
