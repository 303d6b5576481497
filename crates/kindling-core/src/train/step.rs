//! What a model provides to be trained: one step from a batch to a loss and an outcome.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::seed::SeededRng;

/// Turns a slice of examples into a batch of tensors on a device.
///
/// The trainer calls it with the autodiff device for training batches and with the plain
/// device for evaluation.
pub trait Batcher<I>: Send + Sync {
    /// The batch type the model consumes.
    type Batch;

    /// Builds one batch from `items`.
    fn batch(&self, items: &[I], device: &Device) -> Self::Batch;

    /// Groups one epoch's examples into batches of at most `batch_size` (indices into
    /// `items`). `rng` is given when the epoch is to be shuffled.
    ///
    /// The default is [`shuffled_batches`]; a batcher of variable-length sequences can
    /// override it to bucket examples of similar length together.
    fn plan(&self, items: &[I], batch_size: usize, rng: Option<&mut SeededRng>) -> Vec<Vec<usize>> {
        shuffled_batches(items.len(), batch_size, rng)
    }
}

/// `0..n` in a random order when `rng` is given (else in order), cut into consecutive batches
/// of `batch_size` (the last may be smaller).
pub fn shuffled_batches(
    n: usize,
    batch_size: usize,
    rng: Option<&mut SeededRng>,
) -> Vec<Vec<usize>> {
    let order = match rng {
        Some(rng) => rng.permutation(n),
        None => (0..n).collect(),
    };
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// A model the [`Trainer`](super::Trainer) can train on batches of type `B`.
///
/// This is the same contract as burn-train's `TrainStep` / `InferenceStep` (one batch in, a
/// loss and what to measure out), so a model written for kindling can also be wrapped for
/// burn-train's `Learner` and its data-parallel strategies.
pub trait TrainStep<B>: Module + Clone {
    /// Runs the model on `batch` and returns its mean loss (a one-element tensor that keeps
    /// its autodiff graph when training) and what to measure.
    fn step(&self, batch: &B) -> StepOutput;

    /// A per-step weight constraint, applied after every optimizer step (e.g. the max-norm
    /// rescaling of Kim's CNN; see [`crate::constraint`]). The default does nothing.
    fn constrain(self) -> Self {
        self
    }
}

/// The result of one [`TrainStep::step`].
pub struct StepOutput {
    /// Mean loss over the batch, shape `[1]`.
    pub loss: Tensor<1>,
    /// Number of examples in the batch, used to weight the mean loss.
    pub examples: usize,
    /// What the metrics are computed from.
    pub outcome: Outcome,
}

/// What a step reports for metrics.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Classification: gold and predicted class per example (accuracy, macro-F1, confusion).
    Classes {
        /// Gold classes.
        gold: Vec<u32>,
        /// Predicted classes.
        predicted: Vec<u32>,
    },
    /// Token prediction: summed negative log-likelihood and token count (perplexity).
    Tokens {
        /// Sum of per-token negative log-likelihoods (natural log).
        nll_sum: f64,
        /// Number of predicted tokens (padding excluded).
        tokens: u64,
    },
    /// Only the loss is measured.
    LossOnly,
}
