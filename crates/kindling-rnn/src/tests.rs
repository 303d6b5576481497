//! Reference values, equivalences and gradients of the cells and sequence layers.

use kindling_core::BackendKind;
use kindling_core::burn::tensor::{Device, Distribution, Tensor, TensorData};
use kindling_core::seed::build_seeded;

use crate::init::trainable;
use crate::*;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() <= tolerance, "{actual:?}\nvs\n{expected:?}");
    }
}

/// PyTorch's fill of its `k`-th parameter (see the script below): element `j` is
/// `0.1 · sin(1 + j + 7k)`.
fn filled(k: usize, n: usize) -> Vec<f32> {
    (0..n)
        .map(|j| (0.1 * (1.0 + j as f64 + 7.0 * k as f64).sin()) as f32)
        .collect()
}

/// A PyTorch `[rows, cols]` weight filled as parameter `k`, transposed to burn's layout.
fn weight(k: usize, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::<2>::from_data(
        TensorData::new(filled(k, rows * cols), [rows, cols]),
        device,
    )
    .transpose()
}

fn vector(k: usize, n: usize, device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(filled(k, n), [n]), device)
}

/// The input of the script: `0.5 · cos(i)` as `[2, 3, 2]`.
fn reference_input(device: &Device) -> Tensor<3> {
    let x: Vec<f32> = (0..12).map(|i| (0.5 * (i as f64).cos()) as f32).collect();
    Tensor::from_data(TensorData::new(x, [2, 3, 2]), device)
}

/// Gives every cell PyTorch's parameters `4d … 4d + 3` (`weight_ih`, `weight_hh`, `bias_ih`,
/// `bias_hh`, then the same `_reverse`).
macro_rules! load_pytorch {
    ($layer:expr, $gates:expr, $device:expr) => {
        for (d, cell) in $layer.cells.iter_mut().enumerate() {
            let (h, d_in) = (3, 2);
            cell.input_weight = trainable(weight(4 * d, $gates * h, d_in, $device), $device);
            cell.recurrent_weight = trainable(weight(4 * d + 1, $gates * h, h, $device), $device);
            cell.input_bias = trainable(vector(4 * d + 2, $gates * h, $device), $device);
            cell.hidden_bias = trainable(vector(4 * d + 3, $gates * h, $device), $device);
        }
    };
}

// Reference values from PyTorch 2.15.0 (CPU), by this script:
//
// import torch
// def fill(m):
//     # Deterministic small weights: parameter k, element j -> 0.1 * sin(1 + j + 7k).
//     for k, (name, p) in enumerate(m.named_parameters()):
//         n = p.numel()
//         p.data = (0.1 * torch.sin(1.0 + torch.arange(n, dtype=torch.float64) + 7 * k)).float().reshape(p.shape)
// x = (0.5 * torch.cos(torch.arange(2 * 3 * 2, dtype=torch.float64))).float().reshape(2, 3, 2)
// for name, cls in [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)]:
//     m = cls(2, 3, batch_first=True, bidirectional=True)
//     fill(m)
//     out, h = m(x)
//     hn = h[0] if name == "lstm" else h
//     print(name, "out", [round(v, 6) for v in out.flatten().tolist()])
//     print(name, "h_n", [round(v, 6) for v in hn.flatten().tolist()])
//     if name == "lstm":
//         print(name, "c_n", [round(v, 6) for v in h[1].flatten().tolist()])

