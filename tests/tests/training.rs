//! The training loop end to end on the CPU: convergence, determinism, exact resume,
//! checkpoints, early stopping and failure modes.

use kindling_core::burn;
use kindling_core::burn::module::{Module, ModuleVisitor, Param};
use kindling_core::burn::nn::{Linear, LinearConfig};
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::checkpoint::Checkpoint;
use kindling_core::models::{
    ClassifierHead, DenseBatch, DenseBatcher, SoftmaxRegression, SoftmaxRegressionConfig,
    classification_step,
};
use kindling_core::optim::{GradientClip, OptimizerConfig};
use kindling_core::schedule::{Goal, LrSchedule};
use kindling_core::seed::build_seeded;
use kindling_core::train::{StepOutput, TrainStep};
use kindling_core::train::{TrainConfig, Trainer, evaluate, files};
use kindling_core::{BackendKind, Error};
use kindling_tests::{scratch_dir, separable};

const D: usize = 8;

fn model(device: &Device, seed: u64) -> SoftmaxRegression {
    model_with_input(device, D, seed)
}

fn model_with_input(device: &Device, d_input: usize, seed: u64) -> SoftmaxRegression {
    build_seeded(device, seed, || {
        SoftmaxRegressionConfig::new(d_input, 2)
            .init(device)
            .unwrap()
    })
}

fn config(epochs: usize, optimizer: OptimizerConfig) -> TrainConfig {
    TrainConfig {
        monitor: kindling_core::metrics::Metric::Accuracy,
        goal: Goal::Max,
        ..TrainConfig::new(epochs, 16, 7, optimizer)
    }
}

fn adam() -> OptimizerConfig {
    OptimizerConfig::adam(0.05)
}

/// All parameter values of a module, in visiting order, as raw bits.
fn parameter_bits<M: Module>(model: &M) -> Vec<u32> {
    struct Collect(Vec<u32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const R: usize>(&mut self, param: &Param<Tensor<R>>) {
            let values = param.val().into_data().try_to_vec::<f32>().unwrap();
            self.0.extend(values.iter().map(|v| v.to_bits()));
        }
    }
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    collect.0
}

/// A hidden layer and a classifier head with dropout: training draws masks at every step.
#[derive(Module, Debug)]
struct DropoutMlp {
    hidden: Linear,
    head: ClassifierHead,
}

impl TrainStep<DenseBatch> for DropoutMlp {
    fn step(&self, batch: &DenseBatch) -> StepOutput {
        let hidden = kindling_core::burn::tensor::activation::relu(
            self.hidden.forward(batch.features.clone()),
        );
        classification_step(self.head.forward(hidden), batch.labels.clone())
    }
}

fn dropout_mlp(device: &Device, seed: u64) -> DropoutMlp {
    build_seeded(device, seed, || DropoutMlp {
        hidden: LinearConfig::new(D, 16).init(device),
        head: ClassifierHead::new(16, 2, 0.5, false, device),
    })
}

/// Trains a seeded [`DropoutMlp`] for three epochs and returns its weights' bits.
fn train_dropout_mlp(device: &Device, seed: u64) -> Vec<u32> {
    let train = separable(120, D, 0.05, seed);
    let config = TrainConfig {
        seed,
        ..config(3, adam())
    };
    let trained = Trainer::new(config, device)
        .unwrap()
        .with_progress(false)
        .fit(
            dropout_mlp(device, seed),
            &DenseBatcher { d_input: D },
            &train,
            None,
        )
        .unwrap();
    parameter_bits(&trained.model)
}

#[test]
fn models_trained_on_two_threads_at_once_equal_each_trained_alone() {
    let device = BackendKind::Flex.train_device().unwrap();
    let alone: Vec<Vec<u32>> = [5, 6]
        .iter()
        .map(|&s| train_dropout_mlp(&device, s))
        .collect();
    assert_ne!(
        alone[0], alone[1],
        "different seeds trained the same weights"
    );
    // Dropout draws from the training thread's own stream: the same seed twice gives the same
    // weights, whichever thread trains.
    assert_eq!(train_dropout_mlp(&device, 5), alone[0]);
    for round in 0..3 {
        let together: Vec<Vec<u32>> = std::thread::scope(|scope| {
            let runs: Vec<_> = [5, 6]
                .iter()
                .map(|&seed| {
                    let device = device.clone();
                    scope.spawn(move || train_dropout_mlp(&device, seed))
                })
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).collect()
        });
        assert_eq!(
            together, alone,
            "round {round}: concurrent training changed the weights"
        );
    }
}

