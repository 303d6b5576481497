//! The same models on every backend: training converges on wgpu too (lavapipe in CI), and
//! forward passes agree between the CPU and wgpu (softmax regression, Kim's CNN, masked
//! bidirectional LSTM and GRU layers, and the recurrent classifier, tagger and language model,
//! trained too).

use kindling_core::BackendKind;
use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Tensor, TensorData};
use kindling_core::models::{DenseBatcher, SoftmaxRegressionConfig};
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::Goal;
use kindling_core::seed::SeededRng;
use kindling_core::seed::build_seeded;
use kindling_core::train::{Batcher, TrainConfig, Trainer, evaluate};
use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
use kindling_tests::separable;
use kindling_textcnn::{TextCnn, TextCnnConfig};

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
        monitor: kindling_core::metrics::Metric::Accuracy,
        goal: Goal::Max,
        ..TrainConfig::new(30, 16, 7, OptimizerConfig::adam(0.05))
    };
    let trained = Trainer::new(config, &device)
        .unwrap()
        .with_progress(false)
        .fit(model, &batcher, &train, None)
        .unwrap();
    let accuracy = evaluate(&trained.best_model, &batcher, &test, 64, &device)
        .unwrap()
        .metric(kindling_core::metrics::Metric::Accuracy)
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

/// Two classes told apart by which half of a 20-word vocabulary a sentence uses; id 0 pads.
fn word_halves(n: usize, seed: u64) -> Vec<EncodedExample> {
    let mut rng = SeededRng::new(seed);
    (0..n)
        .map(|i| {
            let label = (i % 2) as u32;
            let len = 2 + rng.below(6) as usize;
            let ids = (0..len)
                .map(|_| 1 + label * 10 + rng.below(10) as u32)
                .collect();
            EncodedExample { ids, label }
        })
        .collect()
}

