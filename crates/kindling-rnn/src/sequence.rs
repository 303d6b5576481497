//! The machinery every whole-sequence layer shares: validation of inputs and lengths, the
//! fused input projection, the time loop with masking, the per-sequence reversal of the
//! backward direction, stacking and dropout between layers.
//!
//! # Speed
//!
//! For each layer and direction the input projection of all time steps is one matrix product
//! `[batch · len, d_input] × [d_input, gates · d_hidden]`; the loop over time then does one
//! `[batch, d_hidden] × [d_hidden, gates · d_hidden]` product per step (two for the
//! reset-before GRU, whose candidate needs the reset gate first).
//!
//! # Masking
//!
//! With `lengths`, the step `t` of sequence `b` is real when `t < lengths[b]`. At a padded step
//! the state is carried over unchanged, `h = m ⊙ h_new + (1 − m) ⊙ h_old`, and the output is
//! zero, so each sequence's final state is the one after its own last real step without any
//! sorting. The backward direction reverses each sequence within its own length (a gather
//! with per-sequence reversed indices), runs forwards, and reverses the outputs back, so it
//! starts at each sequence's own last real step.

use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::dropout::Dropout;

use crate::{Error, Result};

/// The recurrent weights of one cell, read once per sequence rather than once per step.
pub(crate) struct StepWeights {
    /// `[d_hidden, gates · d_hidden]`, or the first two gates' columns for the reset-before GRU.
    pub recurrent: Tensor<2>,
    /// The candidate's columns of the reset-before GRU, `[d_hidden, d_hidden]`.
    pub candidate: Option<Tensor<2>>,
    /// A bias added to the recurrent product each step, `[1, gates · d_hidden]`.
    pub bias: Option<Tensor<2>>,
}

/// A cell that a sequence layer can run: a projection of the inputs done once for all steps,
/// then one update per step.
pub(crate) trait Recurrence {
    /// What the cell carries from step to step.
    type State: Clone;

    /// The input size.
    fn d_input(&self) -> usize;

    /// The hidden size.
    fn d_hidden(&self) -> usize;

    /// The input projection with the biases that can be folded into it.
    ///
    /// # Shapes
    /// `[n, d_input]` → `[n, gates · d_hidden]`.
    fn project(&self, input: Tensor<2>) -> Tensor<2>;

    /// The recurrent weights, prepared for [`Recurrence::step`].
    fn weights(&self) -> StepWeights;

    /// One step from a projected input.
    ///
    /// # Shapes
    /// `projected`: `[batch, gates · d_hidden]`; states: `[batch, d_hidden]` each.
    fn step(&self, weights: &StepWeights, projected: Tensor<2>, state: &Self::State)
    -> Self::State;

    /// The state's output part (the hidden state).
    fn hidden(state: &Self::State) -> Tensor<2>;

    /// `mask ⊙ new + (1 − mask) ⊙ old`, with `mask`: `[batch, 1]` of zeros and ones.
    fn blend(new: Self::State, old: &Self::State, mask: &Tensor<2>) -> Self::State;

    /// The whole direction as one fused operation, where the backend has one (`reverse`: each
    /// sequence read from its last real step); `None` runs the composed steps.
    ///
    /// # Shapes
    /// `input`: `[batch, len, d_input]` → outputs `[batch, len, d_hidden]` in reading
    /// position order, and the final state.
    fn fused(
        &self,
        _input: &Tensor<3>,
        _lengths: &[usize],
        _reverse: bool,
        _state: &Self::State,
    ) -> Option<(Tensor<3>, Self::State)> {
        None
    }

    /// Both directions of a bidirectional layer as one fused operation, where the backend has
    /// one; `None` runs them one after the other.
    ///
    /// # Shapes
    /// `input`: `[batch, len, d_input]` → outputs `[batch, len, 2 · d_hidden]` (forwards,
    /// then backwards) and the two final states.
    fn fused_pair(
        _forwards: &Self,
        _backwards: &Self,
        _input: &Tensor<3>,
        _lengths: &[usize],
        _states: [&Self::State; 2],
    ) -> Option<(Tensor<3>, [Self::State; 2])> {
        None
    }
}

