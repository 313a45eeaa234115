use super::*;
use contract::{SearchKind, Status, Urgency, Verification};
use time::macros::date;

const TODAY: time::Date = date!(2020 - 02 - 15);

fn id(n: u64) -> String {
    format!("{n:064x}")
}

fn item(item: &str, category: &str, spec: Option<&str>) -> SearchItem {
    SearchItem {
        item: item.into(),
        category: category.into(),
        spec: spec.map(Into::into),
    }
}

#[allow(clippy::too_many_arguments)]
fn doc(
    n: u64,
    kind: &str,
    title: &str,
    items: Vec<SearchItem>,
    description: &str,
    area: (&str, &str),
    urgency: Option<&str>,
    deadline: Option<&str>,
    verification: &str,
) -> SearchDoc {
    SearchDoc {
        id: id(n),
        kind: kind.into(),
        title: title.into(),
        items,
        description: description.into(),
        area_code: area.0.into(),
        area_name: area.1.into(),
        status: "open".into(),
        urgency: urgency.map(Into::into),
        verification: verification.into(),
        created_at: format!("2020-02-{n:02}T08:00:00+08:00"),
        deadline: deadline.map(Into::into),
        index: n * 10,
    }
}

const HUBEI: (&str, &str) = ("CN-HB", "Hubei 湖北");

fn fixtures() -> Vec<SearchDoc> {
    vec![
        doc(
            1,
            "need",
            "武汉协和医院 Wuhan Union Hospital",
            vec![
                item("N95口罩", "respirator", Some("GB 19083-2010")),
                item("医用防护服", "gown_coverall", None),
            ],
            "急需 N95 masks and protective suits for ICU staff",
            HUBEI,
            Some("critical"),
            Some("2020-02-20"),
            "verified",
        ),
        doc(
            2,
            "need",
            "Huoshenshan Hospital",
            vec![
                item("surgical mask", "surgical_mask", None),
                item("nitrile gloves", "gloves", Some("size M")),
            ],
            "Masks <urgently> needed & gloves",
            HUBEI,
            Some("high"),
            Some("2020-03-01"),
            "pending",
        ),
        doc(
            3,
            "offer",
            "",
            vec![item("KN95 口罩", "respirator", None)],
            "Factory in Shenzhen can ship 10000 pcs",
            ("CN-GD", "Guangdong 广东"),
            None,
            Some("2020-04-01"),
            "verified",
        ),
        doc(
            4,
            "org",
            "Hubei Red Cross 湖北红十字会",
            vec![],
            "Coordinates donations in Hubei",
            HUBEI,
            None,
            None,
            "verified",
        ),
        doc(
            5,
            "need",
            "Spam",
            vec![item("masks", "surgical_mask", None)],
            "spam masks",
            ("US-NY", "New York"),
            Some("low"),
            None,
            "rejected",
        ),
        doc(
            6,
            "need",
            "Jinyintan Hospital 金银潭医院",
            vec![item("ventilator", "ventilator", None)],
            "Invasive ventilators",
            HUBEI,
            Some("medium"),
            Some("2020-02-10"),
            "verified",
        ),
    ]
}

fn index() -> SearchIndex {
    let idx = SearchIndex::in_memory().unwrap();
    idx.apply(&fixtures(), &[], 60).unwrap();
    idx
}

fn query(q: &str) -> Query {
    Query {
        q: q.into(),
        today: Some(TODAY),
        ..Default::default()
    }
}

/// The document numbers of the hits, in order.
fn ids(idx: &SearchIndex, query: &Query) -> Vec<u64> {
    let r = idx.search(query).unwrap();
    r.hits
        .iter()
        .map(|h| u64::from_str_radix(&h.id, 16).unwrap())
        .collect()
}

fn sorted_ids(idx: &SearchIndex, query: &Query) -> Vec<u64> {
    let mut v = ids(idx, query);
    v.sort();
    v
}

fn counts(list: &[FacetCount]) -> Vec<(&str, u64)> {
    list.iter().map(|c| (c.value.as_str(), c.count)).collect()
}

// --- text analysis through the whole index ---

