//! Queries: free text, filters, sort and paging; hits with snippets, total, facets.

use crate::facets::FacetCollector;
use crate::limits::{self, Bounded, Budget};
use crate::schema::{self, julian, u64_column, Fields, KINDS};
use crate::SearchIndex;
use contract::{SearchHit, SearchResults};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Bound;
use std::str::FromStr;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query as TQuery, QueryParser, RangeQuery,
    TermQuery,
};
use tantivy::query_grammar::{
    self, Delimiter, Occur as GOccur, UserInputAst, UserInputLeaf, UserInputLiteral,
};
use tantivy::schema::{Field, IndexRecordOption, Term, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocId, Score, Searcher, SegmentReader, TantivyDocument, TantivyError};

/// Most hits on one page.
pub const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 20;
/// Deepest hit that paging reaches (`page × per_page`): top-k collection keeps that
/// many candidates in memory.
const MAX_WINDOW: u64 = 10_000;
/// Weight of the vocabulary's words (the description's own words weigh 1, title and
/// items 2).
const VOCABULARY_BOOST: f32 = 0.5;
/// Longest snippet fragment, in bytes of the stored text.
const SNIPPET_BYTES: usize = 240;

/// Order of the hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (most recent first among equals, e.g. with no free text).
    #[default]
    Relevance,
    /// Most urgent first, then nearest deadline, then best match.
    Urgency,
    /// Nearest deadline first (documents without one last), then most urgent.
    Deadline,
    /// Most recently created first.
    Recent,
}

impl FromStr for Sort {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Sort, SearchError> {
        match s {
            "relevance" => Ok(Sort::Relevance),
            "urgency" => Ok(Sort::Urgency),
            "deadline" => Ok(Sort::Deadline),
            "recent" => Ok(Sort::Recent),
            _ => Err(SearchError::BadQuery(
                "sort must be one of relevance, urgency, deadline, recent".into(),
            )),
        }
    }
}

/// A search. `None` filters match anything, except that rejected documents are left
/// out unless `verified` asks for them (as in the workflow listings).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Free text in tantivy's query syntax (`masks`, `N95 口罩`, `"surgical mask"`,
    /// `gloves OR goggles`, `masks -gloves`, `title:wuhan`). Terms are ANDed by default;
    /// empty matches everything.
    pub q: String,
    /// A category name (`respirator`, `surgical_mask`, …).
    pub category: Option<String>,
    /// A region code (`CN-HB`) or a prefix of one at a `-` (`CN` matches `CN-HB`), or
    /// the name of a country or region in English or Chinese (`Hubei`, `湖北省`,
    /// `China`), which stands for its code (crate `regions`).
    pub area: Option<String>,
    /// `open`, `met`, `withdrawn`, `expired` or another stored status; `open` and
    /// `expired` are read at `today` (an open document past its deadline is expired).
    pub status: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    pub urgency: Option<String>,
    /// `verified`, `pending` or `rejected`.
    pub verified: Option<String>,
    /// `need`, `offer` or `org`.
    pub kind: Option<String>,
    pub sort: Sort,
    /// From 1; 0 means 1.
    pub page: u32,
    /// 1 to [`MAX_PER_PAGE`]; 0 means 20.
    pub per_page: u32,
    /// The date that decides expiry; `None` means today (UTC).
    #[serde(skip)]
    pub today: Option<time::Date>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query or a filter is malformed; the message says how, for the user.
    #[error("bad query: {0}")]
    BadQuery(String),
    /// The search ran past its [`Budget`]'s deadline and was stopped.
    #[error("q: the search did not finish within its {} ms limit; narrow it", .0.as_millis())]
    TimedOut(std::time::Duration),
    /// The search was cancelled through its [`Budget`] (nobody waits for it any more).
    #[error("search cancelled")]
    Cancelled,
    #[error("search index: {0}")]
    Index(#[from] TantivyError),
    /// A document holds a value the contract has no name for: the index was not
    /// written by this version's follower, and `aidledger reindex` rebuilds it.
    #[error("search index: a document's {field} is {value:?}, not a known value; reindex")]
    Unreadable { field: &'static str, value: String },
}

fn bad(msg: impl Into<String>) -> SearchError {
    SearchError::BadQuery(msg.into())
}

fn one_of(field: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), SearchError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(bad(format!(
            "{field} must be one of {}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

fn term(field: Field, value: &str) -> Box<dyn TQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// A clause that filters without changing scores.
fn filter(q: Box<dyn TQuery>) -> (Occur, Box<dyn TQuery>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// Open documents whose deadline is before `today`: they read as expired.
fn past_due(f: &Fields, today: u64) -> Box<dyn TQuery> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, term(f.status, "open")),
        (
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Excluded(Term::from_field_u64(f.deadline_day, today)),
            )),
        ),
    ]))
}

