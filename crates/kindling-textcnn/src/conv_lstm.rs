//! C-LSTM (Zhou et al. 2015, "A C-LSTM Neural Network for Text Classification",
//! <https://arxiv.org/abs/1511.08630>): a CNN + RNN hybrid. One convolution turns the sentence
//! into a sequence of window features (no pooling); an LSTM reads that sequence and its state
//! after each sentence's last window feeds dropout and a linear layer.

use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::tensor::activation::{relu, softmax};
use kindling_core::burn::tensor::{Device, Int, Tensor};
use kindling_core::seed::SeededRng;
use kindling_core::train::{StepOutput, TrainStep};
use kindling_data::Vocab;
use kindling_data::batch::SequenceBatch;
use kindling_embed::WordVectors;
use kindling_embed::pretrained::Coverage;
use kindling_rnn::{Lstm, LstmConfig};
use serde::{Deserialize, Serialize};

use crate::embedding::{Channels, WordEmbedding, WordVectorModel};
use crate::error::{check_dropout, check_positive, check_positive_bound};
use crate::filter_bank::FilterBank;
use crate::init::{WeightInit, initial_filters};
use crate::window_max::window_responses;
use crate::{Error, Result};
use kindling_core::models::{ClassifierHead, classification_step};

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
        Self::new(50)
    }
}

impl ConvLstmConfig {
    /// Zhou et al.'s settings over `dim`-dimensional pretrained vectors, fine-tuned.
    pub fn new(dim: usize) -> Self {
        Self {
            channels: Channels::NonStatic,
            dim,
            width: 3,
            maps: 150,
            hidden: 150,
            dropout: 0.5,
            unknown_bound: None,
            pretrained_std: None,
        }
    }

    /// Sets the embedding variant (the `channels` field).
    pub fn with_channels(mut self, channels: Channels) -> Self {
        self.channels = channels;
        self
    }

    /// Sets the word-vector size (the `dim` field).
    pub fn with_dim(mut self, dim: usize) -> Self {
        self.dim = dim;
        self
    }

    /// Sets the convolution width (the `width` field).
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Sets the feature maps (the `maps` field).
    pub fn with_maps(mut self, maps: usize) -> Self {
        self.maps = maps;
        self
    }

    /// Sets the LSTM's memory cells (the `hidden` field).
    pub fn with_hidden(mut self, hidden: usize) -> Self {
        self.hidden = hidden;
        self
    }

    /// Sets the dropout before the output layer (the `dropout` field).
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Sets the bound of the draws of words without a vector (the `unknown_bound` field).
    pub fn with_unknown_bound(mut self, unknown_bound: Option<f32>) -> Self {
        self.unknown_bound = unknown_bound;
        self
    }

    /// Sets the spread the pretrained vectors are rescaled to (the `pretrained_std` field).
    pub fn with_pretrained_std(mut self, pretrained_std: Option<f64>) -> Self {
        self.pretrained_std = pretrained_std;
        self
    }

    /// Checks every value that its type does not.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_positive("dim", self.dim)?;
        check_positive("width", self.width)?;
        check_positive("maps", self.maps)?;
        check_positive("hidden", self.hidden)?;
        check_dropout("dropout", self.dropout)?;
        check_positive_bound("unknown_bound", self.unknown_bound.map(f64::from))?;
        check_positive_bound("pretrained_std", self.pretrained_std)?;
        if self.channels == Channels::Multichannel {
            return Err(Error::invalid(
                "channels",
                "C-LSTM takes rand, static or non-static vectors, not multichannel",
            ));
        }
        Ok(())
    }

    /// A model whose word vectors are drawn from `U(-0.25, 0.25)` and trained (C-LSTM with
    /// random vectors).
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init(&self, vocab_size: usize, classes: usize, device: &Device) -> Result<ConvLstm> {
        self.validate()?;
        let embedding = WordEmbedding::random(vocab_size, self.dim, 0.25, device);
        ConvLstm::assemble(self, embedding, classes, device)
    }

    /// A static or non-static model whose vectors come from `vectors` aligned to `vocab`;
    /// words without a vector are drawn with `rng` as `unknown_bound` says.
    ///
    /// # Errors
    /// When the config is invalid, the vectors' dimension is not `dim`, or `channels` is
    /// not static or non-static.
    pub fn init_pretrained(
        &self,
        vectors: &WordVectors,
        vocab: &Vocab,
        classes: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<(ConvLstm, Coverage)> {
        self.build_pretrained(vectors, vocab, classes, rng, device)
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
    ) -> Result<ConvLstm> {
        self.build_for_loading(vocab_size, classes, device)
    }
}