#[test]
fn english_stemming_masks_finds_mask() {
    let idx = index();
    // 3 (KN95 口罩, a respirator) has "mask" from the vocabulary.
    assert_eq!(sorted_ids(&idx, &query("masks")), [1, 2, 3]);
    assert_eq!(sorted_ids(&idx, &query("mask")), [1, 2, 3]);
    assert_eq!(sorted_ids(&idx, &query("MASK")), [1, 2, 3]);
    assert_eq!(sorted_ids(&idx, &query("glove")), [2]);
    assert_eq!(sorted_ids(&idx, &query("ventilator")), [6]);
}

#[test]
fn chinese_bigrams_find_words_inside_longer_runs() {
    let idx = index();
    // 2 (surgical masks) has 口罩 from the vocabulary.
    assert_eq!(sorted_ids(&idx, &query("口罩")), [1, 2, 3]);
    assert_eq!(sorted_ids(&idx, &query("防护服")), [1]);
    assert_eq!(sorted_ids(&idx, &query("医用防护服")), [1]);
    assert_eq!(sorted_ids(&idx, &query("湖北")), [1, 2, 4, 6]);
    assert_eq!(sorted_ids(&idx, &query("红十字会")), [4]);
    assert_eq!(sorted_ids(&idx, &query("医院")), [1, 6]);
    // Bigrams must stand next to each other: 防护 and 护服 apart is no match.
    assert!(sorted_ids(&idx, &query("服防护")).is_empty());
    assert!(sorted_ids(&idx, &query("口罩手套")).is_empty());
}

#[test]
fn mixed_queries() {
    let idx = index();
    assert_eq!(sorted_ids(&idx, &query("N95 口罩")), [1]);
    assert_eq!(sorted_ids(&idx, &query("N95口罩")), [1]);
    assert_eq!(sorted_ids(&idx, &query("Ｎ９５")), [1]);
    assert_eq!(sorted_ids(&idx, &query("KN95口罩")), [3]);
    // Every mask has both words, its own or the vocabulary's.
    assert_eq!(sorted_ids(&idx, &query("masks 口罩")), [1, 2, 3]);
    assert_eq!(sorted_ids(&idx, &query("masks OR 口罩")), [1, 2, 3]);
    assert_eq!(sorted_ids(&idx, &query("\"protective suits\"")), [1]);
    assert_eq!(sorted_ids(&idx, &query("masks -gloves")), [1, 3]);
    assert_eq!(sorted_ids(&idx, &query("title:hospital")), [1, 2, 6]);
}

// --- filters ---

#[test]
fn filters() {
    let idx = index();
    let with = |f: fn(&mut Query)| {
        let mut q = query("");
        f(&mut q);
        sorted_ids(&idx, &q)
    };
    // Rejected documents are left out unless asked for.
    assert_eq!(with(|_| {}), [1, 2, 3, 4, 6]);
    assert_eq!(with(|q| q.verified = Some("rejected".into())), [5]);
    assert_eq!(with(|q| q.verified = Some("pending".into())), [2]);
    assert_eq!(with(|q| q.verified = Some("verified".into())), [1, 3, 4, 6]);
    assert_eq!(with(|q| q.area = Some("CN".into())), [1, 2, 3, 4, 6]);
    assert_eq!(with(|q| q.area = Some("CN-HB".into())), [1, 2, 4, 6]);
    assert_eq!(with(|q| q.area = Some("CN-GD".into())), [3]);
    assert!(with(|q| q.area = Some("CN-H".into())).is_empty());
    assert!(with(|q| q.area = Some("C".into())).is_empty());
    assert!(with(|q| q.area = Some("US".into())).is_empty());
    assert_eq!(
        with(|q| {
            q.area = Some("US".into());
            q.verified = Some("rejected".into());
        }),
        [5]
    );
    assert_eq!(with(|q| q.category = Some("respirator".into())), [1, 3]);
    assert_eq!(with(|q| q.category = Some("gloves".into())), [2]);
    assert!(with(|q| q.category = Some("oxygen".into())).is_empty());
    assert_eq!(with(|q| q.urgency = Some("critical".into())), [1]);
    assert_eq!(with(|q| q.kind = Some("offer".into())), [3]);
    assert_eq!(with(|q| q.kind = Some("org".into())), [4]);
    assert_eq!(with(|q| q.kind = Some("need".into())), [1, 2, 6]);
    // Status is read at `today`: 6 is open but past its deadline.
    assert_eq!(with(|q| q.status = Some("open".into())), [1, 2, 3, 4]);
    assert_eq!(with(|q| q.status = Some("expired".into())), [6]);
    assert!(with(|q| q.status = Some("met".into())).is_empty());
    assert_eq!(
        with(|q| {
            q.status = Some("open".into());
            q.today = Some(date!(2020 - 02 - 01));
        }),
        [1, 2, 3, 4, 6]
    );
    assert_eq!(
        with(|q| {
            q.status = Some("expired".into());
            q.today = Some(date!(2020 - 03 - 15));
        }),
        [1, 2, 6]
    );
    // Filters combine with text, and do not change scores.
    let mut q = query("masks");
    q.category = Some("surgical_mask".into());
    assert_eq!(sorted_ids(&idx, &q), [2]);
    let unfiltered = idx.search(&query("masks")).unwrap();
    let filtered = idx.search(&q).unwrap();
    let score = |r: &SearchResults, n: u64| r.hits.iter().find(|h| h.id == id(n)).unwrap().score;
    assert_eq!(score(&unfiltered, 2), score(&filtered, 2));
}