impl SearchIndex {
    /// Runs `query` within [`limits::SEARCH_DEADLINE`]. Malformed queries and filters,
    /// and free text beyond the limits of [`limits`], give [`SearchError::BadQuery`].
    pub fn search(&self, query: &Query) -> Result<SearchResults, SearchError> {
        self.search_within(query, &Budget::default())
    }

    /// [`search`](SearchIndex::search), stopped when `budget` runs out
    /// ([`SearchError::TimedOut`], [`SearchError::Cancelled`]).
    pub fn search_within(
        &self,
        query: &Query,
        budget: &Budget,
    ) -> Result<SearchResults, SearchError> {
        let f = &self.fields;
        let page = query.page.max(1);
        let per_page = match query.per_page {
            0 => DEFAULT_PER_PAGE,
            n if n > MAX_PER_PAGE => {
                return Err(bad(format!("per_page must be at most {MAX_PER_PAGE}")))
            }
            n => n,
        };
        if u64::from(page) * u64::from(per_page) > MAX_WINDOW {
            return Err(bad(format!(
                "page × per_page must be at most {MAX_WINDOW}: narrow the search instead"
            )));
        }
        limits::check_q(&query.q)?;
        let categories: Vec<&str> = ledger::body::Category::ALL
            .iter()
            .map(|c| c.name())
            .collect();
        one_of("category", &query.category, &categories)?;
        one_of(
            "urgency",
            &query.urgency,
            &["critical", "high", "medium", "low"],
        )?;
        one_of(
            "verified",
            &query.verified,
            &["verified", "pending", "rejected"],
        )?;
        one_of("kind", &query.kind, &KINDS)?;
        let area = query
            .area
            .as_deref()
            .map(regions::resolve)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        if let Some(s) = &query.status {
            if !schema::is_keyword(s) {
                return Err(bad(
                    "status must be a status such as open, met, withdrawn or expired",
                ));
            }
        }
        let today = julian(
            query
                .today
                .unwrap_or_else(|| time::OffsetDateTime::now_utc().date()),
        );

        let searcher = self.reader.searcher();
        let text = if query.q.trim().is_empty() {
            None
        } else {
            let mut parser = QueryParser::for_index(&self.index, f.searched().to_vec());
            parser.set_conjunction_by_default();
            parser.set_field_boost(f.title, 2.0);
            parser.set_field_boost(f.items, 2.0);
            // Below the author's own words: a document that says the word itself
            // comes before one that has it from the vocabulary.
            parser.set_field_boost(f.vocabulary, VOCABULARY_BOOST);
            let exact = parser
                .parse_query(&query.q)
                .map_err(|e| bad(format!("cannot parse q: {e}")))?;
            Some(self.rewritten(&parser, &query.q, exact)?)
        };

        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = vec![(
            Occur::Must,
            match &text {
                Some(t) => t.box_clone(),
                None => Box::new(AllQuery),
            },
        )];
        if let Some(k) = &query.kind {
            clauses.push(filter(term(f.kind, k)));
        }
        if let Some(c) = &query.category {
            clauses.push(filter(term(f.category, c)));
        }
        if let Some(a) = &area {
            clauses.push(filter(term(f.area_path, a)));
        }
        if let Some(u) = &query.urgency {
            clauses.push(filter(term(f.urgency, u)));
        }
        match &query.verified {
            Some(v) => clauses.push(filter(term(f.verification, v))),
            None => clauses.push((Occur::MustNot, term(f.verification, "rejected"))),
        }
        match query.status.as_deref() {
            None => {}
            Some("open") => {
                clauses.push(filter(term(f.status, "open")));
                clauses.push((Occur::MustNot, past_due(f, today)));
            }
            Some("expired") => clauses.push(filter(Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(f.status, "expired")),
                (Occur::Should, past_due(f, today)),
            ])))),
            Some(s) => clauses.push(filter(term(f.status, s))),
        }
        let full = BooleanQuery::new(clauses);

        let sort = query.sort;
        let top = TopDocs::with_limit(per_page as usize)
            .and_offset(((page - 1) * per_page) as usize)
            .tweak_score(move |seg: &SegmentReader| {
                let ff = seg.fast_fields();
                let urgency = u64_column(ff.column_opt::<u64>("urgency_key"), 0);
                let deadline = u64_column(ff.column_opt::<u64>("deadline_day"), u64::MAX);
                let created = ff
                    .column_opt::<i64>("created_ts")
                    .ok()
                    .flatten()
                    .map(|c| c.first_or_default_col(i64::MIN));
                // Only the columns the sort reads are read: every match is ranked.
                let urgency = move |doc| urgency.as_ref().map_or(0, |c| c.get_val(doc));
                let soon =
                    move |doc| u64::MAX - deadline.as_ref().map_or(u64::MAX, |c| c.get_val(doc));
                // i64 to u64 keeping the order.
                let recent = move |doc| {
                    created
                        .as_ref()
                        .map_or(0, |c| (c.get_val(doc) as u64) ^ (1 << 63))
                };
                move |doc: DocId, score: Score| match sort {
                    Sort::Relevance => (ordered(score), recent(doc), score),
                    Sort::Urgency => (urgency(doc), soon(doc), score),
                    Sort::Deadline => (soon(doc), urgency(doc), score),
                    Sort::Recent => (recent(doc), 0, score),
                }
            });
        let collector = Bounded {
            inner: (top, Count, FacetCollector { today }),
            budget,
        };
        // A collection stopped by the budget fails with a stand-in error: report why.
        let (top, total, (facets, facets_estimated)) = searcher
            .search(&full, &collector)
            .map_err(|e| budget.check().err().unwrap_or(SearchError::Index(e)))?;

        let snippets = match &text {
            None => None,
            Some(t) => {
                let mut items = SnippetGenerator::create(&searcher, t.as_ref(), f.items)?;
                items.set_max_num_chars(SNIPPET_BYTES);
                let mut description =
                    SnippetGenerator::create(&searcher, t.as_ref(), f.description)?;
                description.set_max_num_chars(SNIPPET_BYTES);
                Some((items, description))
            }
        };
        let mut hits = Vec::with_capacity(top.len());
        for ((_, _, score), address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc, score, today, snippets.as_ref())?);
        }
        Ok(SearchResults {
            hits,
            total: total as u64,
            page,
            per_page,
            facets,
            facets_estimated,
        })
    }

    /// `exact` (the parse of `q`), or, when `q` has CJK words (see
    /// [`words_as_bigrams`]) or words that may be typos, `q` parsed again with those
    /// words rewritten. A possible typo `w` is read as `(w OR (alternatives)^0.1)`:
    /// the alternatives are the words one edit away from `w` whose stems are in the
    /// index (see [`FUZZY_MIN_LETTERS`]). They match on their own, so `ventilatr`
    /// finds ventilators, but score far below the word as typed, so that documents
    /// with the word itself come first.
    fn rewritten(
        &self,
        parser: &QueryParser,
        q: &str,
        exact: Box<dyn TQuery>,
    ) -> Result<Box<dyn TQuery>, SearchError> {
        let Ok(ast) = query_grammar::parse_query(q) else {
            return Ok(exact);
        };
        let f = &self.fields;
        let mut typos = Typos {
            searcher: self.reader.searcher(),
            analyzer: crate::tokenizer::en_zh_analyzer(),
            fields: f.searched(),
            words: 0,
            expanded: false,
        };
        let ast = typos.rewrite(ast);
        let mut bigrams = false;
        let ast = words_as_bigrams(ast, &mut bigrams);
        if !typos.expanded && !bigrams {
            return Ok(exact);
        }
        parser
            .build_query_from_user_input_ast(ast)
            .map_err(|e| bad(format!("cannot parse q: {e}")))
    }

    fn hit(
        &self,
        doc: &TantivyDocument,
        score: Score,
        today: u64,
        snippets: Option<&(SnippetGenerator, SnippetGenerator)>,
    ) -> Result<SearchHit, SearchError> {
        let f = &self.fields;
        let text = |field: Field| -> Option<String> {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let u64_of = |field: Field| doc.get_first(field).and_then(|v| v.as_u64());
        let items: Vec<&str> = doc.get_all(f.items).filter_map(|v| v.as_str()).collect();
        let items = items.join("; ");
        let description = text(f.description).unwrap_or_default();

        let mut parts: Vec<String> = vec![];
        if let Some((gen_items, gen_description)) = snippets {
            for (generator, body) in [(gen_items, &items), (gen_description, &description)] {
                let s = generator.snippet(body);
                if !s.is_empty() {
                    parts.push(s.to_html());
                }
            }
        }
        let snippet = if parts.is_empty() {
            let body = if description.trim().is_empty() {
                &items
            } else {
                &description
            };
            escape(&truncate(body.trim(), SNIPPET_BYTES))
        } else {
            parts.join(" … ")
        };

        let deadline = text(f.deadline);
        let mut status = text(f.status).unwrap_or_default();
        let past_due = deadline
            .as_deref()
            .and_then(schema::parse_day)
            .is_some_and(|d| julian(d) < today);
        if status == "open" && past_due {
            status = "expired".into();
        }
        Ok(SearchHit {
            id: text(f.id).unwrap_or_default(),
            kind: named("kind", &text(f.kind).unwrap_or_default())?,
            title: text(f.title).unwrap_or_default(),
            score,
            snippet,
            status: named("status", &status)?,
            urgency: text(f.urgency).map(|u| named("urgency", &u)).transpose()?,
            verification: named("verification", &text(f.verification).unwrap_or_default())?,
            area_code: text(f.area_code).unwrap_or_default(),
            area_name: text(f.area_name).unwrap_or_default(),
            deadline,
            created_at: text(f.created_at).unwrap_or_default(),
            index: u64_of(f.log_index).unwrap_or_default(),
        })
    }
}

