//! The same model on every backend: training converges on wgpu too (lavapipe in CI), and
//! forward passes agree between the CPU and wgpu.

use kindling_core::BackendKind;
use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Tensor, TensorData};
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::Goal;
use kindling_core::seed::build_seeded;
use kindling_core::train::{Batcher, TrainConfig, Trainer, evaluate};
use kindling_experiments::models::{DenseBatcher, SoftmaxRegressionConfig};
use kindling_tests::separable;

const D: usize = 8;

#[test]
fn logistic_regression_trains_on_wgpu() {
    let device = BackendKind::Wgpu.train_device().unwrap();
    let train = separable(400, D, 0.1, 11);
    let test = separable(200, D, 0.1, 12);
    let batcher = DenseBatcher { d_input: D };
    let model = build_seeded(&device, 1, || {
        SoftmaxRegressionConfig::new(D, 2).init(&device).unwrap()
    });
    let config = TrainConfig {
        monitor: "accuracy".into(),
        goal: Goal::Max,
        ..TrainConfig::new(
            30,
            16,
            7,
            OptimizerConfig::Adam {
                lr: 0.05,
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
                weight_decay: 0.0,
            },
        )
    };
    let trained = Trainer::new(config, &device)
        .unwrap()
        .with_progress(false)
        .fit(model, &batcher, &train, None)
        .unwrap();
    let accuracy = evaluate(&trained.best_model, &batcher, &test, 64, &device)
        .unwrap()
        .metric("accuracy")
        .unwrap();
    assert!(accuracy >= 0.98, "wgpu test accuracy {accuracy}");
}

#[test]
fn forward_pass_agrees_between_cpu_and_wgpu() {
    let cpu = BackendKind::Flex.device().unwrap();
    let gpu = BackendKind::Wgpu.device().unwrap();
    let model = build_seeded(&cpu, 3, || {
        SoftmaxRegressionConfig::new(D, 2).init(&cpu).unwrap()
    });
    let examples = separable(64, D, 0.0, 5);
    let batcher = DenseBatcher { d_input: D };

    let on_cpu = model.forward(batcher.batch(&examples, &cpu).features);
    let on_gpu = model
        .clone()
        .to_device(&gpu)
        .forward(batcher.batch(&examples, &gpu).features);
    let cpu_values = on_cpu.into_data().try_to_vec::<f32>().unwrap();
    let gpu_values = on_gpu.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(cpu_values.len(), gpu_values.len());
    for (c, g) in cpu_values.iter().zip(&gpu_values) {
        assert!((c - g).abs() <= 1e-4, "cpu {c} vs wgpu {g}");
    }

    // A larger product too: 128×256 by 256×64.
    let a: Vec<f32> = (0..128 * 256)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
        .collect();
    let b: Vec<f32> = (0..256 * 64)
        .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
        .collect();
    let product = |device| {
        let a = Tensor::<2>::from_data(TensorData::new(a.clone(), [128, 256]), device);
        let b = Tensor::<2>::from_data(TensorData::new(b.clone(), [256, 64]), device);
        a.matmul(b).into_data().try_to_vec::<f32>().unwrap()
    };
    let (c, g) = (product(&cpu), product(&gpu));
    for (x, y) in c.iter().zip(&g) {
        assert!(
            (x - y).abs() <= 1e-4 * x.abs().max(1.0),
            "cpu {x} vs wgpu {y}"
        );
    }
}
