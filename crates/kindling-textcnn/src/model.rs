//! The classifier: embedding channel(s) → parallel 1-D convolutions → max over time (padding
//! ignored) → dropout → linear layer.

use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::nn::loss::CrossEntropyLossConfig;
use kindling_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig,
};
use kindling_core::burn::tensor::activation::{relu, sigmoid, softmax, tanh};
use kindling_core::burn::tensor::{Device, Int, Tensor};
use kindling_core::constraint::max_norm_param;
use kindling_core::seed::SeededRng;
use kindling_core::train::{Outcome, StepOutput, TrainStep};
use kindling_data::Vocab;
use kindling_data::batch::SequenceBatch;
use kindling_embed::WordVectors;
use kindling_embed::pretrained::{
    Coverage, Trainable, TwoChannelEmbedding, check_dim, pretrained_embedding,
};

use crate::config::{Activation, Channels, TextCnnConfig, WeightInit, rescaled};
use crate::filter_bank::FilterBank;
use crate::lookup::lookup;
use crate::window_max::window_max;

/// Kim's convolutional sentence classifier.
#[derive(Module, Debug)]
pub struct TextCnn {
    /// The one channel of the rand, static and non-static variants.
    embedding: Option<Embedding>,
    /// The two channels of the multichannel variant.
    two_channels: Option<TwoChannelEmbedding>,
    /// Every filter of every width, `[dim, taps · maps]` as [`FilterBank`] lays it out.
    filters: Param<Tensor<2>>,
    /// One bias per feature map, `[widths · maps]`.
    biases: Param<Tensor<1>>,
    #[module(skip)]
    bank: FilterBank,
    /// Dropout on the word vectors.
    embedding_dropout: Dropout,
    /// Dropout on the pooled features.
    dropout: Dropout,
    output: Linear,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    max_norm: Option<f64>,
}

impl TextCnn {
    /// A CNN-rand model over `vocab_size` words with `classes` outputs; word vectors drawn from
    /// `U(-a, a)` with `a` from [`TextCnnConfig::random_bound`] (Kim's code: 0.25).
    ///
    /// # Panics
    /// If `config.channels` is not [`Channels::Rand`] (pretrained variants come from
    /// [`TextCnn::pretrained`]).
    pub fn random(
        config: &TextCnnConfig,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        assert_eq!(
            config.channels,
            Channels::Rand,
            "pretrained variants need vectors"
        );
        let embedding = EmbeddingConfig::new(vocab_size, config.dim)
            .with_initializer(Initializer::Uniform {
                min: -f64::from(config.random_bound()),
                max: f64::from(config.random_bound()),
            })
            .init(device);
        Self::assemble(config, Some(embedding), None, classes, device)
    }

