//! Byte-pair-encoding subwords (Sennrich et al. 2016) through Hugging Face's `tokenizers`: merges
//! learned on already tokenised training text (both sides of a corpus for a joint vocabulary),
//! words split into pieces, and pieces joined back into words before scoring.
//!
//! A piece that continues a word starts with `##`, so `bicycles` may become `bi ##cycle ##s`;
//! characters never seen in training become `<unk>`.
//!
//! Learning is reproducible: the same lines give the same merges. The `tokenizers` trainer
//! breaks ties between equally frequent pairs by the pieces' numbers, and on its own it numbers
//! continuation pieces (`##e`) in the order of a randomly seeded hash map; [`Subwords::train`]
//! therefore registers every continuation piece first, in character order, so the numbering
//! (and with it every tie) is fixed. Words are expected not to contain `##` themselves.

use std::path::Path;
use std::str::FromStr;

use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::{AddedToken, Tokenizer};

use crate::{Error, Result};

/// What marks a piece that continues a word.
const CONTINUATION: &str = "##";
/// The piece of characters never seen in training.
const UNKNOWN: &str = "<unk>";

/// A learned byte-pair encoding.
pub struct Subwords {
    tokenizer: Tokenizer,
}

impl Subwords {
    /// Learns merges from `lines` (tokens separated by spaces) until the vocabulary of pieces
    /// has `vocabulary` entries (characters included), merging only pairs seen at least
    /// `min_frequency` times.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a vocabulary of 0; [`Error::Subwords`] when training fails.
    pub fn train<S: AsRef<str> + Send>(
        lines: impl Iterator<Item = S> + Send,
        vocabulary: usize,
        min_frequency: u64,
    ) -> Result<Self> {
        let lines: Vec<S> = lines.collect();
        let mut fixed_pieces = vec![AddedToken::from(UNKNOWN, true)];
        fixed_pieces.extend(
            continuation_pieces(&lines)
                .into_iter()
                .map(|piece| AddedToken::from(piece, true)),
        );
        if vocabulary == 0 {
            return Err(Error::InvalidConfig {
                field: "bpe_vocabulary",
                problem: "must be positive".into(),
            });
        }
        let model = BPE::builder()
            .continuing_subword_prefix(CONTINUATION.into())
            .unk_token(UNKNOWN.into())
            .build()
            .map_err(subword_error)?;
        let mut tokenizer = Tokenizer::new(ModelWrapper::BPE(model));
        tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::WhitespaceSplit(WhitespaceSplit)));
        let mut trainer = TrainerWrapper::BpeTrainer(
            BpeTrainerBuilder::new()
                .vocab_size(vocabulary)
                .min_frequency(min_frequency)
                .show_progress(false)
                .continuing_subword_prefix(CONTINUATION.into())
                .special_tokens(fixed_pieces)
                .build(),
        );
        tokenizer
            .train(&mut trainer, lines.into_iter())
            .map_err(subword_error)?;
        Ok(Self { tokenizer })
    }

    /// The pieces of `words`, in order.
    ///
    /// # Errors
    /// [`Error::Subwords`] when the encoder fails.
    pub fn split<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<String>> {
        let mut pieces = Vec::with_capacity(words.len() * 2);
        for word in words {
            let word = word.as_ref();
            if word.trim().is_empty() {
                continue;
            }
            let encoding = self.tokenizer.encode(word, false).map_err(subword_error)?;
            pieces.extend(encoding.get_tokens().iter().cloned());
        }
        Ok(pieces)
    }

    /// Pieces joined back into words: each piece starting with `##` is glued to the one before.
    ///
    /// ```
    /// use kindling_seq2seq::subword::Subwords;
    /// assert_eq!(Subwords::join(&["a", "bi", "##cycle", "##s", "."]), ["a", "bicycles", "."]);
    /// ```
    pub fn join<S: AsRef<str>>(pieces: &[S]) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for piece in pieces {
            let piece = piece.as_ref();
            match (piece.strip_prefix(CONTINUATION), words.last_mut()) {
                (Some(rest), Some(word)) => word.push_str(rest),
                (Some(rest), None) => words.push(rest.to_string()),
                (None, _) => words.push(piece.to_string()),
            }
        }
        words
    }

    /// Pieces in the learned vocabulary (the unknown piece included).
    pub fn vocabulary_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// Writes the encoding as `tokenizers`' JSON, atomically.
    ///
    /// # Errors
    /// [`Error::Subwords`] when it does not serialise; write failures.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = self.tokenizer.to_string(false).map_err(subword_error)?;
        kindling_core::atomic::write_atomic(path, json.as_bytes())?;
        Ok(())
    }

    /// Reads an encoding that [`Subwords::save`] wrote.
    ///
    /// # Errors
    /// A missing file; [`Error::Manifest`] naming it when it is not such an encoding.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| kindling_core::Error::io("reading", path, e))?;
        let tokenizer = Tokenizer::from_str(&text).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            problem: format!("not a subword encoding: {e}"),
        })?;
        Ok(Self { tokenizer })
    }
}

