//! The bilingual vocabulary: what each category and each common item is called in
//! English and in Chinese, so that a query in one language finds documents written in
//! the other (`ventilator` finds `呼吸机`, `口罩` finds `FFP2 masks`).
//!
//! It is applied when a document is indexed, not to queries: every document gets, in
//! its `vocabulary` field, the words of the categories of its items ([`category`]),
//! the words of every group of [`ITEMS`] that its own text mentions, and the English
//! and Chinese names of its region and country (crate `regions`). The free-text query
//! searches that field with a lower weight than the author's own words, so documents
//! that say the word themselves come first. A mention is found with the index's own
//! analyzer: a group's word matches where its tokens stand next to each other in the
//! text (`ventilators` mentions `ventilator`, `医用防护服` mentions `防护服`).
//!
//! Curated by hand, not machine-translated: a word belongs to a group only if it names
//! the same thing in the other language. Product codes (`N95`, `KN95`, `FFP2`) are in no
//! group: each stays a word of its own, so that `N95` does not find `KN95`. Changing
//! the vocabulary changes what is indexed: bump [`crate::FORMAT_VERSION`].

use ledger::body::Category;
use std::collections::HashSet;
use std::sync::LazyLock;
use tantivy::tokenizer::TextAnalyzer;

/// What a category's items are called, in English and Chinese.
pub fn category(c: Category) -> &'static [&'static str] {
    match c {
        Category::Respirator => &["respirator", "mask", "口罩", "防护口罩"],
        Category::SurgicalMask => &["surgical mask", "mask", "口罩", "外科口罩", "医用口罩"],
        Category::GownCoverall => &[
            "protective clothing",
            "gown",
            "coverall",
            "防护服",
            "隔离衣",
        ],
        Category::Gloves => &["gloves", "手套"],
        Category::Goggles => &["goggles", "护目镜"],
        Category::FaceShield => &["face shield", "面屏"],
        Category::Disinfectant => &["disinfectant", "消毒液", "消毒剂"],
        Category::Thermometer => &["thermometer", "体温计"],
        Category::Ventilator => &["ventilator", "呼吸机"],
        Category::Oxygen => &["oxygen", "氧气"],
        Category::Medicine => &["medicine", "药品"],
        Category::Food => &["food", "食品"],
        // "Other" says nothing about the item; its name says what it is.
        Category::Other => &[],
    }
}

/// Groups of words that name one kind of item, in English and Chinese: a document
/// whose text mentions one of them gets them all.
pub const ITEMS: &[&[&str]] = &[
    // Masks and protective clothing.
    &["surgical mask", "外科口罩", "医用外科口罩"],
    &["disposable mask", "一次性口罩", "一次性医用口罩"],
    &["isolation gown", "隔离衣"],
    &["protective coverall", "coverall", "防护服", "医用防护服"],
    &["nitrile gloves", "丁腈手套"],
    &["latex gloves", "乳胶手套"],
    &["examination gloves", "检查手套"],
    &["goggles", "护目镜"],
    &["face shield", "面屏", "防护面屏"],
    // Disinfection.
    &["84 disinfectant", "bleach", "84消毒液"],
    &["hand sanitizer", "洗手液", "免洗洗手液"],
    &["alcohol", "酒精"],
    // Thermometers.
    &[
        "infrared thermometer",
        "forehead thermometer",
        "红外体温计",
        "额温枪",
    ],
    &[
        "digital thermometer",
        "electronic thermometer",
        "电子体温计",
    ],
    // Breathing and oxygen.
    &["ventilator", "呼吸机"],
    &["oxygen concentrator", "制氧机"],
    &["oxygen cylinder", "氧气瓶"],
    &["high-flow oxygen", "高流量氧疗"],
    &["oxygen", "氧气"],
    // Medicines.
    &["insulin", "胰岛素"],
    &["antibiotic", "抗生素"],
    &["paracetamol", "acetaminophen", "对乙酰氨基酚", "扑热息痛"],
    // Food and water.
    &["bottled water", "drinking water", "瓶装水", "饮用水"],
    &["instant noodles", "方便面"],
    &["baby formula", "infant formula", "婴儿奶粉", "奶粉"],
    // Shelter and rescue.
    &["tent", "帐篷"],
    &["blanket", "quilt", "毯子", "棉被"],
    &["sleeping bag", "睡袋"],
    &["stretcher", "担架"],
    &["generator", "发电机"],
    &["heater", "取暖器"],
    &["body bag", "尸袋"],
    &["life jacket", "救生衣"],
    &["rescue boat", "救生艇", "冲锋舟"],
    &["rubber boots", "雨靴", "胶靴"],
    &["water purification tablet", "净水片"],
];

