//! The whole-sequence LSTM layer: stacked, optionally bidirectional, masked by lengths.

use kindling_core::burn::tensor::Tensor;

use crate::Result;
use crate::lstm_cell::{LstmCell, LstmCellConfig, LstmState};
use crate::sequence::{run_stack, sequence_layer, split_state};

sequence_layer! {
    /// Settings of an [`Lstm`]: the cell's, the number of layers, direction and dropout.
    config LstmConfig,
    /// A stacked, optionally bidirectional LSTM over batch-first sequences; see
    /// [`crate::sequence`] for how it runs.
    layer Lstm,
    cell LstmCellConfig => LstmCell,
}

/// The hidden and cell states of every layer and direction of an [`Lstm`] (PyTorch's
/// `(h_n, c_n)`).
#[derive(Debug, Clone)]
pub struct LstmStates {
    /// `h`: `[layers · directions, batch, d_hidden]`.
    pub hidden: Tensor<3>,
    /// `c`: `[layers · directions, batch, d_hidden]`.
    pub cell: Tensor<3>,
}

impl Lstm {
    /// Runs the layer over `input`; `lengths` (one per sequence, `None`: all full) marks the
    /// real steps, and `state` is the initial state (`None`: zeros).
    ///
    /// Returns the last layer's outputs (zero at padded steps, both directions side by side)
    /// and the final states of every layer and direction.
    ///
    /// # Shapes
    /// `input`: `[batch, len, d_input]`; `state`: `[layers · directions, batch, d_hidden]`
    /// each → `[batch, len, directions · d_hidden]` and `[layers · directions, batch,
    /// d_hidden]` each.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] when a shape or a length does not fit.
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&[usize]>,
        state: Option<LstmStates>,
    ) -> Result<(Tensor<3>, LstmStates)> {
        let [batch, _] = self.check(&input, lengths)?;
        let (cells, d_hidden) = (self.cells.len(), self.d_hidden());
        let initial = match state {
            Some(state) => {
                let hidden = split_state(state.hidden, "state.hidden", cells, batch, d_hidden)?;
                let cell = split_state(state.cell, "state.cell", cells, batch, d_hidden)?;
                hidden
                    .into_iter()
                    .zip(cell)
                    .map(|(hidden, cell)| LstmState { hidden, cell })
                    .collect()
            }
            None => {
                let zeros = Tensor::zeros([batch, d_hidden], &input.device());
                let zero = LstmState {
                    hidden: zeros.clone(),
                    cell: zeros,
                };
                vec![zero; cells]
            }
        };
        let (output, finals) = run_stack(
            &self.cells,
            self.directions,
            &self.dropout,
            input,
            lengths,
            initial,
        );
        let (hidden, cell): (Vec<_>, Vec<_>) =
            finals.into_iter().map(|s| (s.hidden, s.cell)).unzip();
        Ok((
            output,
            LstmStates {
                hidden: Tensor::stack(hidden, 0),
                cell: Tensor::stack(cell, 0),
            },
        ))
    }
}
