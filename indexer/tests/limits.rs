//! Bounded work per search: free text beyond the grammar limits is refused before
//! tantivy parses it, with a message naming the limit; a search whose budget ran out
//! stops; and no free text within the length limit panics.
//!
//! No test here measures time. The nested-parentheses query of the security finding
//! would keep the old code parsing for seconds (depth 20) or for ever (depth 100); it
//! passes here only because the depth limit refuses it first.

use indexer::limits::{
    MAX_DEPTH, MAX_QUERY_CHARS, MAX_SLOP, MAX_TERMS, MAX_WILDCARDS, SEARCH_DEADLINE,
};
use indexer::{Budget, Query, SearchDoc, SearchError, SearchIndex, SearchResults};
use proptest::prelude::*;
use std::sync::OnceLock;
use std::time::Duration;

const TODAY: time::Date = time::macros::date!(2019 - 12 - 31);

/// The relevance fixture (needs, offers, organisations in English and Chinese), loaded
/// once for every test of this file.
fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let docs: Vec<SearchDoc> =
            serde_json::from_str(include_str!("fixtures/relevance.json")).unwrap();
        let idx = SearchIndex::in_memory().unwrap();
        idx.apply(&docs, &[], docs.last().unwrap().index).unwrap();
        idx
    })
}

fn query(q: &str) -> Query {
    Query {
        q: q.into(),
        today: Some(TODAY),
        ..Default::default()
    }
}

fn search(q: &str) -> Result<SearchResults, SearchError> {
    index().search(&query(q))
}

/// The message of the refusal of `q`, which must be a `BadQuery`.
fn refusal(q: &str) -> String {
    match search(q) {
        Err(SearchError::BadQuery(m)) => m,
        other => panic!("{q:?} was not refused: {other:?}"),
    }
}