/// The contract's value whose name is `value`, as the follower wrote it.
fn named<T: serde::de::DeserializeOwned>(
    field: &'static str,
    value: &str,
) -> Result<T, SearchError> {
    contract::from_name(value).ok_or_else(|| SearchError::Unreadable {
        field,
        value: value.to_owned(),
    })
}

/// `ast` with each unquoted CJK word of three or more characters read as all of its
/// bigrams (`防护服` → `+防护 +护服`) instead of the phrase the parser makes of them;
/// sets `changed` when there was one.
///
/// A phrase must read the positions of both bigrams in every document that has them
/// both, which made one common Chinese word the slowest query at a million documents
/// (BENCHMARKS.md, (e)); the conjunction reads no positions. It also finds documents
/// where the two bigrams stand apart (`防护` … `护服`), which for words of aid
/// supplies is rare and ranks below documents with the word (each bigram scores as
/// often as it occurs); `"防护服"` in quotes stays an exact phrase.
fn words_as_bigrams(ast: UserInputAst, changed: &mut bool) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => UserInputAst::Clause(
            clauses
                .into_iter()
                .map(|(occur, sub)| (occur, words_as_bigrams(sub, changed)))
                .collect(),
        ),
        UserInputAst::Boost(sub, boost) => {
            UserInputAst::Boost(Box::new(words_as_bigrams(*sub, changed)), boost)
        }
        UserInputAst::Leaf(leaf) => match *leaf {
            UserInputLeaf::Literal(lit)
                if lit.delimiter == Delimiter::None
                    && !lit.prefix
                    && lit.phrase.chars().nth(2).is_some()
                    && lit.phrase.chars().all(crate::tokenizer::is_cjk) =>
            {
                *changed = true;
                let chars: Vec<char> = lit.phrase.chars().collect();
                let bigram = |pair: &[char]| {
                    let leaf = UserInputLeaf::Literal(UserInputLiteral {
                        field_name: lit.field_name.clone(),
                        phrase: pair.iter().collect(),
                        delimiter: Delimiter::None,
                        slop: 0,
                        prefix: false,
                    });
                    (Some(GOccur::Must), UserInputAst::Leaf(Box::new(leaf)))
                };
                UserInputAst::Clause(chars.windows(2).map(bigram).collect())
            }
            other => UserInputAst::Leaf(Box::new(other)),
        },
    }
}

