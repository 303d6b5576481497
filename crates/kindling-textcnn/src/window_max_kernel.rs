//! CPU kernels of the pooled window convolution, on plain slices.
//!
//! Forward: the words of all sentences, without their padding, are multiplied by the filter
//! matrix once (`[words, dim] × [dim, taps · maps]`, done by the caller); [`max_over_windows`]
//! then adds each window's contributions along the diagonal of its taps and keeps the maximum
//! and the winning window of every feature map.
//!
//! Backward: a max passes its gradient to one window, so a feature map's gradient reaches only
//! the `width` words of its winning window. [`backward`] scatters it there directly — about
//! `batch · features · width · dim` multiply-adds for the filters and as many for the words —
//! instead of the dense products a general convolution's backward pass costs.

use crate::filter_bank::FilterBank;

/// Sentences of a padded batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch<'a> {
    /// Words per sentence, each at most `len`.
    pub lengths: &'a [usize],
    /// The padded length.
    pub len: usize,
    /// The word vector size.
    pub dim: usize,
}

impl Batch<'_> {
    /// Where each sentence's words start among the packed rows.
    pub fn packed_starts(&self) -> Vec<usize> {
        self.lengths
            .iter()
            .scan(0, |next, &n| {
                let start = *next;
                *next += n;
                Some(start)
            })
            .collect()
    }
}

/// The words of every sentence without padding, one row each.
///
/// # Shapes
/// `words`: `[batch, len, dim]` → `[Σ lengths, dim]`.
pub(crate) fn pack_words(words: &[f32], batch: Batch<'_>) -> Vec<f32> {
    let mut packed = Vec::with_capacity(batch.lengths.iter().sum::<usize>() * batch.dim);
    for (i, &n) in batch.lengths.iter().enumerate() {
        let start = i * batch.len * batch.dim;
        packed.extend_from_slice(&words[start..start + n * batch.dim]);
    }
    packed
}

/// The maximum over each sentence's windows of every feature map (before bias and
/// activation), and the window it came from. Words outside the sentence (the edge padding, and
/// the missing words of a sentence shorter than the filter) count as zero vectors.
///
/// # Shapes
/// `projections`: `[Σ lengths, taps · maps]`, the packed words times the filter matrix →
/// (`[batch, features]`, `[batch, features]`).
pub(crate) fn max_over_windows(
    projections: &[f32],
    batch: Batch<'_>,
    bank: &FilterBank,
) -> (Vec<f32>, Vec<u32>) {
    let maps = bank.maps();
    let columns = bank.columns();
    let features = bank.features();
    let starts = batch.packed_starts();
    let mut pooled = vec![0.0f32; batch.lengths.len() * features];
    let mut winners = vec![0u32; batch.lengths.len() * features];
    let mut window = vec![0.0f32; maps];
    for (i, (&n, &start)) in batch.lengths.iter().zip(&starts).enumerate() {
        for block in bank.blocks() {
            let feature = i * features + block.index * maps;
            let best = &mut pooled[feature..feature + maps];
            let best_at = &mut winners[feature..feature + maps];
            for t in 0..bank.windows(n, block.width) {
                window.fill(0.0);
                for (tap, position) in bank.taps_inside(n, block.width, t) {
                    let column = (block.first_tap + tap) * maps;
                    let row = (start + position) * columns + column;
                    for (acc, &p) in window.iter_mut().zip(&projections[row..row + maps]) {
                        *acc += p;
                    }
                }
                if t == 0 {
                    best.copy_from_slice(&window);
                    continue;
                }
                for ((b, at), &v) in best.iter_mut().zip(best_at.iter_mut()).zip(&window) {
                    if v > *b {
                        *b = v;
                        *at = t as u32;
                    }
                }
            }
        }
    }
    (pooled, winners)
}

/// Calls `visit(sentence, position, column, gradient)` for every word of every winning window
/// with a non-zero gradient: the word at `position` of `sentence` met the filter column
/// `column` in the window that won.
fn for_each_winning_tap(
    batch: Batch<'_>,
    bank: &FilterBank,
    winners: &[u32],
    grad: &[f32],
    mut visit: impl FnMut(usize, usize, usize, f32),
) {
    let maps = bank.maps();
    let features = bank.features();
    for (i, &n) in batch.lengths.iter().enumerate() {
        for block in bank.blocks() {
            for map in 0..maps {
                let feature = i * features + block.index * maps + map;
                let g = grad[feature];
                if g == 0.0 {
                    continue;
                }
                let t = winners[feature] as usize;
                for (tap, position) in bank.taps_inside(n, block.width, t) {
                    visit(i, position, (block.first_tap + tap) * maps + map, g);
                }
            }
        }
    }
}

