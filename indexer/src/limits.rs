//! Bounds on the work of one search, so that no request can hold a core.
//!
//! - The free text is checked by [`check_q`], one linear scan, before tantivy parses it:
//!   tantivy's query grammar backtracks, and its parse time doubles with each level of
//!   nested parentheses (depth 20 took 1.5 s, depth 100 never finished), so nothing of
//!   an unchecked `q` may reach it. Each limit is far above what a person types in a
//!   search box, and each refusal names its limit.
//! - Typo alternatives are bounded where they are made, by `FUZZY_MAX_WORDS`,
//!   `FUZZY_MAX_LETTERS` and `FUZZY_MAX_ALTERNATIVES` in `search.rs`: further words
//!   simply get none, rather than the query being refused.
//! - Collection runs under a [`Budget`]: a deadline and a cancellation flag, checked
//!   before each segment and every [`CHECK_EVERY`] matching documents (see
//!   [`Bounded`]).

use crate::search::SearchError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocSet, SegmentOrdinal, SegmentReader, TantivyError, TERMINATED};

/// Longest free-text query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Deepest nesting of parentheses (a `field:(…)` group counts as one level). Every
/// `(` counts, also inside quotes or after a backslash, and one left open counts as
/// one level until the end.
pub const MAX_DEPTH: usize = 4;
/// Most terms: the tokens that the `en_zh` analyzer makes of the whole query, so every
/// word, number or code (`N95`), every pair of neighbouring Chinese characters, and
/// also field names, the numbers of boosts and slops, and the operators `AND`, `OR`,
/// `NOT`.
pub const MAX_TERMS: usize = 32;
/// Most `*`: alone it matches everything, after a phrase (`"nitrile glo"*`) it expands
/// the last word to at most 50 words of the index (tantivy's default).
pub const MAX_WILDCARDS: usize = 2;
/// Largest phrase slop (`"masks gloves"~3`).
pub const MAX_SLOP: u64 = 8;
/// How long one search may run before it is stopped (see [`Budget`]). On a
/// 1M-document index one-word queries take 2–5 % of it, and the costliest query that
/// could be built within the limits above about 90 % (BENCHMARKS.md (e)): what comes
/// near it was built to be costly.
pub const SEARCH_DEADLINE: Duration = Duration::from_secs(1);
/// Matching documents collected between two checks of the budget: reading the clock
/// costs tens of nanoseconds, a document's collection about as much.
const CHECK_EVERY: u32 = 1024;

fn bad(msg: String) -> SearchError {
    SearchError::BadQuery(msg)
}

/// Refuses a free-text query that exceeds one of the limits above, before anything
/// parses it. Linear in the length of `q`.
pub(crate) fn check_q(q: &str) -> Result<(), SearchError> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(format!("q: at most {MAX_QUERY_CHARS} characters")));
    }
    let (mut depth, mut wildcards) = (0usize, 0usize);
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(bad(format!("q: at most {MAX_DEPTH} levels of parentheses")));
                }
            }
            ')' => depth = depth.saturating_sub(1),
            '*' => {
                wildcards += 1;
                if wildcards > MAX_WILDCARDS {
                    return Err(bad(format!("q: at most {MAX_WILDCARDS} wildcards (*)")));
                }
            }
            // A range on a text field walks the index's whole term dictionary between
            // its bounds (`>a` is nearly every word), and sets are ranges' siblings;
            // neither means anything in a search for aid.
            '[' | ']' | '{' | '}' | '<' | '>' => {
                return Err(bad(
                    "q: ranges and sets ([ ] { } < >) are not supported".to_owned()
                ))
            }
            '~' => {
                let mut slop: u64 = 0;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    // Saturates: any number past the limit is refused alike.
                    slop = (slop * 10 + u64::from(d)).min(MAX_SLOP + 1);
                    chars.next();
                }
                if slop > MAX_SLOP {
                    return Err(bad(format!(
                        "q: phrase slop at most {MAX_SLOP} (~{MAX_SLOP})"
                    )));
                }
            }
            _ => {}
        }
    }
    let mut analyzer = crate::tokenizer::en_zh_analyzer();
    let mut stream = analyzer.token_stream(q);
    let mut terms = 0;
    while stream.advance() {
        terms += 1;
        if terms > MAX_TERMS {
            return Err(bad(format!("q: at most {MAX_TERMS} terms")));
        }
    }
    Ok(())
}