/// `##c` for every character `c` that follows another within a word of `lines`, in character
/// order: the trainer's starting pieces for the inside of words, numbered in this order.
fn continuation_pieces<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    let inner: std::collections::BTreeSet<char> = lines
        .iter()
        .flat_map(|line| line.as_ref().split_whitespace())
        .flat_map(|word| word.chars().skip(1))
        .collect();
    inner
        .into_iter()
        .map(|c| format!("{CONTINUATION}{c}"))
        .collect()
}

fn subword_error(error: tokenizers::Error) -> Error {
    Error::Subwords(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<String> {
        [
            "a man rides a bike .",
            "two men ride bikes .",
            "the riders ride their bikes",
            "a rider rides",
        ]
        .iter()
        .cycle()
        .take(40)
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn learned_pieces_cover_the_training_words_and_join_back() {
        let subwords = Subwords::train(corpus().into_iter(), 40, 2).unwrap();
        assert!(subwords.vocabulary_size() <= 40);
        let words = ["the", "riders", "ride", "bikes", "."];
        let pieces = subwords.split(&words).unwrap();
        assert!(pieces.len() >= words.len());
        assert!(pieces.iter().all(|p| p != UNKNOWN), "{pieces:?}");
        assert_eq!(Subwords::join(&pieces), words);
        // Unseen characters are unknown pieces; seen ones still split.
        let pieces = subwords.split(&["bikez"]).unwrap();
        assert!(pieces.iter().any(|p| p.contains(UNKNOWN)), "{pieces:?}");
    }

    #[test]
    fn a_saved_encoding_splits_the_same() {
        let subwords = Subwords::train(corpus().into_iter(), 30, 1).unwrap();
        let path = std::env::temp_dir().join(format!("kindling-bpe-{}.json", std::process::id()));
        subwords.save(&path).unwrap();
        let loaded = Subwords::load(&path).unwrap();
        let words = ["two", "riders", "ride", "a", "bike"];
        assert_eq!(
            loaded.split(&words).unwrap(),
            subwords.split(&words).unwrap()
        );
        std::fs::write(&path, "{}").unwrap();
        assert!(Subwords::load(&path).is_err());
        std::fs::remove_file(path).unwrap();
        assert!(Subwords::train(corpus().into_iter(), 0, 1).is_err());
    }

    #[test]
    fn learning_twice_gives_the_same_encoding() {
        // Many pairs of equal frequency, so the tie-breaking decides which merges are learned.
        let lines: Vec<String> = (0..200)
            .map(|i| {
                let a = char::from(b'a' + (i % 13) as u8);
                let b = char::from(b'n' + (i % 11) as u8);
                format!("{a}{b}x{b}{a} q{a}{a}{b} {b}z{a}")
            })
            .collect();
        let json = |subwords: &Subwords| subwords.tokenizer.to_string(false).unwrap();
        let first = json(&Subwords::train(lines.iter(), 60, 1).unwrap());
        for _ in 0..4 {
            assert_eq!(json(&Subwords::train(lines.iter(), 60, 1).unwrap()), first);
        }
    }
}
