//! Sequence regression: a recurrent [`Encoder`] reads real-valued steps and a linear layer on
//! its last state predicts `d_output` numbers, trained on the mean squared error.
//!
//! [`adding_problem`] draws the classic test of long-range memory for it (Hochreiter &
//! Schmidhuber, 1997, as Le et al., 2015, set it).

use kindling_core::burn::module::Module;
use kindling_core::burn::nn::{Linear, LinearConfig};
use kindling_core::burn::tensor::{Device, Tensor, TensorData};
use kindling_core::seed::SeededRng;
use kindling_core::train::{Batcher, Outcome, StepOutput, TrainStep};
use serde::{Deserialize, Serialize};

use crate::encoder::{Encoder, EncoderConfig};
use crate::error::check_positive;
use crate::{Error, Result};

/// One sequence of real-valued steps and the numbers to predict from it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionExample {
    /// The steps one after another, `d_input` values each (`[len, d_input]` row-major).
    pub steps: Vec<f32>,
    /// The `d_output` numbers to predict.
    pub targets: Vec<f32>,
}

/// Settings of a [`SequenceRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceRegressorConfig {
    /// Values per step.
    pub d_input: usize,
    /// Numbers predicted per sequence.
    pub d_output: usize,
    /// The recurrent layer.
    pub encoder: EncoderConfig,
}

impl SequenceRegressorConfig {
    /// A regressor from `d_input`-valued steps to `d_output` numbers through `encoder`.
    pub fn new(d_input: usize, d_output: usize, encoder: EncoderConfig) -> Self {
        Self {
            d_input,
            d_output,
            encoder,
        }
    }

    /// Checks every value that its type does not.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_positive("d_input", self.d_input)?;
        check_positive("d_output", self.d_output)?;
        self.encoder.validate()
    }

    /// The model, the encoder's weights drawn before the output layer's.
    ///
    /// # Errors
    /// When a setting is invalid or an initialiser cannot fill its weight.
    pub fn init(&self, device: &Device) -> Result<SequenceRegressor> {
        self.validate()?;
        let encoder = self.encoder.init(self.d_input, device)?;
        let output = LinearConfig::new(encoder.d_output(), self.d_output).init(device);
        Ok(SequenceRegressor { encoder, output })
    }

    /// The batcher for this model's examples.
    pub fn batcher(&self) -> RegressionBatcher {
        RegressionBatcher {
            d_input: self.d_input,
        }
    }
}

/// A recurrent layer whose last state predicts a fixed number of values.
#[derive(Module, Debug)]
pub struct SequenceRegressor {
    encoder: Encoder,
    output: Linear,
}

impl SequenceRegressor {
    /// The predictions for each sequence of `inputs`, whose real steps `lengths` gives
    /// (`None`: all).
    ///
    /// # Shapes
    /// `inputs`: `[batch, len, d_input]` → `[batch, d_output]`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a shape or a length does not fit.
    pub fn forward(&self, inputs: Tensor<3>, lengths: Option<&[usize]>) -> Result<Tensor<2>> {
        let last = self.encoder.forward(inputs, lengths)?.last;
        Ok(self.output.forward(last))
    }
}

/// Batches of [`RegressionExample`]s: zero-padded steps, their lengths and the targets.
#[derive(Debug, Clone)]
pub struct RegressionBatch {
    /// `[batch, len, d_input]`, zero after each sequence's end.
    pub inputs: Tensor<3>,
    /// Each sequence's real steps; `None` when all have the batch's length.
    pub lengths: Option<Vec<usize>>,
    /// `[batch, d_output]`.
    pub targets: Tensor<2>,
}

/// Builds [`RegressionBatch`]es of sequences with `d_input` values per step.
#[derive(Debug, Clone, Copy)]
pub struct RegressionBatcher {
    d_input: usize,
}

