//! Adadelta (Zeiler 2012, <https://arxiv.org/abs/1212.5701>) as a burn [`Optimizer`].
//!
//! burn ships no Adadelta; Kim (2014) trains his CNN with it (ρ = 0.95, ε = 1e-6). The update
//! follows `torch.optim.Adadelta` exactly, so results are comparable with PyTorch runs:
//!
//! ```text
//! g  ← g + λ·θ                          (weight decay, when λ > 0)
//! v  ← ρ·v + (1 − ρ)·g²                 (running mean of squared gradients)
//! Δ  ← √(u + ε) / √(v + ε) · g          (unit-corrected step)
//! u  ← ρ·u + (1 − ρ)·Δ²                 (running mean of squared steps)
//! θ  ← θ − lr·Δ
//! ```
//!
//! With `sparse_rows`, a parameter of rank ≥ 2 whose gradient is zero in most rows (an
//! embedding table: only the words of the batch have a gradient) is updated row by row: only
//! the rows with a gradient are read and written. A row without gradient would only have both
//! running means decayed by ρ; that decay is deferred and applied as ρᵏ when the row next has a
//! gradient (k = steps missed), so the result equals the dense update up to rounding. It needs
//! `weight_decay = 0` (decay makes every row's gradient non-zero) and reads which rows are
//! non-zero back to the host, so it pays on the CPU for large tables.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`Adadelta`], with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdadeltaConfig {
    /// Decay of the running averages (PyTorch `rho`, Kim uses 0.95).
    pub rho: f64,
    /// Added inside the square roots (PyTorch `eps`).
    pub epsilon: f64,
    /// L2 penalty added to the gradient (PyTorch `weight_decay`).
    pub weight_decay: f64,
    /// Updates only the rows with a gradient (see the [module documentation](self)); ignored
    /// with weight decay.
    pub sparse_rows: bool,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        Self {
            rho: 0.9,
            epsilon: 1e-6,
            weight_decay: 0.0,
            sparse_rows: false,
        }
    }
}

impl AdadeltaConfig {
    /// The bare per-tensor optimizer.
    pub fn build(&self) -> Adadelta {
        Adadelta { config: *self }
    }

    /// An optimizer for a whole module.
    pub fn init(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(self.build())
    }
}

/// The Adadelta optimizer; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Adadelta {
    config: AdadeltaConfig,
}

/// Per-parameter state of [`Adadelta`].
#[derive(Clone)]
pub struct AdadeltaState<const D: usize> {
    /// Running mean of squared gradients (PyTorch `square_avg`).
    pub square_avg: Tensor<D>,
    /// Running mean of squared updates (PyTorch `acc_delta`).
    pub acc_delta: Tensor<D>,
    /// With sparse rows: the number of steps taken, and for each row the step through which
    /// its running means are up to date.
    pub rows: Option<RowClock>,
}

/// The deferred-decay bookkeeping of a sparse-rows parameter.
#[derive(Clone)]
pub struct RowClock {
    /// Steps taken, shape `[1]`.
    pub steps: Tensor<1>,
    /// Per row, the step count at its last update, shape `[rows]`.
    pub current: Tensor<1>,
}

const SQUARE_AVG: &str = "square_avg";
const ACC_DELTA: &str = "acc_delta";
const STEPS: &str = "steps";
const ROW_STEPS: &str = "row_steps";

impl<const D: usize> RecordState for AdadeltaState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_tensor(prefix, SQUARE_AVG, self.square_avg.clone().into_data());
        out.push_tensor(prefix, ACC_DELTA, self.acc_delta.clone().into_data());
        if let Some(rows) = &self.rows {
            out.push_tensor(prefix, STEPS, rows.steps.clone().into_data());
            out.push_tensor(prefix, ROW_STEPS, rows.current.clone().into_data());
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let square_avg = src.take_tensor(prefix, SQUARE_AVG)?;
        let acc_delta = src.take_tensor(prefix, ACC_DELTA)?;
        if square_avg.rank() != D || acc_delta.rank() != D {
            return None;
        }
        let rows = match (
            src.take_tensor(prefix, STEPS),
            src.take_tensor(prefix, ROW_STEPS),
        ) {
            (Some(steps), Some(current)) => Some(RowClock {
                steps: Tensor::from_data(steps, device),
                current: Tensor::from_data(current, device),
            }),
            _ => None,
        };
        Some(Self {
            square_avg: Tensor::from_data(square_avg, device),
            acc_delta: Tensor::from_data(acc_delta, device),
            rows,
        })
    }
}

