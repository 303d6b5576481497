//! Settings of the convolutional classifier; the defaults are Kim's.

use serde::{Deserialize, Serialize};

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

/// The architecture.
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
    /// Largest L2 norm of each output unit's weight vector, enforced after every step
    /// (`None`: unconstrained).
    pub max_norm: Option<f64>,
    /// Zero vectors added on each side of a sentence before the convolution. `None` is Kim's
    /// choice, the widest filter minus one, so every word meets every tap of every filter;
    /// `Some(0)` keeps only windows inside the sentence.
    pub edge_padding: Option<usize>,
    /// Words without a pretrained vector start from `U(-a, a)` with this `a`. `None` is Kim's
    /// rule, the `a` that matches the pretrained vectors' variance (he used 0.25 for word2vec;
    /// it is about 1.19 for GloVe 6B 50-d).
    pub unknown_bound: Option<f32>,
}

impl Default for TextCnnConfig {
    fn default() -> Self {
        Self {
            channels: Channels::Rand,
            dim: 300,
            filter_widths: vec![3, 4, 5],
            feature_maps: 100,
            activation: Activation::Relu,
            dropout: 0.5,
            max_norm: Some(3.0),
            edge_padding: None,
            unknown_bound: None,
        }
    }
}

impl TextCnnConfig {
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
    pub fn unknown_init(&self) -> kindling_embed::pretrained::UnknownInit {
        unknown_init(self.unknown_bound)
    }

    /// Width of the pooled feature vector.
    pub fn features(&self) -> usize {
        self.filter_widths.len() * self.feature_maps
    }
}

/// [`UnknownInit`](kindling_embed::pretrained::UnknownInit) for an optional bound: `U(-a, a)`, or
/// the pretrained vectors' variance.
pub(crate) fn unknown_init(bound: Option<f32>) -> kindling_embed::pretrained::UnknownInit {
    use kindling_embed::pretrained::UnknownInit;
    bound.map_or(UnknownInit::MatchVariance, UnknownInit::Uniform)
}
