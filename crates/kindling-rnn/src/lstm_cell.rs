//! The LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).
//!
//! ```text
//! i, f, g, o = σ(·), σ(·), tanh(·), σ(·) of  x W + b_ih + h U + b_hh   (one product per step)
//! c' = f ⊙ c + i ⊙ g
//! h' = o ⊙ tanh(c')
//! ```
//!
//! # Why `o ⊙ tanh(c)` and not `o ⊙ c`
//!
//! The cell state is a running sum, `c' = f ⊙ c + i ⊙ g`: with the forget gate near 1 it can
//! grow without bound over a long sequence. The `tanh` squashes it back into `(−1, 1)`, so the
//! output gate scales a bounded value and `h` — which feeds every gate of the next step and the
//! next layer — stays in `(−1, 1)` however large `c` becomes.

use kindling_core::activation::tanh;
use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::tensor::activation::sigmoid;
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::init::Init;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::{check_finite, check_positive};
use crate::init::{
    bias, default_input_init, default_recurrent_init, input_weight, recurrent_weight,
};
use crate::sequence::{Recurrence, StepWeights, blend, check_step};

/// The default forget-gate bias, 1 (Jozefowicz et al. 2015).
fn default_forget_bias() -> f64 {
    1.0
}

/// Settings of an [`LstmCell`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmCellConfig {
    /// Input size.
    pub d_input: usize,
    /// Hidden- and cell-state size.
    pub d_hidden: usize,
    /// The forget gate's initial input bias (default 1, so a fresh cell remembers).
    #[serde(default = "default_forget_bias")]
    pub forget_bias: f64,
    /// How the input weight is drawn (default Xavier-uniform).
    #[serde(default = "default_input_init")]
    pub input_init: Init,
    /// How the recurrent weight is drawn, per gate (default orthogonal).
    #[serde(default = "default_recurrent_init")]
    pub recurrent_init: Init,
    /// How both bias vectors are drawn (default: zeros); `forget_bias` is added to the forget
    /// gate's input bias either way. PyTorch draws weights and biases from `U(±1/√d_hidden)`
    /// with no forget bias.
    #[serde(default)]
    pub bias_init: Option<Init>,
}

impl LstmCellConfig {
    /// A cell from `d_input` to `d_hidden` with the default initialisers and forget bias 1.
    pub fn new(d_input: usize, d_hidden: usize) -> Self {
        Self {
            d_input,
            d_hidden,
            forget_bias: default_forget_bias(),
            input_init: default_input_init(),
            recurrent_init: default_recurrent_init(),
            bias_init: None,
        }
    }

    /// PyTorch's `nn.LSTM` initialisation: every weight and both biases from
    /// `U(±1/√d_hidden)`, no forget bias.
    pub fn pytorch(d_input: usize, d_hidden: usize) -> Self {
        let k = 1.0 / (d_hidden as f64).sqrt();
        let uniform = Init::Uniform { min: -k, max: k };
        Self {
            d_input,
            d_hidden,
            forget_bias: 0.0,
            input_init: uniform.clone(),
            recurrent_init: uniform.clone(),
            bias_init: Some(uniform),
        }
    }

    /// Sets the forget gate's initial bias (the `forget_bias` field).
    pub fn with_forget_bias(mut self, forget_bias: f64) -> Self {
        self.forget_bias = forget_bias;
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
        check_positive("d_hidden", self.d_hidden)?;
        check_finite("forget_bias", self.forget_bias)
    }

    /// A cell with freshly drawn weights and biases (zeros by default) plus the forget bias.
    ///
    /// # Errors
    /// When the config is invalid or an initialiser cannot fill its weight.
    pub fn init(&self, device: &Device) -> Result<LstmCell> {
        self.validate()?;
        let h = self.d_hidden;
        Ok(LstmCell {
            input_weight: input_weight(&self.input_init, self.d_input, 4 * h, device)?,
            recurrent_weight: recurrent_weight(&self.recurrent_init, h, 4, device)?,
            input_bias: bias(
                self.bias_init.as_ref(),
                h,
                4,
                Some((1, self.forget_bias)),
                device,
            )?,
            hidden_bias: bias(self.bias_init.as_ref(), h, 4, None, device)?,
        })
    }
}

/// An LSTM's hidden and cell states.
#[derive(Debug, Clone)]
pub struct LstmState {
    /// `h`: `[batch, d_hidden]`.
    pub hidden: Tensor<2>,
    /// `c`: `[batch, d_hidden]`.
    pub cell: Tensor<2>,
}

/// An LSTM cell; the four gates `i, f, g, o` (PyTorch's order) are one matrix product per step.
///
/// The weights are PyTorch's transposed: `input_weight` is `weight_ih_l0ᵀ`, `recurrent_weight`
/// is `weight_hh_l0ᵀ`, and the biases are `bias_ih_l0` and `bias_hh_l0`.
#[derive(Module, Debug)]
pub struct LstmCell {
    /// `W`: `[d_input, 4 · d_hidden]`, gate blocks `i, f, g, o`.
    pub input_weight: Param<Tensor<2>>,
    /// `U`: `[d_hidden, 4 · d_hidden]`, gate blocks `i, f, g, o`.
    pub recurrent_weight: Param<Tensor<2>>,
    /// `b_ih`: `[4 · d_hidden]`.
    pub input_bias: Param<Tensor<1>>,
    /// `b_hh`: `[4 · d_hidden]`.
    pub hidden_bias: Param<Tensor<1>>,
}

