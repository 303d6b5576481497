//! Gradient clipping over a whole module: by value, or by the global L2 norm.
//!
//! burn's own `GradientClipping::Norm` clips each parameter tensor by its own norm. The usual
//! meaning (PyTorch's `clip_grad_norm_`, Pascanu et al. 2013) is the norm of *all* gradients
//! together, so that clipping rescales the update without changing its direction; that is what
//! [`GradientClip::GlobalNorm`] does.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// How to clip gradients before the optimizer step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GradientClip {
    /// Clamp every gradient element to `[-threshold, threshold]`.
    Value {
        /// The bound.
        threshold: f64,
    },
    /// Rescale all gradients together so that their global L2 norm is at most `max_norm`.
    GlobalNorm {
        /// The largest allowed norm.
        max_norm: f64,
    },
}

impl GradientClip {
    /// Clips the gradients of `module`'s parameters in `grads`.
    ///
    /// Returns the global L2 norm of the gradients before clipping when clipping by norm
    /// (reading it needs one device synchronisation), and `None` when clipping by value.
    pub fn apply<M: Module>(&self, module: &M, grads: &mut GradientsParams) -> Option<f64> {
        match *self {
            Self::Value { threshold } => {
                module.visit(&mut Rescale {
                    grads,
                    op: |g: Tensor<1>| g.clamp(-threshold, threshold),
                });
                None
            }
            Self::GlobalNorm { max_norm } => {
                let norm = global_norm(module, grads);
                if norm > max_norm {
                    let factor = max_norm / (norm + 1e-6);
                    module.visit(&mut Rescale {
                        grads,
                        op: |g: Tensor<1>| g.mul_scalar(factor),
                    });
                }
                Some(norm)
            }
        }
    }
}

/// The L2 norm of all of `module`'s gradients in `grads` taken together.
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut sum = SquaredSum { grads, total: None };
    module.visit(&mut sum);
    match sum.total {
        Some(total) => f64::from(total.into_scalar::<f32>()).sqrt(),
        None => 0.0,
    }
}

/// Elements per partial sum in [`squared_sum`]: below burn-flex's threshold (4 Mi elements) for
/// summing on several threads.
const SUM_PIECE: usize = 1 << 20;

/// `Σ x²` over all of `grad`, `[1]`, added up in a fixed order. burn-flex sums a tensor of 4 Mi
/// elements or more on rayon's threads, and the order in which their partial sums meet depends
/// on scheduling; a language model's embedding gradient is that large, so the clipping factor
/// (and with it the whole run) changed in the last bits when the machine was busy. Pieces of
/// [`SUM_PIECE`] are each summed on one thread and added in order.
fn squared_sum<const D: usize>(grad: Tensor<D>) -> Tensor<1> {
    let n = grad.shape().num_elements();
    let squares = grad.square().reshape([n]);
    if n <= SUM_PIECE {
        return squares.sum();
    }
    (0..n)
        .step_by(SUM_PIECE)
        .map(|start| {
            squares
                .clone()
                .narrow(0, start, SUM_PIECE.min(n - start))
                .sum()
        })
        .reduce(|total, piece| total + piece)
        .expect("at least one piece")
}

struct SquaredSum<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredSum<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = squared_sum(grad);
            self.total = Some(match self.total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

/// Applies the same elementwise operation to every gradient (`op` is rank-generic through the
/// [`GradOp`] trait, since closures cannot be generic over a const).
struct Rescale<'a, F> {
    grads: &'a mut GradientsParams,
    op: F,
}

/// An operation on a gradient of any rank.
trait GradOp {
    fn apply<const D: usize>(&self, grad: Tensor<D>) -> Tensor<D>;
}

impl<F: Fn(Tensor<1>) -> Tensor<1>> GradOp for F {
    fn apply<const D: usize>(&self, grad: Tensor<D>) -> Tensor<D> {
        // Elementwise ops commute with reshaping: flatten, apply, restore.
        let shape = grad.shape();
        let flat = grad.reshape([shape.num_elements() as i32]);
        self(flat).reshape(shape)
    }
}

impl<F: GradOp> ModuleVisitor for Rescale<'_, F> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register::<D>(param.id, self.op.apply(grad));
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::module::ParamId;
    use burn::tensor::Device;

    #[derive(Module, Debug)]
    struct Two {
        a: Param<Tensor<1>>,
        b: Param<Tensor<2>>,
    }

    fn setup() -> (Two, GradientsParams) {
        let device = Device::flex().autodiff();
        let model = Two {
            a: Param::initialized(
                ParamId::new(),
                Tensor::from_floats([1.0, 1.0], &device).require_grad(),
            ),
            b: Param::initialized(
                ParamId::new(),
                Tensor::from_floats([[1.0, 1.0]], &device).require_grad(),
            ),
        };
        // d/da = [3, 0]; d/db = [[0, 4]] → global norm 5.
        let loss = (model.a.val() * Tensor::from_floats([3.0, 0.0], &device)).sum()
            + (model.b.val() * Tensor::from_floats([[0.0, 4.0]], &device)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (model, grads)
    }

    fn values<const D: usize>(grads: &GradientsParams, p: &Param<Tensor<D>>) -> Vec<f32> {
        grads
            .get::<D>(p.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn global_norm_rescales_all_gradients_together() {
        let (model, mut grads) = setup();
        let norm = GradientClip::GlobalNorm { max_norm: 1.0 }.apply(&model, &mut grads);
        assert!((norm.unwrap() - 5.0).abs() < 1e-5);
        let a = values(&grads, &model.a);
        let b = values(&grads, &model.b);
        assert!((a[0] - 0.6).abs() < 1e-5 && a[1].abs() < 1e-6, "{a:?}");
        assert!((b[1] - 0.8).abs() < 1e-5, "{b:?}");
        assert!((global_norm(&model, &grads) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn small_gradients_are_left_alone() {
        let (model, mut grads) = setup();
        GradientClip::GlobalNorm { max_norm: 10.0 }.apply(&model, &mut grads);
        assert_eq!(values(&grads, &model.a), vec![3.0, 0.0]);
    }

    #[test]
    fn value_clipping_clamps_elements() {
        let (model, mut grads) = setup();
        GradientClip::Value { threshold: 2.0 }.apply(&model, &mut grads);
        assert_eq!(values(&grads, &model.a), vec![2.0, 0.0]);
        assert_eq!(values(&grads, &model.b), vec![0.0, 2.0]);
    }

    #[test]
    fn a_large_squared_sum_adds_every_piece_once() {
        let device = Device::flex();
        // 5 Mi + 3 elements: above burn-flex's parallel-sum threshold, with a ragged last piece
        // that holds the largest values (a dropped or doubled piece shows).
        let n = 5 * SUM_PIECE + 3;
        let values: Vec<f32> = (0..n)
            .map(|i| {
                if i >= 5 * SUM_PIECE {
                    100.0
                } else {
                    ((i % 1000) as f32 - 500.0) * 1e-3
                }
            })
            .collect();
        let expected: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let grad = Tensor::<2>::from_data(burn::tensor::TensorData::new(values, [n, 1]), &device);
        let sum = f64::from(squared_sum(grad).into_scalar::<f32>());
        assert!(
            (sum - expected).abs() / expected < 1e-5,
            "{sum} vs {expected}"
        );
    }
}