fn nested(depth: usize) -> String {
    format!("{}a{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn nested_parentheses_are_refused_naming_the_limit() {
    let limit = format!("q: at most {MAX_DEPTH} levels of parentheses");
    // The finding: 20 levels took 1.5 s to parse, 100 never finished.
    for depth in [MAX_DEPTH + 1, 20, 100, (MAX_QUERY_CHARS - 1) / 2] {
        let q = nested(depth);
        if q.chars().count() <= MAX_QUERY_CHARS {
            assert_eq!(refusal(&q), limit, "depth {depth}");
        }
    }
    // Unbalanced, and in a field group, the levels count the same.
    assert_eq!(refusal(&"(".repeat(MAX_DEPTH + 1)), limit);
    assert_eq!(
        refusal(&format!("{}masks", "title:(".repeat(MAX_DEPTH + 1))),
        limit
    );
    // Depth within the limit parses and searches, and closed groups do not add up.
    search(&nested(MAX_DEPTH)).unwrap();
    search(&format!("{} {}", nested(MAX_DEPTH), nested(MAX_DEPTH))).unwrap();
    let r = search("((masks OR gloves) AND (Wuhan OR 武汉))").unwrap();
    assert!(r.total > 0);
}

#[test]
fn overlong_queries_are_refused_naming_the_length_limit() {
    let limit = format!("q: at most {MAX_QUERY_CHARS} characters");
    assert_eq!(refusal(&"a".repeat(MAX_QUERY_CHARS + 1)), limit);
    assert_eq!(refusal(&"口".repeat(MAX_QUERY_CHARS + 1)), limit);
    // The 100 KB query of the finding.
    assert_eq!(refusal(&"a ".repeat(50_000)), limit);
    // Characters, not bytes: 500 Chinese characters are 1,500 bytes. (Refused for
    // its terms, not its length.)
    assert_ne!(refusal(&"口".repeat(MAX_QUERY_CHARS)), limit);
    search(&format!("{}masks", " ".repeat(MAX_QUERY_CHARS - 5))).unwrap();
}

#[test]
fn too_many_terms_are_refused_naming_the_limit() {
    let limit = format!("q: at most {MAX_TERMS} terms");
    let words = |n: usize| vec!["masks"; n].join(" ");
    search(&words(MAX_TERMS)).unwrap();
    assert_eq!(refusal(&words(MAX_TERMS + 1)), limit);
    // A Chinese run of n characters is n - 1 bigrams.
    search(&"口罩".repeat(MAX_TERMS / 2)).unwrap();
    assert_eq!(refusal(&"口罩".repeat(MAX_TERMS / 2 + 1)), limit);
    // Operators count: they are clauses too.
    let ors = vec!["masks"; MAX_TERMS / 2 + 1].join(" OR ");
    assert_eq!(refusal(&ors), limit);
}

#[test]
fn wildcards_slop_ranges_and_sets_are_bounded() {
    search(&["\"nitrile glo\"*"; MAX_WILDCARDS].join(" ")).unwrap();
    assert_eq!(
        refusal(&"*".repeat(MAX_WILDCARDS + 1)),
        format!("q: at most {MAX_WILDCARDS} wildcards (*)")
    );
    search(&format!("\"masks gloves\"~{MAX_SLOP}")).unwrap();
    let slop = format!("q: phrase slop at most {MAX_SLOP} (~{MAX_SLOP})");
    assert_eq!(refusal(&format!("\"masks gloves\"~{}", MAX_SLOP + 1)), slop);
    assert_eq!(refusal("\"masks gloves\"~99999999999999999999999999"), slop);
    for q in [
        ">a",
        "title:<z",
        "title:[a TO z]",
        "title:{a TO z}",
        "title: IN [a b]",
    ] {
        assert_eq!(
            refusal(q),
            "q: ranges and sets ([ ] { } < >) are not supported",
            "{q}"
        );
    }
}

#[test]
fn ordinary_queries_still_work() {
    for q in [
        "masks",
        "口罩",
        "N95 口罩",
        "防护服",
        "\"surgical mask\"",
        "gloves OR goggles",
        "masks -gloves",
        "title:wuhan",
        "ventilatr",
        "医用防护服 Wuhan",
    ] {
        let r = search(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert!(r.total > 0, "{q}: no hits");
    }
}

#[test]
fn a_search_stops_when_its_budget_runs_out() {
    let q = query("masks");
    let past = Budget::new(Duration::ZERO);
    assert!(
        matches!(index().search_within(&q, &past), Err(SearchError::TimedOut(d)) if d == Duration::ZERO)
    );
    let budget = Budget::new(SEARCH_DEADLINE);
    index().search_within(&q, &budget).unwrap();
    drop(budget.cancel_on_drop());
    assert!(matches!(
        index().search_within(&q, &budget),
        Err(SearchError::Cancelled)
    ));
    // The message of a timeout names the limit (the server shows it).
    assert_eq!(
        SearchError::TimedOut(SEARCH_DEADLINE).to_string(),
        format!(
            "q: the search did not finish within its {} ms limit; narrow it",
            SEARCH_DEADLINE.as_millis()
        )
    );
}

/// Pieces of the query syntax, words of the fixture and stray characters.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "(", ")", "\"", "'", " ", " ", " AND ", " OR ", "NOT ", "-", "+", "*", "~", "~2",
            "^", "^2.5", ":", "title:", "items:", "status:", "id:", "\\", "masks", "mask",
            "gloves", "ventilatr", "respirator", "N95", "口罩", "防护服", "医用防护服", "武汉",
            "[", "]", "{", "}", "<", ">=", " TO ", " IN ", "!", "`", "\t", "　",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the text (up to the length limit), a search returns results or a
    /// `BadQuery`: never a panic, an index error or a hang.
    #[test]
    fn any_free_text_gives_results_or_bad_query(
        pieces in prop::collection::vec(piece(), 0..60)
    ) {
        let q: String = pieces.concat().chars().take(MAX_QUERY_CHARS).collect();
        // A deadline no honest run meets, so that a slow machine cannot fail this.
        let budget = Budget::new(Duration::from_secs(3600));
        match index().search_within(&query(&q), &budget) {
            Ok(_) | Err(SearchError::BadQuery(_)) => {}
            Err(e) => prop_assert!(false, "{q:?}: {e}"),
        }
    }
}
