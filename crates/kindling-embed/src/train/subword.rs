//! Subword embeddings (fastText, Bojanowski et al. 2017): a word is the mean of its own row and
//! the rows of its character n-grams, hashed into a fixed number of buckets. Words never seen in
//! training still get a vector, from their n-grams.
//!
//! The n-grams and their hash are fastText's: the word is wrapped in `<` and `>`, n-grams of
//! `min_n..=max_n` characters (not bytes) are taken, and each is hashed with 32-bit FNV-1a over
//! its bytes (sign-extended, as fastText's C++ does) modulo `buckets`. Training is skip-gram
//! (or CBOW) with negative sampling over a streamed corpus, lock-free across threads, on the
//! engine [`crate::train::word2vec`] uses, with the same driver for training, saving and
//! loading.

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

/// Training settings; the defaults are fastText's `skipgram`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubwordConfig {
    /// Skip-gram or CBOW.
    pub architecture: Architecture,
    /// Vector size.
    pub dim: usize,
    /// Maximum distance between centre and context word (each position draws `1..=window`).
    pub window: usize,
    /// Negative samples per positive example.
    pub negative: usize,
    /// Words seen fewer times are dropped.
    pub min_count: u64,
    /// Subsampling threshold (0 disables).
    pub sample: f64,
    /// Starting learning rate.
    pub alpha: f64,
    /// Final learning rate.
    pub min_alpha: f64,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Worker threads.
    pub threads: usize,
    /// Seed of initialisation, windows, subsampling and negatives.
    pub seed: u64,
    /// Shows a progress bar on standard error.
    pub progress: bool,
    /// Shortest n-gram, in characters.
    pub min_n: usize,
    /// Longest n-gram, in characters (0: no n-grams, plain word vectors).
    pub max_n: usize,
    /// Number of hash buckets shared by all n-grams.
    pub buckets: usize,
}

impl Default for SubwordConfig {
    fn default() -> Self {
        Self {
            architecture: Architecture::SkipGram,
            dim: 100,
            window: 5,
            negative: 5,
            min_count: 5,
            sample: 1e-4,
            alpha: 0.05,
            min_alpha: 0.0,
            epochs: 5,
            threads: 1,
            seed: 1,
            progress: false,
            min_n: 3,
            max_n: 6,
            buckets: 2_000_000,
        }
    }
}

impl SubwordConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        let problem = if self.dim == 0 || self.window == 0 || self.threads == 0 || self.epochs == 0
        {
            "dim, window, threads and epochs must be positive"
        } else if self.negative == 0 {
            "negative must be positive"
        } else if self.max_n > 0 && (self.min_n == 0 || self.min_n > self.max_n) {
            "n-gram lengths need 1 <= min_n <= max_n (or max_n = 0 for none)"
        } else if self.max_n > 0 && self.buckets == 0 {
            "n-grams need at least one bucket"
        } else if self.buckets > u32::MAX as usize / 2 {
            "too many buckets"
        } else if let Some(problem) = super::rates_problem(self.alpha, self.min_alpha, self.sample)
        {
            return Err(Error::Invalid {
                what: "subword config",
                problem,
            });
        } else {
            return Ok(());
        };
        Err(Error::Invalid {
            what: "subword config",
            problem: problem.into(),
        })
    }

    /// Buckets actually allocated (none without n-grams).
    fn bucket_rows(&self) -> usize {
        if self.max_n == 0 { 0 } else { self.buckets }
    }
}

/// fastText's hash of an n-gram: 32-bit FNV-1a over its bytes, each sign-extended first.
pub fn ngram_hash(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 2_166_136_261;
    for &b in bytes {
        hash ^= b as i8 as i32 as u32;
        hash = hash.wrapping_mul(16_777_619);
    }
    hash
}

/// Calls `visit` with each character n-gram of `<word>` of `min_n..=max_n` characters, in
/// fastText's order (by start, then length). The one-character n-grams `<` and `>` are left
/// out.
pub fn for_each_ngram(word: &str, min_n: usize, max_n: usize, mut visit: impl FnMut(&str)) {
    if max_n == 0 {
        return;
    }
    let wrapped = format!("<{word}>");
    let starts: Vec<usize> = wrapped.char_indices().map(|(i, _)| i).collect();
    let chars = starts.len();
    for (k, &start) in starts.iter().enumerate() {
        for n in min_n.max(1)..=max_n {
            if k + n > chars {
                break;
            }
            if n == 1 && (k == 0 || k + 1 == chars) {
                continue;
            }
            let end = starts.get(k + n).copied().unwrap_or(wrapped.len());
            visit(&wrapped[start..end]);
        }
    }
}

/// The end-of-sentence token of fastText's dictionary, which has no n-grams.
pub const END_OF_SENTENCE: &str = "</s>";

