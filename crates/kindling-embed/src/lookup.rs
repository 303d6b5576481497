//! Embedding lookup whose backward pass writes only the rows a batch used.
//!
//! burn's embedding gradient on burn-flex builds its zeroed `[vocab, dim]` matrix through a
//! byte buffer that is allocated, then copied into an aligned one: for Kim's 16k × 300 table
//! that is two 19 MB buffers per step, most of a CNN-rand step's memory traffic. This
//! operation allocates the gradient once and adds each token's row into it. Other backends use
//! burn's [`Embedding`](kindling_core::burn::nn::Embedding) lookup unchanged.

use burn::tensor::{Int, Tensor};

/// The rows of `weight` named by `tokens`.
///
/// # Shapes
/// `weight`: `[vocab, dim]`, `tokens`: `[batch, len]` → `[batch, len, dim]`.
pub fn lookup(weight: Tensor<2>, tokens: Tensor<2, Int>) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if kindling_core::flex_tensors::runs_on_flex(&weight.device()) {
        return flex::lookup(weight, tokens);
    }
    kindling_core::burn::tensor::module::embedding(weight, tokens)
}

#[cfg(feature = "flex")]
mod flex {
    //! The burn-flex extension.

    use kindling_core::burn::backend::autodiff::checkpoint::base::Checkpointer;
    use kindling_core::burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use kindling_core::burn::backend::autodiff::grads::Gradients;
    use kindling_core::burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use kindling_core::burn::backend::flex::FlexTensor;
    use kindling_core::burn::backend::ops::ModuleOps;
    use kindling_core::burn::backend::tensor::{FloatTensor, IntTensor};
    use kindling_core::burn::backend::{
        Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension,
    };
    use kindling_core::burn::tensor::{Int, Tensor};

    use kindling_core::flex_tensors::{floats, indices, tensor};

    /// [`super::lookup`] through the extension.
    pub(super) fn lookup(weight: Tensor<2>, tokens: Tensor<2, Int>) -> Tensor<3> {
        Tensor::from_dispatch(<Dispatch as LookupBackend>::lookup(
            weight.into_dispatch(),
            tokens.into_dispatch(),
        ))
    }

    /// The embedding lookup as a backend operation.
    #[backend_extension(Flex, Autodiff)]
    pub trait LookupBackend: Backend {
        /// See [`super::lookup`].
        fn lookup(weight: FloatTensor<Self>, tokens: IntTensor<Self>) -> FloatTensor<Self>;
    }

    impl LookupBackend for Flex {
        fn lookup(weight: FlexTensor, tokens: FlexTensor) -> FlexTensor {
            Flex::embedding(weight, tokens)
        }
    }

    impl<C: CheckpointStrategy> LookupBackend for Autodiff<Flex, C> {
        fn lookup(weight: FloatTensor<Self>, tokens: FlexTensor) -> FloatTensor<Self> {
            match LookupBackward
                .prepare::<C>([weight.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let rows = weight.primitive().shape().dims::<2>()[0];
                    let output = Flex::embedding(weight.primitive().clone(), tokens.clone());
                    prep.finish((tokens, rows), output)
                }
                OpsKind::UnTracked(prep) => {
                    prep.finish(Flex::embedding(weight.into_primitive(), tokens))
                }
            }
        }
    }

    #[derive(Debug)]
    struct LookupBackward;

    impl Backward<Flex, 1> for LookupBackward {
        /// The tokens and the table's row count.
        type State = (FlexTensor, usize);

        fn backward(
            self,
            ops: Ops<Self::State, 1>,
            grads: &mut Gradients,
            _checkpointer: &mut Checkpointer,
        ) {
            let [Some(node)] = ops.parents else {
                return;
            };
            let grad = grads.consume::<Flex>(&ops.node);
            let (tokens, rows) = ops.state;
            let dim = grad.shape().dims::<3>()[2];
            let grad = floats(&grad);
            let mut table = vec![0.0f32; rows * dim];
            for (position, token) in indices(&tokens).into_iter().enumerate() {
                let into = &mut table[token * dim..(token + 1) * dim];
                for (t, &g) in into
                    .iter_mut()
                    .zip(&grad[position * dim..(position + 1) * dim])
                {
                    *t += g;
                }
            }
            grads.register::<Flex>(node.id, tensor(table, [rows, dim]));
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::burn::tensor::{Distribution, TensorData};

    #[test]
    fn gradient_matches_burns_embedding() {
        let device = BackendKind::Flex.device().unwrap().autodiff();
        let table = kindling_core::seed::with_device_rng(&device, 1, || {
            Tensor::<2>::random([6, 3], Distribution::Uniform(-1.0, 1.0), &device)
        });
        let tokens = Tensor::<2, Int>::from_data(
            TensorData::new(vec![1i64, 4, 1, 0, 5, 1], [2, 3]),
            &device,
        );
        let weights = kindling_core::seed::with_device_rng(&device, 2, || {
            Tensor::<3>::random([2, 3, 3], Distribution::Uniform(-1.0, 1.0), &device)
        });
        let run = |ours: bool| {
            let table = table.clone().detach().require_grad();
            let out = if ours {
                lookup(table.clone(), tokens.clone())
            } else {
                kindling_core::burn::tensor::module::embedding(table.clone(), tokens.clone())
            };
            let grads = (out.clone() * weights.clone()).sum().backward();
            let values = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
            (
                out.into_data().try_to_vec::<f32>().unwrap(),
                values(table.grad(&grads).unwrap()),
            )
        };
        let (ours, burns) = (run(true), run(false));
        assert_eq!(ours.0, burns.0);
        for (a, b) in ours.1.iter().zip(&burns.1) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
