//! Brown corpus genre classification: which of the 15 genres a document belongs to, from its
//! bag of words, with softmax regression.
//!
//! Features are `log(1 + count)` per vocabulary word, L2-normalised per document; the
//! vocabulary holds training-set words found in at least `min_count` training documents. The
//! 500 documents are split per genre (stratified, seeded) into train / dev / test.

use kindling_core::seed::try_build_seeded;
use kindling_core::train::evaluate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use kindling_data::bag_of_words::BagOfWords;
use kindling_data::split::stratified_three_way;
use kindling_data::{DataDir, LabelSet};

use crate::Result;
use crate::runner::TaskContext;
use kindling_core::models::{DenseBatcher, DenseExample, SoftmaxRegressionConfig};

/// Options of the `brown-genre` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrownGenreOptions {
    /// Vocabulary words appear in at least this many training documents.
    pub min_count: usize,
    /// Share of each genre's documents held out as dev.
    pub dev_fraction: f64,
    /// Share of each genre's documents held out as test.
    pub test_fraction: f64,
}

impl Default for BrownGenreOptions {
    fn default() -> Self {
        Self {
            min_count: 2,
            dev_fraction: 0.1,
            test_fraction: 0.1,
        }
    }
}

impl BrownGenreOptions {
    /// Both fractions in `(0, 1)` and their sum below 1.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        for (key, value) in [
            ("dev_fraction", self.dev_fraction),
            ("test_fraction", self.test_fraction),
        ] {
            if !(value > 0.0 && value < 1.0) {
                return Err(format!("{key}: expected a fraction in (0, 1), got {value}"));
            }
        }
        if self.dev_fraction + self.test_fraction >= 1.0 {
            return Err("dev_fraction + test_fraction: must be below 1".into());
        }
        Ok(())
    }
}

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &BrownGenreOptions,
) -> Result<Map<String, Value>> {
    let train_config = context.train()?;
    let BrownGenreOptions {
        min_count,
        dev_fraction,
        test_fraction,
    } = *options;

    let documents = DataDir::new(&context.data_dir).brown()?;
    let genres = LabelSet::from_observed(documents.iter().map(|d| d.genre.as_str()))?;
    let labels: Vec<u32> = documents
        .iter()
        .map(|d| genres.id(&d.genre).expect("an observed genre"))
        .collect();
    let documents: Vec<(Vec<String>, u32)> = documents
        .iter()
        .zip(labels.iter().copied())
        .map(|(d, label)| (d.words().map(str::to_lowercase).collect(), label))
        .collect();
    let [mut train, dev, test] = stratified_three_way(
        documents,
        &labels,
        dev_fraction,
        test_fraction,
        train_config.seed,
    )?;
    if let Some(max) = context.max_examples {
        train.truncate(max);
    }

    let vocabulary = BagOfWords::fit(train.iter().map(|(words, _)| words), min_count);
    if vocabulary.is_empty() {
        return Err(kindling_core::Error::Empty("vocabulary").into());
    }
    let to_examples = |docs: &[(Vec<String>, u32)]| -> Vec<DenseExample> {
        docs.iter()
            .map(|(words, label)| DenseExample {
                features: vocabulary.features(words),
                label: *label,
            })
            .collect()
    };
    let (train, dev, test) = (to_examples(&train), to_examples(&dev), to_examples(&test));

    let model = try_build_seeded(&context.device, train_config.seed, || {
        SoftmaxRegressionConfig::new(vocabulary.len(), genres.len()).init(&context.device)
    })?;
    let batcher = DenseBatcher {
        d_input: vocabulary.len(),
    };
    let trained = context.fit(&context.out_dir, model, &batcher, &train, &dev)?;

    let eval_batch = train_config
        .eval_batch_size
        .unwrap_or(train_config.batch_size);
    let dev_scores = evaluate(
        &trained.best_model,
        &batcher,
        &dev,
        eval_batch,
        &context.device,
    )?;
    let test_scores = evaluate(
        &trained.best_model,
        &batcher,
        &test,
        eval_batch,
        &context.device,
    )?;

    let mut metrics = Map::new();
    metrics.insert("train_seconds".into(), json!(trained.train_seconds));
    for (name, value) in dev_scores.metrics() {
        metrics.insert(format!("dev_{name}"), json!(value));
    }
    for (name, value) in test_scores.metrics() {
        metrics.insert(format!("test_{name}"), json!(value));
    }
    if let Some(confusion) = test_scores.confusion() {
        metrics.insert(
            "test_confusion".into(),
            super::confusion_json(confusion, genres.names()),
        );
    }
    metrics.insert("best_epoch".into(), json!(trained.best_epoch));
    metrics.insert("epochs_run".into(), json!(trained.epochs_run));
    metrics.insert("train_examples".into(), json!(train.len()));
    metrics.insert("dev_examples".into(), json!(dev.len()));
    metrics.insert("test_examples".into(), json!(test.len()));
    metrics.insert("vocabulary_size".into(), json!(vocabulary.len()));
    metrics.insert("classes".into(), json!(genres.len()));
    Ok(metrics)
}