/// When a search must stop: at a deadline, or when whoever waits for it goes away
/// ([`Budget::cancel`], [`Budget::cancel_on_drop`]). Clones share the cancellation.
#[derive(Clone, Debug)]
pub struct Budget {
    deadline: Instant,
    limit: Duration,
    cancelled: Arc<AtomicBool>,
}

impl Default for Budget {
    /// [`SEARCH_DEADLINE`] from now.
    fn default() -> Budget {
        Budget::new(SEARCH_DEADLINE)
    }
}

impl Budget {
    /// `limit` from now.
    pub fn new(limit: Duration) -> Budget {
        Budget {
            deadline: Instant::now() + limit,
            limit,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Makes the search stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// A guard that cancels the search when dropped: hold it in the future that waits
    /// for the search, so that a client going away (its future dropped) stops the work.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }

    /// [`SearchError::Cancelled`] or [`SearchError::TimedOut`] once the search must
    /// stop.
    pub(crate) fn check(&self) -> Result<(), SearchError> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(SearchError::Cancelled);
        }
        if Instant::now() >= self.deadline {
            return Err(SearchError::TimedOut(self.limit));
        }
        Ok(())
    }
}

/// Cancels its [`Budget`] when dropped (also after the search finished, harmlessly).
#[must_use = "the search is cancelled when this guard is dropped"]
pub struct CancelOnDrop(Budget);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs the collector `inner` under `budget`: the budget is checked before each
/// segment and every [`CHECK_EVERY`] matching documents, and collection stops with an
/// error as soon as it has run out (the caller then reads the reason from the budget).
///
/// It drives the query's scorer itself, as tantivy's own `collect_segment` does, but in
/// a loop it can leave. What it bounds: the walk over matching documents and their
/// collection (scores, top-k, total, facets), which is what grows with the index. What
/// it does not: work between two matches inside the scorer (an intersection of long
/// posting lists that rarely meet), the building of the query's weights, snippets and
/// stored documents of the (at most `MAX_PER_PAGE`) hits; these are bounded by the
/// limits on `q` and on paging instead.
pub(crate) struct Bounded<'a, C> {
    pub inner: C,
    pub budget: &'a Budget,
}

/// The error that ends a collection whose budget ran out; never shown (the budget
/// says why).
fn stopped() -> TantivyError {
    TantivyError::InternalError("search stopped by its budget".to_owned())
}

impl<C: Collector> Collector for Bounded<'_, C> {
    type Fruit = C::Fruit;
    type Child = C::Child;

    fn for_segment(
        &self,
        segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<C::Child> {
        self.inner.for_segment(segment_local_id, segment)
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        segment_fruits: Vec<<C::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<C::Fruit> {
        self.inner.merge_fruits(segment_fruits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
        self.budget.check().map_err(|_| stopped())?;
        let mut collector = self.for_segment(segment_ord, reader)?;
        let scoring = self.requires_scoring();
        let alive = reader.alive_bitset();
        let mut scorer = weight.scorer(reader, 1.0)?;
        let mut until_check = CHECK_EVERY;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                let score = if scoring { scorer.score() } else { 0.0 };
                collector.collect(doc, score);
            }
            until_check -= 1;
            if until_check == 0 {
                self.budget.check().map_err(|_| stopped())?;
                until_check = CHECK_EVERY;
            }
            doc = scorer.advance();
        }
        Ok(collector.harvest())
    }
}
