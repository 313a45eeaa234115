//! Relevance of the search on a fixture of realistic needs, offers and organisations
//! in English and Chinese (`tests/fixtures/relevance.json`): expected top results for
//! English, Chinese, mixed and misspelt queries, with filters and facets.
//!
//! Fixture documents are named by their number `n` (their log `index` is `3 × n`);
//! documents 1 to 28 are written for these tests, the rest is varied background.

use indexer::{Query, SearchDoc, SearchHit, SearchIndex};
use std::collections::HashMap;

/// Far enough back that no open document is past its deadline: statuses read as
/// stored.
const TODAY: time::Date = time::macros::date!(2019 - 12 - 31);

struct Fixture {
    idx: SearchIndex,
    /// By document number.
    docs: HashMap<u64, SearchDoc>,
}

fn fixture() -> Fixture {
    let json = include_str!("fixtures/relevance.json");
    let docs: Vec<SearchDoc> = serde_json::from_str(json).unwrap();
    assert!(docs.len() >= 200, "{} documents", docs.len());
    let idx = SearchIndex::in_memory().unwrap();
    let last = docs.last().unwrap().index;
    idx.apply(&docs, &[], last).unwrap();
    assert_eq!(idx.num_docs(), docs.len() as u64);
    let docs = docs.into_iter().map(|d| (d.index / 3, d)).collect();
    Fixture { idx, docs }
}

fn query(q: &str) -> Query {
    Query {
        q: q.into(),
        today: Some(TODAY),
        per_page: 100,
        ..Default::default()
    }
}

fn number(hit: &SearchHit) -> u64 {
    hit.index / 3
}

impl Fixture {
    /// Numbers of every hit, best first.
    fn hits(&self, q: &Query) -> Vec<u64> {
        let r = self.idx.search(q).unwrap();
        assert!(r.total <= 100, "{:?}: too many hits to check", q.q);
        r.hits.iter().map(number).collect()
    }

    fn top(&self, q: &Query, k: usize) -> Vec<u64> {
        let mut hits = self.hits(q);
        hits.truncate(k);
        hits
    }

    fn doc(&self, n: u64) -> &SearchDoc {
        &self.docs[&n]
    }

    /// Everything searchable in document `n`, lowercased.
    fn text(&self, n: u64) -> String {
        let d = self.doc(n);
        let mut s = format!("{} {} {}", d.title, d.description, d.area_name);
        for i in &d.items {
            s.push(' ');
            s.push_str(&i.item);
            if let Some(spec) = &i.spec {
                s.push(' ');
                s.push_str(spec);
            }
        }
        s.to_lowercase()
    }

    fn has_category(&self, n: u64, categories: &[&str]) -> bool {
        self.doc(n)
            .items
            .iter()
            .any(|i| categories.contains(&i.category.as_str()))
    }

    /// `expected` are all among the first `k` hits of `q`.
    #[track_caller]
    fn expect_top(&self, q: &Query, k: usize, expected: &[u64]) {
        let top = self.top(q, k);
        for n in expected {
            assert!(top.contains(n), "{:?}: {n} not in top {k} {top:?}", q.q);
        }
    }

    /// Each of the first `k` hits of `q` (at least one) satisfies `ok`.
    #[track_caller]
    fn all_top(&self, q: &Query, k: usize, ok: impl Fn(u64) -> bool) {
        let top = self.top(q, k);
        assert!(!top.is_empty(), "{:?}: no hits", q.q);
        for n in &top {
            assert!(ok(*n), "{:?}: unrelated hit {n} in {top:?}", q.q);
        }
    }

    /// None of `unwanted` matches `q` at all.
    #[track_caller]
    fn never(&self, q: &Query, unwanted: &[u64]) {
        let hits = self.hits(q);
        for n in unwanted {
            assert!(!hits.contains(n), "{:?}: {n} in {hits:?}", q.q);
        }
    }
}

const MASKS: &[&str] = &["respirator", "surgical_mask"];

