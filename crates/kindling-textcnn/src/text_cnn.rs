//! Kim's (2014) convolutional sentence classifier ("Convolutional Neural Networks for
//! Sentence Classification", <https://arxiv.org/abs/1408.5882>): embedding channel(s) →
//! parallel 1-D convolutions → max over time (padding ignored) → dropout → linear layer.
//! [`TextCnnConfig`]'s defaults are Kim's.

use kindling_core::activation::tanh;
use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::tensor::activation::{relu, sigmoid, softmax};
use kindling_core::burn::tensor::{Device, Int, Tensor};
use kindling_core::dropout::{Dropout, DropoutConfig};
use kindling_core::seed::SeededRng;
use kindling_core::train::{StepOutput, TrainStep};
use kindling_data::Vocab;
use kindling_data::batch::SequenceBatch;
use kindling_embed::WordVectors;
use kindling_embed::pretrained::{Coverage, UnknownInit};
use serde::{Deserialize, Serialize};

use crate::embedding::{Channels, WordEmbedding, WordVectorModel, unknown_init};
use crate::error::{check_dropout, check_positive, check_positive_bound};
use crate::filter_bank::FilterBank;
use crate::init::{WeightInit, initial_filters};
use crate::window_max::window_max;
use crate::{Error, Result};
use kindling_core::models::{ClassifierHead, classification_step};

/// The non-linearity after each convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, x)` (Kim's choice).
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
}

/// The settings of a [`TextCnn`]; the defaults are Kim's (300-d vectors, widths 3, 4, 5 ×
/// 100 maps, ReLU, dropout 0.5, max-norm 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextCnnConfig {
    /// Embedding variant.
    pub channels: Channels,
    /// Word-vector size (must match pretrained vectors).
    pub dim: usize,
    /// Convolution widths, in words.
    pub filter_widths: Vec<usize>,
    /// Feature maps per width.
    pub feature_maps: usize,
    /// Non-linearity after the convolutions.
    pub activation: Activation,
    /// Dropout before the output layer.
    pub dropout: f64,
    /// Dropout on the word vectors before the convolutions (each coordinate of each word
    /// independently; Kim uses none).
    pub embedding_dropout: f64,
    /// Largest L2 norm of each output unit's weight vector, enforced after every step
    /// (`None`: unconstrained).
    pub max_norm: Option<f64>,
    /// Zero vectors added on each side of a sentence before the convolution. `None` is Kim's
    /// choice, the widest filter minus one, so every word meets every tap of every filter;
    /// `Some(0)` keeps only windows inside the sentence.
    pub edge_padding: Option<usize>,
    /// Words without a pretrained vector start from `U(-a, a)` with this `a`. `None` is Kim's
    /// rule, the `a` that matches the pretrained vectors' variance (he used 0.25 for word2vec;
    /// it is about 1.19 for GloVe 6B 50-d). CNN-rand has no pretrained vectors, so every word
    /// starts this way, and `None` means Kim's 0.25.
    pub unknown_bound: Option<f32>,
    /// Rescales the pretrained vectors by one factor so that the standard deviation of their
    /// components is this (`None`: used as read). Kim's word2vec vectors have about 0.144, the
    /// spread his `U(±0.25)` for unknown words matches; GloVe 6B 50-d has about 0.69.
    /// Adadelta's steps do not grow with the parameters, so the spread decides how far
    /// training moves the vectors relative to their size: GloVe rescaled to 0.144 trains
    /// markedly better than GloVe as read (docs/ARCHITECTURE.md has the numbers).
    pub pretrained_std: Option<f64>,
    /// How the weights start.
    pub init: WeightInit,
}

impl Default for TextCnnConfig {
    fn default() -> Self {
        Self::new(300)
    }
}

impl TextCnnConfig {
    /// Kim's settings over `dim`-dimensional word vectors (CNN-rand; pick another variant with
    /// [`TextCnnConfig::with_channels`]).
    pub fn new(dim: usize) -> Self {
        Self {
            channels: Channels::Rand,
            dim,
            filter_widths: vec![3, 4, 5],
            feature_maps: 100,
            activation: Activation::Relu,
            dropout: 0.5,
            embedding_dropout: 0.0,
            max_norm: Some(3.0),
            edge_padding: None,
            unknown_bound: None,
            pretrained_std: None,
            init: WeightInit::Burn,
        }
    }

