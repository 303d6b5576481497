//! Cross-entropy of class scores against gold classes, the loss of every classifier, tagger
//! and language model.
//!
//! On burn-flex it is one operation: each row's log-sum-exp in two passes over the scores
//! (maximum, then the sum of exponentials, vectorised), and a backward pass that writes
//! `softmax − one-hot` in one more. burn's composed loss makes about ten passes over the
//! `[tokens, vocabulary]` score matrix each way, which dominates a word language model's step.
//! Other backends use burn's `CrossEntropyLoss`; a test holds the two together.

use burn::tensor::{Int, Tensor};

/// The mean over rows of `−log softmax(logits)[target]`.
///
/// # Shapes
/// `logits`: `[rows, classes]`, `targets`: `[rows]` (each in `0..classes`) → `[1]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    #[cfg(feature = "flex")]
    if crate::flex_tensors::runs_on_flex(&logits.device()) {
        return flex::cross_entropy(logits, None, targets);
    }
    burn::nn::loss::CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, targets)
}

/// [`cross_entropy`] of `scores + bias` (the bias added to every row), without building that
/// sum: for a language model's `[tokens, vocabulary]` scores the broadcast addition alone is a
/// full pass over the largest tensor of the step.
///
/// # Shapes
/// `scores`: `[rows, classes]`, `bias`: `[classes]`, `targets`: `[rows]` → `[1]`.
pub fn cross_entropy_with_bias(
    scores: Tensor<2>,
    bias: Tensor<1>,
    targets: Tensor<1, Int>,
) -> Tensor<1> {
    #[cfg(feature = "flex")]
    if crate::flex_tensors::runs_on_flex(&scores.device()) {
        return flex::cross_entropy(scores, Some(bias), targets);
    }
    cross_entropy(scores + bias.unsqueeze::<2>(), targets)
}

#[cfg(feature = "flex")]
mod flex {
    //! The burn-flex extension.

    use std::sync::Arc;

    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::{FloatTensor, IntTensor};
    use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
    use burn::tensor::{Int, Tensor};
    use rayon::prelude::*;

    use crate::fast_math::exp;
    use crate::flex_tensors::{floats, indices, tensor};

    /// Rows per parallel task.
    const ROWS_PER_TASK: usize = 16;

    /// [`super::cross_entropy`] (and, with a bias, [`super::cross_entropy_with_bias`])
    /// through the extension; without a bias a zero one is used.
    pub(super) fn cross_entropy(
        logits: Tensor<2>,
        bias: Option<Tensor<1>>,
        targets: Tensor<1, Int>,
    ) -> Tensor<1> {
        let classes = logits.dims()[1];
        let bias = bias.unwrap_or_else(|| Tensor::zeros([classes], &logits.device()));
        Tensor::from_dispatch(<Dispatch as CrossEntropyBackend>::cross_entropy(
            logits.into_dispatch(),
            bias.into_dispatch(),
            targets.into_dispatch(),
        ))
    }

    /// The loss as a backend operation.
    #[backend_extension(Flex, Autodiff)]
    pub trait CrossEntropyBackend: Backend {
        /// See [`super::cross_entropy_with_bias`].
        fn cross_entropy(
            logits: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            targets: IntTensor<Self>,
        ) -> FloatTensor<Self>;
    }

    impl CrossEntropyBackend for Flex {
        fn cross_entropy(logits: FlexTensor, bias: FlexTensor, targets: FlexTensor) -> FlexTensor {
            forward(&logits, &bias, &indices(&targets)).0
        }
    }

