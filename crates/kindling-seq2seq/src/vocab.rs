//! The two vocabularies of an encoder–decoder and the encoding of pairs with them.
//!
//! Both sides carry the seq2seq special tokens (`<pad>`, `<unk>`, `<s>`, `</s>`, with `<pad>` at
//! the same id on both sides); a source ends with `</s>`, a target has neither `<s>` nor `</s>`
//! (the [`PairBatcher`] adds them).

use std::path::Path;

use kindling_data::{OnUnknown, Specials, TokenCounts, Vocab, VocabConfig};

use crate::batch::{PairBatcher, PairExample};
use crate::search::SearchConfig;
use crate::{Error, Result};

/// The source vocabulary file of a saved model.
pub const SOURCE_VOCAB: &str = "source_vocab.txt";
/// The target vocabulary file of a saved model.
pub const TARGET_VOCAB: &str = "target_vocab.txt";

/// A vocabulary with the seq2seq special tokens of the tokens seen at least `min_count` times.
pub fn seq2seq_vocabulary<S: AsRef<str>>(
    tokens: impl IntoIterator<Item = S>,
    min_count: u64,
) -> Vocab {
    let mut counts = TokenCounts::new();
    for token in tokens {
        counts.add(token.as_ref());
    }
    Vocab::build(
        &counts,
        &VocabConfig {
            min_count,
            max_size: None,
            specials: Specials::seq2seq(),
        },
    )
}

/// Source and target vocabularies, checked to hold the special tokens decoding needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PairVocabularies {
    source: Vocab,
    target: Vocab,
    /// `<pad>`, the same on both sides.
    pad: u32,
    /// The source side's `</s>`.
    source_eos: u32,
    /// The target side's `<s>`.
    bos: u32,
    /// The target side's `</s>`.
    eos: u32,
}

impl PairVocabularies {
    /// Vocabularies of the training pairs' tokens seen at least `min_count` times on their side.
    pub fn build<'a, S: AsRef<str> + 'a>(
        pairs: impl IntoIterator<Item = (&'a [S], &'a [S])> + Clone,
        min_count: u64,
    ) -> Self {
        let source = seq2seq_vocabulary(pairs.clone().into_iter().flat_map(|(s, _)| s), min_count);
        let target = seq2seq_vocabulary(pairs.into_iter().flat_map(|(_, t)| t), min_count);
        Self::new(source, target).expect("seq2seq vocabularies have their special tokens")
    }

    /// Vocabularies built elsewhere.
    ///
    /// # Errors
    /// [`Error::Mismatch`] when a side lacks `<pad>`, `<unk>` or `</s>`, the target lacks `<s>`,
    /// or the two sides put `<pad>` at different ids.
    pub fn new(source: Vocab, target: Vocab) -> Result<Self> {
        let missing = |side: &str, what: &str| Error::Mismatch {
            what: "vocabularies",
            problem: format!("the {side} vocabulary has no {what} token"),
        };
        for (side, vocab) in [("source", &source), ("target", &target)] {
            if vocab.unk_id().is_none() {
                return Err(missing(side, "<unk>"));
            }
        }
        let pad = source.pad_id().ok_or_else(|| missing("source", "<pad>"))?;
        if target.pad_id() != Some(pad) {
            return Err(Error::Mismatch {
                what: "vocabularies",
                problem: "<pad> must have the same id on both sides".into(),
            });
        }
        let source_eos = source.eos_id().ok_or_else(|| missing("source", "</s>"))?;
        let bos = target.bos_id().ok_or_else(|| missing("target", "<s>"))?;
        let eos = target.eos_id().ok_or_else(|| missing("target", "</s>"))?;
        Ok(Self {
            source,
            target,
            pad,
            source_eos,
            bos,
            eos,
        })
    }

    /// Loads `source_vocab.txt` and `target_vocab.txt` from a run folder.
    ///
    /// # Errors
    /// Unreadable files, or vocabularies without the special tokens (naming the folder).
    pub fn load(dir: &Path) -> Result<Self> {
        let source = Vocab::load(&dir.join(SOURCE_VOCAB))?;
        let target = Vocab::load(&dir.join(TARGET_VOCAB))?;
        Self::new(source, target).map_err(|e| Error::Manifest {
            path: dir.to_path_buf(),
            problem: e.to_string(),
        })
    }

