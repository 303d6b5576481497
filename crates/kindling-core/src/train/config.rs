//! The serialisable configuration of a training run.

use crate::metrics::Metric;
use serde::{Deserialize, Serialize};

use crate::optim::{GradientClip, OptimizerConfig};
use crate::schedule::{Goal, LrSchedule};
use crate::{Error, Result};

/// Everything that decides how a model is trained; saved beside every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Seed of data order and the device RNG (dropout) of each epoch.
    pub seed: u64,
    /// Optimizer and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule.
    #[serde(default)]
    pub schedule: LrSchedule,
    /// Gradient clipping, if any.
    #[serde(default)]
    pub clip: Option<GradientClip>,
    /// Stop after this many epochs without improvement of the monitored metric (at least 1;
    /// none: never stop early).
    #[serde(default)]
    pub patience: Option<usize>,
    /// The metric that picks the best epoch (`accuracy`, `macro_f1`, `loss`, `perplexity`),
    /// measured on the dev set when there is one, else on the training set.
    #[serde(default)]
    pub monitor: Metric,
    /// Whether larger or smaller values of `monitor` are better.
    #[serde(default)]
    pub goal: Goal,
    /// Shuffle the training data every epoch.
    #[serde(default = "default_true")]
    pub shuffle: bool,
    /// Batch size for evaluation (defaults to `batch_size`).
    #[serde(default)]
    pub eval_batch_size: Option<usize>,
    /// Training batches prepared ahead on a background thread (0: prepare each on the training
    /// thread when it is needed). Does not change what is computed.
    #[serde(default = "default_prefetch")]
    pub prefetch: usize,
    /// Data-parallel workers: each batch is cut into this many shards, stepped at once on
    /// threads of their own (each with a one-thread compute pool), and their gradients combined
    /// into the whole batch's for one optimizer step (see `train::workers` for what equals
    /// what). 1 (the default): the step runs on the training thread with the backend's own
    /// threads.
    #[serde(default = "default_workers", skip_serializing_if = "is_one")]
    pub workers: usize,
}

fn default_workers() -> usize {
    1
}

/// Workers = 1 is left out of saved configs, so configs written before the setting existed
/// hash and compare the same.
fn is_one(workers: &usize) -> bool {
    *workers == 1
}

/// The most epochs (and the longest patience) a config takes.
pub const MAX_EPOCHS: usize = 1_000_000;
/// The largest training or evaluation batch a config takes.
pub const MAX_BATCH: usize = 1 << 20;
/// The most batches prepared ahead.
pub const MAX_PREFETCH: usize = 64;

fn default_prefetch() -> usize {
    2
}

fn default_true() -> bool {
    true
}

impl TrainConfig {
    /// A config with the given epochs, batch size, seed and optimizer, and defaults elsewhere
    /// (constant rate, no clipping, no early stopping, monitoring the loss).
    pub fn new(epochs: usize, batch_size: usize, seed: u64, optimizer: OptimizerConfig) -> Self {
        Self {
            epochs,
            batch_size,
            seed,
            optimizer,
            schedule: LrSchedule::Constant,
            clip: None,
            patience: None,
            monitor: Metric::Loss,
            goal: Goal::Min,
            shuffle: true,
            eval_batch_size: None,
            prefetch: default_prefetch(),
            workers: 1,
        }
    }

    /// Checks the values that cannot be checked by their types.
    pub fn validate(&self) -> Result<()> {
        let out_of_range = |what: &str, value: usize, range: std::ops::RangeInclusive<usize>| {
            (!range.contains(&value)).then(|| {
                Error::InvalidConfig(format!(
                    "{what} must be in {}..={}, got {value}",
                    range.start(),
                    range.end()
                ))
            })
        };
        let checks = [
            out_of_range("epochs", self.epochs, 1..=MAX_EPOCHS),
            out_of_range("batch_size", self.batch_size, 1..=MAX_BATCH),
            self.eval_batch_size
                .and_then(|b| out_of_range("eval_batch_size", b, 1..=MAX_BATCH)),
            self.patience
                .and_then(|p| out_of_range("patience", p, 1..=MAX_EPOCHS)),
            out_of_range("prefetch", self.prefetch, 0..=MAX_PREFETCH),
            out_of_range("workers", self.workers, 1..=super::MAX_WORKERS),
        ];
        if let Some(error) = checks.into_iter().flatten().next() {
            return Err(error);
        }
        self.optimizer.validate()?;
        if let Some(GradientClip::GlobalNorm { max_norm: v } | GradientClip::Value { threshold: v }) =
            self.clip
            && (v.is_nan() || v <= 0.0)
        {
            return Err(Error::InvalidConfig(format!(
                "gradient clipping bound must be positive, got {v}"
            )));
        }
        Ok(())
    }

    /// The parts of two configs that must agree for one run to resume from the other's
    /// checkpoint: everything except `epochs`, `patience` and `prefetch`.
    pub(crate) fn resumable_from(&self, saved: &TrainConfig) -> bool {
        let strip = |c: &TrainConfig| TrainConfig {
            epochs: 0,
            patience: None,
            prefetch: 0,
            ..c.clone()
        };
        strip(self) == strip(saved)
    }
}
