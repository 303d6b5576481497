//! Pretrained vectors into burn: an [`Embedding`] aligned to a kindling [`Vocab`], frozen
//! (Kim's "static") or trainable ("non-static"), and the two-channel variant that has one of
//! each ("multichannel").

use kindling_core::burn;
use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::nn::Embedding;
use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_data::Vocab;

use crate::vectors::WordVectors;
use crate::{Error, Result};

/// How rows of vocabulary words without a pretrained vector start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnknownInit {
    /// Uniform in `[-a, a]` (Kim 2014 used a = 0.25, close to the pretrained vectors' variance).
    Uniform(f32),
    /// Uniform in `[-a, a]` with `a` chosen so the draws have the pretrained components'
    /// variance (`a = √3 · σ`), Kim's rule for any set of vectors (σ ≈ 0.69, a ≈ 1.19 for
    /// GloVe 6B 50-d).
    MatchVariance,
    /// All zeros.
    Zeros,
}

/// Whether the embedding is updated by training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trainable {
    /// Frozen: the optimizer never changes it.
    Static,
    /// Fine-tuned with the rest of the model.
    NonStatic,
}

/// How many vocabulary entries found a pretrained vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// Rows copied from the pretrained vectors.
    pub pretrained: usize,
    /// Rows initialised by [`UnknownInit`] (special tokens excluded).
    pub initialised: usize,
}

/// The `[vocab.len(), dim]` matrix for `vocab`: a word's pretrained vector when there is one
/// (looked up as is, then lower-cased), zeros for the padding token, `unknown` otherwise, drawn
/// from `rng` in id order.
pub fn aligned_matrix(
    vectors: &WordVectors,
    vocab: &Vocab,
    unknown: UnknownInit,
    rng: &mut SeededRng,
) -> (Vec<f32>, Coverage) {
    let dim = vectors.dim();
    let unknown = match unknown {
        UnknownInit::MatchVariance => {
            UnknownInit::Uniform((3.0f64.sqrt() * vectors.component_std()) as f32)
        }
        other => other,
    };
    let mut data = Vec::with_capacity(vocab.len() * dim);
    let mut coverage = Coverage {
        pretrained: 0,
        initialised: 0,
    };
    for (id, token) in vocab.tokens().iter().enumerate() {
        let found = vectors
            .get(token)
            .or_else(|| vectors.get(&token.to_lowercase()));
        if Some(id as u32) == vocab.pad_id() {
            data.extend(std::iter::repeat_n(0.0, dim));
        } else if let Some(vector) = found {
            data.extend_from_slice(vector);
            coverage.pretrained += 1;
        } else {
            match unknown {
                UnknownInit::Uniform(a) => {
                    data.extend((0..dim).map(|_| ((rng.next_f64() * 2.0 - 1.0) as f32) * a))
                }
                UnknownInit::Zeros => data.extend(std::iter::repeat_n(0.0, dim)),
                UnknownInit::MatchVariance => unreachable!("resolved to a bound above"),
            }
            coverage.initialised += usize::from(!vocab.is_special(id as u32));
        }
    }
    (data, coverage)
}

/// An [`Embedding`] for `vocab` initialised from `vectors` (see [`aligned_matrix`]).
pub fn pretrained_embedding(
    vectors: &WordVectors,
    vocab: &Vocab,
    unknown: UnknownInit,
    trainable: Trainable,
    rng: &mut SeededRng,
    device: &Device,
) -> (Embedding, Coverage) {
    let (data, coverage) = aligned_matrix(vectors, vocab, unknown, rng);
    (
        embedding_from(data, vocab.len(), vectors.dim(), trainable, device),
        coverage,
    )
}

fn embedding_from(
    data: Vec<f32>,
    rows: usize,
    dim: usize,
    trainable: Trainable,
    device: &Device,
) -> Embedding {
    let weight: Tensor<2> = Tensor::from_data(TensorData::new(data, [rows, dim]), device);
    let weight = Param::from_tensor(weight).set_require_grad(trainable == Trainable::NonStatic);
    Embedding { weight }
}

/// Kim's multichannel input: the same pretrained vectors twice, one copy frozen and one
/// fine-tuned.
#[derive(Module, Debug)]
pub struct TwoChannelEmbedding {
    /// The frozen channel.
    pub fixed: Embedding,
    /// The fine-tuned channel.
    pub tuned: Embedding,
}