    /// Writes both vocabularies into a run folder.
    ///
    /// # Errors
    /// Write failures.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.source.save(&dir.join(SOURCE_VOCAB))?;
        self.target.save(&dir.join(TARGET_VOCAB))?;
        Ok(())
    }

    /// The source vocabulary.
    pub fn source(&self) -> &Vocab {
        &self.source
    }

    /// The target vocabulary.
    pub fn target(&self) -> &Vocab {
        &self.target
    }

    /// The padding id of both sides.
    pub fn pad(&self) -> u32 {
        self.pad
    }

    /// Source ids of `tokens`, ending with `</s>`; unknown tokens become `<unk>`.
    ///
    /// # Errors
    /// Vocabulary errors (none in practice: unknown tokens map to `<unk>`).
    pub fn encode_source<S: AsRef<str>>(&self, tokens: &[S]) -> Result<Vec<u32>> {
        let mut ids = self.source.encode(tokens, OnUnknown::MapToUnk)?;
        ids.push(self.source_eos);
        Ok(ids)
    }

    /// Target ids of `tokens` (no `<s>` or `</s>`); unknown tokens become `<unk>`.
    ///
    /// # Errors
    /// As [`PairVocabularies::encode_source`].
    pub fn encode_target<S: AsRef<str>>(&self, tokens: &[S]) -> Result<Vec<u32>> {
        Ok(self.target.encode(tokens, OnUnknown::MapToUnk)?)
    }

    /// A training pair.
    ///
    /// # Errors
    /// As [`PairVocabularies::encode_source`].
    pub fn encode_pair<S: AsRef<str>>(&self, source: &[S], target: &[S]) -> Result<PairExample> {
        Ok(PairExample {
            source: self.encode_source(source)?,
            target: self.encode_target(target)?,
        })
    }

    /// Target tokens of output ids (special tokens dropped).
    ///
    /// # Errors
    /// An id outside the target vocabulary.
    pub fn decode_target(&self, ids: &[u32]) -> Result<Vec<&str>> {
        Ok(self.target.decode(ids, true)?)
    }

    /// The batcher of pairs encoded with these vocabularies; `bucket_pool` batches of similar
    /// source length are drawn from pools of that many batches (`None`: no bucketing).
    pub fn batcher(&self, bucket_pool: Option<usize>) -> PairBatcher {
        PairBatcher {
            pad: self.pad,
            bos: self.bos,
            eos: self.eos,
            bucket_pool,
        }
    }

    /// Search limits with the target side's `<s>` and `</s>` and the default lengths.
    pub fn search(&self) -> SearchConfig {
        SearchConfig::new(self.bos, self.eos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn pairs_encode_with_eos_on_the_source_and_unknowns_mapped() {
        let (a, b) = (words("a b a"), words("x y"));
        let vocabularies = PairVocabularies::build([(&a[..], &b[..])], 1);
        let pair = vocabularies
            .encode_pair(&words("a c"), &words("y z"))
            .unwrap();
        let source = vocabularies.source();
        assert_eq!(
            pair.source,
            [
                source.id("a").unwrap(),
                source.unk_id().unwrap(),
                source.eos_id().unwrap()
            ]
        );
        let target = vocabularies.target();
        assert_eq!(
            pair.target,
            [target.id("y").unwrap(), target.unk_id().unwrap()]
        );
        assert_eq!(vocabularies.decode_target(&pair.target).unwrap(), ["y"]);
        let batcher = vocabularies.batcher(Some(3));
        assert_eq!(batcher.bos, target.bos_id().unwrap());
        assert_eq!(batcher.pad, vocabularies.pad());
    }

    #[test]
    fn vocabularies_without_special_tokens_are_refused() {
        let plain =
            Vocab::from_parts(Specials::none(), vec![("a".into(), 1), ("b".into(), 1)]).unwrap();
        let (a, b) = (words("a"), words("b"));
        let good = PairVocabularies::build([(&a[..], &b[..])], 1);
        let err = PairVocabularies::new(plain, good.target().clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("source vocabulary has no <unk>"), "{err}");
    }

    #[test]
    fn saved_vocabularies_load_back() {
        let dir = std::env::temp_dir().join(format!("kindling-pair-vocab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (words("a b"), words("c"));
        let vocabularies = PairVocabularies::build([(&a[..], &b[..])], 1);
        vocabularies.save(&dir).unwrap();
        assert_eq!(PairVocabularies::load(&dir).unwrap(), vocabularies);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
