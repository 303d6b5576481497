//! Turning encoded sequences into padded batches: ids, lengths and a padding mask, then
//! tensors on a device.

use kindling_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_core::train::Batcher;
use serde::{Deserialize, Serialize};

use crate::registry::TextExample;
use crate::sampler::sequence_batches;
use crate::{OnUnknown, Tokenizer, Vocab};

/// How sequences are padded and cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Padding {
    /// Id written into padding positions.
    pub pad_id: u32,
    /// Pad every batch to at least this length (a CNN needs its widest filter).
    pub min_len: usize,
    /// Truncate longer sequences to this length (their tails are dropped).
    pub max_len: Option<usize>,
}

impl Padding {
    /// Pads with `pad_id`, no minimum, no truncation.
    pub fn new(pad_id: u32) -> Self {
        Self {
            pad_id,
            min_len: 0,
            max_len: None,
        }
    }
}

/// A batch of sequences padded to one length, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaddedBatch {
    /// `batch × len` ids, row-major.
    pub ids: Vec<i64>,
    /// `batch × len`, true at real tokens and false at padding.
    pub mask: Vec<bool>,
    /// Length of each sequence after truncation.
    pub lengths: Vec<usize>,
    /// Padded length: `max(longest sequence, min_len)`.
    pub len: usize,
}

impl PaddedBatch {
    /// Pads (and truncates) `sequences` as `padding` says, keeping their order.
    pub fn new<S: AsRef<[u32]>>(sequences: &[S], padding: &Padding) -> Self {
        fn cut<'s>(s: &'s [u32], padding: &Padding) -> &'s [u32] {
            &s[..padding.max_len.map_or(s.len(), |m| m.min(s.len()))]
        }
        let lengths: Vec<usize> = sequences
            .iter()
            .map(|s| cut(s.as_ref(), padding).len())
            .collect();
        let len = lengths
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(padding.min_len);
        let mut ids = vec![i64::from(padding.pad_id); sequences.len() * len];
        let mut mask = vec![false; sequences.len() * len];
        for (row, sequence) in sequences.iter().enumerate() {
            let sequence = cut(sequence.as_ref(), padding);
            let start = row * len;
            for (slot, &id) in ids[start..].iter_mut().zip(sequence) {
                *slot = i64::from(id);
            }
            mask[start..start + sequence.len()].fill(true);
        }
        Self {
            ids,
            mask,
            lengths,
            len,
        }
    }

    /// Number of sequences.
    pub fn batch_size(&self) -> usize {
        self.lengths.len()
    }

    /// The ids as an integer tensor.
    ///
    /// # Shapes
    /// `[batch, len]`
    pub fn ids_tensor(&self, device: &Device) -> Tensor<2, Int> {
        Tensor::from_data(
            TensorData::new(self.ids.clone(), [self.batch_size(), self.len]),
            device,
        )
    }

    /// The padding mask: true at real tokens.
    ///
    /// # Shapes
    /// `[batch, len]`
    pub fn mask_tensor(&self, device: &Device) -> Tensor<2, Bool> {
        Tensor::from_data(
            TensorData::new(self.mask.clone(), [self.batch_size(), self.len]),
            device,
        )
    }

    /// The sequence lengths.
    ///
    /// # Shapes
    /// `[batch]`
    pub fn lengths_tensor(&self, device: &Device) -> Tensor<1, Int> {
        let lengths: Vec<i64> = self.lengths.iter().map(|&l| l as i64).collect();
        Tensor::from_data(TensorData::new(lengths, [self.batch_size()]), device)
    }
}

/// One encoded classification example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedExample {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Class id.
    pub label: u32,
}

impl EncodedExample {
    /// `examples`' texts tokenized with `tokenizer` and encoded over `vocab`, labels kept;
    /// `on_unknown` says what a token outside the vocabulary does.
    ///
    /// # Errors
    /// An unknown token under [`OnUnknown::Error`].
    pub fn encode_texts(
        examples: &[TextExample],
        vocab: &Vocab,
        tokenizer: &dyn Tokenizer,
        on_unknown: OnUnknown,
    ) -> crate::Result<Vec<Self>> {
        examples
            .iter()
            .map(|e| {
                Ok(Self {
                    ids: vocab.encode_text(tokenizer, &e.text, on_unknown)?,
                    label: e.label,
                })
            })
            .collect()
    }
}

