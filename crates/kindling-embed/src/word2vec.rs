//! word2vec training (Mikolov et al. 2013): skip-gram or CBOW with negative sampling, frequent
//! word subsampling, a shrunk (dynamic) window and a linearly decaying learning rate, over a
//! corpus streamed from disk once per epoch.
//!
//! Memory is O(vocabulary × dim): the corpus is never held, only one line at a time per thread.
//! Threads update the shared weights without locks (Hogwild, Recht et al. 2011); the weights are
//! atomics read and written with relaxed ordering, so concurrent updates may overwrite each
//! other (as in the C tool and gensim) but never tear a value. With one thread a seed gives the
//! same vectors bit for bit.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Instant;

use kindling_core::seed::{SeededRng, derive_seed};
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;
use kindling_data::{Specials, Vocab, VocabConfig};

use crate::vectors::WordVectors;
use crate::{Error, Result};

/// Which word2vec model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Predict each context word from the centre word.
    SkipGram,
    /// Predict the centre word from the mean of its context.
    Cbow,
}

/// Training settings; the defaults are gensim's (skip-gram).
#[derive(Debug, Clone, PartialEq)]
pub struct Word2VecConfig {
    /// Skip-gram or CBOW.
    pub architecture: Architecture,
    /// Vector size.
    pub dim: usize,
    /// Maximum distance between centre and context word; each position draws its window from
    /// `1..=window`.
    pub window: usize,
    /// Negative samples per positive pair.
    pub negative: usize,
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

/// What training measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Corpus tokens per epoch (in-vocabulary or not, before subsampling).
    pub raw_words: u64,
    /// Wall-clock seconds of training (vocabulary building excluded).
    pub seconds: f64,
    /// `raw_words × epochs / seconds`.
    pub words_per_second: f64,
    /// Mean negative-sampling loss per trained pair, per epoch (kept in f64).
    pub epoch_loss: Vec<f64>,
}

