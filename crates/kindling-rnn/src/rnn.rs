//! The whole-sequence Elman RNN layer: stacked, optionally bidirectional, masked by lengths.

use kindling_core::burn::tensor::Tensor;

use crate::Result;
use crate::rnn_cell::{RnnCell, RnnCellConfig};
use crate::sequence::{run_stack, sequence_layer, split_state};

sequence_layer! {
    /// Settings of an [`Rnn`]: the cell's, the number of layers, direction and dropout.
    config RnnConfig,
    /// A stacked, optionally bidirectional Elman RNN over batch-first sequences; see
    /// [`crate::sequence`] for how it runs.
    layer Rnn,
    cell RnnCellConfig => RnnCell,
}

impl Rnn {
    /// Runs the layer over `input`; `lengths` (one per sequence, `None`: all full) marks the
    /// real steps, and `state` is the initial hidden state (`None`: zeros).
    ///
    /// Returns the last layer's outputs (zero at padded steps, both directions side by side)
    /// and the final state of every layer and direction, PyTorch's `h_n`.
    ///
    /// # Shapes
    /// `input`: `[batch, len, d_input]`; `state`: `[layers · directions, batch, d_hidden]` →
    /// `[batch, len, directions · d_hidden]` and `[layers · directions, batch, d_hidden]`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] when a shape or a length does not fit.
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&[usize]>,
        state: Option<Tensor<3>>,
    ) -> Result<(Tensor<3>, Tensor<3>)> {
        let [batch, _] = self.check(&input, lengths)?;
        let (cells, d_hidden) = (self.cells.len(), self.d_hidden());
        let initial = match state {
            Some(state) => split_state(state, "state", cells, batch, d_hidden)?,
            None => {
                vec![Tensor::zeros([batch, d_hidden], &input.device()); cells]
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
        Ok((output, Tensor::stack(finals, 0)))
    }
}