// --- English ---

#[test]
fn english_queries() {
    let fx = fixture();
    let q = query("masks");
    fx.all_top(&q, 5, |n| fx.has_category(n, MASKS));
    fx.expect_top(&q, 5, &[2]);
    fx.never(&q, &[4, 9, 17]);

    let q = query("surgical mask");
    fx.all_top(&q, 5, |n| fx.has_category(n, &["surgical_mask"]));
    fx.expect_top(&q, 5, &[24]);
    fx.expect_top(&q, 10, &[2]);
    // Both words must match: respirator-only and gown-only documents are out.
    fx.never(&q, &[1, 6, 7, 22]);

    let q = query("oxygen");
    fx.all_top(&q, 5, |n| fx.has_category(n, &["oxygen"]));
    fx.expect_top(&q, 5, &[16, 17]);

    let q = query("insulin");
    fx.all_top(&q, 3, |n| fx.text(n).contains("insulin"));
    fx.expect_top(&q, 100, &[12]);

    let q = query("tents Hatay");
    fx.expect_top(&q, 3, &[9, 10]);
    fx.all_top(&q, 3, |n| fx.doc(n).area_code.starts_with("TR"));

    let q = query("Tongji");
    fx.all_top(&q, 5, |n| fx.doc(n).title.contains("Tongji"));

    // Codes are matched exactly: no FFP2 document for FFP3, no KN95 for N95.
    assert_eq!(fx.hits(&query("FFP3")), [6]);
    fx.never(&query("FFP2"), &[6]);
    let q = query("N95");
    fx.all_top(&q, 100, |n| fx.text(n).contains("n95"));
    fx.never(&q, &[2, 3]);
}

// --- Chinese ---

#[test]
fn chinese_queries() {
    let fx = fixture();
    let q = query("口罩");
    fx.all_top(&q, 100, |n| fx.text(n).contains("口罩"));
    // Inside longer runs: N95口罩, KN95口罩, 医用外科口罩, 医用防护口罩.
    fx.expect_top(&q, 100, &[1, 3, 23, 28]);
    fx.never(&q, &[27]); // 防护面屏

    let q = query("防护服");
    fx.all_top(&q, 100, |n| fx.text(n).contains("防护服"));
    fx.expect_top(&q, 5, &[25]);
    fx.expect_top(&q, 100, &[1]);
    // Sharing the bigram 防护 is not enough.
    fx.never(&q, &[27, 28]);

    let q = query("呼吸机");
    fx.all_top(&q, 100, |n| fx.text(n).contains("呼吸机"));
    fx.expect_top(&q, 100, &[4]);

    let q = query("84消毒液");
    fx.all_top(&q, 100, |n| fx.text(n).contains("84消毒液"));
    fx.expect_top(&q, 100, &[18]);

    let q = query("帐篷");
    fx.all_top(&q, 100, |n| fx.text(n).contains("帐篷"));
    fx.expect_top(&q, 3, &[10]);

    let q = query("红十字会");
    fx.expect_top(&q, 3, &[20]);
}

// --- mixed ---

#[test]
fn mixed_chinese_english_queries() {
    let fx = fixture();
    let q = query("N95 口罩");
    fx.all_top(&q, 100, |n| {
        let t = fx.text(n);
        t.contains("n95") && t.contains("口罩")
    });
    fx.expect_top(&q, 5, &[1]);
    fx.never(&q, &[3, 7]); // KN95口罩; N95 respirators without 口罩

    let q = query("KN95 masks 湖北");
    fx.expect_top(&q, 1, &[2]);
    fx.never(&q, &[3]); // KN95口罩 from Shenzhen: no "masks"

    let q = query("帐篷 Hatay");
    fx.expect_top(&q, 1, &[10]);

    let q = query("ventilators 呼吸机");
    fx.expect_top(&q, 3, &[4]);
    fx.all_top(&q, 100, |n| fx.has_category(n, &["ventilator"]));

    let q = query("oxygen concentrators 制氧机");
    fx.expect_top(&q, 1, &[16]);
}