const RNN_OUT: [f32; 36] = [
    0.130041, -0.126126, -0.237565, -0.162844, 0.060887, 0.243095, 0.022213, -0.09482, -0.140459,
    -0.03773, 0.044284, 0.137992, 0.055414, -0.131036, -0.15791, -0.10139, 0.089578, 0.157262,
    0.137933, -0.134348, -0.238579, -0.169882, 0.065787, 0.247963, 0.037669, -0.096271, -0.153962,
    -0.052767, 0.042866, 0.151798, 0.03716, -0.12393, -0.143625, -0.08161, 0.085656, 0.140975,
];
const RNN_H: [f32; 12] = [
    0.055414, -0.131036, -0.15791, 0.03716, -0.12393, -0.143625, -0.162844, 0.060887, 0.243095,
    -0.169882, 0.065787, 0.247963,
];
const LSTM_OUT: [f32; 36] = [
    0.03971, -0.010363, -0.056961, -0.068635, 0.001522, 0.080417, 0.029808, -0.021201, -0.066677,
    -0.048638, 0.015112, 0.040072, 0.040917, -0.031852, -0.077604, -0.039189, 0.01191, 0.037184,
    0.042461, -0.011366, -0.058018, -0.069972, 0.001044, 0.083773, 0.033472, -0.019995, -0.070468,
    -0.048103, 0.013028, 0.042012, 0.037844, -0.031687, -0.076409, -0.036183, 0.013949, 0.031638,
];
const LSTM_H: [f32; 12] = [
    0.040917, -0.031852, -0.077604, 0.037844, -0.031687, -0.076409, -0.068635, 0.001522, 0.080417,
    -0.069972, 0.001044, 0.083773,
];
const LSTM_C: [f32; 12] = [
    0.087169, -0.063525, -0.142214, 0.081204, -0.06344, -0.13869, -0.128311, 0.003122, 0.169736,
    -0.13136, 0.002142, 0.176101,
];
const GRU_OUT: [f32; 36] = [
    0.073461, -0.003439, -0.091041, -0.106623, -0.016402, 0.124719, 0.055897, -0.017011, -0.08336,
    -0.065439, 0.012891, 0.056687, 0.077911, -0.036004, -0.095485, -0.059504, 0.0121, 0.057775,
    0.077961, -0.005471, -0.093971, -0.110603, -0.017285, 0.130376, 0.0633, -0.014445, -0.091872,
    -0.064254, 0.008956, 0.060389, 0.072363, -0.035738, -0.091703, -0.052546, 0.015827, 0.046808,
];
const GRU_H: [f32; 12] = [
    0.077911, -0.036004, -0.095485, 0.072363, -0.035738, -0.091703, -0.106623, -0.016402, 0.124719,
    -0.110603, -0.017285, 0.130376,
];

fn flex() -> Device {
    BackendKind::Flex.device().unwrap()
}

/// The forward half `[batch, len, 3]` of PyTorch's `[2, 3, 6]` bidirectional output.
fn forward_half(out: &[f32; 36]) -> Vec<f32> {
    out.chunks(6).flat_map(|row| row[..3].to_vec()).collect()
}

/// Steps a cell through the reference input's time steps, collecting `[batch, len, 3]`.
fn step_through<S: Clone>(
    start: S,
    mut step: impl FnMut(Tensor<2>, &S) -> S,
    hidden: impl Fn(&S) -> Tensor<2>,
    device: &Device,
) -> Vec<f32> {
    let x = reference_input(device);
    let mut state = start;
    let mut outs = Vec::new();
    for t in 0..3 {
        state = step(x.clone().narrow(1, t, 1).reshape([2, 2]), &state);
        outs.push(hidden(&state));
    }
    values(Tensor::stack::<3>(outs, 1))
}

