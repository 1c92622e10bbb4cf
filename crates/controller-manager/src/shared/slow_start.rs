//! Slow-start batches (`slowStartBatch`): run `count` calls in batches of 1, 2, 4, … in
//! parallel, stopping after the first batch that has an error, so a failing create (quota, a
//! terminating namespace) costs one call rather than hundreds.

use std::future::Future;

/// Upstream's `SlowStartInitialBatchSize`.
pub const INITIAL_BATCH: usize = 1;

/// Returns how many calls succeeded and the first error, if any.
pub async fn slow_start_batch<F, Fut, E>(count: usize, initial: usize, f: F) -> (usize, Option<E>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut remaining = count;
    let mut successes = 0;
    let mut batch = initial.max(1).min(count);
    while batch > 0 {
        let results = futures::future::join_all((0..batch).map(|_| f())).await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(()) => successes += 1,
                Err(e) => {
                    if first_err.is_none() {
                        first_err = Some(e);
                    }
                }
            }
        }
        if first_err.is_some() {
            return (successes, first_err);
        }
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    (successes, None)
}

/// The batch sizes `slow_start_batch` uses for `count` calls.
pub fn batch_sizes(count: usize, initial: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut remaining = count;
    let mut batch = initial.max(1).min(count);
    while batch > 0 {
        out.push(batch);
        remaining -= batch;
        batch = (2 * batch).min(remaining);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn batches_double_from_one() {
        assert_eq!(batch_sizes(0, 1), Vec::<usize>::new());
        assert_eq!(batch_sizes(1, 1), vec![1]);
        assert_eq!(batch_sizes(10, 1), vec![1, 2, 4, 3]);
        assert_eq!(batch_sizes(15, 1), vec![1, 2, 4, 8]);
    }

    #[tokio::test]
    async fn creation_stops_after_the_first_failing_batch() {
        let calls = AtomicUsize::new(0);
        let (ok, err) = slow_start_batch(10, 1, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n >= 2 {
                    Err("quota")
                } else {
                    Ok(())
                }
            }
        })
        .await;
        // batch 1 (call 0) ok, batch 2 (calls 1, 2) has a failure: stop; 7 never tried.
        assert_eq!((ok, err), (2, Some("quota")));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
