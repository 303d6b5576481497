//! A token stream cut for truncated back-propagation through time: the stream is split into
//! `rows` equal parallel streams (the batch), and those into consecutive windows of `bptt`
//! steps; a language model carries its state from one window to the next.

use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_core::train::Batcher;

/// One window of every row: inputs and the next tokens to predict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpttWindow {
    /// The window's place in its stream (0 for the first: the state starts fresh).
    pub index: usize,
    /// Parallel streams.
    pub rows: usize,
    /// Steps in this window (the last window may be shorter).
    pub steps: usize,
    /// Input ids, `rows × steps`, row-major.
    pub inputs: Vec<u32>,
    /// Target ids (each input's next token), `rows × steps`, row-major.
    pub targets: Vec<u32>,
}

/// Cuts `stream` into `rows` parallel streams of equal length (the tail that does not divide
/// evenly is dropped) and those into windows of at most `bptt` steps.
///
/// Returns no windows when the stream is too short for one step per row.
pub fn bptt_windows(stream: &[u32], rows: usize, bptt: usize) -> Vec<BpttWindow> {
    let (rows, bptt) = (rows.max(1), bptt.max(1));
    // Each row needs one more token than its steps: the last target.
    let per_row = stream.len() / rows;
    if per_row < 2 {
        return Vec::new();
    }
    let steps_total = per_row - 1;
    let mut windows = Vec::with_capacity(steps_total.div_ceil(bptt));
    let mut start = 0;
    while start < steps_total {
        let steps = bptt.min(steps_total - start);
        let mut inputs = Vec::with_capacity(rows * steps);
        let mut targets = Vec::with_capacity(rows * steps);
        for row in 0..rows {
            let base = row * per_row + start;
            inputs.extend_from_slice(&stream[base..base + steps]);
            targets.extend_from_slice(&stream[base + 1..base + steps + 1]);
        }
        windows.push(BpttWindow {
            index: windows.len(),
            rows,
            steps,
            inputs,
            targets,
        });
        start += steps;
    }
    windows
}

/// Consecutive windows as one batch.
#[derive(Debug, Clone)]
pub struct BpttBatch {
    /// Inputs, `[rows, steps]`.
    pub inputs: Tensor<2, Int>,
    /// Targets, `[rows, steps]`.
    pub targets: Tensor<2, Int>,
    /// Whether the batch starts its stream (the model's carried state is reset).
    pub fresh: bool,
}

/// Batches [`BpttWindow`]s in stream order, never shuffled: training takes one window per
/// step (whatever the batch size), evaluation joins consecutive windows along time.
#[derive(Debug, Clone, Copy, Default)]
pub struct BpttBatcher;

impl Batcher<BpttWindow> for BpttBatcher {
    type Batch = BpttBatch;

    /// # Panics
    /// When `items` is empty or its windows have different row counts (the plans of this
    /// batcher and the trainer's evaluation never do that).
    fn batch(&self, items: &[BpttWindow], device: &Device) -> BpttBatch {
        let rows = items[0].rows;
        assert!(
            items.iter().all(|w| w.rows == rows),
            "windows of one stream share their row count"
        );
        let steps: usize = items.iter().map(|w| w.steps).sum();
        let join = |pick: fn(&BpttWindow) -> &Vec<u32>| -> Tensor<2, Int> {
            let mut ids = Vec::with_capacity(rows * steps);
            for row in 0..rows {
                for window in items {
                    let part = &pick(window)[row * window.steps..(row + 1) * window.steps];
                    ids.extend(part.iter().map(|&i| i64::from(i)));
                }
            }
            Tensor::from_data(TensorData::new(ids, [rows, steps]), device)
        };
        BpttBatch {
            inputs: join(|w| &w.inputs),
            targets: join(|w| &w.targets),
            fresh: items[0].index == 0,
        }
    }

    fn plan(
        &self,
        items: &[BpttWindow],
        _batch_size: usize,
        _rng: Option<&mut SeededRng>,
    ) -> Vec<Vec<usize>> {
        (0..items.len()).map(|i| vec![i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_contiguous_streams_and_targets_are_the_next_tokens() {
        let stream: Vec<u32> = (0..23).collect();
        let windows = bptt_windows(&stream, 2, 4);
        // 11 tokens per row (one dropped), 10 steps: windows of 4, 4, 2.
        assert_eq!(
            windows.iter().map(|w| w.steps).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(windows[0].inputs, vec![0, 1, 2, 3, 11, 12, 13, 14]);
        assert_eq!(windows[0].targets, vec![1, 2, 3, 4, 12, 13, 14, 15]);
        assert_eq!(windows[2].inputs, vec![8, 9, 19, 20]);
        assert_eq!(windows[2].targets, vec![9, 10, 20, 21]);
        assert_eq!(windows[1].index, 1);
        assert!(bptt_windows(&[1, 2, 3], 2, 4).is_empty());
    }

    #[cfg(feature = "flex")]
    #[test]
    fn joined_windows_continue_each_row() {
        let device = kindling_core::BackendKind::Flex.device().unwrap();
        let stream: Vec<u32> = (0..23).collect();
        let windows = bptt_windows(&stream, 2, 4);
        let batch = BpttBatcher.batch(&windows[..2], &device);
        assert!(batch.fresh);
        let inputs: Vec<i64> = batch
            .inputs
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(
            inputs,
            vec![0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18]
        );
        assert!(!BpttBatcher.batch(&windows[1..], &device).fresh);
        assert_eq!(
            BpttBatcher.plan(&windows, 20, None),
            vec![vec![0], vec![1], vec![2]]
        );
    }
}
