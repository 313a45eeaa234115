//! Realistic sample data (English and Chinese) for demos, tests and benchmarks.
//!
//! `sample_entry` makes standalone entries anyone may write (offers); `Workflow` plays
//! a coherent aid effort round by round: hospitals register and post needs, moderators
//! verify them, donors offer, pledge and ship, hospitals confirm deliveries and close
//! the needs that were met or that they no longer need. Every entry it makes is one the
//! workflow rules admit, given the rounds are sequenced in order, for as long as it
//! runs: it keeps each organisation under the rules' limit of open needs and closes
//! what a real effort closes, so it can seed a log of millions of entries.

use ed25519_dalek::SigningKey;
use ledger::body::{CloseReason, Role};
use ledger::entry::{EntryError, UnsignedEntry, VerifiedEntry};
use ledger::{hex32, Kind};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
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

/// Hospitals that register before the effort grows only occasionally: a handful a
/// round at the start, then one in `LATE_REGISTRATION` draws, up to `MAX_HOSPITALS`.
const EARLY_HOSPITALS: usize = 40;
const LATE_REGISTRATION: u32 = 200;
const MAX_HOSPITALS: usize = 5_000;

/// Open needs a hospital of the sample keeps at most: below the rules' limit
/// (`moderation::rules::MAX_OPEN_NEEDS_PER_ORG`) by more than a round can add.
const OPEN_NEEDS_PER_HOSPITAL: u32 = 120;

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
    /// Its needs that are open or about to be posted.
    open_needs: u32,
}

/// A need that still takes pledges.
struct OpenNeed {
    id: String,
    hospital: usize,
    /// Quantity still unpledged, per line.
    remaining: Vec<u64>,
}

/// What the workflow knows of an open need to close it at the right time.
struct NeedState {
    hospital: usize,
    /// Its pledges whose delivery is not yet confirmed: while any is, it stays open.
    outstanding: u32,
    /// Whether every line is fully pledged.
    pledged: bool,
}

struct OpenPledge {
    id: String,
    need: String,
    donor: usize,
    hospital: usize,
    lines: Vec<(u32, u64)>,
}