/// All parameter values of a module, in visiting order.
fn parameter_values<M: Module>(model: &M) -> Vec<f32> {
    parameter_bits(model)
        .into_iter()
        .map(f32::from_bits)
        .collect()
}

/// The weights after one SGD step on the whole of `train` (one batch) with `workers` workers:
/// they differ from the start by the learning rate times the batch's gradient.
fn one_step_with_workers(workers: usize, dropout: bool) -> Vec<f32> {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(37, D, 0.1, 3);
    let config = TrainConfig {
        batch_size: 37,
        workers,
        ..config(
            1,
            OptimizerConfig::Sgd {
                lr: 1.0,
                momentum: 0.0,
                nesterov: false,
                weight_decay: 0.0,
            },
        )
    };
    let trainer = Trainer::new(config, &device).unwrap().with_progress(false);
    let batcher = DenseBatcher { d_input: D };
    if dropout {
        parameter_values(
            &trainer
                .fit(dropout_mlp(&device, 4), &batcher, &train, None)
                .unwrap()
                .model,
        )
    } else {
        let mlp = build_seeded(&device, 4, || DropoutMlp {
            hidden: LinearConfig::new(D, 16).init(&device),
            head: ClassifierHead::new(16, 2, 0.0, false, &device),
        });
        parameter_values(&trainer.fit(mlp, &batcher, &train, None).unwrap().model)
    }
}

#[test]
fn workers_take_the_step_one_worker_takes_on_the_whole_batch() {
    // 37 examples: shards of 19 + 18, and 13 + 12 + 12, so the weighting by examples matters.
    let one = one_step_with_workers(1, false);
    for workers in [2, 3] {
        let many = one_step_with_workers(workers, false);
        let worst = one
            .iter()
            .zip(&many)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= 1e-5,
            "{workers} workers: a weight differs by {worst}"
        );
        assert_ne!(parameter_values_start(), many, "the step changed nothing");
    }
}

/// The starting weights of [`one_step_with_workers`]'s model.
fn parameter_values_start() -> Vec<f32> {
    let device = BackendKind::Flex.train_device().unwrap();
    parameter_values(&build_seeded(&device, 4, || DropoutMlp {
        hidden: LinearConfig::new(D, 16).init(&device),
        head: ClassifierHead::new(16, 2, 0.0, false, &device),
    }))
}

#[test]
fn the_same_seed_and_worker_count_repeat_bit_for_bit() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(120, D, 0.05, 9);
    let run = |workers: usize| {
        let config = TrainConfig {
            workers,
            ..config(3, adam())
        };
        let trained = Trainer::new(config, &device)
            .unwrap()
            .with_progress(false)
            .fit(
                dropout_mlp(&device, 9),
                &DenseBatcher { d_input: D },
                &train,
                None,
            )
            .unwrap();
        parameter_bits(&trained.model)
    };
    let two = run(2);
    assert_eq!(run(2), two, "two workers, same seed: other weights");
    // Another worker count draws other dropout masks (documented), so it learns other weights.
    assert_ne!(run(1), two);
    assert_eq!(
        one_step_with_workers(2, true),
        one_step_with_workers(2, true)
    );
}

#[test]
fn dropout_changes_what_a_seeded_run_learns() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(120, D, 0.05, 5);
    let without_dropout = build_seeded(&device, 5, || DropoutMlp {
        hidden: LinearConfig::new(D, 16).init(&device),
        head: ClassifierHead::new(16, 2, 0.0, false, &device),
    });
    let trained = Trainer::new(
        TrainConfig {
            seed: 5,
            ..config(3, adam())
        },
        &device,
    )
    .unwrap()
    .with_progress(false)
    .fit(without_dropout, &DenseBatcher { d_input: D }, &train, None)
    .unwrap();
    assert_ne!(
        parameter_bits(&trained.model),
        train_dropout_mlp(&device, 5)
    );
}

