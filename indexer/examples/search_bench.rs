//! Search benchmark: tantivy (`SearchIndex`) against SQLite FTS5 over the same
//! synthetic needs.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/main/target-bench cargo run --release -p aidledger-indexer \
//!     --example search_bench -- --sizes 100000,1000000 [--queries 200] [--batch 10000]
//! ```
//!
//! Documents are generated from a fixed seed and loaded incrementally: the index and
//! the FTS5 table grow to each size in turn, and the same query mix runs against both
//! at every size. Loading rates are over all documents loaded so far.
//!
//! tantivy runs the full `SearchIndex::search` (top 20 with snippets, total, facets).
//! FTS5 runs, per query, the top 20 by `rank` with a `snippet()` and a `count(*)` of
//! the matches (no facets), through one sqlx connection. FTS5 uses the `trigram`
//! tokenizer, the only built-in one that matches inside Chinese text; it cannot match
//! terms shorter than three characters, so the Chinese query words have three or more.
//!
//! With `--worst-case`, only the tantivy index is built, and at each size the costliest
//! queries that pass the limits on `q` (`indexer::limits`) are timed against one-word
//! queries in the same run, without a deadline (so that their whole cost shows):
//!
//! ```text
//! CARGO_TARGET_DIR=/work/main/target-bench cargo run --release -p aidledger-indexer \
//!     --example search_bench -- --worst-case --sizes 1000000 [--repeat 5]
//! ```

use indexer::limits::{MAX_DEPTH, MAX_QUERY_CHARS, MAX_SLOP, MAX_TERMS, SEARCH_DEADLINE};
use indexer::{Budget, Query, SearchDoc, SearchIndex, SearchItem};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::time::{Duration, Instant};

const SEED: u64 = 20_200_124;

/// (English name, Chinese name, category).
const ITEMS: &[(&str, &str, &str)] = &[
    ("N95 respirator", "N95口罩", "respirator"),
    ("KN95 respirator mask", "KN95防护口罩", "respirator"),
    ("FFP2 respirator", "FFP2防护口罩", "respirator"),
    ("surgical mask", "医用外科口罩", "surgical_mask"),
    ("disposable medical mask", "一次性医用口罩", "surgical_mask"),
    ("protective gown", "医用防护服", "gown_coverall"),
    ("isolation gown", "隔离衣", "gown_coverall"),
    ("coverall suit", "连体防护服", "gown_coverall"),
    ("nitrile gloves", "丁腈手套", "gloves"),
    ("latex examination gloves", "乳胶检查手套", "gloves"),
    ("safety goggles", "护目镜", "goggles"),
    ("face shield", "防护面屏", "face_shield"),
    ("hand sanitizer", "免洗洗手液", "disinfectant"),
    ("alcohol disinfectant 75%", "75%酒精消毒液", "disinfectant"),
    (
        "chlorine disinfectant tablets",
        "含氯消毒片",
        "disinfectant",
    ),
    ("infrared thermometer", "红外体温计", "thermometer"),
    ("forehead thermometer", "额温枪", "thermometer"),
    ("ICU ventilator", "有创呼吸机", "ventilator"),
    ("non-invasive ventilator", "无创呼吸机", "ventilator"),
    ("oxygen concentrator", "制氧机", "oxygen"),
    ("oxygen cylinder", "氧气瓶", "oxygen"),
    ("antiviral medicine", "抗病毒药物", "medicine"),
    ("fever reducer tablets", "退烧药", "medicine"),
    ("instant noodles", "方便面", "food"),
    ("rice and cooking oil", "大米和食用油", "food"),
    ("bottled water", "瓶装饮用水", "food"),
    ("medical waste bags", "医疗废物袋", "other"),
    ("shoe covers", "一次性鞋套", "other"),
];

/// (code, English name, Chinese name).
const AREAS: &[(&str, &str, &str)] = &[
    ("CN-HB", "Hubei", "湖北省"),
    ("CN-GD", "Guangdong", "广东省"),
    ("CN-ZJ", "Zhejiang", "浙江省"),
    ("CN-HA", "Henan", "河南省"),
    ("CN-HN", "Hunan", "湖南省"),
    ("CN-BJ", "Beijing", "北京市"),
    ("CN-SH", "Shanghai", "上海市"),
    ("CN-SC", "Sichuan", "四川省"),
    ("CN-JS", "Jiangsu", "江苏省"),
    ("CN-AH", "Anhui", "安徽省"),
    ("IT-25", "Lombardy", "伦巴第"),
    ("US-NY", "New York", "纽约州"),
];

