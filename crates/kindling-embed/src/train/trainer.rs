//! The training engine shared by word2vec and subword (fastText-style) training: a shallow
//! network whose input layer is a sum of rows per word, an output layer of negative sampling
//! and/or hierarchical softmax, and threads streaming the corpus, updating shared rows under per-row locks.
//!
//! A word's input vector is the mean of its input rows: one row for word2vec; the word's row
//! and its hashed character n-grams' rows for subword models (Bojanowski et al. 2017).
//!
//! Skip-gram builds the centre word's input vector once and predicts each context word from it.
//! After each prediction the gradient is added to the vector, exactly as if it had been added to
//! each of its rows and the mean rebuilt (fastText's update), and the summed gradient reaches the
//! rows once per centre word. With one thread this is the same arithmetic as updating the rows
//! after every pair; it saves re-reading and re-writing a word's rows for every context word.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kindling_core::seed::{SeededRng, derive_seed};
use kindling_data::Vocab;
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;

use crate::Result;
use crate::train::huffman::HuffmanTree;
use crate::train::sampling::{AliasTable, kept};
use crate::train::shared_matrix::SharedMatrix;

/// Which prediction task trains the vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Architecture {
    /// Predict each context word from the centre word.
    SkipGram,
    /// Predict the centre word from the mean of its context.
    Cbow,
}

/// Longest run of words trained as one sentence (gensim's limit); longer lines are cut.
const MAX_SENTENCE: usize = 10_000;

/// The input rows of each word, when a word has more than its own row.
pub(crate) struct InputRows {
    /// Start of each word's rows in `rows`; one more entry than words.
    offsets: Vec<u32>,
    rows: Vec<u32>,
}

impl InputRows {
    /// Rows listed word by word.
    pub(crate) fn new(per_word: impl IntoIterator<Item = Vec<u32>>) -> Self {
        let mut offsets = vec![0];
        let mut rows = Vec::new();
        for word_rows in per_word {
            rows.extend(word_rows);
            offsets.push(rows.len() as u32);
        }
        Self { offsets, rows }
    }

    #[inline(always)]
    fn of(&self, word: u32) -> &[u32] {
        &self.rows[self.offsets[word as usize] as usize..self.offsets[word as usize + 1] as usize]
    }
}

/// The output layer: negative sampling, hierarchical softmax, or both (their gradients add up,
/// as in word2vec.c).
pub(crate) struct Output {
    /// Negative samples per positive example (0: none).
    pub(crate) negative: usize,
    /// Where negatives are drawn from.
    pub(crate) table: AliasTable,
    /// One output row per word (`syn1neg`); empty without negative sampling.
    pub(crate) negative_rows: SharedMatrix,
    /// The Huffman tree and one row per inner node (`syn1`), with hierarchical softmax.
    pub(crate) tree: Option<(HuffmanTree, SharedMatrix)>,
}

/// Sum of `-log p` over predictions, kept in f64 (gensim's f32 running loss saturates).
#[derive(Debug, Clone, Copy, Default)]
struct Loss {
    sum: f64,
    count: u64,
}

impl Loss {
    /// Adds `-log p`, given `log p`.
    #[inline(always)]
    fn add(&mut self, log_probability: f32) {
        self.sum -= f64::from(log_probability);
        self.count += 1;
    }
}

/// Beyond `±MAX_EXP` the sigmoid counts as saturated (word2vec.c's bound).
const MAX_EXP: f32 = 6.0;
/// Entries of the sigmoid tables.
const TABLE_SIZE: usize = 1000;

/// `σ(x)` and `log σ(x)` tabulated over `[-MAX_EXP, MAX_EXP)`, as word2vec.c's `expTable` and
/// gensim's `LOG_TABLE`: a lookup instead of an `exp` and a `log` per prediction.
struct SigmoidTable {
    sigmoid: [f32; TABLE_SIZE],
    log_sigmoid: [f32; TABLE_SIZE],
}