// --- typos ---

#[test]
fn english_typos_find_the_intended_word() {
    let fx = fixture();
    // One edit away (missing, extra or swapped letter): the same hits, in the same
    // order, as the word spelt right.
    for (typo, right) in [
        ("respirtor", "respirator"),
        ("ventilatr", "ventilator"),
        ("glovess", "gloves"),
        ("thermometr", "thermometer"),
        ("thermoemter", "thermometer"),
        ("oxygn", "oxygen"),
        ("isolaton gowns", "isolation gowns"),
        ("blankest", "blankets"),
    ] {
        let hits = fx.hits(&query(typo));
        assert!(!hits.is_empty(), "{typo}");
        assert_eq!(hits, fx.hits(&query(right)), "{typo} vs {right}");
    }

    let q = query("respirtor");
    fx.expect_top(&q, 5, &[6, 7]);
    fx.all_top(&q, 5, |n| fx.has_category(n, &["respirator"]));

    let q = query("ventilatr");
    fx.expect_top(&q, 10, &[4, 5]);
    fx.all_top(&q, 5, |n| fx.has_category(n, &["ventilator"]));

    let q = query("glovess");
    fx.expect_top(&q, 3, &[8]);
    fx.all_top(&q, 5, |n| fx.has_category(n, &["gloves"]));

    let q = query("thermometr");
    fx.expect_top(&q, 10, &[11]);
    fx.all_top(&q, 5, |n| fx.has_category(n, &["thermometer"]));

    let q = query("isolaton gowns");
    fx.expect_top(&q, 1, &[22]);
    fx.expect_top(&q, 10, &[7]);
    fx.all_top(&q, 5, |n| fx.has_category(n, &["gown_coverall"]));

    // A typo among correct words and Chinese.
    let q = query("oxygen concentratrs 制氧机");
    fx.expect_top(&q, 1, &[16]);
}

#[test]
fn exact_matches_rank_above_typo_matches() {
    let fx = fixture();
    // `boats` is one letter from `boots`: found, but after every pair of boots.
    let hits = fx.hits(&query("boots"));
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert_eq!(
        {
            let mut first = hits[..2].to_vec();
            first.sort();
            first
        },
        [14, 15]
    );
    assert_eq!(hits[2], 13);
    let hits = fx.hits(&query("boats"));
    assert_eq!(hits[0], 13);

    // A correctly spelt word gets the same hits, in the same order, as before typo
    // tolerance: no alternative of `respirators` is in the index.
    let exact = fx.hits(&query("respirators"));
    let mut sorted = exact.clone();
    sorted.sort();
    let mut expected: Vec<u64> = fx
        .docs
        .keys()
        .copied()
        .filter(|&n| fx.text(n).contains("respirator") && fx.doc(n).verification != "rejected")
        .collect();
    expected.sort();
    assert_eq!(sorted, expected);
}

#[test]
fn no_typo_tolerance_for_short_words_codes_quotes_or_chinese() {
    let fx = fixture();
    // Four letters: too short to guess.
    assert!(fx.hits(&query("mask")).len() > 5);
    assert!(fx.hits(&query("tnts")).is_empty());
    // Quoted: as typed.
    assert!(fx.hits(&query("\"ventilatr\"")).is_empty());
    // Field-qualified: as typed.
    assert!(fx.hits(&query("items:ventilatr")).is_empty());
    // Chinese: 面罩 is not 口罩.
    assert!(fx.hits(&query("面罩")).is_empty());
    // Letters and digits: codes.
    assert!(fx.hits(&query("FFP4")).is_empty());
}

// --- filters and facets ---

