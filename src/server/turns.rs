//! Turns for the costly reads: a few run at once and the rest wait for a turn, so that
//! a flood of them cannot take every core (searches) or every connection of the
//! database's pool (totals) from the sequencer and the other pages. A wait longer than
//! a turn's bound is answered 503 with `Retry-After`, the load being others'.

use super::error::ApiError;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

pub(crate) struct Turns {
    slots: Semaphore,
    wait: Duration,
    what: &'static str,
}

impl Turns {
    /// `slots` reads of this kind at once, each waiting at most `wait` for its turn;
    /// `what` names them in the refusal ("too many {what} at once").
    pub fn new(slots: usize, wait: Duration, what: &'static str) -> Self {
        Turns {
            slots: Semaphore::new(slots),
            wait,
            what,
        }
    }

    /// Waits for a turn, held until the permit is dropped. A refused client is told
    /// to come back after as long as it waited: the reads ahead of it take about that.
    pub async fn take(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        tokio::time::timeout(self.wait, self.slots.acquire())
            .await
            .map_err(|_| ApiError::Busy(self.what, self.wait.as_secs().max(1)))?
            .map_err(|_| ApiError::Internal("a queue of turns is closed"))
    }
}

/// `times` turns a core (`times` when the number of cores is unknown).
pub(crate) fn per_core(times: usize) -> usize {
    std::thread::available_parallelism().map_or(times, |n| n.get() * times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_past_its_turns_waits_then_is_refused_as_busy() {
        let turns = Turns::new(1, Duration::from_millis(20), "totals");
        let held = turns.take().await.expect("a free turn");
        // The outer bound only keeps a broken `take` from hanging the suite.
        let refused = tokio::time::timeout(Duration::from_secs(5), turns.take())
            .await
            .expect("the wait for a turn is bounded");
        assert!(matches!(refused, Err(ApiError::Busy("totals", 1))));
        drop(held);
        assert!(turns.take().await.is_ok());
    }
}