#[test]
fn text_cnn_trains_on_wgpu_and_agrees_with_the_cpu() {
    let config = TextCnnConfig::new(8)
        .with_filter_widths(vec![2, 3])
        .with_feature_maps(4);
    let batcher = SequenceBatcher::new(Padding {
        min_len: 3,
        ..Padding::new(0)
    });
    let examples = word_halves(40, 3);
    let cpu = BackendKind::Flex.device().unwrap();
    let gpu = BackendKind::Wgpu.device().unwrap();
    let model = build_seeded(&cpu, 2, || config.init(21, 2, &cpu).unwrap());
    let logits = |model: TextCnn, device| {
        let batch = batcher.batch(&examples, device);
        model
            .forward(batch.tokens, &batch.lengths)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let on_cpu = logits(model.clone(), &cpu);
    let on_gpu = logits(model.to_device(&gpu), &gpu);
    for (c, g) in on_cpu.iter().zip(&on_gpu) {
        assert!((c - g).abs() <= 1e-4, "cpu {c} vs wgpu {g}");
    }

    let device = BackendKind::Wgpu.train_device().unwrap();
    let model = build_seeded(&device, 2, || config.init(21, 2, &device).unwrap());
    let trained = Trainer::new(
        TrainConfig::new(4, 10, 1, OptimizerConfig::kim_adadelta()),
        &device,
    )
    .unwrap()
    .with_progress(false)
    .fit(model, &batcher, &word_halves(80, 4), None)
    .unwrap();
    let accuracy = evaluate(&trained.model, &batcher, &examples, 40, &device)
        .unwrap()
        .metric(kindling_core::metrics::Metric::Accuracy)
        .unwrap();
    assert!(accuracy >= 0.9, "wgpu text CNN accuracy {accuracy}");
}

/// A masked batch of mixed lengths through a stacked bidirectional LSTM and a bidirectional
/// reset-before GRU: outputs and final states agree between burn-flex and wgpu within 1e-4.
#[test]
fn recurrent_layers_agree_between_cpu_and_wgpu() {
    use kindling_rnn::{GruCellConfig, GruConfig, GruReset, LstmConfig};

    let cpu = BackendKind::Flex.device().unwrap();
    let gpu = BackendKind::Wgpu.device().unwrap();
    let (batch, len, d_input, d_hidden) = (3, 5, 4, 6);
    let lengths = [5, 2, 4];
    let mut rng = SeededRng::new(21);
    let values: Vec<f32> = (0..batch * len * d_input)
        .map(|_| rng.next_f64() as f32 * 2.0 - 1.0)
        .collect();
    let input = |device| {
        Tensor::<3>::from_data(
            TensorData::new(values.clone(), [batch, len, d_input]),
            device,
        )
    };
    let close = |name: &str, a: Tensor<3>, b: Tensor<3>| {
        let a: Vec<f32> = a.into_data().try_to_vec().unwrap();
        let b: Vec<f32> = b.into_data().try_to_vec().unwrap();
        assert_eq!(a.len(), b.len(), "{name}");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-4, "{name}: cpu {x} vs wgpu {y}");
        }
    };

    let lstm = build_seeded(&cpu, 5, || {
        LstmConfig::new(d_input, d_hidden)
            .with_n_layers(2)
            .with_bidirectional(true)
            .init(&cpu)
            .unwrap()
    });
    let (out_cpu, states_cpu) = lstm.forward(input(&cpu), Some(&lengths), None).unwrap();
    let (out_gpu, states_gpu) = lstm
        .to_device(&gpu)
        .forward(input(&gpu), Some(&lengths), None)
        .unwrap();
    close("lstm outputs", out_cpu, out_gpu);
    close("lstm hidden", states_cpu.hidden, states_gpu.hidden);
    close("lstm cell", states_cpu.cell, states_gpu.cell);

    let gru = build_seeded(&cpu, 6, || {
        GruConfig::new(d_input, d_hidden)
            .with_cell(GruCellConfig::new(d_input, d_hidden).with_reset(GruReset::Before))
            .with_bidirectional(true)
            .init(&cpu)
            .unwrap()
    });
    let (out_cpu, hidden_cpu) = gru.forward(input(&cpu), Some(&lengths), None).unwrap();
    let (out_gpu, hidden_gpu) = gru
        .to_device(&gpu)
        .forward(input(&gpu), Some(&lengths), None)
        .unwrap();
    close("gru outputs", out_cpu, out_gpu);
    close("gru hidden", hidden_cpu, hidden_gpu);
}

