//! Brown corpus genre classification: which of the 15 genres a document belongs to, from its
//! bag of words, with softmax regression.
//!
//! Features are `log(1 + count)` per vocabulary word, L2-normalised per document; the
//! vocabulary holds training-set words found in at least `min_count` training documents. The
//! 500 documents are split per genre (stratified, seeded) into train / dev / test.

use std::collections::{BTreeMap, HashMap};

use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::evaluate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use kindling_data::DataDir;

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

    let documents: Vec<Document> = DataDir::new(&context.data_dir)
        .brown()?
        .into_iter()
        .map(|d| Document {
            words: d.words().map(str::to_lowercase).collect(),
            id: d.id,
            genre: d.genre,
        })
        .collect();
    let genres: Vec<String> = documents
        .iter()
        .map(|d| d.genre.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (mut train, dev, test) =
        stratified_split(&documents, dev_fraction, test_fraction, train_config.seed);
    if let Some(max) = context.max_examples {
        train.truncate(max);
    }

    let vocabulary = vocabulary(&train, min_count);
    if vocabulary.is_empty() {
        return Err(kindling_core::Error::Empty("vocabulary").into());
    }
    let to_examples = |docs: &[&Document]| -> Vec<DenseExample> {
        docs.iter()
            .map(|d| DenseExample {
                features: features(d, &vocabulary),
                label: genres.binary_search(&d.genre).expect("genre listed") as u32,
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
            super::confusion_json(confusion, &genres),
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

/// A document as this task sees it: its file id, genre and lower-cased words.
#[derive(Debug, PartialEq)]
struct Document {
    id: String,
    genre: String,
    words: Vec<String>,
}

/// Splits per genre: each genre's documents are shuffled and the first `test_fraction` go to
/// test, the next `dev_fraction` to dev (each at least one document when the genre has three
/// or more), the rest to train. Train is then shuffled across genres.
fn stratified_split(
    documents: &[Document],
    dev_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> (Vec<&Document>, Vec<&Document>, Vec<&Document>) {
    let mut by_genre: BTreeMap<&str, Vec<&Document>> = BTreeMap::new();
    for d in documents {
        by_genre.entry(&d.genre).or_default().push(d);
    }
    let mut rng = SeededRng::new(seed);
    let (mut train, mut dev, mut test) = (vec![], vec![], vec![]);
    for docs in by_genre.values_mut() {
        rng.shuffle(docs);
        let share = |fraction: f64| {
            let n = (docs.len() as f64 * fraction).round() as usize;
            if docs.len() >= 3 && fraction > 0.0 {
                n.max(1)
            } else {
                n
            }
        };
        let (n_test, n_dev) = (share(test_fraction), share(dev_fraction));
        test.extend_from_slice(&docs[..n_test]);
        dev.extend_from_slice(&docs[n_test..n_test + n_dev]);
        train.extend_from_slice(&docs[n_test + n_dev..]);
    }
    rng.shuffle(&mut train);
    (train, dev, test)
}

/// Words in at least `min_count` training documents, ordered by document frequency
/// (descending) then alphabetically, mapped to feature indices.
fn vocabulary(train: &[&Document], min_count: usize) -> HashMap<String, usize> {
    let mut doc_freq: HashMap<&str, usize> = HashMap::new();
    for d in train {
        let mut seen: Vec<&str> = d.words.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *doc_freq.entry(w).or_default() += 1;
        }
    }
    let mut words: Vec<(&str, usize)> = doc_freq
        .into_iter()
        .filter(|&(_, n)| n >= min_count)
        .collect();
    words.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    words
        .into_iter()
        .enumerate()
        .map(|(i, (w, _))| (w.to_string(), i))
        .collect()
}

/// `log(1 + count)` per vocabulary word, L2-normalised.
fn features(document: &Document, vocabulary: &HashMap<String, usize>) -> Vec<f32> {
    let mut counts = vec![0f32; vocabulary.len()];
    for w in &document.words {
        if let Some(&i) = vocabulary.get(w) {
            counts[i] += 1.0;
        }
    }
    let mut norm = 0f32;
    for c in &mut counts {
        *c = c.ln_1p();
        norm += *c * *c;
    }
    let norm = norm.sqrt().max(f32::MIN_POSITIVE);
    counts.iter_mut().for_each(|c| *c /= norm);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, genre: &str, words: &[&str]) -> Document {
        Document {
            id: id.into(),
            genre: genre.into(),
            words: words.iter().map(|w| w.to_string()).collect(),
        }
    }

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let docs: Vec<Document> = (0..40)
            .map(|i| doc(&format!("d{i}"), if i % 4 == 0 { "a" } else { "b" }, &[]))
            .collect();
        let (train, dev, test) = stratified_split(&docs, 0.1, 0.1, 3);
        assert_eq!(train.len() + dev.len() + test.len(), 40);
        assert_eq!(test.iter().filter(|d| d.genre == "a").count(), 1);
        assert_eq!(test.iter().filter(|d| d.genre == "b").count(), 3);
        let mut ids: Vec<&str> = train
            .iter()
            .chain(&dev)
            .chain(&test)
            .map(|d| d.id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 40);
        let again = stratified_split(&docs, 0.1, 0.1, 3);
        assert_eq!(train, again.0);
    }

    #[test]
    fn vocabulary_orders_by_document_frequency() {
        let docs = [
            doc("1", "a", &["x", "y", "y"]),
            doc("2", "a", &["y", "z"]),
            doc("3", "a", &["x", "y"]),
        ];
        let refs: Vec<&Document> = docs.iter().collect();
        let vocab = vocabulary(&refs, 2);
        assert_eq!(vocab.len(), 2);
        assert_eq!(vocab["y"], 0);
        assert_eq!(vocab["x"], 1);
        let f = features(&docs[0], &vocab);
        let expected_y = 3f32.ln() / (3f32.ln().powi(2) + 2f32.ln().powi(2)).sqrt();
        assert!((f[0] - expected_y).abs() < 1e-6);
    }
}