#[test]
fn facets_count_the_matching_set() {
    let idx = index();
    let r = idx.search(&query("")).unwrap();
    assert_eq!(r.total, 5);
    let f = &r.facets;
    assert_eq!(
        counts(&f.category),
        [
            ("respirator", 2),
            ("gloves", 1),
            ("gown_coverall", 1),
            ("surgical_mask", 1),
            ("ventilator", 1)
        ]
    );
    assert_eq!(counts(&f.country), [("CN", 5)]);
    assert_eq!(counts(&f.area), [("CN-HB", 4), ("CN-GD", 1)]);
    assert_eq!(counts(&f.status), [("open", 4), ("expired", 1)]);
    assert_eq!(
        counts(&f.urgency),
        [("critical", 1), ("high", 1), ("medium", 1)]
    );
    assert_eq!(counts(&f.verification), [("verified", 4), ("pending", 1)]);

    let r = idx.search(&query("口罩")).unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(
        counts(&r.facets.category),
        [
            ("respirator", 2),
            ("gloves", 1),
            ("gown_coverall", 1),
            ("surgical_mask", 1)
        ]
    );
    assert_eq!(counts(&r.facets.area), [("CN-HB", 2), ("CN-GD", 1)]);

    let mut q = query("masks");
    q.verified = Some("rejected".into());
    let r = idx.search(&q).unwrap();
    assert_eq!(r.total, 1);
    assert_eq!(counts(&r.facets.country), [("US", 1)]);
    assert_eq!(counts(&r.facets.verification), [("rejected", 1)]);
    assert_eq!(counts(&r.facets.urgency), [("low", 1)]);

    let r = idx.search(&query("nothing_matches_this")).unwrap();
    assert_eq!(r.total, 0);
    assert!(r.hits.is_empty());
    assert_eq!(r.facets, Facets::default());
}

// --- sort and paging ---

#[test]
fn sort_orders() {
    let idx = index();
    let sorted = |sort: Sort| {
        let mut q = query("");
        q.sort = sort;
        ids(&idx, &q)
    };
    // Most urgent first; without urgency, nearest deadline first.
    assert_eq!(sorted(Sort::Urgency), [1, 2, 6, 3, 4]);
    // Nearest deadline first, none last.
    assert_eq!(sorted(Sort::Deadline), [6, 1, 2, 3, 4]);
    assert_eq!(sorted(Sort::Recent), [6, 4, 3, 2, 1]);
    // With no text every score is equal: most recent first.
    assert_eq!(sorted(Sort::Relevance), [6, 4, 3, 2, 1]);

    // Relevance ranks the better match first: 2 has "mask" in items and description,
    // 1 in its description, 3 only from the vocabulary.
    let r = idx.search(&query("masks")).unwrap();
    assert_eq!(ids(&idx, &query("masks")), [2, 1, 3]);
    assert!(r.hits[0].score > r.hits[1].score);
    assert!(r.hits[1].score > r.hits[2].score);

    assert_eq!("deadline".parse::<Sort>().unwrap(), Sort::Deadline);
    assert!(matches!(
        "sideways".parse::<Sort>(),
        Err(SearchError::BadQuery(_))
    ));
}

