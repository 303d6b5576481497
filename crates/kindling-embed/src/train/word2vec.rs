//! word2vec training (Mikolov et al. 2013): skip-gram or CBOW with negative sampling and/or
//! hierarchical softmax, frequent-word subsampling, a shrunk (dynamic) window and a linearly
//! decaying learning rate, over a corpus streamed from disk once per epoch.
//!
//! Memory is O(vocabulary × dim): the corpus is never held, only one line at a time per thread.
//! Threads update the shared weights row by row, each row behind a (striped) spin lock (where
//! word2vec.c races without locks, which in Rust would be undefined behaviour); the row
//! kernels vectorise as on private buffers. With one thread a seed gives the same vectors bit
//! for bit.
//!
//! A [`Word2Vec`] keeps its vocabulary and output weights: save it, load it and continue training
//! on more text (words outside its vocabulary are skipped, as in gensim without a vocabulary
//! update).

use std::path::Path;

use kindling_data::Vocab;
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;
use serde::{Deserialize, Serialize};

use super::driver::{self, Common, Model};
use super::trainer::InputRows;
pub use super::trainer::{Architecture, TrainReport};
use crate::vectors::WordVectors;
use crate::{Error, Result};

/// Training settings; the defaults are gensim's (skip-gram).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Word2VecConfig {
    /// Skip-gram or CBOW.
    pub architecture: Architecture,
    /// Vector size.
    pub dim: usize,
    /// Maximum distance between centre and context word; each position draws its window from
    /// `1..=window`.
    pub window: usize,
    /// Negative samples per positive example (0 disables negative sampling).
    pub negative: usize,
    /// Trains a hierarchical softmax over a Huffman tree of the vocabulary (alone when
    /// `negative` is 0, or beside negative sampling).
    pub hierarchical_softmax: bool,
    /// Words seen fewer times are dropped.
    pub min_count: u64,
    /// Subsampling threshold (0 disables): frequent words are kept with probability
    /// `(sqrt(f / (sample·N)) + 1) · sample·N / f`.
    pub sample: f64,
    /// Starting learning rate (gensim: 0.025 skip-gram, 0.05 CBOW).
    pub alpha: f64,
    /// Final learning rate.
    pub min_alpha: f64,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Worker threads.
    pub threads: usize,
    /// Seed of initialisation, windows, subsampling and negatives.
    pub seed: u64,
    /// Shows a progress bar on standard error with words/s and the running loss.
    pub progress: bool,
}

impl Default for Word2VecConfig {
    fn default() -> Self {
        Self {
            architecture: Architecture::SkipGram,
            dim: 100,
            window: 5,
            negative: 5,
            hierarchical_softmax: false,
            min_count: 5,
            sample: 1e-3,
            alpha: 0.025,
            min_alpha: 1e-4,
            epochs: 5,
            threads: 1,
            seed: 1,
            progress: false,
        }
    }
}

impl Word2VecConfig {
    fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.window == 0 || self.threads == 0 || self.epochs == 0 {
            return Err(invalid("dim, window, threads and epochs must be positive"));
        }
        if self.negative == 0 && !self.hierarchical_softmax {
            return Err(invalid(
                "choose negative sampling (negative > 0), hierarchical softmax or both",
            ));
        }
        if let Some(problem) = super::rates_problem(self.alpha, self.min_alpha, self.sample) {
            return Err(invalid(problem));
        }
        Ok(())
    }
}

fn invalid(problem: impl Into<String>) -> Error {
    Error::Invalid {
        what: "word2vec config",
        problem: problem.into(),
    }
}

/// A trained word2vec model: vocabulary, settings, word vectors and output weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Word2Vec {
    config: Word2VecConfig,
    vocab: Vocab,
    input: Vec<f32>,
    /// `syn1neg`: one row per word (empty without negative sampling).
    negative_rows: Vec<f32>,
    /// `syn1`: one row per inner node of the Huffman tree (empty without hierarchical softmax).
    tree_rows: Vec<f32>,
}

