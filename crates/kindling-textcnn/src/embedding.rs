//! What the classifiers over word vectors share: building the embedding layer
//! ([`kindling_embed::layer`]) from pretrained vectors or with placeholder weights.

use kindling_core::burn::tensor::Device;
use kindling_core::seed::SeededRng;
use kindling_data::Vocab;
use kindling_embed::WordVectors;
use kindling_embed::pretrained::{Coverage, UnknownInit};

pub use kindling_embed::layer::{Channels, WordEmbedding};

use crate::Result;

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