/// The weights of the `best.ckpt` in `dir`, as raw bits.
fn best_checkpoint_bits(dir: &std::path::Path, device: &Device) -> Vec<u32> {
    let path = dir.join(files::BEST);
    let restored = Checkpoint::load(&path)
        .unwrap()
        .restore_model(model(device, 77), &path)
        .unwrap();
    parameter_bits(&restored)
}

#[test]
fn a_run_stopped_before_any_of_its_file_writes_resumes_to_the_uninterrupted_result() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(200, D, 0.05, 1);
    let dev = separable(50, D, 0.05, 2);
    let batcher = DenseBatcher { d_input: D };
    // A high learning rate: dev accuracy tops out early, so later epochs do not improve.
    let config = config(4, OptimizerConfig::adam(0.5));
    let straight_dir = scratch_dir("kill-straight");
    let straight = Trainer::new(config.clone(), &device)
        .unwrap()
        .with_progress(false)
        .with_output(&straight_dir)
        .fit(model(&device, 3), &batcher, &train, Some(&dev))
        .unwrap();
    let improved: Vec<bool> = straight
        .history
        .iter()
        .map(|r| r["improved"].as_bool().unwrap())
        .collect();
    assert!(
        improved.contains(&true) && improved.contains(&false),
        "both kinds of epoch: {improved:?}"
    );
    let straight_bits = parameter_bits(&straight.model);
    let straight_best = best_checkpoint_bits(&straight_dir, &device);

    let mut kill_points = 0;
    for limit in 0.. {
        let dir = scratch_dir(&format!("kill-{limit}"));
        let stopped = Trainer::new(config.clone(), &device)
            .unwrap()
            .with_progress(false)
            .with_output(&dir)
            .with_write_limit(limit)
            .fit(model(&device, 3), &batcher, &train, Some(&dev));
        match stopped {
            Err(Error::Interrupted(_)) => kill_points += 1,
            Ok(finished) => {
                assert_eq!(parameter_bits(&finished.model), straight_bits);
                break;
            }
            Err(other) => panic!("write {limit}: {other}"),
        }
        // What a user does next: resume from `last.ckpt`, or start again without one.
        let trainer = Trainer::new(config.clone(), &device)
            .unwrap()
            .with_progress(false)
            .with_output(&dir);
        let resumed = if dir.join(files::LAST).exists() {
            trainer.resume(
                model(&device, 99),
                &dir.join(files::LAST),
                &batcher,
                &train,
                Some(&dev),
            )
        } else {
            trainer.fit(model(&device, 3), &batcher, &train, Some(&dev))
        }
        .unwrap_or_else(|e| panic!("resuming after a stop before write {limit}: {e}"));
        assert_eq!(
            parameter_bits(&resumed.model),
            straight_bits,
            "stopped before write {limit}: final weights"
        );
        assert_eq!(resumed.best_epoch, straight.best_epoch, "write {limit}");
        assert_eq!(
            best_checkpoint_bits(&dir, &device),
            straight_best,
            "stopped before write {limit}: best.ckpt"
        );
        assert!(!dir.join(files::BEST_PENDING).exists(), "write {limit}");
        let log = std::fs::read_to_string(dir.join(files::LOG)).unwrap();
        assert_eq!(
            log.lines().count(),
            4,
            "write {limit}: one log record per epoch"
        );
    }
    // The config, then per epoch the log record, `last.ckpt` and, when the epoch improved, the
    // pending best and its rename: at least 1 + 4 × 2.
    eprintln!("{kill_points} kill points tried");
    assert!(kill_points >= 9, "{kill_points} kill points");
}

