//! word2vec training (Mikolov et al. 2013): skip-gram or CBOW with negative sampling and/or
//! hierarchical softmax, frequent-word subsampling, a shrunk (dynamic) window and a linearly
//! decaying learning rate, over a corpus streamed from disk once per epoch.
//!
//! Memory is O(vocabulary × dim): the corpus is never held, only one line at a time per thread.
//! Threads update the shared weights without locks (Hogwild: stale reads and lost updates are
//! tolerated, as in word2vec.c). With one thread a seed gives the same vectors bit for bit.
//!
//! A [`Word2Vec`] keeps its vocabulary and output weights: save it, load it and continue training
//! on more text (words outside its vocabulary are skipped, as in gensim without a vocabulary
//! update).

use std::path::Path;

use kindling_core::seed::SeededRng;
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;
use kindling_data::{Specials, Vocab, VocabConfig};
use serde::{Deserialize, Serialize};

use crate::io::model_file::ModelFile;
use crate::train::hogwild::SharedMatrix;
use crate::train::huffman::HuffmanTree;
use crate::train::sampling::{keep_probabilities, unigram_table};
use crate::train::trainer::{self, Network, Output, Schedule};
pub use crate::train::trainer::{Architecture, TrainReport};
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
        Ok(())
    }

    pub(crate) fn schedule(&self, name: &'static str) -> Schedule {
        Schedule {
            architecture: self.architecture,
            window: self.window,
            alpha: self.alpha,
            min_alpha: self.min_alpha,
            epochs: self.epochs,
            threads: self.threads,
            seed: self.seed,
            progress: self.progress,
            name,
        }
    }
}

fn invalid(problem: impl Into<String>) -> Error {
    Error::Invalid {
        what: "word2vec config",
        problem: problem.into(),
    }
}

/// The vocabulary of `corpus` under `min_count`, with its token total; an error when no word
/// is frequent enough.
pub(crate) fn corpus_vocab(
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    min_count: u64,
) -> Result<(Vocab, u64)> {
    let counts = corpus.count_tokens(tokenizer)?;
    let vocab = Vocab::build(
        &counts,
        &VocabConfig {
            min_count,
            max_size: None,
            specials: Specials::none(),
        },
    );
    if vocab.is_empty() {
        return Err(Error::Invalid {
            what: "corpus",
            problem: format!("no word occurs {min_count} times"),
        });
    }
    Ok((vocab, counts.total()))
}

/// Tokens in `corpus` (one counting pass).
pub(crate) fn count_raw_words(corpus: &Corpus, tokenizer: &dyn Tokenizer) -> Result<u64> {
    let mut total = 0u64;
    corpus.for_each_line(|line| {
        tokenizer.for_each_token(line, &mut |_| total += 1);
        Ok(())
    })?;
    Ok(total)
}

/// `rows × dim` values drawn uniformly from `±bound`.
pub(crate) fn initial_rows(rows: usize, dim: usize, seed: u64, bound: f64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..rows * dim)
        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
        .collect()
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
        config.validate()?;
        let (vocab, raw_words) = corpus_vocab(corpus, tokenizer, config.min_count)?;
        let (words, dim) = (vocab.len(), config.dim);
        let mut model = Self {
            config: config.clone(),
            // word2vec.c draws input rows from ±0.5/dim.
            input: initial_rows(words, dim, config.seed, 0.5 / dim as f64),
            negative_rows: vec![0.0; if config.negative > 0 { words * dim } else { 0 }],
            tree_rows: vec![
                0.0;
                if config.hierarchical_softmax {
                    words.saturating_sub(1) * dim
                } else {
                    0
                }
            ],
            vocab,
        };
        let report = model.run(corpus, tokenizer, raw_words, config)?;
        Ok((model, report))
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
        let config = Word2VecConfig {
            epochs,
            ..self.config.clone()
        };
        config.validate()?;
        let raw_words = count_raw_words(corpus, tokenizer)?;
        self.run(corpus, tokenizer, raw_words, &config)
    }

    fn run(
        &mut self,
        corpus: &Corpus,
        tokenizer: &dyn Tokenizer,
        raw_words: u64,
        config: &Word2VecConfig,
    ) -> Result<TrainReport> {
        let dim = config.dim;
        let counts = self.vocab.counts();
        let tree = config.hierarchical_softmax.then(|| {
            (
                HuffmanTree::new(counts),
                SharedMatrix::new(std::mem::take(&mut self.tree_rows), dim),
            )
        });
        let network = Network {
            input: SharedMatrix::new(std::mem::take(&mut self.input), dim),
            subwords: None,
            output: Output {
                negative: config.negative,
                table: unigram_table(counts, 0.75),
                negative_rows: SharedMatrix::new(std::mem::take(&mut self.negative_rows), dim),
                tree,
            },
            keep: keep_probabilities(counts, config.sample),
        };
        let report = trainer::train(
            &network,
            &config.schedule("word2vec"),
            corpus,
            tokenizer,
            &self.vocab,
            raw_words,
        );
        self.input = network.input.into_vec();
        self.negative_rows = network.output.negative_rows.into_vec();
        if let Some((_, rows)) = network.output.tree {
            self.tree_rows = rows.into_vec();
        }
        report
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
        ModelFile::new(
            "word2vec",
            &self.config,
            &self.vocab,
            self.config.dim,
            &[
                ("input", &self.input),
                ("negative", &self.negative_rows),
                ("tree", &self.tree_rows),
            ],
        )
        .save(path)
    }

    /// Loads a model written by [`Word2Vec::save`].
    ///
    /// # Errors
    /// [`Error::Format`] for a file that is not a word2vec model, truncated or corrupted, or
    /// whose matrices do not fit its settings.
    pub fn load(path: &Path) -> Result<Self> {
        let (mut file, config, vocab) =
            ModelFile::open(path, "word2vec", |c: &Word2VecConfig| c.validate())?;
        let (words, dim) = (vocab.len(), config.dim);
        let negative = if config.negative > 0 { words } else { 0 };
        let inner = if config.hierarchical_softmax {
            words.saturating_sub(1)
        } else {
            0
        };
        Ok(Self {
            input: file.take(path, "input", words, dim)?,
            negative_rows: file.take(path, "negative", negative, dim)?,
            tree_rows: file.take(path, "tree", inner, dim)?,
            config,
            vocab,
        })
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
