//! The word-level language model: embedding → stacked LSTM → a softmax over the vocabulary,
//! trained with truncated back-propagation through time (the state carried from one window of
//! a stream to the next, gradients cut at window boundaries), optionally with the output layer
//! tied to the embedding (Press & Wolf 2017, Inan et al. 2017), and sampling with a
//! temperature.
//!
//! The defaults follow Zaremba et al. (2014) and PyTorch's `word_language_model` example:
//! weights drawn from `U(±0.1)`, dropout on the embeddings, between layers and on the outputs.

use std::sync::{Arc, Mutex};

use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::tensor::activation::softmax;
use kindling_core::burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use kindling_core::dropout::{Dropout, DropoutConfig};
use kindling_core::seed::SeededRng;
use kindling_core::train::{Outcome, StepOutput, TrainStep};
use kindling_data::bptt::BpttBatch;
use kindling_embed::lookup::lookup;
use serde::{Deserialize, Serialize};

use crate::error::{check_dropout, check_positive};
use crate::lstm::{Lstm, LstmConfig, LstmStates};
use crate::{Error, LstmCellConfig, Result};

fn two() -> usize {
    2
}

fn half() -> f64 {
    0.5
}

fn tenth() -> f64 {
    0.1
}

/// Settings of a [`LanguageModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageModelConfig {
    /// Word-vector size.
    pub dim: usize,
    /// LSTM units per layer.
    pub hidden: usize,
    /// Stacked LSTM layers (default 2).
    #[serde(default = "two")]
    pub layers: usize,
    /// Dropout on the word vectors, between layers and on the last layer's outputs (default
    /// 0.5).
    #[serde(default = "half")]
    pub dropout: f64,
    /// The output layer shares the embedding's weights (needs `dim == hidden`; default no).
    #[serde(default)]
    pub tied: bool,
    /// Embedding and output weights are drawn from `U(-a, a)` with this `a` (default 0.1).
    #[serde(default = "tenth")]
    pub init_range: f64,
    /// How the LSTM's weights start (default `"kindling"`: Xavier input weights, orthogonal
    /// recurrent weights, forget-gate bias 1; `"pytorch"`: `nn.LSTM`'s uniform draws).
    #[serde(default)]
    pub lstm_init: LstmInit,
}

/// The initialisation of a language model's LSTM layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LstmInit {
    /// [`LstmCellConfig::new`]: Xavier-uniform input weights, orthogonal recurrent weights, zero
    /// biases with the forget gate's at 1.
    #[default]
    Kindling,
    /// [`LstmCellConfig::pytorch`]: every weight and bias from `U(±1/√hidden)`.
    Pytorch,
}

impl LanguageModelConfig {
    /// A 2-layer model of `hidden` units over `dim`-dimensional word vectors, dropout 0.5,
    /// untied.
    pub fn new(dim: usize, hidden: usize) -> Self {
        Self {
            dim,
            hidden,
            layers: 2,
            dropout: 0.5,
            tied: false,
            init_range: 0.1,
            lstm_init: LstmInit::Kindling,
        }
    }

    /// Chooses how the LSTM's weights start (the `lstm_init` field).
    pub fn with_lstm_init(mut self, lstm_init: LstmInit) -> Self {
        self.lstm_init = lstm_init;
        self
    }

    /// Sets the number of layers (the `layers` field).
    pub fn with_layers(mut self, layers: usize) -> Self {
        self.layers = layers;
        self
    }

    /// Sets the dropout (the `dropout` field).
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Ties the output layer to the embedding (the `tied` field).
    pub fn with_tied(mut self, tied: bool) -> Self {
        self.tied = tied;
        self
    }