#[test]
fn filters_narrow_relevant_results() {
    let fx = fixture();
    let mut q = query("masks");
    q.category = Some("surgical_mask".into());
    fx.all_top(&q, 100, |n| fx.has_category(n, &["surgical_mask"]));
    fx.expect_top(&q, 5, &[2]);

    let mut q = query("ventilators");
    q.area = Some("IT".into());
    fx.all_top(&q, 100, |n| fx.doc(n).area_code.starts_with("IT-"));
    fx.expect_top(&q, 3, &[5]);

    let mut q = query("口罩");
    q.area = Some("CN-HB".into());
    fx.all_top(&q, 100, |n| fx.doc(n).area_code == "CN-HB");
    fx.expect_top(&q, 100, &[1, 28]);
    fx.never(&q, &[3, 23]);

    let mut q = query("N95");
    q.status = Some("open".into());
    fx.all_top(&q, 100, |n| fx.doc(n).status == "open");
    fx.expect_top(&q, 100, &[1, 7]);

    let mut q = query("oxygen concentrators");
    q.kind = Some("offer".into());
    fx.all_top(&q, 100, |n| fx.doc(n).kind == "offer");
    fx.expect_top(&q, 3, &[16]);

    let mut q = query("ventilators");
    q.status = Some("met".into());
    fx.expect_top(&q, 1, &[24]);

    // Rejected documents only when asked for.
    fx.never(&query("wholesale"), &[19]);
    let mut q = query("wholesale");
    q.verified = Some("rejected".into());
    assert_eq!(fx.hits(&q), [19]);

    // Typo tolerance under filters.
    let mut q = query("respirtor");
    q.area = Some("IT-25".into());
    fx.expect_top(&q, 3, &[6]);
    fx.all_top(&q, 100, |n| fx.doc(n).area_code == "IT-25");
}

#[test]
fn facet_counts_match_the_hits() {
    let fx = fixture();
    let q = query("ventilators OR 呼吸机");
    let r = fx.idx.search(&q).unwrap();
    assert!(r.total >= 5 && r.total <= 100, "{}", r.total);
    assert_eq!(r.hits.len() as u64, r.total);

    let count = |values: Vec<String>| {
        let mut m: HashMap<String, u64> = HashMap::new();
        for v in values {
            *m.entry(v).or_default() += 1;
        }
        m
    };
    let facet = |list: &[indexer::FacetCount]| -> HashMap<String, u64> {
        list.iter().map(|c| (c.value.clone(), c.count)).collect()
    };
    let hits = &r.hits;
    assert_eq!(
        facet(&r.facets.area),
        count(hits.iter().map(|h| h.area_code.clone()).collect())
    );
    assert_eq!(
        facet(&r.facets.country),
        count(
            hits.iter()
                .map(|h| h.area_code.split('-').next().unwrap().to_owned())
                .collect()
        )
    );
    assert_eq!(
        facet(&r.facets.status),
        count(hits.iter().map(|h| h.status.name().to_owned()).collect())
    );
    assert_eq!(
        facet(&r.facets.verification),
        count(
            hits.iter()
                .map(|h| h.verification.name().to_owned())
                .collect()
        )
    );
    assert!(!r.facets.verification.iter().any(|c| c.value == "rejected"));
    assert_eq!(
        facet(&r.facets.urgency),
        count(
            hits.iter()
                .filter_map(|h| h.urgency.map(|u| u.name().to_owned()))
                .collect()
        )
    );
    let categories = hits.iter().flat_map(|h| {
        let mut cats: Vec<String> = fx
            .doc(number(h))
            .items
            .iter()
            .map(|i| i.category.clone())
            .collect();
        cats.sort();
        cats.dedup();
        cats
    });
    assert_eq!(facet(&r.facets.category), count(categories.collect()));
    // Every ventilator document of the fixture that is not rejected is a hit.
    let ventilator_docs = fx
        .docs
        .values()
        .filter(|d| d.items.iter().any(|i| i.category == "ventilator"))
        .filter(|d| d.verification != "rejected")
        .count() as u64;
    assert_eq!(facet(&r.facets.category)["ventilator"], ventilator_docs);
}
