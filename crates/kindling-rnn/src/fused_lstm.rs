//! A whole LSTM direction as one operation on burn-flex: the time loop, the gates, masking and
//! the per-sequence reversal of the backward direction run in plain loops over `f32` slices,
//! with one matrix product per step forwards and backwards, and the recurrent weight's
//! gradient as a single product over all steps at the end.
//!
//! Composed from burn tensor operations, a step of an LSTM is about twenty small operations,
//! each recorded for autodiff and each visited again backwards; at the sizes of text models
//! (batch 20–50, hundreds of units) that bookkeeping, not arithmetic, is most of the time.
//! Other backends run the composed form ([`crate::sequence`]); tests hold the two to the same
//! values and gradients.
//!
//! # Layout
//!
//! `projected` is the input projection of every step, time-major: row `t · batch + b` holds
//! step `t` of sequence `b`, `[len · batch, 4 · hidden]`, gates `i, f, g, o`. The result is one
//! `[len + 2, batch, hidden]` tensor: the outputs by position (zero at padded steps), then the
//! final hidden state, then the final cell state. Kernel step `s` of sequence `b` reads
//! position `s` (forwards) or `lengths[b] − 1 − s` (backwards), and only while
//! `s < lengths[b]`; afterwards the sequence's state is carried unchanged.
//!
//! A bidirectional layer runs both directions as one operation, one per core: `projected` then
//! holds both directions' projections side by side (`[len · batch, 8 · hidden]`, from one
//! matrix product) and the result is `[2, len + 2, batch, hidden]`, forwards first.

use kindling_core::burn::backend::autodiff::NodeId;
use kindling_core::burn::backend::autodiff::checkpoint::base::Checkpointer;
use kindling_core::burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use kindling_core::burn::backend::autodiff::grads::Gradients;
use kindling_core::burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use kindling_core::burn::backend::flex::FlexTensor;
use kindling_core::burn::backend::ops::FloatTensorOps;
use kindling_core::burn::backend::tensor::FloatTensor;
use kindling_core::burn::backend::{
    Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension,
};
use kindling_core::burn::tensor::Tensor;
use kindling_core::fast_math::{sigmoid, tanh};
use kindling_core::flex_tensors::{floats, tensor};
use std::sync::Arc;

/// The shape of one run.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Real steps of each sequence.
    pub lengths: Vec<usize>,
    /// Padded length.
    pub len: usize,
    /// Hidden size.
    pub hidden: usize,
}

impl Run {
    fn batch(&self) -> usize {
        self.lengths.len()
    }

    /// The position kernel step `s` of sequence `b` reads, if it is a real step.
    fn position(&self, s: usize, b: usize, reverse: bool) -> Option<usize> {
        let n = self.lengths[b];
        (s < n).then(|| if reverse { n - 1 - s } else { s })
    }

    /// Floats of one direction's `[len + 2, batch, hidden]` result.
    fn result_size(&self) -> usize {
        (self.len + 2) * self.batch() * self.hidden
    }
}

/// Runs one LSTM direction (`reverse`: each sequence from its last real step); see the module
/// documentation for the layout.
///
/// # Shapes
/// `projected`: `[len · batch, 4 · hidden]`, `recurrent`: `[hidden, 4 · hidden]`, `hidden`
/// and `cell`: `[batch, hidden]` → `[len + 2, batch, hidden]`.
pub(crate) fn lstm_direction(
    projected: Tensor<2>,
    recurrent: Tensor<2>,
    hidden: Tensor<2>,
    cell: Tensor<2>,
    run: Run,
    reverse: bool,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedLstmBackend>::lstm_direction(
        projected.into_dispatch(),
        recurrent.into_dispatch(),
        hidden.into_dispatch(),
        cell.into_dispatch(),
        run,
        reverse,
    ))
}