#[test]
fn four_epochs_equal_two_plus_resumed_two_bit_for_bit() {
    for backend in [BackendKind::Flex, BackendKind::Ndarray] {
        let device = backend.train_device().unwrap();
        let train = separable(200, D, 0.05, 1);
        let dev = separable(50, D, 0.05, 2);
        let batcher = DenseBatcher { d_input: D };
        let schedule = LrSchedule::StepDecay {
            after_epoch: 1,
            factor: 0.5,
            every: Some(1),
        };
        let full_config = TrainConfig {
            schedule: schedule.clone(),
            clip: Some(GradientClip::GlobalNorm { max_norm: 1.0 }),
            ..config(4, adam())
        };

        let straight = Trainer::new(full_config.clone(), &device)
            .unwrap()
            .with_progress(false)
            .fit(model(&device, 3), &batcher, &train, Some(&dev))
            .unwrap();

        let dir = scratch_dir(&format!("resume-{backend}"));
        let first_half = Trainer::new(
            TrainConfig {
                epochs: 2,
                ..full_config.clone()
            },
            &device,
        )
        .unwrap()
        .with_progress(false)
        .with_output(&dir)
        .fit(model(&device, 3), &batcher, &train, Some(&dev))
        .unwrap();
        assert_eq!(first_half.epochs_run, 2);
        // A different initial model: resume must replace every parameter.
        let resumed = Trainer::new(full_config, &device)
            .unwrap()
            .with_progress(false)
            .with_output(&dir)
            .resume(
                model(&device, 99),
                &dir.join(files::LAST),
                &batcher,
                &train,
                Some(&dev),
            )
            .unwrap();
        assert_eq!(resumed.epochs_run, 4);
        assert_eq!(
            parameter_bits(&straight.model),
            parameter_bits(&resumed.model),
            "{backend}: resumed parameters differ"
        );
        let without_timing = |records: &[serde_json::Map<String, serde_json::Value>]| {
            records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.remove("train_seconds");
                    r.remove("examples_per_second");
                    r
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            without_timing(&straight.history),
            without_timing(&resumed.history),
            "{backend}: resumed metrics differ"
        );
        let log = std::fs::read_to_string(dir.join(files::LOG)).unwrap();
        assert_eq!(log.lines().count(), 4, "one log line per epoch:\n{log}");
    }
}

#[test]
fn logistic_regression_separates_separable_data_on_cpu_backends() {
    for backend in [BackendKind::Flex, BackendKind::Ndarray] {
        let device = backend.train_device().unwrap();
        let train = separable(400, D, 0.1, 11);
        let test = separable(200, D, 0.1, 12);
        let batcher = DenseBatcher { d_input: D };
        let trained = Trainer::new(config(30, adam()), &device)
            .unwrap()
            .with_progress(false)
            .fit(model(&device, 1), &batcher, &train, None)
            .unwrap();
        let scores = evaluate(&trained.best_model, &batcher, &test, 64, &device).unwrap();
        let accuracy = scores
            .metric(kindling_core::metrics::Metric::Accuracy)
            .unwrap();
        assert!(accuracy >= 0.98, "{backend}: test accuracy {accuracy}");
    }
}

/// Trains the separable task for 3 epochs with Adam and returns the per-epoch training losses
/// and the final parameters' bits.
fn train_three_epochs(config: TrainConfig) -> (Vec<f64>, Vec<u32>) {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(120, D, 0.05, 21);
    let batcher = DenseBatcher { d_input: D };
    let trained = Trainer::new(config, &device)
        .unwrap()
        .with_progress(false)
        .fit(model(&device, 5), &batcher, &train, None)
        .unwrap();
    let losses = trained
        .history
        .iter()
        .map(|r| r["train_loss"].as_f64().unwrap())
        .collect();
    (losses, parameter_bits(&trained.model))
}

#[test]
fn same_seed_same_metrics_different_seed_different_order() {
    let run = |seed: u64| {
        train_three_epochs(TrainConfig {
            seed,
            ..config(3, adam())
        })
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a.1, run(2).1, "the seed drives the data order");
}

#[test]
fn prefetching_batches_changes_nothing_but_the_thread_they_are_built_on() {
    let run = |prefetch: usize| {
        train_three_epochs(TrainConfig {
            prefetch,
            ..config(3, adam())
        })
    };
    let inline = run(0);
    assert_eq!(inline, run(1));
    assert_eq!(inline, run(4));
}

#[test]
fn every_optimizer_reduces_the_loss() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(200, D, 0.05, 31);
    let batcher = DenseBatcher { d_input: D };
    let optimizers = [
        OptimizerConfig::Sgd {
            lr: 0.5,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0,
        },
        adam(),
        OptimizerConfig::AdamW {
            lr: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.01,
        },
        OptimizerConfig::kim_adadelta(),
    ];
    for optimizer in optimizers {
        let trained = Trainer::new(config(5, optimizer.clone()), &device)
            .unwrap()
            .with_progress(false)
            .fit(model(&device, 2), &batcher, &train, None)
            .unwrap();
        let losses: Vec<f64> = trained
            .history
            .iter()
            .map(|r| r["train_loss"].as_f64().unwrap())
            .collect();
        assert!(losses[4] < 0.8 * losses[0], "{optimizer:?}: {losses:?}");
    }
}