    /// Checks every value that its type does not.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_positive("dim", self.dim)?;
        check_positive("hidden", self.hidden)?;
        check_positive("layers", self.layers)?;
        check_dropout("dropout", self.dropout)?;
        if self.tied && self.dim != self.hidden {
            return Err(Error::invalid(
                "tied",
                format!(
                    "needs dim == hidden, got dim {} and hidden {}",
                    self.dim, self.hidden
                ),
            ));
        }
        if !(self.init_range.is_finite() && self.init_range > 0.0) {
            return Err(Error::invalid(
                "init_range",
                format!("must be a positive number, got {}", self.init_range),
            ));
        }
        Ok(())
    }

    /// A model over a vocabulary of `vocab_size` words.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init(&self, vocab_size: usize, device: &Device) -> Result<LanguageModel> {
        self.validate()?;
        check_positive("vocab_size", vocab_size)?;
        let a = self.init_range;
        let uniform = |shape: [usize; 2]| {
            Param::from_tensor(Tensor::<2>::random(
                shape,
                Distribution::Uniform(-a, a),
                device,
            ))
        };
        Ok(LanguageModel {
            embedding: uniform([vocab_size, self.dim]),
            lstm: LstmConfig::new(self.dim, self.hidden)
                .with_cell(match self.lstm_init {
                    LstmInit::Kindling => LstmCellConfig::new(self.dim, self.hidden),
                    LstmInit::Pytorch => LstmCellConfig::pytorch(self.dim, self.hidden),
                })
                .with_n_layers(self.layers)
                .with_dropout(self.dropout)
                .init(device)?,
            dropout: DropoutConfig::new(self.dropout).init(),
            output_weight: (!self.tied).then(|| uniform([self.hidden, vocab_size])),
            output_bias: Param::from_tensor(Tensor::zeros([vocab_size], device)),
            carried: CarriedState::default(),
        })
    }
}

/// The state a model carries from one training window to the next (detached: gradients stop
/// at window boundaries). Clones of a model share it; each pass over a stream resets it at the
/// stream's first window.
#[derive(Debug, Clone, Default)]
pub struct CarriedState(Arc<Mutex<Option<LstmStates>>>);

impl CarriedState {
    fn take(&self) -> Option<LstmStates> {
        self.0.lock().map(|mut s| s.take()).unwrap_or(None)
    }

    fn put(&self, state: LstmStates) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(state);
        }
    }
}

/// A stacked-LSTM word language model; built by [`LanguageModelConfig::init`].
#[derive(Module, Debug)]
pub struct LanguageModel {
    /// `[vocab, dim]`.
    embedding: Param<Tensor<2>>,
    lstm: Lstm,
    dropout: Dropout,
    /// `[hidden, vocab]`, or `None` when tied to the embedding.
    output_weight: Option<Param<Tensor<2>>>,
    /// `[vocab]`.
    output_bias: Param<Tensor<1>>,
    #[module(skip)]
    carried: CarriedState,
}

/// The most words [`LanguageModel::generate`] samples in one call.
pub const MAX_GENERATED_WORDS: usize = 100_000;
/// The sampling temperature's range: low enough to be all but greedy, high enough to be all
/// but uniform; outside it the scaled scores lose their meaning in f32.
pub const TEMPERATURE_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e3;

/// Checks the sampling settings of [`LanguageModel::generate`] before any work.
///
/// # Errors
/// [`Error::InvalidInput`] naming `words` above [`MAX_GENERATED_WORDS`] or a `temperature`
/// outside [`TEMPERATURE_RANGE`].
pub fn check_sampling(words: usize, temperature: f64) -> Result<()> {
    if words > MAX_GENERATED_WORDS {
        return Err(Error::input(
            "words",
            format!("must be at most {MAX_GENERATED_WORDS}, got {words}"),
        ));
    }
    if !TEMPERATURE_RANGE.contains(&temperature) {
        return Err(Error::input(
            "temperature",
            format!(
                "must be in [{}, {}], got {temperature}",
                TEMPERATURE_RANGE.start(),
                TEMPERATURE_RANGE.end()
            ),
        ));
    }
    Ok(())
}