/// Runs both directions of a bidirectional LSTM layer, one per core.
///
/// # Shapes
/// `projected`: `[len · batch, 8 · hidden]` (forwards' gates, then backwards'); `recurrent`:
/// `[hidden, 4 · hidden]` each; states `[batch, hidden]` each (forwards, backwards) →
/// `[2, len + 2, batch, hidden]`.
pub(crate) fn lstm_bidirectional(
    projected: Tensor<2>,
    recurrent: [Tensor<2>; 2],
    hidden: [Tensor<2>; 2],
    cell: [Tensor<2>; 2],
    run: Run,
) -> Tensor<4> {
    let [u_f, u_b] = recurrent;
    let [h_f, h_b] = hidden;
    let [c_f, c_b] = cell;
    Tensor::from_dispatch(<Dispatch as FusedLstmBackend>::lstm_bidirectional(
        projected.into_dispatch(),
        u_f.into_dispatch(),
        u_b.into_dispatch(),
        h_f.into_dispatch(),
        c_f.into_dispatch(),
        h_b.into_dispatch(),
        c_b.into_dispatch(),
        run,
    ))
}

/// The LSTM directions as backend operations.
#[backend_extension(Flex, Autodiff)]
pub(crate) trait FusedLstmBackend: Backend {
    /// See [`lstm_direction`].
    fn lstm_direction(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
        run: Run,
        reverse: bool,
    ) -> FloatTensor<Self>;

    /// See [`lstm_bidirectional`] (weights and states forwards, then backwards).
    #[allow(clippy::too_many_arguments)]
    fn lstm_bidirectional(
        projected: FloatTensor<Self>,
        recurrent_f: FloatTensor<Self>,
        recurrent_b: FloatTensor<Self>,
        hidden_f: FloatTensor<Self>,
        cell_f: FloatTensor<Self>,
        hidden_b: FloatTensor<Self>,
        cell_b: FloatTensor<Self>,
        run: Run,
    ) -> FloatTensor<Self>;
}

impl FusedLstmBackend for Flex {
    fn lstm_direction(
        projected: FlexTensor,
        recurrent: FlexTensor,
        hidden: FlexTensor,
        cell: FlexTensor,
        run: Run,
        reverse: bool,
    ) -> FlexTensor {
        let input = Input::new(&projected, 4 * run.hidden, 0);
        let (result, _) = forward(input, &recurrent, &hidden, &cell, &run, reverse);
        tensor(result, [run.len + 2, run.batch(), run.hidden])
    }

    fn lstm_bidirectional(
        projected: FlexTensor,
        recurrent_f: FlexTensor,
        recurrent_b: FlexTensor,
        hidden_f: FlexTensor,
        cell_f: FlexTensor,
        hidden_b: FlexTensor,
        cell_b: FlexTensor,
        run: Run,
    ) -> FlexTensor {
        bidirectional_forward(
            &projected,
            &[recurrent_f, recurrent_b],
            &[hidden_f, hidden_b],
            &[cell_f, cell_b],
            &run,
        )
        .0
    }
}

impl<C: CheckpointStrategy> FusedLstmBackend for Autodiff<Flex, C> {
    fn lstm_direction(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
        run: Run,
        reverse: bool,
    ) -> FloatTensor<Self> {
        let prepared = DirectionBackward
            .prepare::<C>([
                projected.node(),
                recurrent.node(),
                hidden.node(),
                cell.node(),
            ])
            .compute_bound()
            .stateful();
        let input = Input::new(projected.primitive(), 4 * run.hidden, 0);
        let (result, saved) = forward(
            input,
            recurrent.primitive(),
            hidden.primitive(),
            cell.primitive(),
            &run,
            reverse,
        );
        let result = tensor(result, [run.len + 2, run.batch(), run.hidden]);
        match prepared {
            OpsKind::Tracked(prep) => {
                let state = DirectionState {
                    recurrent: recurrent.primitive().clone(),
                    saved: Arc::new(saved),
                    run,
                    reverse,
                };
                prep.finish(state, result)
            }
            OpsKind::UnTracked(prep) => prep.finish(result),
        }
    }