/// The recurrent models give the same results on burn-flex (whose LSTM runs as one fused
/// operation) and on wgpu (composed from tensor operations): class probabilities before and
/// after two epochs of training (so the gradients agree too), a tagger's scores and a language
/// model's perplexity after training with its state carried across windows.
#[test]
fn recurrent_models_agree_between_cpu_and_wgpu() {
    use kindling_data::bptt::{BpttBatcher, bptt_windows};
    use kindling_rnn::{
        CellKind, EncoderConfig, LanguageModelConfig, Pooling, RnnClassifierConfig, TaggerConfig,
    };

    let cpu = BackendKind::Flex.device().unwrap();
    let gpu = BackendKind::Wgpu.device().unwrap();
    let close = |name: &str, a: Vec<f32>, b: Vec<f32>| {
        assert_eq!(a.len(), b.len(), "{name}");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-4, "{name}: cpu {x} vs wgpu {y}");
        }
    };
    let values = |t: Tensor<2>| -> Vec<f32> { t.into_data().try_to_vec().unwrap() };
    let sgd: OptimizerConfig =
        serde_json::from_value(serde_json::json!({ "kind": "sgd", "lr": 0.5 })).unwrap();
    let train_config = TrainConfig {
        shuffle: false,
        ..TrainConfig::new(2, 4, 3, sgd)
    };

    // A BiLSTM-max classifier on sentences of mixed lengths.
    let examples = word_halves(12, 9);
    let batcher = SequenceBatcher::new(Padding::new(0));
    let config = RnnClassifierConfig::new(
        6,
        EncoderConfig::new(CellKind::Lstm, 5).with_bidirectional(true),
    )
    .with_pooling(Pooling::Max)
    .with_dropout(0.0);
    let (cpu_train, gpu_train) = (cpu.clone().autodiff(), gpu.clone().autodiff());
    // Each training run gets its own copy, built from the same seed: a model whose graph was
    // consumed by one run cannot be trained again.
    let fresh = || build_seeded(&cpu_train, 4, || config.init(21, 2, &cpu_train).unwrap());
    // The same weights as trainable parameters of a model built on wgpu (moving a tracked
    // model would record the move in the CPU's graph).
    let on_wgpu = |model: kindling_rnn::RnnClassifier| {
        config
            .init(21, 2, &gpu_train)
            .unwrap()
            .load_record(model.valid().to_device(&gpu).into_record())
    };
    let model = fresh();
    let probabilities = |model: &kindling_rnn::RnnClassifier, device| {
        let batch = batcher.batch(&examples, device);
        values(model.probabilities(batch.tokens, &batch.lengths).unwrap())
    };
    close(
        "classifier before training",
        probabilities(&model.valid(), &cpu),
        probabilities(&model.valid().to_device(&gpu), &gpu),
    );
    let trained_cpu = Trainer::new(train_config.clone(), &cpu)
        .unwrap()
        .with_progress(false)
        .fit(model.clone(), &batcher, &examples, None)
        .unwrap()
        .model
        .valid();
    let trained_gpu = Trainer::new(train_config.clone(), &gpu)
        .unwrap()
        .with_progress(false)
        .fit(on_wgpu(fresh()), &batcher, &examples, None)
        .unwrap()
        .model
        .valid();
    close(
        "classifier after training",
        probabilities(&trained_cpu, &cpu),
        probabilities(&trained_gpu, &gpu),
    );

    // A tagger's scores.
    let tagger = build_seeded(&cpu, 5, || {
        TaggerConfig::new(
            6,
            EncoderConfig::new(CellKind::Lstm, 4).with_bidirectional(true),
        )
        .init(21, 3, &cpu)
        .unwrap()
    });
    let scores = |tagger: &kindling_rnn::Tagger, device| {
        let batch = batcher.batch(&examples, device);
        values(tagger.forward(batch.tokens, &batch.lengths).unwrap())
    };
    close(
        "tagger",
        scores(&tagger, &cpu),
        scores(&tagger.clone().to_device(&gpu), &gpu),
    );

    // A language model trained over carried windows, then its perplexity.
    let stream: Vec<u32> = (0..200u32).map(|i| (i * i + 3 * i) % 17).collect();
    let windows = bptt_windows(&stream, 3, 6);
    let lm = || {
        build_seeded(&cpu_train, 6, || {
            LanguageModelConfig::new(5, 5)
                .with_dropout(0.0)
                .init(17, &cpu_train)
                .unwrap()
        })
    };
    let lm_config = TrainConfig {
        clip: None,
        ..train_config
    };
    let perplexity = |model: kindling_rnn::LanguageModel,
                      device: &kindling_core::burn::tensor::Device| {
        let trained = Trainer::new(lm_config.clone(), device)
            .unwrap()
            .with_progress(false)
            .fit(model, &BpttBatcher, &windows, None)
            .unwrap()
            .model;
        evaluate(&trained, &BpttBatcher, &windows, 4, device)
            .unwrap()
            .metric(kindling_core::metrics::Metric::Perplexity)
            .unwrap() as f32
    };
    let on_cpu = perplexity(lm(), &cpu);
    let on_gpu = perplexity(
        LanguageModelConfig::new(5, 5)
            .with_dropout(0.0)
            .init(17, &gpu_train)
            .unwrap()
            .load_record(lm().valid().to_device(&gpu).into_record()),
        &gpu,
    );
    assert!(
        (on_cpu - on_gpu).abs() <= 1e-3 * on_cpu,
        "perplexity: cpu {on_cpu} vs wgpu {on_gpu}"
    );
}
