//! Relevance of the search on a fixture of realistic needs, offers and organisations
//! in English and Chinese (`tests/fixtures/relevance.json`): expected top results for
//! English, Chinese, mixed, cross-language and misspelt queries, with filters (region
//! codes and names) and facets.
//!
//! Fixture documents are named by their number `n` (their log `index` is `3 × n`);
//! documents 1 to 28 and 231 to 233 are written for these tests, the rest is varied
//! background.

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
    assert!(docs.len() >= 230, "{} documents", docs.len());
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

    /// Every hit of `q` whose own text contains `word` ranks above every hit that
    /// has it only from the vocabulary, and there are both kinds.
    #[track_caller]
    fn own_words_first(&self, q: &Query, word: &str) {
        let hits = self.hits(q);
        let own = hits
            .iter()
            .filter(|&&n| self.text(n).contains(word))
            .count();
        assert!(own > 0 && own < hits.len(), "{:?}: {own} of {hits:?}", q.q);
        for n in &hits[..own] {
            assert!(self.text(*n).contains(word), "{:?}: {n} in {hits:?}", q.q);
        }
    }

    /// Every document of `category` that is not rejected is a hit of `q`.
    #[track_caller]
    fn finds_category(&self, q: &Query, category: &str) {
        let hits = self.hits(q);
        for (n, d) in &self.docs {
            if self.has_category(*n, &[category]) && d.verification != "rejected" {
                assert!(
                    hits.contains(n),
                    "{:?}: {category} document {n} missing",
                    q.q
                );
            }
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
    // Each word also finds what is written in English (see cross_language_queries).
    let q = query("口罩");
    fx.all_top(&q, 100, |n| {
        fx.text(n).contains("口罩") || fx.has_category(n, MASKS)
    });
    // Inside longer runs: N95口罩, KN95口罩, 医用外科口罩, 医用防护口罩.
    fx.expect_top(&q, 100, &[1, 3, 23, 28]);
    fx.never(&q, &[27]); // 防护面屏

    let q = query("防护服");
    fx.all_top(&q, 100, |n| {
        fx.text(n).contains("防护服") || fx.has_category(n, &["gown_coverall"])
    });
    fx.expect_top(&q, 5, &[25]);
    fx.expect_top(&q, 100, &[1]);
    // Sharing the bigram 防护 is not enough.
    fx.never(&q, &[27, 28]);

    let q = query("呼吸机");
    fx.all_top(&q, 100, |n| {
        fx.has_category(n, &["ventilator"]) || fx.text(n).contains("ventilator")
    });
    fx.expect_top(&q, 100, &[4]);

    let q = query("84消毒液");
    fx.all_top(&q, 100, |n| fx.text(n).contains("84消毒液"));
    fx.expect_top(&q, 100, &[18]);

    let q = query("帐篷");
    fx.all_top(&q, 100, |n| {
        let t = fx.text(n);
        t.contains("帐篷") || t.contains("tent")
    });
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
        t.contains("n95") && (t.contains("口罩") || fx.has_category(n, MASKS))
    });
    fx.expect_top(&q, 5, &[1]);
    fx.expect_top(&q, 100, &[7]); // N95 respirators: 口罩 in English
    fx.never(&q, &[3]); // KN95口罩

    // 3 (KN95口罩 from Shenzhen that "can ship to 湖北", KN95 in its title) matches
    // too: 口罩 is "masks" in Chinese.
    let q = query("KN95 masks 湖北");
    fx.expect_top(&q, 2, &[2, 3]);

    let q = query("帐篷 Hatay");
    fx.expect_top(&q, 1, &[10]);

    let q = query("ventilators 呼吸机");
    fx.expect_top(&q, 3, &[4]);
    fx.all_top(&q, 100, |n| {
        fx.has_category(n, &["ventilator"]) || fx.text(n).contains("ventilator")
    });

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
        ("blankest", "blankets"),
    ] {
        let hits = fx.hits(&query(typo));
        assert!(!hits.is_empty(), "{typo}");
        assert_eq!(hits, fx.hits(&query(right)), "{typo} vs {right}");
    }
    // Beside a word spelt right, the weight of the typo's alternatives shifts the
    // score: the same hits, near-ties in another order.
    let sorted = |q: &str| {
        let mut hits = fx.hits(&query(q));
        hits.sort();
        hits
    };
    assert_eq!(sorted("isolaton gowns"), sorted("isolation gowns"));

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
    // tolerance: no alternative of `respirators` is in the index. Its hits are the
    // documents that say it, and the respirators that say it in Chinese.
    let exact = fx.hits(&query("respirators"));
    let mut sorted = exact.clone();
    sorted.sort();
    let mut expected: Vec<u64> = fx
        .docs
        .keys()
        .copied()
        .filter(|&n| fx.text(n).contains("respirator") || fx.has_category(n, &["respirator"]))
        .filter(|&n| fx.doc(n).verification != "rejected")
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