static SIGMOID: std::sync::LazyLock<SigmoidTable> = std::sync::LazyLock::new(|| {
    let mut table = SigmoidTable {
        sigmoid: [0.0; TABLE_SIZE],
        log_sigmoid: [0.0; TABLE_SIZE],
    };
    for i in 0..TABLE_SIZE {
        let x = (i as f64 / TABLE_SIZE as f64 * 2.0 - 1.0) * f64::from(MAX_EXP);
        let s = 1.0 / (1.0 + (-x).exp());
        table.sigmoid[i] = s as f32;
        table.log_sigmoid[i] = s.ln() as f32;
    }
    table
});

impl SigmoidTable {
    #[inline(always)]
    fn index(x: f32) -> usize {
        ((x + MAX_EXP) * (TABLE_SIZE as f32 / (2.0 * MAX_EXP))) as usize
    }

    /// `σ(x)`: 0 or 1 when saturated.
    #[inline(always)]
    fn sigmoid(&self, x: f32) -> f32 {
        if x >= MAX_EXP {
            1.0
        } else if x <= -MAX_EXP {
            0.0
        } else {
            self.sigmoid[Self::index(x).min(TABLE_SIZE - 1)]
        }
    }

    /// `log σ(x)`: 0 or `x` when saturated.
    #[inline(always)]
    fn log_sigmoid(&self, x: f32) -> f32 {
        if x >= MAX_EXP {
            0.0
        } else if x <= -MAX_EXP {
            x
        } else {
            self.log_sigmoid[Self::index(x).min(TABLE_SIZE - 1)]
        }
    }
}

impl Output {
    /// Trains the output layer to predict `target` from `hidden` and adds the input-side
    /// gradient to `error`.
    ///
    /// The negatives are drawn first and their rows prefetched, so their cache misses overlap
    /// instead of stalling one after another.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn learn(
        &self,
        hidden: &[f32],
        error: &mut [f32],
        target: u32,
        alpha: f32,
        rng: &mut SeededRng,
        negatives: &mut Vec<u32>,
        loss: &mut Loss,
    ) {
        let table = &*SIGMOID;
        if self.negative > 0 {
            negatives.clear();
            self.negative_rows.prefetch(target);
            for _ in 0..self.negative {
                let word = self.table.sample(rng.next_u64());
                if word != target {
                    self.negative_rows.prefetch(word);
                    negatives.push(word);
                }
            }
        }
        if let Some((tree, rows)) = &self.tree {
            let (nodes, branches) = tree.path(target);
            for (&node, &branch) in nodes.iter().zip(branches) {
                // Branch 0 is the positive class, as in word2vec.c.
                let label = 1.0 - f32::from(branch);
                let x = rows.learn(node, hidden, error, |x| (label - table.sigmoid(x)) * alpha);
                loss.add(table.log_sigmoid(if branch == 0 { x } else { -x }));
            }
        }
        if self.negative > 0 {
            let x = self
                .negative_rows
                .learn(target, hidden, error, |x| (1.0 - table.sigmoid(x)) * alpha);
            loss.add(table.log_sigmoid(x));
            for &word in negatives.iter() {
                let x = self
                    .negative_rows
                    .learn(word, hidden, error, |x| -table.sigmoid(x) * alpha);
                loss.add(table.log_sigmoid(-x));
            }
        }
    }
}

/// Input rows, output layer and subsampling: what the threads share.
pub(crate) struct Network {
    /// Word rows (and n-gram rows after them, for subword models).
    pub(crate) input: SharedMatrix,
    /// Each word's input rows when it has more than its own.
    pub(crate) subwords: Option<InputRows>,
    pub(crate) output: Output,
    /// Keep probability of each word under subsampling (see [`crate::train::sampling`]).
    pub(crate) keep: Vec<u32>,
}

/// How to walk the corpus.
pub(crate) struct Schedule {
    pub(crate) architecture: Architecture,
    pub(crate) window: usize,
    pub(crate) alpha: f64,
    pub(crate) min_alpha: f64,
    pub(crate) epochs: usize,
    pub(crate) threads: usize,
    pub(crate) seed: u64,
    pub(crate) progress: bool,
    /// Name on the progress bar.
    pub(crate) name: &'static str,
}

