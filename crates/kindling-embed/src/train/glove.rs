//! GloVe training (Pennington et al. 2014): weighted least squares on log co-occurrence counts.
//!
//! For each co-occurring pair `(i, j)` with weight `X_ij` (summed `1/distance` within the
//! window), the model fits `w_i · c_j + b_i + b'_j ≈ log X_ij`, weighting each squared error by
//! `f(X) = min(1, (X / x_max)^α)`. Updates are AdaGrad, shuffled pairs split between threads
//! that update the shared weights without locks, as the reference implementation does. The
//! counting step spills sorted runs to disk past a memory budget and merges them.
//!
//! The word vectors returned are `w + c`, the reference tool's default output.

use std::path::PathBuf;
use std::time::Instant;

use kindling_core::seed::{SeededRng, derive_seed};
use kindling_data::Vocab;
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;
use serde::{Deserialize, Serialize};

use crate::train::cooccur::{self, Cooccurrence, CountSettings};
use crate::train::driver::{corpus_vocab, initial_rows};
use crate::train::shared_matrix::SharedMatrix;
use crate::vectors::WordVectors;
use crate::{Error, Result};

/// Training settings; the defaults are the reference tool's (`glove.c`, `cooccur.c`) except
/// `x_max` = 100 and `window` = 10, the paper's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GloveConfig {
    /// Vector size.
    pub dim: usize,
    /// Words on each side counted as context.
    pub window: usize,
    /// Words seen fewer times are dropped.
    pub min_count: u64,
    /// Counts at or above this weigh fully.
    pub x_max: f64,
    /// Exponent of the weighting function.
    pub alpha: f64,
    /// AdaGrad's initial learning rate.
    pub eta: f64,
    /// Passes over the co-occurrence table.
    pub epochs: usize,
    /// Worker threads (counting and training).
    pub threads: usize,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// Co-occurrence entries kept in memory while counting before spilling to disk.
    pub memory_entries: usize,
    /// Where spilled runs go (default: the system temporary directory).
    pub scratch_dir: Option<PathBuf>,
}

impl Default for GloveConfig {
    fn default() -> Self {
        Self {
            dim: 100,
            window: 10,
            min_count: 5,
            x_max: 100.0,
            alpha: 0.75,
            eta: 0.05,
            epochs: 15,
            threads: 1,
            seed: 1,
            memory_entries: 50_000_000,
            scratch_dir: None,
        }
    }
}

/// What GloVe training measured.
#[derive(Debug, Clone, PartialEq)]
pub struct GloveReport {
    /// Corpus tokens (in vocabulary or not).
    pub raw_words: u64,
    /// Distinct co-occurring pairs.
    pub cooccurrences: usize,
    /// Counting runs spilled to disk.
    pub spilled_runs: usize,
    /// Seconds spent counting (vocabulary included).
    pub counting_seconds: f64,
    /// Seconds spent fitting.
    pub training_seconds: f64,
    /// `raw_words × epochs / (counting + training seconds)`, comparable with word2vec's.
    pub words_per_second: f64,
    /// Mean weighted cost `½ f(X) (w·c + b + b' − log X)²` per pair, per epoch.
    pub epoch_cost: Vec<f64>,
}

