//! A recurrent encoder chosen by name: the settings a model file gives (`cell = "lstm"`,
//! `hidden`, `layers`, `bidirectional`, …) and the layer they build, with the per-sequence
//! last states the classifiers pool.

use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::init::Init;
use serde::{Deserialize, Serialize};

use crate::error::{check_dropout, check_positive};
use crate::{
    Gru, GruCellConfig, GruConfig, GruReset, Lstm, LstmCellConfig, LstmConfig, Result, Rnn,
    RnnActivation, RnnCellConfig, RnnConfig,
};

/// The name of a recurrent cell, as config files give it (`cell = "lstm"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellKind {
    /// The Elman RNN ([`crate::rnn_cell`]).
    Rnn,
    /// The LSTM ([`crate::lstm_cell`]).
    Lstm,
    /// The GRU ([`crate::gru_cell`]).
    Gru,
}

/// Which recurrent cell an [`Encoder`] runs, with the settings only that cell has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// The Elman RNN and its nonlinearity (`activation`: tanh or ReLU).
    Rnn {
        /// The nonlinearity.
        activation: RnnActivation,
    },
    /// The LSTM and its initial forget-gate bias (`forget_bias`; `None`: the cell's default
    /// of 1).
    Lstm {
        /// The initial forget-gate bias.
        forget_bias: Option<f64>,
    },
    /// The GRU and where its reset gate applies (`reset`).
    Gru {
        /// The reset-gate placement.
        reset: GruReset,
    },
}

impl CellKind {
    /// The name config files use: `rnn`, `lstm` or `gru`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rnn => "rnn",
            Self::Lstm => "lstm",
            Self::Gru => "gru",
        }
    }
}

impl Cell {
    /// The cell's name.
    pub fn kind(&self) -> CellKind {
        match self {
            Self::Rnn { .. } => CellKind::Rnn,
            Self::Lstm { .. } => CellKind::Lstm,
            Self::Gru { .. } => CellKind::Gru,
        }
    }
}

impl From<CellKind> for Cell {
    /// The cell with its defaults: tanh, the forget-gate bias of 1, the reset gate after the
    /// product (as PyTorch).
    fn from(kind: CellKind) -> Self {
        match kind {
            CellKind::Rnn => Self::Rnn {
                activation: RnnActivation::default(),
            },
            CellKind::Lstm => Self::Lstm { forget_bias: None },
            CellKind::Gru => Self::Gru {
                reset: GruReset::default(),
            },
        }
    }
}

/// Settings of an [`Encoder`]; the input size comes from what feeds it. Config files give
/// them flat (`cell = "gru"`, `hidden = 256`, `reset = "before"`, …): a setting of another cell
/// than the one named (`forget_bias` on a GRU) is an error naming the key, like a misspelt one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EncoderFields", into = "EncoderFields")]
pub struct EncoderConfig {
    /// The cell and its own settings.
    pub cell: Cell,
    /// Hidden size of every layer and direction.
    pub hidden: usize,
    /// Stacked layers (default 1).
    pub layers: usize,
    /// Whether each layer also reads backwards (default no).
    pub bidirectional: bool,
    /// Dropout between stacked layers (default 0).
    pub dropout: f64,
    /// The input-weight initialiser (default Xavier-uniform).
    pub input_init: Option<Init>,
    /// The recurrent-weight initialiser (default orthogonal; `{ kind = "identity" }` with ReLU
    /// for an IRNN).
    pub recurrent_init: Option<Init>,
}

/// [`EncoderConfig`] as config files write it: one flat table.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncoderFields {
    cell: CellKind,
    hidden: usize,
    #[serde(default)]
    layers: Option<usize>,
    #[serde(default)]
    bidirectional: Option<bool>,
    #[serde(default)]
    dropout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activation: Option<RnnActivation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reset: Option<GruReset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    forget_bias: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_init: Option<Init>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recurrent_init: Option<Init>,
}

impl TryFrom<EncoderFields> for EncoderConfig {
    type Error = String;