impl WordVectorModel for ConvLstmConfig {
    type Model = ConvLstm;

    fn check(&self) -> Result<()> {
        self.validate()
    }

    fn variant(&self) -> Channels {
        self.channels
    }

    fn vector_dim(&self) -> usize {
        self.dim
    }

    fn rescale_to(&self) -> Option<f64> {
        self.pretrained_std
    }

    fn unknown(&self) -> Option<f32> {
        self.unknown_bound
    }

    fn assemble(
        &self,
        embedding: WordEmbedding,
        classes: usize,
        device: &Device,
    ) -> Result<ConvLstm> {
        ConvLstm::assemble(self, embedding, classes, device)
    }
}

/// The CNN + LSTM classifier. Built by [`ConvLstmConfig::init`] or
/// [`ConvLstmConfig::init_pretrained`].
#[derive(Module, Debug)]
pub struct ConvLstm {
    embedding: WordEmbedding,
    /// `[dim, width · maps]`, laid out as [`FilterBank`] describes.
    filters: Param<Tensor<2>>,
    /// `[maps]`.
    biases: Param<Tensor<1>>,
    lstm: Lstm,
    head: ClassifierHead,
    #[module(skip)]
    bank: FilterBank,
}

impl ConvLstm {
    fn assemble(
        config: &ConvLstmConfig,
        embedding: WordEmbedding,
        classes: usize,
        device: &Device,
    ) -> Result<Self> {
        let bank = FilterBank::new(vec![config.width], config.maps, 0)?;
        let (filters, biases) = initial_filters(&bank, config.dim, &WeightInit::Burn, device);
        let lstm = LstmConfig::new(config.maps, config.hidden).init(device)?;
        Ok(Self {
            embedding,
            filters,
            biases,
            lstm,
            head: ClassifierHead::new(config.hidden, classes, config.dropout, false, device),
            bank,
        })
    }

    /// Class scores (before softmax). The LSTM reads each sentence's windows in order and
    /// stops at its last one, so padding never changes a sentence's scores.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]`; `lengths`: one per sentence → `[batch, classes]`.
    pub fn forward(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        let words = self.embedding.forward(tokens);
        let responses = window_responses(words, self.filters.val(), lengths, &self.bank)
            .pop()
            .expect("one filter width");
        let features = relu(responses + self.biases.val().unsqueeze::<3>());
        let [batch, _, _] = features.dims();
        let windows: Vec<usize> = lengths
            .iter()
            .map(|&n| self.bank.windows(n, self.bank.widest()))
            .collect();
        let (_, states) = self
            .lstm
            .forward(features, Some(&windows), None)
            .expect("one window count per sentence, none longer than the batch's");
        let final_states = states.hidden.reshape([batch, self.lstm.d_hidden()]);
        self.head.forward(final_states)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multichannel_and_zero_sizes_are_errors() {
        let field = |config: ConvLstmConfig| match config.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        let zhou = ConvLstmConfig::default;
        assert_eq!(
            field(zhou().with_channels(Channels::Multichannel)),
            "channels"
        );
        assert_eq!(field(zhou().with_hidden(0)), "hidden");
        assert_eq!(field(zhou().with_width(0)), "width");
        assert_eq!(field(zhou().with_dropout(1.5)), "dropout");
        assert!(zhou().validate().is_ok());
    }
}

#[cfg(all(test, feature = "flex"))]
mod flex_tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::burn::tensor::TensorData;
    use kindling_core::optim::OptimizerConfig;
    use kindling_core::seed::build_seeded;
    use kindling_core::train::{Outcome, TrainConfig, Trainer};
    use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};

    fn small() -> ConvLstmConfig {
        ConvLstmConfig::new(8)
            .with_channels(Channels::Rand)
            .with_width(2)
            .with_maps(6)
            .with_hidden(5)
            .with_dropout(0.0)
    }

    fn tokens(rows: Vec<Vec<i64>>, device: &Device) -> Tensor<2, Int> {
        let (n, len) = (rows.len(), rows[0].len());
        let flat: Vec<i64> = rows.into_iter().flatten().collect();
        Tensor::from_data(TensorData::new(flat, [n, len]), device)
    }

    #[test]
    fn padding_changes_nothing() {
        let device = BackendKind::Flex.device().unwrap();
        let model = build_seeded(&device, 3, || small().init(20, 3, &device).unwrap());
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
            small().init(10, 2, &train_device).unwrap()
        });
        let batcher = SequenceBatcher::new(Padding {
            min_len: 2,
            ..Padding::new(0)
        });
        let optimizer = OptimizerConfig::adam(0.01);
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
