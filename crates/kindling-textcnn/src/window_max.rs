//! Max over time of a filter bank's responses: the convolution and pooling of Kim's CNN as
//! one differentiable operation.
//!
//! On the CPU backend (burn-flex) it runs as a backend extension with a hand-written backward
//! pass ([`crate::window_max_kernel`]): one matrix product over the sentences' words without
//! their padding, and a backward pass that touches only each feature map's winning window. On
//! every other backend it is composed from burn's tensor operations, with the same result.

use kindling_core::burn::tensor::{Device, Tensor, TensorData};

use crate::filter_bank::FilterBank;

/// The maximum over each sentence's windows of every filter's response, before bias and
/// activation (both commute with the maximum: the bias is constant over time and the
/// activations are non-decreasing). Windows run over the sentence with `bank`'s edge padding of
/// zero vectors on both sides and never reach into the batch's padding; a sentence shorter than
/// a filter keeps one window, whose missing words count as zero vectors.
///
/// # Shapes
/// `words`: `[batch, len, dim]`; `filters`: `[dim, taps · maps]` laid out as
/// [`FilterBank`] describes; `lengths`: one per sentence, each at most `len` →
/// `[batch, widths · maps]`, width-major.
///
/// # Panics
/// When `lengths` does not have one entry per sentence or one exceeds `len`, or the shapes do
/// not match `bank`.
pub fn window_max(
    words: Tensor<3>,
    filters: Tensor<2>,
    lengths: &[usize],
    bank: &FilterBank,
) -> Tensor<2> {
    let [batch, len, dim] = words.dims();
    assert_eq!(lengths.len(), batch, "one length per sentence");
    assert!(
        lengths.iter().all(|&n| n <= len),
        "a length exceeds the padded length {len}"
    );
    assert_eq!(
        filters.dims(),
        [dim, bank.columns()],
        "filter matrix shape for {dim}-d words"
    );
    #[cfg(feature = "flex")]
    if kindling_core::flex_tensors::runs_on_flex(&words.device()) {
        return flex::window_max(words, filters, lengths, bank);
    }
    composed_window_max(words, filters, lengths, bank)
}

/// [`window_max`] from burn's tensor operations, for any backend: the responses of
/// [`window_responses`] with the windows past each sentence's masked out.
pub(crate) fn composed_window_max(
    words: Tensor<3>,
    filters: Tensor<2>,
    lengths: &[usize],
    bank: &FilterBank,
) -> Tensor<2> {
    let device = words.device();
    let pooled = bank
        .blocks()
        .zip(window_responses(words, filters, lengths, bank))
        .map(|(block, responses)| {
            let windows = responses.dims()[1];
            let outside = window_outside(lengths, bank, block.width, windows, &device);
            responses
                .mask_fill(outside, f32::NEG_INFINITY)
                .max_dim(1)
                .squeeze_dim(1)
        })
        .collect();
    Tensor::cat(pooled, 1)
}

/// Every window's response for each width of `bank` (before bias and activation), from burn's
/// tensor operations: the batch's padding is zeroed and the edge padding added, every
/// position's taps come from one product, and each width's windows add up shifted slices.
/// Window `t` of a sentence is valid while `t < bank.windows(length, width)`; later ones hold
/// zero-padding responses.
///
/// # Shapes
/// `words`: `[batch, len, dim]`, `filters`: `[dim, taps · maps]` → one
/// `[batch, max(len + 2 · edge_padding, widest) − width + 1, maps]` per width.
pub fn window_responses(
    words: Tensor<3>,
    filters: Tensor<2>,
    lengths: &[usize],
    bank: &FilterBank,
) -> Vec<Tensor<3>> {
    let [batch, len, dim] = words.dims();
    let device = words.device();
    let maps = bank.maps();
    let pad = bank.edge_padding();
    // Sentence word `p` sits at `pad + p`; everything else is a zero vector.
    let padded = (len + 2 * pad).max(bank.widest());
    let inside: Vec<f32> = lengths
        .iter()
        .flat_map(|&n| (0..len).map(move |t| if t < n { 1.0 } else { 0.0 }))
        .collect();
    let inside = Tensor::<3>::from_data(TensorData::new(inside, [batch, len, 1]), &device);
    let mut parts = Vec::with_capacity(3);
    if pad > 0 {
        parts.push(Tensor::zeros([batch, pad, dim], &device));
    }
    parts.push(words * inside);
    if padded > pad + len {
        parts.push(Tensor::zeros([batch, padded - pad - len, dim], &device));
    }
    let projections = Tensor::cat(parts, 1)
        .reshape([batch * padded, dim])
        .matmul(filters)
        .reshape([batch, padded, bank.columns()]);
    bank.blocks()
        .map(|block| {
            let windows = padded + 1 - block.width;
            (0..block.width)
                .map(|j| {
                    let column = (block.first_tap + j) * maps;
                    projections
                        .clone()
                        .slice([0..batch, j..j + windows, column..column + maps])
                })
                .reduce(|sum, tap| sum + tap)
                .expect("a filter has at least one tap")
        })
        .collect()
}

