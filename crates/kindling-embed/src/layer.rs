//! The word-vector input layer of the classifiers and taggers: one embedding table (random,
//! or pretrained and frozen or fine-tuned), or Kim's two channels.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Initializer};
use burn::tensor::{Device, Int, Tensor};
use kindling_core::seed::SeededRng;
use kindling_data::Vocab;
use serde::{Deserialize, Serialize};

use crate::WordVectors;
use crate::lookup::lookup;
use crate::pretrained::{
    Coverage, Trainable, TwoChannelEmbedding, UnknownInit, check_dim, pretrained_embedding,
};
use crate::{Error, Result};

/// Where the word vectors come from and whether training changes them (Kim's four variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channels {
    /// CNN-rand: vectors drawn at random and trained.
    Rand,
    /// CNN-static: pretrained vectors, frozen.
    Static,
    /// CNN-non-static: pretrained vectors, fine-tuned.
    NonStatic,
    /// CNN-multichannel: a frozen and a fine-tuned copy; each filter sees both and the results
    /// are summed.
    Multichannel,
}

impl Channels {
    /// Whether the variant starts from pretrained vectors.
    pub fn pretrained(self) -> bool {
        self != Channels::Rand
    }
}

/// The embedding layer of a classifier: one table (rand, static, non-static) or a frozen and a
/// fine-tuned copy of the same pretrained table (multichannel).
#[derive(Module, Debug)]
pub enum WordEmbedding {
    /// One table.
    Single(Embedding),
    /// Kim's two channels.
    Multichannel(TwoChannelEmbedding),
}

impl WordEmbedding {
    /// One trainable table of `vocab_size` rows of `dim`, drawn from `U(-bound, bound)`.
    pub fn random(vocab_size: usize, dim: usize, bound: f32, device: &Device) -> Self {
        let bound = f64::from(bound);
        Self::Single(
            EmbeddingConfig::new(vocab_size, dim)
                .with_initializer(Initializer::Uniform {
                    min: -bound,
                    max: bound,
                })
                .init(device),
        )
    }

    /// The tables of `channels` from `vectors` aligned to `vocab`; words without a vector are
    /// drawn with `rng` as `unknown` says. Returns how many words had a vector.
    ///
    /// # Errors
    /// When the vectors are not `dim`-dimensional or `channels` is [`Channels::Rand`].
    pub fn pretrained(
        channels: Channels,
        dim: usize,
        vectors: &WordVectors,
        vocab: &Vocab,
        unknown: UnknownInit,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<(Self, Coverage)> {
        check_dim(vectors, dim)?;
        let single = |trainable, rng: &mut SeededRng| {
            let (embedding, coverage) =
                pretrained_embedding(vectors, vocab, unknown, trainable, rng, device);
            (Self::Single(embedding), coverage)
        };
        Ok(match channels {
            Channels::Rand => {
                return Err(Error::Invalid {
                    what: "channels",
                    problem: "rand has no pretrained vectors; draw the table with `random`".into(),
                });
            }
            Channels::Static => single(Trainable::Static, rng),
            Channels::NonStatic => single(Trainable::NonStatic, rng),
            Channels::Multichannel => {
                let (two, coverage) =
                    TwoChannelEmbedding::new(vectors, vocab, unknown, rng, device);
                (Self::Multichannel(two), coverage)
            }
        })
    }

    /// Tables of the right structure with placeholder values, for a checkpoint to fill.
    pub fn placeholder(channels: Channels, vocab_size: usize, dim: usize, device: &Device) -> Self {
        let table = || EmbeddingConfig::new(vocab_size, dim).init(device);
        match channels {
            Channels::Multichannel => Self::Multichannel(TwoChannelEmbedding {
                fixed: table(),
                tuned: table(),
            }),
            _ => Self::Single(table()),
        }
    }

    /// The word vectors of `tokens`; with two channels, their sum (each filter sees both
    /// channels and the results add up, which is the filter applied once to the sum).
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]` → `[batch, len, dim]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        match self {
            Self::Single(table) => lookup(table.weight.val(), tokens),
            Self::Multichannel(two) => {
                lookup(two.fixed.weight.val(), tokens.clone())
                    + lookup(two.tuned.weight.val(), tokens)
            }
        }
    }

    /// The table of a single-channel embedding (`None` for two channels).
    pub fn single(&self) -> Option<&Embedding> {
        match self {
            Self::Single(table) => Some(table),
            Self::Multichannel(_) => None,
        }
    }
}