/// Trains GloVe vectors on `corpus` tokenised by `tokenizer`.
///
/// # Errors
/// Corpus read errors, scratch-file errors; [`Error::Invalid`] for bad settings, an empty
/// vocabulary or a corpus without co-occurrences.
pub fn train(
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    config: &GloveConfig,
) -> Result<(WordVectors, GloveReport)> {
    if config.dim == 0 || config.window == 0 || config.threads == 0 || config.epochs == 0 {
        return Err(Error::Invalid {
            what: "GloVe config",
            problem: "dim, window, threads and epochs must be positive".into(),
        });
    }
    if !(config.x_max > 0.0 && config.eta > 0.0) {
        return Err(Error::Invalid {
            what: "GloVe config",
            problem: "x_max and eta must be positive".into(),
        });
    }
    let started = Instant::now();
    let (vocab, _) = corpus_vocab(corpus, tokenizer, config.min_count)?;
    let scratch = config
        .scratch_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let (mut table, stats) = cooccur::count(
        corpus,
        tokenizer,
        &vocab,
        &CountSettings {
            window: config.window,
            distance_weighting: true,
            symmetric: true,
            memory_entries: config.memory_entries,
            threads: config.threads,
            scratch: &scratch,
        },
    )?;
    if table.is_empty() {
        return Err(Error::Invalid {
            what: "corpus",
            problem: "no two vocabulary words co-occur".into(),
        });
    }
    let counting_seconds = started.elapsed().as_secs_f64();
    let fitting = Instant::now();
    let model = Model::new(&vocab, config);
    let mut rng = SeededRng::new(derive_seed(config.seed, 0));
    let mut epoch_cost = Vec::with_capacity(config.epochs);
    for _ in 0..config.epochs {
        rng.shuffle(&mut table);
        epoch_cost.push(model.epoch(&table, config));
    }
    let training_seconds = fitting.elapsed().as_secs_f64();
    let vectors = model.word_vectors(&vocab);
    let seconds = counting_seconds + training_seconds;
    Ok((
        vectors,
        GloveReport {
            raw_words: stats.raw_words,
            cooccurrences: table.len(),
            spilled_runs: stats.spilled_runs,
            counting_seconds,
            training_seconds,
            words_per_second: (stats.raw_words * config.epochs as u64) as f64 / seconds,
            epoch_cost,
        },
    ))
}

/// Word and context rows, each with its bias as a last column, and AdaGrad's squared-gradient
/// sums of the same shape.
struct Model {
    dim: usize,
    words: SharedMatrix,
    contexts: SharedMatrix,
    word_grads: SharedMatrix,
    context_grads: SharedMatrix,
}

impl Model {
    fn new(vocab: &Vocab, config: &GloveConfig) -> Self {
        let (n, width) = (vocab.len(), config.dim + 1);
        // glove.c: every weight, biases too, uniform in ±0.5/dim; squared gradients start at 1.
        let bound = 0.5 / config.dim as f64;
        Self {
            dim: config.dim,
            words: SharedMatrix::new(initial_rows(n, width, config.seed, bound), width),
            contexts: SharedMatrix::new(
                initial_rows(n, width, derive_seed(config.seed, 1), bound),
                width,
            ),
            word_grads: SharedMatrix::new(vec![1.0; n * width], width),
            context_grads: SharedMatrix::new(vec![1.0; n * width], width),
        }
    }

