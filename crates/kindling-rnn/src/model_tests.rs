//! The models: padding never changes a sentence's result, pooling reads real steps only, the
//! language model's carried state equals reading the stream in one go, and saved runs load
//! back to the same predictions.

use kindling_core::BackendKind;
use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::optim::OptimizerConfig;
use kindling_core::seed::{SeededRng, build_seeded};
use kindling_core::train::{Outcome, TrainConfig, TrainStep, Trainer};
use kindling_data::bptt::{BpttBatcher, bptt_windows};
use kindling_data::tagged::{TaggedBatcher, TaggedExample};
use kindling_data::{TokenCounts, Vocab, VocabConfig};

use crate::*;

fn device() -> Device {
    BackendKind::Flex.device().unwrap()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() <= tolerance, "{actual:?}\nvs\n{expected:?}");
    }
}

/// `rows` padded with 0 to the longest, as `[batch, len]`.
fn tokens(rows: &[&[i64]], len: usize, device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows
        .iter()
        .flat_map(|r| r.iter().copied().chain(std::iter::repeat(0)).take(len))
        .collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), len]), device)
}

#[test]
fn a_sentences_scores_do_not_depend_on_padding_or_batch_mates() {
    let device = device();
    for cell in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
        for pooling in [Pooling::Last, Pooling::Mean, Pooling::Max] {
            let config = RnnClassifierConfig::new(
                5,
                EncoderConfig::new(cell, 4)
                    .with_bidirectional(true)
                    .with_layers(2),
            )
            .with_pooling(pooling);
            let model = build_seeded(&device, 7, || config.init(12, 3, &device).unwrap());
            let alone = model
                .forward(tokens(&[&[3, 4, 5]], 3, &device), &[3])
                .unwrap();
            let batched = model
                .forward(
                    tokens(&[&[3, 4, 5], &[6, 7, 8, 9, 10, 11]], 8, &device),
                    &[3, 6],
                )
                .unwrap();
            assert_close(&values(batched.narrow(0, 0, 1)), &values(alone), 1e-5);
        }
    }
}

#[test]
fn pooling_reads_real_steps_only() {
    let device = device();
    // Two sequences of lengths 2 and 3, one feature; padding outputs are zero (as the
    // encoders give them) and must not win the maximum or count in the mean.
    let outputs = Tensor::<3>::from_data(
        TensorData::new(vec![-1.0f32, -3.0, 0.0, 2.0, 4.0, 6.0], [2, 3, 1]),
        &device,
    );
    let last = Tensor::<2>::from_data(TensorData::new(vec![-3.0f32, 6.0], [2, 1]), &device);
    let encoded = || Encoded {
        outputs: outputs.clone(),
        last: last.clone(),
    };
    assert_eq!(
        values(Pooling::Max.pool(encoded(), &[2, 3])),
        vec![-1.0, 6.0]
    );
    assert_eq!(
        values(Pooling::Mean.pool(encoded(), &[2, 3])),
        vec![-2.0, 4.0]
    );
    assert_eq!(
        values(Pooling::Last.pool(encoded(), &[2, 3])),
        vec![-3.0, 6.0]
    );
}

#[test]
fn the_last_state_of_a_bidirectional_encoder_is_each_directions_final() {
    let device = device();
    let encoder = build_seeded(&device, 3, || {
        EncoderConfig::new(CellKind::Gru, 3)
            .with_bidirectional(true)
            .init(2, &device)
            .unwrap()
    });
    let x = kindling_core::seed::with_device_rng(&device, 1, || {
        Tensor::<3>::random(
            [2, 4, 2],
            kindling_core::burn::tensor::Distribution::Default,
            &device,
        )
    });
    let encoded = encoder.forward(x, Some(&[4, 2])).unwrap();
    assert_eq!(encoder.d_output(), 6);
    let outputs = values(encoded.outputs);
    let last = values(encoded.last);
    // Sequence 1 (length 2): forwards ends at step 1, backwards at step 0.
    let at = |b: usize, t: usize, k: usize| outputs[(b * 4 + t) * 6 + k];
    for k in 0..3 {
        assert!((last[6 + k] - at(1, 1, k)).abs() < 1e-6);
        assert!((last[6 + 3 + k] - at(1, 0, 3 + k)).abs() < 1e-6);
        assert!((last[k] - at(0, 3, k)).abs() < 1e-6);
    }
}