/// Typo tolerance: an unquoted word of the free text, without a field, made of at
/// least this many ASCII letters (not codes such as `N95` or `FFP2`, not CJK) also
/// matches the words at Damerau-Levenshtein distance 1 from it.
const FUZZY_MIN_LETTERS: usize = 5;
/// Weight of the alternatives of a word relative to the word as typed.
const FUZZY_BOOST: f64 = 0.1;
/// Longest word that gets alternatives, in letters: each letter adds 54 candidate
/// words to stem and look up, and no word of the aid vocabulary is this long.
const FUZZY_MAX_LETTERS: usize = 16;
/// Words of one query that get alternatives, at most.
const FUZZY_MAX_WORDS: usize = 8;
/// Alternatives of one word, at most (the most frequent in the index are kept).
const FUZZY_MAX_ALTERNATIVES: usize = 8;

/// Adds the alternatives of possibly misspelt words to a parsed query.
///
/// The index holds stems (`ventilator` → `ventil`), so an edit distance between the
/// typed word and indexed terms means little (`ventilatr` is three edits from
/// `ventil`). Instead every word one edit away from the typed one (a letter deleted,
/// inserted, replaced, or two neighbours swapped) is stemmed, and those whose stems
/// are in the index become alternatives (`ventilatr` → `ventilator` → `ventil`).
struct Typos {
    searcher: Searcher,
    analyzer: TextAnalyzer,
    fields: [Field; 5],
    words: usize,
    expanded: bool,
}

