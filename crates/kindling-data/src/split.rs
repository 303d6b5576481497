//! Seeded data splits: holdout fractions (plain or stratified), an 80/10/10 three-way split and
//! stratified k-fold.
//!
//! All functions return example indices and depend only on their inputs and the seed.

use kindling_core::seed::SeededRng;

use crate::{Error, Result};

/// Indices of a two-way split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdout {
    /// Indices kept for training, ascending.
    pub train: Vec<usize>,
    /// Indices held out, ascending.
    pub held_out: Vec<usize>,
}

/// Holds out `round(fraction × n)` random examples (e.g. 10 % of train as dev when a dataset
/// has no dev set).
///
/// # Errors
/// [`Error::Invalid`] unless `0 < fraction < 1` and both parts are non-empty.
pub fn holdout(n: usize, fraction: f64, seed: u64) -> Result<Holdout> {
    check_fraction(fraction)?;
    let mut order = SeededRng::new(seed).permutation(n);
    let held = (fraction * n as f64).round() as usize;
    if held == 0 || held == n {
        return Err(Error::invalid(
            "holdout",
            format!("{fraction} of {n} examples leaves one side empty"),
        ));
    }
    let mut held_out = order.split_off(n - held);
    order.sort_unstable();
    held_out.sort_unstable();
    Ok(Holdout {
        train: order,
        held_out,
    })
}

/// `items` split by [`holdout`]: `(kept, held out)`, each in the original order (a dev set cut
/// from a training file when the user gives none).
///
/// # Errors
/// As [`holdout`].
pub fn split_off_holdout<T>(items: Vec<T>, fraction: f64, seed: u64) -> Result<(Vec<T>, Vec<T>)> {
    let split = holdout(items.len(), fraction, seed)?;
    let mut held = vec![false; items.len()];
    for &i in &split.held_out {
        held[i] = true;
    }
    let (mut kept, mut held_out) = (Vec::with_capacity(split.train.len()), Vec::new());
    for (item, held) in items.into_iter().zip(held) {
        if held {
            held_out.push(item);
        } else {
            kept.push(item);
        }
    }
    Ok((kept, held_out))
}

/// `items` split 80/10/10 into train, dev and test by a seeded permutation: the first 80 % of
/// the permuted order (rounded down) train, the next 10 % dev, the rest test, each part in
/// permuted order. Corpora split by document (Brown's part-of-speech and language-model
/// experiments) pass whole documents.
pub fn three_way<T>(items: Vec<T>, seed: u64) -> [Vec<T>; 3] {
    let order = SeededRng::new(seed).permutation(items.len());
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let n = slots.len();
    let (train_end, dev_end) = (n * 8 / 10, n * 9 / 10);
    let mut parts = [Vec::new(), Vec::new(), Vec::new()];
    for (rank, &i) in order.iter().enumerate() {
        let part = if rank < train_end {
            0
        } else if rank < dev_end {
            1
        } else {
            2
        };
        parts[part].push(slots[i].take().expect("a permutation visits each once"));
    }
    parts
}

/// Holds out `round(fraction × size)` examples of every class, so both sides keep the class
/// proportions.
///
/// # Errors
/// [`Error::Invalid`] unless `0 < fraction < 1` and both sides end up non-empty.
pub fn stratified_holdout(labels: &[u32], fraction: f64, seed: u64) -> Result<Holdout> {
    check_fraction(fraction)?;
    let mut rng = SeededRng::new(seed);
    let mut train = Vec::new();
    let mut held_out = Vec::new();
    for mut members in by_class(labels) {
        rng.shuffle(&mut members);
        let held = (fraction * members.len() as f64).round() as usize;
        held_out.extend_from_slice(&members[..held]);
        train.extend_from_slice(&members[held..]);
    }
    if train.is_empty() || held_out.is_empty() {
        return Err(Error::invalid(
            "holdout",
            format!(
                "{fraction} of {} examples leaves one side empty",
                labels.len()
            ),
        ));
    }
    train.sort_unstable();
    held_out.sort_unstable();
    Ok(Holdout { train, held_out })
}