    /// One pass over `table` split into contiguous shares, one per thread; returns the mean
    /// cost.
    fn epoch(&self, table: &[Cooccurrence], config: &GloveConfig) -> f64 {
        let share = table.len().div_ceil(config.threads);
        let costs: Vec<f64> = std::thread::scope(|scope| {
            let workers: Vec<_> = table
                .chunks(share)
                .map(|part| scope.spawn(move || self.fit(part, config)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("GloVe thread panicked"))
                .collect()
        });
        costs.iter().sum::<f64>() / table.len() as f64
    }

    /// AdaGrad steps over `pairs`; returns their summed cost.
    fn fit(&self, pairs: &[Cooccurrence], config: &GloveConfig) -> f64 {
        let width = self.dim + 1;
        let (mut w, mut c, mut gw, mut gc) = (
            vec![0.0f32; width],
            vec![0.0f32; width],
            vec![0.0f32; width],
            vec![0.0f32; width],
        );
        let (mut dw, mut dc, mut sw, mut sc) = (
            vec![0.0f32; width],
            vec![0.0f32; width],
            vec![0.0f32; width],
            vec![0.0f32; width],
        );
        let (x_max, alpha, eta) = (config.x_max as f32, config.alpha as f32, config.eta as f32);
        let mut cost = 0.0f64;
        for pair in pairs {
            self.words.read(pair.row, &mut w);
            self.contexts.read(pair.col, &mut c);
            self.word_grads.read(pair.row, &mut gw);
            self.context_grads.read(pair.col, &mut gc);
            let dot: f32 = w[..self.dim]
                .iter()
                .zip(&c[..self.dim])
                .map(|(a, b)| a * b)
                .sum();
            let diff = dot + w[self.dim] + c[self.dim] - pair.value.ln();
            let weight = if pair.value > x_max {
                1.0
            } else {
                (pair.value / x_max).powf(alpha)
            };
            let fdiff = weight * diff;
            if !fdiff.is_finite() {
                continue;
            }
            cost += 0.5 * f64::from(fdiff) * f64::from(diff);
            let step = eta * fdiff;
            for d in 0..self.dim {
                let (gw_d, gc_d) = (step * c[d], step * w[d]);
                dw[d] = -gw_d / gw[d].sqrt();
                dc[d] = -gc_d / gc[d].sqrt();
                sw[d] = gw_d * gw_d;
                sc[d] = gc_d * gc_d;
            }
            dw[self.dim] = -step / gw[self.dim].sqrt();
            dc[self.dim] = -step / gc[self.dim].sqrt();
            sw[self.dim] = step * step;
            sc[self.dim] = step * step;
            self.words.add_to_row(pair.row, 1.0, &dw);
            self.contexts.add_to_row(pair.col, 1.0, &dc);
            self.word_grads.add_to_row(pair.row, 1.0, &sw);
            self.context_grads.add_to_row(pair.col, 1.0, &sc);
        }
        cost
    }

    /// `w + c` without the biases, in vocabulary order.
    fn word_vectors(&self, vocab: &Vocab) -> WordVectors {
        let width = self.dim + 1;
        let (mut w, mut c) = (vec![0.0f32; width], vec![0.0f32; width]);
        let mut data = Vec::with_capacity(vocab.len() * self.dim);
        for row in 0..vocab.len() as u32 {
            self.words.read(row, &mut w);
            self.contexts.read(row, &mut c);
            data.extend(w[..self.dim].iter().zip(&c[..self.dim]).map(|(a, b)| a + b));
        }
        WordVectors::from_training(vocab.tokens().to_vec(), self.dim, data)
            .expect("one row per word")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_data::read::corpus::CorpusFile;
    use kindling_data::source::Encoding;
    use kindling_data::tokenize::Whitespace;

    fn corpus() -> Corpus {
        static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        let path = PATH.get_or_init(|| {
            // Two topics: animal words co-occur with each other, tool words with each other.
            let mut rng = SeededRng::new(2);
            let topics = [
                ["cat", "dog", "horse", "cow", "sheep"],
                ["hammer", "saw", "drill", "wrench", "chisel"],
            ];
            let mut text = String::new();
            for _ in 0..2000 {
                let topic = &topics[rng.below(2) as usize];
                let line: Vec<&str> = (0..6).map(|_| topic[rng.below(5) as usize]).collect();
                text.push_str(&line.join(" "));
                text.push('\n');
            }
            let dir = std::env::temp_dir().join(format!("kindling-glove-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("topics.txt");
            std::fs::write(&path, text).unwrap();
            path
        });
        Corpus::new(vec![CorpusFile::Text(path.clone())], Encoding::Utf8).unwrap()
    }

    fn config() -> GloveConfig {
        GloveConfig {
            dim: 10,
            window: 3,
            min_count: 1,
            x_max: 10.0,
            epochs: 30,
            ..Default::default()
        }
    }

    #[test]
    fn cost_falls_and_topics_separate() {
        let (vectors, report) = train(&corpus(), &Whitespace::default(), &config()).unwrap();
        assert!(
            report.epoch_cost.last().unwrap() < &(report.epoch_cost[0] * 0.5),
            "{:?}",
            report.epoch_cost
        );
        assert_eq!(report.raw_words, 12_000);
        assert_eq!(report.cooccurrences, 50, "5 × 5 pairs within each topic");
        let cos = |a: &str, b: &str| {
            crate::vectors::cosine(vectors.get(a).unwrap(), vectors.get(b).unwrap())
        };
        for (a, b, other) in [("cat", "dog", "saw"), ("hammer", "drill", "cow")] {
            assert!(cos(a, b) > cos(a, other) + 0.3, "{a}: {b} vs {other}");
        }
    }

    #[test]
    fn one_thread_is_reproducible() {
        let base = GloveConfig {
            epochs: 3,
            ..config()
        };
        let (a, _) = train(&corpus(), &Whitespace::default(), &base).unwrap();
        assert_eq!(
            a,
            train(&corpus(), &Whitespace::default(), &base).unwrap().0
        );
        let (b, _) = train(
            &corpus(),
            &Whitespace::default(),
            &GloveConfig { seed: 2, ..base },
        )
        .unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn bad_settings_are_errors() {
        let err = train(
            &corpus(),
            &Whitespace::default(),
            &GloveConfig {
                x_max: 0.0,
                ..config()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("x_max"), "{err}");
    }
}