#[test]
fn bidirectional_rnn_matches_pytorch() {
    let device = flex();
    let mut rnn = build_seeded(&device, 21, || {
        RnnConfig::new(2, 3)
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    load_pytorch!(rnn, 1, &device);
    let (out, h) = rnn.forward(reference_input(&device), None, None).unwrap();
    assert_eq!(out.dims(), [2, 3, 6]);
    assert_close(&values(out), &RNN_OUT, 2e-6);
    assert_close(&values(h), &RNN_H, 2e-6);
}

#[test]
fn bidirectional_lstm_matches_pytorch() {
    let device = flex();
    let mut lstm = build_seeded(&device, 22, || {
        LstmConfig::new(2, 3)
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    load_pytorch!(lstm, 4, &device);
    let (out, state) = lstm.forward(reference_input(&device), None, None).unwrap();
    assert_close(&values(out), &LSTM_OUT, 2e-6);
    assert_close(&values(state.hidden), &LSTM_H, 2e-6);
    assert_close(&values(state.cell), &LSTM_C, 2e-6);
}

#[test]
fn bidirectional_gru_matches_pytorch() {
    let device = flex();
    let mut gru = build_seeded(&device, 23, || {
        GruConfig::new(2, 3)
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    load_pytorch!(gru, 3, &device);
    let (out, h) = gru.forward(reference_input(&device), None, None).unwrap();
    assert_close(&values(out), &GRU_OUT, 2e-6);
    assert_close(&values(h), &GRU_H, 2e-6);
}

#[test]
fn cells_step_like_pytorch() {
    let device = flex();
    let mut rnn = build_seeded(&device, 24, || RnnConfig::new(2, 3).init(&device).unwrap());
    load_pytorch!(rnn, 1, &device);
    let cell = &rnn.cells[0];
    let stepped = step_through(
        cell.zero_state(2, &device),
        |x, h| cell.forward(x, h.clone()).unwrap(),
        Tensor::clone,
        &device,
    );
    assert_close(&stepped, &forward_half(&RNN_OUT), 2e-6);

    let mut lstm = build_seeded(&device, 25, || LstmConfig::new(2, 3).init(&device).unwrap());
    load_pytorch!(lstm, 4, &device);
    let cell = &lstm.cells[0];
    let stepped = step_through(
        cell.zero_state(2, &device),
        |x, s| cell.forward(x, s).unwrap(),
        |s| s.hidden.clone(),
        &device,
    );
    assert_close(&stepped, &forward_half(&LSTM_OUT), 2e-6);

    let mut gru = build_seeded(&device, 26, || GruConfig::new(2, 3).init(&device).unwrap());
    load_pytorch!(gru, 3, &device);
    let cell = &gru.cells[0];
    let stepped = step_through(
        cell.zero_state(2, &device),
        |x, h| cell.forward(x, h.clone()).unwrap(),
        Tensor::clone,
        &device,
    );
    assert_close(&stepped, &forward_half(&GRU_OUT), 2e-6);
}

/// The reset-before GRU, by hand, for `d_input = d_hidden = 1` and one step from `h = 0.5`:
/// `W = [0.1, 0.2, 0.3]`, `U = [0.4, 0.5, 0.6]`, `b_ih = [0.01, 0.02, 0.03]`, `b_hh = 0`,
/// `x = 1`.
#[test]
fn reset_before_gru_matches_the_formula() {
    let device = flex();
    let mut cell = build_seeded(&device, 27, || {
        GruCellConfig::new(1, 1)
            .with_reset(GruReset::Before)
            .init(&device)
            .unwrap()
    });
    let row = |v: [f32; 3]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [1, 3]), &device);
    cell.input_weight = trainable(row([0.1, 0.2, 0.3]), &device);
    cell.recurrent_weight = trainable(row([0.4, 0.5, 0.6]), &device);
    cell.input_bias = trainable(row([0.01, 0.02, 0.03]).reshape([3]), &device);
    let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32], [1, 1]), &device);
    let h = Tensor::<2>::from_data(TensorData::new(vec![0.5f32], [1, 1]), &device);
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let r = sigmoid(0.1 + 0.01 + 0.4 * 0.5);
    let z = sigmoid(0.2 + 0.02 + 0.5 * 0.5);
    let n = (0.3 + 0.03 + 0.6 * (r * 0.5)).tanh();
    let expected = (1.0 - z) * n + z * 0.5;
    let got = values(cell.forward(x.clone(), h.clone()).unwrap());
    assert_close(&got, &[expected as f32], 1e-6);
    // Reset-after differs: r multiplies U_n h, not h.
    cell.reset = GruReset::After;
    let after = ((1.0 - z) * (0.3 + 0.03 + r * 0.6 * 0.5).tanh() + z * 0.5) as f32;
    assert_close(&values(cell.forward(x, h).unwrap()), &[after], 1e-6);
}

fn random_input(batch: usize, len: usize, d: usize, device: &Device) -> Tensor<3> {
    kindling_core::seed::with_device_rng(device, 1, || {
        Tensor::random([batch, len, d], Distribution::Uniform(-1.0, 1.0), device)
    })
}

#[test]
fn fused_layer_equals_stepping_the_cell() {
    let device = flex();
    let x = random_input(3, 5, 4, &device);
    let rnn = build_seeded(&device, 1, || {
        RnnConfig::new(4, 6)
            .with_cell(RnnCellConfig::new(4, 6).with_activation(RnnActivation::Relu))
            .init(&device)
            .unwrap()
    });
    let lstm = build_seeded(&device, 2, || LstmConfig::new(4, 6).init(&device).unwrap());
    let grus = [GruReset::After, GruReset::Before].map(|reset| {
        build_seeded(&device, 3, || {
            GruConfig::new(4, 6)
                .with_cell(GruCellConfig::new(4, 6).with_reset(reset))
                .init(&device)
                .unwrap()
        })
    });
    let step = |t: usize| x.clone().narrow(1, t, 1).reshape([3, 4]);
    let stack = |outs: Vec<Tensor<2>>| values(Tensor::stack::<3>(outs, 1));

    let cell = &rnn.cells[0];
    let mut h = cell.zero_state(3, &device);
    let mut outs = Vec::new();
    for t in 0..5 {
        h = cell.forward(step(t), h).unwrap();
        outs.push(h.clone());
    }
    let (fused, last) = rnn.forward(x.clone(), None, None).unwrap();
    assert_close(&values(fused), &stack(outs), 1e-5);
    assert_close(&values(last), &values(h), 1e-5);

    let cell = &lstm.cells[0];
    let mut s = cell.zero_state(3, &device);
    let mut outs = Vec::new();
    for t in 0..5 {
        s = cell.forward(step(t), &s).unwrap();
        outs.push(s.hidden.clone());
    }
    let (fused, last) = lstm.forward(x.clone(), None, None).unwrap();
    assert_close(&values(fused), &stack(outs), 1e-5);
    assert_close(&values(last.cell), &values(s.cell), 1e-5);

    for gru in &grus {
        let cell = &gru.cells[0];
        let mut h = cell.zero_state(3, &device);
        let mut outs = Vec::new();
        for t in 0..5 {
            h = cell.forward(step(t), h).unwrap();
            outs.push(h.clone());
        }
        let (fused, _) = gru.forward(x.clone(), None, None).unwrap();
        assert_close(&values(fused), &stack(outs), 1e-5);
    }
}

/// Runs each sequence alone at its own length and checks the padded batch's outputs (and
/// zeros at padding) and final states against it.
fn check_masking(
    run: impl Fn(Tensor<3>, Option<&[usize]>) -> (Tensor<3>, Vec<Tensor<3>>),
    d_out: usize,
    device: &Device,
) {
    let lengths = [4usize, 2, 5, 1];
    let x = random_input(4, 5, 3, device);
    let (batched, batched_states) = run(x.clone(), Some(&lengths));
    let batched = values(batched);
    for (b, &n) in lengths.iter().enumerate() {
        let alone = x.clone().narrow(0, b, 1).narrow(1, 0, n);
        let (out, states) = run(alone, None);
        let row = &batched[b * 5 * d_out..(b + 1) * 5 * d_out];
        assert_close(&row[..n * d_out], &values(out), 1e-5);
        assert!(
            row[n * d_out..].iter().all(|&v| v == 0.0),
            "padding outputs zero"
        );
        for (all, one) in batched_states.iter().zip(states) {
            let all = values(all.clone().narrow(1, b, 1));
            assert_close(&all, &values(one), 1e-5);
        }
    }
}

#[test]
fn masked_batch_matches_each_sequence_alone() {
    let device = flex();
    let rnn = build_seeded(&device, 4, || {
        RnnConfig::new(3, 4)
            .with_n_layers(2)
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    check_masking(
        |x, lengths| {
            let (out, h) = rnn.forward(x, lengths, None).unwrap();
            (out, vec![h])
        },
        8,
        &device,
    );
    let lstm = build_seeded(&device, 5, || {
        LstmConfig::new(3, 4)
            .with_n_layers(2)
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    check_masking(
        |x, lengths| {
            let (out, s) = lstm.forward(x, lengths, None).unwrap();
            (out, vec![s.hidden, s.cell])
        },
        8,
        &device,
    );
    let gru = build_seeded(&device, 6, || {
        GruConfig::new(3, 4)
            .with_cell(GruCellConfig::new(3, 4).with_reset(GruReset::Before))
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    check_masking(
        |x, lengths| {
            let (out, h) = gru.forward(x, lengths, None).unwrap();
            (out, vec![h])
        },
        8,
        &device,
    );
}

#[test]
fn initial_state_is_used() {
    let device = flex();
    let gru = build_seeded(&device, 7, || {
        GruConfig::new(2, 3).with_n_layers(2).init(&device).unwrap()
    });
    let x = random_input(2, 4, 2, &device);
    let h0 = kindling_core::seed::with_device_rng(&device, 2, || {
        Tensor::<3>::random([2, 2, 3], Distribution::Uniform(-1.0, 1.0), &device)
    });
    let (_, with) = gru.forward(x.clone(), None, Some(h0)).unwrap();
    let (_, without) = gru.forward(x.clone(), None, None).unwrap();
    assert_ne!(values(with), values(without.clone()));
    let zeros = Tensor::<3>::zeros([2, 2, 3], &device);
    let (_, zero) = gru.forward(x, None, Some(zeros)).unwrap();
    assert_close(&values(zero), &values(without), 0.0);
}

/// Gradients of `Σ out ⊙ w + Σ h_n` of a tiny masked bidirectional LSTM and reset-before GRU
/// against central differences of the input.
#[test]
fn gradients_match_finite_differences() {
    let device = BackendKind::Flex.train_device().unwrap();
    let lengths = [3usize, 2];
    let x0 = values(random_input(2, 3, 2, &device));
    let w = kindling_core::seed::with_device_rng(&device, 3, || {
        Tensor::<3>::random([2, 3, 4], Distribution::Uniform(-1.0, 1.0), &device)
    });
    let lstm = build_seeded(&device, 8, || {
        LstmConfig::new(2, 2)
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    let gru = build_seeded(&device, 9, || {
        GruConfig::new(2, 2)
            .with_cell(GruCellConfig::new(2, 2).with_reset(GruReset::Before))
            .with_bidirectional(true)
            .init(&device)
            .unwrap()
    });
    let losses: [&dyn Fn(Tensor<3>) -> Tensor<1>; 2] = [
        &|x| {
            let (out, s) = lstm.forward(x, Some(&lengths), None).unwrap();
            (out * w.clone()).sum() + s.hidden.sum() + s.cell.sum()
        },
        &|x| {
            let (out, h) = gru.forward(x, Some(&lengths), None).unwrap();
            (out * w.clone()).sum() + h.sum()
        },
    ];
    let input = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [2, 3, 2]), &device);
    for loss in losses {
        let x = input(x0.clone()).require_grad();
        let grads = loss(x.clone()).backward();
        let analytic = values(x.grad(&grads).unwrap());
        let eps = 1e-2f32;
        for i in 0..x0.len() {
            let at = |delta: f32| {
                let mut v = x0.clone();
                v[i] += delta;
                values(loss(input(v)))[0]
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            assert!(
                (analytic[i] - numeric).abs() < 2e-3,
                "input {i}: {} vs {numeric}",
                analytic[i]
            );
        }
        // Padding (sequence 1, step 2) gets no gradient.
        assert_eq!(&analytic[2 * 3 + 4..], &[0.0, 0.0]);
    }
}

#[test]
fn invalid_configs_name_their_field() {
    let field = |result: Result<()>| match result {
        Err(Error::InvalidConfig { field, .. }) => field,
        other => panic!("expected a config error, got {other:?}"),
    };
    assert_eq!(field(RnnConfig::new(0, 3).validate()), "d_input");
    assert_eq!(field(LstmConfig::new(2, 0).validate()), "d_hidden");
    assert_eq!(
        field(GruConfig::new(2, 3).with_n_layers(0).validate()),
        "n_layers"
    );
    assert_eq!(
        field(GruConfig::new(2, 3).with_dropout(1.0).validate()),
        "dropout"
    );
    assert_eq!(
        field(RnnConfig::new(2, 3).with_dropout(-0.1).validate()),
        "dropout"
    );
    assert_eq!(
        field(
            LstmCellConfig::new(2, 3)
                .with_forget_bias(f64::NAN)
                .validate()
        ),
        "forget_bias"
    );
    assert!(
        LstmConfig::new(2, 3)
            .with_n_layers(0)
            .init(&flex())
            .is_err()
    );
    assert!(LstmConfig::new(2, 3).with_dropout(0.5).validate().is_ok());
}

#[test]
fn invalid_inputs_are_errors() {
    let device = flex();
    let lstm = build_seeded(&device, 28, || {
        LstmConfig::new(2, 3)
            .with_n_layers(2)
            .init(&device)
            .unwrap()
    });
    let what = |result: Result<(Tensor<3>, LstmStates)>| match result {
        Err(Error::InvalidInput { what, .. }) => what,
        other => panic!("expected an input error, got {other:?}"),
    };
    let x = random_input(2, 4, 2, &device);
    assert_eq!(
        what(lstm.forward(random_input(2, 4, 5, &device), None, None)),
        "input"
    );
    assert_eq!(what(lstm.forward(x.clone(), Some(&[4]), None)), "lengths");
    assert_eq!(
        what(lstm.forward(x.clone(), Some(&[4, 5]), None)),
        "lengths"
    );
    let state = LstmStates {
        hidden: Tensor::zeros([1, 2, 3], &device),
        cell: Tensor::zeros([2, 2, 3], &device),
    };
    assert_eq!(what(lstm.forward(x, None, Some(state))), "state.hidden");
    let cell = &lstm.cells[0];
    let bad = Tensor::<2>::zeros([2, 4], &device);
    assert!(matches!(
        cell.forward(
            Tensor::zeros([2, 2], &device),
            &LstmState {
                hidden: bad.clone(),
                cell: bad
            }
        ),
        Err(Error::InvalidInput { what: "state", .. })
    ));
}

/// The fused burn-flex LSTM gives the composed form's outputs, final states and gradients of
/// every input: mixed lengths, both directions, two layers, a given initial state.
#[test]
fn fused_lstm_matches_the_composed_steps_with_gradients() {
    let device = BackendKind::Flex.device().unwrap().autodiff();
    let layer = build_seeded(&device, 11, || {
        LstmConfig::new(3, 4)
            .with_bidirectional(true)
            .with_n_layers(2)
            .init(&device)
            .unwrap()
    });
    let x = kindling_core::seed::with_device_rng(&device, 4, || {
        Tensor::<3>::random([3, 5, 3], Distribution::Uniform(-1.0, 1.0), &device)
    });
    let h0 = kindling_core::seed::with_device_rng(&device, 5, || {
        Tensor::<3>::random([4, 3, 4], Distribution::Uniform(-0.5, 0.5), &device)
    });
    let c0 = kindling_core::seed::with_device_rng(&device, 6, || {
        Tensor::<3>::random([4, 3, 4], Distribution::Uniform(-0.5, 0.5), &device)
    });
    let weights = kindling_core::seed::with_device_rng(&device, 7, || {
        Tensor::<3>::random([3, 5, 8], Distribution::Uniform(-1.0, 1.0), &device)
    });
    let lengths = [5, 2, 4];
    let run = || {
        let (x, h0, c0) = (
            x.clone().require_grad(),
            h0.clone().require_grad(),
            c0.clone().require_grad(),
        );
        let state = LstmStates {
            hidden: h0.clone(),
            cell: c0.clone(),
        };
        let (out, last) = layer
            .forward(x.clone(), Some(&lengths), Some(state))
            .unwrap();
        let loss = (out.clone() * weights.clone()).sum()
            + last.hidden.clone().sum() * 0.3
            + (last.cell.clone() * 0.7).sum();
        let grads = loss.backward();
        let cell = &layer.cells[1];
        let grad = |t: Tensor<3>| values(t.grad(&grads).unwrap());
        let weight_grad = |t: Tensor<2>| values(t.grad(&grads).unwrap());
        vec![
            values(out),
            values(last.hidden),
            values(last.cell),
            grad(x),
            grad(h0),
            grad(c0),
            weight_grad(cell.recurrent_weight.val()),
            weight_grad(cell.input_weight.val()),
            values(cell.input_bias.val().grad(&grads).unwrap()),
        ]
    };
    let fused = run();
    let composed = crate::sequence::composed_only(run);
    for (f, c) in fused.iter().zip(&composed) {
        assert_close(f, c, 1e-5);
    }
}

#[test]
fn a_setting_of_another_cell_is_an_error_naming_it() {
    let read = |json: serde_json::Value| serde_json::from_value::<EncoderConfig>(json);
    for (cell, key, value) in [
        ("gru", "forget_bias", serde_json::json!(1.0)),
        ("lstm", "reset", serde_json::json!("before")),
        // Even the default value of another cell's setting is refused.
        ("gru", "activation", serde_json::json!("tanh")),
        ("lstm", "activation", serde_json::json!("relu")),
    ] {
        let error = read(serde_json::json!({ "cell": cell, "hidden": 4, key: value }))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("`{key}`")) && error.contains(cell),
            "{error}"
        );
    }
    let lstm =
        read(serde_json::json!({ "cell": "lstm", "hidden": 4, "forget_bias": 0.0 })).unwrap();
    assert_eq!(
        lstm.cell,
        Cell::Lstm {
            forget_bias: Some(0.0)
        }
    );
    let misspelt = read(serde_json::json!({ "cell": "gru", "hidden": 4, "resett": "before" }));
    assert!(misspelt.unwrap_err().to_string().contains("resett"));
    // Written back, a config reads as itself, with only its own cell's settings.
    let gru = EncoderConfig::new(CellKind::Gru, 4).with_cell(Cell::Gru {
        reset: GruReset::Before,
    });
    let written = serde_json::to_value(&gru).unwrap();
    assert!(written.get("forget_bias").is_none() && written.get("activation").is_none());
    assert_eq!(read(written).unwrap(), gru);
}
