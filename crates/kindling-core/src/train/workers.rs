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
use burn::tensor::Tensor;

use super::{Outcome, StepOutput, TrainStep};
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
    /// generator seeded by `derive_seed(step_seed, k)`.
    pub fn step<M, B>(&self, model: &M, shards: Vec<B>, step_seed: u64) -> Vec<ShardStep>
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
                            seed_thread(derive_seed(step_seed, k as u64));
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
    let total: f64 = shards.iter().map(|s| s.weight).sum();
    shards.iter().map(|s| s.loss * s.weight).sum::<f64>() / total
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

    #[test]
    fn shards_are_contiguous_and_balanced() {
        let indices: Vec<usize> = (0..7).collect();
        let cut = shards(&indices, 3);
        assert_eq!(cut, vec![&[0, 1, 2][..], &[3, 4], &[5, 6]]);
        assert_eq!(shards(&indices[..2], 4), vec![&[0][..], &[1]]);
        assert_eq!(shards(&indices, 1), vec![&indices[..]]);
    }
}