fn add_scaled(into: &mut [f32], scale: f32, from: &[f32]) {
    for (y, &x) in into.iter_mut().zip(from) {
        *y += scale * x;
    }
}

/// The gradient of the filter matrix, given the pooled features' gradient.
///
/// # Shapes
/// `words`: `[batch, len, dim]`, `winners` and `grad`: `[batch, features]` →
/// `[dim, taps · maps]`.
pub(crate) fn filter_gradient(
    words: &[f32],
    batch: Batch<'_>,
    bank: &FilterBank,
    winners: &[u32],
    grad: &[f32],
) -> Vec<f32> {
    let dim = batch.dim;
    let columns = bank.columns();
    // Accumulated column by column ([columns, dim], contiguous per column), then transposed.
    let mut by_column = vec![0.0f32; columns * dim];
    for_each_winning_tap(batch, bank, winners, grad, |i, position, column, g| {
        let word = (i * batch.len + position) * dim;
        add_scaled(
            &mut by_column[column * dim..(column + 1) * dim],
            g,
            &words[word..word + dim],
        );
    });
    transpose(&by_column, columns, dim)
}

/// The gradient of the (padded) word vectors, given the pooled features' gradient; padding
/// positions get zero.
///
/// # Shapes
/// `filters_by_column`: the filter matrix transposed, `[taps · maps, dim]`; `winners` and
/// `grad`: `[batch, features]` → `[batch, len, dim]`.
pub(crate) fn word_gradient(
    filters_by_column: &[f32],
    batch: Batch<'_>,
    bank: &FilterBank,
    winners: &[u32],
    grad: &[f32],
) -> Vec<f32> {
    let dim = batch.dim;
    let mut gradient = vec![0.0f32; batch.lengths.len() * batch.len * dim];
    for_each_winning_tap(batch, bank, winners, grad, |i, position, column, g| {
        let word = (i * batch.len + position) * dim;
        add_scaled(
            &mut gradient[word..word + dim],
            g,
            &filters_by_column[column * dim..(column + 1) * dim],
        );
    });
    gradient
}

