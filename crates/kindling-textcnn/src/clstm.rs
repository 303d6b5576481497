//! C-LSTM (Zhou et al. 2015, "A C-LSTM Neural Network for Text Classification"): a CNN + RNN
//! hybrid. One convolution turns the sentence into a sequence of window features (no
//! pooling); an LSTM reads that sequence and its state after each sentence's last window
//! feeds dropout and a linear layer.

use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig, Lstm,
    LstmConfig,
};
use kindling_core::burn::tensor::activation::{relu, softmax};
use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_core::train::{StepOutput, TrainStep};
use kindling_data::Vocab;
use kindling_data::batch::SequenceBatch;
use kindling_embed::WordVectors;
use kindling_embed::pretrained::{Coverage, Trainable, check_dim, pretrained_embedding};
use serde::{Deserialize, Serialize};

use crate::config::{Channels, WeightInit, rescaled, unknown_init};
use crate::filter_bank::FilterBank;
use crate::lookup::lookup;
use crate::model::{classification_step, initial_filters};
use crate::window_max::window_responses;

/// The C-LSTM's settings; the defaults are Zhou et al.'s for TREC (filter width 3, 150 maps,
/// 150 memory cells, dropout 0.5) over GloVe 6B 50-d vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvLstmConfig {
    /// Embedding variant: rand, static or non-static (multichannel is not offered).
    pub channels: Channels,
    /// Word-vector size (must match pretrained vectors).
    pub dim: usize,
    /// Convolution width, in words.
    pub width: usize,
    /// Feature maps of the convolution (the LSTM's input size).
    pub maps: usize,
    /// LSTM memory cells.
    pub hidden: usize,
    /// Dropout before the output layer.
    pub dropout: f64,
    /// Words without a pretrained vector start from `U(-a, a)` with this `a`; `None` matches
    /// the pretrained vectors' variance (as [`crate::TextCnnConfig::unknown_bound`]).
    pub unknown_bound: Option<f32>,
    /// Rescales the pretrained vectors to this standard deviation (as
    /// [`crate::TextCnnConfig::pretrained_std`]; `None`: used as read).
    pub pretrained_std: Option<f64>,
}

impl Default for ConvLstmConfig {
    fn default() -> Self {
        Self {
            channels: Channels::NonStatic,
            dim: 50,
            width: 3,
            maps: 150,
            hidden: 150,
            dropout: 0.5,
            unknown_bound: None,
            pretrained_std: None,
        }
    }
}

/// The CNN + LSTM classifier.
#[derive(Module, Debug)]
pub struct ConvLstm {
    embedding: Embedding,
    /// `[dim, width · maps]`, laid out as [`FilterBank`] describes.
    filters: Param<Tensor<2>>,
    /// `[maps]`.
    biases: Param<Tensor<1>>,
    lstm: Lstm,
    dropout: Dropout,
    output: Linear,
    #[module(skip)]
    bank: FilterBank,
}

impl ConvLstm {
    /// A model whose word vectors are drawn from `U(-0.25, 0.25)` (used for
    /// [`Channels::Rand`], and as the placeholder to load a checkpoint into).
    pub fn random(
        config: &ConvLstmConfig,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        let embedding = EmbeddingConfig::new(vocab_size, config.dim)
            .with_initializer(Initializer::Uniform {
                min: -0.25,
                max: 0.25,
            })
            .init(device);
        Self::assemble(config, embedding, classes, device)
    }