    fn lstm_bidirectional(
        projected: FloatTensor<Self>,
        recurrent_f: FloatTensor<Self>,
        recurrent_b: FloatTensor<Self>,
        hidden_f: FloatTensor<Self>,
        cell_f: FloatTensor<Self>,
        hidden_b: FloatTensor<Self>,
        cell_b: FloatTensor<Self>,
        run: Run,
    ) -> FloatTensor<Self> {
        let prepared = BidirectionalBackward
            .prepare::<C>([
                projected.node(),
                recurrent_f.node(),
                recurrent_b.node(),
                hidden_f.node(),
                cell_f.node(),
                hidden_b.node(),
                cell_b.node(),
            ])
            .compute_bound()
            .stateful();
        let recurrent = [
            recurrent_f.primitive().clone(),
            recurrent_b.primitive().clone(),
        ];
        let (result, saved) = bidirectional_forward(
            projected.primitive(),
            &recurrent,
            &[hidden_f.primitive().clone(), hidden_b.primitive().clone()],
            &[cell_f.primitive().clone(), cell_b.primitive().clone()],
            &run,
        );
        match prepared {
            OpsKind::Tracked(prep) => {
                let state = BidirectionalState {
                    recurrent,
                    saved: Arc::new(saved),
                    run,
                };
                prep.finish(state, result)
            }
            OpsKind::UnTracked(prep) => prep.finish(result),
        }
    }
}

/// One direction's view of the projected inputs: rows of `columns` floats, this direction's
/// gates starting at column `offset`.
#[derive(Clone, Copy)]
struct Input<'a> {
    values: &'a [f32],
    columns: usize,
    offset: usize,
}

impl<'a> Input<'a> {
    fn new(tensor: &'a FlexTensor, columns: usize, offset: usize) -> Self {
        let values = tensor
            .as_slice::<f32>()
            .expect("the projection is a fresh, contiguous f32 tensor");
        Self {
            values,
            columns,
            offset,
        }
    }

    /// The `4 · hidden` gate pre-activations of row `row`.
    fn gates(&self, row: usize, width: usize) -> &'a [f32] {
        &self.values[row * self.columns + self.offset..][..width]
    }
}

/// What the forward pass keeps for the backward pass, by kernel step (`[len, batch, ·]`).
#[derive(Debug)]
struct Saved {
    /// The gates after their nonlinearities, `i, f, g, o`.
    gates: Vec<f32>,
    /// The cell state before the step.
    cell_before: Vec<f32>,
    /// `tanh` of the cell state after the step.
    tanh_cell: Vec<f32>,
    /// The hidden state before the step.
    hidden_before: Vec<f32>,
}

#[derive(Debug, Clone)]
struct DirectionState {
    recurrent: FlexTensor,
    saved: Arc<Saved>,
    run: Run,
    reverse: bool,
}

#[derive(Debug, Clone)]
struct BidirectionalState {
    recurrent: [FlexTensor; 2],
    saved: Arc<[Saved; 2]>,
    run: Run,
}