impl Word2Vec {
    /// Builds the vocabulary of `corpus` and trains on it.
    ///
    /// # Errors
    /// Corpus read errors; [`Error::Invalid`] for an empty vocabulary or bad settings.
    pub fn train(
        corpus: &Corpus,
        tokenizer: &dyn Tokenizer,
        config: &Word2VecConfig,
    ) -> Result<(Self, TrainReport)> {
        driver::train(corpus, tokenizer, config)
    }

    /// Trains `epochs` more passes over `corpus` (the same text or new text) with the model's
    /// settings: the learning rate decays again from `alpha` to `min_alpha`. Words outside the
    /// model's vocabulary are skipped.
    ///
    /// # Errors
    /// Corpus read errors; [`Error::Invalid`] for zero epochs.
    pub fn continue_training(
        &mut self,
        corpus: &Corpus,
        tokenizer: &dyn Tokenizer,
        epochs: usize,
    ) -> Result<TrainReport> {
        driver::continue_training(self, corpus, tokenizer, epochs)
    }

    /// The word vectors (input rows), in vocabulary order.
    pub fn vectors(&self) -> WordVectors {
        WordVectors::from_training(
            self.vocab.tokens().to_vec(),
            self.config.dim,
            self.input.clone(),
        )
        .expect("one row per word")
    }

    /// The vocabulary with counts.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The settings it was trained with.
    pub fn config(&self) -> &Word2VecConfig {
        &self.config
    }

    /// Saves the whole model atomically: magic `KNDLEMBD`, a format version, a JSON header
    /// (settings, vocabulary with counts, matrix shapes and FNV-1a checksums), then the f32
    /// matrices in little-endian row-major order.
    ///
    /// # Errors
    /// Write failures.
    pub fn save(&self, path: &Path) -> Result<()> {
        driver::save(self, path)
    }

    /// Loads a model written by [`Word2Vec::save`].
    ///
    /// # Errors
    /// [`Error::Format`] for a file that is not a word2vec model, truncated or corrupted, or
    /// whose matrices do not fit its settings.
    pub fn load(path: &Path) -> Result<Self> {
        driver::load(path)
    }
}

impl Model for Word2Vec {
    type Config = Word2VecConfig;
    const KIND: &'static str = "word2vec";
    const MATRICES: &'static [&'static str] = &["input", "negative", "tree"];
    // word2vec.c draws input rows from ±0.5/dim and negatives by count^0.75.
    const INIT_SCALE: f64 = 0.5;
    const NEGATIVE_POWER: f64 = 0.75;

    fn validate(config: &Word2VecConfig) -> Result<()> {
        config.validate()
    }

    fn common(c: &Word2VecConfig) -> Common {
        Common {
            architecture: c.architecture,
            dim: c.dim,
            window: c.window,
            negative: c.negative,
            hierarchical_softmax: c.hierarchical_softmax,
            min_count: c.min_count,
            sample: c.sample,
            alpha: c.alpha,
            min_alpha: c.min_alpha,
            epochs: c.epochs,
            threads: c.threads,
            seed: c.seed,
            progress: c.progress,
        }
    }

    fn with_epochs(config: &Word2VecConfig, epochs: usize) -> Word2VecConfig {
        Word2VecConfig {
            epochs,
            ..config.clone()
        }
    }

    fn rows(config: &Word2VecConfig, words: usize) -> Vec<usize> {
        let negative = if config.negative > 0 { words } else { 0 };
        let inner = if config.hierarchical_softmax {
            words.saturating_sub(1)
        } else {
            0
        };
        vec![words, negative, inner]
    }

    fn input_rows(_: &Word2VecConfig, _: &Vocab) -> Option<InputRows> {
        None
    }

    fn from_parts(config: Word2VecConfig, vocab: Vocab, matrices: Vec<Vec<f32>>) -> Self {
        let [input, negative_rows, tree_rows] =
            <[Vec<f32>; 3]>::try_from(matrices).expect("three matrices");
        Self {
            config,
            vocab,
            input,
            negative_rows,
            tree_rows,
        }
    }

    fn config(&self) -> &Word2VecConfig {
        &self.config
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn parts_mut(&mut self) -> (&Word2VecConfig, &Vocab, Vec<&mut Vec<f32>>) {
        let matrices = vec![
            &mut self.input,
            &mut self.negative_rows,
            &mut self.tree_rows,
        ];
        (&self.config, &self.vocab, matrices)
    }

    fn matrices(&self) -> Vec<&[f32]> {
        vec![&self.input, &self.negative_rows, &self.tree_rows]
    }
}

