//! Hochreiter & Schmidhuber's (1997) adding problem, as Le et al. (2015) set it
//! ([`kindling_rnn::regressor::adding_problem`]), learnt by kindling-rnn's
//! [`SequenceRegressor`](kindling_rnn::regressor::SequenceRegressor).

use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::evaluate;
use kindling_rnn::EncoderConfig;
use kindling_rnn::regressor::{SequenceRegressorConfig, adding_problem};
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

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &AddingOptions,
) -> Result<Map<String, Value>> {
    let train_config = context.train()?;
    let mut rng = SeededRng::new(options.data_seed);
    let train_n = context
        .max_examples
        .map_or(options.train_sequences, |m| m.min(options.train_sequences));
    let train = adding_problem(train_n, options.length, &mut rng)?;
    let dev = adding_problem(options.eval_sequences, options.length, &mut rng)?;
    let test = adding_problem(options.eval_sequences, options.length, &mut rng)?;

    let device = &context.device;
    let config = SequenceRegressorConfig::new(2, 1, options.encoder.clone());
    let model = try_build_seeded(device, train_config.seed, || config.init(device))?;
    let batcher = config.batcher();
    let trained = context.fit(&context.out_dir, model, &batcher, &train, &dev)?;
    let eval_batch = train_config
        .eval_batch_size
        .unwrap_or(train_config.batch_size);
    let mut metrics = Map::new();
    for (split, examples) in [("dev", &dev), ("test", &test)] {
        let scores = evaluate(&trained.best_model, &batcher, examples, eval_batch, device)?;
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