impl Optimizer for Adadelta {
    type State<const D: usize> = AdadeltaState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        mut grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let AdadeltaConfig {
            rho,
            epsilon,
            weight_decay,
            sparse_rows,
        } = self.config;
        if sparse_rows && weight_decay == 0.0 && D >= 2 {
            return self.sparse_step(lr, tensor, grad, state);
        }
        if weight_decay != 0.0 {
            grad = grad + tensor.clone().mul_scalar(weight_decay);
        }
        let (square_avg, acc_delta) = match state {
            Some(state) => (state.square_avg, state.acc_delta),
            None => (grad.zeros_like(), grad.zeros_like()),
        };
        let square_avg = square_avg.mul_scalar(rho) + grad.clone().square().mul_scalar(1.0 - rho);
        let std = square_avg.clone().add_scalar(epsilon).sqrt();
        let delta = acc_delta
            .clone()
            .add_scalar(epsilon)
            .sqrt()
            .div(std)
            .mul(grad);
        let acc_delta = acc_delta.mul_scalar(rho) + delta.clone().square().mul_scalar(1.0 - rho);
        let updated = tensor - delta.mul_scalar(lr);
        (
            updated,
            Some(AdadeltaState {
                square_avg,
                acc_delta,
                rows: None,
            }),
        )
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdadeltaState {
            square_avg: state.square_avg.to_device(device),
            acc_delta: state.acc_delta.to_device(device),
            rows: state.rows.map(|rows| RowClock {
                steps: rows.steps.to_device(device),
                current: rows.current.to_device(device),
            }),
        }
    }
}

/// The rows of `grad` with a non-zero entry. On burn-flex the gradient's memory is scanned in
/// place; elsewhere two row reductions (largest and smallest entry) come back instead of the
/// whole matrix.
fn touched_rows(grad: &Tensor<2>) -> Vec<i64> {
    #[cfg(feature = "flex")]
    if let Ok(flex) = grad.clone().try_into_primitive::<burn::backend::Flex>()
        && let Some(values) = flex.as_slice::<f32>()
    {
        let [rows, cols] = grad.dims();
        // OR of the bits without the sign: zero exactly when every entry is ±0, and a loop
        // without an early exit, which vectorises.
        let nonzero = |row: &[f32]| row.iter().fold(0u32, |bits, v| bits | (v.to_bits() << 1)) != 0;
        return (0..rows)
            .filter(|&r| nonzero(&values[r * cols..(r + 1) * cols]))
            .map(|r| r as i64)
            .collect();
    }
    let floats = |t: Tensor<2>| -> Vec<f32> {
        t.into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("float gradients")
    };
    let largest = floats(grad.clone().max_dim(1));
    let smallest = floats(grad.clone().min_dim(1));
    largest
        .iter()
        .zip(&smallest)
        .enumerate()
        .filter(|&(_, (&hi, &lo))| hi != 0.0 || lo != 0.0)
        .map(|(r, _)| r as i64)
        .collect()
}