    impl<C: CheckpointStrategy> CrossEntropyBackend for Autodiff<Flex, C> {
        fn cross_entropy(
            logits: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            targets: FlexTensor,
        ) -> FloatTensor<Self> {
            let targets = indices(&targets);
            match CrossEntropyBackward
                .prepare::<C>([logits.node(), bias.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let (loss, log_sum_exp) =
                        forward(logits.primitive(), bias.primitive(), &targets);
                    let state = State {
                        logits: logits.primitive().clone(),
                        bias: bias.primitive().clone(),
                        targets: Arc::new(targets),
                        log_sum_exp: Arc::new(log_sum_exp),
                    };
                    prep.finish(state, loss)
                }
                OpsKind::UnTracked(prep) => {
                    prep.finish(forward(logits.primitive(), bias.primitive(), &targets).0)
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    struct State {
        logits: FlexTensor,
        bias: FlexTensor,
        targets: Arc<Vec<usize>>,
        log_sum_exp: Arc<Vec<f32>>,
    }

    /// Independent partial results per row: enough for the compiler to keep a vector register
    /// of maxima or sums (a single running value is a dependency chain it may not reorder).
    const LANES: usize = 16;

    /// `log Σ exp` of one row plus the bias.
    #[macerator::with_simd]
    #[allow(clippy::extra_unused_type_parameters)]
    fn log_sum_exp<S: macerator::Simd>(row: &[f32], bias: &[f32]) -> f32 {
        let split = row.len() - row.len() % LANES;
        let mut maxima = [f32::NEG_INFINITY; LANES];
        for (xs, bs) in row[..split]
            .chunks_exact(LANES)
            .zip(bias[..split].chunks_exact(LANES))
        {
            for k in 0..LANES {
                let v = xs[k] + bs[k];
                maxima[k] = if v > maxima[k] { v } else { maxima[k] };
            }
        }
        let mut max = maxima.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for (&x, &b) in row[split..].iter().zip(&bias[split..]) {
            max = max.max(x + b);
        }
        let mut sums = [0.0f32; LANES];
        for (xs, bs) in row[..split]
            .chunks_exact(LANES)
            .zip(bias[..split].chunks_exact(LANES))
        {
            for k in 0..LANES {
                sums[k] += exp(xs[k] + bs[k] - max);
            }
        }
        let mut sum: f32 = sums.iter().sum();
        for (&x, &b) in row[split..].iter().zip(&bias[split..]) {
            sum += exp(x + b - max);
        }
        max + sum.ln()
    }

    /// `scale · (exp(row + bias − lse) − one-hot(target))` into `out`.
    #[macerator::with_simd]
    #[allow(clippy::extra_unused_type_parameters)]
    fn softmax_minus_one_hot<S: macerator::Simd>(
        row: &[f32],
        bias: &[f32],
        lse: f32,
        target: usize,
        scale: f32,
        out: &mut [f32],
    ) {
        for ((o, &x), &b) in out.iter_mut().zip(row).zip(bias) {
            *o = scale * exp(x + b - lse);
        }
        out[target] -= scale;
    }

    /// The mean loss `[1]` and each row's log-sum-exp.
    ///
    /// # Panics
    /// When a target is not a class of the scores (as burn's loss would).
    fn forward(
        logits: &FlexTensor,
        bias: &FlexTensor,
        targets: &[usize],
    ) -> (FlexTensor, Vec<f32>) {
        let [rows, classes] = logits.shape().dims::<2>();
        assert_eq!(targets.len(), rows, "one target per row of scores");
        assert!(
            targets.iter().all(|&t| t < classes),
            "targets must be classes in 0..{classes}"
        );
        let values = floats(logits);
        let bias = floats(bias);
        assert_eq!(bias.len(), classes, "one bias per class");
        let mut lse = vec![0.0f32; rows];
        lse.par_chunks_mut(ROWS_PER_TASK)
            .enumerate()
            .for_each(|(task, out)| {
                for (k, slot) in out.iter_mut().enumerate() {
                    let r = task * ROWS_PER_TASK + k;
                    *slot = log_sum_exp(&values[r * classes..(r + 1) * classes], &bias);
                }
            });
        let total: f64 = (0..rows)
            .map(|r| f64::from(lse[r] - values[r * classes + targets[r]] - bias[targets[r]]))
            .sum();
        let mean = if rows == 0 { 0.0 } else { total / rows as f64 };
        (tensor(vec![mean as f32], [1]), lse)
    }

    #[derive(Debug)]
    struct CrossEntropyBackward;

    impl Backward<Flex, 2> for CrossEntropyBackward {
        type State = State;

        fn backward(
            self,
            ops: Ops<Self::State, 2>,
            grads: &mut Gradients,
            _checkpointer: &mut Checkpointer,
        ) {
            let [logits_node, bias_node] = ops.parents;
            let grad = grads.consume::<Flex>(&ops.node);
            let State {
                logits,
                bias,
                targets,
                log_sum_exp,
            } = ops.state;
            let bias = floats(&bias);
            let [rows, classes] = logits.shape().dims::<2>();
            let scale = floats(&grad)[0] / rows.max(1) as f32;
            let values = floats(&logits);
            let mut d_logits = vec![0.0f32; rows * classes];
            d_logits
                .par_chunks_mut(ROWS_PER_TASK * classes)
                .enumerate()
                .for_each(|(task, out)| {
                    for (k, out) in out.chunks_mut(classes).enumerate() {
                        let r = task * ROWS_PER_TASK + k;
                        softmax_minus_one_hot(
                            &values[r * classes..(r + 1) * classes],
                            &bias,
                            log_sum_exp[r],
                            targets[r],
                            scale,
                            out,
                        );
                    }
                });
            if let Some(node) = bias_node {
                // The bias's gradient: the column sums of the scores' gradient, by column
                // blocks in parallel.
                let mut d_bias = vec![0.0f32; classes];
                d_bias
                    .par_chunks_mut(1024)
                    .enumerate()
                    .for_each(|(block, sums)| {
                        let start = block * 1024;
                        for row in d_logits.chunks(classes) {
                            let row = &row[start..start + sums.len()];
                            sums.iter_mut().zip(row).for_each(|(d, &g)| *d += g);
                        }
                    });
                grads.register::<Flex>(node.id, tensor(d_bias, [classes]));
            }
            if let Some(node) = logits_node {
                grads.register::<Flex>(node.id, tensor(d_logits, [rows, classes]));
            }
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use crate::BackendKind;
    use burn::tensor::{Distribution, TensorData};

    #[test]
    fn matches_burns_loss_and_gradient() {
        let device = BackendKind::Flex.device().unwrap().autodiff();
        let logits = crate::seed::with_device_rng(&device, 1, || {
            Tensor::<2>::random([37, 11], Distribution::Uniform(-6.0, 6.0), &device)
        });
        let targets = Tensor::<1, Int>::from_data(
            TensorData::new(
                (0..37).map(|i| (i * 5 % 11) as i64).collect::<Vec<_>>(),
                [37],
            ),
            &device,
        );
        let run = |ours: bool| {
            let logits = logits.clone().detach().require_grad();
            let loss = if ours {
                cross_entropy(logits.clone(), targets.clone())
            } else {
                burn::nn::loss::CrossEntropyLossConfig::new()
                    .init(&device)
                    .forward(logits.clone(), targets.clone())
            };
            let grads = (loss.clone() * 3.0).backward();
            (
                loss.into_data().try_to_vec::<f32>().unwrap(),
                logits
                    .grad(&grads)
                    .unwrap()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap(),
            )
        };
        let (ours, burns) = (run(true), run(false));
        assert!(
            (ours.0[0] - burns.0[0]).abs() < 1e-5,
            "{:?} vs {:?}",
            ours.0,
            burns.0
        );
        for (a, b) in ours.1.iter().zip(&burns.1) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
