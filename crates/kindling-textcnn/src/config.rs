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

/// How the filters, their biases and the output layer start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum WeightInit {
    /// burn's `Conv1d` and `Linear` defaults: every weight and bias from `U(±1/√fan_in)`,
    /// with `fan_in = width · dim` for a filter and the feature count for the output layer.
    Burn,
    /// Kim's Theano code: filters from `U(±√(6 / (fan_in + fan_out)))` with
    /// `fan_in = width · dim` and `fan_out = maps · width · dim / (padded_length − width + 1)`
    /// (his layer divides the fan-out by the pooled positions), zero filter biases and a zero
    /// output layer.
    Kim {
        /// Kim's image height: the longest sentence plus the edge padding on both sides.
        padded_length: usize,
    },
}

impl WeightInit {
    /// The bound `a` of the uniform `U(±a)` that a filter of `width` words over `dim`-d
    /// vectors starts from, with `maps` filters of that width.
    pub fn filter_bound(&self, width: usize, dim: usize, maps: usize) -> f64 {
        let fan_in = (width * dim) as f64;
        match *self {
            WeightInit::Burn => 1.0 / fan_in.sqrt(),
            WeightInit::Kim { padded_length } => {
                let pooled = padded_length.saturating_sub(width) + 1;
                let fan_out = maps as f64 * fan_in / pooled as f64;
                (6.0 / (fan_in + fan_out)).sqrt()
            }
        }
    }
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
        Self {
            channels: Channels::Rand,
            dim: 300,
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

    /// The `a` of CNN-rand's `U(-a, a)` word vectors: `unknown_bound`, else Kim's 0.25.
    pub fn random_bound(&self) -> f32 {
        self.unknown_bound.unwrap_or(0.25)
    }

    /// Width of the pooled feature vector.
    pub fn features(&self) -> usize {
        self.filter_widths.len() * self.feature_maps
    }
}

/// `vectors` rescaled to the standard deviation `std`, or as they are without one.
pub(crate) fn rescaled(
    vectors: &kindling_embed::WordVectors,
    std: Option<f64>,
) -> std::borrow::Cow<'_, kindling_embed::WordVectors> {
    match std {
        Some(std) => std::borrow::Cow::Owned(vectors.scaled_to_std(std)),
        None => std::borrow::Cow::Borrowed(vectors),
    }
}

/// [`UnknownInit`](kindling_embed::pretrained::UnknownInit) for an optional bound: `U(-a, a)`, or
/// the pretrained vectors' variance.
pub(crate) fn unknown_init(bound: Option<f32>) -> kindling_embed::pretrained::UnknownInit {
    use kindling_embed::pretrained::UnknownInit;
    bound.map_or(UnknownInit::MatchVariance, UnknownInit::Uniform)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_bounds_follow_burn_and_kim() {
        let burn = WeightInit::Burn.filter_bound(3, 300, 100);
        assert!((burn - 1.0 / 900f64.sqrt()).abs() < 1e-12);
        // Kim's MR: sentences of up to 56 words with 4 zero vectors on each side, so a filter
        // of width 3 is pooled over 62 positions.
        let kim = WeightInit::Kim { padded_length: 64 }.filter_bound(3, 300, 100);
        let fan_out: f64 = 100.0 * 900.0 / 62.0;
        assert!((kim - (6.0 / (900.0 + fan_out)).sqrt()).abs() < 1e-12);
        assert!((kim - 0.0505).abs() < 1e-4, "{kim}");
    }

    #[test]
    fn kim_initialisation_reads_from_toml() {
        let config: TextCnnConfig =
            toml::from_str("init = { kind = \"kim\", padded_length = 45 }\npretrained_std = 0.144")
                .unwrap();
        assert_eq!(config.init, WeightInit::Kim { padded_length: 45 });
        assert_eq!(config.pretrained_std, Some(0.144));
    }
}