    /// The widest filter: sentences are padded to at least this many tokens.
    pub fn widest_filter(&self) -> usize {
        self.filter_widths.iter().copied().max().unwrap_or(1)
    }

    /// Zero vectors on each side of a sentence (see [`TextCnnConfig::edge_padding`]).
    pub fn edge_padding(&self) -> usize {
        self.edge_padding
            .unwrap_or_else(|| self.widest_filter().saturating_sub(1))
    }

    /// How words without a pretrained vector start (see [`TextCnnConfig::unknown_bound`]).
    pub fn unknown_init(&self) -> UnknownInit {
        unknown_init(self.unknown_bound)
    }

    /// The `a` of CNN-rand's `U(-a, a)` word vectors: `unknown_bound`, else Kim's 0.25.
    pub fn random_bound(&self) -> f32 {
        self.unknown_bound.unwrap_or(0.25)
    }

    /// Width of the pooled feature vector.
    pub fn features(&self) -> usize {
        self.filter_widths.len() * self.feature_maps
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

    /// Sets the convolution widths (the `filter_widths` field).
    pub fn with_filter_widths(mut self, filter_widths: Vec<usize>) -> Self {
        self.filter_widths = filter_widths;
        self
    }

    /// Sets the feature maps per width (the `feature_maps` field).
    pub fn with_feature_maps(mut self, feature_maps: usize) -> Self {
        self.feature_maps = feature_maps;
        self
    }

    /// Sets the non-linearity after the convolutions (the `activation` field).
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets the dropout before the output layer (the `dropout` field).
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Sets the dropout on word vectors (the `embedding_dropout` field).
    pub fn with_embedding_dropout(mut self, embedding_dropout: f64) -> Self {
        self.embedding_dropout = embedding_dropout;
        self
    }

    /// Sets the max-norm limit of the output layer (the `max_norm` field).
    pub fn with_max_norm(mut self, max_norm: Option<f64>) -> Self {
        self.max_norm = max_norm;
        self
    }

    /// Sets the zero vectors around each sentence (the `edge_padding` field).
    pub fn with_edge_padding(mut self, edge_padding: Option<usize>) -> Self {
        self.edge_padding = edge_padding;
        self
    }

    /// Sets the bound of the uniform draws of words without a vector (the `unknown_bound` field).
    pub fn with_unknown_bound(mut self, unknown_bound: Option<f32>) -> Self {
        self.unknown_bound = unknown_bound;
        self
    }

    /// Sets the spread the pretrained vectors are rescaled to (the `pretrained_std` field).
    pub fn with_pretrained_std(mut self, pretrained_std: Option<f64>) -> Self {
        self.pretrained_std = pretrained_std;
        self
    }

    /// Sets how the weights start (the `init` field).
    pub fn with_init(mut self, init: WeightInit) -> Self {
        self.init = init;
        self
    }

    /// Checks every value that its type does not: positive sizes, at least one filter width,
    /// dropout probabilities in `[0, 1)`, positive bounds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_positive("dim", self.dim)?;
        FilterBank::new(
            self.filter_widths.clone(),
            self.feature_maps,
            self.edge_padding(),
        )?;
        check_dropout("dropout", self.dropout)?;
        check_dropout("embedding_dropout", self.embedding_dropout)?;
        check_positive_bound("max_norm", self.max_norm)?;
        check_positive_bound("unknown_bound", self.unknown_bound.map(f64::from))?;
        check_positive_bound("pretrained_std", self.pretrained_std)?;
        if let WeightInit::Kim { padded_length: 0 } = self.init {
            return Err(Error::invalid(
                "init.padded_length",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }

    /// A CNN-rand model over `vocab_size` words with `classes` outputs; word vectors drawn
    /// from `U(-a, a)` with `a` from [`TextCnnConfig::random_bound`] (Kim's code: 0.25).
    ///
    /// # Errors
    /// When the config is invalid, or names a pretrained variant (those start from vectors:
    /// [`TextCnnConfig::init_pretrained`]).
    pub fn init(&self, vocab_size: usize, classes: usize, device: &Device) -> Result<TextCnn> {
        self.validate()?;
        if self.channels.pretrained() {
            return Err(Error::invalid(
                "channels",
                format!(
                    "{:?} starts from pretrained vectors: use init_pretrained",
                    self.channels
                ),
            ));
        }
        let embedding = WordEmbedding::random(vocab_size, self.dim, self.random_bound(), device);
        TextCnn::assemble(self, embedding, classes, device)
    }

    /// A static, non-static or multichannel model whose vectors come from `vectors` aligned to
    /// `vocab`; words without a vector are drawn with `rng` as `unknown_bound` says. Returns
    /// how many words had a vector.
    ///
    /// # Errors
    /// When the config is invalid, the vectors' dimension is not `dim`, or `channels` is
    /// [`Channels::Rand`].
    pub fn init_pretrained(
        &self,
        vectors: &WordVectors,
        vocab: &Vocab,
        classes: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<(TextCnn, Coverage)> {
        self.build_pretrained(vectors, vocab, classes, rng, device)
    }

    /// A model of this structure with placeholder weights, to restore a checkpoint into
    /// (pretrained variants need no vectors here: the checkpoint holds them).
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init_for_loading(
        &self,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Result<TextCnn> {
        self.build_for_loading(vocab_size, classes, device)
    }
}

impl WordVectorModel for TextCnnConfig {
    type Model = TextCnn;

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
    ) -> Result<TextCnn> {
        TextCnn::assemble(self, embedding, classes, device)
    }
}

/// Kim's convolutional sentence classifier. Built by [`TextCnnConfig::init`] (CNN-rand) or
/// [`TextCnnConfig::init_pretrained`].
#[derive(Module, Debug)]
pub struct TextCnn {
    /// The word vectors: one table, or two channels.
    embedding: WordEmbedding,
    /// Every filter of every width, `[dim, taps · maps]` as [`FilterBank`] lays it out.
    filters: Param<Tensor<2>>,
    /// One bias per feature map, `[widths · maps]`.
    biases: Param<Tensor<1>>,
    #[module(skip)]
    bank: FilterBank,
    /// Dropout on the word vectors.
    embedding_dropout: Dropout,
    head: ClassifierHead,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    max_norm: Option<f64>,
}

impl TextCnn {
    fn assemble(
        config: &TextCnnConfig,
        embedding: WordEmbedding,
        classes: usize,
        device: &Device,
    ) -> Result<Self> {
        let bank = FilterBank::new(
            config.filter_widths.clone(),
            config.feature_maps,
            config.edge_padding(),
        )?;
        let (filters, biases) = initial_filters(&bank, config.dim, &config.init, device);
        let zero_output = matches!(config.init, WeightInit::Kim { .. });
        Ok(Self {
            embedding,
            filters,
            biases,
            embedding_dropout: DropoutConfig::new(config.embedding_dropout).init(),
            head: ClassifierHead::new(
                bank.features(),
                classes,
                config.dropout,
                zero_output,
                device,
            ),
            bank,
            activation: config.activation,
            max_norm: config.max_norm,
        })
    }

    fn activate(&self, x: Tensor<2>) -> Tensor<2> {
        match self.activation {
            Activation::Relu => relu(x),
            Activation::Tanh => tanh(x),
            Activation::Sigmoid => sigmoid(x),
        }
    }

    /// Class scores (before softmax). Windows that reach into padding are left out of the
    /// max-over-time pooling, so padding never changes a sentence's scores.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]` with `len` at least the widest filter; `lengths`: one per
    /// sentence → `[batch, classes]`.
    pub fn forward(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        let words = self
            .embedding_dropout
            .forward(self.embedding.forward(tokens));
        // The bias and the (non-decreasing) activation commute with the maximum over time,
        // so they are applied to the pooled features only.
        let pooled = window_max(words, self.filters.val(), lengths, &self.bank)
            + self.biases.val().unsqueeze::<2>();
        self.head.forward(self.activate(pooled))
    }

    /// Class probabilities (softmax of [`TextCnn::forward`]).
    ///
    /// # Shapes
    /// As [`TextCnn::forward`]: `[batch, len]` → `[batch, classes]`.
    pub fn probabilities(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        softmax(self.forward(tokens, lengths), 1)
    }
}

impl TrainStep<SequenceBatch> for TextCnn {
    fn step(&self, batch: &SequenceBatch) -> StepOutput {
        classification_step(
            self.forward(batch.tokens.clone(), &batch.lengths),
            batch.labels.clone(),
        )
    }

    /// Kim's max-norm constraint on the output layer's weight vectors.
    fn constrain(mut self) -> Self {
        if let Some(limit) = self.max_norm {
            self.head = self.head.with_max_norm(limit);
        }
        self
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::burn::tensor::TensorData;
    use kindling_core::optim::OptimizerConfig;
    use kindling_core::seed::build_seeded;
    use kindling_core::train::{Outcome, TrainConfig, Trainer};
    use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
    use kindling_data::{Specials, VocabConfig};

    fn small(channels: Channels) -> TextCnnConfig {
        TextCnnConfig::new(8)
            .with_channels(channels)
            .with_filter_widths(vec![2, 3])
            .with_feature_maps(4)
    }

    fn tokens(rows: Vec<Vec<i64>>, device: &Device) -> Tensor<2, Int> {
        let (n, len) = (rows.len(), rows[0].len());
        let flat: Vec<i64> = rows.into_iter().flatten().collect();
        Tensor::from_data(TensorData::new(flat, [n, len]), device)
    }

    #[test]
    fn scores_have_one_column_per_class_and_padding_changes_nothing() {
        let device = BackendKind::Flex.device().unwrap();
        let model = build_seeded(&device, 3, || {
            small(Channels::Rand).init(20, 5, &device).unwrap()
        });
        let sentence = vec![4i64, 9, 2, 7];
        let alone = model.forward(tokens(vec![sentence.clone()], &device), &[4]);
        assert_eq!(alone.dims(), [1, 5]);
        let mut padded = sentence;
        padded.extend([0, 0, 0]);
        let batch = tokens(vec![padded, vec![1, 2, 3, 4, 5, 6, 7]], &device);
        let together = model.forward(batch, &[4, 7]);
        assert_eq!(together.dims(), [2, 5]);
        let a: Vec<f32> = alone.into_data().try_to_vec().unwrap();
        let b: Vec<f32> = together.into_data().try_to_vec().unwrap();
        for (x, y) in a.iter().zip(&b[..5]) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {:?}", &b[..5]);
        }
    }

    /// Two classes told apart by which half of the vocabulary a sentence uses.
    fn examples() -> Vec<EncodedExample> {
        let mut rng = SeededRng::new(8);
        (0..120)
            .map(|i| {
                let label = (i % 2) as u32;
                let len = 3 + rng.below(5) as usize;
                let ids = (0..len)
                    .map(|_| 1 + label * 10 + rng.below(10) as u32)
                    .collect();
                EncodedExample { ids, label }
            })
            .collect()
    }

    fn train(model: TextCnn, epochs: usize) -> TextCnn {
        let device = BackendKind::Flex.device().unwrap();
        let optimizer = OptimizerConfig::kim_adadelta();
        let batcher = SequenceBatcher::new(Padding {
            min_len: 3,
            ..Padding::new(0)
        });
        Trainer::new(TrainConfig::new(epochs, 10, 1, optimizer), &device)
            .unwrap()
            .with_progress(false)
            .fit(model, &batcher, &examples(), None)
            .unwrap()
            .model
    }

    #[test]
    fn kim_initialisation_zeroes_biases_and_output_and_bounds_the_filters() {
        let device = BackendKind::Flex.device().unwrap();
        let init = WeightInit::Kim { padded_length: 12 };
        let config = TextCnnConfig {
            init,
            ..small(Channels::Rand)
        };
        let model = build_seeded(&device, 5, || config.init(20, 3, &device).unwrap());
        let values = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_to_vec().unwrap() };
        assert!(
            values(model.head.output().weight.val())
                .iter()
                .all(|&v| v == 0.0)
        );
        let output_bias = model
            .head
            .output()
            .bias
            .as_ref()
            .unwrap()
            .val()
            .unsqueeze::<2>();
        assert!(values(output_bias).iter().all(|&v| v == 0.0));
        assert!(
            values(model.biases.val().unsqueeze::<2>())
                .iter()
                .all(|&v| v == 0.0)
        );
        // Widths 2 and 3 over 8-d vectors, 4 maps: the narrower filters have the larger bound.
        let filters = values(model.filters.val().transpose());
        let (narrow, wide) = (init.filter_bound(2, 8, 4), init.filter_bound(3, 8, 4));
        let (first, second) = filters.split_at(8 * 2 * 4);
        assert!(first.iter().all(|&v| f64::from(v.abs()) <= narrow));
        assert!(second.iter().all(|&v| f64::from(v.abs()) <= wide));
        assert!(filters.iter().any(|&v| f64::from(v.abs()) > wide / 2.0));
    }

    #[test]
    fn word_vector_dropout_acts_in_training_only() {
        let device = BackendKind::Flex.device().unwrap().autodiff();
        let build = |embedding_dropout| {
            let config = TextCnnConfig {
                embedding_dropout,
                dropout: 0.0,
                ..small(Channels::Rand)
            };
            build_seeded(&device, 6, || config.init(20, 3, &device).unwrap())
        };
        // The same weights in both: other tests draw from the device's random numbers in
        // parallel, so two seeded builds need not agree.
        let plain = build(0.0);
        let dropped = build(0.5).load_record(plain.clone().into_record());
        let batch = || tokens(vec![vec![3, 5, 7, 9, 11, 2]], &device);
        let scores = |model: &TextCnn| -> Vec<f32> {
            model
                .forward(batch(), &[6])
                .into_data()
                .try_to_vec()
                .unwrap()
        };
        assert_ne!(scores(&plain), scores(&dropped));
        let (plain, dropped) = (plain.valid(), dropped.valid());
        let inner = |t: Tensor<2, Int>| t.inner();
        let eval = |model: &TextCnn| -> Vec<f32> {
            model
                .forward(inner(batch()), &[6])
                .into_data()
                .try_to_vec()
                .unwrap()
        };
        assert_eq!(eval(&plain), eval(&dropped));
    }

    /// Words `w0`, `w1`, … and a vocabulary of exactly them, without special tokens.
    fn numbered_words(n: usize) -> (Vec<String>, Vocab) {
        let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
        let counts: kindling_data::TokenCounts = words.iter().map(String::as_str).collect();
        let vocab = Vocab::build(
            &counts,
            &VocabConfig {
                min_count: 1,
                max_size: None,
                specials: Specials::none(),
            },
        );
        (words, vocab)
    }

    #[test]
    fn pretrained_vectors_are_rescaled_to_the_requested_spread() {
        let device = BackendKind::Flex.device().unwrap();
        let (words, vocab) = numbered_words(4);
        let data: Vec<f32> = (0..4 * 8).map(|i| (i % 5) as f32 - 2.0).collect();
        let vectors = WordVectors::new(words, 8, data).unwrap();
        let config = TextCnnConfig {
            pretrained_std: Some(0.1),
            ..small(Channels::NonStatic)
        };
        let mut rng = SeededRng::new(1);
        let (model, _) = config
            .init_pretrained(&vectors, &vocab, 2, &mut rng, &device)
            .unwrap();
        let table: Vec<f32> = model
            .embedding
            .single()
            .unwrap()
            .weight
            .val()
            .into_data()
            .try_to_vec()
            .unwrap();
        let expected = vectors.scaled_to_std(0.1);
        for token in vocab.tokens() {
            let id = vocab.id(token).unwrap() as usize;
            let row = &table[id * 8..(id + 1) * 8];
            assert_eq!(row, expected.vector(token).unwrap());
        }
        let std = WordVectors::new(vocab.tokens().to_vec(), 8, table)
            .unwrap()
            .component_std();
        assert!((std - 0.1).abs() < 1e-6, "{std}");
    }

    #[test]
    fn training_learns_keeps_static_vectors_and_the_max_norm() {
        let device = BackendKind::Flex.device().unwrap();
        let (words, vocab) = numbered_words(21);
        let mut rng = SeededRng::new(2);
        let data: Vec<f32> = (0..21 * 8).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let vectors = WordVectors::new(words, 8, data).unwrap();
        let config = TextCnnConfig {
            max_norm: Some(0.5),
            ..small(Channels::Static)
        };
        let device_train = device.clone().autodiff();
        let mut coverage = None;
        let model = build_seeded(&device_train, 4, || {
            let (model, found) = config
                .init_pretrained(&vectors, &vocab, 2, &mut rng, &device_train)
                .unwrap();
            coverage = Some(found);
            model
        });
        assert_eq!(coverage.unwrap().pretrained, 21);
        let before = model.embedding.single().unwrap().weight.val().into_data();
        let trained = train(model, 8);
        let after = trained.embedding.single().unwrap().weight.val().into_data();
        assert_eq!(before, after, "static vectors moved");
        let weight = trained.head.output().weight.val();
        let norms: Vec<f32> = weight
            .square()
            .sum_dim(0)
            .sqrt()
            .into_data()
            .try_to_vec()
            .unwrap();
        assert!(norms.iter().all(|&n| n <= 0.5 + 1e-4), "{norms:?}");

        let eval = trained.valid();
        let batcher = SequenceBatcher::new(Padding {
            min_len: 3,
            ..Padding::new(0)
        });
        let batch = kindling_core::train::Batcher::batch(&batcher, &examples(), &device);
        let StepOutput { outcome, .. } = eval.step(&batch);
        let Outcome::Classes { gold, predicted } = outcome else {
            panic!("classes expected");
        };
        let right = gold.iter().zip(&predicted).filter(|(g, p)| g == p).count();
        assert!(right >= 110, "{right}/120 training sentences right");
    }

    #[test]
    fn invalid_settings_are_errors_naming_the_field() {
        let device = BackendKind::Flex.device().unwrap();
        let field = |config: TextCnnConfig| match config.init(10, 2, &device) {
            Err(Error::InvalidConfig { field, .. }) => field,
            Err(other) => panic!("expected a config error, got {other}"),
            Ok(_) => panic!("expected a config error, got a model"),
        };
        let kim = || TextCnnConfig::new(8);
        assert_eq!(field(kim().with_filter_widths(vec![])), "filter_widths");
        assert_eq!(field(kim().with_feature_maps(0)), "feature_maps");
        assert_eq!(field(kim().with_dim(0)), "dim");
        assert_eq!(field(kim().with_dropout(1.0)), "dropout");
        assert_eq!(field(kim().with_dropout(-0.1)), "dropout");
        assert_eq!(
            field(kim().with_embedding_dropout(f64::NAN)),
            "embedding_dropout"
        );
        assert_eq!(field(kim().with_max_norm(Some(0.0))), "max_norm");
        assert_eq!(field(kim().with_unknown_bound(Some(-1.0))), "unknown_bound");
        assert_eq!(
            field(kim().with_pretrained_std(Some(f64::INFINITY))),
            "pretrained_std"
        );
        assert_eq!(
            field(kim().with_init(WeightInit::Kim { padded_length: 0 })),
            "init.padded_length"
        );
        assert_eq!(field(kim().with_channels(Channels::Static)), "channels");
    }

    #[test]
    fn kim_initialisation_reads_from_toml() {
        let config: TextCnnConfig =
            toml::from_str("init = { kind = \"kim\", padded_length = 45 }\npretrained_std = 0.144")
                .unwrap();
        assert_eq!(config.init, WeightInit::Kim { padded_length: 45 });
        assert_eq!(config.pretrained_std, Some(0.144));
        let typo = toml::from_str::<TextCnnConfig>("feature_map = 10").unwrap_err();
        assert!(typo.to_string().contains("feature_map"), "{typo}");
    }
}
