//! SST-2 as the PyTorch classifier comparisons use it — Kim's lowercased tokens, the
//! vocabulary, the encoded splits — and the batches file through which the PyTorch side
//! trains on kindling's planned batches.

use std::fmt::Write as _;

use kindling_data::batch::EncodedExample;
use kindling_data::tokenize::KimClean;
use kindling_data::{DataDir, OnUnknown, Vocab};

use crate::Result;

/// SST-2's splits encoded with Kim's vocabulary.
pub(crate) struct Sst2 {
    /// Kim's vocabulary over the corpus.
    pub vocab: Vocab,
    /// Number of classes.
    pub classes: usize,
    /// The encoded training sentences.
    pub train: Vec<EncodedExample>,
    /// The encoded dev sentences.
    pub dev: Vec<EncodedExample>,
    /// The encoded test sentences.
    pub test: Vec<EncodedExample>,
}

impl Sst2 {
    /// Reads and encodes SST-2 (sentences only) from `data`.
    ///
    /// # Errors
    /// Missing data, or a token the vocabulary does not hold.
    pub fn load(data: &DataDir) -> Result<Self> {
        let corpus = data.sst(false)?;
        let tokenizer = KimClean { lowercase: true };
        let vocab = corpus.vocabulary(&tokenizer);
        let encode = |examples: &[kindling_data::registry::TextExample]| {
            EncodedExample::encode_texts(examples, &vocab, &tokenizer, OnUnknown::Error)
        };
        let train = encode(&corpus.train)?;
        let dev = encode(corpus.dev.as_deref().unwrap_or_default())?;
        let test = encode(corpus.test.as_deref().unwrap_or_default())?;
        Ok(Self {
            classes: corpus.labels.len(),
            vocab,
            train,
            dev,
            test,
        })
    }

    /// The padding token's id.
    pub fn pad(&self) -> u32 {
        self.vocab.pad_id().expect("<pad> is a special")
    }
}

/// A batch's padded length: its longest sentence, at least `min_len` (as the batcher pads).
pub(crate) fn padded_len(train: &[EncodedExample], batch: &[usize], min_len: usize) -> usize {
    batch
        .iter()
        .map(|&i| train[i].ids.len())
        .max()
        .unwrap_or(0)
        .max(min_len)
}

/// The file the PyTorch scripts read (`read_plans` in `torch_common.py`): `header` and the
/// number of epochs, then for each epoch its number of batches and each batch as a count
/// followed by one `label id id …` line per sentence (unpadded); then the dev and test
/// sentences, each set after its count.
pub(crate) fn batches_text(
    header: &str,
    train: &[EncodedExample],
    plans: &[Vec<Vec<usize>>],
    dev: &[EncodedExample],
    test: &[EncodedExample],
) -> String {
    let mut text = format!("{header} {}\n", plans.len());
    let sentence = |text: &mut String, e: &EncodedExample| {
        let _ = write!(text, "{}", e.label);
        for id in &e.ids {
            let _ = write!(text, " {id}");
        }
        text.push('\n');
    };
    for plan in plans {
        let _ = writeln!(text, "{}", plan.len());
        for batch in plan {
            let _ = writeln!(text, "{}", batch.len());
            batch.iter().for_each(|&i| sentence(&mut text, &train[i]));
        }
    }
    for split in [dev, test] {
        let _ = writeln!(text, "{}", split.len());
        split.iter().for_each(|e| sentence(&mut text, e));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(lengths: &[usize]) -> Vec<EncodedExample> {
        lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| EncodedExample {
                ids: (0..n as u32).map(|t| t + 3).collect(),
                label: (i % 2) as u32,
            })
            .collect()
    }

    #[test]
    fn batches_file_lists_each_epochs_batches_then_dev_and_test() {
        let train = sentences(&[2, 3, 1]);
        let plans = vec![vec![vec![2, 0], vec![1]], vec![vec![0, 1, 2]]];
        let text = batches_text("H", &train, &plans, &train[..1], &[]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "H 2", "2", "2", "0 3", "0 3 4", "1", "1 3 4 5", "1", "3", "0 3 4", "1 3 4 5",
                "0 3", "1", "0 3 4", "0"
            ]
        );
        assert_eq!(padded_len(&train, &[0, 2], 5), 5);
        assert_eq!(padded_len(&train, &[0, 1], 2), 3);
    }
}
