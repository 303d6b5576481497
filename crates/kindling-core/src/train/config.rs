//! The serialisable configuration of a training run.

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
    /// Stop after this many epochs without improvement of the monitored metric.
    #[serde(default)]
    pub patience: Option<usize>,
    /// The metric that picks the best epoch (`accuracy`, `macro_f1`, `loss`, `perplexity`),
    /// measured on the dev set when there is one, else on the training set.
    #[serde(default = "default_monitor")]
    pub monitor: String,
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
}

fn default_prefetch() -> usize {
    2
}

fn default_monitor() -> String {
    "loss".to_string()
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
            monitor: default_monitor(),
            goal: Goal::Min,
            shuffle: true,
            eval_batch_size: None,
            prefetch: default_prefetch(),
        }
    }

    /// Checks the values that cannot be checked by their types.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::InvalidConfig("epochs must be at least 1".into()));
        }
        if self.batch_size == 0 || self.eval_batch_size == Some(0) {
            return Err(Error::InvalidConfig("batch size must be at least 1".into()));
        }
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