// --- across languages ---

#[test]
fn cross_language_queries() {
    let fx = fixture();
    // The words reported in issue 14: an English word finds what is written in
    // Chinese and the other way round, the author's own words first.
    let q = query("ventilator");
    fx.finds_category(&q, "ventilator");
    fx.expect_top(&q, 100, &[4, 231]); // 有创呼吸机, 无创呼吸机
    fx.own_words_first(&q, "ventilator");
    let q = query("呼吸机");
    fx.finds_category(&q, "ventilator");
    fx.expect_top(&q, 100, &[5, 232]); // ventilators in Bergamo and Munich
    fx.own_words_first(&q, "呼吸机");

    let q = query("respirator");
    fx.finds_category(&q, "respirator");
    fx.expect_top(&q, 100, &[1, 3, 28, 233]); // N95口罩, KN95口罩, 医用防护口罩
    fx.own_words_first(&q, "respirator");

    let q = query("口罩");
    fx.expect_top(&q, 100, &[2, 6, 7, 24]); // KN95, FFP3, N95, surgical masks
    fx.own_words_first(&q, "口罩");

    // Every category by its name in either language.
    for (category, en, zh) in [
        ("respirator", "respirator", "防护口罩"),
        ("surgical_mask", "surgical mask", "外科口罩"),
        ("gown_coverall", "gown", "防护服"),
        ("gloves", "gloves", "手套"),
        ("goggles", "goggles", "护目镜"),
        ("face_shield", "face shield", "面屏"),
        ("disinfectant", "disinfectant", "消毒液"),
        ("thermometer", "thermometer", "体温计"),
        ("ventilator", "ventilator", "呼吸机"),
        ("oxygen", "oxygen", "氧气"),
        ("medicine", "medicine", "药品"),
        ("food", "food", "食品"),
    ] {
        // A document may also mention the item in a description (an organisation
        // coordinating ventilators) in either language.
        let related = |n: u64| {
            let t = fx.text(n);
            fx.has_category(n, &[category]) || t.contains(en) || t.contains(zh)
        };
        for q in [en, zh] {
            let q = query(q);
            fx.finds_category(&q, category);
            fx.all_top(&q, 100, related);
        }
    }
}

#[test]
fn common_items_are_found_in_the_other_language() {
    let fx = fixture();
    // (query, a word of every expected hit's own text, in the other language)
    for (q, other) in [
        ("nitrile gloves", "丁腈手套"),
        ("丁腈手套", "nitrile gloves"),
        ("goggles", "护目镜"),
        ("护目镜", "goggles"),
        ("infrared thermometer", "额温枪"),
        ("额温枪", "infrared thermometers"),
        ("oxygen concentrator", "制氧机"),
        ("制氧机", "oxygen concentrators"),
        ("insulin", "胰岛素"),
        ("胰岛素", "insulin"),
        ("antibiotics", "抗生素"),
        ("hand sanitizer", "免洗洗手液"),
        ("isolation gown", "隔离衣"),
        ("隔离衣", "isolation gowns"),
        ("tents", "帐篷"),
        ("blankets", "棉被"),
    ] {
        let hits = fx.hits(&query(q));
        let across: Vec<u64> = fx
            .docs
            .iter()
            .filter(|(_, d)| d.verification != "rejected")
            .map(|(n, _)| *n)
            .filter(|&n| fx.text(n).contains(&other.to_lowercase()))
            .collect();
        assert!(!across.is_empty(), "{other}");
        for n in across {
            assert!(hits.contains(&n), "{q:?}: {n} ({other}) not in {hits:?}");
        }
    }
    // Words of one item only: 84消毒液 is bleach, not every disinfectant.
    let q = query("bleach");
    fx.all_top(&q, 100, |n| fx.text(n).contains("84消毒液"));
    fx.expect_top(&q, 100, &[18]);
    // Codes stay exact across languages: KN95口罩 is no N95.
    fx.never(&query("N95"), &[3, 30, 167]);
}