    fn try_from(fields: EncoderFields) -> std::result::Result<Self, String> {
        let kind = fields.cell;
        let misplaced = |key: &str, owner: &str| {
            format!(
                "`{key}` applies to the {owner} cell only, and this encoder's cell is `{}`",
                kind.name()
            )
        };
        let cell = match kind {
            CellKind::Rnn => Cell::Rnn {
                activation: fields.activation.unwrap_or_default(),
            },
            CellKind::Lstm => Cell::Lstm {
                forget_bias: fields.forget_bias,
            },
            CellKind::Gru => Cell::Gru {
                reset: fields.reset.unwrap_or_default(),
            },
        };
        if fields.activation.is_some() && kind != CellKind::Rnn {
            return Err(misplaced("activation", "Elman RNN"));
        }
        if fields.forget_bias.is_some() && kind != CellKind::Lstm {
            return Err(misplaced("forget_bias", "LSTM"));
        }
        if fields.reset.is_some() && kind != CellKind::Gru {
            return Err(misplaced("reset", "GRU"));
        }
        let defaults = EncoderConfig::new(kind, fields.hidden);
        Ok(EncoderConfig {
            cell,
            layers: fields.layers.unwrap_or(defaults.layers),
            bidirectional: fields.bidirectional.unwrap_or(defaults.bidirectional),
            dropout: fields.dropout.unwrap_or(defaults.dropout),
            input_init: fields.input_init,
            recurrent_init: fields.recurrent_init,
            ..defaults
        })
    }
}

impl From<EncoderConfig> for EncoderFields {
    fn from(config: EncoderConfig) -> Self {
        let (mut activation, mut reset, mut forget_bias) = (None, None, None);
        match config.cell {
            Cell::Rnn { activation: a } => activation = Some(a),
            Cell::Lstm { forget_bias: b } => forget_bias = b,
            Cell::Gru { reset: r } => reset = Some(r),
        }
        Self {
            cell: config.cell.kind(),
            hidden: config.hidden,
            layers: Some(config.layers),
            bidirectional: Some(config.bidirectional),
            dropout: Some(config.dropout),
            activation,
            reset,
            forget_bias,
            input_init: config.input_init,
            recurrent_init: config.recurrent_init,
        }
    }
}

impl EncoderConfig {
    /// One unidirectional layer of `cell` (with that cell's defaults) with `hidden` units and
    /// default initialisers.
    pub fn new(cell: impl Into<Cell>, hidden: usize) -> Self {
        Self {
            cell: cell.into(),
            hidden,
            layers: 1,
            bidirectional: false,
            dropout: 0.0,
            input_init: None,
            recurrent_init: None,
        }
    }

    /// Sets the number of stacked layers (the `layers` field).
    pub fn with_layers(mut self, layers: usize) -> Self {
        self.layers = layers;
        self
    }

    /// Sets whether each layer reads both ways (the `bidirectional` field).
    pub fn with_bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }

    /// Sets the dropout between layers (the `dropout` field).
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Sets the cell and its own settings (the `cell` field).
    pub fn with_cell(mut self, cell: Cell) -> Self {
        self.cell = cell;
        self
    }

    /// Sets the recurrent-weight initialiser (the `recurrent_init` field).
    pub fn with_recurrent_init(mut self, init: Init) -> Self {
        self.recurrent_init = Some(init);
        self
    }

    /// The size of each step's output: `hidden`, twice that when bidirectional.
    pub fn d_output(&self) -> usize {
        self.directions() * self.hidden
    }

    /// 1, or 2 when bidirectional.
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Checks every value that its type does not.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_positive("hidden", self.hidden)?;
        check_positive("layers", self.layers)?;
        check_dropout("dropout", self.dropout)?;
        Ok(())
    }

    /// An encoder reading `d_input`-sized steps.
    ///
    /// # Errors
    /// When a setting is invalid or an initialiser cannot fill its weight.
    pub fn init(&self, d_input: usize, device: &Device) -> Result<Encoder> {
        self.validate()?;
        let h = self.hidden;
        Ok(match self.cell {
            Cell::Rnn { activation } => {
                let mut cell = RnnCellConfig::new(d_input, h).with_activation(activation);
                if let Some(init) = &self.input_init {
                    cell = cell.with_input_init(init.clone());
                }
                if let Some(init) = &self.recurrent_init {
                    cell = cell.with_recurrent_init(init.clone());
                }
                Encoder::Rnn(
                    self.stack(RnnConfig::new(d_input, h).with_cell(cell))
                        .init(device)?,
                )
            }
            Cell::Lstm { forget_bias } => {
                let mut cell = LstmCellConfig::new(d_input, h);
                if let Some(init) = &self.input_init {
                    cell = cell.with_input_init(init.clone());
                }
                if let Some(init) = &self.recurrent_init {
                    cell = cell.with_recurrent_init(init.clone());
                }
                if let Some(bias) = forget_bias {
                    cell = cell.with_forget_bias(bias);
                }
                Encoder::Lstm(
                    self.stack(LstmConfig::new(d_input, h).with_cell(cell))
                        .init(device)?,
                )
            }
            Cell::Gru { reset } => {
                let mut cell = GruCellConfig::new(d_input, h).with_reset(reset);
                if let Some(init) = &self.input_init {
                    cell = cell.with_input_init(init.clone());
                }
                if let Some(init) = &self.recurrent_init {
                    cell = cell.with_recurrent_init(init.clone());
                }
                Encoder::Gru(
                    self.stack(GruConfig::new(d_input, h).with_cell(cell))
                        .init(device)?,
                )
            }
        })
    }

    /// `layer` with this config's stacking, direction and dropout.
    fn stack<L: Stackable>(&self, layer: L) -> L {
        layer
            .layers(self.layers)
            .bidirectional(self.bidirectional)
            .dropout(self.dropout)
    }
}

