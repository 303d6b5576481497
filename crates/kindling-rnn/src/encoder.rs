//! A recurrent encoder chosen by name: the settings a model file gives (`cell = "lstm"`,
//! `hidden`, `layers`, `bidirectional`, …) and the layer they build, with the per-sequence
//! last states the classifiers pool.

use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::init::Init;
use serde::{Deserialize, Serialize};

use crate::error::{check_dropout, check_positive};
use crate::{
    Error, Gru, GruCellConfig, GruConfig, GruReset, Lstm, LstmCellConfig, LstmConfig, Result, Rnn,
    RnnActivation, RnnCellConfig, RnnConfig,
};

/// Which recurrent cell an [`Encoder`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellKind {
    /// The Elman RNN ([`crate::rnn_cell`]); `activation` picks tanh or ReLU.
    Rnn,
    /// The LSTM ([`crate::lstm_cell`]).
    Lstm,
    /// The GRU ([`crate::gru_cell`]); `reset` picks where the reset gate applies.
    Gru,
}

fn one() -> usize {
    1
}

/// Settings of an [`Encoder`]; the input size comes from what feeds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// The cell.
    pub cell: CellKind,
    /// Hidden size of every layer and direction.
    pub hidden: usize,
    /// Stacked layers (default 1).
    #[serde(default = "one")]
    pub layers: usize,
    /// Whether each layer also reads backwards (default no).
    #[serde(default)]
    pub bidirectional: bool,
    /// Dropout between stacked layers (default 0).
    #[serde(default)]
    pub dropout: f64,
    /// The Elman RNN's nonlinearity (default tanh; ignored by the other cells).
    #[serde(default)]
    pub activation: RnnActivation,
    /// The GRU's reset-gate placement (default after the product, as PyTorch).
    #[serde(default)]
    pub reset: GruReset,
    /// The input-weight initialiser (default Xavier-uniform).
    #[serde(default)]
    pub input_init: Option<Init>,
    /// The recurrent-weight initialiser (default orthogonal; `{ kind = "identity" }` with ReLU
    /// for an IRNN).
    #[serde(default)]
    pub recurrent_init: Option<Init>,
    /// The LSTM's initial forget-gate bias (default 1).
    #[serde(default)]
    pub forget_bias: Option<f64>,
}

impl EncoderConfig {
    /// One unidirectional layer of `cell` with `hidden` units and default initialisers.
    pub fn new(cell: CellKind, hidden: usize) -> Self {
        Self {
            cell,
            hidden,
            layers: 1,
            bidirectional: false,
            dropout: 0.0,
            activation: RnnActivation::Tanh,
            reset: GruReset::After,
            input_init: None,
            recurrent_init: None,
            forget_bias: None,
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

    /// Sets the Elman RNN's nonlinearity (the `activation` field).
    pub fn with_activation(mut self, activation: RnnActivation) -> Self {
        self.activation = activation;
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
        // A setting of another cell is a mistake, not something to ignore.
        let misplaced = |field: &'static str, owner: &str| {
            Err(Error::invalid(
                field,
                format!(
                    "applies to the {owner} cell only, and this encoder's cell is {:?}",
                    self.cell
                ),
            ))
        };
        if self.forget_bias.is_some() && self.cell != CellKind::Lstm {
            return misplaced("forget_bias", "LSTM");
        }
        if self.reset != GruReset::default() && self.cell != CellKind::Gru {
            return misplaced("reset", "GRU");
        }
        if self.activation != RnnActivation::default() && self.cell != CellKind::Rnn {
            return misplaced("activation", "Elman RNN");
        }
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
            CellKind::Rnn => {
                let mut cell = RnnCellConfig::new(d_input, h).with_activation(self.activation);
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
            CellKind::Lstm => {
                let mut cell = LstmCellConfig::new(d_input, h);
                if let Some(init) = &self.input_init {
                    cell = cell.with_input_init(init.clone());
                }
                if let Some(init) = &self.recurrent_init {
                    cell = cell.with_recurrent_init(init.clone());
                }
                if let Some(bias) = self.forget_bias {
                    cell = cell.with_forget_bias(bias);
                }
                Encoder::Lstm(
                    self.stack(LstmConfig::new(d_input, h).with_cell(cell))
                        .init(device)?,
                )
            }
            CellKind::Gru => {
                let mut cell = GruCellConfig::new(d_input, h).with_reset(self.reset);
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