/// The n-gram rows of `word`: bucket `hash mod buckets`, placed after the `words` word rows
/// (none for [`END_OF_SENTENCE`], as in fastText).
fn ngram_rows(word: &str, words: usize, config: &SubwordConfig) -> Vec<u32> {
    let mut rows = Vec::new();
    if word == END_OF_SENTENCE {
        return rows;
    }
    for_each_ngram(word, config.min_n, config.max_n, |ngram| {
        let bucket = ngram_hash(ngram.as_bytes()) as usize % config.buckets;
        rows.push((words + bucket) as u32);
    });
    rows
}

/// A trained subword model: vocabulary, settings, word and n-gram rows, output weights.
#[derive(Debug, Clone, PartialEq)]
pub struct SubwordModel {
    config: SubwordConfig,
    vocab: Vocab,
    /// `(words + buckets) × dim`: word rows, then n-gram bucket rows.
    input: Vec<f32>,
    /// One output row per word.
    output: Vec<f32>,
}

impl SubwordModel {
    /// Builds the vocabulary of `corpus` and trains on it.
    ///
    /// # Errors
    /// Corpus read errors; [`Error::Invalid`] for an empty vocabulary or bad settings.
    pub fn train(
        corpus: &Corpus,
        tokenizer: &dyn Tokenizer,
        config: &SubwordConfig,
    ) -> Result<(Self, TrainReport)> {
        driver::train(corpus, tokenizer, config)
    }

    /// Trains `epochs` more passes over `corpus` with the model's settings (the learning rate
    /// decays again from `alpha`). Words outside the vocabulary are skipped.
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

    /// Mean of `rows` of the input matrix.
    fn mean_of_rows(&self, rows: impl IntoIterator<Item = u32>) -> Vec<f32> {
        let dim = self.config.dim;
        let mut sum = vec![0.0f32; dim];
        let mut count = 0usize;
        for row in rows {
            let start = row as usize * dim;
            for (s, v) in sum.iter_mut().zip(&self.input[start..start + dim]) {
                *s += v;
            }
            count += 1;
        }
        if count > 0 {
            let scale = 1.0 / count as f32;
            sum.iter_mut().for_each(|s| *s *= scale);
        }
        sum
    }

    /// The vector of any word: for a vocabulary word the mean of its row and its n-gram rows,
    /// for another word the mean of its n-gram rows (zeros when it has none, e.g. with
    /// `max_n = 0`), as fastText's `getWordVector`.
    pub fn word_vector(&self, word: &str) -> Vec<f32> {
        let words = self.vocab.len();
        let ngrams = ngram_rows(word, words, &self.config);
        match self.vocab.id(word) {
            Some(id) => self.mean_of_rows(std::iter::once(id).chain(ngrams)),
            None => self.mean_of_rows(ngrams),
        }
    }

    /// Vectors of the vocabulary's words, in vocabulary order: what fastText writes to `.vec`.
    pub fn vectors(&self) -> WordVectors {
        let data = self
            .vocab
            .tokens()
            .iter()
            .flat_map(|word| self.word_vector(word))
            .collect();
        WordVectors::from_training(self.vocab.tokens().to_vec(), self.config.dim, data)
            .expect("one row per word")
    }

    /// Vectors of `words`, in or out of the vocabulary.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `words` is empty.
    pub fn vectors_of(&self, words: &[&str]) -> Result<WordVectors> {
        let data = words
            .iter()
            .flat_map(|word| self.word_vector(word))
            .collect();
        WordVectors::from_training(
            words.iter().map(|w| (*w).to_owned()).collect(),
            self.config.dim,
            data,
        )
    }

    /// The vocabulary with counts.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The settings it was trained with.
    pub fn config(&self) -> &SubwordConfig {
        &self.config
    }

    /// Saves the whole model atomically, in the format
    /// [`crate::train::word2vec::Word2Vec::save`] describes (matrices `input`, word rows then
    /// bucket rows, and `output`).
    ///
    /// # Errors
    /// Write failures.
    pub fn save(&self, path: &Path) -> Result<()> {
        driver::save(self, path)
    }

    /// Loads a model written by [`SubwordModel::save`].
    ///
    /// # Errors
    /// [`Error::Format`] for a file that is not a subword model, truncated or corrupted, or
    /// whose matrices do not fit its settings.
    pub fn load(path: &Path) -> Result<Self> {
        driver::load(path)
    }
}

impl SubwordModel {
    /// A model from its parts: `input` is `(words + buckets) × dim` (none without n-grams),
    /// `output` `words × dim`.
    pub(crate) fn from_matrices(
        config: SubwordConfig,
        vocab: Vocab,
        input: Vec<f32>,
        output: Vec<f32>,
    ) -> Self {
        debug_assert_eq!(
            input.len(),
            (vocab.len() + config.bucket_rows()) * config.dim
        );
        debug_assert_eq!(output.len(), vocab.len() * config.dim);
        Self {
            config,
            vocab,
            input,
            output,
        }
    }