/// Which windows of `width` lie past their sentence's windows (window 0 never does).
///
/// # Shapes
/// `lengths`: one per sentence → `[batch, windows, 1]`, broadcast over the maps.
fn window_outside(
    lengths: &[usize],
    bank: &FilterBank,
    width: usize,
    windows: usize,
    device: &Device,
) -> Tensor<3, kindling_core::burn::tensor::Bool> {
    let outside: Vec<bool> = lengths
        .iter()
        .flat_map(|&n| (0..windows).map(move |t| t >= bank.windows(n, width)))
        .collect();
    Tensor::from_data(
        TensorData::new(outside, [lengths.len(), windows, 1]),
        device,
    )
}

#[cfg(feature = "flex")]
mod flex {
    //! The burn-flex extension: forward and backward on the CPU kernels.

    use std::sync::Arc;

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

    use crate::filter_bank::FilterBank;
    use crate::window_max_kernel::{
        Batch, filter_gradient, max_over_windows, pack_words, transpose, word_gradient,
    };
    use kindling_core::flex_tensors::{floats, tensor};

    /// [`super::window_max`] through the extension.
    pub(super) fn window_max(
        words: Tensor<3>,
        filters: Tensor<2>,
        lengths: &[usize],
        bank: &FilterBank,
    ) -> Tensor<2> {
        Tensor::from_dispatch(<Dispatch as WindowMaxBackend>::window_max(
            words.into_dispatch(),
            filters.into_dispatch(),
            lengths.to_vec(),
            bank.clone(),
        ))
    }

    /// The pooled window convolution as a backend operation.
    #[backend_extension(Flex, Autodiff)]
    pub trait WindowMaxBackend: Backend {
        /// See [`super::window_max`].
        fn window_max(
            words: FloatTensor<Self>,
            filters: FloatTensor<Self>,
            lengths: Vec<usize>,
            bank: FilterBank,
        ) -> FloatTensor<Self>;
    }

    impl WindowMaxBackend for Flex {
        fn window_max(
            words: FlexTensor,
            filters: FlexTensor,
            lengths: Vec<usize>,
            bank: FilterBank,
        ) -> FlexTensor {
            forward(&words, &filters, &lengths, &bank).0
        }
    }

    impl<C: CheckpointStrategy> WindowMaxBackend for Autodiff<Flex, C> {
        fn window_max(
            words: FloatTensor<Self>,
            filters: FloatTensor<Self>,
            lengths: Vec<usize>,
            bank: FilterBank,
        ) -> FloatTensor<Self> {
            match WindowMaxBackward
                .prepare::<C>([words.node(), filters.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let (pooled, winners) =
                        forward(words.primitive(), filters.primitive(), &lengths, &bank);
                    let state = WindowMaxState {
                        words: words.primitive().clone(),
                        filters: filters.primitive().clone(),
                        lengths,
                        bank,
                        winners: Arc::new(winners),
                    };
                    prep.finish(state, pooled)
                }
                OpsKind::UnTracked(prep) => {
                    prep.finish(forward(words.primitive(), filters.primitive(), &lengths, &bank).0)
                }
            }
        }
    }

    /// What the backward pass needs from the forward pass.
    #[derive(Debug, Clone)]
    struct WindowMaxState {
        words: FlexTensor,
        filters: FlexTensor,
        lengths: Vec<usize>,
        bank: FilterBank,
        /// The winning window of every pooled feature.
        winners: Arc<Vec<u32>>,
    }

    #[derive(Debug)]
    struct WindowMaxBackward;

    impl Backward<Flex, 2> for WindowMaxBackward {
        type State = WindowMaxState;

        fn backward(
            self,
            ops: Ops<Self::State, 2>,
            grads: &mut Gradients,
            _checkpointer: &mut Checkpointer,
        ) {
            let [words_node, filters_node] = ops.parents;
            let grad = grads.consume::<Flex>(&ops.node);
            let state = ops.state;
            let [batch_size, len, dim] = state.words.shape().dims::<3>();
            let batch = Batch {
                lengths: &state.lengths,
                len,
                dim,
            };
            let grad = floats(&grad);
            let words = floats(&state.words);
            let (d_words, d_filters) = rayon::join(
                || {
                    words_node.as_ref().map(|_| {
                        let by_column =
                            transpose(&floats(&state.filters), dim, state.bank.columns());
                        word_gradient(&by_column, batch, &state.bank, &state.winners, &grad)
                    })
                },
                || {
                    filters_node
                        .as_ref()
                        .map(|_| filter_gradient(&words, batch, &state.bank, &state.winners, &grad))
                },
            );
            if let (Some(node), Some(d_words)) = (words_node, d_words) {
                grads.register::<Flex>(node.id, tensor(d_words, [batch_size, len, dim]));
            }
            if let (Some(node), Some(d_filters)) = (filters_node, d_filters) {
                grads.register::<Flex>(node.id, tensor(d_filters, [dim, state.bank.columns()]));
            }
        }
    }