impl LanguageModel {
    /// The vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.embedding.dims()[0]
    }

    /// Next-word scores (before softmax) at every step, from `state` (`None`: zeros).
    ///
    /// # Shapes
    /// `tokens`: `[batch, steps]`; `state`: `[layers, batch, hidden]` each →
    /// `[batch · steps, vocab]` (row-major over batch, then steps) and the final state.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the state does not fit.
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        state: Option<LstmStates>,
    ) -> Result<(Tensor<2>, LstmStates)> {
        let (scores, state) = self.scores(tokens, state)?;
        Ok((scores + self.output_bias.val().unsqueeze::<2>(), state))
    }

    /// [`LanguageModel::forward`] without the output bias, which the loss adds itself.
    fn scores(
        &self,
        tokens: Tensor<2, Int>,
        state: Option<LstmStates>,
    ) -> Result<(Tensor<2>, LstmStates)> {
        let words = self.dropout.forward(lookup(self.embedding.val(), tokens));
        let [batch, steps, _] = words.dims();
        let (outputs, state) = self.lstm.forward(words, None, state)?;
        let hidden = self.lstm.d_hidden();
        let outputs = self
            .dropout
            .forward(outputs)
            .reshape([batch * steps, hidden]);
        let weight = match &self.output_weight {
            Some(weight) => weight.val(),
            None => self.embedding.val().transpose(),
        };
        Ok((outputs.matmul(weight), state))
    }

    /// Continues `prompt` (word ids; at least one) with `words` sampled words, drawn from the
    /// softmax of the scores divided by `temperature` (below 1: safer, above 1: more varied);
    /// stops early after `stop` when given. Returns the sampled words only.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty prompt, an id outside the vocabulary or a
    /// temperature that is not positive.
    pub fn generate(
        &self,
        prompt: &[u32],
        words: usize,
        temperature: f64,
        stop: Option<u32>,
        rng: &mut SeededRng,
    ) -> Result<Vec<u32>> {
        let vocab = self.vocab_size();
        if prompt.is_empty() {
            return Err(Error::input("prompt", "needs at least one word"));
        }
        if let Some(&id) = prompt.iter().find(|&&id| id as usize >= vocab) {
            return Err(Error::input(
                "prompt",
                format!("id {id} is outside the vocabulary of {vocab} words"),
            ));
        }
        check_sampling(words, temperature)?;
        let model = self.valid();
        let device = model.embedding.device();
        let ids = |ids: &[u32]| {
            let values: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
            Tensor::<2, Int>::from_data(TensorData::new(values, [1, ids.len()]), &device)
        };
        let (mut logits, mut state) = model.forward(ids(prompt), None)?;
        let mut sampled = Vec::with_capacity(words.min(1024));
        for _ in 0..words {
            let steps = logits.dims()[0];
            let last = logits.narrow(0, steps - 1, 1) / temperature;
            let probabilities: Vec<f32> = softmax(last, 1)
                .into_data()
                .convert::<f32>()
                .try_to_vec()
                .expect("float probabilities");
            let word = sample(&probabilities, rng.next_f64());
            sampled.push(word);
            if stop == Some(word) {
                break;
            }
            (logits, state) = model.forward(ids(&[word]), Some(state))?;
        }
        Ok(sampled)
    }
}

/// The index where the running sum of `probabilities` passes `u ∈ [0, 1)`.
fn sample(probabilities: &[f32], u: f64) -> u32 {
    let mut total = 0.0f64;
    for (i, &p) in probabilities.iter().enumerate() {
        total += f64::from(p);
        if u < total {
            return i as u32;
        }
    }
    // Rounding left the sum a hair below 1: the last word with any mass.
    probabilities.iter().rposition(|&p| p > 0.0).unwrap_or(0) as u32
}

impl TrainStep<BpttBatch> for LanguageModel {
    /// Cross-entropy of every next word, averaged over the window; the state after the window
    /// is kept (detached) for the next one, and dropped at a stream's first window.
    fn step(&self, batch: &BpttBatch) -> StepOutput {
        let [rows, steps] = batch.inputs.dims();
        let state = if batch.fresh {
            self.carried.take();
            None
        } else {
            self.carried.take().filter(|s| s.hidden.dims()[1] == rows)
        };
        let (scores, state) = self
            .scores(batch.inputs.clone(), state)
            .expect("a carried state has the batch's rows");
        self.carried.put(LstmStates {
            hidden: state.hidden.detach(),
            cell: state.cell.detach(),
        });
        let targets = batch.targets.clone().reshape([rows * steps]);
        let loss =
            kindling_core::loss::cross_entropy_with_bias(scores, self.output_bias.val(), targets);
        let tokens = (rows * steps) as u64;
        let mean = f64::from(loss.clone().into_scalar::<f32>());
        StepOutput {
            loss,
            examples: rows * steps,
            outcome: Outcome::Tokens {
                nll_sum: mean * tokens as f64,
                tokens,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn sampling_follows_the_cumulative_sum() {
        let p = [0.2f32, 0.0, 0.5, 0.3];
        assert_eq!(sample(&p, 0.0), 0);
        assert_eq!(sample(&p, 0.19), 0);
        assert_eq!(sample(&p, 0.21), 2);
        assert_eq!(sample(&p, 0.69), 2);
        assert_eq!(sample(&p, 0.71), 3);
        assert_eq!(sample(&p, 0.999_999_9), 3);
    }
}
