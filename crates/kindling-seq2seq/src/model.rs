//! The encoder–decoder: source word vectors → a (bidirectional) recurrent encoder → a GRU
//! decoder that sees the source through one context vector or through attention → a softmax
//! over the target vocabulary at every step.
//!
//! The three decoders, for a decoder state `s`, the previous output's vector `e` and the
//! encoder states `h_j`:
//! - **context** (Cho et al. 2014): `c` is the encoder's final states, the same at every step;
//!   `s_t = GRU([e; c], s_{t-1})`, scores from `[s_t; e; c]`.
//! - **Bahdanau** (2015): `c_t = Σ_j a_tj h_j` with `a_t = softmax_j(vᵀ tanh(W s_{t-1} + U
//!   h_j))`; `s_t = GRU([e; c_t], s_{t-1})`, scores from `[s_t; c_t; e]`.
//! - **Luong** (2015, `dot` or `general`): `s_t = GRU([e; h̃_{t-1}], s_{t-1})` (input feeding),
//!   `a_t = softmax_j(s_tᵀ h_j)` or `softmax_j(s_tᵀ W h_j)`, `h̃_t = tanh(W_c [c_t; s_t])`, scores
//!   from `h̃_t`.
//!
//! The decoder starts from `tanh(W_b [h→_n; h←_1])`, the encoder's final states bridged to its
//! size. Attention never looks at source padding.

use kindling_core::activation::tanh;
use kindling_core::burn::module::Module;
use kindling_core::burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use kindling_core::burn::tensor::activation::log_softmax;
use kindling_core::burn::tensor::{Bool, Device, Int, Tensor};
use kindling_core::dropout::{Dropout, DropoutConfig};
use kindling_core::seed::SeededRng;
use kindling_core::train::{Outcome, StepOutput, TrainStep};
use kindling_rnn::{EncoderConfig, GruCell, GruCellConfig};
use serde::{Deserialize, Serialize};

use crate::attention::{Attention, AttentionKind, context};
use crate::batch::PairBatch;
use crate::{Error, Result};

fn default_dropout() -> f64 {
    0.3
}

fn always() -> f64 {
    1.0
}

/// Settings of a [`Seq2Seq`] model; the vocabulary sizes come from the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqConfig {
    /// Word-vector size of both sides.
    pub embedding: usize,
    /// The source encoder (a bidirectional GRU in the classic models).
    pub encoder: EncoderConfig,
    /// The decoder GRU's state size.
    pub decoder_hidden: usize,
    /// How the decoder sees the source.
    pub attention: AttentionKind,
    /// Size of Bahdanau's scoring layer (default: `decoder_hidden`).
    #[serde(default)]
    pub attention_size: Option<usize>,
    /// Dropout on the word vectors and before the output layer (default 0.3).
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Label smoothing ε of the training loss (default 0): the target distribution puts `1 − ε`
    /// on the gold token and spreads `ε` evenly over the vocabulary.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Share of training steps that feed the gold previous token rather than the model's own
    /// prediction (default 1: always teacher forcing).
    #[serde(default = "always")]
    pub teacher_forcing: f64,
    /// Seeds the teacher-forcing choices (with the batch's content).
    #[serde(default)]
    pub seed: u64,
}

