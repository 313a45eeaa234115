//! Facet counts of a search: per facet field, how many matching documents have each
//! value.
//!
//! Counting reads six columns for every match, which is most of the time a broad query
//! takes (a quarter of a 1M-document index matches `hospital`). So each segment counts
//! its first [`EXACT_PER_SEGMENT`] matches exactly and, beyond them, every
//! [`SAMPLE`]-th match, scaled to all the matches it stands for; the answer
//! then says its counts are estimated. The total of matches is always exact (another
//! collector counts it).

use crate::schema::{u64_column, FACET_FIELDS};
use contract::{FacetCount, Facets, PlaceNames};
use std::collections::HashMap;
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{ColumnBlockAccessor, ColumnValues, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Matches of one segment counted exactly before sampling starts.
pub const EXACT_PER_SEGMENT: u64 = 4096;

/// Beyond [`EXACT_PER_SEGMENT`], one match in `SAMPLE` is counted.
pub const SAMPLE: u64 = 8;

/// Documents whose columns are read together: a block read costs a fraction of
/// reading the same values document by document.
const BLOCK: usize = 256;

/// Index of `status` in [`FACET_FIELDS`]: an open document past its deadline counts as
/// `expired`.
const STATUS: usize = 3;

/// Counts the facet values of the matching documents, reading status at `today`
/// (a day number). Its fruit is the counts and whether they are estimated.
pub struct FacetCollector {
    pub today: u64,
}

impl Collector for FacetCollector {
    type Fruit = (Facets, bool);
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let ff = segment.fast_fields();
        let columns = FACET_FIELDS
            .iter()
            .map(|name| ff.str(name))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let zeros = || -> Vec<Vec<u64>> {
            columns
                .iter()
                .map(|c| vec![0; c.as_ref().map_or(0, |c| c.num_terms())])
                .collect()
        };
        let open_ord = match &columns[STATUS] {
            Some(c) => c.dictionary().term_ord("open")?,
            None => None,
        };
        Ok(FacetSegment {
            exact: Tally::new(zeros()),
            sampled: Tally::new(zeros()),
            columns,
            open_ord,
            deadline: u64_column(ff.column_opt::<u64>("deadline_day"), u64::MAX),
            today: self.today,
            matches: 0,
            pending: Vec::with_capacity(BLOCK),
            block: ColumnBlockAccessor::default(),
            open: vec![],
            deadlines: vec![],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentFacets>) -> tantivy::Result<(Facets, bool)> {
        let mut merged: Vec<HashMap<String, u64>> = vec![HashMap::new(); FACET_FIELDS.len()];
        let mut estimated = false;
        for segment in segments {
            estimated |= segment.estimated;
            for (into, from) in merged.iter_mut().zip(segment.values) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
        }
        let mut lists = merged.into_iter().map(|m| {
            let mut list: Vec<FacetCount> = m
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .map(|(value, count)| FacetCount {
                    value,
                    count,
                    names: None,
                })
                .collect();
            list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            list
        });
        let mut next = || lists.next().unwrap_or_default();
        let facets = Facets {
            category: next(),
            country: named_places(next()),
            area: named_places(next()),
            status: next(),
            urgency: next(),
            verification: next(),
        };
        Ok((facets, estimated))
    }
}

/// Region codes with their names in English and Chinese, where ISO 3166 has them.
fn named_places(mut counts: Vec<FacetCount>) -> Vec<FacetCount> {
    for c in &mut counts {
        c.names = regions::names(&c.value).map(|n| PlaceNames {
            en: n.en.to_owned(),
            zh: n.zh.to_owned(),
        });
    }
    counts
}

/// One segment's counts: per facet field, (value, count).
pub struct SegmentFacets {
    values: Vec<Vec<(String, u64)>>,
    estimated: bool,
}

/// Counts by term ordinal, per facet field, and the open documents that were past
/// their deadline.
struct Tally {
    counts: Vec<Vec<u64>>,
    past_due: u64,
}

impl Tally {
    fn new(counts: Vec<Vec<u64>>) -> Self {
        Tally {
            counts,
            past_due: 0,
        }
    }
}

pub struct FacetSegment {
    columns: Vec<Option<StrColumn>>,
    /// The first [`EXACT_PER_SEGMENT`] matches.
    exact: Tally,
    /// One in [`SAMPLE`] of the matches after them.
    sampled: Tally,
    /// Term ordinal of `open` in this segment's status column.
    open_ord: Option<u64>,
    deadline: Option<Arc<dyn ColumnValues<u64>>>,
    today: u64,
    /// Matches seen, counted or not.
    matches: u64,
    /// Matches to count, not yet counted (all in `exact` or all in `sampled`).
    pending: Vec<DocId>,
    block: ColumnBlockAccessor<u64>,
    /// The open documents of a block, and their deadlines.
    open: Vec<DocId>,
    deadlines: Vec<u64>,
}

impl FacetSegment {
    fn sampling(&self) -> bool {
        self.matches > EXACT_PER_SEGMENT
    }

    /// Counts the pending documents (in increasing order, as collected).
    fn count_pending(&mut self) {
        let docs = &self.pending;
        if docs.is_empty() {
            return;
        }
        let tally = if self.sampling() {
            &mut self.sampled
        } else {
            &mut self.exact
        };
        for (i, column) in self.columns.iter().enumerate() {
            let Some(column) = column else { continue };
            let ords = column.ords();
            self.block.fetch_block(docs, ords);
            let counts = &mut tally.counts[i];
            match self.open_ord.filter(|_| i == STATUS) {
                Some(open_ord) => {
                    self.open.clear();
                    for (doc, ord) in self.block.iter_docid_vals(docs, ords) {
                        if ord == open_ord {
                            self.open.push(doc);
                        } else if let Some(count) = counts.get_mut(ord as usize) {
                            *count += 1;
                        }
                    }
                    self.deadlines.clear();
                    self.deadlines.resize(self.open.len(), u64::MAX);
                    if let Some(deadline) = &self.deadline {
                        deadline.get_vals(&self.open, &mut self.deadlines);
                    }
                    let due = self.deadlines.iter().filter(|&&d| d < self.today).count() as u64;
                    tally.past_due += due;
                    if let Some(count) = counts.get_mut(open_ord as usize) {
                        *count += self.open.len() as u64 - due;
                    }
                }
                None => {
                    for ord in self.block.iter_vals() {
                        if let Some(count) = counts.get_mut(ord as usize) {
                            *count += 1;
                        }
                    }
                }
            }
        }
        self.pending.clear();
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = SegmentFacets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.matches == EXACT_PER_SEGMENT {
            // The exact part ends here: count it apart from the sample.
            self.count_pending();
        }
        self.matches += 1;
        if self.sampling() {
            // Every SAMPLE-th match, counted from the first beyond the exact part: the
            // sample is never empty, whatever document numbers the matches have.
            if (self.matches - EXACT_PER_SEGMENT - 1) % SAMPLE != 0 {
                return;
            }
        }
        self.pending.push(doc);
        if self.pending.len() == BLOCK {
            self.count_pending();
        }
    }

    fn harvest(mut self) -> SegmentFacets {
        self.count_pending();
        let beyond = self.matches.saturating_sub(EXACT_PER_SEGMENT);
        // The sample (the first match beyond the exact part and every SAMPLE-th after
        // it) stands for all of them: each value it counted counts `beyond / sample`
        // times.
        let sample = beyond.div_ceil(SAMPLE).max(1);
        let scale = |n: u64| (n * beyond + sample / 2) / sample;
        let mut values = vec![];
        for (i, column) in self.columns.iter().enumerate() {
            let mut list = vec![];
            if let Some(column) = column {
                let mut buf = String::new();
                let exact = &self.exact.counts[i];
                let sampled = &self.sampled.counts[i];
                for (ord, (e, s)) in exact.iter().zip(sampled).enumerate() {
                    let count = e + scale(*s);
                    if count > 0 && matches!(column.ord_to_str(ord as u64, &mut buf), Ok(true)) {
                        list.push((buf.clone(), count));
                    }
                }
            }
            if i == STATUS {
                let past_due = self.exact.past_due + scale(self.sampled.past_due);
                if past_due > 0 {
                    list.push(("expired".to_owned(), past_due));
                }
            }
            values.push(list);
        }
        SegmentFacets {
            values,
            estimated: beyond > 0,
        }
    }
}