#[test]
fn paging() {
    let idx = index();
    let page = |page: u32| {
        let mut q = query("");
        q.sort = Sort::Recent;
        q.per_page = 2;
        q.page = page;
        let r = idx.search(&q).unwrap();
        assert_eq!(r.total, 5);
        assert_eq!(r.per_page, 2);
        ids(&idx, &q)
    };
    assert_eq!(page(0), [6, 4]);
    assert_eq!(page(1), [6, 4]);
    assert_eq!(page(2), [3, 2]);
    assert_eq!(page(3), [1]);
    assert!(page(4).is_empty());

    let r = idx.search(&query("")).unwrap();
    assert_eq!((r.page, r.per_page), (1, 20));
    let mut q = query("");
    q.per_page = 100;
    assert!(idx.search(&q).is_ok());
    q.per_page = 101;
    assert!(matches!(idx.search(&q), Err(SearchError::BadQuery(m)) if m.contains("per_page")));
    q.per_page = 100;
    q.page = 100;
    assert!(idx.search(&q).is_ok());
    q.page = 101;
    assert!(matches!(idx.search(&q), Err(SearchError::BadQuery(_))));
    q.page = u32::MAX;
    q.per_page = MAX_PER_PAGE;
    assert!(matches!(idx.search(&q), Err(SearchError::BadQuery(_))));
}

// --- hits and snippets ---

#[test]
fn hits_carry_the_public_fields() {
    let idx = index();
    let r = idx.search(&query("Jinyintan")).unwrap();
    assert_eq!(r.hits.len(), 1);
    let h = &r.hits[0];
    assert_eq!(h.id, id(6));
    assert_eq!(h.kind, SearchKind::Need);
    assert_eq!(h.title, "Jinyintan Hospital 金银潭医院");
    assert_eq!(h.status, Status::Expired);
    assert_eq!(h.urgency, Some(Urgency::Medium));
    assert_eq!(h.verification, Verification::Verified);
    assert_eq!((h.area_code.as_str(), h.area_name.as_str()), HUBEI);
    assert_eq!(h.deadline.as_deref(), Some("2020-02-10"));
    assert_eq!(h.created_at, "2020-02-06T08:00:00+08:00");
    assert_eq!(h.index, 60);
    assert!(h.score > 0.0);
}

#[test]
fn snippets_highlight_and_escape() {
    let idx = index();
    let snippet = |q: &str, n: u64| {
        let r = idx.search(&query(q)).unwrap();
        r.hits.into_iter().find(|h| h.id == id(n)).unwrap().snippet
    };
    let s = snippet("masks", 2);
    assert!(s.contains("surgical <b>mask</b>"), "{s}");
    assert!(
        s.contains("<b>Masks</b> &lt;urgently&gt; needed &amp; gloves"),
        "{s}"
    );
    let s = snippet("口罩", 1);
    assert!(s.contains("N95<b>口罩</b>"), "{s}");
    let s = snippet("防护服", 1);
    assert!(s.contains("医用<b>防护服</b>"), "{s}");
    let s = snippet("N95 口罩", 1);
    assert!(
        s.contains("<b>N95</b><b>口罩</b>") || s.contains("<b>N95口罩</b>"),
        "{s}"
    );
    assert!(s.contains("急需 <b>N95</b> masks"), "{s}");
    // No match in items or description (title only, or no text): the description.
    assert_eq!(
        snippet("Huoshenshan", 2),
        "Masks &lt;urgently&gt; needed &amp; gloves"
    );
    let r = idx.search(&query("")).unwrap();
    let h = r.hits.iter().find(|h| h.id == id(3)).unwrap();
    assert_eq!(h.snippet, "Factory in Shenzhen can ship 10000 pcs");
}

#[test]
fn long_descriptions_are_cut_at_character_boundaries() {
    let idx = SearchIndex::in_memory().unwrap();
    let mut d = fixtures().remove(0);
    d.description = format!("{}口罩{}", "需".repeat(200), "要".repeat(200));
    idx.apply(&[d], &[], 1).unwrap();
    let r = idx.search(&query("口罩")).unwrap();
    assert!(r.hits[0].snippet.contains("<b>口罩</b>"));
    let r = idx.search(&query("")).unwrap();
    let s = &r.hits[0].snippet;
    assert!(s.ends_with('…') && s.len() < 300, "{s}");
}

// --- malformed queries ---