impl Seq2SeqConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, problem: String| Err(Error::InvalidConfig { field, problem });
        if self.embedding == 0 || self.decoder_hidden == 0 {
            return invalid("embedding", "and `decoder_hidden` must be positive".into());
        }
        if self.attention_size == Some(0) {
            return invalid("attention_size", "must be positive".into());
        }
        for (field, value) in [
            ("dropout", self.dropout),
            ("label_smoothing", self.label_smoothing),
        ] {
            if !(0.0..1.0).contains(&value) {
                return invalid(field, format!("must be in [0, 1), got {value}"));
            }
        }
        if !(0.0..=1.0).contains(&self.teacher_forcing) {
            return invalid(
                "teacher_forcing",
                format!("must be in [0, 1], got {}", self.teacher_forcing),
            );
        }
        if self.attention == AttentionKind::LuongDot
            && self.encoder.d_output() != self.decoder_hidden
        {
            return invalid(
                "decoder_hidden",
                format!(
                    "must equal the encoder's output size ({}) for dot-product attention",
                    self.encoder.d_output()
                ),
            );
        }
        self.encoder.validate()?;
        Ok(())
    }

    /// A model for `source_vocab` source and `target_vocab` target tokens.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init(
        &self,
        source_vocab: usize,
        target_vocab: usize,
        device: &Device,
    ) -> Result<Seq2Seq> {
        self.validate()?;
        let d_source = self.encoder.d_output();
        let dh = self.decoder_hidden;
        let e = self.embedding;
        let luong = matches!(
            self.attention,
            AttentionKind::LuongDot | AttentionKind::LuongGeneral
        );
        let (d_cell_input, d_readout) = if luong {
            (e + dh, dh)
        } else {
            (e + d_source, dh + d_source + e)
        };
        Ok(Seq2Seq {
            source_embedding: EmbeddingConfig::new(source_vocab, e).init(device),
            target_embedding: EmbeddingConfig::new(target_vocab, e).init(device),
            encoder: self.encoder.init(e, device)?,
            bridge: LinearConfig::new(d_source, dh).init(device),
            cell: GruCellConfig::new(d_cell_input, dh).init(device)?,
            attention: Attention::new(
                self.attention,
                dh,
                d_source,
                self.attention_size.unwrap_or(dh),
                device,
            ),
            combine: luong.then(|| {
                LinearConfig::new(d_source + dh, dh)
                    .with_bias(false)
                    .init(device)
            }),
            output: LinearConfig::new(d_readout, target_vocab).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            label_smoothing: self.label_smoothing,
            teacher_forcing: self.teacher_forcing,
            seed: self.seed,
        })
    }
}

/// An encoder–decoder (see the module documentation).
#[derive(Module, Debug)]
pub struct Seq2Seq {
    source_embedding: Embedding,
    target_embedding: Embedding,
    encoder: kindling_rnn::Encoder,
    bridge: Linear,
    cell: GruCell,
    attention: Option<Attention>,
    combine: Option<Linear>,
    output: Linear,
    dropout: Dropout,
    #[module(skip)]
    label_smoothing: f64,
    #[module(skip)]
    teacher_forcing: f64,
    #[module(skip)]
    seed: u64,
}

/// The encoded sources a decoder reads, for a batch (or a batch of beams).
#[derive(Debug, Clone)]
pub struct Memory {
    /// The encoder's output at every source position, `[batch, len, d_source]`.
    pub states: Tensor<3>,
    /// What attention scores compare with, `[batch, len, d_key]` (none without attention).
    pub keys: Option<Tensor<3>>,
    /// True at padded source positions, `[batch, len]`.
    pub padding: Tensor<2, Bool>,
    /// The encoder's final states, `[batch, d_source]`.
    pub summary: Tensor<2>,
}

impl Memory {
    /// The memory of the rows `rows` (e.g. each source repeated once per beam).
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            states: self.states.clone().select(0, rows.clone()),
            keys: self.keys.clone().map(|k| k.select(0, rows.clone())),
            padding: self.padding.clone().int().select(0, rows.clone()).bool(),
            summary: self.summary.clone().select(0, rows),
        }
    }
}

/// The decoder's recurrent state.
#[derive(Debug, Clone)]
pub struct DecoderState {
    /// The GRU state, `[batch, decoder_hidden]`.
    pub hidden: Tensor<2>,
    /// Luong's attentional state `h̃` fed to the next step, `[batch, decoder_hidden]`.
    pub feed: Option<Tensor<2>>,
}