thread_local! {
    static COMPOSED_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the fused operations switched off on this thread, so that tests can hold
/// them to the composed form.
#[cfg(test)]
pub(crate) fn composed_only<T>(f: impl FnOnce() -> T) -> T {
    COMPOSED_ONLY.with(|flag| flag.set(true));
    let out = f();
    COMPOSED_ONLY.with(|flag| flag.set(false));
    out
}

/// Whether the fused operations may run on this thread.
pub(crate) fn fused_allowed() -> bool {
    !COMPOSED_ONLY.with(std::cell::Cell::get)
}

/// `mask ⊙ new + (1 − mask) ⊙ old` for one tensor.
pub(crate) fn blend(new: Tensor<2>, old: &Tensor<2>, mask: &Tensor<2>) -> Tensor<2> {
    old.clone() + (new - old.clone()) * mask.clone()
}

/// Checks a cell's per-step arguments.
pub(crate) fn check_step(
    input: &Tensor<2>,
    states: &[&Tensor<2>],
    d_input: usize,
    d_hidden: usize,
) -> Result<()> {
    let [batch, d] = input.dims();
    if d != d_input {
        return Err(Error::input(
            "input",
            format!("must be [batch, {d_input}], got [{batch}, {d}]"),
        ));
    }
    for state in states {
        let dims = state.dims();
        if dims != [batch, d_hidden] {
            return Err(Error::input(
                "state",
                format!("must be [{batch}, {d_hidden}], got {dims:?}"),
            ));
        }
    }
    Ok(())
}

/// Checks the input and lengths of a sequence layer; returns `[batch, len]`.
pub(crate) fn check_sequence(
    input: &Tensor<3>,
    lengths: Option<&[usize]>,
    d_input: usize,
) -> Result<[usize; 2]> {
    let [batch, len, d] = input.dims();
    if d != d_input || batch == 0 || len == 0 {
        return Err(Error::input(
            "input",
            format!("must be [batch ≥ 1, len ≥ 1, {d_input}], got [{batch}, {len}, {d}]"),
        ));
    }
    if let Some(lengths) = lengths {
        if lengths.len() != batch {
            return Err(Error::input(
                "lengths",
                format!(
                    "needs one length per sequence ({batch}), got {}",
                    lengths.len()
                ),
            ));
        }
        if let Some(&n) = lengths.iter().find(|&&n| n > len) {
            return Err(Error::input(
                "lengths",
                format!("a length of {n} is longer than the padded length {len}"),
            ));
        }
    }
    Ok([batch, len])
}

/// Splits a `[layers · directions, batch, d_hidden]` state into one `[batch, d_hidden]` per
/// cell, checking its shape.
pub(crate) fn split_state(
    state: Tensor<3>,
    what: &'static str,
    cells: usize,
    batch: usize,
    d_hidden: usize,
) -> Result<Vec<Tensor<2>>> {
    let dims = state.dims();
    if dims != [cells, batch, d_hidden] {
        return Err(Error::input(
            what,
            format!(
                "must be [{cells}, {batch}, {d_hidden}] (layers · directions, batch, d_hidden), got {dims:?}"
            ),
        ));
    }
    Ok(state
        .chunk(cells, 0)
        .into_iter()
        .map(|s| s.reshape([batch, d_hidden]))
        .collect())
}

/// Per-sequence reversal within each length, as gather indices `[batch, len, 1]`; applying it
/// twice is the identity.
fn reversal(lengths: &[usize], len: usize, device: &Device) -> Tensor<3, Int> {
    let batch = lengths.len();
    let mut indices = Vec::with_capacity(batch * len);
    for &n in lengths {
        indices.extend((0..len).map(|t| if t < n { (n - 1 - t) as i64 } else { t as i64 }));
    }
    Tensor::from_data(TensorData::new(indices, [batch, len, 1]), device)
}

/// Reverses each sequence of `x` within its length.
fn reverse(x: Tensor<3>, indices: &Tensor<3, Int>) -> Tensor<3> {
    let dims = x.dims();
    x.gather(1, indices.clone().expand(dims))
}

/// One `[batch, 1]` mask per step (1 at real steps), or `None` when no step is padding.
fn step_masks(lengths: &[usize], len: usize, device: &Device) -> Option<Vec<Tensor<2>>> {
    if lengths.iter().all(|&n| n == len) {
        return None;
    }
    let batch = lengths.len();
    let values: Vec<f32> = (0..len)
        .flat_map(|t| lengths.iter().map(move |&n| if t < n { 1.0 } else { 0.0 }))
        .collect();
    let masks = Tensor::<3>::from_data(TensorData::new(values, [len, batch, 1]), device);
    Some(
        masks
            .chunk(len, 0)
            .into_iter()
            .map(|m| m.reshape([batch, 1]))
            .collect(),
    )
}

/// Runs one direction of one layer over a batch-first input in reading order.
///
/// # Shapes
/// `input`: `[batch, len, d_input]` → outputs `[batch, len, d_hidden]`.
fn run_direction<C: Recurrence>(
    cell: &C,
    input: Tensor<3>,
    masks: Option<&[Tensor<2>]>,
    mut state: C::State,
) -> (Tensor<3>, C::State) {
    let [batch, len, d] = input.dims();
    let projected = cell.project(input.swap_dims(0, 1).reshape([len * batch, d]));
    let width = projected.dims()[1];
    let projected = projected.reshape([len, batch, width]).chunk(len, 0);
    let weights = cell.weights();
    let mut outputs = Vec::with_capacity(len);
    for (t, step_input) in projected.into_iter().enumerate() {
        let new = cell.step(&weights, step_input.reshape([batch, width]), &state);
        match masks {
            Some(masks) => {
                state = C::blend(new, &state, &masks[t]);
                outputs.push(C::hidden(&state) * masks[t].clone());
            }
            None => {
                state = new;
                outputs.push(C::hidden(&state));
            }
        }
    }
    (Tensor::stack(outputs, 1), state)
}

/// Runs a stack of cells (layer-major: layer 0 forward, layer 0 backward, layer 1 forward, …).
///
/// # Shapes
/// `input`: `[batch, len, d_input]`; `initial`: one state per cell →
/// `[batch, len, directions · d_hidden]` and one final state per cell.
pub(crate) fn run_stack<C: Recurrence>(
    cells: &[C],
    directions: usize,
    dropout: &Dropout,
    input: Tensor<3>,
    lengths: Option<&[usize]>,
    initial: Vec<C::State>,
) -> (Tensor<3>, Vec<C::State>) {
    let device = input.device();
    let [batch, len, _] = input.dims();
    let full = vec![len; batch];
    let lengths = lengths.unwrap_or(&full);
    // The composed path's masks and reversal indices, built only if some layer needs them.
    let composed = std::cell::OnceCell::new();
    let composed = || {
        composed.get_or_init(|| {
            (
                step_masks(lengths, len, &device),
                (directions == 2).then(|| reversal(lengths, len, &device)),
            )
        })
    };
    let layers = cells.len() / directions;
    let mut finals = Vec::with_capacity(cells.len());
    let mut initial = initial.into_iter();
    let mut x = input;
    for layer in 0..layers {
        if layer > 0 {
            x = dropout.forward(x);
        }
        let states: Vec<C::State> = (0..directions)
            .map(|_| initial.next().expect("one initial state per cell"))
            .collect();
        let layer_cells = &cells[layer * directions..(layer + 1) * directions];
        if let [forwards, backwards] = layer_cells
            && let Some((out, [last_f, last_b])) =
                C::fused_pair(forwards, backwards, &x, lengths, [&states[0], &states[1]])
        {
            x = out;
            finals.push(last_f);
            finals.push(last_b);
            continue;
        }
        let mut outputs = Vec::with_capacity(directions);
        for (direction, (cell, state)) in layer_cells.iter().zip(states).enumerate() {
            if let Some(fused) = cell.fused(&x, lengths, direction == 1, &state) {
                outputs.push(fused.0);
                finals.push(fused.1);
                continue;
            }
            let (masks, indices) = composed();
            let (out, last) = match indices {
                Some(indices) if direction == 1 => {
                    let (out, last) =
                        run_direction(cell, reverse(x.clone(), indices), masks.as_deref(), state);
                    (reverse(out, indices), last)
                }
                _ => run_direction(cell, x.clone(), masks.as_deref(), state),
            };
            outputs.push(out);
            finals.push(last);
        }
        x = if outputs.len() == 1 {
            outputs.pop().expect("one direction")
        } else {
            Tensor::cat(outputs, 2)
        };
    }
    (x, finals)
}

/// The config and module of a stacked, optionally bidirectional sequence layer over one cell
/// type; each layer file adds its `forward`.
macro_rules! sequence_layer {
    (
        $(#[$config_doc:meta])* config $config:ident,
        $(#[$layer_doc:meta])* layer $layer:ident,
        cell $cell_config:ident => $cell:ident $(,)?
    ) => {
        $(#[$config_doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $config {
            /// The cell of the first layer (`d_input` is the layer's input size); later layers
            /// take `directions · d_hidden` inputs and are otherwise the same.
            pub cell: $cell_config,
            /// Stacked layers (at least 1).
            pub n_layers: usize,
            /// Whether each layer also reads the sequences backwards.
            pub bidirectional: bool,
            /// Dropout on the outputs of every layer but the last, in `[0, 1)`.
            pub dropout: f64,
        }

        impl $config {
            /// One unidirectional layer from `d_input` to `d_hidden`, no dropout.
            pub fn new(d_input: usize, d_hidden: usize) -> Self {
                Self {
                    cell: $cell_config::new(d_input, d_hidden),
                    n_layers: 1,
                    bidirectional: false,
                    dropout: 0.0,
                }
            }

            /// Sets the cell's settings (the `cell` field).
            pub fn with_cell(mut self, cell: $cell_config) -> Self {
                self.cell = cell;
                self
            }

            /// Sets the number of stacked layers (the `n_layers` field).
            pub fn with_n_layers(mut self, n_layers: usize) -> Self {
                self.n_layers = n_layers;
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

            /// Checks every value that its type does not.
            ///
            /// # Errors
            /// [`crate::Error::InvalidConfig`] naming the first bad field.
            pub fn validate(&self) -> $crate::Result<()> {
                self.cell.validate()?;
                $crate::error::check_positive("n_layers", self.n_layers)?;
                $crate::error::check_dropout("dropout", self.dropout)
            }

            /// A layer with freshly drawn weights.
            ///
            /// # Errors
            /// When the config is invalid or an initialiser cannot fill its weight.
            pub fn init(
                &self,
                device: &kindling_core::burn::tensor::Device,
            ) -> $crate::Result<$layer> {
                self.validate()?;
                let directions = if self.bidirectional { 2 } else { 1 };
                let mut cells = Vec::with_capacity(self.n_layers * directions);
                for layer in 0..self.n_layers {
                    let mut cell = self.cell.clone();
                    if layer > 0 {
                        cell.d_input = directions * self.cell.d_hidden;
                    }
                    for _ in 0..directions {
                        cells.push(cell.init(device)?);
                    }
                }
                Ok($layer {
                    cells,
                    dropout: kindling_core::dropout::DropoutConfig::new(self.dropout).init(),
                    directions,
                })
            }
        }

        $(#[$layer_doc])*
        #[derive(kindling_core::burn::module::Module, Debug)]
        pub struct $layer {
            /// The cells, layer-major: layer 0 forwards, layer 0 backwards (when
            /// bidirectional), layer 1 forwards, … — PyTorch's order of its `_l{k}` and
            /// `_l{k}_reverse` weights.
            pub cells: Vec<$cell>,
            /// Dropout between layers.
            pub dropout: kindling_core::dropout::Dropout,
            /// 1, or 2 when bidirectional.
            pub directions: usize,
        }

        impl $layer {
            /// The number of stacked layers.
            pub fn n_layers(&self) -> usize {
                self.cells.len() / self.directions
            }

            /// The hidden size of every cell.
            pub fn d_hidden(&self) -> usize {
                $crate::sequence::Recurrence::d_hidden(&self.cells[0])
            }

            /// The input size of the first layer.
            pub fn d_input(&self) -> usize {
                $crate::sequence::Recurrence::d_input(&self.cells[0])
            }

            /// Checks the input and lengths; returns `[batch, len]`.
            fn check(
                &self,
                input: &kindling_core::burn::tensor::Tensor<3>,
                lengths: Option<&[usize]>,
            ) -> $crate::Result<[usize; 2]> {
                $crate::sequence::check_sequence(input, lengths, self.d_input())
            }
        }
    };
}

pub(crate) use sequence_layer;
