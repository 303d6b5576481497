//! Hochreiter & Schmidhuber's (1997) adding problem, as Le et al. (2015) set it: each step of
//! a sequence of length `length` carries a number drawn from `U(0, 1)` and a marker; exactly
//! two steps are marked, one in each half, and the target is the sum of their numbers. The
//! last state of a recurrent layer feeds a linear output trained on the squared error.
//! Predicting 1 whatever the input scores a mean squared error of 1/6 ≈ 0.167; beating it
//! needs gradients that survive `length` steps.

use kindling_core::burn::module::Module;
use kindling_core::burn::nn::{Linear, LinearConfig};
use kindling_core::burn::tensor::{Device, Tensor, TensorData};
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{Batcher, Outcome, StepOutput, TrainStep, evaluate};
use kindling_rnn::{Encoder, EncoderConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Result;
use crate::runner::TaskContext;

/// Options of the `adding` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddingOptions {
    /// Sequence length `T`.
    pub length: usize,
    /// Training sequences (drawn once; the step budget is epochs × sequences / batch size).
    pub train_sequences: usize,
    /// Dev and test sequences each.
    pub eval_sequences: usize,
    /// Seed of the generated data (kept apart from the training seed).
    pub data_seed: u64,
    /// The recurrent layer.
    pub encoder: EncoderConfig,
}

impl AddingOptions {
    /// A length of at least 2, some sequences and a valid encoder.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        if self.length < 2 {
            return Err(format!("length: expected at least 2, got {}", self.length));
        }
        if self.train_sequences == 0 || self.eval_sequences == 0 {
            return Err("train_sequences, eval_sequences: expected at least 1".into());
        }
        self.encoder.validate().map_err(|e| format!("encoder: {e}"))
    }
}

/// One sequence: `(number, marker)` per step, and the target sum.
#[derive(Debug, Clone)]
pub(crate) struct AddingExample {
    steps: Vec<[f32; 2]>,
    target: f32,
}

/// `n` sequences of length `length` drawn from `rng`.
fn draw(n: usize, length: usize, rng: &mut SeededRng) -> Vec<AddingExample> {
    let half = length / 2;
    (0..n)
        .map(|_| {
            let mut steps: Vec<[f32; 2]> =
                (0..length).map(|_| [rng.next_f64() as f32, 0.0]).collect();
            let first = rng.below(half as u64) as usize;
            let second = half + rng.below((length - half) as u64) as usize;
            steps[first][1] = 1.0;
            steps[second][1] = 1.0;
            let target = steps[first][0] + steps[second][0];
            AddingExample { steps, target }
        })
        .collect()
}

/// Batches of sequences, `[batch, length, 2]`, and targets `[batch, 1]`.
struct AddingBatcher;

#[derive(Debug, Clone)]
struct AddingBatch {
    inputs: Tensor<3>,
    targets: Tensor<2>,
}

impl Batcher<AddingExample> for AddingBatcher {
    type Batch = AddingBatch;

    fn batch(&self, items: &[AddingExample], device: &Device) -> AddingBatch {
        let length = items[0].steps.len();
        let inputs: Vec<f32> = items
            .iter()
            .flat_map(|e| e.steps.iter().flatten().copied())
            .collect();
        let targets: Vec<f32> = items.iter().map(|e| e.target).collect();
        AddingBatch {
            inputs: Tensor::from_data(TensorData::new(inputs, [items.len(), length, 2]), device),
            targets: Tensor::from_data(TensorData::new(targets, [items.len(), 1]), device),
        }
    }
}

/// A recurrent layer whose last state predicts one number.
#[derive(Module, Debug)]
struct SequenceRegressor {
    encoder: Encoder,
    output: Linear,
}

impl TrainStep<AddingBatch> for SequenceRegressor {
    fn step(&self, batch: &AddingBatch) -> StepOutput {
        let last = self
            .encoder
            .forward(batch.inputs.clone(), None)
            .expect("the batcher builds [batch, length, 2] inputs")
            .last;
        let error = self.output.forward(last) - batch.targets.clone();
        let examples = error.dims()[0];
        StepOutput {
            loss: error.powi_scalar(2).mean(),
            examples,
            outcome: Outcome::LossOnly,
        }
    }
}

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &AddingOptions,
) -> Result<Map<String, Value>> {
    let train_config = context.train()?;
    let mut rng = SeededRng::new(options.data_seed);
    let train_n = context
        .max_examples
        .map_or(options.train_sequences, |m| m.min(options.train_sequences));
    let train = draw(train_n, options.length, &mut rng);
    let dev = draw(options.eval_sequences, options.length, &mut rng);
    let test = draw(options.eval_sequences, options.length, &mut rng);

    let device = &context.device;
    let model = try_build_seeded(device, train_config.seed, || {
        let encoder = options.encoder.init(2, device)?;
        let output = LinearConfig::new(encoder.d_output(), 1).init(device);
        Ok::<_, crate::Error>(SequenceRegressor { encoder, output })
    })?;
    let trained = context.fit(&context.out_dir, model, &AddingBatcher, &train, &dev)?;
    let eval_batch = train_config
        .eval_batch_size
        .unwrap_or(train_config.batch_size);
    let mut metrics = Map::new();
    for (split, examples) in [("dev", &dev), ("test", &test)] {
        let scores = evaluate(
            &trained.best_model,
            &AddingBatcher,
            examples,
            eval_batch,
            device,
        )?;
        metrics.insert(format!("{split}_mse"), json!(scores.mean_loss()));
    }
    // The learning curve: dev MSE after every epoch.
    let curve: Vec<Value> = trained
        .history
        .iter()
        .map(|r| json!([r.get("step"), r.get("dev_loss")]))
        .collect();
    metrics.insert("dev_mse_by_step".into(), Value::Array(curve));
    metrics.insert(
        "steps".into(),
        json!(trained.history.last().and_then(|r| r.get("step"))),
    );
    metrics.insert("train_seconds".into(), json!(trained.train_seconds));
    metrics.insert("best_epoch".into(), json!(trained.best_epoch));
    metrics.insert("encoder".into(), json!(options.encoder));
    Ok(metrics)
}
