//! Activations for model code that run faster on burn-flex than burn's own.
//!
//! burn-flex computes `tanh` by calling libm's `tanhf` one element at a time, which took 44 %
//! of a Bahdanau-attention training step (the attention energies and the GRU candidates are
//! `tanh` of every unit at every step). [`tanh`] runs [`crate::fast_math::tanh`] over the
//! values in vectorised loops instead, with its own backward pass (`dy · (1 − y²)` from the
//! saved output); every other backend gets burn's `tanh`.

use burn::tensor::Tensor;

/// `tanh` elementwise (absolute error about 2 × 10⁻⁷ on burn-flex).
///
/// # Shapes
/// Any shape → the same shape.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if crate::flex_tensors::runs_on_flex(&x.device()) {
        return flex::tanh(x);
    }
    burn::tensor::activation::tanh(x)
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
    use burn::tensor::{Tensor, TensorData};
    use rayon::prelude::*;

    use crate::fast_math;
    use crate::flex_tensors::floats;

    /// Elements per parallel chunk: below this a tensor is done on one thread.
    const CHUNK: usize = 1 << 15;

    pub(super) fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
        Tensor::from_dispatch(<Dispatch as FastTanhBackend>::fast_tanh(x.into_dispatch()))
    }

    /// The fast `tanh` as a backend operation.
    #[backend_extension(Flex, Autodiff)]
    pub(crate) trait FastTanhBackend: Backend {
        /// `tanh` of every element.
        fn fast_tanh(tensor: FloatTensor<Self>) -> FloatTensor<Self>;
    }

    impl FastTanhBackend for Flex {
        fn fast_tanh(tensor: FlexTensor) -> FlexTensor {
            forward(&tensor)
        }
    }

    impl<C: CheckpointStrategy> FastTanhBackend for Autodiff<Flex, C> {
        fn fast_tanh(tensor: FloatTensor<Self>) -> FloatTensor<Self> {
            let prepared = TanhBackward
                .prepare::<C>([tensor.node()])
                .compute_bound()
                .stateful();
            let output = forward(tensor.primitive());
            match prepared {
                OpsKind::Tracked(prep) => prep.finish(output.clone(), output),
                OpsKind::UnTracked(prep) => prep.finish(output),
            }
        }
    }

    /// Fills `out` by `f(chunk, offset of the chunk)`, in parallel chunks when it is large.
    fn map_into(out: &mut [f32], f: impl Fn(&mut [f32], usize) + Sync) {
        if out.len() < 2 * CHUNK {
            f(out, 0);
        } else {
            out.par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(i, chunk)| f(chunk, i * CHUNK));
        }
    }

    fn forward(tensor: &FlexTensor) -> FlexTensor {
        let x = floats(tensor);
        let mut y = vec![0.0f32; x.len()];
        map_into(&mut y, |out, start| {
            for (y, &x) in out.iter_mut().zip(&x[start..]) {
                *y = fast_math::tanh(x);
            }
        });
        FlexTensor::from_data(TensorData::new(y, tensor.shape()))
    }

    /// `dx = dy · (1 − y²)`, from the saved output `y`.
    #[derive(Debug)]
    struct TanhBackward;

    impl Backward<Flex, 1> for TanhBackward {
        type State = FlexTensor;

        fn backward(
            self,
            ops: Ops<Self::State, 1>,
            grads: &mut Gradients,
            _checkpointer: &mut Checkpointer,
        ) {
            let [node] = ops.parents;
            let grad = grads.consume::<Flex>(&ops.node);
            let Some(node) = node else {
                return;
            };
            let (y, dy) = (floats(&ops.state), floats(&grad));
            let mut dx = vec![0.0f32; y.len()];
            map_into(&mut dx, |out, start| {
                for ((dx, &y), &dy) in out.iter_mut().zip(&y[start..]).zip(&dy[start..]) {
                    *dx = dy * (1.0 - y * y);
                }
            });
            let shape = ops.state.shape();
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dx, shape)));
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, Tensor, TensorData};

    use crate::BackendKind;

    #[test]
    fn tanh_and_its_gradient_match_burns() {
        let device = BackendKind::Flex.train_device().unwrap();
        for shape in [[3, 5], [300, 400]] {
            let x = crate::seed::with_device_rng(&device, 1, || {
                Tensor::<2>::random(shape, Distribution::Normal(0.0, 3.0), &device)
            });
            let weights = crate::seed::with_device_rng(&device, 2, || {
                Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), &device)
            });
            let ours = x.clone().require_grad();
            let theirs = x.require_grad();
            let y_ours = super::tanh(ours.clone());
            let y_theirs = burn::tensor::activation::tanh(theirs.clone());
            // Within the fast kernel's error (a few 10⁻⁷), times |dy| for the gradients.
            let close = |a: TensorData, b: TensorData, tolerance: f32| {
                let a = a.try_to_vec::<f32>().unwrap();
                let b = b.try_to_vec::<f32>().unwrap();
                let worst = a
                    .iter()
                    .zip(&b)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(worst < tolerance, "{shape:?}: worst difference {worst}");
            };
            close(
                y_ours.clone().into_data(),
                y_theirs.clone().into_data(),
                1e-6,
            );
            let g_ours = (y_ours * weights.clone()).sum().backward();
            let g_theirs = (y_theirs * weights).sum().backward();
            close(
                ours.grad(&g_ours).unwrap().into_data(),
                theirs.grad(&g_theirs).unwrap().into_data(),
                5e-6,
            );
        }
    }
}