/// `items` split into train, dev and test within each class: each class's members (classes in
/// label order) are shuffled, the first `round(test_fraction × size)` go to test and the next
/// `round(dev_fraction × size)` to dev (at least one each when the class has three or more
/// members), the rest to train; train is then shuffled across classes. `labels[i]` is
/// `items[i]`'s class.
///
/// # Errors
/// [`Error::Invalid`] unless both fractions lie in `(0, 1)` with a sum below 1 and `labels`
/// has one label per item.
pub fn stratified_three_way<T>(
    items: Vec<T>,
    labels: &[u32],
    dev_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Result<[Vec<T>; 3]> {
    check_fraction(dev_fraction)?;
    check_fraction(test_fraction)?;
    if dev_fraction + test_fraction >= 1.0 {
        return Err(Error::invalid(
            "three-way split",
            format!("dev {dev_fraction} + test {test_fraction} leaves nothing to train on"),
        ));
    }
    if labels.len() != items.len() {
        return Err(Error::invalid(
            "three-way split",
            format!("{} labels for {} items", labels.len(), items.len()),
        ));
    }
    let mut rng = SeededRng::new(seed);
    let mut parts: [Vec<usize>; 3] = Default::default();
    for mut members in by_class(labels) {
        rng.shuffle(&mut members);
        let share = |fraction: f64| {
            let n = (members.len() as f64 * fraction).round() as usize;
            if members.len() >= 3 { n.max(1) } else { n }
        };
        let (n_test, n_dev) = (share(test_fraction), share(dev_fraction));
        parts[2].extend_from_slice(&members[..n_test]);
        parts[1].extend_from_slice(&members[n_test..n_test + n_dev]);
        parts[0].extend_from_slice(&members[n_test + n_dev..]);
    }
    rng.shuffle(&mut parts[0]);
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    Ok(parts.map(|indices| {
        indices
            .into_iter()
            .map(|i| slots[i].take().expect("each index is in one part once"))
            .collect()
    }))
}

/// One fold of a cross-validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Training indices, ascending.
    pub train: Vec<usize>,
    /// Test indices, ascending.
    pub test: Vec<usize>,
}

/// Stratified k-fold: every example is tested exactly once, and every class is spread over the
/// folds as evenly as possible (fold sizes differ by at most one per class).
///
/// # Errors
/// [`Error::Invalid`] when `k < 2` or `k` exceeds the number of examples.
pub fn stratified_k_fold(labels: &[u32], k: usize, seed: u64) -> Result<Vec<Fold>> {
    if k < 2 || k > labels.len() {
        return Err(Error::invalid(
            "k-fold",
            format!("k = {k} with {} examples", labels.len()),
        ));
    }
    let mut rng = SeededRng::new(seed);
    let mut fold_of = vec![0usize; labels.len()];
    // Deal each class's shuffled members round-robin, continuing where the previous class
    // stopped so that fold sizes stay balanced overall too.
    let mut next = 0;
    for mut members in by_class(labels) {
        rng.shuffle(&mut members);
        for index in members {
            fold_of[index] = next;
            next = (next + 1) % k;
        }
    }
    Ok((0..k)
        .map(|fold| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..labels.len()).partition(|&i| fold_of[i] == fold);
            Fold { train, test }
        })
        .collect())
}

fn by_class(labels: &[u32]) -> Vec<Vec<usize>> {
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut members = vec![Vec::new(); classes];
    for (i, &label) in labels.iter().enumerate() {
        members[label as usize].push(i);
    }
    members
}