#[test]
fn malformed_queries_are_clear_errors() {
    let idx = index();
    let err = |q: Query| match idx.search(&q) {
        Err(SearchError::BadQuery(m)) => m,
        other => panic!("expected BadQuery, got {other:?}"),
    };
    let m = err(query("nosuchfield:masks"));
    assert!(m.contains("nosuchfield"), "{m}");
    err(query("created_ts:notanumber"));
    err(query(&"a".repeat(501)));
    let mut q = query("");
    q.category = Some("masks".into());
    assert!(err(q).contains("category must be one of respirator"));
    let mut q = query("");
    q.area = Some("Atlantis".into());
    let m = err(q);
    assert!(m.contains("area \"Atlantis\" is neither"), "{m}");
    let mut q = query("");
    q.urgency = Some("urgent".into());
    err(q);
    let mut q = query("");
    q.verified = Some("yes".into());
    err(q);
    let mut q = query("");
    q.kind = Some("pledge".into());
    err(q);
    let mut q = query("");
    q.status = Some("Open; DROP".into());
    err(q);
}

/// Whatever the text, a search returns results or `BadQuery`, and never panics.
#[test]
fn arbitrary_queries_never_panic() {
    let idx = index();
    let pieces = [
        "\"", "(", ")", ":", "[", "]", "{", "}", "^", "~", "*", "-", "+", "!", "\\", "/", " ",
        "AND", "OR", "NOT", "TO", "IN", "title", "id:", "items:", "mask", "口罩", "N95", "2",
        "1.5", ">", "<=", "'", ",", "\u{0}", "防", "é", "?", "&&", "||", "_exists_", "😷",
    ];
    // A small deterministic generator (xorshift), so failures reproduce.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut bad) = (0, 0);
    for _ in 0..3000 {
        let len = next() % 8;
        let text: String = (0..len)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        match idx.search(&query(&text)) {
            Ok(_) => ok += 1,
            Err(SearchError::BadQuery(_)) => bad += 1,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }
    assert!(ok > 0 && bad > 0, "ok {ok}, bad {bad}");
}

// --- writes: upserts, deletes, coverage ---

#[test]
fn covered_through_is_recorded_and_only_moves_forward() {
    let idx = SearchIndex::in_memory().unwrap();
    assert_eq!(idx.covered_through().unwrap(), None);
    idx.apply(&[], &[], 0).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(0));
    idx.apply(&fixtures()[..2], &[], 20).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(20));
    assert_eq!(idx.num_docs(), 2);
    // Entries that change nothing searchable still move coverage forward.
    idx.apply(&[], &[], 25).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(25));
    idx.apply(&[], &[], 25).unwrap();
    assert!(matches!(
        idx.apply(&[], &[], 24),
        Err(IndexError::Regression {
            covered: 25,
            requested: 24
        })
    ));
    assert_eq!(idx.covered_through().unwrap(), Some(25));
}

#[test]
fn upsert_replaces_and_status_changes_show_up() {
    let idx = index();
    let before = idx.num_docs();
    let mut open = query("");
    open.status = Some("open".into());
    assert_eq!(sorted_ids(&idx, &open), [1, 2, 3, 4]);

    // Need 2 is met; the offer's verdict makes it rejected.
    let mut d2 = fixtures()[1].clone();
    d2.status = "met".into();
    let mut d3 = fixtures()[2].clone();
    d3.verification = "rejected".into();
    idx.apply(&[d2, d3], &[], 70).unwrap();

    assert_eq!(idx.num_docs(), before);
    assert_eq!(sorted_ids(&idx, &open), [1, 4]);
    let mut met = query("");
    met.status = Some("met".into());
    assert_eq!(sorted_ids(&idx, &met), [2]);
    assert_eq!(idx.search(&met).unwrap().hits[0].status, Status::Met);
    assert_eq!(sorted_ids(&idx, &query("口罩")), [1, 2]);
    let r = idx.search(&query("")).unwrap();
    assert_eq!(
        counts(&r.facets.status),
        [("open", 2), ("expired", 1), ("met", 1)]
    );

    // Verified later: pending 2 becomes verified.
    let mut d2 = fixtures()[1].clone();
    d2.status = "met".into();
    d2.verification = "verified".into();
    idx.apply(&[d2], &[], 71).unwrap();
    let mut verified = query("");
    verified.verified = Some("verified".into());
    assert_eq!(sorted_ids(&idx, &verified), [1, 2, 4, 6]);

    // Expiry needs no write: it is read at `today`; an organisation has no date.
    open.today = Some(date!(2020 - 02 - 25));
    assert_eq!(sorted_ids(&idx, &open), [4]);
}