impl TwoChannelEmbedding {
    /// Both channels from one aligned matrix (unknown rows drawn once, identical in both).
    pub fn new(
        vectors: &WordVectors,
        vocab: &Vocab,
        unknown: UnknownInit,
        rng: &mut SeededRng,
        device: &Device,
    ) -> (Self, Coverage) {
        let (data, coverage) = aligned_matrix(vectors, vocab, unknown, rng);
        let (rows, dim) = (vocab.len(), vectors.dim());
        let fixed = embedding_from(data.clone(), rows, dim, Trainable::Static, device);
        let tuned = embedding_from(data, rows, dim, Trainable::NonStatic, device);
        (Self { fixed, tuned }, coverage)
    }

    /// Looks the tokens up in both channels.
    ///
    /// # Shapes
    /// `[batch, len]` ids → two `[batch, len, dim]` tensors (fixed, tuned).
    pub fn forward(&self, tokens: Tensor<2, Int>) -> (Tensor<3>, Tensor<3>) {
        (
            self.fixed.forward(tokens.clone()),
            self.tuned.forward(tokens),
        )
    }
}

/// Checks that `vectors` can feed an embedding of width `dim`.
///
/// # Errors
/// [`Error::Dimension`] when they differ.
pub fn check_dim(vectors: &WordVectors, dim: usize) -> Result<()> {
    if vectors.dim() == dim {
        Ok(())
    } else {
        Err(Error::Dimension {
            expected: dim,
            found: vectors.dim(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_core::burn::optim::GradientsParams;
    use kindling_core::optim::OptimizerConfig;
    use kindling_data::{Specials, TokenCounts, VocabConfig};

    fn setup() -> (WordVectors, Vocab) {
        let vectors = WordVectors::new(
            vec!["good".into(), "film".into()],
            2,
            vec![1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        let counts: TokenCounts = ["Good", "film", "plot", "film"].into_iter().collect();
        let vocab = Vocab::build(
            &counts,
            &VocabConfig {
                specials: Specials::default(),
                ..Default::default()
            },
        );
        (vectors, vocab)
    }

    #[test]
    fn rows_follow_the_vocabulary() {
        let (vectors, vocab) = setup();
        let (data, coverage) = aligned_matrix(
            &vectors,
            &vocab,
            UnknownInit::Uniform(0.25),
            &mut SeededRng::new(1),
        );
        // <pad>, <unk>, film, Good (lower-cased lookup), plot.
        assert_eq!(vocab.tokens(), ["<pad>", "<unk>", "film", "Good", "plot"]);
        assert_eq!(&data[..2], [0.0, 0.0]);
        assert_eq!(&data[4..8], [3.0, 4.0, 1.0, 2.0]);
        assert!(
            data[2..4]
                .iter()
                .chain(&data[8..])
                .all(|x| x.abs() <= 0.25 && *x != 0.0)
        );
        assert_eq!(
            coverage,
            Coverage {
                pretrained: 2,
                initialised: 1
            }
        );
        let (again, _) = aligned_matrix(
            &vectors,
            &vocab,
            UnknownInit::Uniform(0.25),
            &mut SeededRng::new(1),
        );
        assert_eq!(data, again);
    }

    #[test]
    fn static_channel_does_not_move_and_tuned_channel_does() {
        let (vectors, vocab) = setup();
        let device = kindling_core::BackendKind::Flex.train_device().unwrap();
        let (model, _) = TwoChannelEmbedding::new(
            &vectors,
            &vocab,
            UnknownInit::Zeros,
            &mut SeededRng::new(1),
            &device,
        );
        let before = (
            model.fixed.weight.val().into_data(),
            model.tuned.weight.val().into_data(),
        );
        let mut optimizer = OptimizerConfig::kim_adadelta().init().unwrap();
        let tokens: Tensor<2, Int> =
            Tensor::from_data(TensorData::new(vec![2i64, 3, 4], [1, 3]), &device);
        let (fixed, tuned) = model.forward(tokens);
        let loss = (fixed + tuned).powf_scalar(2.0).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optimizer.step(1.0, model, grads);
        assert_eq!(model.fixed.weight.val().into_data(), before.0);
        assert_ne!(model.tuned.weight.val().into_data(), before.1);
        assert!(check_dim(&vectors, 3).is_err());
    }
}