/// What a training run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Corpus tokens per epoch (in-vocabulary or not, before subsampling).
    pub raw_words: u64,
    /// Wall-clock seconds of training (vocabulary building excluded).
    pub seconds: f64,
    /// `raw_words × epochs / seconds`.
    pub words_per_second: f64,
    /// Mean loss (`-log p` of each binary prediction) per epoch, kept in f64.
    pub epoch_loss: Vec<f64>,
}

/// A bar over all epochs' words, drawn on standard error only when asked for.
fn progress_bar(enabled: bool, name: &str, total_words: u64) -> ProgressBar {
    let target = if enabled {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total_words), target);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{name} [{{bar:30}}] {{percent}}% {{msg}} ({{elapsed}}, eta {{eta}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// Trains `network` for `schedule.epochs` passes over `corpus`, whose lines hold `raw_words`
/// tokens in all. Line `i` goes to thread `i mod threads`; the learning rate decays linearly
/// with the words processed by all threads.
pub(crate) fn train(
    network: &Network,
    schedule: &Schedule,
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    vocab: &Vocab,
    raw_words: u64,
) -> Result<TrainReport> {
    let started = Instant::now();
    let mut epoch_loss = Vec::with_capacity(schedule.epochs);
    let progress = AtomicU64::new(0);
    let total_work = (raw_words * schedule.epochs as u64).max(1);
    let bar = progress_bar(schedule.progress, schedule.name, total_work);
    for epoch in 0..schedule.epochs {
        let outcomes: Vec<Result<Loss>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..schedule.threads)
                .map(|t| {
                    let (progress, bar) = (&progress, &bar);
                    scope.spawn(move || {
                        let stream = (epoch * schedule.threads + t) as u64 + 1;
                        let rng = SeededRng::new(derive_seed(schedule.seed, stream));
                        let mut worker = Worker::new(network, schedule, rng);
                        let mut line_no = 0usize;
                        let mut ids = Vec::new();
                        corpus.for_each_line(|line| {
                            line_no += 1;
                            if line_no % schedule.threads != t {
                                return Ok(());
                            }
                            ids.clear();
                            let mut raw = 0u64;
                            tokenizer.for_each_token(line, &mut |token| {
                                raw += 1;
                                if let Some(id) = vocab.id(token) {
                                    ids.push(id);
                                }
                            });
                            let done = progress.fetch_add(raw, Ordering::Relaxed);
                            let fraction = done as f64 / total_work as f64;
                            let alpha = (schedule.alpha
                                - (schedule.alpha - schedule.min_alpha) * fraction)
                                .max(schedule.min_alpha);
                            train_line_simd(&mut worker, &ids, alpha as f32);
                            bar.inc(raw);
                            if t == 0 {
                                let rate =
                                    bar.position() as f64 / bar.elapsed().as_secs_f64().max(1e-9);
                                let loss = worker.loss.sum / worker.loss.count.max(1) as f64;
                                bar.set_message(format!(
                                    "epoch {} · loss {loss:.4} · {rate:.0} words/s",
                                    epoch + 1
                                ));
                            }
                            Ok(())
                        })?;
                        Ok(worker.loss)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("training thread panicked"))
                .collect()
        });
        let mut total = Loss::default();
        for outcome in outcomes {
            let loss = outcome?;
            total.sum += loss.sum;
            total.count += loss.count;
        }
        epoch_loss.push(total.sum / total.count.max(1) as f64);
    }
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    Ok(TrainReport {
        raw_words,
        seconds,
        words_per_second: (raw_words * schedule.epochs as u64) as f64 / seconds,
        epoch_loss,
    })
}

/// [`Worker::train_line`] compiled for the best SIMD level of the CPU, picked at run time.
#[macerator::with_simd]
#[allow(clippy::extra_unused_type_parameters)]
fn train_line_simd<'n, S: macerator::Simd>(worker: &mut Worker<'n>, ids: &[u32], alpha: f32) {
    worker.train_line(ids, alpha);
}

/// One thread's scratch space and loss.
struct Worker<'n> {
    network: &'n Network,
    schedule: &'n Schedule,
    rng: SeededRng,
    sentence: Vec<u32>,
    hidden: Vec<f32>,
    error: Vec<f32>,
    /// Gradient summed over a centre word's predictions (skip-gram).
    total: Vec<f32>,
    /// The negatives of one prediction.
    negatives: Vec<u32>,
    loss: Loss,
}