#[test]
fn deletes_and_duplicates_in_one_batch() {
    let idx = index();
    idx.apply(&[], &[id(3), id(99)], 61).unwrap();
    assert_eq!(sorted_ids(&idx, &query("口罩")), [1, 2]);
    assert_eq!(idx.num_docs(), 5);

    let mut a = fixtures()[3].clone();
    a.title = "first version".into();
    let mut b = a.clone();
    b.title = "second version".into();
    idx.apply(&[a, b], &[], 62).unwrap();
    assert_eq!(idx.num_docs(), 5);
    let r = idx.search(&query("version")).unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].title, "second version");
}

#[test]
fn bad_documents_are_refused_before_anything_is_written() {
    let idx = index();
    let good = fixtures()[0].clone();
    type Spoil = fn(&mut SearchDoc);
    let cases: Vec<(Spoil, &str)> = vec![
        (|d| d.id = "XYZ".into(), "id"),
        (|d| d.id = "A".repeat(64), "id"),
        (|d| d.kind = "pledge".into(), "kind"),
        (|d| d.created_at = "yesterday".into(), "created_at"),
        (|d| d.deadline = Some("soon".into()), "deadline"),
        (|d| d.urgency = Some("urgent".into()), "urgency"),
        (|d| d.area_code = "Hubei".into(), "area_code"),
        (|d| d.status = "".into(), "status"),
        (|d| d.items[0].category = "N95".into(), "categor"),
    ];
    for (spoil, what) in cases {
        let mut bad = good.clone();
        bad.title = "spoiled".into();
        spoil(&mut bad);
        let mut renamed = good.clone();
        renamed.title = "renamed".into();
        match idx.apply(&[renamed, bad], &[], 99) {
            Err(IndexError::BadDoc { reason, .. }) => assert!(reason.contains(what), "{reason}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    assert!(matches!(
        idx.apply(&[], &["nope".into()], 99),
        Err(IndexError::BadDoc { .. })
    ));
    assert_eq!(idx.covered_through().unwrap(), Some(60));
    assert!(ids(&idx, &query("renamed OR spoiled")).is_empty());
    // The writer is still usable.
    idx.apply(&[good], &[], 99).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(99));
}

#[test]
fn clear_and_rebuild() {
    let idx = index();
    idx.clear().unwrap();
    assert_eq!(idx.covered_through().unwrap(), None);
    assert_eq!(idx.num_docs(), 0);
    // Rebuilding from the start of the log may start anywhere after a clear.
    idx.apply(&fixtures()[..1], &[], 10).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(10));

    idx.rebuild(&fixtures()[2..4], 40).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(40));
    assert_eq!(sorted_ids(&idx, &query("")), [3, 4]);
    // A rebuild may also go back (a log rebuilt from scratch).
    idx.rebuild(&fixtures(), 5).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(5));
    assert_eq!(idx.num_docs(), 6);
}

// --- on disk: persistence, crashes, formats ---

#[test]
fn persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    {
        let idx = SearchIndex::open_or_create(&path).unwrap();
        assert_eq!(idx.covered_through().unwrap(), None);
        idx.apply(&fixtures(), &[], 60).unwrap();
    }
    let idx = SearchIndex::open_or_create(&path).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(60));
    assert_eq!(idx.num_docs(), 6);
    assert_eq!(sorted_ids(&idx, &query("防护服")), [1]);
    // Catching up goes on where it stopped.
    let mut d = fixtures()[0].clone();
    d.status = "met".into();
    idx.apply(&[d], &[], 61).unwrap();
    drop(idx);
    let idx = SearchIndex::open_or_create(&path).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(61));
    assert_eq!(
        idx.search(&query("防护服")).unwrap().hits[0].status,
        Status::Met
    );
}