impl RegressionBatcher {
    /// Checks that every example has whole steps of `d_input` values, at least one, and the
    /// same number of targets as the first, naming the first that does not.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for the first example that does not fit.
    pub fn check(&self, examples: &[RegressionExample]) -> Result<()> {
        let d_output = examples.first().map_or(0, |e| e.targets.len());
        for (i, example) in examples.iter().enumerate() {
            if example.steps.is_empty() || example.steps.len() % self.d_input != 0 {
                return Err(Error::input(
                    "examples",
                    format!(
                        "example {i} has {} step values, expected a positive multiple of {}",
                        example.steps.len(),
                        self.d_input
                    ),
                ));
            }
            if example.targets.len() != d_output || d_output == 0 {
                return Err(Error::input(
                    "examples",
                    format!(
                        "example {i} has {} targets, expected {d_output} (at least one)",
                        example.targets.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Batcher<RegressionExample> for RegressionBatcher {
    type Batch = RegressionBatch;

    fn batch(&self, items: &[RegressionExample], device: &Device) -> RegressionBatch {
        let lengths: Vec<usize> = items.iter().map(|e| e.steps.len() / self.d_input).collect();
        let len = lengths.iter().copied().max().unwrap_or(0);
        let mut inputs = vec![0f32; items.len() * len * self.d_input];
        for (row, example) in inputs.chunks_mut(len * self.d_input).zip(items) {
            row[..example.steps.len()].copy_from_slice(&example.steps);
        }
        let d_output = items.first().map_or(0, |e| e.targets.len());
        let targets: Vec<f32> = items.iter().flat_map(|e| e.targets.clone()).collect();
        let all_full = lengths.iter().all(|&l| l == len);
        RegressionBatch {
            inputs: Tensor::from_data(
                TensorData::new(inputs, [items.len(), len, self.d_input]),
                device,
            ),
            lengths: (!all_full).then_some(lengths),
            targets: Tensor::from_data(TensorData::new(targets, [items.len(), d_output]), device),
        }
    }
}

impl TrainStep<RegressionBatch> for SequenceRegressor {
    fn step(&self, batch: &RegressionBatch) -> StepOutput {
        let predictions = self
            .forward(batch.inputs.clone(), batch.lengths.as_deref())
            .expect("the batcher builds [batch, len, d_input] inputs with fitting lengths");
        let error = predictions - batch.targets.clone();
        let examples = error.dims()[0];
        StepOutput {
            loss: error.powi_scalar(2).mean(),
            examples,
            outcome: Outcome::LossOnly,
        }
    }
}

/// `n` sequences of the adding problem, each `length` steps of `(number, marker)`: the numbers
/// are drawn from `U(0, 1)`, exactly two steps are marked (one in each half) and the target is
/// the sum of their numbers. Predicting 1 whatever the input scores a mean squared error of
/// 1/6 ≈ 0.167; beating it needs gradients that survive `length` steps.
///
/// # Errors
/// [`Error::InvalidConfig`] when `length` is below 2.
pub fn adding_problem(
    n: usize,
    length: usize,
    rng: &mut SeededRng,
) -> Result<Vec<RegressionExample>> {
    if length < 2 {
        return Err(Error::invalid(
            "length",
            format!("expected at least 2, got {length}"),
        ));
    }
    let half = length / 2;
    Ok((0..n)
        .map(|_| {
            let mut steps: Vec<f32> = (0..length)
                .flat_map(|_| [rng.next_f64() as f32, 0.0])
                .collect();
            let first = rng.below(half as u64) as usize;
            let second = half + rng.below((length - half) as u64) as usize;
            steps[2 * first + 1] = 1.0;
            steps[2 * second + 1] = 1.0;
            let target = steps[2 * first] + steps[2 * second];
            RegressionExample {
                steps,
                targets: vec![target],
            }
        })
        .collect())
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use kindling_core::BackendKind;
    use kindling_core::optim::OptimizerConfig;
    use kindling_core::seed::build_seeded;
    use kindling_core::train::{TrainConfig, Trainer, evaluate};

    use super::*;
    use crate::CellKind;

    #[test]
    fn adding_problem_marks_one_step_in_each_half_and_sums_them() {
        let examples = adding_problem(50, 7, &mut SeededRng::new(3)).unwrap();
        for example in &examples {
            let marked: Vec<usize> = (0..7)
                .filter(|&t| example.steps[2 * t + 1] == 1.0)
                .collect();
            assert_eq!(marked.len(), 2);
            assert!(marked[0] < 3 && marked[1] >= 3);
            let sum = example.steps[2 * marked[0]] + example.steps[2 * marked[1]];
            assert_eq!(example.targets, vec![sum]);
        }
        assert!(adding_problem(1, 1, &mut SeededRng::new(3)).is_err());
    }

    #[test]
    fn ragged_batches_give_each_sequence_its_own_last_state() {
        let device = BackendKind::Flex.device().unwrap();
        let config = SequenceRegressorConfig::new(2, 1, EncoderConfig::new(CellKind::Gru, 4));
        let model = config.init(&device).unwrap();
        let short = RegressionExample {
            steps: vec![0.5, 1.0, 0.25, 0.0],
            targets: vec![0.5],
        };
        let long = RegressionExample {
            steps: vec![0.1, 0.0, 0.2, 1.0, 0.3, 0.0],
            targets: vec![0.2],
        };
        let batcher = config.batcher();
        let together = batcher.batch(&[short.clone(), long], &device);
        assert_eq!(together.lengths, Some(vec![2, 3]));
        let alone = batcher.batch(&[short], &device);
        assert_eq!(alone.lengths, None);
        let both = model
            .forward(together.inputs, together.lengths.as_deref())
            .unwrap();
        let one = model.forward(alone.inputs, None).unwrap();
        let (a, b) = (
            both.narrow(0, 0, 1)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            one.into_data().try_to_vec::<f32>().unwrap(),
        );
        assert!((a[0] - b[0]).abs() < 1e-6, "{a:?} vs {b:?}");
    }

    #[test]
    fn the_batcher_names_an_example_with_broken_steps() {
        let batcher =
            SequenceRegressorConfig::new(2, 1, EncoderConfig::new(CellKind::Lstm, 3)).batcher();
        let broken = [RegressionExample {
            steps: vec![0.0; 3],
            targets: vec![1.0],
        }];
        let message = batcher.check(&broken).unwrap_err().to_string();
        assert!(message.contains("example 0"), "{message}");
    }

    #[test]
    fn training_on_the_adding_problem_beats_predicting_the_mean() {
        let device = BackendKind::Flex.device().unwrap();
        let mut rng = SeededRng::new(1);
        let train = adding_problem(256, 6, &mut rng).unwrap();
        let dev = adding_problem(128, 6, &mut rng).unwrap();
        let config = SequenceRegressorConfig::new(2, 1, EncoderConfig::new(CellKind::Lstm, 16));
        let train_device = device.clone().autodiff();
        let model = build_seeded(&train_device, 1, || config.init(&train_device).unwrap());
        let batcher = config.batcher();
        batcher.check(&train).unwrap();
        let trained = Trainer::new(
            TrainConfig::new(25, 16, 1, OptimizerConfig::adam(0.01)),
            &device,
        )
        .unwrap()
        .with_progress(false)
        .fit(model, &batcher, &train, Some(&dev))
        .unwrap();
        let scores = evaluate(&trained.best_model, &batcher, &dev, 64, &device).unwrap();
        // Predicting the mean scores about 1/6.
        assert!(scores.mean_loss() < 0.05, "dev MSE {}", scores.mean_loss());
    }
}