fn tagging_vocab() -> Vocab {
    let mut counts = TokenCounts::new();
    for w in ["the", "dog", "runs", "a", "cat", "sleeps"] {
        counts.add(w);
    }
    Vocab::build(&counts, &VocabConfig::default())
}

#[test]
fn a_trained_tagger_learns_a_toy_task_and_loads_back_from_its_run() {
    let device = device();
    let vocab = tagging_vocab();
    let tags = vec!["det".to_string(), "noun".to_string(), "verb".to_string()];
    let sentence = |words: &[&str], tag_ids: &[u32]| TaggedExample {
        ids: vocab
            .encode(words, kindling_data::OnUnknown::Error)
            .unwrap(),
        tags: tag_ids.to_vec(),
    };
    let train = vec![
        sentence(&["the", "dog", "runs"], &[0, 1, 2]),
        sentence(&["a", "cat", "sleeps"], &[0, 1, 2]),
        sentence(&["the", "cat"], &[0, 1]),
        sentence(&["a", "dog", "sleeps"], &[0, 1, 2]),
    ];
    let config = TaggerConfig::new(
        6,
        EncoderConfig::new(CellKind::Lstm, 8).with_bidirectional(true),
    )
    .with_dropout(0.0);
    let train_device = device.clone().autodiff();
    let model = build_seeded(&train_device, 1, || {
        config.init(vocab.len(), 3, &train_device).unwrap()
    });
    let dir = std::env::temp_dir().join(format!("kindling-tagger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let batcher = TaggedBatcher::new(vocab.pad_id().unwrap());
    let mut train_config = TrainConfig::new(40, 2, 1, OptimizerConfig::adam(0.05));
    train_config.monitor = kindling_core::metrics::Metric::Accuracy;
    train_config.goal = kindling_core::schedule::Goal::Max;
    let trained = Trainer::new(train_config, &device)
        .unwrap()
        .with_output(&dir)
        .with_progress(false)
        .fit(model, &batcher, &train, Some(&train))
        .unwrap();
    assert_eq!(
        trained.best_metric,
        Some(1.0),
        "token accuracy on the training set"
    );
    let text = saved::TextPreparation::words(true);
    saved::save_tagger(&dir, &config, text, &tags, &vocab).unwrap();

    let tagger = saved::SavedTagger::load(&dir, &device).unwrap();
    assert_eq!(tagger.text_preparation(), text);
    let got = tagger
        .tag(&[vec!["the", "dog", "runs"], vec![], vec!["a", "cat"]])
        .unwrap();
    assert_eq!(got[0], vec!["det", "noun", "verb"]);
    assert!(got[1].is_empty());
    assert_eq!(got[2], vec!["det", "noun"]);
    // Raw text is prepared as the training data was: "The" is read as "the".
    let raw = tagger.tag_text(&["The  Dog runs", ""]).unwrap();
    let pair = |w: &str, t: &str| (w.to_string(), t.to_string());
    assert_eq!(
        raw[0],
        [
            pair("The", "det"),
            pair("Dog", "noun"),
            pair("runs", "verb")
        ]
    );
    assert!(raw[1].is_empty());
    assert!(saved::SavedLanguageModel::load(&dir, &device).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_taggers_step_scores_every_real_token_once() {
    let device = device();
    let vocab = tagging_vocab();
    let config = TaggerConfig::new(
        4,
        EncoderConfig::new(CellKind::Gru, 3).with_bidirectional(true),
    );
    let model = build_seeded(&device, 2, || config.init(vocab.len(), 5, &device).unwrap());
    let batch = kindling_core::train::Batcher::batch(
        &TaggedBatcher::new(0),
        &[
            TaggedExample {
                ids: vec![3, 4, 5],
                tags: vec![0, 1, 2],
            },
            TaggedExample {
                ids: vec![6],
                tags: vec![4],
            },
        ],
        &device,
    );
    let out = model.valid().step(&batch);
    assert_eq!(out.examples, 4);
    match out.outcome {
        Outcome::Classes { gold, predicted } => {
            assert_eq!(gold, vec![0, 1, 2, 4]);
            assert_eq!(predicted.len(), 4);
        }
        other => panic!("expected classes, got {other:?}"),
    }
}

#[test]
fn carrying_the_state_across_windows_equals_reading_the_stream_at_once() {
    let device = device();
    let config = LanguageModelConfig::new(5, 6).with_dropout(0.0);
    let model = build_seeded(&device, 4, || config.init(20, &device).unwrap());
    let stream: Vec<u32> = (0..41).map(|i| (i * 7 % 20) as u32).collect();
    // Two rows of 20 tokens: 19 steps each, in windows of 5.
    let windows = bptt_windows(&stream, 2, 5);
    let mut carried = 0.0;
    let mut tokens = 0;
    for window in &windows {
        let batch = kindling_core::train::Batcher::batch(
            &BpttBatcher,
            std::slice::from_ref(window),
            &device,
        );
        match model.step(&batch).outcome {
            Outcome::Tokens { nll_sum, tokens: n } => {
                carried += nll_sum;
                tokens += n;
            }
            other => panic!("expected tokens, got {other:?}"),
        }
    }
    let whole = kindling_core::train::Batcher::batch(&BpttBatcher, &windows, &device);
    let Outcome::Tokens { nll_sum, tokens: n } = model.step(&whole).outcome else {
        panic!("expected tokens")
    };
    assert_eq!(n, tokens);
    assert!(
        (nll_sum - carried).abs() < 1e-3 * nll_sum,
        "{nll_sum} vs {carried}"
    );
    // Starting a stream again forgets the carried state: the first window scores the same.
    let first = kindling_core::train::Batcher::batch(&BpttBatcher, &windows[..1], &device);
    let again = |m: &LanguageModel| match m.step(&first).outcome {
        Outcome::Tokens { nll_sum, .. } => nll_sum,
        _ => unreachable!(),
    };
    assert_eq!(again(&model), again(&model));
}

#[test]
fn tying_needs_equal_sizes_and_shares_the_embedding() {
    let device = device();
    let bad = LanguageModelConfig::new(5, 6).with_tied(true);
    assert!(matches!(
        bad.validate(),
        Err(Error::InvalidConfig { field: "tied", .. })
    ));
    let tied = LanguageModelConfig::new(6, 6)
        .with_tied(true)
        .init(10, &device)
        .unwrap();
    let untied = LanguageModelConfig::new(6, 6).init(10, &device).unwrap();
    assert_eq!(untied.num_params() - tied.num_params(), 6 * 10);
}

#[test]
fn generation_is_seeded_and_checks_its_inputs() {
    let device = device();
    let model = build_seeded(&device, 5, || {
        LanguageModelConfig::new(4, 4).init(9, &device).unwrap()
    });
    let sample = |seed| {
        model
            .generate(&[1, 2], 12, 0.8, None, &mut SeededRng::new(seed))
            .unwrap()
    };
    assert_eq!(sample(3), sample(3));
    assert_eq!(sample(3).len(), 12);
    assert!(sample(3).iter().all(|&w| w < 9));
    let free = model
        .generate(&[1], 50, 1.0, None, &mut SeededRng::new(3))
        .unwrap();
    let stop = model
        .generate(&[1], 50, 1.0, Some(free[0]), &mut SeededRng::new(3))
        .unwrap();
    assert_eq!(stop.len(), 1, "stops right after the stop word");
    let mut rng = SeededRng::new(1);
    assert!(model.generate(&[], 3, 1.0, None, &mut rng).is_err());
    assert!(model.generate(&[9], 3, 1.0, None, &mut rng).is_err());
    assert!(model.generate(&[1], 3, 0.0, None, &mut rng).is_err());
}

#[test]
fn pytorch_initialisation_draws_every_lstm_weight_and_bias_uniformly() {
    let device = device();
    let layer = build_seeded(&device, 29, || {
        crate::LstmConfig::new(3, 4)
            .with_cell(crate::LstmCellConfig::pytorch(3, 4))
            .with_n_layers(2)
            .init(&device)
            .unwrap()
    });
    // k = 1/√4: every value in [−0.5, 0.5), none of them the kindling default's forget bias 1.
    for cell in &layer.cells {
        for v in [
            values(cell.input_weight.val()),
            values(cell.recurrent_weight.val()),
            values(cell.input_bias.val()),
            values(cell.hidden_bias.val()),
        ] {
            assert!(v.iter().all(|x| (-0.5..0.5).contains(x)), "{v:?}");
            assert!(v.iter().any(|&x| x != 0.0), "{v:?}");
        }
    }
    let config: LanguageModelConfig =
        serde_json::from_str(r#"{"dim": 4, "hidden": 4, "lstm_init": "pytorch"}"#).unwrap();
    assert_eq!(config.lstm_init, crate::LstmInit::Pytorch);
    assert!(
        serde_json::from_str::<LanguageModelConfig>(
            r#"{"dim": 4, "hidden": 4, "lstm_init": "torch"}"#
        )
        .is_err()
    );
}