impl Typos {
    fn rewrite(&mut self, ast: UserInputAst) -> UserInputAst {
        match ast {
            UserInputAst::Clause(clauses) => UserInputAst::Clause(
                clauses
                    .into_iter()
                    .map(|(occur, sub)| (occur, self.rewrite(sub)))
                    .collect(),
            ),
            UserInputAst::Boost(sub, boost) => {
                UserInputAst::Boost(Box::new(self.rewrite(*sub)), boost)
            }
            UserInputAst::Leaf(leaf) => {
                let alternatives = match leaf.as_ref() {
                    UserInputLeaf::Literal(lit)
                        if lit.field_name.is_none()
                            && lit.delimiter == Delimiter::None
                            && !lit.prefix
                            && (FUZZY_MIN_LETTERS..=FUZZY_MAX_LETTERS)
                                .contains(&lit.phrase.len())
                            && lit.phrase.bytes().all(|b| b.is_ascii_alphabetic())
                            && self.words < FUZZY_MAX_WORDS =>
                    {
                        self.words += 1;
                        self.alternatives(&lit.phrase.to_ascii_lowercase())
                    }
                    _ => vec![],
                };
                if alternatives.is_empty() {
                    return UserInputAst::Leaf(leaf);
                }
                self.expanded = true;
                let literal = |phrase: String| {
                    let leaf = UserInputLeaf::Literal(UserInputLiteral {
                        field_name: None,
                        phrase,
                        delimiter: Delimiter::None,
                        slop: 0,
                        prefix: false,
                    });
                    (Some(GOccur::Should), UserInputAst::Leaf(Box::new(leaf)))
                };
                let alternatives =
                    UserInputAst::Clause(alternatives.into_iter().map(literal).collect());
                UserInputAst::Clause(vec![
                    (Some(GOccur::Should), UserInputAst::Leaf(leaf)),
                    (
                        Some(GOccur::Should),
                        UserInputAst::Boost(Box::new(alternatives), FUZZY_BOOST),
                    ),
                ])
            }
        }
    }