/// Trains word vectors on `corpus` tokenised by `tokenizer` ([`Word2Vec::train`], keeping only
/// the vectors).
///
/// # Errors
/// As [`Word2Vec::train`].
pub fn train(
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    config: &Word2VecConfig,
) -> Result<(WordVectors, TrainReport)> {
    let (model, report) = Word2Vec::train(corpus, tokenizer, config)?;
    Ok((model.vectors(), report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_core::seed::SeededRng;
    use kindling_data::read::corpus::CorpusFile;
    use kindling_data::source::Encoding;
    use kindling_data::tokenize::Whitespace;

    /// A corpus where `a_i` and `b_i` are interchangeable: each line has `pre_i` then `a_i` or
    /// `b_i` then `post_i`, among filler words. Words sharing contexts get similar vectors.
    /// Written once per test process (tests run in parallel and share it).
    fn planted_corpus() -> Corpus {
        static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
        let path = PATH.get_or_init(write_planted_corpus);
        Corpus::new(vec![CorpusFile::Text(path.clone())], Encoding::Utf8).unwrap()
    }

    fn write_planted_corpus() -> std::path::PathBuf {
        let mut rng = SeededRng::new(9);
        let mut text = String::new();
        for _ in 0..3000 {
            let pair = rng.below(10);
            let mut line: Vec<String> =
                (0..5).map(|_| format!("filler{}", rng.below(40))).collect();
            let at = rng.below(5) as usize;
            let word = if rng.below(2) == 0 { "a" } else { "b" };
            line.insert(at, format!("pre{pair}"));
            line.insert(at + 1, format!("{word}{pair}"));
            line.insert(at + 2, format!("post{pair}"));
            text.push_str(&line.join(" "));
            text.push('\n');
        }
        let dir = std::env::temp_dir().join(format!("kindling-w2v-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("planted.txt");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config(architecture: Architecture) -> Word2VecConfig {
        Word2VecConfig {
            architecture,
            dim: 20,
            window: 2,
            epochs: 5,
            sample: 0.0,
            min_count: 1,
            ..Default::default()
        }
    }

    #[test]
    fn learning_rates_and_sample_out_of_range_are_refused_before_training() {
        let corpus = planted_corpus();
        for (alpha, min_alpha, sample, named) in [
            (f64::NAN, 0.0, 0.0, "alpha"),
            (f64::INFINITY, 0.0, 0.0, "alpha"),
            (1e300, 0.0, 0.0, "alpha"),
            (0.0, 0.0, 0.0, "alpha"),
            (-0.1, 0.0, 0.0, "alpha"),
            (0.025, 0.5, 0.0, "min_alpha"),
            (0.025, f64::NAN, 0.0, "min_alpha"),
            (0.025, 0.0, -1.0, "sample"),
            (0.025, 0.0, f64::NAN, "sample"),
        ] {
            let config = Word2VecConfig {
                alpha,
                min_alpha,
                sample,
                ..config(Architecture::SkipGram)
            };
            let err = train(&corpus, &Whitespace::default(), &config)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("{named} must be")),
                "{alpha} {min_alpha} {sample}: {err}"
            );
            let subword = crate::subword::SubwordConfig {
                alpha,
                min_alpha,
                sample,
                ..Default::default()
            };
            let err = subword.validate().unwrap_err().to_string();
            assert!(err.contains(&format!("{named} must be")), "subword: {err}");
        }
    }

    #[test]
    fn planted_pairs_are_nearest_neighbours() {
        let corpus = planted_corpus();
        let hierarchical = |architecture| Word2VecConfig {
            negative: 0,
            hierarchical_softmax: true,
            ..config(architecture)
        };
        for config in [
            config(Architecture::SkipGram),
            config(Architecture::Cbow),
            hierarchical(Architecture::SkipGram),
            hierarchical(Architecture::Cbow),
        ] {
            let architecture = (config.architecture, config.hierarchical_softmax);
            let (vectors, report) = train(&corpus, &Whitespace::default(), &config).unwrap();
            let sim = crate::Similarity::new(
                &vectors,
                &kindling_core::BackendKind::Flex.device().unwrap(),
            );
            let mut hits = 0;
            for i in 0..10 {
                let near = sim.nearest(&format!("a{i}"), 1).unwrap();
                hits += usize::from(near[0].word == format!("b{i}"));
            }
            assert!(
                hits >= 9,
                "{architecture:?}: {hits}/10 planted pairs nearest"
            );
            assert!(
                report.epoch_loss.last() < report.epoch_loss.first(),
                "{:?}",
                report.epoch_loss
            );
            assert_eq!(report.raw_words, 3000 * 8);
        }
    }

    #[test]
    fn one_thread_is_bit_reproducible_and_the_seed_matters() {
        let corpus = planted_corpus();
        let run = |seed| {
            train(
                &corpus,
                &Whitespace::default(),
                &Word2VecConfig {
                    seed,
                    epochs: 1,
                    ..config(Architecture::SkipGram)
                },
            )
            .unwrap()
            .0
        };
        let a = run(3);
        assert_eq!(a, run(3));
        assert_ne!(a, run(4));
    }

    #[test]
    fn a_saved_model_loads_identically_and_continues_training() {
        let corpus = planted_corpus();
        let config = Word2VecConfig {
            epochs: 1,
            hierarchical_softmax: true,
            ..config(Architecture::SkipGram)
        };
        let (mut model, first) = Word2Vec::train(&corpus, &Whitespace::default(), &config).unwrap();
        let dir = std::env::temp_dir().join(format!("kindling-w2v-model-{}", std::process::id()));
        let path = dir.join("model.kemb");
        model.save(&path).unwrap();
        let loaded = Word2Vec::load(&path).unwrap();
        assert_eq!(loaded, model);

        // Two more epochs from the saved state: the loss keeps falling below the first epoch's,
        // and a loaded copy continues exactly like the original.
        let mut copy = loaded;
        let more = model
            .continue_training(&corpus, &Whitespace::default(), 2)
            .unwrap();
        assert!(
            more.epoch_loss[1] < first.epoch_loss[0],
            "{first:?} {more:?}"
        );
        assert_eq!(more.raw_words, first.raw_words);
        copy.continue_training(&corpus, &Whitespace::default(), 2)
            .unwrap();
        assert_eq!(copy, model);

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = Word2Vec::load(&path).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn bad_settings_and_empty_vocabularies_are_errors() {
        let corpus = planted_corpus();
        assert!(
            train(
                &corpus,
                &Whitespace::default(),
                &Word2VecConfig {
                    threads: 0,
                    ..Default::default()
                }
            )
            .is_err()
        );
        let err = train(
            &corpus,
            &Whitespace::default(),
            &Word2VecConfig {
                negative: 0,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("hierarchical softmax"), "{err}");
        let err = train(
            &corpus,
            &Whitespace::default(),
            &Word2VecConfig {
                min_count: 1_000_000,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("no word occurs"), "{err}");
    }
}
