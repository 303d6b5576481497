//! Batch plans: which examples go into which batch, in which order.

use kindling_core::seed::SeededRng;

pub use kindling_core::train::shuffled_batches;

/// Length bucketing: shuffles the examples (when `rng` is given), cuts them into pools of
/// `pool_batches × batch_size`, sorts each pool by length (stable), cuts each pool into
/// batches, and shuffles the order of all batches. Batches hold examples of similar length, so
/// an RNN batch carries little padding, while the data order still changes every epoch.
///
/// Every index in `0..lengths.len()` appears in exactly one batch; the same seed gives the
/// same plan.
pub fn bucketed_batches(
    lengths: &[usize],
    batch_size: usize,
    pool_batches: usize,
    mut rng: Option<&mut SeededRng>,
) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = match rng.as_deref_mut() {
        Some(rng) => rng.permutation(lengths.len()),
        None => (0..lengths.len()).collect(),
    };
    let mut batches = Vec::with_capacity(lengths.len().div_ceil(batch_size));
    for pool in order.chunks_mut(batch_size * pool_batches.max(1)) {
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    if let Some(rng) = rng {
        rng.shuffle(&mut batches);
    }
    batches
}

/// An epoch's batches of sequences of the given lengths: [`bucketed_batches`] from pools of
/// `bucket_pool` batches, or [`shuffled_batches`] without bucketing.
pub fn sequence_batches(
    lengths: impl FnOnce() -> Vec<usize>,
    count: usize,
    batch_size: usize,
    bucket_pool: Option<usize>,
    rng: Option<&mut SeededRng>,
) -> Vec<Vec<usize>> {
    match bucket_pool {
        Some(pool) => bucketed_batches(&lengths(), batch_size, pool, rng),
        None => shuffled_batches(count, batch_size, rng),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn batching_never_loses_or_duplicates_and_is_seeded(
            lengths in proptest::collection::vec(0usize..60, 0..300),
            batch_size in 1usize..40,
            pool in 1usize..8,
            seed: u64,
        ) {
            let plan = bucketed_batches(&lengths, batch_size, pool, Some(&mut SeededRng::new(seed)));
            let again = bucketed_batches(&lengths, batch_size, pool, Some(&mut SeededRng::new(seed)));
            prop_assert_eq!(&plan, &again);
            let mut all: Vec<usize> = plan.iter().flatten().copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
            prop_assert!(plan.iter().all(|b| !b.is_empty() && b.len() <= batch_size));

            let plain = shuffled_batches(lengths.len(), batch_size, Some(&mut SeededRng::new(seed)));
            prop_assert_eq!(&plain, &shuffled_batches(lengths.len(), batch_size, Some(&mut SeededRng::new(seed))));
            let mut all: Vec<usize> = plain.iter().flatten().copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn buckets_reduce_padding() {
        let mut rng = SeededRng::new(1);
        let lengths: Vec<usize> = (0..1000).map(|_| 1 + rng.below(50) as usize).collect();
        let padding = |plan: &[Vec<usize>]| -> usize {
            plan.iter()
                .map(|b| {
                    let max = b.iter().map(|&i| lengths[i]).max().unwrap();
                    b.iter().map(|&i| max - lengths[i]).sum::<usize>()
                })
                .sum()
        };
        let bucketed = bucketed_batches(&lengths, 20, 10, Some(&mut SeededRng::new(2)));
        let plain = shuffled_batches(lengths.len(), 20, Some(&mut SeededRng::new(2)));
        assert!(
            padding(&bucketed) * 5 < padding(&plain),
            "{} vs {}",
            padding(&bucketed),
            padding(&plain)
        );
    }

    #[test]
    fn without_rng_the_plan_is_in_order_of_length_within_pools() {
        let plan = bucketed_batches(&[3, 1, 2, 5], 2, 2, None);
        assert_eq!(plan, [vec![1, 2], vec![0, 3]]);
    }
}