const ORG_EN: &[&str] = &[
    "Central Hospital",
    "People's Hospital",
    "Union Hospital",
    "Maternity and Child Hospital",
    "Community Health Center",
    "Red Cross Society",
    "Disease Control Center",
    "Elderly Care Home",
];
const ORG_ZH: &[&str] = &[
    "中心医院",
    "人民医院",
    "协和医院",
    "妇幼保健院",
    "社区卫生服务中心",
    "红十字会",
    "疾病预防控制中心",
    "养老院",
];
const URGENCIES: &[&str] = &["critical", "high", "medium", "low"];

fn doc(rng: &mut StdRng, i: u64) -> SearchDoc {
    let (code, area_en, area_zh) = *AREAS.choose(rng).unwrap();
    let org = rng.gen_range(0..ORG_EN.len());
    let chinese = rng.gen_bool(0.5);
    let title = if chinese {
        format!("{area_zh}{}{}", rng.gen_range(1..40), ORG_ZH[org])
    } else {
        format!("{area_en} No. {} {}", rng.gen_range(1..40), ORG_EN[org])
    };
    let n_items = rng.gen_range(1..=3);
    let mut items = Vec::with_capacity(n_items);
    let mut names = Vec::with_capacity(n_items);
    for _ in 0..n_items {
        let (en, zh, category) = *ITEMS.choose(rng).unwrap();
        let name = if chinese { zh } else { en };
        let qty = rng.gen_range(1..200) * 50;
        names.push(format!("{name} ×{qty}"));
        items.push(SearchItem {
            item: name.to_owned(),
            category: category.to_owned(),
            spec: Some(format!("{qty}")),
        });
    }
    let description = if chinese {
        format!(
            "{}急需{}，病人数量持续增加，现有物资仅能维持{}天。请联系物资组。",
            ORG_ZH[org],
            names.join("、"),
            rng.gen_range(1..10)
        )
    } else {
        format!(
            "The {} urgently needs {}. Patient numbers keep rising and current stock lasts {} days. Contact the supplies desk.",
            ORG_EN[org],
            names.join(", "),
            rng.gen_range(1..10)
        )
    };
    let day = rng.gen_range(1..=28);
    SearchDoc {
        id: format!("{i:064x}"),
        kind: "need".into(),
        title,
        items,
        description,
        area_code: code.into(),
        area_name: if chinese { area_zh } else { area_en }.into(),
        status: "open".into(),
        urgency: Some((*URGENCIES.choose(rng).unwrap()).into()),
        verification: "verified".into(),
        created_at: format!("2026-02-{day:02}T08:00:00Z"),
        deadline: Some(format!("2026-03-{day:02}")),
        index: i,
    }
}

/// One query of the mix: free-text terms and optional filters.
#[derive(Clone, Debug)]
struct BenchQuery {
    terms: Vec<&'static str>,
    category: Option<&'static str>,
    area: Option<&'static str>,
}

const EN_WORDS: &[&str] = &[
    "respirator",
    "mask",
    "gloves",
    "goggles",
    "gown",
    "ventilator",
    "thermometer",
    "disinfectant",
    "oxygen",
    "noodles",
    "sanitizer",
    "shield",
    "hospital",
    "Hubei",
    "N95",
];
/// Three characters or more, so that FTS5's trigram tokenizer can match them.
const ZH_WORDS: &[&str] = &[
    "防护服",
    "护目镜",
    "呼吸机",
    "消毒液",
    "体温计",
    "制氧机",
    "方便面",
    "隔离衣",
    "外科口罩",
    "人民医院",
    "湖北省",
    "红十字会",
];

fn query_mix(n: usize) -> Vec<BenchQuery> {
    let mut rng = StdRng::seed_from_u64(SEED ^ 0x5eed);
    let categories: Vec<&str> = ITEMS.iter().map(|i| i.2).collect();
    let areas = ["CN-HB", "CN-GD", "CN-BJ", "CN", "US-NY", "CN-ZJ"];
    (0..n)
        .map(|k| {
            let terms = match k % 4 {
                0 => vec![*EN_WORDS.choose(&mut rng).unwrap()],
                1 => vec![*ZH_WORDS.choose(&mut rng).unwrap()],
                2 => {
                    let mut v: Vec<&str> = EN_WORDS.choose_multiple(&mut rng, 2).copied().collect();
                    v.dedup();
                    v
                }
                _ => vec![
                    *ZH_WORDS.choose(&mut rng).unwrap(),
                    *EN_WORDS.choose(&mut rng).unwrap(),
                ],
            };
            let (category, area) = match (k / 4) % 4 {
                0 => (None, None),
                1 => (Some(*categories.choose(&mut rng).unwrap()), None),
                2 => (None, Some(*areas.choose(&mut rng).unwrap())),
                _ => (
                    Some(*categories.choose(&mut rng).unwrap()),
                    Some(*areas.choose(&mut rng).unwrap()),
                ),
            };
            BenchQuery {
                terms,
                category,
                area,
            }
        })
        .collect()
}