/// The stacking setters the three layer configs share.
trait Stackable: Sized {
    fn layers(self, n: usize) -> Self;
    fn bidirectional(self, yes: bool) -> Self;
    fn dropout(self, p: f64) -> Self;
}

macro_rules! stackable {
    ($($config:ty),*) => {$(
        impl Stackable for $config {
            fn layers(self, n: usize) -> Self {
                self.with_n_layers(n)
            }
            fn bidirectional(self, yes: bool) -> Self {
                self.with_bidirectional(yes)
            }
            fn dropout(self, p: f64) -> Self {
                self.with_dropout(p)
            }
        }
    )*};
}

stackable!(RnnConfig, LstmConfig, GruConfig);

/// A stacked, optionally bidirectional recurrent layer of any cell.
#[derive(Module, Debug)]
pub enum Encoder {
    /// Elman RNN layers.
    Rnn(Rnn),
    /// LSTM layers.
    Lstm(Lstm),
    /// GRU layers.
    Gru(Gru),
}

/// What an [`Encoder`] returns.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The last layer's output at every step, zero at padded steps.
    ///
    /// `[batch, len, directions · hidden]`.
    pub outputs: Tensor<3>,
    /// The last layer's final hidden state of each direction side by side: the forward
    /// direction's after each sequence's own last real step, the backward direction's after
    /// its first.
    ///
    /// `[batch, directions · hidden]`.
    pub last: Tensor<2>,
}

impl Encoder {
    /// Runs the encoder from zero states over `input`, whose real steps `lengths` gives
    /// (`None`: all).
    ///
    /// # Shapes
    /// `input`: `[batch, len, d_input]` → see [`Encoded`].
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] when a shape or a length does not fit.
    pub fn forward(&self, input: Tensor<3>, lengths: Option<&[usize]>) -> Result<Encoded> {
        let (outputs, hidden, directions) = match self {
            Self::Rnn(layer) => {
                let (outputs, hidden) = layer.forward(input, lengths, None)?;
                (outputs, hidden, layer.directions)
            }
            Self::Lstm(layer) => {
                let (outputs, states) = layer.forward(input, lengths, None)?;
                (outputs, states.hidden, layer.directions)
            }
            Self::Gru(layer) => {
                let (outputs, hidden) = layer.forward(input, lengths, None)?;
                (outputs, hidden, layer.directions)
            }
        };
        let [cells, batch, h] = hidden.dims();
        let last = hidden
            .narrow(0, cells - directions, directions)
            .swap_dims(0, 1)
            .reshape([batch, directions * h]);
        Ok(Encoded { outputs, last })
    }

    /// The size of each step's output.
    pub fn d_output(&self) -> usize {
        match self {
            Self::Rnn(layer) => layer.directions * layer.d_hidden(),
            Self::Lstm(layer) => layer.directions * layer.d_hidden(),
            Self::Gru(layer) => layer.directions * layer.d_hidden(),
        }
    }
}