fn check_fraction(fraction: f64) -> Result<()> {
    if fraction > 0.0 && fraction < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "holdout fraction",
            format!("{fraction} is not strictly between 0 and 1"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_off_holdout_moves_the_held_out_items_in_order() {
        let items: Vec<u32> = (0..20).collect();
        let (kept, held) = split_off_holdout(items, 0.25, 3).unwrap();
        let split = holdout(20, 0.25, 3).unwrap();
        assert_eq!(
            held,
            split.held_out.iter().map(|&i| i as u32).collect::<Vec<_>>()
        );
        assert_eq!(
            kept,
            split.train.iter().map(|&i| i as u32).collect::<Vec<_>>()
        );
        assert!(split_off_holdout(vec![1], 0.5, 1).is_err());
    }
    #[test]
    fn stratified_three_way_keeps_class_shares_and_repeats() {
        let labels: Vec<u32> = (0..40).map(|i| u32::from(i % 4 != 0)).collect();
        let items: Vec<usize> = (0..40).collect();
        let [train, dev, test] = stratified_three_way(items.clone(), &labels, 0.1, 0.1, 3).unwrap();
        assert_eq!(train.len() + dev.len() + test.len(), 40);
        assert_eq!(test.iter().filter(|&&i| labels[i] == 0).count(), 1);
        assert_eq!(test.iter().filter(|&&i| labels[i] == 1).count(), 3);
        let mut all: Vec<usize> = train.iter().chain(&dev).chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, items);
        let again = stratified_three_way(items.clone(), &labels, 0.1, 0.1, 3).unwrap();
        assert_eq!(again[0], train);
        assert!(stratified_three_way(items.clone(), &labels, 0.5, 0.5, 3).is_err());
        assert!(stratified_three_way(items, &labels[1..], 0.1, 0.1, 3).is_err());
    }

    use proptest::prelude::*;

    #[test]
    fn holdout_is_seeded_and_complete() {
        let a = holdout(100, 0.1, 7).unwrap();
        assert_eq!(a, holdout(100, 0.1, 7).unwrap());
        assert_ne!(a, holdout(100, 0.1, 8).unwrap());
        assert_eq!((a.train.len(), a.held_out.len()), (90, 10));
        let mut all: Vec<usize> = a.train.iter().chain(&a.held_out).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert!(holdout(5, 0.01, 1).is_err());
        assert!(holdout(5, 1.0, 1).is_err());
    }

    #[test]
    fn stratified_holdout_keeps_proportions() {
        let labels: Vec<u32> = (0..100).map(|i| u32::from(i < 80)).collect();
        let split = stratified_holdout(&labels, 0.1, 3).unwrap();
        let held_ones = split.held_out.iter().filter(|&&i| labels[i] == 1).count();
        assert_eq!((split.held_out.len(), held_ones), (10, 8));
    }

    proptest! {
        #[test]
        fn k_fold_tests_every_example_once_and_balances_classes(
            labels in proptest::collection::vec(0u32..4, 10..200),
            k in 2usize..10,
            seed: u64,
        ) {
            let folds = stratified_k_fold(&labels, k, seed).unwrap();
            prop_assert_eq!(folds.len(), k);
            let mut tested: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
            tested.sort_unstable();
            prop_assert_eq!(tested, (0..labels.len()).collect::<Vec<_>>());
            for fold in &folds {
                prop_assert_eq!(fold.train.len() + fold.test.len(), labels.len());
                prop_assert!(fold.train.iter().all(|i| !fold.test.contains(i)));
            }
            for class in 0..4u32 {
                let per_fold: Vec<usize> = folds.iter().map(|f| f.test.iter().filter(|&&i| labels[i] == class).count()).collect();
                prop_assert!(per_fold.iter().max().unwrap() - per_fold.iter().min().unwrap() <= 1);
            }
            prop_assert_eq!(&folds, &stratified_k_fold(&labels, k, seed).unwrap());
        }
    }

    #[test]
    fn three_way_splits_80_10_10_and_keeps_every_item_once() {
        let [train, dev, test] = three_way((0..25).collect::<Vec<u32>>(), 3);
        assert_eq!((train.len(), dev.len(), test.len()), (20, 2, 3));
        let mut all: Vec<u32> = train.iter().chain(&dev).chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..25).collect::<Vec<u32>>());
        assert_eq!(three_way((0..25).collect::<Vec<u32>>(), 3)[1], dev);
        assert_ne!(three_way((0..25).collect::<Vec<u32>>(), 4)[0], train);
    }
}