/// `[rows, columns]` → `[columns, rows]`.
pub(crate) fn transpose(matrix: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; matrix.len()];
    for (r, row) in matrix.chunks_exact(columns).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter_bank::WidthBlock;

    /// A small deterministic pseudo-random sequence in `[-1, 1)`.
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn matmul(a: &[f32], b: &[f32], n: usize, k: usize, m: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; n * m];
        for r in 0..n {
            for x in 0..k {
                for c in 0..m {
                    out[r * m + c] += a[r * k + x] * b[x * m + c];
                }
            }
        }
        out
    }

    /// One window of one feature map of one sentence.
    struct Window {
        sentence: usize,
        block: WidthBlock,
        map: usize,
        start: usize,
    }

    /// A window's response straight from the definition: the sum over taps of the tap's filter
    /// column dotted with the word at `start + j − edge_padding` (zero outside the sentence).
    fn direct_window(
        words: &[f32],
        filters: &[f32],
        batch: Batch<'_>,
        bank: &FilterBank,
        window: Window,
    ) -> f32 {
        let Window {
            sentence: i,
            block,
            map,
            start: t,
        } = window;
        let n = batch.lengths[i] as isize;
        let mut sum = 0.0;
        for j in 0..block.width {
            let position = (t + j) as isize - bank.edge_padding() as isize;
            if position < 0 || position >= n {
                continue;
            }
            let column = (block.first_tap + j) * bank.maps() + map;
            for d in 0..batch.dim {
                sum += words[(i * batch.len + position as usize) * batch.dim + d]
                    * filters[d * bank.columns() + column];
            }
        }
        sum
    }

    struct Case {
        bank: FilterBank,
        lengths: Vec<usize>,
        len: usize,
        dim: usize,
        words: Vec<f32>,
        filters: Vec<f32>,
    }

    impl Case {
        fn new(edge_padding: usize) -> Self {
            let bank = FilterBank::new(vec![2, 3], 4, edge_padding).unwrap();
            let (len, dim) = (6, 5);
            let lengths = vec![6, 1, 3, 0, 4];
            let mut words = values(lengths.len() * len * dim, 1);
            // Padding holds garbage: it must never reach the result.
            for (i, &n) in lengths.iter().enumerate() {
                for v in &mut words[(i * len + n) * dim..(i + 1) * len * dim] {
                    *v = 100.0;
                }
            }
            let filters = values(dim * bank.columns(), 2);
            Self {
                bank,
                lengths,
                len,
                dim,
                words,
                filters,
            }
        }

        fn batch(&self) -> Batch<'_> {
            Batch {
                lengths: &self.lengths,
                len: self.len,
                dim: self.dim,
            }
        }

        fn forward(&self) -> (Vec<f32>, Vec<u32>) {
            let batch = self.batch();
            let packed = pack_words(&self.words, batch);
            let rows = packed.len() / self.dim;
            let projections = matmul(&packed, &self.filters, rows, self.dim, self.bank.columns());
            max_over_windows(&projections, batch, &self.bank)
        }

        /// Σ over features of `grad · pooled`, straight from the definition.
        fn objective(&self, words: &[f32], filters: &[f32], grad: &[f32]) -> f32 {
            let batch = self.batch();
            let maps = self.bank.maps();
            let mut total = 0.0;
            for i in 0..self.lengths.len() {
                for block in self.bank.blocks() {
                    for map in 0..maps {
                        let best = (0..self.bank.windows(self.lengths[i], block.width))
                            .map(|t| {
                                direct_window(
                                    words,
                                    filters,
                                    batch,
                                    &self.bank,
                                    Window {
                                        sentence: i,
                                        block,
                                        map,
                                        start: t,
                                    },
                                )
                            })
                            .fold(f32::NEG_INFINITY, f32::max);
                        total += grad[i * self.bank.features() + block.index * maps + map] * best;
                    }
                }
            }
            total
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for edge_padding in [0, 1, 2] {
            forward_matches_the_definition_with(edge_padding);
        }
    }

    fn forward_matches_the_definition_with(edge_padding: usize) {
        let case = Case::new(edge_padding);
        let batch = case.batch();
        let (pooled, winners) = case.forward();
        let maps = case.bank.maps();
        for (i, &n) in case.lengths.iter().enumerate() {
            for block in case.bank.blocks() {
                for map in 0..maps {
                    let f = i * case.bank.features() + block.index * maps + map;
                    let windows: Vec<f32> = (0..case.bank.windows(n, block.width))
                        .map(|t| {
                            direct_window(
                                &case.words,
                                &case.filters,
                                batch,
                                &case.bank,
                                Window {
                                    sentence: i,
                                    block,
                                    map,
                                    start: t,
                                },
                            )
                        })
                        .collect();
                    let best = windows.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    assert!((pooled[f] - best).abs() < 1e-5, "{} vs {best}", pooled[f]);
                    assert!((windows[winners[f] as usize] - best).abs() < 1e-5);
                }
            }
        }
        // The empty sentence has one all-zero window.
        let empty = 3 * case.bank.features();
        assert!(
            pooled[empty..empty + case.bank.features()]
                .iter()
                .all(|&v| v == 0.0)
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for edge_padding in [0, 2] {
            gradients_match_finite_differences_with(edge_padding);
        }
    }

    fn gradients_match_finite_differences_with(edge_padding: usize) {
        let case = Case::new(edge_padding);
        let batch = case.batch();
        let grad = values(case.lengths.len() * case.bank.features(), 3);
        let (_, winners) = case.forward();
        let filters_by_column = transpose(&case.filters, case.dim, case.bank.columns());
        let d_words = word_gradient(&filters_by_column, batch, &case.bank, &winners, &grad);
        let d_filters = filter_gradient(&case.words, batch, &case.bank, &winners, &grad);
        // The objective is piecewise linear: central differences with a small step are exact
        // up to rounding while no winner changes.
        let step = 1e-3;
        for (index, &analytic) in d_words.iter().enumerate() {
            let (i, position) = (index / case.dim / case.len, index / case.dim % case.len);
            if position >= case.lengths[i] {
                assert_eq!(analytic, 0.0, "padding gets no gradient");
                continue;
            }
            let mut plus = case.words.clone();
            let mut minus = case.words.clone();
            plus[index] += step;
            minus[index] -= step;
            let numeric = (case.objective(&plus, &case.filters, &grad)
                - case.objective(&minus, &case.filters, &grad))
                / (2.0 * step);
            assert!(
                (numeric - analytic).abs() < 2e-3,
                "word {index}: {numeric} vs {analytic}"
            );
        }
        for (index, &analytic) in d_filters.iter().enumerate() {
            let mut plus = case.filters.clone();
            let mut minus = case.filters.clone();
            plus[index] += step;
            minus[index] -= step;
            let numeric = (case.objective(&case.words, &plus, &grad)
                - case.objective(&case.words, &minus, &grad))
                / (2.0 * step);
            assert!(
                (numeric - analytic).abs() < 2e-3,
                "filter {index}: {numeric} vs {analytic}"
            );
        }
    }
}