impl Adadelta {
    /// The update of the rows with a gradient only, with the decay of the others deferred.
    fn sparse_step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdadeltaState<D>>,
    ) -> (Tensor<D>, Option<AdadeltaState<D>>) {
        let AdadeltaConfig { rho, epsilon, .. } = self.config;
        let dims = tensor.dims();
        let (rows, cols) = (dims[0], dims[1..].iter().product::<usize>());
        let device = tensor.device();
        let grad: Tensor<2> = grad.reshape([rows, cols]);
        let (square_avg, acc_delta, clock) = match state {
            Some(AdadeltaState {
                square_avg,
                acc_delta,
                rows: Some(clock),
            }) => (
                square_avg.reshape([rows, cols]),
                acc_delta.reshape([rows, cols]),
                clock,
            ),
            // A dense state is up to date in every row.
            other => {
                let (square_avg, acc_delta) = match other {
                    Some(state) => (
                        state.square_avg.reshape([rows, cols]),
                        state.acc_delta.reshape([rows, cols]),
                    ),
                    None => (grad.zeros_like(), grad.zeros_like()),
                };
                let clock = RowClock {
                    steps: Tensor::zeros([1], &device),
                    current: Tensor::zeros([rows], &device),
                };
                (square_avg, acc_delta, clock)
            }
        };
        let steps: f32 = clock.steps.clone().into_scalar();
        let touched = touched_rows(&grad);
        let next = RowClock {
            steps: clock.steps.add_scalar(1.0),
            current: clock.current,
        };
        if touched.is_empty() {
            let state = AdadeltaState {
                square_avg: square_avg.reshape(dims),
                acc_delta: acc_delta.reshape(dims),
                rows: Some(next),
            };
            return (tensor, Some(state));
        }
        let n = touched.len();
        let index = Tensor::<1, burn::tensor::Int>::from_data(
            burn::tensor::TensorData::new(touched, [n]),
            &device,
        );
        // ρ^(steps missed): the decay these rows skipped since their last update.
        let missed = next
            .current
            .clone()
            .select(0, index.clone())
            .neg()
            .add_scalar(steps);
        let catch_up = missed.mul_scalar(rho.ln()).exp().reshape([n, 1]);
        let g = grad.select(0, index.clone());
        let v = square_avg.clone().select(0, index.clone()) * catch_up.clone();
        let u = acc_delta.clone().select(0, index.clone()) * catch_up;
        let v = v.mul_scalar(rho) + g.clone().square().mul_scalar(1.0 - rho);
        let delta = u
            .clone()
            .add_scalar(epsilon)
            .sqrt()
            .div(v.clone().add_scalar(epsilon).sqrt())
            .mul(g);
        let u = u.mul_scalar(rho) + delta.clone().square().mul_scalar(1.0 - rho);
        let assign = burn::tensor::IndexingUpdateOp::Assign;
        let add = burn::tensor::IndexingUpdateOp::Add;
        let updated: Tensor<2> = tensor.reshape([rows, cols]).select_assign(
            0,
            index.clone(),
            delta.mul_scalar(-lr),
            add,
        );
        let state = AdadeltaState {
            square_avg: square_avg
                .select_assign(0, index.clone(), v, assign)
                .reshape(dims),
            acc_delta: acc_delta
                .select_assign(0, index.clone(), u, assign)
                .reshape(dims),
            rows: Some(RowClock {
                current: next.current.select_assign(
                    0,
                    index,
                    Tensor::full([n], steps + 1.0, &device),
                    assign,
                ),
                steps: next.steps,
            }),
        };
        (updated.reshape(dims), Some(state))
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    //! Reference values from PyTorch 2.x, produced by this script:
    //!
    //! ```python
    //! import torch
    //! p = torch.tensor([0.5, -1.0, 2.0, 0.0], requires_grad=True)
    //! opt = torch.optim.Adadelta([p], lr=1.0, rho=0.95, eps=1e-6, weight_decay=0.01)
    //! for step in range(3):
    //!     opt.zero_grad()
    //!     loss = (p ** 2 * torch.tensor([1.0, 2.0, 0.5, 3.0])).sum() + p.sum()
    //!     loss.backward()
    //!     opt.step()
    //!     print(step, p.detach().numpy().tolist())
    //! ```
    use super::*;
    use burn::module::{Module, Param, ParamId};
    use burn::optim::GradientsParams;

    #[derive(Module, Debug)]
    struct Weights {
        p: Param<Tensor<1>>,
    }

    pub(crate) const EXPECTED: [[f32; 4]; 3] = include!("adadelta_expected.in");

    #[test]
    fn matches_torch_optim_adadelta() {
        let device = Device::flex().autodiff();
        let mut model = Weights {
            p: Param::initialized(
                ParamId::new(),
                Tensor::from_floats([0.5, -1.0, 2.0, 0.0], &device).require_grad(),
            ),
        };
        let mut optim = AdadeltaConfig {
            rho: 0.95,
            epsilon: 1e-6,
            weight_decay: 0.01,
            sparse_rows: false,
        }
        .init();
        let scale = Tensor::<1>::from_floats([1.0, 2.0, 0.5, 3.0], &device);
        for expected in EXPECTED {
            let p = model.p.val();
            let loss = (p.clone().square() * scale.clone()).sum() + p.sum();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1.0, model, grads);
            let got = model.p.val().into_data().try_to_vec::<f32>().unwrap();
            for (g, e) in got.iter().zip(expected) {
                assert!(
                    (g - e).abs() <= 1e-6 * e.abs().max(1.0),
                    "{got:?} vs {expected:?}"
                );
            }
        }
    }

    #[derive(Module, Debug)]
    struct Table {
        rows: Param<Tensor<2>>,
    }

    #[test]
    fn sparse_rows_match_the_dense_update() {
        let device = Device::flex().autodiff();
        let start: Vec<f32> = (0..6 * 3).map(|i| (i as f32 * 0.37).sin()).collect();
        let table = || Table {
            rows: Param::initialized(
                ParamId::new(),
                Tensor::<2>::from_data(
                    burn::tensor::TensorData::new(start.clone(), [6, 3]),
                    &device,
                )
                .require_grad(),
            ),
        };
        let config = |sparse_rows| AdadeltaConfig {
            rho: 0.9,
            epsilon: 1e-6,
            weight_decay: 0.0,
            sparse_rows,
        };
        let (mut dense, mut sparse) = (table(), table());
        let (mut dense_optim, mut sparse_optim) = (config(false).init(), config(true).init());
        // Each step uses a few rows (like an embedding lookup), some rows skip several steps.
        let used: [&[i64]; 6] = [&[0, 2], &[2], &[1, 5], &[], &[0, 2, 5], &[3, 0]];
        for rows in used {
            let step = |model: Table, optim: &mut ModuleOptimizer| {
                let index = Tensor::<1, burn::tensor::Int>::from_data(
                    burn::tensor::TensorData::new(rows.to_vec(), [rows.len()]),
                    &device,
                );
                let picked = model.rows.val().select(0, index);
                let loss = (picked.clone().square() + picked).sum();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                optim.step(1.0, model, grads)
            };
            dense = step(dense, &mut dense_optim);
            sparse = step(sparse, &mut sparse_optim);
            let d = dense.rows.val().into_data().try_to_vec::<f32>().unwrap();
            let s = sparse.rows.val().into_data().try_to_vec::<f32>().unwrap();
            for (a, b) in d.iter().zip(&s) {
                assert!((a - b).abs() <= 1e-6, "dense {d:?} vs sparse {s:?}");
            }
        }
    }
}
