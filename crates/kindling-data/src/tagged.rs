//! Batches for sequence labelling: every token has a gold tag.

use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_core::train::Batcher;
use serde::{Deserialize, Serialize};

use crate::batch::{PaddedBatch, Padding};
use crate::sampler::sequence_batches;

/// A sentence as token ids with one tag id per token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedExample {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Tag ids, as many as `ids`.
    pub tags: Vec<u32>,
}

/// A padded batch of tagged sentences.
#[derive(Debug, Clone)]
pub struct TaggedBatch {
    /// Token ids, `[batch, len]`.
    pub tokens: Tensor<2, Int>,
    /// The gold tag of every real token, sentence after sentence, `[Σ lengths]`.
    pub tags: Tensor<1, Int>,
    /// Sentence lengths.
    pub lengths: Vec<usize>,
}

impl TaggedBatch {
    /// How many real tokens the batch holds.
    pub fn tokens_count(&self) -> usize {
        self.lengths.iter().sum()
    }
}

/// Pads [`TaggedExample`]s into [`TaggedBatch`]es, optionally bucketing sentences of similar
/// length together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedBatcher {
    /// Padding (`max_len` is not allowed to cut tagged sentences and is ignored).
    pub padding: Padding,
    /// `Some(k)`: bucketed batches from pools of `k` batches ([`crate::sampler::bucketed_batches`]).
    pub bucket_pool: Option<usize>,
}

impl TaggedBatcher {
    /// Plain shuffled batches padded with `pad_id`.
    pub fn new(pad_id: u32) -> Self {
        Self {
            padding: Padding::new(pad_id),
            bucket_pool: None,
        }
    }
}

impl Batcher<TaggedExample> for TaggedBatcher {
    type Batch = TaggedBatch;

    fn batch(&self, items: &[TaggedExample], device: &Device) -> TaggedBatch {
        let padding = Padding {
            max_len: None,
            min_len: self.padding.min_len.max(1),
            ..self.padding
        };
        let sequences: Vec<&[u32]> = items.iter().map(|e| e.ids.as_slice()).collect();
        let padded = PaddedBatch::new(&sequences, &padding);
        let tags: Vec<i64> = items
            .iter()
            .flat_map(|e| e.tags.iter().map(|&t| i64::from(t)))
            .collect();
        let count = tags.len();
        TaggedBatch {
            tokens: padded.ids_tensor(device),
            tags: Tensor::from_data(TensorData::new(tags, [count]), device),
            lengths: padded.lengths,
        }
    }

    fn plan(
        &self,
        items: &[TaggedExample],
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

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;

    #[test]
    fn tags_of_real_tokens_only_in_sentence_order() {
        let device = BackendKind::Flex.device().unwrap();
        let items = [
            TaggedExample {
                ids: vec![4, 5, 6],
                tags: vec![1, 2, 3],
            },
            TaggedExample {
                ids: vec![7],
                tags: vec![9],
            },
        ];
        let batch = TaggedBatcher::new(0).batch(&items, &device);
        assert_eq!(batch.lengths, vec![3, 1]);
        assert_eq!(batch.tokens.dims(), [2, 3]);
        let tags: Vec<i64> = batch
            .tags
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(tags, vec![1, 2, 3, 9]);
        let ids: Vec<i64> = batch
            .tokens
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(ids, vec![4, 5, 6, 7, 0, 0]);
    }
}
