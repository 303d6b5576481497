//! Text prepared for a [`crate::LanguageModel`]: train, dev and test as one id stream each,
//! `<eos>` after every sentence, over the vocabulary of the training words.

use kindling_data::read::brown::BrownDocument;
use kindling_data::{DataDir, OnUnknown, Specials, TokenCounts, Vocab, VocabConfig};

use crate::Result;

/// Train, dev and test token streams over one vocabulary.
#[derive(Debug, Clone)]
pub struct TokenStreams {
    /// The vocabulary (`<pad>`, `<unk>`, `<bos>`, `<eos>`, then the training words seen at
    /// least `min_count` times, most frequent first).
    pub vocab: Vocab,
    /// Training stream.
    pub train: Vec<u32>,
    /// Dev stream.
    pub dev: Vec<u32>,
    /// Test stream.
    pub test: Vec<u32>,
}

impl TokenStreams {
    /// Encodes each split's sentences (token lists) as one stream, `<eos>` after every
    /// sentence, over the training tokens seen at least `min_count` times; the rest read as
    /// `<unk>`.
    ///
    /// # Errors
    /// When a sentence cannot be encoded.
    pub fn new(splits: [&[Vec<String>]; 3], min_count: u64) -> Result<Self> {
        let [train, dev, test] = splits;
        let mut counts = TokenCounts::new();
        train.iter().flatten().for_each(|w| counts.add(w));
        let vocab = Vocab::build(
            &counts,
            &VocabConfig {
                min_count,
                max_size: None,
                specials: Specials::seq2seq(),
            },
        );
        let eos = vocab.eos_id().expect("<eos> is a special");
        let stream = |sentences: &[Vec<String>]| -> Result<Vec<u32>> {
            let mut ids = Vec::new();
            for sentence in sentences {
                ids.extend(vocab.encode(sentence, OnUnknown::MapToUnk)?);
                ids.push(eos);
            }
            Ok(ids)
        };
        Ok(Self {
            train: stream(train)?,
            dev: stream(dev)?,
            test: stream(test)?,
            vocab,
        })
    }

    /// The Brown corpus of `data`, its documents split 80/10/10 with `split_seed`
    /// ([`kindling_data::split::three_way`]), words lower-cased, the training split cut to
    /// `max_sentences` when given.
    ///
    /// # Errors
    /// When the corpus cannot be read.
    pub fn brown(
        data: &DataDir,
        split_seed: u64,
        min_count: u64,
        max_sentences: Option<usize>,
    ) -> Result<Self> {
        let [train, dev, test] = kindling_data::split::three_way(data.brown()?, split_seed);
        let sentences = |docs: &[BrownDocument]| -> Vec<Vec<String>> {
            docs.iter()
                .flat_map(|d| &d.sentences)
                .filter(|s| !s.is_empty())
                .map(|s| s.iter().map(|w| w.word.to_lowercase()).collect())
                .collect()
        };
        let mut train = sentences(&train);
        if let Some(max) = max_sentences {
            train.truncate(max);
        }
        Self::new([&train, &sentences(&dev), &sentences(&test)], min_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_ends_with_eos_and_rare_words_read_as_unk() {
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let train = vec![words("a b a"), words("b c")];
        let dev = vec![words("a d")];
        let streams = TokenStreams::new([&train, &dev, &[]], 2).unwrap();
        let vocab = &streams.vocab;
        let (eos, unk) = (vocab.eos_id().unwrap(), vocab.unk_id().unwrap());
        let id = |w: &str| vocab.id(w).unwrap();
        assert_eq!(
            streams.train,
            vec![id("a"), id("b"), id("a"), eos, id("b"), unk, eos]
        );
        assert_eq!(streams.dev, vec![id("a"), unk, eos]);
        assert!(streams.test.is_empty());
    }
}
