//! Preparing work items on a background thread while the caller consumes earlier ones, so
//! that batch preparation overlaps with the training step.
//!
//! A bounded channel of `depth` items sits between producer and consumer: the producer runs at
//! most `depth` items ahead, and stops as soon as the consumer drops its end. Items arrive in
//! job order, so prefetching never changes what a seeded run computes.

use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::{JoinHandle, Scope};

/// Runs `make` over `jobs` on a thread of `scope`, `depth` items ahead of the consumer.
///
/// With `depth == 0` nothing runs in the background: `make` is called lazily on the caller's
/// thread as the iterator is advanced.
pub fn scoped<'scope, J, T>(
    scope: &'scope Scope<'scope, '_>,
    jobs: impl IntoIterator<Item = J, IntoIter: Send + 'scope>,
    depth: usize,
    mut make: impl FnMut(J) -> T + Send + 'scope,
) -> Box<dyn Iterator<Item = T> + 'scope>
where
    J: 'scope,
    T: Send + 'scope,
{
    let jobs = jobs.into_iter();
    if depth == 0 {
        return Box::new(jobs.map(make));
    }
    let (sender, receiver) = sync_channel(depth);
    scope.spawn(move || {
        for job in jobs {
            if sender.send(make(job)).is_err() {
                break;
            }
        }
    });
    Box::new(receiver.into_iter())
}

/// An iterator whose items are made on a background thread it owns.
///
/// Dropping it stops the producer after at most one more item and joins it.
pub struct Prefetched<T> {
    receiver: Option<Receiver<T>>,
    producer: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Prefetched<T> {
    /// Starts a producer thread running `make` over `jobs`, `depth` (at least 1) items ahead.
    pub fn spawn<J: Send + 'static>(
        jobs: impl IntoIterator<Item = J, IntoIter: Send + 'static>,
        depth: usize,
        mut make: impl FnMut(J) -> T + Send + 'static,
    ) -> Self {
        let jobs = jobs.into_iter();
        let (sender, receiver) = sync_channel(depth.max(1));
        let producer = std::thread::spawn(move || {
            for job in jobs {
                if sender.send(make(job)).is_err() {
                    break;
                }
            }
        });
        Self {
            receiver: Some(receiver),
            producer: Some(producer),
        }
    }
}

impl<T> Iterator for Prefetched<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let item = self.receiver.as_ref()?.recv().ok();
        if item.is_none() {
            // The producer is done (or panicked): surface a panic instead of a short stream.
            self.receiver = None;
            if let Some(producer) = self.producer.take()
                && let Err(panic) = producer.join()
            {
                std::panic::resume_unwind(panic);
            }
        }
        item
    }
}

impl<T> Drop for Prefetched<T> {
    fn drop(&mut self) {
        self.receiver = None;
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_keeps_order_at_every_depth() {
        for depth in [0, 1, 4] {
            let out: Vec<u32> =
                std::thread::scope(|s| scoped(s, 0..100u32, depth, |x| x * 2).collect());
            assert_eq!(out, (0..100).map(|x| x * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn scoped_producer_stops_when_the_consumer_does() {
        let made = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            let mut items = scoped(s, 0..1000, 2, |x| {
                made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                x
            });
            assert_eq!(items.next(), Some(0));
        });
        assert!(made.load(std::sync::atomic::Ordering::SeqCst) < 10);
    }

    #[test]
    fn owned_prefetch_yields_in_order_and_can_be_dropped_early() {
        let all: Vec<usize> = Prefetched::spawn(0..50, 3, |x| x + 1).collect();
        assert_eq!(all, (1..51).collect::<Vec<_>>());
        let mut early = Prefetched::spawn(0..1_000_000, 2, |x| x);
        assert_eq!(early.next(), Some(0));
        drop(early);
    }

    #[test]
    #[should_panic(expected = "producer failed")]
    fn owned_prefetch_surfaces_producer_panics() {
        let items = Prefetched::spawn(0..10, 1, |x| {
            assert!(x < 3, "producer failed");
            x
        });
        for _ in items {}
    }
}