    /// The pooled features and their winning windows.
    fn forward(
        words: &FlexTensor,
        filters: &FlexTensor,
        lengths: &[usize],
        bank: &FilterBank,
    ) -> (FlexTensor, Vec<u32>) {
        let [batch_size, len, dim] = words.shape().dims::<3>();
        let batch = Batch { lengths, len, dim };
        let packed = pack_words(&floats(words), batch);
        let rows = packed.len() / dim;
        let (pooled, winners) = if rows == 0 {
            max_over_windows(&[], batch, bank)
        } else {
            let projections = Flex::float_matmul(tensor(packed, [rows, dim]), filters.clone());
            max_over_windows(&floats(&projections), batch, bank)
        };
        (tensor(pooled, [batch_size, bank.features()]), winners)
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;

    fn sample(
        device: &Device,
        edge_padding: usize,
    ) -> (Tensor<3>, Tensor<2>, Vec<usize>, FilterBank) {
        let bank = FilterBank::new(vec![2, 3, 4], 3, edge_padding).unwrap();
        let lengths = vec![5, 1, 3, 2];
        let words = kindling_core::seed::with_device_rng(device, 1, || {
            Tensor::<3>::random(
                [lengths.len(), 5, 4],
                kindling_core::burn::tensor::Distribution::Uniform(-1.0, 1.0),
                device,
            )
        });
        let filters = kindling_core::seed::with_device_rng(device, 2, || {
            Tensor::<2>::random(
                [4, bank.columns()],
                kindling_core::burn::tensor::Distribution::Uniform(-1.0, 1.0),
                device,
            )
        });
        (words, filters, lengths, bank)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec().unwrap()
    }

    fn assert_close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < 1e-5, "{what}[{i}]: {x} vs {y}");
        }
    }

    #[test]
    fn extension_and_composed_paths_agree_forward_and_backward() {
        for edge_padding in [0, 1, 3] {
            paths_agree_with(edge_padding);
        }
    }

    fn paths_agree_with(edge_padding: usize) {
        let device = BackendKind::Flex.device().unwrap().autodiff();
        let (words, filters, lengths, bank) = sample(&device, edge_padding);
        let weights = kindling_core::seed::with_device_rng(&device, 3, || {
            Tensor::<2>::random(
                [lengths.len(), bank.features()],
                kindling_core::burn::tensor::Distribution::Uniform(-1.0, 1.0),
                &device,
            )
        });
        let run = |composed: bool| {
            let words = words.clone().detach().require_grad();
            let filters = filters.clone().detach().require_grad();
            let pooled = if composed {
                composed_window_max(words.clone(), filters.clone(), &lengths, &bank)
            } else {
                window_max(words.clone(), filters.clone(), &lengths, &bank)
            };
            let grads = (pooled.clone() * weights.clone()).sum().backward();
            (
                values(pooled),
                values(words.grad(&grads).unwrap()),
                values(filters.grad(&grads).unwrap()),
            )
        };
        let (fast, composed) = (run(false), run(true));
        assert_close(&fast.0, &composed.0, "pooled");
        assert_close(&fast.1, &composed.1, "word gradient");
        assert_close(&fast.2, &composed.2, "filter gradient");
    }

    #[test]
    fn padding_never_changes_the_result() {
        let device = BackendKind::Flex.device().unwrap();
        let (words, filters, lengths, bank) = sample(&device, 3);
        let [batch, len, dim] = words.dims();
        let clean = values(words);
        let mut noisy = clean.clone();
        for (i, &n) in lengths.iter().enumerate() {
            for v in &mut noisy[(i * len + n) * dim..(i + 1) * len * dim] {
                *v = 50.0;
            }
        }
        let pooled = |data: Vec<f32>, composed: bool| {
            let words = Tensor::<3>::from_data(TensorData::new(data, [batch, len, dim]), &device);
            let f = if composed {
                composed_window_max
            } else {
                window_max
            };
            values(f(words, filters.clone(), &lengths, &bank))
        };
        for composed in [false, true] {
            assert_close(
                &pooled(clean.clone(), composed),
                &pooled(noisy.clone(), composed),
                "pooled",
            );
        }
    }
}
