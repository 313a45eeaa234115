//! The tantivy search index derived from the log (DESIGN.md §7). Arrives with the search issue.