#[test]
fn early_stopping_keeps_the_best_epoch_and_checkpoint() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(100, D, 0.2, 41);
    let dev = separable(40, D, 0.2, 42);
    let batcher = DenseBatcher { d_input: D };
    let dir = scratch_dir("early-stopping");
    let trained = Trainer::new(
        TrainConfig {
            patience: Some(2),
            ..config(50, adam())
        },
        &device,
    )
    .unwrap()
    .with_progress(false)
    .with_output(&dir)
    .fit(model(&device, 4), &batcher, &train, Some(&dev))
    .unwrap();
    assert!(
        trained.stopped_early,
        "dev accuracy saturates long before 50 epochs"
    );
    assert_eq!(trained.epochs_run, trained.best_epoch + 2);
    let best = Checkpoint::load(&dir.join(files::BEST)).unwrap();
    let restored = best
        .restore_model(model(&device, 77), &dir.join(files::BEST))
        .unwrap();
    assert_eq!(
        parameter_bits(&restored),
        parameter_bits(&trained.best_model)
    );
    assert_eq!(best.state["best_epoch"], trained.best_epoch);
}

#[test]
fn damaged_or_foreign_checkpoints_are_clear_errors() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(40, D, 0.1, 51);
    let batcher = DenseBatcher { d_input: D };
    let dir = scratch_dir("damaged");
    Trainer::new(config(1, adam()), &device)
        .unwrap()
        .with_progress(false)
        .with_output(&dir)
        .fit(model(&device, 1), &batcher, &train, None)
        .unwrap();
    let path = dir.join(files::LAST);
    let bytes = std::fs::read(&path).unwrap();

    let truncated = dir.join("truncated.ckpt");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    let err = Checkpoint::load(&truncated).err().unwrap().to_string();
    assert!(
        err.contains("truncated.ckpt") && err.contains("truncated"),
        "{err}"
    );

    let flipped = dir.join("flipped.ckpt");
    let mut corrupt = bytes.clone();
    let last = corrupt.len() - 3;
    corrupt[last] ^= 0x40;
    std::fs::write(&flipped, &corrupt).unwrap();
    let err = Checkpoint::load(&flipped).err().unwrap().to_string();
    assert!(err.contains("corrupt"), "{err}");

    let garbage = dir.join("garbage.ckpt");
    std::fs::write(&garbage, b"hello").unwrap();
    let err = Checkpoint::load(&garbage).err().unwrap().to_string();
    assert!(err.contains("not a `KNDLCKPT` file"), "{err}");

    // A checkpoint of a model with another shape.
    let wider = model_with_input(&device, D + 1, 1);
    let err = Checkpoint::load(&path)
        .unwrap()
        .restore_model(wider, &path)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not fit this model"), "{err}");

    // Resuming with another optimizer.
    let err = Trainer::new(
        config(
            2,
            OptimizerConfig::Adadelta {
                lr: 1.0,
                rho: 0.9,
                epsilon: 1e-6,
                weight_decay: 0.0,
                sparse_rows: false,
            },
        ),
        &device,
    )
    .unwrap()
    .with_progress(false)
    .resume(model(&device, 1), &path, &batcher, &train, None)
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("different training config"), "{err}");
}