fn fts_match(q: &BenchQuery) -> String {
    q.terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

const FTS_FILTER: &str = "fts MATCH ?1 \
     AND (?2 IS NULL OR instr(' ' || cats || ' ', ' ' || ?2 || ' ') > 0) \
     AND (?3 IS NULL OR area = ?3 OR area LIKE ?3 || '-%')";

async fn fts_search(conn: &mut SqliteConnection, q: &BenchQuery) -> (usize, i64) {
    let m = fts_match(q);
    let top = sqlx::query(&format!(
        "SELECT id, title, snippet(fts, -1, '<b>', '</b>', '…', 16) FROM fts WHERE {FTS_FILTER} \
         ORDER BY rank LIMIT 20"
    ))
    .bind(&m)
    .bind(q.category)
    .bind(q.area)
    .fetch_all(&mut *conn)
    .await
    .expect("fts top");
    let total: i64 = sqlx::query(&format!("SELECT count(*) FROM fts WHERE {FTS_FILTER}"))
        .bind(&m)
        .bind(q.category)
        .bind(q.area)
        .fetch_one(&mut *conn)
        .await
        .expect("fts count")
        .get(0);
    (top.len(), total)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Args {
    sizes: Vec<u64>,
    queries: usize,
    batch: u64,
    worst_case: bool,
    repeat: usize,
}

fn args() -> Args {
    let mut a = Args {
        sizes: vec![100_000, 1_000_000],
        queries: 200,
        batch: 10_000,
        worst_case: false,
        repeat: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--worst-case" {
            a.worst_case = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => {
                a.sizes = value
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse().expect("--sizes"))
                    .collect();
                a.sizes.sort_unstable();
            }
            "--queries" => a.queries = value.parse().expect("--queries"),
            "--batch" => a.batch = value.parse().expect("--batch"),
            "--repeat" => a.repeat = value.parse().expect("--repeat"),
            _ => panic!("unknown argument {flag}"),
        }
    }
    a
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().expect("tempdir");
    let index = SearchIndex::open_or_create(dir.path().join("tantivy")).expect("index");
    if args.worst_case {
        return worst_case(&index, &args);
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.path().join("fts.sqlite"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .expect("sqlite");
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "CREATE VIRTUAL TABLE fts USING fts5(id UNINDEXED, title, items, description, \
         area_name, cats UNINDEXED, area UNINDEXED, tokenize = 'trigram')",
    )
    .execute(&mut conn)
    .await
    .expect("SQLite lacks FTS5 (or its trigram tokenizer)");
    println!(
        "SQLite {version} with FTS5 trigram; dir {}",
        dir.path().display()
    );

    let mix = query_mix(args.queries);
    let mut rng = StdRng::seed_from_u64(SEED);
    let (mut loaded, mut t_tantivy, mut t_fts) = (0u64, Duration::ZERO, Duration::ZERO);
    println!(
        "size | tantivy docs/s | FTS5 rows/s | tantivy p50 | p99 | FTS5 p50 | p99 | p50 ratio | p99 ratio | empty t/f"
    );
    for &size in &args.sizes {
        while loaded < size {
            let n = args.batch.min(size - loaded);
            let docs: Vec<SearchDoc> = (loaded..loaded + n).map(|i| doc(&mut rng, i)).collect();
            let t = Instant::now();
            index.apply(&docs, &[], loaded + n).expect("apply");
            t_tantivy += t.elapsed();

            let t = Instant::now();
            let mut tx = conn.begin().await.unwrap();
            for d in &docs {
                let items: Vec<String> = d
                    .items
                    .iter()
                    .map(|i| match &i.spec {
                        Some(s) => format!("{} {s}", i.item),
                        None => i.item.clone(),
                    })
                    .collect();
                let cats: Vec<&str> = d.items.iter().map(|i| i.category.as_str()).collect();
                sqlx::query(
                    "INSERT INTO fts (id, title, items, description, area_name, cats, area) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&d.id)
                .bind(&d.title)
                .bind(items.join("\n"))
                .bind(&d.description)
                .bind(&d.area_name)
                .bind(cats.join(" "))
                .bind(&d.area_code)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
            t_fts += t.elapsed();
            loaded += n;
        }
        assert_eq!(index.num_docs(), size);
        let tantivy_rate = loaded as f64 / t_tantivy.as_secs_f64();
        let fts_rate = loaded as f64 / t_fts.as_secs_f64();

        // Warm-up pass over the whole mix for both engines, then the timed pass.
        let queries: Vec<Query> = mix
            .iter()
            .map(|b| Query {
                q: b.terms.join(" "),
                category: b.category.map(Into::into),
                area: b.area.map(Into::into),
                ..Query::default()
            })
            .collect();
        for (q, b) in queries.iter().zip(&mix) {
            index.search(q).expect("search");
            fts_search(&mut conn, b).await;
        }
        let (mut lt, mut lf) = (Vec::new(), Vec::new());
        let (mut empty_t, mut empty_f) = (0, 0);
        for (q, b) in queries.iter().zip(&mix) {
            let t = Instant::now();
            let r = index.search(q).expect("search");
            lt.push(t.elapsed());
            empty_t += usize::from(r.total == 0);
            let t = Instant::now();
            let (_, total) = fts_search(&mut conn, b).await;
            lf.push(t.elapsed());
            empty_f += usize::from(total == 0);
        }
        lt.sort_unstable();
        lf.sort_unstable();
        let (t50, t99) = (percentile(&lt, 0.50), percentile(&lt, 0.99));
        let (f50, f99) = (percentile(&lf, 0.50), percentile(&lf, 0.99));
        println!(
            "{size} | {tantivy_rate:.0} | {fts_rate:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} | {:.2} | {empty_t}/{empty_f}",
            ms(t50),
            ms(t99),
            ms(f50),
            ms(f99),
            ms(t50) / ms(f50),
            ms(t99) / ms(f99),
        );
        // Slowest tantivy queries, to see what drives p99.
        let mut by_time: Vec<(Duration, &BenchQuery)> = queries
            .iter()
            .zip(&mix)
            .map(|(q, b)| {
                let t = Instant::now();
                index.search(q).expect("search");
                (t.elapsed(), b)
            })
            .collect();
        by_time.sort_by_key(|b| std::cmp::Reverse(b.0));
        for (d, b) in by_time.iter().take(3) {
            println!("  slow tantivy: {:.2} ms {b:?}", ms(*d));
        }
    }
}

/// `n` items of `words` joined by ` OR `, as many as fit in the terms limit with the
/// operators (`n` words and `n - 1` ORs).
fn any_of(words: &[&str]) -> String {
    let n = words.len().min(MAX_TERMS.div_ceil(2));
    words[..n].join(" OR ")
}

/// Queries within the limits on `q`, each built to cost the most in one way, and the
/// one-word queries they are compared with.
fn costly_queries() -> Vec<(&'static str, String)> {
    // The most frequent words and bigrams of the generated documents: every English
    // description says "urgently needs … Patient numbers keep rising … Contact the
    // supplies desk", every Chinese one 急需 … 病人数量持续增加 … 请联系物资组.
    let common = [
        "urgently", "needs", "patient", "numbers", "keep", "rising", "current", "stock", "lasts",
        "days", "contact", "supplies", "desk", "hospital", "急需", "病人",
    ];
    // Misspelt words, each with alternatives in the index (typo expansion).
    let typos = [
        "urgentli", "patiant", "numbrs", "risng", "currnt", "supplis", "contct", "hospitl",
    ];
    let nest = |inner: &str| format!("{}{inner}{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    vec![
        ("everything: *", "*".to_owned()),
        ("16 most common words ORed (31 terms)", any_of(&common)),
        ("the same, 4 levels deep", nest(&any_of(&common))),
        ("8 typos ORed with 8 common words", {
            let mut words: Vec<&str> = typos.to_vec();
            words.extend(&common[..8]);
            any_of(&words)
        }),
        (
            "sloppy phrases of common words ORed",
            format!(
                "\"urgently needs\"~{MAX_SLOP} OR \"patient rising\"~{MAX_SLOP} OR \
                 \"contact desk\"~{MAX_SLOP} OR \"stock days\"~{MAX_SLOP} OR \
                 \"keep lasts\"~{MAX_SLOP} OR \"supplies hospital\"~{MAX_SLOP}"
            ),
        ),
        (
            "2 phrase prefixes ORed with common words",
            format!(
                "\"the c\"* OR \"keep r\"* OR {}",
                any_of(&common[..(MAX_TERMS - 6) / 2])
            ),
        ),
        (
            "all of the above, padded to 500 characters, 4 levels deep",
            {
                let all = [
                    format!("\"urgently needs\"~{MAX_SLOP}"),
                    format!("\"patient rising\"~{MAX_SLOP}"),
                    "\"the c\"*".to_owned(),
                    "\"keep r\"*".to_owned(),
                ]
                .into_iter()
                // Seven typos: the slops' digits are terms too.
                .chain(typos[..7].iter().map(|t| t.to_string()))
                .chain(["急需".to_owned(), "病人".to_owned()])
                .collect::<Vec<_>>()
                .join(" OR ");
                // The analyzer drops words of 40 letters or more, so they count as no
                // term, but the parser still reads them on every pass.
                let pad = MAX_QUERY_CHARS - all.chars().count() - 2 * MAX_DEPTH - 1;
                nest(&format!("{all} {}", "x".repeat(pad)))
            },
        ),
        (
            "long Chinese phrase ORed with common bigrams",
            "病人数量持续增加现有物资 OR 急需 OR 病人 OR 请联系 OR 物资组 OR 医院 OR 人民"
                .to_owned(),
        ),
    ]
}

/// One-word queries, the baseline: a typical item, and the broadest word.
const ONE_WORD: [&str; 2] = ["respirator", "hospital"];

fn worst_case(index: &SearchIndex, args: &Args) {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut loaded = 0;
    let no_deadline = || Budget::new(Duration::from_secs(3600));
    let time = |q: &str| -> (Duration, u64) {
        let query = Query {
            q: q.to_owned(),
            ..Query::default()
        };
        let mut times = Vec::with_capacity(args.repeat);
        let mut total = 0;
        // One warm-up run, then the timed ones; the median is reported.
        for i in 0..=args.repeat {
            let t = Instant::now();
            let r = index
                .search_within(&query, &no_deadline())
                .unwrap_or_else(|e| panic!("{q}: {e}"));
            if i > 0 {
                times.push(t.elapsed());
            }
            total = r.total;
        }
        times.sort_unstable();
        (times[times.len() / 2], total)
    };
    for &size in &args.sizes {
        let t = Instant::now();
        while loaded < size {
            let n = args.batch.min(size - loaded);
            let docs: Vec<SearchDoc> = (loaded..loaded + n).map(|i| doc(&mut rng, i)).collect();
            index.apply(&docs, &[], loaded + n).expect("apply");
            loaded += n;
        }
        println!(
            "{size} documents (loaded in {:.0} s); median of {} runs after one warm-up; \
             deadline {} ms (not applied here)",
            t.elapsed().as_secs_f64(),
            args.repeat,
            SEARCH_DEADLINE.as_millis()
        );
        let base: Vec<(Duration, u64)> = ONE_WORD.iter().map(|w| time(w)).collect();
        for (w, (d, total)) in ONE_WORD.iter().zip(&base) {
            println!("  one word {w:?}: {:.2} ms, {total} hits", ms(*d));
        }
        println!(
            "  query | ms | hits | / {:?} | / {:?}",
            ONE_WORD[0], ONE_WORD[1]
        );
        let mut costliest = (Duration::ZERO, String::new());
        for (what, q) in costly_queries() {
            let (d, total) = time(&q);
            println!(
                "  {what} | {:.2} | {total} | {:.1} | {:.1}",
                ms(d),
                ms(d) / ms(base[0].0),
                ms(d) / ms(base[1].0)
            );
            println!("    q = {q}");
            if d > costliest.0 {
                costliest = (d, q);
            }
        }
        // How promptly a budget stops the costliest one: a tenth of its time.
        let budget = costliest.0 / 10;
        let query = Query {
            q: costliest.1,
            ..Query::default()
        };
        let t = Instant::now();
        let stopped = index.search_within(&query, &Budget::new(budget));
        println!(
            "  the costliest under a {:.2} ms budget: {} after {:.2} ms",
            ms(budget),
            match stopped {
                Err(e) => e.to_string(),
                Ok(_) => "finished".to_owned(),
            },
            ms(t.elapsed())
        );
    }
}
