//! The recurrent sentence classifier: word vectors → (bi)RNN / LSTM / GRU → pooling over each
//! sentence's real steps → dropout → linear layer.

use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::activation::softmax;
use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::dropout::{Dropout, DropoutConfig};
use kindling_core::models::{ClassifierHead, classification_step};
use kindling_core::seed::SeededRng;
use kindling_core::train::{StepOutput, TrainStep};
use kindling_data::Vocab;
use kindling_data::batch::SequenceBatch;
use kindling_embed::WordVectors;
use kindling_embed::layer::{Channels, WordEmbedding};
use kindling_embed::pretrained::Coverage;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::encoder::{Encoded, Encoder, EncoderConfig};
use crate::error::{check_dropout, check_positive};
use crate::word_input;

/// How the per-step outputs become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// The final states: forwards after the last real word, backwards after the first.
    Last,
    /// The mean of the outputs over the real words.
    Mean,
    /// The element-wise maximum of the outputs over the real words (Conneau et al. 2017's
    /// BiLSTM-max).
    #[default]
    Max,
}

impl Pooling {
    /// One vector per sentence from the encoder's outputs.
    ///
    /// # Shapes
    /// `encoded.outputs`: `[batch, len, d]`, `lengths`: one per sentence (each ≥ 1) →
    /// `[batch, d]`.
    pub fn pool(self, encoded: Encoded, lengths: &[usize]) -> Tensor<2> {
        let [batch, len, d] = encoded.outputs.dims();
        let device = encoded.outputs.device();
        match self {
            Self::Last => encoded.last,
            Self::Mean => {
                let counts: Vec<f32> = lengths.iter().map(|&n| n as f32).collect();
                let counts = Tensor::<2>::from_data(TensorData::new(counts, [batch, 1]), &device);
                encoded.outputs.sum_dim(1).reshape([batch, d]) / counts
            }
            Self::Max => {
                // Padded steps are pushed far below any real output before the maximum.
                let penalty: Vec<f32> = lengths
                    .iter()
                    .flat_map(|&n| (0..len).map(move |t| if t < n { 0.0 } else { -1e30 }))
                    .collect();
                let penalty =
                    Tensor::<3>::from_data(TensorData::new(penalty, [batch, len, 1]), &device);
                (encoded.outputs + penalty).max_dim(1).reshape([batch, d])
            }
        }
    }
}

fn rand() -> Channels {
    Channels::Rand
}

fn half() -> f64 {
    0.5
}

fn quarter() -> f64 {
    0.25
}

/// Settings of an [`RnnClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnClassifierConfig {
    /// Word-vector size (must match pretrained vectors).
    pub dim: usize,
    /// Where the word vectors come from: `rand` (drawn and trained), `static` (pretrained,
    /// frozen), `non-static` (pretrained, fine-tuned) or `multichannel` (a frozen and a
    /// fine-tuned copy, summed). Default `rand`.
    #[serde(default = "rand")]
    pub channels: Channels,
    /// The recurrent encoder.
    pub encoder: EncoderConfig,
    /// How the outputs become a sentence vector (default `max`).
    #[serde(default)]
    pub pooling: Pooling,
    /// Dropout before the output layer (default 0.5).
    #[serde(default = "half")]
    pub dropout: f64,
    /// Dropout on the word vectors (default 0).
    #[serde(default)]
    pub embedding_dropout: f64,
    /// Random word vectors are drawn from `U(-a, a)` with this `a` (default 0.25).
    #[serde(default = "quarter")]
    pub random_bound: f64,
    /// Words without a pretrained vector start from `U(-a, a)` with this `a`; `None` (the
    /// default) matches the pretrained vectors' variance.
    #[serde(default)]
    pub unknown_bound: Option<f32>,
}

impl RnnClassifierConfig {
    /// A classifier over `dim`-dimensional random word vectors read by `encoder`, max-pooled,
    /// with dropout 0.5.
    pub fn new(dim: usize, encoder: EncoderConfig) -> Self {
        Self {
            dim,
            channels: Channels::Rand,
            encoder,
            pooling: Pooling::Max,
            dropout: 0.5,
            embedding_dropout: 0.0,
            random_bound: 0.25,
            unknown_bound: None,
        }
    }

