//! The word-vector settings the classifier and the tagger share: checking them, and building
//! the embedding layer from pretrained vectors.

use kindling_core::burn::tensor::Device;
use kindling_core::seed::SeededRng;
use kindling_data::Vocab;
use kindling_embed::WordVectors;
use kindling_embed::layer::{Channels, WordEmbedding};
use kindling_embed::pretrained::{Coverage, UnknownInit};

use crate::error::{check_dropout, check_positive};
use crate::{Error, Result};

/// Checks the word-vector size, the dropout on the vectors and the two draw bounds.
pub(crate) fn check(
    dim: usize,
    embedding_dropout: f64,
    random_bound: f64,
    unknown_bound: Option<f32>,
) -> Result<()> {
    check_positive("dim", dim)?;
    check_dropout("embedding_dropout", embedding_dropout)?;
    if !(random_bound.is_finite() && random_bound > 0.0) {
        return Err(Error::invalid(
            "random_bound",
            format!("must be a positive number, got {random_bound}"),
        ));
    }
    if let Some(bound) = unknown_bound
        && !(bound.is_finite() && bound > 0.0)
    {
        return Err(Error::invalid(
            "unknown_bound",
            format!("must be a positive number, got {bound}"),
        ));
    }
    Ok(())
}

/// The embedding of `channels` over `vectors` aligned to `vocab`; words without a vector are
/// drawn from `U(±unknown_bound)`, or with the vectors' variance without a bound.
pub(crate) fn pretrained(
    channels: Channels,
    dim: usize,
    unknown_bound: Option<f32>,
    vectors: &WordVectors,
    vocab: &Vocab,
    rng: &mut SeededRng,
    device: &Device,
) -> Result<(WordEmbedding, Coverage)> {
    let unknown = unknown_bound.map_or(UnknownInit::MatchVariance, UnknownInit::Uniform);
    Ok(WordEmbedding::pretrained(
        channels, dim, vectors, vocab, unknown, rng, device,
    )?)
}