    /// The single stem of `word`, if it is one token.
    fn stem(&mut self, word: &str) -> Option<String> {
        let mut stream = self.analyzer.token_stream(word);
        let first = stream.next()?.text.clone();
        if stream.next().is_some() {
            return None;
        }
        Some(first)
    }

    /// Words one edit away from `word` (lowercase ASCII letters) whose stems are in
    /// the index and differ from the stem of `word`, one per stem, most frequent
    /// first.
    fn alternatives(&mut self, word: &str) -> Vec<String> {
        let Some(own) = self.stem(word) else {
            return vec![];
        };
        // A word of the curated vocabulary is no typo: `medicine` must not also find
        // `medical`, above the medicines that have it from the vocabulary.
        if crate::vocabulary::is_known(&own) {
            return vec![];
        }
        let mut seen = HashSet::from([own]);
        let mut found: Vec<(u64, String)> = vec![];
        for candidate in edits(word) {
            let Some(stem) = self.stem(&candidate) else {
                continue;
            };
            if !seen.insert(stem.clone()) {
                continue;
            }
            let freq: u64 = self
                .fields
                .iter()
                .map(|&field| {
                    self.searcher
                        .doc_freq(&Term::from_field_text(field, &stem))
                        .unwrap_or(0)
                })
                .sum();
            if freq > 0 {
                found.push((freq, candidate));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        found.truncate(FUZZY_MAX_ALTERNATIVES);
        found.into_iter().map(|(_, w)| w).collect()
    }
}

/// Every string one deletion, transposition, substitution or insertion of a
/// lowercase ASCII letter away from `word` (lowercase ASCII letters).
fn edits(word: &str) -> Vec<String> {
    let w = word.as_bytes();
    let n = w.len();
    let text = |v: Vec<u8>| String::from_utf8(v).expect("ASCII letters");
    let mut out = Vec::with_capacity(54 * n + 26);
    for i in 0..n {
        let mut v = w.to_vec();
        v.remove(i);
        out.push(text(v));
        if i + 1 < n && w[i] != w[i + 1] {
            let mut v = w.to_vec();
            v.swap(i, i + 1);
            out.push(text(v));
        }
        for c in b'a'..=b'z' {
            if c != w[i] {
                let mut v = w.to_vec();
                v[i] = c;
                out.push(text(v));
            }
        }
    }
    for i in 0..=n {
        for c in b'a'..=b'z' {
            let mut v = w.to_vec();
            v.insert(i, c);
            out.push(text(v));
        }
    }
    out
}

/// Maps a score to a `u64` in the same order (negative scores included: a query
/// may carry negative boosts).
fn ordered(score: Score) -> u64 {
    let bits = score.to_bits();
    u64::from(if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    })
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` bytes of `s`, cut at a character boundary, with `…` if cut.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_scores_keep_their_order() {
        let scores = [f32::MIN, -2.5, -1.0, -0.0, 0.0, 1e-6, 1.0, 2.5, f32::MAX];
        for pair in scores.windows(2) {
            assert!(ordered(pair[0]) <= ordered(pair[1]), "{pair:?}");
        }
        assert!(ordered(-1.0) < ordered(0.0));
    }

    #[test]
    fn escape_and_truncate() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "abc…");
        // 口 is three bytes: never cut inside it.
        assert_eq!(truncate("a口罩", 2), "a…");
        assert_eq!(truncate("a口罩", 4), "a口…");
    }
}