/// A bar over all epochs' words, drawn on standard error only when asked for.
fn progress_bar(enabled: bool, total_words: u64) -> ProgressBar {
    let target = if enabled {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total_words), target);
    bar.set_style(
        ProgressStyle::with_template("word2vec [{bar:30}] {percent}% {msg} ({elapsed}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Longest run of words trained as one sentence (gensim's limit); longer lines are cut.
const MAX_SENTENCE: usize = 10_000;

/// Trains word vectors on `corpus` tokenised by `tokenizer`.
///
/// # Errors
/// Corpus read errors; [`Error::Invalid`] for an empty vocabulary or a zero dimension, window or
/// thread count.
pub fn train(
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    config: &Word2VecConfig,
) -> Result<(WordVectors, TrainReport)> {
    if config.dim == 0 || config.window == 0 || config.threads == 0 || config.epochs == 0 {
        return Err(Error::Invalid {
            what: "word2vec config",
            problem: "dim, window, threads and epochs must be positive".into(),
        });
    }
    let counts = corpus.count_tokens(tokenizer)?;
    let vocab = Vocab::build(
        &counts,
        &VocabConfig {
            min_count: config.min_count,
            max_size: None,
            specials: Specials::none(),
        },
    );
    if vocab.is_empty() {
        return Err(Error::Invalid {
            what: "corpus",
            problem: format!("no word occurs {} times", config.min_count),
        });
    }
    let model = Model::new(&vocab, config);
    let raw_words = counts.total();
    let started = Instant::now();
    let mut epoch_loss = Vec::with_capacity(config.epochs);
    let progress = AtomicU64::new(0);
    let total_work = raw_words * config.epochs as u64;
    let bar = progress_bar(config.progress, total_work);
    for epoch in 0..config.epochs {
        let outcomes: Vec<Result<(f64, u64)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..config.threads)
                .map(|t| {
                    let (model, progress, vocab, bar) = (&model, &progress, &vocab, &bar);
                    scope.spawn(move || {
                        let seed =
                            derive_seed(config.seed, (epoch * config.threads + t) as u64 + 1);
                        let mut worker = Worker::new(model, config, SeededRng::new(seed));
                        let mut line_no = 0usize;
                        let mut ids = Vec::new();
                        corpus.for_each_line(|line| {
                            line_no += 1;
                            if line_no % config.threads != t {
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
                            let alpha = (config.alpha
                                - (config.alpha - config.min_alpha) * fraction)
                                .max(config.min_alpha);
                            train_line_simd(&mut worker, &ids, alpha as f32);
                            bar.inc(raw);
                            if t == 0 {
                                let rate =
                                    bar.position() as f64 / bar.elapsed().as_secs_f64().max(1e-9);
                                let loss = worker.loss / worker.pairs.max(1) as f64;
                                bar.set_message(format!(
                                    "epoch {} · loss {loss:.4} · {rate:.0} words/s",
                                    epoch + 1
                                ));
                            }
                            Ok(())
                        })?;
                        Ok((worker.loss, worker.pairs))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("word2vec worker panicked"))
                .collect()
        });
        let (mut loss, mut pairs) = (0.0, 0u64);
        for outcome in outcomes {
            let (l, p) = outcome?;
            loss += l;
            pairs += p;
        }
        epoch_loss.push(loss / pairs.max(1) as f64);
    }
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    let vectors = WordVectors::new(
        vocab.tokens().to_vec(),
        config.dim,
        model
            .input
            .iter()
            .map(|w| f32::from_bits(w.load(Ordering::Relaxed)))
            .collect(),
    )?;
    Ok((
        vectors,
        TrainReport {
            raw_words,
            seconds,
            words_per_second: total_work as f64 / seconds,
            epoch_loss,
        },
    ))
}

/// The shared state: weights and the sampling tables.
struct Model {
    dim: usize,
    /// Word vectors (`syn0`), `vocab × dim` f32 bits.
    input: Vec<AtomicU32>,
    /// Output vectors for negative sampling (`syn1neg`).
    output: Vec<AtomicU32>,
    /// Keep probability of each word under subsampling, scaled to `u32::MAX`.
    keep: Vec<u32>,
    /// The unigram^0.75 distribution of negative samples.
    negatives: AliasTable,
}

impl Model {
    fn new(vocab: &Vocab, config: &Word2VecConfig) -> Self {
        let dim = config.dim;
        let mut rng = SeededRng::new(config.seed);
        let input = (0..vocab.len() * dim)
            .map(|_| AtomicU32::new((((rng.next_f64() - 0.5) / dim as f64) as f32).to_bits()))
            .collect();
        let output = (0..vocab.len() * dim).map(|_| AtomicU32::new(0)).collect();
        let total: u64 = vocab.counts().iter().sum();
        let threshold = config.sample * total as f64;
        let keep = vocab
            .counts()
            .iter()
            .map(|&count| {
                if config.sample <= 0.0 {
                    return u32::MAX;
                }
                let count = count as f64;
                let p = ((count / threshold).sqrt() + 1.0) * threshold / count;
                (p.min(1.0) * f64::from(u32::MAX)) as u32
            })
            .collect();
        let powered: Vec<f64> = vocab
            .counts()
            .iter()
            .map(|&c| (c as f64).powf(0.75))
            .collect();
        let negatives = AliasTable::new(&powered);
        Self {
            dim,
            input,
            output,
            keep,
            negatives,
        }
    }

    fn load(weights: &[AtomicU32], row: u32, dim: usize, into: &mut [f32]) {
        let start = row as usize * dim;
        for (slot, w) in into.iter_mut().zip(&weights[start..start + dim]) {
            *slot = f32::from_bits(w.load(Ordering::Relaxed));
        }
    }

    fn store(weights: &[AtomicU32], row: u32, dim: usize, from: &[f32]) {
        let start = row as usize * dim;
        for (value, w) in from.iter().zip(&weights[start..start + dim]) {
            w.store(value.to_bits(), Ordering::Relaxed);
        }
    }
}

/// [`Worker::train_line`] compiled for the best SIMD level of the CPU, picked at run time.
#[macerator::with_simd]
#[allow(clippy::extra_unused_type_parameters)]
fn train_line_simd<'m, S: macerator::Simd>(worker: &mut Worker<'m>, ids: &[u32], alpha: f32) {
    worker.train_line(ids, alpha);
}

/// One thread's scratch space and counters.
struct Worker<'m> {
    model: &'m Model,
    config: &'m Word2VecConfig,
    rng: SeededRng,
    sentence: Vec<u32>,
    hidden: Vec<f32>,
    error: Vec<f32>,
    row: Vec<f32>,
    loss: f64,
    pairs: u64,
}

impl<'m> Worker<'m> {
    fn new(model: &'m Model, config: &'m Word2VecConfig, rng: SeededRng) -> Self {
        let dim = model.dim;
        Self {
            model,
            config,
            rng,
            sentence: Vec::new(),
            hidden: vec![0.0; dim],
            error: vec![0.0; dim],
            row: vec![0.0; dim],
            loss: 0.0,
            pairs: 0,
        }
    }

    #[inline(always)]
    fn train_line(&mut self, ids: &[u32], alpha: f32) {
        for chunk in ids.chunks(MAX_SENTENCE) {
            self.sentence.clear();
            for &id in chunk {
                let keep = self.model.keep[id as usize];
                if keep == u32::MAX || (self.rng.next_u64() >> 32) as u32 <= keep {
                    self.sentence.push(id);
                }
            }
            let sentence = std::mem::take(&mut self.sentence);
            for (pos, &centre) in sentence.iter().enumerate() {
                let reduced = self.rng.below(self.config.window as u64) as usize;
                let span = self.config.window - reduced;
                let window = pos.saturating_sub(span)..(pos + span + 1).min(sentence.len());
                let context = window.filter(|&i| i != pos).map(|i| sentence[i]);
                match self.config.architecture {
                    Architecture::SkipGram => {
                        for word in context {
                            Model::load(&self.model.input, word, self.model.dim, &mut self.hidden);
                            self.error.iter_mut().for_each(|e| *e = 0.0);
                            self.negative_sampling(centre, alpha);
                            for (h, e) in self.hidden.iter_mut().zip(&self.error) {
                                *h += e;
                            }
                            Model::store(&self.model.input, word, self.model.dim, &self.hidden);
                        }
                    }
                    Architecture::Cbow => {
                        let words = context.clone().count();
                        if words == 0 {
                            continue;
                        }
                        self.hidden.iter_mut().for_each(|h| *h = 0.0);
                        for word in context.clone() {
                            Model::load(&self.model.input, word, self.model.dim, &mut self.row);
                            for (h, r) in self.hidden.iter_mut().zip(&self.row) {
                                *h += r;
                            }
                        }
                        let scale = 1.0 / words as f32;
                        self.hidden.iter_mut().for_each(|h| *h *= scale);
                        self.error.iter_mut().for_each(|e| *e = 0.0);
                        self.negative_sampling(centre, alpha);
                        for word in context {
                            Model::load(&self.model.input, word, self.model.dim, &mut self.row);
                            for (r, e) in self.row.iter_mut().zip(&self.error) {
                                *r += e;
                            }
                            Model::store(&self.model.input, word, self.model.dim, &self.row);
                        }
                    }
                }
            }
            self.sentence = sentence;
        }
    }

    /// One positive and `negative` negative updates of the output vectors against `hidden`;
    /// accumulates the input-side gradient in `error`.
    #[inline(always)]
    fn negative_sampling(&mut self, target: u32, alpha: f32) {
        let dim = self.model.dim;
        for d in 0..=self.config.negative {
            let (word, label) = if d == 0 {
                (target, 1.0f32)
            } else {
                let word = self.model.negatives.sample(self.rng.next_u64());
                if word == target {
                    continue;
                }
                (word, 0.0)
            };
            Model::load(&self.model.output, word, dim, &mut self.row);
            let f = dot(&self.hidden, &self.row);
            let sigmoid = 1.0 / (1.0 + (-f.clamp(-30.0, 30.0)).exp());
            let g = (label - sigmoid) * alpha;
            let p = if label > 0.0 { sigmoid } else { 1.0 - sigmoid };
            self.loss -= f64::from(p.max(1e-7)).ln();
            self.pairs += 1;
            for ((e, r), h) in self
                .error
                .iter_mut()
                .zip(self.row.iter_mut())
                .zip(&self.hidden)
            {
                *e += g * *r;
                *r += g * h;
            }
            Model::store(&self.model.output, word, dim, &self.row);
        }
    }
}

/// Walker's alias method: draws from a discrete distribution in O(1) with two arrays of the
/// vocabulary's size (small enough to stay in cache, unlike word2vec's 10⁸-entry table).
struct AliasTable {
    /// Probability, scaled to `u32::MAX`, of keeping the drawn column rather than its alias.
    keep: Vec<u32>,
    alias: Vec<u32>,
}

impl AliasTable {
    fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let sum: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / sum).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in large.into_iter().chain(small) {
            scaled[i] = 1.0;
        }
        let keep = scaled
            .iter()
            .map(|&p| (p.min(1.0) * f64::from(u32::MAX)) as u32)
            .collect();
        Self { keep, alias }
    }

    /// A draw from 64 random bits: the high half picks a column, the low half keeps it or takes
    /// its alias.
    fn sample(&self, bits: u64) -> u32 {
        let column = (((bits >> 32) * self.keep.len() as u64) >> 32) as usize;
        if (bits as u32) <= self.keep[column] {
            column as u32
        } else {
            self.alias[column]
        }
    }
}

/// Dot product with eight independent partial sums, so the compiler can keep them in one
/// vector register instead of one serial chain of additions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_body, a_tail) = a.split_at(a.len() / 8 * 8);
    let (b_body, b_tail) = b.split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(8).zip(b_body.chunks_exact(8)) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
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
        for architecture in [Architecture::SkipGram, Architecture::Cbow] {
            let (vectors, report) =
                train(&corpus, &Whitespace::default(), &config(architecture)).unwrap();
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
    fn alias_table_draws_in_proportion() {
        let table = AliasTable::new(&[1.0, 2.0, 7.0, 0.0]);
        let mut rng = SeededRng::new(5);
        let mut seen = [0u32; 4];
        for _ in 0..100_000 {
            seen[table.sample(rng.next_u64()) as usize] += 1;
        }
        let share = |i: usize| f64::from(seen[i]) / 100_000.0;
        assert!(
            (share(0) - 0.1).abs() < 0.005
                && (share(1) - 0.2).abs() < 0.005
                && (share(2) - 0.7).abs() < 0.005,
            "{seen:?}"
        );
        assert_eq!(seen[3], 0);
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
                min_count: 1_000_000,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("no word occurs"), "{err}");
    }
}