#[test]
fn a_commit_that_never_completes_leaves_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixtures();
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        idx.apply(&fx[..1], &[], 5).unwrap();

        // Operations added, commit prepared with a payload, then the process "dies":
        // the prepared commit and the writer are dropped without committing.
        let mut guard = idx.writer().unwrap();
        let writer = guard.as_mut().unwrap();
        writer.delete_term(Term::from_field_text(idx.fields.id, &id(1)));
        writer
            .add_document(
                schema::to_document(&idx.fields, &mut crate::tokenizer::en_zh_analyzer(), &fx[1])
                    .unwrap(),
            )
            .unwrap();
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload(r#"{"format":1,"covered_through":99}"#);
        drop(prepared);
        *guard = None;
    }
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(idx.covered_through().unwrap(), Some(5));
        assert_eq!(sorted_ids(&idx, &query("")), [1]);

        // Same without even preparing the commit.
        let mut guard = idx.writer().unwrap();
        let writer = guard.as_mut().unwrap();
        writer
            .add_document(
                schema::to_document(&idx.fields, &mut crate::tokenizer::en_zh_analyzer(), &fx[2])
                    .unwrap(),
            )
            .unwrap();
        *guard = None;
    }
    let idx = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(5));
    assert_eq!(sorted_ids(&idx, &query("")), [1]);
    idx.apply(&fx[1..3], &[], 6).unwrap();
    assert_eq!(sorted_ids(&idx, &query("")), [1, 2, 3]);
}

const CRASH_DIR: &str = "AIDLEDGER_INDEXER_CRASH_DIR";

/// The child of [`killed_mid_commit_the_index_matches_its_payload`]: commits one
/// document per log index, forever, until killed. Does nothing in a normal run.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CRASH_DIR) else {
        return;
    };
    let idx = SearchIndex::open_or_create(dir).unwrap();
    let mut n = idx.covered_through().unwrap().unwrap_or(0);
    let template = fixtures().remove(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        n += 1;
        let mut d = template.clone();
        d.id = id(n);
        d.index = n;
        d.description = format!("document {n}");
        idx.apply(&[d], &[], n).unwrap();
    }
}

