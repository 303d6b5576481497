//! The sequence tagger: word vectors → bidirectional recurrent encoder → dropout → a softmax
//! over tags at every token (part-of-speech tagging, chunking, named entities).

use kindling_core::burn::module::Module;
use kindling_core::burn::nn::{Linear, LinearConfig};
use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::dropout::{Dropout, DropoutConfig};
use kindling_core::seed::SeededRng;
use kindling_core::train::{Outcome, StepOutput, TrainStep};
use kindling_data::Vocab;
use kindling_data::tagged::TaggedBatch;
use kindling_embed::WordVectors;
use kindling_embed::layer::{Channels, WordEmbedding};
use kindling_embed::pretrained::Coverage;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::encoder::{Encoder, EncoderConfig};
use crate::error::{check_dropout, check_positive};
use crate::word_input;

fn rand() -> Channels {
    Channels::Rand
}

fn half() -> f64 {
    0.5
}

fn quarter() -> f64 {
    0.25
}

/// Settings of a [`Tagger`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggerConfig {
    /// Word-vector size (must match pretrained vectors).
    pub dim: usize,
    /// Where the word vectors come from (as [`crate::RnnClassifierConfig::channels`]; default
    /// `rand`).
    #[serde(default = "rand")]
    pub channels: Channels,
    /// The encoder; a tagger usually reads both ways.
    pub encoder: EncoderConfig,
    /// Dropout on the encoder's outputs (default 0.5).
    #[serde(default = "half")]
    pub dropout: f64,
    /// Dropout on the word vectors (default 0).
    #[serde(default)]
    pub embedding_dropout: f64,
    /// Random word vectors are drawn from `U(-a, a)` with this `a` (default 0.25).
    #[serde(default = "quarter")]
    pub random_bound: f64,
    /// Words without a pretrained vector start from `U(-a, a)` with this `a`; `None` matches
    /// the pretrained vectors' variance.
    #[serde(default)]
    pub unknown_bound: Option<f32>,
}

impl TaggerConfig {
    /// A tagger over `dim`-dimensional random vectors read by `encoder`, dropout 0.5.
    pub fn new(dim: usize, encoder: EncoderConfig) -> Self {
        Self {
            dim,
            channels: Channels::Rand,
            encoder,
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

    /// Sets the dropout on the encoder's outputs (the `dropout` field).
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
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

    /// A tagger over random word vectors with `tags` outputs.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init(&self, vocab_size: usize, tags: usize, device: &Device) -> Result<Tagger> {
        self.validate()?;
        let embedding =
            WordEmbedding::random(vocab_size, self.dim, self.random_bound as f32, device);
        self.assemble(embedding, tags, device)
    }

    /// A tagger whose word vectors come from `vectors` aligned to `vocab` (looked up as
    /// written, then lower-cased); returns how many words had a vector.
    ///
    /// # Errors
    /// When the config is invalid, the vectors are not `dim`-dimensional or `channels` is
    /// `rand`.
    pub fn init_pretrained(
        &self,
        vectors: &WordVectors,
        vocab: &Vocab,
        tags: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<(Tagger, Coverage)> {
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
        Ok((self.assemble(embedding, tags, device)?, coverage))
    }

    /// A tagger of this structure with placeholder weights, to restore a checkpoint into.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init_for_loading(
        &self,
        vocab_size: usize,
        tags: usize,
        device: &Device,
    ) -> Result<Tagger> {
        self.validate()?;
        let embedding = WordEmbedding::placeholder(self.channels, vocab_size, self.dim, device);
        self.assemble(embedding, tags, device)
    }

    fn assemble(&self, embedding: WordEmbedding, tags: usize, device: &Device) -> Result<Tagger> {
        check_positive("tags", tags)?;
        let encoder = self.encoder.init(self.dim, device)?;
        Ok(Tagger {
            embedding,
            embedding_dropout: DropoutConfig::new(self.embedding_dropout).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            output: LinearConfig::new(encoder.d_output(), tags).init(device),
            encoder,
        })
    }
}

/// A recurrent tagger; built by [`TaggerConfig`].
#[derive(Module, Debug)]
pub struct Tagger {
    embedding: WordEmbedding,
    embedding_dropout: Dropout,
    encoder: Encoder,
    dropout: Dropout,
    output: Linear,
}

impl Tagger {
    /// Tag scores (before softmax) of every real token, sentence after sentence.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]`, `lengths`: one per sentence → `[Σ lengths, tags]`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `lengths` does not fit `tokens`.
    pub fn forward(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Result<Tensor<2>> {
        let device = tokens.device();
        let words = self
            .embedding_dropout
            .forward(self.embedding.forward(tokens));
        let [batch, len, _] = words.dims();
        let outputs = self.encoder.forward(words, Some(lengths))?.outputs;
        let d = outputs.dims()[2];
        let real: Vec<i64> = lengths
            .iter()
            .enumerate()
            .flat_map(|(b, &n)| (0..n).map(move |t| (b * len + t) as i64))
            .collect();
        let count = real.len();
        let real = Tensor::<1, Int>::from_data(TensorData::new(real, [count]), &device);
        let states = outputs.reshape([batch * len, d]).select(0, real);
        Ok(self.output.forward(self.dropout.forward(states)))
    }

    /// The most probable tag id of every real token, one list per sentence.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]`, `lengths`: one per sentence.
    ///
    /// # Errors
    /// As [`Tagger::forward`].
    pub fn predict(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Result<Vec<Vec<u32>>> {
        let best = classes(self.forward(tokens, lengths)?.argmax(1).squeeze_dim(1));
        let mut rest = best.as_slice();
        Ok(lengths
            .iter()
            .map(|&n| {
                let (sentence, tail) = rest.split_at(n);
                rest = tail;
                sentence.to_vec()
            })
            .collect())
    }
}

/// Integer classes from a tensor.
fn classes(t: Tensor<1, Int>) -> Vec<u32> {
    t.into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .expect("integer classes")
        .into_iter()
        .map(|c| c as u32)
        .collect()
}

impl TrainStep<TaggedBatch> for Tagger {
    /// Cross-entropy per token, averaged over the batch's tokens; the outcome is per token, so
    /// `accuracy` is token accuracy.
    fn step(&self, batch: &TaggedBatch) -> StepOutput {
        let logits = self
            .forward(batch.tokens.clone(), &batch.lengths)
            .expect("a padded batch's lengths fit its tokens");
        let predicted = classes(logits.clone().argmax(1).squeeze_dim(1));
        let gold = classes(batch.tags.clone());
        let loss = kindling_core::loss::cross_entropy(logits, batch.tags.clone());
        StepOutput {
            loss,
            examples: gold.len(),
            outcome: Outcome::Classes { gold, predicted },
        }
    }
}
