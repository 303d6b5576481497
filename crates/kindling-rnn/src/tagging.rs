//! Tagged sentences prepared for a [`crate::Tagger`]: the tag inventory, the word vocabulary
//! (with the words pretrained vectors cover) and the encoded examples.

use std::collections::HashSet;

use kindling_data::tagged::TaggedExample;
use kindling_data::{OnUnknown, TokenCounts, Vocab, VocabConfig};
use kindling_embed::WordVectors;

use crate::Result;

/// One sentence as `(word, tag)` pairs.
pub type TaggedPairs = Vec<(String, String)>;

/// Train, dev and test sentences encoded over one vocabulary and one tag inventory.
#[derive(Debug, Clone)]
pub struct TaggingData {
    /// The word vocabulary (`<pad>`, `<unk>`, then the words).
    pub vocab: Vocab,
    /// Every tag of any split, sorted; a tag's id is its index.
    pub tags: Vec<String>,
    /// Encoded training sentences.
    pub train: Vec<TaggedExample>,
    /// Encoded dev sentences.
    pub dev: Vec<TaggedExample>,
    /// Encoded test sentences.
    pub test: Vec<TaggedExample>,
}

impl TaggingData {
    /// Encodes the three splits. Tags: every tag of any split (the inventory is known in
    /// advance), sorted. Words: the training words seen at least `min_count` times, and with
    /// `vectors` also every rarer training word and every dev or test word that has a vector
    /// (as written or lower-cased), so that pretrained knowledge reaches them; other words
    /// read as `<unk>`.
    ///
    /// # Errors
    /// When a sentence cannot be encoded.
    pub fn prepare(
        splits: [&[TaggedPairs]; 3],
        min_count: u64,
        vectors: Option<&WordVectors>,
    ) -> Result<Self> {
        let [train, dev, test] = splits;
        let mut tags: Vec<String> = train
            .iter()
            .chain(dev)
            .chain(test)
            .flatten()
            .map(|(_, t)| t.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        tags.sort();

        let has_vector = |word: &str| {
            vectors.is_some_and(|v| v.get(word).is_some() || v.get(&word.to_lowercase()).is_some())
        };
        let mut train_counts = TokenCounts::new();
        train
            .iter()
            .flatten()
            .for_each(|(w, _)| train_counts.add(w));
        let mut counts = TokenCounts::new();
        for (word, count) in train_counts.sorted() {
            if count >= min_count || has_vector(word) {
                counts.add_n(word, count);
            }
        }
        if vectors.is_some() {
            for (word, _) in dev.iter().chain(test).flatten() {
                if train_counts.get(word) == 0 && counts.get(word) == 0 && has_vector(word) {
                    counts.add_n(word, 1);
                }
            }
        }
        let vocab = Vocab::build(&counts, &VocabConfig::default());
        let tag_id = |t: &str| {
            tags.binary_search_by(|n| n.as_str().cmp(t))
                .expect("every tag is listed") as u32
        };
        let encode = |sentences: &[TaggedPairs]| -> Result<Vec<TaggedExample>> {
            sentences
                .iter()
                .map(|s| {
                    let words: Vec<&str> = s.iter().map(|(w, _)| w.as_str()).collect();
                    Ok(TaggedExample {
                        ids: vocab.encode(&words, OnUnknown::MapToUnk)?,
                        tags: s.iter().map(|(_, t)| tag_id(t)).collect(),
                    })
                })
                .collect()
        };
        let (train, dev, test) = (encode(train)?, encode(dev)?, encode(test)?);
        Ok(Self {
            vocab,
            tags,
            train,
            dev,
            test,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(pairs: &[(&str, &str)]) -> TaggedPairs {
        pairs
            .iter()
            .map(|(w, t)| (w.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn tags_come_from_every_split_and_rare_words_read_as_unk() {
        let train = [
            sentence(&[("the", "DET"), ("dog", "NOUN")]),
            sentence(&[("the", "DET"), ("cat", "NOUN")]),
        ];
        let test = [sentence(&[("the", "DET"), ("runs", "VERB")])];
        let data = TaggingData::prepare([&train, &[], &test], 2, None).unwrap();
        assert_eq!(data.tags, ["DET", "NOUN", "VERB"]);
        assert!(data.vocab.id("the").is_some());
        assert!(data.vocab.id("dog").is_none());
        let unk = data.vocab.unk_id().unwrap();
        assert_eq!(data.train[0].ids, vec![data.vocab.id("the").unwrap(), unk]);
        assert_eq!(data.test[0].tags, vec![0, 2]);
    }
}
