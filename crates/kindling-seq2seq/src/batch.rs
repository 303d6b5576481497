//! Sentence pairs as padded tensors: the source, the decoder's inputs (`<s>` then the target)
//! and its outputs (the target then `</s>`), with length bucketing by source length.

use kindling_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_core::train::Batcher;
use kindling_data::batch::{PaddedBatch, Padding};
use kindling_data::sampler::sequence_batches;

/// One encoded pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairExample {
    /// Source token ids, ending with the source side's `</s>` (so never empty).
    pub source: Vec<u32>,
    /// Target token ids without `<s>` or `</s>`.
    pub target: Vec<u32>,
}

/// A padded batch of pairs.
#[derive(Debug, Clone)]
pub struct PairBatch {
    /// Source ids, `[batch, source_len]`.
    pub source: Tensor<2, Int>,
    /// True at padded source positions, `[batch, source_len]`.
    pub source_padding: Tensor<2, Bool>,
    /// Real source lengths.
    pub source_lengths: Vec<usize>,
    /// Decoder inputs: `<s>` then the target, padded, `[batch, steps]`.
    pub decoder_input: Tensor<2, Int>,
    /// Where the real decoder outputs are in the flattened `[batch · steps]` step grid,
    /// sequence after sequence, `[Σ output lengths]`.
    pub output_positions: Tensor<1, Int>,
    /// The gold output at each of those positions (the target then `</s>`).
    pub output_tokens: Tensor<1, Int>,
    /// Decoder steps of each sequence (target length + 1).
    pub output_lengths: Vec<usize>,
    /// A number that identifies the batch's content, to seed per-batch choices
    /// (scheduled teacher forcing) without shared state.
    pub fingerprint: u64,
}

impl PairBatch {
    /// Pairs in the batch.
    pub fn len(&self) -> usize {
        self.source_lengths.len()
    }

    /// True for a batch without pairs.
    pub fn is_empty(&self) -> bool {
        self.source_lengths.is_empty()
    }

    /// Real decoder outputs in the batch.
    pub fn output_count(&self) -> usize {
        self.output_lengths.iter().sum()
    }
}

/// Pads [`PairExample`]s into [`PairBatch`]es.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairBatcher {
    /// Padding id of both sides.
    pub pad: u32,
    /// The target side's `<s>`.
    pub bos: u32,
    /// The target side's `</s>`.
    pub eos: u32,
    /// `Some(k)`: batches are cut from pools of `k` batches' worth of shuffled pairs sorted
    /// by source length; `None`: plain shuffled batches.
    pub bucket_pool: Option<usize>,
}

impl Batcher<PairExample> for PairBatcher {
    type Batch = PairBatch;

    fn batch(&self, items: &[PairExample], device: &Device) -> PairBatch {
        let padding = Padding {
            min_len: 1,
            ..Padding::new(self.pad)
        };
        let sources: Vec<&[u32]> = items.iter().map(|e| e.source.as_slice()).collect();
        let source = PaddedBatch::new(&sources, &padding);
        let inputs: Vec<Vec<u32>> = items
            .iter()
            .map(|e| {
                std::iter::once(self.bos)
                    .chain(e.target.iter().copied())
                    .collect()
            })
            .collect();
        let decoder = PaddedBatch::new(&inputs, &padding);
        let steps = decoder.len;
        let mut positions = Vec::new();
        let mut outputs = Vec::new();
        let mut fingerprint = 0xcbf2_9ce4_8422_2325_u64;
        let mut mix = |x: u32| {
            fingerprint = (fingerprint ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
        };
        for (row, example) in items.iter().enumerate() {
            for (t, &token) in example.target.iter().chain([&self.eos]).enumerate() {
                positions.push((row * steps + t) as i64);
                outputs.push(i64::from(token));
            }
            example.source.iter().for_each(|&x| mix(x));
            example.target.iter().for_each(|&x| mix(x));
            mix(u32::MAX);
        }
        let count = positions.len();
        PairBatch {
            source: source.ids_tensor(device),
            source_padding: source.mask_tensor(device).bool_not(),
            source_lengths: source.lengths,
            decoder_input: decoder.ids_tensor(device),
            output_positions: Tensor::from_data(TensorData::new(positions, [count]), device),
            output_tokens: Tensor::from_data(TensorData::new(outputs, [count]), device),
            output_lengths: items.iter().map(|e| e.target.len() + 1).collect(),
            fingerprint,
        }
    }

    fn plan(
        &self,
        items: &[PairExample],
        batch_size: usize,
        rng: Option<&mut SeededRng>,
    ) -> Vec<Vec<usize>> {
        sequence_batches(
            || items.iter().map(|e| e.source.len()).collect(),
            items.len(),
            batch_size,
            self.bucket_pool,
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
        t.into_data().convert::<i64>().try_to_vec::<i64>().unwrap()
    }

    #[test]
    fn decoder_inputs_start_with_bos_and_outputs_end_with_eos() {
        let device = kindling_core::BackendKind::Flex.device().unwrap();
        let batcher = PairBatcher {
            pad: 0,
            bos: 1,
            eos: 2,
            bucket_pool: None,
        };
        let items = [
            PairExample {
                source: vec![7, 8, 2],
                target: vec![5],
            },
            PairExample {
                source: vec![9, 2],
                target: vec![6, 7, 8],
            },
        ];
        let batch = batcher.batch(&items, &device);
        assert_eq!(ints(batch.source), [7, 8, 2, 9, 2, 0]);
        let padding: Vec<bool> = batch
            .source_padding
            .into_data()
            .try_to_vec::<bool>()
            .unwrap();
        assert_eq!(padding, [false, false, false, false, false, true]);
        assert_eq!(ints(batch.decoder_input), [1, 5, 0, 0, 1, 6, 7, 8]);
        assert_eq!(ints(batch.output_positions), [0, 1, 4, 5, 6, 7]);
        assert_eq!(ints(batch.output_tokens), [5, 2, 6, 7, 8, 2]);
        assert_eq!(batch.output_lengths, [2, 4]);
        let again = batcher.batch(&items, &device);
        assert_eq!(again.fingerprint, batch.fingerprint);
        let other = batcher.batch(&items[..1], &device);
        assert_ne!(other.fingerprint, batch.fingerprint);
    }
}
