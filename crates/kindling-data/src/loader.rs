//! Batches prepared on a background thread for loops outside the
//! [`Trainer`](kindling_core::train::Trainer) (which prefetches by itself, see
//! [`TrainConfig::prefetch`](kindling_core::train::TrainConfig::prefetch)).

use std::sync::Arc;

use kindling_core::burn::tensor::Device;
use kindling_core::train::Batcher;

pub use kindling_core::prefetch::Prefetched;

/// Prepares the batches of `plan` from `items` with `batcher` on a background thread, `depth`
/// batches ahead, and yields them in plan order.
///
/// ```
/// use std::sync::Arc;
/// use kindling_core::seed::SeededRng;
/// use kindling_core::train::Batcher;
/// use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
/// use kindling_data::loader::load_batches;
///
/// let items: Arc<Vec<EncodedExample>> = Arc::new(
///     (0..10).map(|i| EncodedExample { ids: vec![1; i + 1], label: 0 }).collect());
/// let batcher = Arc::new(SequenceBatcher::new(Padding::new(0)));
/// let plan = batcher.plan(&items, 4, Some(&mut SeededRng::new(1)));
/// let device = kindling_core::BackendKind::Flex.device().unwrap();
/// let batches: Vec<_> = load_batches(items, batcher, plan, device, 2).collect();
/// assert_eq!(batches.iter().map(|b| b.lengths.len()).sum::<usize>(), 10);
/// ```
pub fn load_batches<I, B>(
    items: Arc<Vec<I>>,
    batcher: Arc<B>,
    plan: Vec<Vec<usize>>,
    device: Device,
    depth: usize,
) -> Prefetched<B::Batch>
where
    I: Clone + Send + Sync + 'static,
    B: Batcher<I> + 'static,
    B::Batch: Send + 'static,
{
    Prefetched::spawn(plan, depth, move |indices| {
        let batch: Vec<I> = indices.iter().map(|&i| items[i].clone()).collect();
        batcher.batch(&batch, &device)
    })
}