impl LstmCell {
    /// One step.
    ///
    /// # Shapes
    /// `input`: `[batch, d_input]`, `state`: `[batch, d_hidden]` each → `[batch, d_hidden]`
    /// each.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] when a shape does not fit the cell.
    pub fn forward(&self, input: Tensor<2>, state: &LstmState) -> Result<LstmState> {
        check_step(
            &input,
            &[&state.hidden, &state.cell],
            self.d_input(),
            self.d_hidden(),
        )?;
        Ok(self.step(&self.weights(), self.project(input), state))
    }

    /// The zero state for `batch` sequences.
    ///
    /// # Shapes
    /// `[batch, d_hidden]` each.
    pub fn zero_state(&self, batch: usize, device: &Device) -> LstmState {
        let zeros = Tensor::zeros([batch, self.d_hidden()], device);
        LstmState {
            hidden: zeros.clone(),
            cell: zeros,
        }
    }
}

impl Recurrence for LstmCell {
    type State = LstmState;

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

    fn step(&self, weights: &StepWeights, projected: Tensor<2>, state: &LstmState) -> LstmState {
        let gates = projected + state.hidden.clone().matmul(weights.recurrent.clone());
        let [i, f, g, o]: [Tensor<2>; 4] = gates
            .chunk(4, 1)
            .try_into()
            .expect("4 · d_hidden columns split into four gates");
        let cell = sigmoid(f) * state.cell.clone() + sigmoid(i) * tanh(g);
        let hidden = sigmoid(o) * tanh(cell.clone());
        LstmState { hidden, cell }
    }

    fn hidden(state: &LstmState) -> Tensor<2> {
        state.hidden.clone()
    }

    fn blend(new: LstmState, old: &LstmState, mask: &Tensor<2>) -> LstmState {
        LstmState {
            hidden: blend(new.hidden, &old.hidden, mask),
            cell: blend(new.cell, &old.cell, mask),
        }
    }

    #[cfg(feature = "flex")]
    fn fused(
        &self,
        input: &Tensor<3>,
        lengths: &[usize],
        reverse: bool,
        state: &LstmState,
    ) -> Option<(Tensor<3>, LstmState)> {
        use crate::fused_lstm::{Run, lstm_direction};
        if !crate::sequence::fused_allowed()
            || !kindling_core::flex_tensors::runs_on_flex(&input.device())
        {
            return None;
        }
        let [batch, len, d] = input.dims();
        let h = self.d_hidden();
        let projected = self.project(input.clone().swap_dims(0, 1).reshape([len * batch, d]));
        let run = Run {
            lengths: lengths.to_vec(),
            len,
            hidden: h,
        };
        let out = lstm_direction(
            projected,
            self.recurrent_weight.val(),
            state.hidden.clone(),
            state.cell.clone(),
            run,
            reverse,
        );
        let outputs = out.clone().narrow(0, 0, len).swap_dims(0, 1);
        let hidden = out.clone().narrow(0, len, 1).reshape([batch, h]);
        let cell = out.narrow(0, len + 1, 1).reshape([batch, h]);
        Some((outputs, LstmState { hidden, cell }))
    }

    #[cfg(feature = "flex")]
    fn fused_pair(
        forwards: &Self,
        backwards: &Self,
        input: &Tensor<3>,
        lengths: &[usize],
        states: [&LstmState; 2],
    ) -> Option<(Tensor<3>, [LstmState; 2])> {
        use crate::fused_lstm::{Run, lstm_bidirectional};
        if !crate::sequence::fused_allowed()
            || !kindling_core::flex_tensors::runs_on_flex(&input.device())
        {
            return None;
        }
        let [batch, len, d] = input.dims();
        let h = forwards.d_hidden();
        // Both directions' input projections as one product.
        let weight = Tensor::cat(
            vec![forwards.input_weight.val(), backwards.input_weight.val()],
            1,
        );
        let bias = Tensor::cat(
            vec![
                forwards.input_bias.val() + forwards.hidden_bias.val(),
                backwards.input_bias.val() + backwards.hidden_bias.val(),
            ],
            0,
        );
        let projected = input
            .clone()
            .swap_dims(0, 1)
            .reshape([len * batch, d])
            .matmul(weight)
            + bias.unsqueeze();
        let run = Run {
            lengths: lengths.to_vec(),
            len,
            hidden: h,
        };
        let out = lstm_bidirectional(
            projected,
            [
                forwards.recurrent_weight.val(),
                backwards.recurrent_weight.val(),
            ],
            [states[0].hidden.clone(), states[1].hidden.clone()],
            [states[0].cell.clone(), states[1].cell.clone()],
            run,
        );
        // [2, len + 2, batch, h] → outputs [batch, len, 2h] and the four final states.
        let outputs = out
            .clone()
            .narrow(1, 0, len)
            .permute([2, 1, 0, 3])
            .reshape([batch, len, 2 * h]);
        let last = |direction: usize, row: usize| {
            out.clone()
                .narrow(0, direction, 1)
                .narrow(1, len + row, 1)
                .reshape([batch, h])
        };
        let finals = [
            LstmState {
                hidden: last(0, 0),
                cell: last(0, 1),
            },
            LstmState {
                hidden: last(1, 0),
                cell: last(1, 1),
            },
        ];
        Some((outputs, finals))
    }
}