#[test]
fn places_are_found_and_filtered_by_name_in_either_language() {
    let fx = fixture();
    // Free text: the region's names are searched too (231 says only 孝感).
    fx.expect_top(&query("ventilator Hubei"), 100, &[4, 231]);
    fx.expect_top(&query("呼吸机 湖北"), 100, &[4, 231]);
    fx.expect_top(&query("ventilator Bayern"), 1, &[232]); // area_name: München
    fx.expect_top(&query("额温枪 Zhejiang"), 3, &[233]);

    // Filters: a name stands for its code.
    let by_area = |area: &str| {
        let mut q = query("口罩");
        q.area = Some(area.into());
        let mut hits = fx.hits(&q);
        hits.sort();
        hits
    };
    let hubei = by_area("CN-HB");
    assert!(hubei.contains(&1) && hubei.contains(&28), "{hubei:?}");
    for name in [
        "Hubei",
        "hubei sheng",
        "Hubei Province",
        "湖北",
        "湖北省",
        "cn-hb",
    ] {
        assert_eq!(by_area(name), hubei, "{name}");
    }
    assert_eq!(by_area("China"), by_area("CN"));
    assert_eq!(by_area("中国"), by_area("CN"));
    let mut q = query("tents");
    q.area = Some("Hatay".into());
    fx.all_top(&q, 100, |n| fx.doc(n).area_code == "TR-31");
    fx.expect_top(&q, 1, &[9]);
    q.area = Some("Kahramanmaras".into()); // Kahramanmaraş, TR-46
    fx.all_top(&q, 100, |n| fx.doc(n).area_code == "TR-46");
    fx.expect_top(&q, 100, &[10]);

    let mut q = query("");
    q.area = Some("Hubie".into());
    match fx.idx.search(&q) {
        Err(indexer::SearchError::BadQuery(m)) => {
            assert!(m.starts_with("area \"Hubie\" is neither"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn area_facets_name_their_regions_in_both_languages() {
    let fx = fixture();
    let r = fx.idx.search(&query("ventilators OR 呼吸机")).unwrap();
    let named = |list: &[indexer::FacetCount], code: &str| {
        let c = list.iter().find(|c| c.value == code).unwrap();
        let n = c.names.as_ref().unwrap();
        (n.en.clone(), n.zh.clone())
    };
    assert_eq!(
        named(&r.facets.area, "CN-HB"),
        ("Hubei Sheng".into(), "湖北省".into())
    );
    assert_eq!(
        named(&r.facets.area, "IT-25"),
        ("Lombardia".into(), "Lombardia".into())
    );
    assert_eq!(
        named(&r.facets.country, "CN"),
        ("China".into(), "中国".into())
    );
    assert!(r.facets.category.iter().all(|c| c.names.is_none()));
}

/// An unquoted Chinese word is read as all of its bigrams, not as their phrase (the
/// phrase was the slowest query at a million documents): a document with the word
/// ranks above one that has its bigrams apart, and quotes still ask for the word.
#[test]
fn a_chinese_word_is_found_whole_before_its_bigrams_apart() {
    let doc = |n: u64, description: &str| -> SearchDoc {
        serde_json::from_value(serde_json::json!({
            "id": format!("{n:064x}"), "kind": "need", "title": "市人民医院",
            "items": [{"item": "物资", "category": "other", "spec": ""}],
            "description": description, "area_code": "CN-HB", "area_name": "湖北省",
            "status": "open", "urgency": "high", "verification": "verified",
            "created_at": "2020-02-01T08:00:00+08:00", "deadline": null, "index": 3 * n,
        }))
        .unwrap()
    };
    let docs = [
        doc(1, "急需防护用品，另需护服清洗"),
        doc(2, "急需医用防护服"),
        doc(3, "急需口罩"),
    ];
    let idx = SearchIndex::in_memory().unwrap();
    idx.apply(&docs, &[], 9).unwrap();
    let numbers = |q: &str| -> Vec<u64> {
        idx.search(&query(q))
            .unwrap()
            .hits
            .iter()
            .map(number)
            .collect()
    };
    assert_eq!(numbers("防护服"), [2, 1]);
    assert_eq!(numbers("\"防护服\""), [2]);
    assert_eq!(numbers("医用防护服"), [2]);
}