    /// The input and output matrices, as [`SubwordModel::from_matrices`] takes them.
    pub(crate) fn matrices_for_writing(&self) -> [&[f32]; 2] {
        [&self.input, &self.output]
    }
}

impl Model for SubwordModel {
    type Config = SubwordConfig;
    const KIND: &'static str = "subword";
    const MATRICES: &'static [&'static str] = &["input", "output"];
    // fastText draws every input row from ±1/dim and negatives by count^0.5.
    const INIT_SCALE: f64 = 1.0;
    const NEGATIVE_POWER: f64 = 0.5;

    fn validate(config: &SubwordConfig) -> Result<()> {
        config.validate()
    }

    fn common(c: &SubwordConfig) -> Common {
        Common {
            architecture: c.architecture,
            dim: c.dim,
            window: c.window,
            negative: c.negative,
            hierarchical_softmax: false,
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

    fn with_epochs(config: &SubwordConfig, epochs: usize) -> SubwordConfig {
        SubwordConfig {
            epochs,
            ..config.clone()
        }
    }

    fn rows(config: &SubwordConfig, words: usize) -> Vec<usize> {
        vec![words + config.bucket_rows(), words]
    }

    fn input_rows(config: &SubwordConfig, vocab: &Vocab) -> Option<InputRows> {
        let words = vocab.len();
        (config.max_n > 0).then(|| {
            InputRows::new(vocab.tokens().iter().enumerate().map(|(id, word)| {
                let mut rows = vec![id as u32];
                rows.extend(ngram_rows(word, words, config));
                rows
            }))
        })
    }

    fn from_parts(config: SubwordConfig, vocab: Vocab, matrices: Vec<Vec<f32>>) -> Self {
        let [input, output] = <[Vec<f32>; 2]>::try_from(matrices).expect("two matrices");
        Self {
            config,
            vocab,
            input,
            output,
        }
    }

    fn config(&self) -> &SubwordConfig {
        &self.config
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn parts_mut(&mut self) -> (&SubwordConfig, &Vocab, Vec<&mut Vec<f32>>) {
        (
            &self.config,
            &self.vocab,
            vec![&mut self.input, &mut self.output],
        )
    }

    fn matrices(&self) -> Vec<&[f32]> {
        vec![&self.input, &self.output]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::cosine;
    use kindling_core::seed::SeededRng;
    use kindling_data::read::corpus::CorpusFile;
    use kindling_data::source::Encoding;
    use kindling_data::tokenize::Whitespace;

    #[test]
    fn hash_matches_fasttext() {
        // 32-bit FNV-1a; for bytes >= 0x80 fastText XORs the sign-extended byte.
        assert_eq!(ngram_hash(b"a"), 0xe40c_292c);
        assert_eq!(ngram_hash("<é".as_bytes()), 0x280e_7713);
        assert_eq!(ngram_hash(b"<wh") % 2_000_000, 167_652);
    }

    #[test]
    fn ngrams_are_fasttexts() {
        let mut grams = Vec::new();
        for_each_ngram("where", 3, 3, |g| grams.push(g.to_owned()));
        assert_eq!(grams, ["<wh", "whe", "her", "ere", "re>"]);

        // Characters, not bytes; by start then length; `<` and `>` alone are skipped.
        let mut grams = Vec::new();
        for_each_ngram("né", 1, 2, |g| grams.push(g.to_owned()));
        assert_eq!(grams, ["<n", "n", "né", "é", "é>"]);

        let mut count = 0;
        for_each_ngram("where", 3, 6, |_| count += 1);
        // 7 characters with boundaries: 5 + 4 + 3 + 2 n-grams of 3, 4, 5, 6 characters.
        assert_eq!(count, 14);
        for_each_ngram("where", 3, 0, |_| panic!("max_n = 0 means no n-grams"));
    }

    fn corpus() -> Corpus {
        static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
        let path = PATH.get_or_init(|| {
            // `walk`/`walked`/`walking`-style families: each stem's forms share contexts and
            // n-grams; stems differ.
            let mut rng = SeededRng::new(4);
            let stems = ["jump", "talk", "paint", "climb", "cook", "dance"];
            let mut text = String::new();
            for _ in 0..3000 {
                let s = rng.below(stems.len() as u64) as usize;
                let form = ["", "ed", "ing", "s"][rng.below(4) as usize];
                let filler: Vec<String> = (0..4).map(|_| format!("w{}", rng.below(30))).collect();
                text.push_str(&format!(
                    "{} ctx{s} {}{form} ctx{s}b {}\n",
                    filler[..2].join(" "),
                    stems[s],
                    filler[2..].join(" ")
                ));
            }
            let dir = std::env::temp_dir().join(format!("kindling-subword-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("families.txt");
            std::fs::write(&path, text).unwrap();
            path
        });
        Corpus::new(vec![CorpusFile::Text(path.clone())], Encoding::Utf8).unwrap()
    }

    fn config() -> SubwordConfig {
        SubwordConfig {
            dim: 24,
            window: 2,
            epochs: 5,
            min_count: 1,
            sample: 0.0,
            buckets: 5_000,
            ..Default::default()
        }
    }

    #[test]
    fn unseen_words_land_near_their_family() {
        let (model, report) =
            SubwordModel::train(&corpus(), &Whitespace::default(), &config()).unwrap();
        assert!(report.epoch_loss.last() < report.epoch_loss.first());
        // `jumper`, `talker`, … never occur: their n-grams put them nearest their stem's forms.
        let stems = ["jump", "talk", "paint", "climb", "cook", "dance"];
        let vectors = model.vectors();
        let mut hits = 0;
        for stem in stems {
            let unseen = model.word_vector(&format!("{stem}er"));
            let best = vectors
                .words()
                .iter()
                .max_by(|a, b| {
                    let ca = cosine(&unseen, vectors.get(a).unwrap());
                    let cb = cosine(&unseen, vectors.get(b).unwrap());
                    ca.total_cmp(&cb)
                })
                .unwrap();
            hits += usize::from(best.starts_with(stem));
        }
        assert!(hits >= 5, "{hits}/6 unseen words nearest their family");
        // A word made of unseen characters has no known n-grams but still a vector.
        assert_eq!(model.word_vector("ŋŋŋ").len(), 24);
    }

    #[test]
    fn a_saved_model_reads_back_whole_through_keyed_vectors_and_as_fasttext() {
        let config = SubwordConfig {
            epochs: 1,
            ..config()
        };
        let (model, _) = SubwordModel::train(&corpus(), &Whitespace::default(), &config).unwrap();
        let dir = std::env::temp_dir().join(format!("kindling-keyed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (own, fasttext) = (dir.join("model.kndl"), dir.join("model.bin"));
        model.save(&own).unwrap();
        crate::io::fasttext_bin::write_fasttext_model(&model, &fasttext).unwrap();
        for path in [&own, &fasttext] {
            let keyed = crate::KeyedVectors::load(path).unwrap();
            assert!(keyed.model().is_some(), "{}", path.display());
            assert_eq!(
                keyed.word_vector("jumper").unwrap().as_ref(),
                model.word_vector("jumper")
            );
            assert_eq!(keyed.vectors().len(), model.vocab().len());
        }
        // The fastText file keeps the settings that decide the vectors.
        let back = crate::io::fasttext_bin::read_fasttext_model(&fasttext).unwrap();
        let (a, b) = (back.config(), model.config());
        assert_eq!(
            (
                a.dim,
                a.window,
                a.negative,
                a.min_n,
                a.max_n,
                a.buckets,
                a.architecture
            ),
            (
                b.dim,
                b.window,
                b.negative,
                b.min_n,
                b.max_n,
                b.buckets,
                b.architecture
            )
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn without_ngrams_a_vocabulary_word_is_its_own_row() {
        let config = SubwordConfig {
            max_n: 0,
            epochs: 1,
            ..config()
        };
        let (model, _) = SubwordModel::train(&corpus(), &Whitespace::default(), &config).unwrap();
        assert_eq!(model.input.len(), model.vocab().len() * 24);
        assert!(model.word_vector("unseen").iter().all(|&v| v == 0.0));
    }

    #[test]
    fn save_load_round_trips_and_training_continues() {
        let config = SubwordConfig {
            epochs: 1,
            ..config()
        };
        let (mut model, _) =
            SubwordModel::train(&corpus(), &Whitespace::default(), &config).unwrap();
        let dir =
            std::env::temp_dir().join(format!("kindling-subword-model-{}", std::process::id()));
        let path = dir.join("model.kemb");
        model.save(&path).unwrap();
        let mut loaded = SubwordModel::load(&path).unwrap();
        assert_eq!(loaded, model);
        model
            .continue_training(&corpus(), &Whitespace::default(), 1)
            .unwrap();
        loaded
            .continue_training(&corpus(), &Whitespace::default(), 1)
            .unwrap();
        assert_eq!(loaded, model);
        let err = crate::train::word2vec::Word2Vec::load(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a `word2vec` model"), "{err}");
    }

    #[test]
    fn bad_settings_are_errors() {
        for config in [
            SubwordConfig {
                min_n: 4,
                max_n: 3,
                ..config()
            },
            SubwordConfig {
                buckets: 0,
                ..config()
            },
            SubwordConfig {
                negative: 0,
                ..config()
            },
        ] {
            assert!(SubwordModel::train(&corpus(), &Whitespace::default(), &config).is_err());
        }
    }
}
