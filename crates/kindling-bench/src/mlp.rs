//! Backend benchmark: the same matmul-heavy training step on every compiled backend, timed in
//! one process so the numbers are comparable.
//!
//! The step is a two-layer perceptron (`[batch, d_input] → d_hidden → ReLU → n_classes`) with
//! cross-entropy and Adam: three GEMMs forward and five backward dominate its cost.

use std::time::Instant;

use kindling_core::BackendKind;
use kindling_core::burn::module::Module;
use kindling_core::burn::nn::loss::CrossEntropyLossConfig;
use kindling_core::burn::nn::{Linear, LinearConfig, Relu};
use kindling_core::burn::optim::GradientsParams;
use kindling_core::burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use kindling_core::optim::OptimizerConfig;
use kindling_core::seed::seed_device;
use serde::Serialize;

use crate::Result;

/// Sizes of the benchmarked step.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StepShape {
    /// Examples per batch.
    pub batch: usize,
    /// Input width.
    pub d_input: usize,
    /// Hidden width.
    pub d_hidden: usize,
    /// Output classes.
    pub n_classes: usize,
}

impl StepShape {
    /// Floating-point operations of one training step (GEMMs only: 2·m·n·k forward, twice
    /// that backward).
    pub fn flops(&self) -> f64 {
        let gemm = |m: usize, n: usize, k: usize| 2.0 * (m * n * k) as f64;
        let forward = gemm(self.batch, self.d_hidden, self.d_input)
            + gemm(self.batch, self.n_classes, self.d_hidden);
        3.0 * forward
    }
}

/// One backend's timing.
#[derive(Debug, Clone, Serialize)]
pub struct BackendTiming {
    /// The backend.
    pub backend: BackendKind,
    /// Median milliseconds per step.
    pub median_ms: f64,
    /// Achieved GEMM throughput at the median.
    pub gflops: f64,
}

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    activation: Relu,
    output: Linear,
}

/// Times `steps` training steps (after `warmup`) on each of `backends`.
pub fn backends(
    backends: &[BackendKind],
    shape: StepShape,
    warmup: usize,
    steps: usize,
) -> Result<Vec<BackendTiming>> {
    backends
        .iter()
        .map(|&backend| {
            let device = backend.train_device()?;
            let median = super::median(&mut time_steps(&device, shape, warmup, steps)?);
            Ok(BackendTiming {
                backend,
                median_ms: median * 1e3,
                gflops: shape.flops() / median / 1e9,
            })
        })
        .collect()
}

fn time_steps(device: &Device, shape: StepShape, warmup: usize, steps: usize) -> Result<Vec<f64>> {
    seed_device(device, 0);
    let mut model = Mlp {
        hidden: LinearConfig::new(shape.d_input, shape.d_hidden).init(device),
        activation: Relu::new(),
        output: LinearConfig::new(shape.d_hidden, shape.n_classes).init(device),
    };
    let mut optimizer = OptimizerConfig::adam(1e-3).init()?;
    let inputs = Tensor::<2>::random(
        [shape.batch, shape.d_input],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let labels: Vec<i64> = (0..shape.batch)
        .map(|i| (i % shape.n_classes) as i64)
        .collect();
    let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [shape.batch]), device);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut times = Vec::with_capacity(steps);
    for i in 0..warmup + steps {
        let started = Instant::now();
        let x = model
            .activation
            .forward(model.hidden.forward(inputs.clone()));
        let loss = loss_fn.forward(model.output.forward(x), targets.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
        // Reading a value forces the step to finish on lazy or asynchronous backends.
        let _ = model
            .output
            .weight
            .val()
            .slice([0..1, 0..1])
            .into_scalar::<f32>();
        if i >= warmup {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(times)
}