struct Sent {
    id: String,
    need: String,
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
    /// Open needs that still take pledges.
    needs: Vec<OpenNeed>,
    /// Every open need, by id.
    open: HashMap<String, NeedState>,
    /// Needs met (fully pledged, every delivery confirmed) in earlier rounds, to close.
    met: Vec<String>,
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
            open: HashMap::new(),
            met: vec![],
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
        let mut new_confirmations = Vec::new();
        while out.len() < max {
            let entry = match rng.gen_range(0..10) {
                0 if self.may_register(rng) => self.register(rng)?,
                1 if !self.unverified.is_empty() && !self.moderators.is_empty() => {
                    self.verify_org(rng)?
                }
                2..=3 if self.ready > 0 => {
                    let hospital = rng.gen_range(0..self.ready);
                    let made = if self.hospitals[hospital].open_needs >= OPEN_NEEDS_PER_HOSPITAL {
                        self.withdraw_one_of(hospital)?
                    } else {
                        self.post_need(rng, hospital)?.map(|(entry, need)| {
                            new_needs.push(need);
                            entry
                        })
                    };
                    match made {
                        Some(entry) => entry,
                        None => continue,
                    }
                }
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
                9 if !self.shipments.is_empty() => {
                    let (entry, need) = self.confirm(rng)?;
                    new_confirmations.push(need);
                    entry
                }
                9 if !self.met.is_empty() => self.close_met(rng)?,
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
        // A need may close only once its confirmations are in the log: in a later round.
        for need in new_confirmations {
            let state = self
                .open
                .get_mut(&need)
                .expect("a need with a shipment is open");
            state.outstanding -= 1;
            if state.pledged && state.outstanding == 0 {
                self.met.push(need);
            }
        }
        Ok(out)
    }

    fn may_register(&self, rng: &mut impl Rng) -> bool {
        self.hospitals.len() < EARLY_HOSPITALS
            || (self.hospitals.len() < MAX_HOSPITALS && rng.gen_ratio(1, LATE_REGISTRATION))
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
        self.hospitals.push(Hospital {
            key,
            org,
            name,
            open_needs: 0,
        });
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
        hospital: usize,
    ) -> Result<Option<(VerifiedEntry, OpenNeed)>, EntryError> {
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
        self.hospitals[hospital].open_needs += 1;
        self.open.insert(
            need.id.clone(),
            NeedState {
                hospital,
                outstanding: 0,
                pledged: false,
            },
        );
        Ok(Some((entry, need)))
    }

    /// A hospital at its limit withdraws one of its needs that has no pledge under way
    /// (a real hospital closes what it no longer needs), instead of posting another;
    /// nothing when all of them have one.
    fn withdraw_one_of(&mut self, hospital: usize) -> Result<Option<VerifiedEntry>, EntryError> {
        let Some(n) = self.needs.iter().position(|n| {
            n.hospital == hospital && self.open.get(&n.id).is_some_and(|s| s.outstanding == 0)
        }) else {
            return Ok(None);
        };
        let need = self.needs.swap_remove(n);
        self.close(&need.id, CloseReason::Withdrawn).map(Some)
    }

    /// A met need closed by its hospital, a round after its last delivery.
    fn close_met(&mut self, rng: &mut impl Rng) -> Result<VerifiedEntry, EntryError> {
        let id = self.met.swap_remove(rng.gen_range(0..self.met.len()));
        self.close(&id, CloseReason::Met)
    }

    fn close(&mut self, id: &str, reason: CloseReason) -> Result<VerifiedEntry, EntryError> {
        let state = self.open.remove(id).expect("an open need");
        let hospital = &mut self.hospitals[state.hospital];
        hospital.open_needs -= 1;
        let key = hospital.key.clone();
        self.sign(&key, Kind::NeedUpdate, json!({"need": id, "close": reason}))
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
            // Half the donors give all that is still asked of a line.
            .map(|(line, remaining)| {
                let quantity = if rng.gen_bool(0.5) {
                    *remaining
                } else {
                    rng.gen_range(1..=*remaining)
                };
                (line as u32, quantity)
            })
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
        let need = self.needs[n].id.clone();
        let state = self.open.get_mut(&need).expect("a pledgeable need is open");
        state.outstanding += 1;
        if self.needs[n].remaining.iter().all(|r| *r == 0) {
            state.pledged = true;
            self.needs.swap_remove(n);
        }
        let pledge = OpenPledge {
            id: hex32::encode(&entry.leaf_hash()),
            need,
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
            need: p.need,
            hospital: p.hospital,
            lines: p.lines,
        };
        Ok((entry, sent))
    }

    /// A hospital confirms a delivery; returns it with the need it was for.
    fn confirm(&mut self, rng: &mut impl Rng) -> Result<(VerifiedEntry, String), EntryError> {
        let s = self
            .shipments
            .swap_remove(rng.gen_range(0..self.shipments.len()));
        let body = json!({
            "shipment": s.id,
            "items": s.lines.iter().map(|(line, q)| json!({"line": line, "quantity": q})).collect::<Vec<_>>(),
            "condition": "good",
        });
        let entry = self.sign(
            &self.hospitals[s.hospital].key.clone(),
            Kind::DeliveryConfirm,
            body,
        )?;
        Ok((entry, s.need))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moderation::rules::MAX_OPEN_NEEDS_PER_ORG;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// What the workflow rules would hold of needs, played over the sample's rounds:
    /// open needs per organisation, which needs are open, which pledges are confirmed.
    #[derive(Default)]
    struct Model {
        org_of_need: HashMap<String, String>,
        open_per_org: HashMap<String, i64>,
        need_of_pledge: HashMap<String, String>,
        need_of_shipment: HashMap<String, String>,
        unconfirmed: HashMap<String, u32>,
        closed: HashMap<&'static str, u64>,
    }

    impl Model {
        fn admit(&mut self, entry: &VerifiedEntry) {
            let body = &entry.entry().body;
            let id = hex32::encode(&entry.leaf_hash());
            let text = |field: &str| body[field].as_str().unwrap().to_owned();
            match entry.kind() {
                Kind::NeedPost => {
                    let open = self.open_per_org.entry(text("org")).or_default();
                    *open += 1;
                    assert!(*open <= MAX_OPEN_NEEDS_PER_ORG, "an org over the limit");
                    self.org_of_need.insert(id, text("org"));
                }
                Kind::NeedUpdate => {
                    let need = text("need");
                    let org = self.org_of_need.remove(&need).expect("closes an open need");
                    assert_eq!(
                        self.unconfirmed.get(&need).copied().unwrap_or(0),
                        0,
                        "{body}"
                    );
                    *self.open_per_org.get_mut(&org).unwrap() -= 1;
                    let reason = if text("close") == "met" {
                        "met"
                    } else {
                        "withdrawn"
                    };
                    *self.closed.entry(reason).or_default() += 1;
                }
                Kind::Pledge => {
                    let need = text("need");
                    assert!(self.org_of_need.contains_key(&need), "pledges an open need");
                    *self.unconfirmed.entry(need.clone()).or_default() += 1;
                    self.need_of_pledge.insert(id, need);
                }
                Kind::Shipment => {
                    let need = self.need_of_pledge[&text("pledge")].clone();
                    assert!(
                        self.org_of_need.contains_key(&need),
                        "ships to an open need"
                    );
                    self.need_of_shipment.insert(id, need);
                }
                Kind::DeliveryConfirm => {
                    let need = &self.need_of_shipment[&text("shipment")];
                    assert!(
                        self.org_of_need.contains_key(need),
                        "confirms for an open need"
                    );
                    *self.unconfirmed.get_mut(need).unwrap() -= 1;
                }
                _ => {}
            }
        }
    }

    /// Past the 35,000 entries where the sample once ran into the limit of open
    /// needs, every entry stays one the rules admit in round order, and needs
    /// close both ways.
    #[test]
    fn a_long_effort_keeps_within_the_rules_and_closes_needs() {
        let mut rng = StdRng::seed_from_u64(16);
        let mut workflow = Workflow::new(Some(crate::keys::generate_author_key()));
        let mut model = Model::default();
        let mut entries = 0;
        while entries < 40_000 {
            let round = workflow.round(&mut rng, 64).unwrap();
            entries += round.len();
            // Entries of a round may be sequenced in any order: reversed here.
            for entry in round.iter().rev() {
                model.admit(entry);
            }
        }
        // How many varies from run to run (keys are fresh, and an entry identical to
        // one made in the same second is skipped): 87 to a few hundred met were seen.
        assert!(model.closed.get("met") >= Some(&10), "{:?}", model.closed);
        assert!(
            model.closed.get("withdrawn") >= Some(&100),
            "{:?}",
            model.closed
        );
        assert!(workflow.hospitals.len() > EARLY_HOSPITALS);
    }
}