    /// Sets the embedding variant (the `channels` field).
    pub fn with_channels(mut self, channels: Channels) -> Self {
        self.channels = channels;
        self
    }

    /// Sets the pooling (the `pooling` field).
    pub fn with_pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// Sets the dropout before the output layer (the `dropout` field).
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Sets the dropout on the word vectors (the `embedding_dropout` field).
    pub fn with_embedding_dropout(mut self, dropout: f64) -> Self {
        self.embedding_dropout = dropout;
        self
    }

    /// Checks every value that its type does not.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        word_input::check(
            self.dim,
            self.embedding_dropout,
            self.random_bound,
            self.unknown_bound,
        )?;
        self.encoder.validate()?;
        check_dropout("dropout", self.dropout)
    }

    /// A model over random word vectors.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init(
        &self,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Result<RnnClassifier> {
        self.validate()?;
        let embedding =
            WordEmbedding::random(vocab_size, self.dim, self.random_bound as f32, device);
        self.assemble(embedding, classes, device)
    }

    /// A model whose word vectors come from `vectors` aligned to `vocab`; words without one
    /// are drawn with `rng` as `unknown_bound` says. Returns how many words had a vector.
    ///
    /// # Errors
    /// When the config is invalid, the vectors are not `dim`-dimensional or `channels` is
    /// `rand`.
    pub fn init_pretrained(
        &self,
        vectors: &WordVectors,
        vocab: &Vocab,
        classes: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<(RnnClassifier, Coverage)> {
        self.validate()?;
        let (embedding, coverage) = word_input::pretrained(
            self.channels,
            self.dim,
            self.unknown_bound,
            vectors,
            vocab,
            rng,
            device,
        )?;
        Ok((self.assemble(embedding, classes, device)?, coverage))
    }

    /// A model of this structure with placeholder weights, to restore a checkpoint into.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init_for_loading(
        &self,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Result<RnnClassifier> {
        self.validate()?;
        let embedding = WordEmbedding::placeholder(self.channels, vocab_size, self.dim, device);
        self.assemble(embedding, classes, device)
    }

    fn assemble(
        &self,
        embedding: WordEmbedding,
        classes: usize,
        device: &Device,
    ) -> Result<RnnClassifier> {
        check_positive("classes", classes)?;
        let encoder = self.encoder.init(self.dim, device)?;
        Ok(RnnClassifier {
            embedding,
            embedding_dropout: DropoutConfig::new(self.embedding_dropout).init(),
            head: ClassifierHead::new(encoder.d_output(), classes, self.dropout, false, device),
            encoder,
            pooling: self.pooling,
        })
    }
}

/// A recurrent sentence classifier; built by [`RnnClassifierConfig`].
#[derive(Module, Debug)]
pub struct RnnClassifier {
    embedding: WordEmbedding,
    embedding_dropout: Dropout,
    encoder: Encoder,
    head: ClassifierHead,
    #[module(skip)]
    pooling: Pooling,
}

impl RnnClassifier {
    /// Class scores (before softmax). Padding never changes a sentence's scores; an empty
    /// sentence is read as its first (padding) token.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]`; `lengths`: one per sentence → `[batch, classes]`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `lengths` does not fit `tokens`.
    pub fn forward(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Result<Tensor<2>> {
        let lengths: Vec<usize> = lengths.iter().map(|&n| n.max(1)).collect();
        let words = self
            .embedding_dropout
            .forward(self.embedding.forward(tokens));
        let encoded = self.encoder.forward(words, Some(&lengths))?;
        Ok(self.head.forward(self.pooling.pool(encoded, &lengths)))
    }

    /// Class probabilities (softmax of [`RnnClassifier::forward`]).
    ///
    /// # Shapes
    /// As [`RnnClassifier::forward`].
    ///
    /// # Errors
    /// As [`RnnClassifier::forward`].
    pub fn probabilities(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Result<Tensor<2>> {
        Ok(softmax(self.forward(tokens, lengths)?, 1))
    }
}

impl TrainStep<SequenceBatch> for RnnClassifier {
    fn step(&self, batch: &SequenceBatch) -> StepOutput {
        let logits = self
            .forward(batch.tokens.clone(), &batch.lengths)
            .expect("a padded batch's lengths fit its tokens");
        classification_step(logits, batch.labels.clone())
    }
}