/// A group of [`ITEMS`] and the tokens of each of its words.
type Group = (&'static [&'static str], Vec<Vec<String>>);

static GROUPS: LazyLock<Vec<Group>> = LazyLock::new(|| {
    let mut analyzer = crate::tokenizer::en_zh_analyzer();
    ITEMS
        .iter()
        .map(|&group| {
            let words = group.iter().map(|w| tokens(&mut analyzer, w)).collect();
            (group, words)
        })
        .collect()
});

/// Stems of the vocabulary's one-word terms (`ventilator`, `medicine`, `tent`).
static KNOWN: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut analyzer = crate::tokenizer::en_zh_analyzer();
    let categories = Category::ALL.iter().flat_map(|c| category(*c));
    categories
        .chain(ITEMS.iter().copied().flatten())
        .map(|word| tokens(&mut analyzer, word))
        .filter(|tokens| tokens.len() == 1)
        .flatten()
        .collect()
});

/// Whether `stem` (as the analyzer writes it) is a one-word term of the vocabulary:
/// a word known to be spelt right, which typo tolerance leaves as it is.
pub fn is_known(stem: &str) -> bool {
    KNOWN.contains(stem)
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = vec![];
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// The vocabulary words of a document whose items are in `categories` (names such as
/// `respirator`; unknown names add nothing) and whose own text is `texts`, each once.
pub fn words<'a>(
    analyzer: &mut TextAnalyzer,
    categories: impl IntoIterator<Item = &'a str>,
    texts: &[&str],
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = vec![];
    let mut add = |words: &[&'static str]| {
        for w in words {
            if !out.contains(w) {
                out.push(w);
            }
        }
    };
    for name in categories {
        if let Some(c) = Category::ALL.iter().find(|c| c.name() == name) {
            add(category(*c));
        }
    }
    let texts: Vec<Vec<String>> = texts.iter().map(|t| tokens(analyzer, t)).collect();
    for (group, words) in GROUPS.iter() {
        let mentioned = words.iter().any(|word| {
            !word.is_empty()
                && texts
                    .iter()
                    .any(|text| text.windows(word.len()).any(|w| w == word.as_slice()))
        });
        if mentioned {
            add(group);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(categories: &[&str], texts: &[&str]) -> Vec<&'static str> {
        words(
            &mut crate::tokenizer::en_zh_analyzer(),
            categories.iter().copied(),
            texts,
        )
    }

    #[test]
    fn categories_give_their_words_in_both_languages() {
        let w = of(&["ventilator"], &[]);
        assert_eq!(w, ["ventilator", "呼吸机"]);
        assert!(of(&["other"], &[]).is_empty());
        assert!(of(&["no_such_category"], &[]).is_empty());
        for c in Category::ALL {
            let words = category(c);
            let chinese = words
                .iter()
                .any(|w| w.chars().any(crate::tokenizer::is_cjk));
            assert_eq!(words.is_empty(), c == Category::Other, "{c:?} has no words");
            assert!(words.is_empty() || chinese, "{c:?} has no Chinese word");
        }
    }

    #[test]
    fn mentions_are_found_by_tokens_in_either_language() {
        // Plural, inside a longer Chinese run, across scripts.
        assert!(of(&[], &["ICU ventilators"]).contains(&"呼吸机"));
        assert!(of(&[], &["有创呼吸机"]).contains(&"ventilator"));
        assert!(of(&[], &["医用防护服 (GB 19082)"]).contains(&"coverall"));
        assert!(of(&[], &["红外额温枪"]).contains(&"infrared thermometer"));
        // A shared bigram is not a mention: 防护面屏 is no 防护服.
        assert!(!of(&[], &["防护面屏"]).contains(&"防护服"));
        // Words must stand together: "oxygen ... concentrator" apart is not one.
        assert!(!of(&[], &["concentrator for oxygen"]).contains(&"制氧机"));
        // Each word once.
        let w = of(&["ventilator"], &["ventilators", "呼吸机"]);
        assert_eq!(w.iter().filter(|x| **x == "呼吸机").count(), 1);
    }

    #[test]
    fn one_word_terms_are_known_words() {
        assert!(is_known("ventil") && is_known("medicin") && is_known("tent"));
        // Two-word terms are not: `boots` may still be a typo of `boats`.
        assert!(!is_known("boot") && !is_known("rubber"));
    }

    #[test]
    fn every_group_names_its_item_in_both_languages() {
        for group in ITEMS {
            let chinese = group
                .iter()
                .filter(|w| w.chars().any(crate::tokenizer::is_cjk))
                .count();
            assert!(chinese > 0 && chinese < group.len(), "{group:?}");
        }
    }
}
