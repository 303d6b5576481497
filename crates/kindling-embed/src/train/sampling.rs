//! Random draws shared by the embedding trainers: frequent-word subsampling and the
//! unigram^0.75 distribution of negative samples.

use kindling_core::seed::SeededRng;

/// Keep probability of each word under subsampling (Mikolov et al. 2013, as computed by
/// word2vec.c and gensim), scaled to `u32::MAX`: a word of count `c` among `N` tokens is kept
/// with probability `(sqrt(c / (sample·N)) + 1) · sample·N / c`. `sample <= 0` keeps every word.
pub(crate) fn keep_probabilities(counts: &[u64], sample: f64) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    let threshold = sample * total as f64;
    counts
        .iter()
        .map(|&count| {
            if sample <= 0.0 || count == 0 {
                return u32::MAX;
            }
            let count = count as f64;
            let p = ((count / threshold).sqrt() + 1.0) * threshold / count;
            if p >= 1.0 {
                u32::MAX
            } else {
                (p * f64::from(u32::MAX)) as u32
            }
        })
        .collect()
}

/// Whether a word with keep probability `keep` (from [`keep_probabilities`]) survives a draw.
#[inline(always)]
pub(crate) fn kept(keep: u32, rng: &mut SeededRng) -> bool {
    keep == u32::MAX || (rng.next_u64() >> 32) as u32 <= keep
}

/// The negative-sampling distribution: counts raised to `power` (0.75 in word2vec, 0.5 in
/// fastText).
pub(crate) fn unigram_table(counts: &[u64], power: f64) -> AliasTable {
    let powered: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(power)).collect();
    AliasTable::new(&powered)
}

/// Walker's alias method: draws from a discrete distribution in O(1) with two arrays of the
/// vocabulary's size (small enough to stay in cache, unlike word2vec's 10⁸-entry table).
pub(crate) struct AliasTable {
    /// Probability, scaled to `u32::MAX`, of keeping the drawn column rather than its alias.
    keep: Vec<u32>,
    alias: Vec<u32>,
}

impl AliasTable {
    pub(crate) fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let sum: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / sum).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in large.into_iter().chain(small) {
            scaled[i] = 1.0;
        }
        let keep = scaled
            .iter()
            .map(|&p| (p.min(1.0) * f64::from(u32::MAX)) as u32)
            .collect();
        Self { keep, alias }
    }

    /// A draw from 64 random bits: the high half picks a column, the low half keeps it or takes
    /// its alias.
    pub(crate) fn sample(&self, bits: u64) -> u32 {
        let column = (((bits >> 32) * self.keep.len() as u64) >> 32) as usize;
        if (bits as u32) <= self.keep[column] {
            column as u32
        } else {
            self.alias[column]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_table_draws_in_proportion() {
        let table = AliasTable::new(&[1.0, 2.0, 7.0, 0.0]);
        let mut rng = SeededRng::new(5);
        let mut seen = [0u32; 4];
        for _ in 0..100_000 {
            seen[table.sample(rng.next_u64()) as usize] += 1;
        }
        let share = |i: usize| f64::from(seen[i]) / 100_000.0;
        assert!(
            (share(0) - 0.1).abs() < 0.005
                && (share(1) - 0.2).abs() < 0.005
                && (share(2) - 0.7).abs() < 0.005,
            "{seen:?}"
        );
        assert_eq!(seen[3], 0);
    }

    #[test]
    fn rare_words_are_always_kept_and_frequent_ones_thinned() {
        let keep = keep_probabilities(&[1_000_000, 10, 0], 1e-3);
        assert_eq!(keep[1], u32::MAX);
        assert_eq!(keep[2], u32::MAX);
        // threshold = 1000.01; p = (sqrt(1e6 / 1000.01) + 1) · 1000.01 / 1e6 ≈ 0.0326.
        let p = f64::from(keep[0]) / f64::from(u32::MAX);
        assert!((p - 0.03262).abs() < 1e-4, "{p}");
        assert!(
            keep_probabilities(&[5, 5], 0.0)
                .iter()
                .all(|&k| k == u32::MAX)
        );
    }
}