/// A batch of sequences with class labels, on a device.
#[derive(Debug, Clone)]
pub struct SequenceBatch {
    /// Token ids, shape `[batch, len]`.
    pub tokens: Tensor<2, Int>,
    /// True at real tokens, shape `[batch, len]`.
    pub mask: Tensor<2, Bool>,
    /// Class ids, shape `[batch]`.
    pub labels: Tensor<1, Int>,
    /// Sequence lengths (after truncation).
    pub lengths: Vec<usize>,
}

/// Pads [`EncodedExample`]s into [`SequenceBatch`]es for the trainer, optionally grouping
/// examples of similar length (bucketing) so that RNN batches carry little padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceBatcher {
    /// Padding and truncation.
    pub padding: Padding,
    /// `Some(k)`: batches are formed from pools of `k` batches' worth of shuffled examples
    /// sorted by length ([`crate::sampler::bucketed_batches`]); `None`: plain shuffled batches.
    pub bucket_pool: Option<usize>,
}

impl SequenceBatcher {
    /// Plain shuffled batches padded with `padding`.
    pub fn new(padding: Padding) -> Self {
        Self {
            padding,
            bucket_pool: None,
        }
    }
}

impl Batcher<EncodedExample> for SequenceBatcher {
    type Batch = SequenceBatch;

    fn batch(&self, items: &[EncodedExample], device: &Device) -> SequenceBatch {
        let sequences: Vec<&[u32]> = items.iter().map(|e| e.ids.as_slice()).collect();
        let padded = PaddedBatch::new(&sequences, &self.padding);
        let labels: Vec<i64> = items.iter().map(|e| i64::from(e.label)).collect();
        SequenceBatch {
            tokens: padded.ids_tensor(device),
            mask: padded.mask_tensor(device),
            labels: Tensor::from_data(TensorData::new(labels, [items.len()]), device),
            lengths: padded.lengths,
        }
    }

    fn plan(
        &self,
        items: &[EncodedExample],
        batch_size: usize,
        rng: Option<&mut SeededRng>,
    ) -> Vec<Vec<usize>> {
        sequence_batches(
            || items.iter().map(|e| e.ids.len()).collect(),
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

    #[test]
    fn pads_to_the_longest_with_a_minimum_and_truncates() {
        let seqs: [&[u32]; 3] = [&[5, 6], &[7], &[1, 2, 3, 4]];
        let batch = PaddedBatch::new(
            &seqs,
            &Padding {
                pad_id: 0,
                min_len: 0,
                max_len: Some(3),
            },
        );
        assert_eq!(batch.len, 3);
        assert_eq!(batch.ids, [5, 6, 0, 7, 0, 0, 1, 2, 3]);
        assert_eq!(batch.lengths, [2, 1, 3]);
        assert_eq!(
            batch.mask,
            [true, true, false, true, false, false, true, true, true]
        );
        let wide = PaddedBatch::new(
            &seqs[..2],
            &Padding {
                pad_id: 9,
                min_len: 5,
                max_len: None,
            },
        );
        assert_eq!((wide.len, &wide.ids[..5]), (5, &[5, 6, 9, 9, 9][..]));
    }

    #[test]
    fn empty_sequences_and_batches_are_fine() {
        let batch = PaddedBatch::new(&[Vec::<u32>::new()], &Padding::new(0));
        assert_eq!((batch.len, batch.lengths.as_slice()), (0, &[0][..]));
        let none = PaddedBatch::new::<Vec<u32>>(
            &[],
            &Padding {
                min_len: 3,
                ..Padding::new(0)
            },
        );
        assert!(none.ids.is_empty());
    }

    #[test]
    fn batcher_builds_tensors_of_the_right_shape() {
        let device = kindling_core::BackendKind::Flex.device().unwrap();
        let items = vec![
            EncodedExample {
                ids: vec![3, 4, 5],
                label: 1,
            },
            EncodedExample {
                ids: vec![6],
                label: 0,
            },
        ];
        let batcher = SequenceBatcher::new(Padding {
            min_len: 4,
            ..Padding::new(0)
        });
        let batch = batcher.batch(&items, &device);
        assert_eq!(batch.tokens.dims(), [2, 4]);
        assert_eq!(batch.mask.dims(), [2, 4]);
        assert_eq!(batch.labels.dims(), [2]);
        let ids: Vec<i64> = batch
            .tokens
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        assert_eq!(ids, [3, 4, 5, 0, 6, 0, 0, 0]);
        let mask: Vec<i64> = batch
            .mask
            .int()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        assert_eq!(mask, [1, 1, 1, 0, 1, 0, 0, 0]);
    }
}