/// One sequence's step forwards: gates from the two pre-activation parts, the new cell and
/// hidden states in place, and what the backward pass keeps.
///
/// `pre` and `rec`: `4h`; `cell`, `hidden`, `cell_before`, `tanh_cell`, `out`: `h`; `gates`:
/// `4h` (written).
#[macerator::with_simd]
#[allow(clippy::extra_unused_type_parameters, clippy::too_many_arguments)]
fn step_forward<S: macerator::Simd>(
    pre: &[f32],
    rec: &[f32],
    cell: &mut [f32],
    hidden: &mut [f32],
    gates: &mut [f32],
    cell_before: &mut [f32],
    tanh_cell: &mut [f32],
    out: &mut [f32],
) {
    let h = cell.len();
    let (gi, rest) = gates.split_at_mut(h);
    let (gf, rest) = rest.split_at_mut(h);
    let (gg, go) = rest.split_at_mut(h);
    for j in 0..h {
        let i = sigmoid(pre[j] + rec[j]);
        let f = sigmoid(pre[h + j] + rec[h + j]);
        let g = tanh(pre[2 * h + j] + rec[2 * h + j]);
        let o = sigmoid(pre[3 * h + j] + rec[3 * h + j]);
        let before = cell[j];
        let after = f * before + i * g;
        let tanh_after = tanh(after);
        let value = o * tanh_after;
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        cell_before[j] = before;
        tanh_cell[j] = tanh_after;
        cell[j] = after;
        hidden[j] = value;
        out[j] = value;
    }
}

/// One sequence's step backwards: the gradients of the gates' pre-activations from those of
/// the outputs, and the cell state's gradient carried to the step before, in place.
///
/// `gates`, `d_gates` (written): `4h`; the rest `h`.
#[macerator::with_simd]
#[allow(clippy::extra_unused_type_parameters)]
fn step_backward<S: macerator::Simd>(
    gates: &[f32],
    cell_before: &[f32],
    tanh_cell: &[f32],
    d_hidden: &[f32],
    d_out: &[f32],
    d_cell: &mut [f32],
    d_gates: &mut [f32],
) {
    let h = d_cell.len();
    let (di, rest) = d_gates.split_at_mut(h);
    let (df, rest) = rest.split_at_mut(h);
    let (dg, d_o) = rest.split_at_mut(h);
    for j in 0..h {
        let (i, f, g, o) = (gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]);
        let tanh_after = tanh_cell[j];
        let d_h = d_hidden[j] + d_out[j];
        let d_c = d_cell[j] + d_h * o * (1.0 - tanh_after * tanh_after);
        di[j] = d_c * g * i * (1.0 - i);
        df[j] = d_c * cell_before[j] * f * (1.0 - f);
        dg[j] = d_c * i * (1.0 - g * g);
        d_o[j] = d_h * tanh_after * o * (1.0 - o);
        d_cell[j] = d_c * f;
    }
}

/// `a · b` for row-major `a`: `[rows, inner]` and `b`: `[inner, cols]`.
fn matmul(a: Vec<f32>, rows: usize, b: &FlexTensor) -> Vec<f32> {
    let inner = b.shape().dims::<2>()[0];
    let product = Flex::float_matmul(tensor(a, [rows, inner]), b.clone());
    floats(&product).into_owned()
}

/// One direction forwards: its `[len + 2, batch, hidden]` result and what backwards needs.
fn forward(
    projected: Input<'_>,
    recurrent: &FlexTensor,
    hidden: &FlexTensor,
    cell: &FlexTensor,
    run: &Run,
    reverse: bool,
) -> (Vec<f32>, Saved) {
    let (batch, len, h) = (run.batch(), run.len, run.hidden);
    let mut state_h = floats(hidden).into_owned();
    let mut state_c = floats(cell).into_owned();
    let mut saved = Saved {
        gates: vec![0.0; len * batch * 4 * h],
        cell_before: vec![0.0; len * batch * h],
        tanh_cell: vec![0.0; len * batch * h],
        hidden_before: vec![0.0; len * batch * h],
    };
    let mut output = vec![0.0f32; run.result_size()];
    for s in 0..len {
        let step = s * batch * h;
        saved.hidden_before[step..step + batch * h].copy_from_slice(&state_h);
        if (0..batch).all(|b| run.position(s, b, reverse).is_none()) {
            continue;
        }
        let recurrent_part = matmul(state_h.clone(), batch, recurrent);
        for b in 0..batch {
            let Some(position) = run.position(s, b, reverse) else {
                continue;
            };
            let row = b * h;
            step_forward(
                projected.gates(position * batch + b, 4 * h),
                &recurrent_part[b * 4 * h..][..4 * h],
                &mut state_c[row..row + h],
                &mut state_h[row..row + h],
                &mut saved.gates[(s * batch + b) * 4 * h..][..4 * h],
                &mut saved.cell_before[step + row..][..h],
                &mut saved.tanh_cell[step + row..][..h],
                &mut output[(position * batch + b) * h..][..h],
            );
        }
    }
    output[len * batch * h..(len + 1) * batch * h].copy_from_slice(&state_h);
    output[(len + 1) * batch * h..].copy_from_slice(&state_c);
    (output, saved)
}

