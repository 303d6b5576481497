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
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        Self {
            rho: 0.9,
            epsilon: 1e-6,
            weight_decay: 0.0,
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
}

const SQUARE_AVG: &str = "square_avg";
const ACC_DELTA: &str = "acc_delta";

impl<const D: usize> RecordState for AdadeltaState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_tensor(prefix, SQUARE_AVG, self.square_avg.clone().into_data());
        out.push_tensor(prefix, ACC_DELTA, self.acc_delta.clone().into_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let square_avg = src.take_tensor(prefix, SQUARE_AVG)?;
        let acc_delta = src.take_tensor(prefix, ACC_DELTA)?;
        if square_avg.rank() != D || acc_delta.rank() != D {
            return None;
        }
        Some(Self {
            square_avg: Tensor::from_data(square_avg, device),
            acc_delta: Tensor::from_data(acc_delta, device),
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
        } = self.config;
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
            }),
        )
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdadeltaState {
            square_avg: state.square_avg.to_device(device),
            acc_delta: state.acc_delta.to_device(device),
        }
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
}
