//! The word-vector input of the classifiers: one embedding table, or Kim's two channels.

use kindling_core::burn::module::Module;
use kindling_core::burn::nn::{Embedding, EmbeddingConfig, Initializer};
use kindling_core::burn::tensor::{Device, Int, Tensor};
use kindling_core::seed::SeededRng;
use kindling_data::Vocab;
use kindling_embed::WordVectors;
use kindling_embed::pretrained::{
    Coverage, Trainable, TwoChannelEmbedding, UnknownInit, check_dim, pretrained_embedding,
};
use serde::{Deserialize, Serialize};

use crate::lookup::lookup;
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
                return Err(Error::invalid(
                    "channels",
                    "rand has no pretrained vectors; build the model with `init`",
                ));
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

/// The settings every classifier over word vectors shares, and the two ways of building one that
/// do not depend on what follows the embedding: from pretrained vectors, and with placeholder
/// weights for a checkpoint to fill.
pub(crate) trait WordVectorModel {
    /// The model the config builds.
    type Model;

    /// Checks every setting.
    fn check(&self) -> Result<()>;
    /// The embedding variant.
    fn variant(&self) -> Channels;
    /// The word-vector size.
    fn vector_dim(&self) -> usize;
    /// The spread pretrained vectors are rescaled to, if any.
    fn rescale_to(&self) -> Option<f64>;
    /// The bound of the draws of words without a pretrained vector, if any.
    fn unknown(&self) -> Option<f32>;
    /// The model around `embedding`, with `classes` outputs.
    fn assemble(
        &self,
        embedding: WordEmbedding,
        classes: usize,
        device: &Device,
    ) -> Result<Self::Model>;

    /// The model over `vectors` aligned to `vocab` (see [`WordEmbedding::pretrained`]).
    fn build_pretrained(
        &self,
        vectors: &WordVectors,
        vocab: &Vocab,
        classes: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<(Self::Model, Coverage)> {
        self.check()?;
        let vectors = &*rescaled(vectors, self.rescale_to());
        let (embedding, coverage) = WordEmbedding::pretrained(
            self.variant(),
            self.vector_dim(),
            vectors,
            vocab,
            unknown_init(self.unknown()),
            rng,
            device,
        )?;
        Ok((self.assemble(embedding, classes, device)?, coverage))
    }

    /// The model with placeholder weights, for a checkpoint to fill.
    fn build_for_loading(
        &self,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Result<Self::Model> {
        self.check()?;
        let embedding =
            WordEmbedding::placeholder(self.variant(), vocab_size, self.vector_dim(), device);
        self.assemble(embedding, classes, device)
    }
}

/// `vectors` rescaled to the standard deviation `std`, or as they are without one.
pub(crate) fn rescaled(
    vectors: &WordVectors,
    std: Option<f64>,
) -> std::borrow::Cow<'_, WordVectors> {
    match std {
        Some(std) => std::borrow::Cow::Owned(vectors.scaled_to_std(std)),
        None => std::borrow::Cow::Borrowed(vectors),
    }
}

/// [`UnknownInit`] for an optional bound: `U(-a, a)`, or the pretrained vectors' variance.
pub(crate) fn unknown_init(bound: Option<f32>) -> UnknownInit {
    bound.map_or(UnknownInit::MatchVariance, UnknownInit::Uniform)
}
