//! What word2vec and subword models share: building the vocabulary and fresh weights, training,
//! training further, saving and loading. A model describes itself through [`Model`] (its
//! settings, its weight matrices and how its input rows are wired) and the functions here do
//! the rest on the engine in [`super::trainer`].

use std::path::Path;

use kindling_core::seed::SeededRng;
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;
use kindling_data::{Specials, Vocab, VocabConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::huffman::HuffmanTree;
use super::sampling::{keep_probabilities, unigram_table};
use super::shared_matrix::SharedMatrix;
use super::trainer::{self, Architecture, InputRows, Network, Output, Schedule, TrainReport};
use crate::io::model_file::ModelFile;
use crate::{Error, Result};

/// The settings every model of the engine has.
pub(crate) struct Common {
    pub(crate) architecture: Architecture,
    pub(crate) dim: usize,
    pub(crate) window: usize,
    pub(crate) negative: usize,
    pub(crate) hierarchical_softmax: bool,
    pub(crate) min_count: u64,
    pub(crate) sample: f64,
    pub(crate) alpha: f64,
    pub(crate) min_alpha: f64,
    pub(crate) epochs: usize,
    pub(crate) threads: usize,
    pub(crate) seed: u64,
    pub(crate) progress: bool,
}

/// A model trained by the shared engine and saved whole in a model file.
///
/// Its weights are the matrices named in [`Model::MATRICES`], in that order: the input rows,
/// one output row per word for negative sampling, then (if listed) the inner nodes of the
/// Huffman tree for hierarchical softmax.
pub(crate) trait Model: Sized {
    /// Its settings.
    type Config: Clone + Serialize + DeserializeOwned;
    /// The model file's `kind`, also the name on the progress bar.
    const KIND: &'static str;
    /// Names of the weight matrices in the model file.
    const MATRICES: &'static [&'static str];
    /// Input rows are drawn from `±INIT_SCALE / dim`.
    const INIT_SCALE: f64;
    /// Negatives are drawn by `count^NEGATIVE_POWER`.
    const NEGATIVE_POWER: f64;

    /// An error for settings that cannot train.
    fn validate(config: &Self::Config) -> Result<()>;
    /// The settings the engine reads.
    fn common(config: &Self::Config) -> Common;
    /// The same settings for `epochs` passes.
    fn with_epochs(config: &Self::Config, epochs: usize) -> Self::Config;
    /// Rows of each matrix for a vocabulary of `words`.
    fn rows(config: &Self::Config, words: usize) -> Vec<usize>;
    /// Each word's input rows, when a word has more than its own row.
    fn input_rows(config: &Self::Config, vocab: &Vocab) -> Option<InputRows>;
    /// The model from its parts, matrices in [`Model::MATRICES`] order.
    fn from_parts(config: Self::Config, vocab: Vocab, matrices: Vec<Vec<f32>>) -> Self;
    /// Its settings.
    fn config(&self) -> &Self::Config;
    /// Its vocabulary.
    fn vocab(&self) -> &Vocab;
    /// Its settings, vocabulary and matrices, in [`Model::MATRICES`] order.
    fn parts_mut(&mut self) -> (&Self::Config, &Vocab, Vec<&mut Vec<f32>>);
    /// Its matrices, in [`Model::MATRICES`] order.
    fn matrices(&self) -> Vec<&[f32]>;
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

/// Builds the vocabulary of `corpus`, draws the input rows (the other matrices start at zero)
/// and trains.
pub(crate) fn train<M: Model>(
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    config: &M::Config,
) -> Result<(M, TrainReport)> {
    M::validate(config)?;
    let common = M::common(config);
    let (vocab, raw_words) = corpus_vocab(corpus, tokenizer, common.min_count)?;
    let dim = common.dim;
    let matrices = M::rows(config, vocab.len())
        .into_iter()
        .enumerate()
        .map(|(i, rows)| match i {
            0 => initial_rows(rows, dim, common.seed, M::INIT_SCALE / dim as f64),
            _ => vec![0.0; rows * dim],
        })
        .collect();
    let mut model = M::from_parts(config.clone(), vocab, matrices);
    let report = run(&mut model, corpus, tokenizer, raw_words, config)?;
    Ok((model, report))
}

/// Trains `epochs` more passes with the model's settings.
pub(crate) fn continue_training<M: Model>(
    model: &mut M,
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    epochs: usize,
) -> Result<TrainReport> {
    let config = M::with_epochs(model.config(), epochs);
    M::validate(&config)?;
    let raw_words = count_raw_words(corpus, tokenizer)?;
    run(model, corpus, tokenizer, raw_words, &config)
}

/// Moves the model's weights into a network, trains it under `config` and moves them back.
fn run<M: Model>(
    model: &mut M,
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    raw_words: u64,
    config: &M::Config,
) -> Result<TrainReport> {
    let common = M::common(config);
    let dim = common.dim;
    let (_, vocab, mut matrices) = model.parts_mut();
    let counts = vocab.counts();
    let mut take = |i: usize| SharedMatrix::new(std::mem::take(&mut *matrices[i]), dim);
    let input = take(0);
    let negative_rows = take(1);
    let tree = (common.hierarchical_softmax && M::MATRICES.len() > 2)
        .then(|| (HuffmanTree::new(counts), take(2)));
    let network = Network {
        input,
        subwords: M::input_rows(config, vocab),
        output: Output {
            negative: common.negative,
            table: unigram_table(counts, M::NEGATIVE_POWER),
            negative_rows,
            tree,
        },
        keep: keep_probabilities(counts, common.sample),
    };
    let schedule = Schedule {
        architecture: common.architecture,
        window: common.window,
        alpha: common.alpha,
        min_alpha: common.min_alpha,
        epochs: common.epochs,
        threads: common.threads,
        seed: common.seed,
        progress: common.progress,
        name: M::KIND,
    };
    let report = trainer::train(&network, &schedule, corpus, tokenizer, vocab, raw_words);
    *matrices[0] = network.input.into_vec();
    *matrices[1] = network.output.negative_rows.into_vec();
    if let Some((_, rows)) = network.output.tree {
        *matrices[2] = rows.into_vec();
    }
    report
}

/// Saves the whole model atomically (see [`crate::io::model_file`]).
pub(crate) fn save<M: Model>(model: &M, path: &Path) -> Result<()> {
    let matrices: Vec<(&str, &[f32])> = M::MATRICES.iter().copied().zip(model.matrices()).collect();
    ModelFile::new(
        M::KIND,
        model.config(),
        model.vocab(),
        M::common(model.config()).dim,
        &matrices,
    )
    .save(path)
}

/// Loads a model written by [`save`], checking that each matrix fits the settings.
pub(crate) fn load<M: Model>(path: &Path) -> Result<M> {
    let (mut file, config, vocab) = ModelFile::open(path, M::KIND, M::validate)?;
    let dim = M::common(&config).dim;
    let matrices = M::MATRICES
        .iter()
        .zip(M::rows(&config, vocab.len()))
        .map(|(name, rows)| file.take(path, name, rows, dim))
        .collect::<Result<_>>()?;
    Ok(M::from_parts(config, vocab, matrices))
}
