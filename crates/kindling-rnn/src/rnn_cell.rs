//! The Elman RNN cell: `h' = act(W x + U h + b)`.

use kindling_core::activation::tanh;
use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::tensor::activation::relu;
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::init::Init;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::check_positive;
use crate::init::{
    bias, default_input_init, default_recurrent_init, input_weight, recurrent_weight,
};
use crate::sequence::{Recurrence, StepWeights, blend, check_step};

/// The nonlinearity of an [`RnnCell`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RnnActivation {
    /// `tanh`, PyTorch's default.
    #[default]
    Tanh,
    /// `max(0, x)`; with [`Init::Identity`] recurrent weights this is the IRNN of Le et al.
    /// (2015).
    Relu,
}

/// Settings of an [`RnnCell`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnCellConfig {
    /// Input size.
    pub d_input: usize,
    /// Hidden-state size.
    pub d_hidden: usize,
    /// The nonlinearity.
    #[serde(default)]
    pub activation: RnnActivation,
    /// How the input weight is drawn (default Xavier-uniform).
    #[serde(default = "default_input_init")]
    pub input_init: Init,
    /// How the recurrent weight is drawn (default orthogonal); [`Init::Identity`] for an IRNN.
    #[serde(default = "default_recurrent_init")]
    pub recurrent_init: Init,
}

impl RnnCellConfig {
    /// A tanh cell from `d_input` to `d_hidden` with the default initialisers.
    pub fn new(d_input: usize, d_hidden: usize) -> Self {
        Self {
            d_input,
            d_hidden,
            activation: RnnActivation::Tanh,
            input_init: default_input_init(),
            recurrent_init: default_recurrent_init(),
        }
    }

    /// Sets the nonlinearity (the `activation` field).
    pub fn with_activation(mut self, activation: RnnActivation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets the input-weight initialiser (the `input_init` field).
    pub fn with_input_init(mut self, init: Init) -> Self {
        self.input_init = init;
        self
    }

    /// Sets the recurrent-weight initialiser (the `recurrent_init` field).
    pub fn with_recurrent_init(mut self, init: Init) -> Self {
        self.recurrent_init = init;
        self
    }

    /// Checks every value that its type does not.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_positive("d_input", self.d_input)?;
        check_positive("d_hidden", self.d_hidden)
    }

    /// A cell with freshly drawn weights and zero biases.
    ///
    /// # Errors
    /// When the config is invalid or an initialiser cannot fill its weight.
    pub fn init(&self, device: &Device) -> Result<RnnCell> {
        self.validate()?;
        Ok(RnnCell {
            input_weight: input_weight(&self.input_init, self.d_input, self.d_hidden, device)?,
            recurrent_weight: recurrent_weight(&self.recurrent_init, self.d_hidden, 1, device)?,
            input_bias: bias(None, self.d_hidden, 1, None, device)?,
            hidden_bias: bias(None, self.d_hidden, 1, None, device)?,
            activation: self.activation,
        })
    }
}

/// An Elman RNN cell, `h' = act(x W + b_ih + h U + b_hh)`.
///
/// The weights are PyTorch's transposed: `input_weight` is `weight_ih_l0ᵀ`, `recurrent_weight`
/// is `weight_hh_l0ᵀ`, and the biases are `bias_ih_l0` and `bias_hh_l0`.
#[derive(Module, Debug)]
pub struct RnnCell {
    /// `W`: `[d_input, d_hidden]`.
    pub input_weight: Param<Tensor<2>>,
    /// `U`: `[d_hidden, d_hidden]`.
    pub recurrent_weight: Param<Tensor<2>>,
    /// `b_ih`: `[d_hidden]`.
    pub input_bias: Param<Tensor<1>>,
    /// `b_hh`: `[d_hidden]`.
    pub hidden_bias: Param<Tensor<1>>,
    /// The nonlinearity.
    #[module(skip)]
    pub activation: RnnActivation,
}

impl RnnCell {
    /// One step.
    ///
    /// # Shapes
    /// `input`: `[batch, d_input]`, `hidden`: `[batch, d_hidden]` → `[batch, d_hidden]`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] when a shape does not fit the cell.
    pub fn forward(&self, input: Tensor<2>, hidden: Tensor<2>) -> Result<Tensor<2>> {
        check_step(&input, &[&hidden], self.d_input(), self.d_hidden())?;
        Ok(self.step(&self.weights(), self.project(input), &hidden))
    }

    /// The zero state for `batch` sequences.
    ///
    /// # Shapes
    /// `[batch, d_hidden]`.
    pub fn zero_state(&self, batch: usize, device: &Device) -> Tensor<2> {
        Tensor::zeros([batch, self.d_hidden()], device)
    }
}

impl Recurrence for RnnCell {
    type State = Tensor<2>;

    fn d_input(&self) -> usize {
        self.input_weight.shape().dims::<2>()[0]
    }

    fn d_hidden(&self) -> usize {
        self.recurrent_weight.shape().dims::<2>()[0]
    }

    fn project(&self, input: Tensor<2>) -> Tensor<2> {
        let bias = self.input_bias.val() + self.hidden_bias.val();
        input.matmul(self.input_weight.val()) + bias.unsqueeze()
    }

    fn weights(&self) -> StepWeights {
        StepWeights {
            recurrent: self.recurrent_weight.val(),
            candidate: None,
            bias: None,
        }
    }

    fn step(&self, weights: &StepWeights, projected: Tensor<2>, state: &Tensor<2>) -> Tensor<2> {
        let pre = projected + state.clone().matmul(weights.recurrent.clone());
        match self.activation {
            RnnActivation::Tanh => tanh(pre),
            RnnActivation::Relu => relu(pre),
        }
    }

    fn hidden(state: &Tensor<2>) -> Tensor<2> {
        state.clone()
    }

    fn blend(new: Tensor<2>, old: &Tensor<2>, mask: &Tensor<2>) -> Tensor<2> {
        blend(new, old, mask)
    }
}