impl DecoderState {
    /// The state of the rows `rows`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            hidden: self.hidden.clone().select(0, rows.clone()),
            feed: self.feed.clone().map(|f| f.select(0, rows)),
        }
    }
}

/// One decoder step's results.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// What the output layer reads, `[batch, d_readout]`.
    pub readout: Tensor<2>,
    /// The state after the step.
    pub state: DecoderState,
    /// The attention weights over the source, `[batch, len]` (none without attention).
    pub attention: Option<Tensor<2>>,
}

impl Seq2Seq {
    /// Encodes a batch of sources.
    ///
    /// # Shapes
    /// `source`: `[batch, len]`, `padding`: `[batch, len]`.
    ///
    /// # Errors
    /// When `lengths` do not fit `source`.
    pub fn encode(
        &self,
        source: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
        lengths: &[usize],
    ) -> Result<(Memory, DecoderState)> {
        let embedded = self.dropout.forward(self.source_embedding.forward(source));
        let encoded = self.encoder.forward(embedded, Some(lengths))?;
        let keys = self
            .attention
            .as_ref()
            .map(|a| a.keys(encoded.outputs.clone()));
        let hidden = tanh(self.bridge.forward(encoded.last.clone()));
        let feed = self
            .combine
            .as_ref()
            .map(|_| Tensor::zeros(hidden.dims(), &hidden.device()));
        Ok((
            Memory {
                states: encoded.outputs,
                keys,
                padding,
                summary: encoded.last,
            },
            DecoderState { hidden, feed },
        ))
    }

    /// Word vectors of the previous outputs (dropout applied).
    ///
    /// # Shapes
    /// `tokens`: `[batch]` → `[batch, embedding]`.
    pub fn embed_targets(&self, tokens: Tensor<1, Int>) -> Tensor<2> {
        let [batch] = tokens.dims();
        let embedded = self.target_embedding.forward(tokens.reshape([batch, 1]));
        let [_, _, e] = embedded.dims();
        self.dropout.forward(embedded.reshape([batch, e]))
    }

    /// One decoder step from the previous output's vector `embedded`.
    ///
    /// # Shapes
    /// `embedded`: `[batch, embedding]`; see [`StepResult`].
    ///
    /// # Errors
    /// When a shape does not fit the decoder.
    pub fn step(
        &self,
        memory: &Memory,
        state: DecoderState,
        embedded: Tensor<2>,
    ) -> Result<StepResult> {
        let DecoderState { hidden, feed } = state;
        match (&self.attention, &self.combine) {
            (Some(attention), Some(combine)) => {
                let feed = feed.expect("Luong decoders carry an attentional state");
                let hidden = self
                    .cell
                    .forward(Tensor::cat(vec![embedded, feed], 1), hidden)?;
                let keys = memory.keys.as_ref().expect("attention has keys");
                let weights = attention.weights(hidden.clone(), keys, &memory.padding);
                let context = context(weights.clone(), &memory.states);
                let attentional =
                    tanh(combine.forward(Tensor::cat(vec![context, hidden.clone()], 1)));
                Ok(StepResult {
                    readout: attentional.clone(),
                    state: DecoderState {
                        hidden,
                        feed: Some(attentional),
                    },
                    attention: Some(weights),
                })
            }
            // Bahdanau and the context decoder differ only in the context they feed: the
            // attention over the source given the previous state, or the fixed summary.
            (attention, _) => {
                let (context, weights) = match attention {
                    Some(attention) => {
                        let keys = memory.keys.as_ref().expect("attention has keys");
                        let weights = attention.weights(hidden.clone(), keys, &memory.padding);
                        (context(weights.clone(), &memory.states), Some(weights))
                    }
                    None => (memory.summary.clone(), None),
                };
                let hidden = self.cell.forward(
                    Tensor::cat(vec![embedded.clone(), context.clone()], 1),
                    hidden,
                )?;
                Ok(StepResult {
                    readout: Tensor::cat(vec![hidden.clone(), context, embedded], 1),
                    state: DecoderState { hidden, feed: None },
                    attention: weights,
                })
            }
        }
    }