#[test]
fn non_finite_loss_stops_training_naming_the_step() {
    let device = BackendKind::Flex.train_device().unwrap();
    let mut train = separable(64, D, 0.1, 61);
    train[40].features[0] = f32::NAN;
    let batcher = DenseBatcher { d_input: D };
    let err = Trainer::new(
        TrainConfig {
            shuffle: false,
            ..config(2, adam())
        },
        &device,
    )
    .unwrap()
    .with_progress(false)
    .fit(model(&device, 1), &batcher, &train, None)
    .err()
    .unwrap();
    match err {
        Error::NonFiniteLoss { epoch, step, .. } => assert_eq!((epoch, step), (1, 3)),
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn weights_made_infinite_by_the_last_step_of_an_epoch_are_never_saved() {
    let device = BackendKind::Flex.train_device().unwrap();
    // Large features and the largest learning rate f32 holds: the one step of the diverging
    // run's first epoch sends the weights to infinity, after a finite loss.
    let mut train = separable(16, D, 0.1, 81);
    for example in &mut train {
        for x in &mut example.features {
            *x *= 1e3;
        }
    }
    let batcher = DenseBatcher { d_input: D };
    let dir = scratch_dir("non-finite-weights");
    let first = TrainConfig {
        shuffle: false,
        ..config(1, adam())
    };
    Trainer::new(first.clone(), &device)
        .unwrap()
        .with_progress(false)
        .with_output(&dir)
        .fit(model(&device, 1), &batcher, &train, Some(&train))
        .unwrap();
    let good_best = best_checkpoint_bits(&dir, &device);
    let sgd = OptimizerConfig::Sgd {
        lr: 3e38,
        momentum: 0.0,
        nesterov: false,
        weight_decay: 0.0,
    };
    let err = Trainer::new(
        TrainConfig {
            shuffle: false,
            batch_size: 16,
            ..config(2, sgd)
        },
        &device,
    )
    .unwrap()
    .with_progress(false)
    .with_output(dir.join("diverged"))
    .fit(model(&device, 1), &batcher, &train, Some(&train))
    .err()
    .unwrap();
    match &err {
        Error::NonFinite { what, epoch, step } => {
            assert_eq!((*epoch, *step), (1, 1), "{err}");
            assert!(what.contains("weight"), "{err}");
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(!dir.join("diverged").join(files::BEST).exists());
    assert!(!dir.join("diverged").join(files::LAST).exists());
    assert_eq!(best_checkpoint_bits(&dir, &device), good_best);
}

#[test]
fn settings_out_of_range_are_refused_before_training() {
    let device = BackendKind::Flex.train_device().unwrap();
    let refused = |config: TrainConfig, expected: &str| {
        let err = Trainer::new(config, &device).err().unwrap().to_string();
        assert!(err.contains(expected), "expected `{expected}` in: {err}");
    };
    let adam_with = |lr: f64, epsilon: f64, weight_decay: f64| OptimizerConfig::Adam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        epsilon,
        weight_decay,
    };
    for lr in [1e300, 1e-300, f64::NAN, f64::INFINITY, 0.0, -1.0] {
        refused(config(1, adam_with(lr, 1e-8, 0.0)), "optimizer.lr");
    }
    for epsilon in [0.0, -1e-8, 1e-60, f64::NAN, 2.0] {
        refused(
            config(1, adam_with(0.01, epsilon, 0.0)),
            "optimizer.epsilon",
        );
    }
    for weight_decay in [-0.1, 1.0, f64::NAN] {
        refused(
            config(1, adam_with(0.01, 1e-8, weight_decay)),
            "optimizer.weight_decay",
        );
    }
    refused(
        TrainConfig {
            patience: Some(0),
            ..config(1, adam())
        },
        "patience must be in 1..=",
    );
    refused(
        TrainConfig {
            prefetch: 1 << 40,
            ..config(1, adam())
        },
        "prefetch must be in 0..=",
    );
    refused(
        TrainConfig {
            batch_size: usize::MAX,
            ..config(1, adam())
        },
        "batch_size must be in 1..=",
    );
    refused(config(0, adam()), "epochs must be in 1..=");
    assert!(Trainer::new(config(1, adam()), &device).is_ok());
}

#[test]
fn a_metric_the_model_does_not_report_is_an_error() {
    let device = BackendKind::Flex.train_device().unwrap();
    let train = separable(20, D, 0.1, 71);
    let batcher = DenseBatcher { d_input: D };
    let err = Trainer::new(
        TrainConfig {
            monitor: kindling_core::metrics::Metric::Perplexity,
            ..config(1, adam())
        },
        &device,
    )
    .unwrap()
    .with_progress(false)
    .fit(model(&device, 1), &batcher, &train, None)
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("`perplexity`") && err.contains("accuracy"),
        "{err}"
    );
}

#[test]
fn a_misspelt_monitor_is_an_error_when_the_config_is_read() {
    let err = serde_json::from_value::<TrainConfig>(serde_json::json!({
        "epochs": 1, "batch_size": 4, "seed": 1,
        "optimizer": {"kind": "adam", "lr": 0.01},
        "monitor": "acuracy"
    }))
    .unwrap_err()
    .to_string();
    assert!(err.contains("acuracy") && err.contains("accuracy"), "{err}");
}