    /// A static, non-static or multichannel model whose vectors come from `vectors` aligned to
    /// `vocab`; words without a vector are drawn with `rng` as `config.unknown_bound` says.
    /// Returns how many words had a vector.
    ///
    /// # Errors
    /// When the vectors' dimension is not `config.dim`, or `config.channels` is
    /// [`Channels::Rand`].
    pub fn pretrained(
        config: &TextCnnConfig,
        vectors: &WordVectors,
        vocab: &Vocab,
        classes: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> kindling_embed::Result<(Self, Coverage)> {
        check_dim(vectors, config.dim)?;
        let vectors = &*rescaled(vectors, config.pretrained_std);
        let unknown = config.unknown_init();
        let (embedding, two_channels, coverage) = match config.channels {
            Channels::Rand => {
                return Err(kindling_embed::Error::Invalid {
                    what: "channels",
                    problem: "CNN-rand has no pretrained vectors; use TextCnn::random".into(),
                });
            }
            Channels::Static | Channels::NonStatic => {
                let trainable = if config.channels == Channels::Static {
                    Trainable::Static
                } else {
                    Trainable::NonStatic
                };
                let (embedding, coverage) =
                    pretrained_embedding(vectors, vocab, unknown, trainable, rng, device);
                (Some(embedding), None, coverage)
            }
            Channels::Multichannel => {
                let (two, coverage) =
                    TwoChannelEmbedding::new(vectors, vocab, unknown, rng, device);
                (None, Some(two), coverage)
            }
        };
        Ok((
            Self::assemble(config, embedding, two_channels, classes, device),
            coverage,
        ))
    }

    /// A model of `config`'s structure with placeholder weights, to restore a checkpoint into
    /// (pretrained variants need no vectors here: the checkpoint holds them).
    pub fn for_loading(
        config: &TextCnnConfig,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        let channel = || EmbeddingConfig::new(vocab_size, config.dim).init(device);
        match config.channels {
            Channels::Rand | Channels::Static | Channels::NonStatic => {
                Self::assemble(config, Some(channel()), None, classes, device)
            }
            Channels::Multichannel => {
                let two = TwoChannelEmbedding {
                    fixed: channel(),
                    tuned: channel(),
                };
                Self::assemble(config, None, Some(two), classes, device)
            }
        }
    }

    fn assemble(
        config: &TextCnnConfig,
        embedding: Option<Embedding>,
        two_channels: Option<TwoChannelEmbedding>,
        classes: usize,
        device: &Device,
    ) -> Self {
        let bank = FilterBank::new(
            config.filter_widths.clone(),
            config.feature_maps,
            config.edge_padding(),
        );
        let (filters, biases) = initial_filters(&bank, config.dim, &config.init, device);
        let output = LinearConfig::new(config.features(), classes);
        let output = match config.init {
            WeightInit::Burn => output,
            WeightInit::Kim { .. } => output.with_initializer(Initializer::Zeros),
        };
        Self {
            embedding,
            two_channels,
            filters,
            biases,
            bank,
            embedding_dropout: DropoutConfig::new(config.embedding_dropout).init(),
            dropout: DropoutConfig::new(config.dropout).init(),
            output: output.init(device),
            activation: config.activation,
            max_norm: config.max_norm,
        }
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
        // Multichannel: each filter sees both channels and the results add up, which is the
        // filter applied once to their sum (the bias counted once).
        let words: Tensor<3> = match (&self.embedding, &self.two_channels) {
            (Some(embedding), _) => lookup(embedding.weight.val(), tokens),
            (None, Some(two)) => {
                lookup(two.fixed.weight.val(), tokens.clone())
                    + lookup(two.tuned.weight.val(), tokens)
            }
            (None, None) => unreachable!("every constructor sets a channel"),
        };
        let words = self.embedding_dropout.forward(words);
        // The bias and the (non-decreasing) activation commute with the maximum over time,
        // so they are applied to the pooled features only.
        let pooled = window_max(words, self.filters.val(), lengths, &self.bank)
            + self.biases.val().unsqueeze::<2>();
        self.output
            .forward(self.dropout.forward(self.activate(pooled)))
    }
}

/// Filters and biases of every width as `init` says: burn's `Conv1d` over that width (uniform
/// in `±1/√(width · dim)`), or Kim's Glorot bound with zero biases.
///
/// # Shapes
/// → (`[dim, taps · maps]`, `[widths · maps]`).
pub(crate) fn initial_filters(
    bank: &FilterBank,
    dim: usize,
    init: &WeightInit,
    device: &Device,
) -> (Param<Tensor<2>>, Param<Tensor<1>>) {
    let maps = bank.maps();
    let (filters, biases): (Vec<Tensor<2>>, Vec<Tensor<1>>) = bank
        .blocks()
        .map(|block| {
            let bound = init.filter_bound(block.width, dim, maps);
            let uniform = Initializer::Uniform {
                min: -bound,
                max: bound,
            };
            let bias = match init {
                WeightInit::Burn => uniform.clone(),
                WeightInit::Kim { .. } => Initializer::Zeros,
            };
            (
                uniform
                    .init_with([dim, block.width * maps], None, None, device)
                    .val(),
                bias.init_with([maps], None, None, device).val(),
            )
        })
        .unzip();
    (
        Param::from_tensor(Tensor::cat(filters, 1).detach()),
        Param::from_tensor(Tensor::cat(biases, 0).detach()),
    )
}

/// The cross-entropy loss of class scores against gold labels, with the predicted classes.
///
/// # Shapes
/// `logits`: `[batch, classes]`, `labels`: `[batch]`.
pub(crate) fn classification_step(logits: Tensor<2>, labels: Tensor<1, Int>) -> StepOutput {
    let to_classes = |t: Tensor<1, Int>| -> Vec<u32> {
        t.into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("integer classes")
            .into_iter()
            .map(|c| c as u32)
            .collect()
    };
    let predicted = to_classes(logits.clone().argmax(1).squeeze_dim(1));
    let gold = to_classes(labels.clone());
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, labels);
    StepOutput {
        loss,
        examples: gold.len(),
        outcome: Outcome::Classes { gold, predicted },
    }
}

impl TextCnn {
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
            self.output.weight = max_norm_param(self.output.weight, limit, 0);
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
    use kindling_core::train::{TrainConfig, Trainer};
    use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
    use kindling_data::{Specials, VocabConfig};

    fn small(channels: Channels) -> TextCnnConfig {
        TextCnnConfig {
            channels,
            dim: 8,
            filter_widths: vec![2, 3],
            feature_maps: 4,
            ..Default::default()
        }
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
            TextCnn::random(&small(Channels::Rand), 20, 5, &device)
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
        let model = build_seeded(&device, 5, || TextCnn::random(&config, 20, 3, &device));
        let values = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_to_vec().unwrap() };
        assert!(values(model.output.weight.val()).iter().all(|&v| v == 0.0));
        let output_bias = model.output.bias.as_ref().unwrap().val().unsqueeze::<2>();
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
            build_seeded(&device, 6, || TextCnn::random(&config, 20, 3, &device))
        };
        let (plain, dropped) = (build(0.0), build(0.5));
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
        let (model, _) =
            TextCnn::pretrained(&config, &vectors, &vocab, 2, &mut rng, &device).unwrap();
        let table: Vec<f32> = model
            .embedding
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
            let (model, found) =
                TextCnn::pretrained(&config, &vectors, &vocab, 2, &mut rng, &device_train).unwrap();
            coverage = Some(found);
            model
        });
        assert_eq!(coverage.unwrap().pretrained, 21);
        let before = model.embedding.as_ref().unwrap().weight.val().into_data();
        let trained = train(model, 8);
        let after = trained.embedding.as_ref().unwrap().weight.val().into_data();
        assert_eq!(before, after, "static vectors moved");
        let weight = trained.output.weight.val();
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
}