    /// Scores over the target vocabulary from readouts (dropout applied first).
    ///
    /// # Shapes
    /// `readout`: `[rows, d_readout]` → `[rows, target_vocab]`.
    pub fn scores(&self, readout: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.dropout.forward(readout))
    }

    /// The scores of every real decoder output of `batch`, the decoder fed the gold previous
    /// token (teacher forcing) or, on the share of steps that `teacher_forcing` leaves, its own
    /// best guess.
    ///
    /// # Shapes
    /// → `[Σ output lengths, target_vocab]`, in the order of `batch.output_tokens`.
    ///
    /// # Errors
    /// When the batch's shapes do not fit the model.
    pub fn forward(&self, batch: &PairBatch) -> Result<Tensor<2>> {
        let (memory, mut state) = self.encode(
            batch.source.clone(),
            batch.source_padding.clone(),
            &batch.source_lengths,
        )?;
        let [rows, steps] = batch.decoder_input.dims();
        let gold = self.target_embedding.forward(batch.decoder_input.clone());
        let [_, _, e] = gold.dims();
        let mut choices = SeededRng::new(self.seed ^ batch.fingerprint);
        let mut readouts = Vec::with_capacity(steps);
        let mut previous: Option<Tensor<2>> = None;
        for t in 0..steps {
            let own_guess =
                t > 0 && self.teacher_forcing < 1.0 && choices.next_f64() >= self.teacher_forcing;
            let embedded = match (&previous, own_guess) {
                (Some(readout), true) => {
                    let guess = self
                        .scores(readout.clone())
                        .detach()
                        .argmax(1)
                        .reshape([rows]);
                    self.embed_targets(guess)
                }
                _ => self
                    .dropout
                    .forward(gold.clone().narrow(1, t, 1).reshape([rows, e])),
            };
            let result = self.step(&memory, state, embedded)?;
            state = result.state;
            previous = Some(result.readout.clone());
            readouts.push(result.readout);
        }
        let readouts = Tensor::stack::<3>(readouts, 1);
        let [_, _, d] = readouts.dims();
        let real = readouts
            .reshape([rows * steps, d])
            .select(0, batch.output_positions.clone());
        Ok(self.scores(real))
    }

    /// The training loss of `batch` with its summed negative log-likelihood (label smoothing
    /// changes the loss, not the likelihood).
    ///
    /// # Errors
    /// As [`Seq2Seq::forward`].
    pub fn loss(&self, batch: &PairBatch) -> Result<(Tensor<1>, f64)> {
        let scores = self.forward(batch)?;
        let nll = kindling_core::loss::cross_entropy(scores.clone(), batch.output_tokens.clone());
        let nll_sum = f64::from(nll.clone().into_scalar::<f32>()) * batch.output_count() as f64;
        let loss = if self.label_smoothing > 0.0 {
            let eps = self.label_smoothing;
            let uniform = log_softmax(scores, 1).mean().neg();
            nll * (1.0 - eps) + uniform * eps
        } else {
            nll
        };
        Ok((loss, nll_sum))
    }
}

impl TrainStep<PairBatch> for Seq2Seq {
    /// Cross-entropy of every real decoder output, averaged over the batch's outputs; the
    /// outcome is the summed likelihood, so dev `perplexity` is per target token (`</s>`
    /// included).
    fn step(&self, batch: &PairBatch) -> StepOutput {
        let (loss, nll_sum) = self.loss(batch).expect("a padded batch fits the model");
        let tokens = batch.output_count() as u64;
        StepOutput {
            loss,
            examples: tokens as usize,
            outcome: Outcome::Tokens { nll_sum, tokens },
        }
    }
}