/// A process killed at random moments while committing leaves an index whose
/// content is exactly what its payload says it covers.
#[test]
fn killed_mid_commit_the_index_matches_its_payload() {
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last = 0;
    for round in 0..4u64 {
        let child = std::process::Command::new(&exe)
            .args(["--exact", "tests::crash_child", "--test-threads=1", "-q"])
            .env(CRASH_DIR, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let child = Kill(child);
        std::thread::sleep(std::time::Duration::from_millis(700 + 137 * round));
        drop(child);

        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        let covered = idx.covered_through().unwrap().unwrap_or(0);
        assert!(covered >= last, "round {round}: {covered} < {last}");
        assert_eq!(idx.num_docs(), covered, "round {round}");
        if covered > 0 {
            let q = query(&format!("\"document {covered}\""));
            assert_eq!(ids(&idx, &q), [covered]);
        }
        last = covered;
    }
    assert!(last > 0, "the child never committed");
}

#[test]
fn an_index_of_another_format_is_wiped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        idx.apply(&fixtures(), &[], 60).unwrap();
        let mut guard = idx.writer().unwrap();
        let mut prepared = guard.as_mut().unwrap().prepare_commit().unwrap();
        prepared.set_payload(r#"{"format":0,"covered_through":60}"#);
        prepared.commit().unwrap();
    }
    let idx = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(idx.covered_through().unwrap(), None);
    assert_eq!(idx.num_docs(), 0);
    idx.apply(&fixtures(), &[], 60).unwrap();
    drop(idx);

    // Another schema altogether; files that are not the index's stay.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("keep.txt"), "mine").unwrap();
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(other.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    {
        let mut b = tantivy::schema::Schema::builder();
        let f = b.add_text_field("something", tantivy::schema::TEXT);
        let index = Index::create_in_dir(other.path(), b.build()).unwrap();
        let mut w: IndexWriter = index.writer_with_num_threads(1, WRITER_MEMORY).unwrap();
        w.add_document(tantivy::doc!(f => "x")).unwrap();
        w.commit().unwrap();
    }
    let old_files = listing();
    assert!(old_files.len() > 5, "{old_files:?}");
    let idx = SearchIndex::open_or_create(other.path()).unwrap();
    assert_eq!(idx.covered_through().unwrap(), None);
    // The old segments are gone.
    let now = listing();
    let segment = |name: &String| name.len() > 33 && name.as_bytes()[32] == b'.';
    assert!(old_files
        .iter()
        .filter(|n| segment(n))
        .all(|n| !now.contains(n)));
    assert!(now.contains(&"keep.txt".to_string()));
    idx.apply(&fixtures(), &[], 60).unwrap();
    assert_eq!(idx.num_docs(), 6);
    assert_eq!(
        std::fs::read_to_string(other.path().join("keep.txt")).unwrap(),
        "mine"
    );
    drop(idx);
    let idx = SearchIndex::open_or_create(other.path()).unwrap();
    assert_eq!(idx.covered_through().unwrap(), Some(60));
    assert_eq!(idx.num_docs(), 6);
}

#[test]
fn search_index_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SearchIndex>();
    let idx = std::sync::Arc::new(index());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let idx = idx.clone();
            std::thread::spawn(move || {
                for n in 0..10u64 {
                    if i == 0 {
                        let mut d = fixtures()[0].clone();
                        d.description = format!("revision {n}");
                        idx.apply(&[d], &[], 60 + n).unwrap();
                    } else {
                        assert!(idx.search(&query("口罩")).unwrap().total >= 1);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(idx.covered_through().unwrap(), Some(69));
    assert_eq!(idx.num_docs(), 6);
}

#[test]
fn facets_of_a_broad_search_are_estimated_from_a_sample_and_say_so() {
    use crate::facets::EXACT_PER_SEGMENT;
    // Three times as many matches as a segment counts exactly: the rest is sampled.
    let n = 3 * EXACT_PER_SEGMENT;
    let areas = [
        ("CN-HB", "Hubei 湖北"),
        ("CN-GD", "Guangdong 广东"),
        ("US-NY", "New York"),
    ];
    let docs: Vec<SearchDoc> = (1..=n)
        .map(|k| {
            let mut d = doc(
                k,
                "need",
                "Hospital",
                vec![item("surgical mask", "surgical_mask", None)],
                "masks for the wards",
                areas[(k % 3) as usize],
                Some(["critical", "high", "medium", "low", "high"][(k % 5) as usize]),
                // One need in seven is past its deadline: counted as expired.
                Some(if k % 7 == 0 {
                    "2020-02-01"
                } else {
                    "2020-03-01"
                }),
                "verified",
            );
            d.created_at = "2020-02-01T08:00:00+08:00".into();
            d
        })
        .collect();
    let idx = SearchIndex::in_memory().unwrap();
    idx.apply(&docs, &[], n * 10).unwrap();

    let r = idx.search(&query("hospital")).unwrap();
    assert_eq!(r.total, n, "the total is exact");
    assert!(r.facets_estimated);
    let truth = |p: &dyn Fn(u64) -> bool| (1..=n).filter(|&k| p(k)).count() as f64;
    let near = |facet: &[FacetCount], value: &str, want: f64| {
        let got = facet
            .iter()
            .find(|c| c.value == value)
            .map_or(0, |c| c.count) as f64;
        // The sample reads one match in eight after the exact part: a thousand
        // documents here.
        assert!(
            (got - want).abs() <= want * 0.05,
            "{value}: {got} for {want}"
        );
    };
    for (i, (code, _)) in areas.iter().enumerate() {
        near(&r.facets.area, code, truth(&|k| k % 3 == i as u64));
    }
    near(
        &r.facets.urgency,
        "high",
        truth(&|k| k % 5 == 1 || k % 5 == 4),
    );
    near(&r.facets.status, "expired", truth(&|k| k % 7 == 0));
    near(&r.facets.status, "open", truth(&|k| k % 7 != 0));
    near(&r.facets.country, "CN", truth(&|k| k % 3 != 2));
    // Every match has one status: the estimates add up to the total, give or take
    // their rounding.
    let statuses: u64 = r.facets.status.iter().map(|c| c.count).sum();
    assert!(
        statuses.abs_diff(n) <= 2,
        "{statuses} statuses for {n} matches"
    );

    // Few matches: counted exactly, and said to be.
    let mut narrow = query("hospital");
    narrow.area = Some("US-NY".into());
    narrow.urgency = Some("critical".into());
    let r = idx.search(&narrow).unwrap();
    let want = (1..=n).filter(|k| k % 3 == 2 && k % 5 == 0).count() as u64;
    assert!(want < EXACT_PER_SEGMENT);
    assert_eq!(r.total, want);
    assert!(!r.facets_estimated);
    assert_eq!(counts(&r.facets.area), [("US-NY", want)]);
    let expired = (1..=n)
        .filter(|k| k % 3 == 2 && k % 5 == 0 && k % 7 == 0)
        .count() as u64;
    assert_eq!(
        counts(&r.facets.status),
        [("open", want - expired), ("expired", expired)]
    );
}