/// Both directions forwards, one per core: `[2, len + 2, batch, hidden]`.
fn bidirectional_forward(
    projected: &FlexTensor,
    recurrent: &[FlexTensor; 2],
    hidden: &[FlexTensor; 2],
    cell: &[FlexTensor; 2],
    run: &Run,
) -> (FlexTensor, [Saved; 2]) {
    let h = run.hidden;
    let direction = |d: usize| {
        let input = Input::new(projected, 8 * h, d * 4 * h);
        forward(input, &recurrent[d], &hidden[d], &cell[d], run, d == 1)
    };
    let ((forwards, saved_f), (backwards, saved_b)) = rayon::join(|| direction(0), || direction(1));
    let mut result = forwards;
    result.extend_from_slice(&backwards);
    (
        tensor(result, [2, run.len + 2, run.batch(), h]),
        [saved_f, saved_b],
    )
}

/// One direction's gradients.
struct DirectionGrads {
    /// Of the gate pre-activations, by position: `[len · batch, 4 · hidden]`.
    projected: Vec<f32>,
    /// Of the recurrent weight, `[hidden, 4 · hidden]` (when asked for).
    recurrent: Option<FlexTensor>,
    /// Of the initial hidden state.
    hidden: Vec<f32>,
    /// Of the initial cell state.
    cell: Vec<f32>,
}

/// One direction backwards from the gradient of its `[len + 2, batch, hidden]` result.
fn backward(
    grad: &[f32],
    recurrent: &FlexTensor,
    saved: &Saved,
    run: &Run,
    reverse: bool,
    want_recurrent: bool,
) -> DirectionGrads {
    let (batch, len, h) = (run.batch(), run.len, run.hidden);
    let recurrent_t = Flex::float_transpose(recurrent.clone());
    let mut d_hidden = grad[len * batch * h..(len + 1) * batch * h].to_vec();
    let mut d_cell = grad[(len + 1) * batch * h..].to_vec();
    // Gate gradients (before the nonlinearities) by kernel step, and by position.
    let mut d_gates = vec![0.0f32; len * batch * 4 * h];
    let mut d_projected = vec![0.0f32; len * batch * 4 * h];
    for s in (0..len).rev() {
        let step = s * batch * h;
        let mut any = false;
        for b in 0..batch {
            let Some(position) = run.position(s, b, reverse) else {
                continue;
            };
            any = true;
            let row = b * h;
            let dg = &mut d_gates[(s * batch + b) * 4 * h..][..4 * h];
            step_backward(
                &saved.gates[(s * batch + b) * 4 * h..][..4 * h],
                &saved.cell_before[step + row..][..h],
                &saved.tanh_cell[step + row..][..h],
                &d_hidden[row..row + h],
                &grad[(position * batch + b) * h..][..h],
                &mut d_cell[row..row + h],
                dg,
            );
            d_projected[(position * batch + b) * 4 * h..][..4 * h].copy_from_slice(dg);
        }
        if !any {
            continue;
        }
        let d_before = matmul(
            d_gates[s * batch * 4 * h..(s + 1) * batch * 4 * h].to_vec(),
            batch,
            &recurrent_t,
        );
        for b in 0..batch {
            if run.position(s, b, reverse).is_some() {
                d_hidden[b * h..(b + 1) * h].copy_from_slice(&d_before[b * h..(b + 1) * h]);
            }
        }
    }
    // Σ over steps of hidden_beforeᵀ · d_gates, as one product.
    let recurrent = want_recurrent.then(|| {
        let before = Flex::float_transpose(tensor(saved.hidden_before.clone(), [len * batch, h]));
        Flex::float_matmul(before, tensor(d_gates, [len * batch, 4 * h]))
    });
    DirectionGrads {
        projected: d_projected,
        recurrent,
        hidden: d_hidden,
        cell: d_cell,
    }
}

