//! Data parallelism across the cores of one machine: each worker runs the training step on its
//! shard of the batch, on its own thread with a one-thread compute pool, and the shards'
//! gradients are combined into the gradient of the whole batch for one optimizer step.
//!
//! # What equals what
//!
//! A step's loss is a mean over the batch's examples (or, for token-level models, its target
//! tokens), so the whole batch's gradient is the weighted mean of the shards' gradients, each
//! shard weighted by its share of the examples (tokens): K workers compute the single-worker
//! step up to float rounding. Each worker starts from a fork of the one model (the same weights,
//! fresh autodiff leaves), so there are no replicas to drift apart.
//!
//! # Determinism
//!
//! A batch is cut into K contiguous shards (sizes differing by at most one; a batch smaller
//! than K gives fewer shards). Shard k of step s in epoch e draws its dropout masks from a
//! generator seeded with `derive_seed(derive_seed(derive_seed(seed, e), s), k)`, so the same seed
//! and the same worker count give the same weights bit for bit; another worker count draws other
//! masks (and rounds differently), as a different batch order would.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

use super::{Outcome, StepOutput, TrainStep};
use crate::ranks::Ranks;
use crate::seed::{derive_seed, seed_thread};
use crate::{Error, Result};

/// The most workers a config takes.
pub const MAX_WORKERS: usize = 1024;

/// One compute pool of one thread per worker.
pub(super) struct Workers {
    pools: Vec<rayon::ThreadPool>,
}

/// What one shard's step gave.
pub(super) struct ShardStep {
    /// The shard's mean loss.
    pub loss: f64,
    /// Its examples.
    pub examples: usize,
    /// What to measure.
    pub outcome: Outcome,
    /// The gradients of its loss.
    grads: GradientsParams,
    /// Its share of the batch's loss (examples, or target tokens).
    weight: f64,
}