    /// A static or non-static model whose vectors come from `vectors` aligned to `vocab`;
    /// words without a vector are drawn with `rng` as `config.unknown_bound` says.
    ///
    /// # Errors
    /// When the vectors' dimension is not `config.dim`, or `config.channels` is not static or
    /// non-static.
    pub fn pretrained(
        config: &ConvLstmConfig,
        vectors: &WordVectors,
        vocab: &Vocab,
        classes: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> kindling_embed::Result<(Self, Coverage)> {
        check_dim(vectors, config.dim)?;
        let vectors = &*rescaled(vectors, config.pretrained_std);
        let trainable = match config.channels {
            Channels::Static => Trainable::Static,
            Channels::NonStatic => Trainable::NonStatic,
            other => {
                return Err(kindling_embed::Error::Invalid {
                    what: "channels",
                    problem: format!(
                        "C-LSTM takes static or non-static pretrained vectors, not {other:?}"
                    ),
                });
            }
        };
        let (embedding, coverage) = pretrained_embedding(
            vectors,
            vocab,
            unknown_init(config.unknown_bound),
            trainable,
            rng,
            device,
        );
        Ok((Self::assemble(config, embedding, classes, device), coverage))
    }

    fn assemble(
        config: &ConvLstmConfig,
        embedding: Embedding,
        classes: usize,
        device: &Device,
    ) -> Self {
        let bank = FilterBank::new(vec![config.width], config.maps, 0);
        let (filters, biases) = initial_filters(&bank, config.dim, &WeightInit::Burn, device);
        Self {
            embedding,
            filters,
            biases,
            lstm: LstmConfig::new(config.maps, config.hidden, true).init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
            output: LinearConfig::new(config.hidden, classes).init(device),
            bank,
        }
    }

    /// Class scores (before softmax). The LSTM reads each sentence's windows in order and
    /// stops at its last one, so padding never changes a sentence's scores.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]`; `lengths`: one per sentence → `[batch, classes]`.
    pub fn forward(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        let device = tokens.device();
        let words = lookup(self.embedding.weight.val(), tokens);
        let responses = window_responses(words, self.filters.val(), lengths, &self.bank)
            .pop()
            .expect("one filter width");
        let features = relu(responses + self.biases.val().unsqueeze::<3>());
        let [batch, _, _] = features.dims();
        let (states, _) = self.lstm.forward(features, None);
        let hidden = states.dims()[2];
        let last: Vec<i64> = lengths
            .iter()
            .map(|&n| (self.bank.windows(n, self.bank.widest()) - 1) as i64)
            .collect();
        let last = Tensor::<1, Int>::from_data(TensorData::new(last, [batch]), &device)
            .reshape([batch, 1, 1])
            .expand([batch, 1, hidden]);
        let final_states = states.gather(1, last).reshape([batch, hidden]);
        self.output.forward(self.dropout.forward(final_states))
    }

    /// Class probabilities (softmax of [`ConvLstm::forward`]).
    ///
    /// # Shapes
    /// As [`ConvLstm::forward`]: `[batch, len]` → `[batch, classes]`.
    pub fn probabilities(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        softmax(self.forward(tokens, lengths), 1)
    }
}

impl TrainStep<SequenceBatch> for ConvLstm {
    fn step(&self, batch: &SequenceBatch) -> StepOutput {
        classification_step(
            self.forward(batch.tokens.clone(), &batch.lengths),
            batch.labels.clone(),
        )
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::optim::OptimizerConfig;
    use kindling_core::seed::build_seeded;
    use kindling_core::train::{Outcome, TrainConfig, Trainer};
    use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};

    fn small() -> ConvLstmConfig {
        ConvLstmConfig {
            channels: Channels::Rand,
            dim: 8,
            width: 2,
            maps: 6,
            hidden: 5,
            dropout: 0.0,
            unknown_bound: None,
            pretrained_std: None,
        }
    }

    fn tokens(rows: Vec<Vec<i64>>, device: &Device) -> Tensor<2, Int> {
        let (n, len) = (rows.len(), rows[0].len());
        let flat: Vec<i64> = rows.into_iter().flatten().collect();
        Tensor::from_data(TensorData::new(flat, [n, len]), device)
    }

    #[test]
    fn padding_changes_nothing() {
        let device = BackendKind::Flex.device().unwrap();
        let model = build_seeded(&device, 3, || ConvLstm::random(&small(), 20, 3, &device));
        let sentence = vec![4i64, 9, 2, 7];
        let alone: Vec<f32> = model
            .forward(tokens(vec![sentence.clone()], &device), &[4])
            .into_data()
            .try_to_vec()
            .unwrap();
        let mut padded = sentence;
        padded.extend([0, 0, 0]);
        let both = model.forward(
            tokens(vec![padded, vec![1, 2, 3, 4, 5, 6, 7]], &device),
            &[4, 7],
        );
        assert_eq!(both.dims(), [2, 3]);
        let both: Vec<f32> = both.into_data().try_to_vec().unwrap();
        for (a, b) in alone.iter().zip(&both[..3]) {
            assert!((a - b).abs() < 1e-5, "{alone:?} vs {both:?}");
        }
    }

    /// Two classes told apart by the order of two words: "1 2" vs "2 1" amid noise, which a
    /// bag of words cannot separate.
    #[test]
    fn learns_word_order() {
        let device = BackendKind::Flex.device().unwrap();
        let mut rng = SeededRng::new(5);
        let examples: Vec<EncodedExample> = (0..160)
            .map(|i| {
                let label = (i % 2) as u32;
                let mut ids: Vec<u32> = (0..4).map(|_| 3 + rng.below(6) as u32).collect();
                let at = rng.below(3) as usize;
                let pair = if label == 0 { [1, 2] } else { [2, 1] };
                ids.splice(at..at, pair);
                EncodedExample { ids, label }
            })
            .collect();
        let train_device = device.clone().autodiff();
        let model = build_seeded(&train_device, 1, || {
            ConvLstm::random(&small(), 10, 2, &train_device)
        });
        let batcher = SequenceBatcher::new(Padding {
            min_len: 2,
            ..Padding::new(0)
        });
        let optimizer = OptimizerConfig::Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
        };
        let trained = Trainer::new(TrainConfig::new(30, 16, 1, optimizer), &train_device)
            .unwrap()
            .with_progress(false)
            .fit(model, &batcher, &examples, None)
            .unwrap()
            .model
            .valid();
        let batch = kindling_core::train::Batcher::batch(&batcher, &examples, &device);
        let Outcome::Classes { gold, predicted } = trained.step(&batch).outcome else {
            panic!("classes expected");
        };
        let correct = gold.iter().zip(&predicted).filter(|(g, p)| g == p).count();
        assert!(correct >= 150, "{correct}/160");
    }
}