impl DirectionGrads {
    /// Registers the gradients of the recurrent weight and the initial states with the nodes
    /// that asked for them; returns the projection's.
    fn register(
        self,
        grads: &mut Gradients,
        [recurrent, hidden, cell]: [Option<NodeId>; 3],
        run: &Run,
    ) -> Vec<f32> {
        let shape = [run.batch(), run.hidden];
        if let (Some(id), Some(d)) = (recurrent, self.recurrent) {
            grads.register::<Flex>(id, d);
        }
        if let Some(id) = hidden {
            grads.register::<Flex>(id, tensor(self.hidden, shape));
        }
        if let Some(id) = cell {
            grads.register::<Flex>(id, tensor(self.cell, shape));
        }
        self.projected
    }
}

#[derive(Debug)]
struct DirectionBackward;

impl Backward<Flex, 4> for DirectionBackward {
    type State = DirectionState;

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [projected_node, recurrent_node, hidden_node, cell_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let DirectionState {
            recurrent,
            saved,
            run,
            reverse,
        } = ops.state;
        let (batch, len, h) = (run.batch(), run.len, run.hidden);
        let g = backward(
            &floats(&grad),
            &recurrent,
            &saved,
            &run,
            reverse,
            recurrent_node.is_some(),
        );
        let nodes = [recurrent_node, hidden_node, cell_node].map(|node| node.map(|n| n.id));
        let d_projected = g.register(grads, nodes, &run);
        if let Some(node) = projected_node {
            grads.register::<Flex>(node.id, tensor(d_projected, [len * batch, 4 * h]));
        }
    }
}

#[derive(Debug)]
struct BidirectionalBackward;

impl Backward<Flex, 7> for BidirectionalBackward {
    type State = BidirectionalState;

    fn backward(
        self,
        ops: Ops<Self::State, 7>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [projected_node, u_f, u_b, h_f, c_f, h_b, c_b] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let BidirectionalState {
            recurrent,
            saved,
            run,
        } = ops.state;
        let (batch, len, h) = (run.batch(), run.len, run.hidden);
        let grad = floats(&grad);
        let size = run.result_size();
        let want = [u_f.is_some(), u_b.is_some()];
        let direction = |d: usize| {
            backward(
                &grad[d * size..(d + 1) * size],
                &recurrent[d],
                &saved[d],
                &run,
                d == 1,
                want[d],
            )
        };
        let (forwards, backwards) = rayon::join(|| direction(0), || direction(1));
        let d_forwards = forwards.register(grads, [u_f, h_f, c_f].map(|n| n.map(|n| n.id)), &run);
        let d_backwards = backwards.register(grads, [u_b, h_b, c_b].map(|n| n.map(|n| n.id)), &run);
        if let Some(node) = projected_node {
            // The two directions' gate gradients side by side, as the projection produced them.
            let mut d_projected = vec![0.0f32; len * batch * 8 * h];
            for (row, out) in d_projected.chunks_mut(8 * h).enumerate() {
                out[..4 * h].copy_from_slice(&d_forwards[row * 4 * h..][..4 * h]);
                out[4 * h..].copy_from_slice(&d_backwards[row * 4 * h..][..4 * h]);
            }
            grads.register::<Flex>(node.id, tensor(d_projected, [len * batch, 8 * h]));
        }
    }
}