impl Workers {
    /// `count` workers.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a thread pool cannot be built.
    pub fn new(count: usize) -> Result<Self> {
        let pools = (0..count)
            .map(|k| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("kindling-worker-{k}"))
                    .build()
                    .map_err(|e| Error::InvalidConfig(format!("starting worker {k}: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(Self { pools })
    }

    /// Runs `model`'s step on each of `shards` at once, shard k on worker k with its dropout
    /// generator seeded by `derive_seed(step_seed, first_shard + k)` (`first_shard`: the
    /// batch's shards before this process's, on other ranks).
    pub fn step<M, B>(
        &self,
        model: &M,
        shards: Vec<B>,
        step_seed: u64,
        first_shard: usize,
    ) -> Vec<ShardStep>
    where
        M: TrainStep<B>,
        B: Send,
    {
        let device = model.devices().into_iter().next();
        std::thread::scope(|scope| {
            let handles: Vec<_> = shards
                .into_iter()
                .zip(&self.pools)
                .enumerate()
                .map(|(k, (shard, pool))| {
                    let replica = match &device {
                        Some(device) => model.clone().fork(device),
                        None => model.clone(),
                    };
                    scope.spawn(move || {
                        pool.install(move || {
                            seed_thread(derive_seed(step_seed, (first_shard + k) as u64));
                            let output: StepOutput = replica.step(&shard);
                            let loss = f64::from(output.loss.clone().into_scalar::<f32>());
                            let grads =
                                GradientsParams::from_grads(output.loss.backward(), &replica);
                            let weight = match output.outcome {
                                Outcome::Tokens { tokens, .. } => tokens as f64,
                                _ => output.examples as f64,
                            };
                            ShardStep {
                                loss,
                                examples: output.examples,
                                outcome: output.outcome,
                                grads,
                                weight,
                            }
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    }
}

/// The batch's mean loss from its shards' (weighted as their gradients are).
pub(super) fn combined_loss(shards: &[ShardStep]) -> f64 {
    shards.iter().map(|s| s.loss * s.weight).sum::<f64>() / total_weight(shards)
}

/// The shards' share of the batch's loss: their examples, or target tokens.
pub(super) fn total_weight(shards: &[ShardStep]) -> f64 {
    shards.iter().map(|s| s.weight).sum()
}

/// The whole batch's loss and gradient from each rank's: `grads` is this rank's mean gradient
/// over its `weight` (examples or tokens; 0 when the batch left it no shard) with mean loss
/// `loss`. Every rank's gradients times its weight, each parameter's "has a gradient" flag,
/// the weight and the weighted loss go into one flattened buffer summed over the ranks by one
/// collective call; the sums over the total weight are the batch's mean loss and gradient, the
/// same on every rank.
pub(super) fn sum_over_ranks<M: Module>(
    ranks: &Ranks,
    model: &M,
    loss: f64,
    weight: f64,
    grads: GradientsParams,
) -> (f64, GradientsParams) {
    let mut flatten = Flatten {
        grads,
        weight: weight as f32,
        buffer: Vec::new(),
        present: Vec::new(),
    };
    model.visit(&mut flatten);
    let Flatten {
        mut buffer,
        present,
        ..
    } = flatten;
    let values = buffer.len();
    buffer.extend(&present);
    buffer.extend([weight as f32, (loss * weight) as f32]);
    ranks.sum(&mut buffer);
    let total = f64::from(buffer[buffer.len() - 2]);
    let loss = f64::from(buffer[buffer.len() - 1]) / total;
    let mut unflatten = Unflatten {
        values: &buffer[..values],
        present: &buffer[values..values + present.len()],
        scale: (1.0 / total) as f32,
        offset: 0,
        index: 0,
        grads: GradientsParams::new(),
    };
    model.visit(&mut unflatten);
    (loss, unflatten.grads)
}

/// Writes each parameter's gradient times `weight` (zeros when it has none) into `buffer`, in
/// the module's visiting order, and 1 or 0 into `present`.
struct Flatten {
    grads: GradientsParams,
    weight: f32,
    buffer: Vec<f32>,
    present: Vec<f32>,
}

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let numel = param.val().shape().num_elements();
        match self.grads.remove::<D>(param.id) {
            Some(grad) => {
                let values = grad
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .expect("a float gradient converts to f32");
                self.buffer.extend(values.iter().map(|v| v * self.weight));
                self.present.push(1.0);
            }
            None => {
                self.buffer.extend(std::iter::repeat_n(0.0, numel));
                self.present.push(0.0);
            }
        }
    }
}

/// Reads the summed buffer back into gradients, scaled by `scale`, for the parameters some
/// rank had a gradient for.
struct Unflatten<'a> {
    values: &'a [f32],
    present: &'a [f32],
    scale: f32,
    offset: usize,
    index: usize,
    grads: GradientsParams,
}

impl ModuleVisitor for Unflatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let shape = value.shape();
        let numel = shape.num_elements();
        let values = &self.values[self.offset..self.offset + numel];
        self.offset += numel;
        let present = self.present[self.index] > 0.0;
        self.index += 1;
        if present {
            let scaled: Vec<f32> = values.iter().map(|v| v * self.scale).collect();
            let device = value.device().without_autodiff();
            let grad = Tensor::<D>::from_data(TensorData::new(scaled, shape), &device);
            self.grads.register(param.id, grad);
        }
    }
}

/// The gradient of the whole batch: each parameter's shard gradients weighted by the shards'
/// shares, summed in shard order.
pub(super) fn combined_grads<M: Module>(model: &M, shards: &mut [ShardStep]) -> GradientsParams {
    let total: f64 = shards.iter().map(|s| s.weight).sum();
    let mut combine = Combine {
        shares: shards.iter().map(|s| s.weight / total).collect(),
        sources: shards
            .iter_mut()
            .map(|s| std::mem::replace(&mut s.grads, GradientsParams::new()))
            .collect(),
        combined: GradientsParams::new(),
    };
    model.visit(&mut combine);
    combine.combined
}

struct Combine {
    shares: Vec<f64>,
    sources: Vec<GradientsParams>,
    combined: GradientsParams,
}

impl ModuleVisitor for Combine {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let id = param.id;
        let mut sum: Option<Tensor<D>> = None;
        for (source, &share) in self.sources.iter_mut().zip(&self.shares) {
            if let Some(grad) = source.remove::<D>(id) {
                let weighted = grad.mul_scalar(share);
                sum = Some(match sum {
                    Some(sum) => sum.add(weighted),
                    None => weighted,
                });
            }
        }
        if let Some(sum) = sum {
            self.combined.register(id, sum);
        }
    }
}

/// `indices` cut into at most `count` contiguous shards whose sizes differ by at most one.
pub(super) fn shards(indices: &[usize], count: usize) -> Vec<&[usize]> {
    let count = count.clamp(1, indices.len().max(1));
    let (base, extra) = (indices.len() / count, indices.len() % count);
    let mut out = Vec::with_capacity(count);
    let mut start = 0;
    for k in 0..count {
        let len = base + usize::from(k < extra);
        out.push(&indices[start..start + len]);
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rank's sum is its own: flattening a gradient into the buffer and reading it back
    /// (weighted, then divided by the total weight) gives the gradient and loss it started from.
    #[cfg(feature = "flex")]
    #[test]
    fn gradients_survive_the_flattened_buffer() {
        use burn::nn::LinearConfig;

        let device = crate::BackendKind::Flex.train_device().unwrap();
        let model = crate::seed::build_seeded(&device, 3, || LinearConfig::new(3, 2).init(&device));
        let grads = || {
            let x = Tensor::<2>::from_data(
                TensorData::new(vec![0.5f32, -1.0, 2.0, 1.5, 0.25, -0.75], [2, 3]),
                &device,
            );
            let loss = model.forward(x).powi_scalar(2).sum();
            GradientsParams::from_grads(loss.backward(), &model)
        };
        let (loss, mut summed) = sum_over_ranks(&Ranks::ALONE, &model, 0.625, 7.0, grads());
        assert!((loss - 0.625).abs() < 1e-6);
        let mut original = grads();
        let values = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
        let weight = model.weight.id;
        let (a, b) = (
            values(original.remove::<2>(weight).unwrap()),
            values(summed.remove::<2>(weight).unwrap()),
        );
        assert_eq!(a.len(), 6);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{a:?} vs {b:?}");
        }
        let bias = model.bias.as_ref().unwrap().id;
        assert!(summed.remove::<1>(bias).is_some());
    }

    #[test]
    fn shards_are_contiguous_and_balanced() {
        let indices: Vec<usize> = (0..7).collect();
        let cut = shards(&indices, 3);
        assert_eq!(cut, vec![&[0, 1, 2][..], &[3, 4], &[5, 6]]);
        assert_eq!(shards(&indices[..2], 4), vec![&[0][..], &[1]]);
        assert_eq!(shards(&indices, 1), vec![&indices[..]]);
    }
}
