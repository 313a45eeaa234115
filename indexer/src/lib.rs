//! The tantivy search index derived from the log (DESIGN.md §7).
//!
//! The index holds the public fields of needs, offers and organisations, as
//! [`SearchDoc`]s that the caller fills from the workflow tables. It is a derived view:
//! every commit records in its payload the last log index it covers
//! ([`SearchIndex::covered_through`]), so after a restart the caller feeds it the
//! documents changed by the entries after that index ([`SearchIndex::apply`]); a crash
//! before or during a commit leaves the previous commit, and its payload, in force.
//! The whole index can be rebuilt from the log ([`SearchIndex::rebuild`] or
//! [`SearchIndex::clear`] then `apply`), and an index written with another
//! [`FORMAT_VERSION`] or schema is wiped on open so that the caller rebuilds it.
//!
//! Text is analysed by the `en_zh` analyzer ([`tokenizer`]): English with stemming,
//! Chinese by character bigrams, and mixed text. [`SearchIndex::search`] takes a
//! [`Query`] (free text, filters, sort, page) and returns hits with highlighted
//! snippets, the total and facet counts ([`SearchResults`], the API contract's answer).

mod facets;
pub mod limits;
mod schema;
mod search;
pub mod tokenizer;
pub mod vocabulary;

pub use contract::{FacetCount, Facets, SearchHit, SearchResults};
pub use limits::{Budget, CancelOnDrop, SEARCH_DEADLINE};
pub use schema::{FORMAT_VERSION, KINDS};
pub use search::{Query, SearchError, Sort, MAX_PER_PAGE};

use schema::Fields;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use tantivy::directory::MmapDirectory;
use tantivy::query::AllQuery;
use tantivy::schema::Term;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyError};

/// One searchable need, offer or organisation: plain data filled by the caller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchDoc {
    /// Leaf hash of the entry that created it: 64 lowercase hex digits.
    pub id: String,
    /// `need`, `offer` or `org`.
    pub kind: String,
    /// Organisation name for needs and organisations; for offers whatever the caller
    /// shows as their title (may be empty).
    pub title: String,
    pub items: Vec<SearchItem>,
    pub description: String,
    /// Region code such as `CN-HB`; filters on `CN` match it too.
    pub area_code: String,
    pub area_name: String,
    /// Stored status (`open`, `met`, `withdrawn`, `expired`, …). An `open` document
    /// whose deadline is past reads as `expired` (as in the workflow queries).
    pub status: String,
    /// `critical`, `high`, `medium` or `low`.
    pub urgency: Option<String>,
    /// `verified`, `pending` or `rejected`.
    pub verification: String,
    /// RFC 3339.
    pub created_at: String,
    /// `YYYY-MM-DD`: needed by (needs) or available until (offers).
    pub deadline: Option<String>,
    /// Log index of the entry that created it.
    pub index: u64,
}

/// One item line of a need or offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchItem {
    pub item: String,
    /// Category name (`respirator`, `surgical_mask`, …).
    pub category: String,
    pub spec: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("search document {id}: {reason}")]
    BadDoc { id: String, reason: String },
    #[error("search index covers the log through {covered}, cannot go back to {requested} (clear or rebuild instead)")]
    Regression { covered: u64, requested: u64 },
    #[error("search index: unreadable commit payload {0:?}")]
    Payload(String),
}

/// What a commit's payload records.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Payload {
    format: u32,
    covered_through: u64,
}

impl Payload {
    fn parse(s: &str) -> Result<Payload, IndexError> {
        serde_json::from_str(s).map_err(|_| IndexError::Payload(s.to_owned()))
    }
}

/// Memory for the writer's single indexing thread (tantivy's minimum is 15 MB).
const WRITER_MEMORY: usize = 32_000_000;

