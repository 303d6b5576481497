//! The GRU cell (Cho et al. 2014) in both of its forms.
//!
//! ```text
//! r = σ(W_r x + b_ir + U_r h + b_hr)
//! z = σ(W_z x + b_iz + U_z h + b_hz)
//! n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))     reset-after  (cuDNN, PyTorch)
//! n = tanh(W_n x + U_n (r ⊙ h) + b_in + b_hn)     reset-before (Cho et al. 2014)
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! Reset-after applies the reset gate to the recurrent product, so all three gates' recurrent
//! products are one matrix product per step, computed before `r` is known; it is what cuDNN and
//! PyTorch implement. Reset-before, the paper's form, resets the state before it is multiplied,
//! so the candidate's product must wait for `r`: two products per step.

use kindling_core::activation::tanh;
use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::tensor::activation::sigmoid;
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::init::Init;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::check_positive;
use crate::init::{
    bias, default_input_init, default_recurrent_init, input_weight, recurrent_weight,
};
use crate::sequence::{Recurrence, StepWeights, blend, check_step};

/// Where a [`GruCell`] applies its reset gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GruReset {
    /// `n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))`: cuDNN's and PyTorch's form, one
    /// recurrent product per step.
    #[default]
    After,
    /// `n = tanh(W_n x + U_n (r ⊙ h) + b_n)`: Cho et al.'s (2014) form, two products per step.
    Before,
}

/// Settings of a [`GruCell`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GruCellConfig {
    /// Input size.
    pub d_input: usize,
    /// Hidden-state size.
    pub d_hidden: usize,
    /// Where the reset gate applies (default after the product, as PyTorch).
    #[serde(default)]
    pub reset: GruReset,
    /// How the input weight is drawn (default Xavier-uniform).
    #[serde(default = "default_input_init")]
    pub input_init: Init,
    /// How the recurrent weight is drawn, per gate (default orthogonal).
    #[serde(default = "default_recurrent_init")]
    pub recurrent_init: Init,
}

impl GruCellConfig {
    /// A reset-after cell from `d_input` to `d_hidden` with the default initialisers.
    pub fn new(d_input: usize, d_hidden: usize) -> Self {
        Self {
            d_input,
            d_hidden,
            reset: GruReset::After,
            input_init: default_input_init(),
            recurrent_init: default_recurrent_init(),
        }
    }

    /// Sets where the reset gate applies (the `reset` field).
    pub fn with_reset(mut self, reset: GruReset) -> Self {
        self.reset = reset;
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
    pub fn init(&self, device: &Device) -> Result<GruCell> {
        self.validate()?;
        let h = self.d_hidden;
        Ok(GruCell {
            input_weight: input_weight(&self.input_init, self.d_input, 3 * h, device)?,
            recurrent_weight: recurrent_weight(&self.recurrent_init, h, 3, device)?,
            input_bias: bias(None, h, 3, None, device)?,
            hidden_bias: bias(None, h, 3, None, device)?,
            reset: self.reset,
        })
    }
}

/// A GRU cell with PyTorch's gate order `r, z, n`.
///
/// The weights are PyTorch's transposed: `input_weight` is `weight_ih_l0ᵀ`, `recurrent_weight`
/// is `weight_hh_l0ᵀ`, and the biases are `bias_ih_l0` and `bias_hh_l0`.
#[derive(Module, Debug)]
pub struct GruCell {
    /// `W`: `[d_input, 3 · d_hidden]`, gate blocks `r, z, n`.
    pub input_weight: Param<Tensor<2>>,
    /// `U`: `[d_hidden, 3 · d_hidden]`, gate blocks `r, z, n`.
    pub recurrent_weight: Param<Tensor<2>>,
    /// `b_ih`: `[3 · d_hidden]`.
    pub input_bias: Param<Tensor<1>>,
    /// `b_hh`: `[3 · d_hidden]`.
    pub hidden_bias: Param<Tensor<1>>,
    /// Where the reset gate applies.
    #[module(skip)]
    pub reset: GruReset,
}

impl GruCell {
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

impl Recurrence for GruCell {
    type State = Tensor<2>;

    fn d_input(&self) -> usize {
        self.input_weight.shape().dims::<2>()[0]
    }

    fn d_hidden(&self) -> usize {
        self.recurrent_weight.shape().dims::<2>()[0]
    }

    /// Reset-after folds only `b_ih` (`b_hn` sits inside `r ⊙ (·)`); reset-before folds both.
    fn project(&self, input: Tensor<2>) -> Tensor<2> {
        let bias = match self.reset {
            GruReset::After => self.input_bias.val(),
            GruReset::Before => self.input_bias.val() + self.hidden_bias.val(),
        };
        input.matmul(self.input_weight.val()) + bias.unsqueeze()
    }

    fn weights(&self) -> StepWeights {
        let u = self.recurrent_weight.val();
        let h = self.d_hidden();
        match self.reset {
            GruReset::After => StepWeights {
                recurrent: u,
                candidate: None,
                bias: Some(self.hidden_bias.val().unsqueeze()),
            },
            GruReset::Before => StepWeights {
                recurrent: u.clone().narrow(1, 0, 2 * h),
                candidate: Some(u.narrow(1, 2 * h, h)),
                bias: None,
            },
        }
    }

    fn step(&self, weights: &StepWeights, projected: Tensor<2>, state: &Tensor<2>) -> Tensor<2> {
        let h = state.dims()[1];
        let x_n = projected.clone().narrow(1, 2 * h, h);
        let x_rz = projected.narrow(1, 0, 2 * h);
        let mut product = state.clone().matmul(weights.recurrent.clone());
        if let Some(bias) = &weights.bias {
            product = product + bias.clone();
        }
        let rz = sigmoid(x_rz + product.clone().narrow(1, 0, 2 * h));
        let r = rz.clone().narrow(1, 0, h);
        let z = rz.narrow(1, h, h);
        let n = match &weights.candidate {
            None => tanh(x_n + r * product.narrow(1, 2 * h, h)),
            Some(u_n) => tanh(x_n + (r * state.clone()).matmul(u_n.clone())),
        };
        // (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
        n.clone() + z * (state.clone() - n)
    }

    fn hidden(state: &Tensor<2>) -> Tensor<2> {
        state.clone()
    }

    fn blend(new: Tensor<2>, old: &Tensor<2>, mask: &Tensor<2>) -> Tensor<2> {
        blend(new, old, mask)
    }
}
