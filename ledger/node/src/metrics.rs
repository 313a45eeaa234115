//! What the integrator measures of its batches: histograms a server registers and
//! renders. This crate only records into them; it never exposes them itself.

use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Measurements of one node's integrator, shared by its `Sequencer` handles (a clone
/// records into the same histograms).
#[derive(Clone, Debug)]
pub struct BatchMetrics {
    /// Submissions taken into each batch (duplicates and refusals included).
    pub submissions: Histogram,
    /// Seconds from opening a batch's transaction to its commit.
    pub commit_seconds: Histogram,
}

impl Default for BatchMetrics {
    fn default() -> Self {
        BatchMetrics {
            // 1, 2, 4 … 1024: `MAX_BATCH` is the last bucket.
            submissions: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            // 1 ms … about 16 s.
            commit_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
        }
    }
}

impl BatchMetrics {
    /// Adds the histograms to `registry` (prefixed by the caller's registry).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "sequencer_batch_submissions",
            "Submissions taken into each batch of the integrator",
            self.submissions.clone(),
        );
        registry.register(
            "sequencer_commit_seconds",
            "Seconds from opening a batch's transaction to its commit",
            self.commit_seconds.clone(),
        );
    }
}