/// The search index; share it behind an `Arc`: searches run concurrently, writes are
/// serialised.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// Opened on the first write, so that an index that is only searched takes no
    /// writer lock.
    writer: Mutex<Option<IndexWriter>>,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (and `dir`) if needed. An index written
    /// with another schema or [`FORMAT_VERSION`] is wiped (its files, not the rest of
    /// `dir`): [`covered_through`] is then `None` and the caller rebuilds.
    ///
    /// [`covered_through`]: SearchIndex::covered_through
    pub fn open_or_create(dir: impl AsRef<Path>) -> Result<SearchIndex, IndexError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema::build();
        let directory = MmapDirectory::open(dir).map_err(TantivyError::from)?;
        let index = if Index::exists(&directory).map_err(TantivyError::from)? {
            let index = Index::open(directory)?;
            if compatible(&index, &schema)? {
                index
            } else {
                drop(index);
                wipe(dir)?;
                let directory = MmapDirectory::open(dir).map_err(TantivyError::from)?;
                Index::create(directory, schema, Default::default())?
            }
        } else {
            Index::create(directory, schema, Default::default())?
        };
        Self::with_index(index, fields)
    }

    /// A fresh index in memory (tests, tools).
    pub fn in_memory() -> Result<SearchIndex, IndexError> {
        let (schema, fields) = schema::build();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(mut index: Index, fields: Fields) -> Result<SearchIndex, IndexError> {
        // A search walks the index's segments one at a time unless given threads; with
        // one per core, a broad query's segments are collected side by side, which is
        // what its latency is made of at a million documents (BENCHMARKS.md, (e)).
        index.set_multithread_executor(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        )?;
        index
            .tokenizers()
            .register(tokenizer::EN_ZH, tokenizer::en_zh_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            writer: Mutex::new(None),
        })
    }

    /// The last log index covered by the last commit, or `None` for an empty, cleared
    /// or wiped index (which must be built from the start of the log).
    pub fn covered_through(&self) -> Result<Option<u64>, IndexError> {
        match self.index.load_metas()?.payload {
            None => Ok(None),
            Some(p) => Ok(Some(Payload::parse(&p)?.covered_through)),
        }
    }

    /// Number of documents searchable now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Deletes the ids in `deletes`, then upserts `docs` (a document replaces any with
    /// the same id, and the last of several with one id wins), and commits with
    /// `covered_through` as the last log index covered, all or nothing. Every
    /// document is checked before anything is written. `covered_through` may not be
    /// less than the index already covers.
    pub fn apply(
        &self,
        docs: &[SearchDoc],
        deletes: &[String],
        covered_through: u64,
    ) -> Result<(), IndexError> {
        self.write(false, docs, deletes, Some(covered_through))
    }

    /// Replaces the whole content with `docs` in one commit covering the log through
    /// `covered_through`: searches see the old content until the new one is complete.
    pub fn rebuild(&self, docs: &[SearchDoc], covered_through: u64) -> Result<(), IndexError> {
        self.write(true, docs, &[], Some(covered_through))
    }

    /// Deletes every document and commits with no payload, so that
    /// [`covered_through`](SearchIndex::covered_through) is `None` until the caller,
    /// rebuilding from the start of the log, applies its first batch.
    pub fn clear(&self) -> Result<(), IndexError> {
        self.write(true, &[], &[], None)
    }

    fn write(
        &self,
        clear: bool,
        docs: &[SearchDoc],
        deletes: &[String],
        covered_through: Option<u64>,
    ) -> Result<(), IndexError> {
        let f = &self.fields;
        let mut analyzer = tokenizer::en_zh_analyzer();
        let prepared = docs
            .iter()
            .map(|d| schema::to_document(f, &mut analyzer, d).map(|doc| (d.id.as_str(), doc)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(bad) = deletes.iter().find(|id| !schema::is_id(id)) {
            return Err(IndexError::BadDoc {
                id: bad.clone(),
                reason: "id to delete must be 64 lowercase hex digits".into(),
            });
        }
        let payload = covered_through.map(|c| {
            serde_json::to_string(&Payload {
                format: FORMAT_VERSION,
                covered_through: c,
            })
            .expect("payload serialises")
        });

        let mut guard = self.writer()?;
        // Checked under the writer lock, so that concurrent writes cannot interleave.
        if let (false, Some(requested), Some(covered)) =
            (clear, covered_through, self.covered_through()?)
        {
            if requested < covered {
                return Err(IndexError::Regression { covered, requested });
            }
            if requested == covered && docs.is_empty() && deletes.is_empty() {
                return Ok(());
            }
        }
        let writer = guard.as_mut().expect("writer opened by writer()");
        let result = (|| -> Result<(), IndexError> {
            if clear {
                writer.delete_query(Box::new(AllQuery))?;
            }
            for id in deletes {
                writer.delete_term(Term::from_field_text(f.id, id));
            }
            for (id, doc) in prepared {
                writer.delete_term(Term::from_field_text(f.id, id));
                writer.add_document(doc)?;
            }
            let mut commit = writer.prepare_commit()?;
            if let Some(p) = &payload {
                commit.set_payload(p);
            }
            commit.commit()?;
            Ok(())
        })();
        if let Err(e) = result {
            // Leave nothing of this batch behind for the next commit; a writer that
            // cannot even roll back is reopened next time.
            if writer.rollback().is_err() {
                *guard = None;
            }
            return Err(e);
        }
        drop(guard);
        self.reader.reload()?;
        Ok(())
    }

    fn writer(&self) -> Result<MutexGuard<'_, Option<IndexWriter>>, IndexError> {
        // A panic while holding the lock leaves at worst uncommitted operations,
        // which the next write would commit: roll them back.
        let mut guard = match self.writer.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                if let Some(w) = g.as_mut() {
                    if w.rollback().is_err() {
                        *g = None;
                    }
                }
                self.writer.clear_poison();
                g
            }
        };
        if guard.is_none() {
            *guard = Some(self.index.writer_with_num_threads(1, WRITER_MEMORY)?);
        }
        Ok(guard)
    }
}

/// Removes the files of a tantivy index from `dir`, and nothing else.
fn wipe(dir: &Path) -> Result<(), IndexError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Segment files are named by a 32-hex-digit segment id and a component
        // extension (`….idx`, `….store`, `….42.del`).
        let segment = name.len() > 33
            && name.as_bytes()[32] == b'.'
            && name[..32].bytes().all(|b| b.is_ascii_hexdigit());
        let tantivy = matches!(name.as_ref(), "meta.json" | ".managed.json")
            || name.starts_with(".tantivy-")
            || segment;
        if tantivy && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Whether an existing index can be used as it is: same schema, and its last
/// commit (if it has a payload) was written with this [`FORMAT_VERSION`].
fn compatible(index: &Index, schema: &tantivy::schema::Schema) -> Result<bool, IndexError> {
    if index.schema() != *schema {
        return Ok(false);
    }
    Ok(match index.load_metas()?.payload {
        None => true,
        Some(p) => matches!(Payload::parse(&p), Ok(p) if p.format == FORMAT_VERSION),
    })
}

#[cfg(test)]
mod tests;