impl<'n> Worker<'n> {
    fn new(network: &'n Network, schedule: &'n Schedule, rng: SeededRng) -> Self {
        let dim = network.input.dim();
        Self {
            network,
            schedule,
            rng,
            sentence: Vec::new(),
            hidden: vec![0.0; dim],
            error: vec![0.0; dim],
            total: vec![0.0; dim],
            negatives: Vec::new(),
            loss: Loss::default(),
        }
    }

    /// The input rows of `word`.
    #[inline(always)]
    fn rows_of<'a>(network: &'a Network, word: &'a u32) -> &'a [u32] {
        match &network.subwords {
            Some(subwords) => subwords.of(*word),
            None => std::slice::from_ref(word),
        }
    }

    #[inline(always)]
    fn train_line(&mut self, ids: &[u32], alpha: f32) {
        for chunk in ids.chunks(MAX_SENTENCE) {
            self.sentence.clear();
            for &id in chunk {
                if kept(self.network.keep[id as usize], &mut self.rng) {
                    self.sentence.push(id);
                }
            }
            let sentence = std::mem::take(&mut self.sentence);
            for pos in 0..sentence.len() {
                let window = self.schedule.window;
                let span = window - self.rng.below(window as u64) as usize;
                let context = pos.saturating_sub(span)..(pos + span + 1).min(sentence.len());
                match self.schedule.architecture {
                    Architecture::SkipGram => self.skip_gram(&sentence, pos, context, alpha),
                    Architecture::Cbow => self.cbow(&sentence, pos, context, alpha),
                }
            }
            self.sentence = sentence;
        }
    }

    #[inline(always)]
    fn skip_gram(
        &mut self,
        sentence: &[u32],
        pos: usize,
        context: std::ops::Range<usize>,
        alpha: f32,
    ) {
        let network = self.network;
        let rows = Self::rows_of(network, &sentence[pos]);
        self.hidden.fill(0.0);
        for &row in rows {
            network.input.add_row_to(row, 1.0, &mut self.hidden);
        }
        let scale = 1.0 / rows.len() as f32;
        self.hidden.iter_mut().for_each(|h| *h *= scale);
        self.total.fill(0.0);
        for i in context.filter(|&i| i != pos) {
            self.error.fill(0.0);
            network.output.learn(
                &self.hidden,
                &mut self.error,
                sentence[i],
                alpha,
                &mut self.rng,
                &mut self.negatives,
                &mut self.loss,
            );
            for ((h, t), e) in self.hidden.iter_mut().zip(&mut self.total).zip(&self.error) {
                *h += e;
                *t += e;
            }
        }
        for &row in rows {
            network.input.add_to_row(row, 1.0, &self.total);
        }
    }

    #[inline(always)]
    fn cbow(&mut self, sentence: &[u32], pos: usize, context: std::ops::Range<usize>, alpha: f32) {
        let network = self.network;
        self.hidden.fill(0.0);
        let mut count = 0usize;
        for i in context.clone().filter(|&i| i != pos) {
            for &row in Self::rows_of(network, &sentence[i]) {
                network.input.add_row_to(row, 1.0, &mut self.hidden);
                count += 1;
            }
        }
        if count == 0 {
            return;
        }
        let scale = 1.0 / count as f32;
        self.hidden.iter_mut().for_each(|h| *h *= scale);
        self.error.fill(0.0);
        network.output.learn(
            &self.hidden,
            &mut self.error,
            sentence[pos],
            alpha,
            &mut self.rng,
            &mut self.negatives,
            &mut self.loss,
        );
        for i in context.filter(|&i| i != pos) {
            for &row in Self::rows_of(network, &sentence[i]) {
                network.input.add_to_row(row, 1.0, &self.error);
            }
        }
    }
}
