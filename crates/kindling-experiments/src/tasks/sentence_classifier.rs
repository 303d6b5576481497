//! Sentence classification — Kim's (2014) CNN, C-LSTM or a recurrent classifier — on TREC,
//! SST-1 or SST-2 (their published test sets; 10 % of train, stratified and seeded, as dev when
//! there is none), MR (stratified 10-fold cross-validation, `test_accuracy` the mean over folds,
//! then a final model trained on all of train in the run's root folder, `final_model`
//! with `test_accuracy_std`, `dev_accuracy` / `dev_accuracy_std` likewise) or the user's own
//! files.
//!
//! Sentences are tokenised with Kim's `clean_str` (lowercased unless `lowercase = false`); the
//! vocabulary holds every word of every split, as in Kim's code: words seen only in dev or test
//! keep their initial vector. Options ([`SentenceClassifierOptions`]): `dataset` (a registry
//! name, `mr`, `trec`, `sst1` or `sst2`, or the user's files, `{ format, train, dev, test }`
//! as [`LabelledFiles`] reads them: without a test file the run cross-validates like MR, without
//! a dev file it holds out a stratified slice of train), `lowercase`, `dev_fraction`, `folds`,
//! `pretrained` (a vector file; default GloVe 6B 50-d from the data directory), and the model,
//! `[options.model]`: a [`ClassifierConfig`] whose `architecture` is `cnn` (Kim's CNN, the
//! fields of [`kindling_textcnn::TextCnnConfig`], `channels = "rand" | "static" | "non-static" |
//! "multichannel"`), `clstm` (the CNN + LSTM hybrid, [`kindling_textcnn::ConvLstmConfig`]) or
//! `rnn` (an RNN / LSTM / GRU encoder with pooling, [`kindling_rnn::RnnClassifierConfig`]).
//! Pretrained variants need `dim` equal to the vectors' dimension (50 for GloVe 6B 50-d).
//! `bucket_pool = k` groups sentences of similar length into batches (pools of `k` batches
//! sorted by length), which saves an RNN most of its padding.

use std::path::{Path, PathBuf};

use kindling_core::burn::module::Module;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{TrainStep, TrainingFacts, evaluate};
use kindling_data::batch::{EncodedExample, Padding, SequenceBatch, SequenceBatcher};
use kindling_data::labelled_files::LabelledFiles;
use kindling_data::read::labelled::TrecLabels;
use kindling_data::registry::DatasetName;
use kindling_data::registry::TextExample;
use kindling_data::split::{stratified_holdout, stratified_k_fold};
use kindling_data::tokenize::KimClean;
use kindling_data::{DataDir, LabelSet, OnUnknown, Vocab};
use kindling_embed::pretrained::Coverage;
use kindling_embed::{VectorFormat, WordVectors, read_vectors};
use kindling_textcnn::{ClassifierConfig, save_classifier};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::runner::TaskContext;
use crate::{Error, Result};

/// The sentence classification sets the task trains on.
const DATASETS: [DatasetName; 4] = [
    DatasetName::Mr,
    DatasetName::Sst1,
    DatasetName::Sst2,
    DatasetName::Trec,
];

/// Options of the `textcnn` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentenceClassifierOptions {
    /// `mr`, `sst1`, `sst2` or `trec`, or the user's files.
    pub dataset: ClassificationSource,
    /// Lowercase before tokenising (Kim does, except for TREC).
    #[serde(default = "yes")]
    pub lowercase: bool,
    /// Share of the training set held out as dev when the dataset has no dev set.
    #[serde(default = "one_tenth")]
    pub dev_fraction: f64,
    /// Cross-validation folds for a dataset without a test set (MR, or own files without one).
    #[serde(default = "ten")]
    pub folds: usize,
    /// Pretrained word vectors for the static, non-static and multichannel variants (word2vec
    /// text or binary, GloVe or fastText `.vec`, optionally gzipped; the format is detected).
    /// Default: GloVe 6B 50-d from the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrained: Option<PathBuf>,
    /// Length bucketing of the training batches: pools of this many batches' worth of
    /// shuffled sentences, each sorted by length and cut into batches (default: none).
    #[serde(default)]
    pub bucket_pool: Option<usize>,
    /// The model.
    pub model: ClassifierConfig,
}

fn yes() -> bool {
    true
}

fn one_tenth() -> f64 {
    0.1
}

fn ten() -> usize {
    10
}

/// Where a classifier's examples come from: a registry set by name (`dataset = "sst2"`) or the
/// user's files (`dataset = { format = "fasttext", train = "…", test = "…" }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ClassificationSource {
    /// A dataset of the registry.
    Registry(DatasetName),
    /// The user's files.
    Files(LabelledFiles),
}

impl<'de> Deserialize<'de> for ClassificationSource {
    // By hand rather than `untagged`, so that a wrong name or a misspelt key keeps its own
    // message instead of "did not match any variant".
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;
        impl<'de> serde::de::Visitor<'de> for SourceVisitor {
            type Value = ClassificationSource;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a dataset name or a table { format, train, dev, test }")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
                name.parse()
                    .map(ClassificationSource::Registry)
                    .map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                LabelledFiles::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ClassificationSource::Files)
            }
        }
        deserializer.deserialize_any(SourceVisitor)
    }
}

impl SentenceClassifierOptions {
    /// A sentence classification set, a dev fraction in `(0, 1)`, at least two folds and a valid
    /// model.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        if let ClassificationSource::Registry(name) = self.dataset
            && !DATASETS.contains(&name)
        {
            let names: Vec<&str> = DATASETS.iter().map(|d| d.as_str()).collect();
            return Err(format!(
                "dataset: `{}` is not a sentence classification set; expected one of {} or \
                 your files as {{ format, train, dev, test }}",
                name.as_str(),
                names.join(", ")
            ));
        }
        if !(self.dev_fraction > 0.0 && self.dev_fraction < 1.0) {
            return Err(format!(
                "dev_fraction: expected a fraction in (0, 1), got {}",
                self.dev_fraction
            ));
        }
        if self.bucket_pool == Some(0) {
            return Err("bucket_pool: expected at least 1 batch per pool".into());
        }
        if self.folds < 2 {
            return Err(format!("folds: expected at least 2, got {}", self.folds));
        }
        self.model.validate().map_err(|e| format!("model: {e}"))
    }
}

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &SentenceClassifierOptions,
) -> Result<Map<String, Value>> {
    let train_config = context.train()?;
    let setup = Setup {
        context,
        model: options.model.clone(),
        tokenizer: KimClean {
            lowercase: options.lowercase,
        },
        dev_fraction: options.dev_fraction,
        bucket_pool: options.bucket_pool,
    };
    let data = DataDir::new(&context.data_dir);
    let corpus = match &options.dataset {
        ClassificationSource::Files(files) => files.load()?,
        ClassificationSource::Registry(DatasetName::Trec) => data.trec(TrecLabels::Coarse)?,
        ClassificationSource::Registry(DatasetName::Sst1) => data.sst(true)?,
        ClassificationSource::Registry(DatasetName::Sst2) => data.sst(false)?,
        ClassificationSource::Registry(DatasetName::Mr) => data.mr()?,
        ClassificationSource::Registry(other) => {
            return Err(context.spec.error(format!(
                "options.dataset: `{}` is not a sentence classification set",
                other.as_str()
            )));
        }
    };
    let vocab = corpus.vocabulary(&setup.tokenizer);
    let vectors = if setup.model.channels().pretrained() {
        Some(match &options.pretrained {
            Some(path) => read_vectors(path, VectorFormat::detect(path)?, None)?,
            None => read_vectors(&data.glove_6b_50d()?, VectorFormat::GloveText, None)?,
        })
    } else {
        None
    };
    let mut metrics = Map::new();
    if corpus.test.is_some() {
        let corpus = corpus.with_dev_from_train(setup.dev_fraction, train_config.seed)?;
        let (Some(dev), Some(test)) = (&corpus.dev, &corpus.test) else {
            unreachable!("dev was made from train and the test set exists")
        };
        let run = setup.train_and_test(
            &vocab,
            vectors.as_ref(),
            &corpus.labels,
            [&corpus.train, dev, test],
            &context.out_dir,
        )?;
        metrics.extend(run);
    } else {
        // No test set (MR, or own files without one): stratified k-fold cross-validation, dev
        // from each fold's training part.
        let folds = if context.max_examples.is_some() {
            2
        } else {
            options.folds
        };
        let labels = corpus.train_labels();
        let mut accuracies = Vec::with_capacity(folds);
        for (k, fold) in stratified_k_fold(&labels, folds, train_config.seed)?
            .into_iter()
            .enumerate()
        {
            let pick = |indices: &[usize]| -> Vec<TextExample> {
                indices.iter().map(|&i| corpus.train[i].clone()).collect()
            };
            let rest = pick(&fold.train);
            let rest_labels: Vec<u32> = rest.iter().map(|e| e.label).collect();
            let holdout = stratified_holdout(&rest_labels, setup.dev_fraction, train_config.seed)?;
            let subset = |indices: &[usize]| -> Vec<TextExample> {
                indices.iter().map(|&i| rest[i].clone()).collect()
            };
            let (train, dev, test) = (
                subset(&holdout.train),
                subset(&holdout.held_out),
                pick(&fold.test),
            );
            let run = setup.train_and_test(
                &vocab,
                vectors.as_ref(),
                &corpus.labels,
                [&train, &dev, &test],
                &context.out_dir.join(format!("fold-{}", k + 1)),
            )?;
            let accuracy = run["test_accuracy"].as_f64().unwrap_or(f64::NAN);
            accuracies.push(accuracy);
            metrics.insert(format!("fold_{}", k + 1), Value::Object(run));
        }
        let (mean, sd) = kindling_core::metrics::mean_sd(&accuracies);
        metrics.insert("test_accuracy".into(), json!(mean));
        metrics.insert("test_accuracy_std".into(), json!(sd));
        let dev: Vec<f64> = (1..=folds)
            .filter_map(|k| metrics[&format!("fold_{k}")]["dev_accuracy"].as_f64())
            .collect();
        let (mean, sd) = kindling_core::metrics::mean_sd(&dev);
        metrics.insert("dev_accuracy".into(), json!(mean));
        metrics.insert("dev_accuracy_std".into(), json!(sd));
        metrics.insert("folds".into(), json!(folds));

        // The model a user of the run gets: trained on all of train (its dev a stratified
        // slice) in the run's root folder, where `classify` loads it. It has no test score of
        // its own (every example was in some fold's training part); the fold means estimate it.
        let holdout = stratified_holdout(&labels, setup.dev_fraction, train_config.seed)?;
        let pick = |indices: &[usize]| -> Vec<TextExample> {
            indices.iter().map(|&i| corpus.train[i].clone()).collect()
        };
        let run = setup.train_and_test(
            &vocab,
            vectors.as_ref(),
            &corpus.labels,
            [&pick(&holdout.train), &pick(&holdout.held_out), &Vec::new()],
            &context.out_dir,
        )?;
        metrics.insert("final_model".into(), Value::Object(run));
    }
    metrics.insert("vocabulary_size".into(), json!(vocab.len()));
    match &setup.model {
        ClassifierConfig::Cnn(model) => metrics.insert("model".into(), json!(model)),
        ClassifierConfig::Clstm(model) => metrics.insert("clstm".into(), json!(model)),
        ClassifierConfig::Rnn(model) => metrics.insert("rnn".into(), json!(model)),
    };
    Ok(metrics)
}

/// What every training run of the task shares.
struct Setup<'a> {
    context: &'a TaskContext<'a>,
    model: ClassifierConfig,
    tokenizer: KimClean,
    dev_fraction: f64,
    bucket_pool: Option<usize>,
}

impl Setup<'_> {
    /// Trains on `splits[0]`, picks the best epoch on `splits[1]` and scores `splits[2]`;
    /// returns the `dev_*`, `test_*` and training metrics. `out_dir` receives the checkpoints
    /// and what [`kindling_textcnn::Classifier`] loads.
    fn train_and_test(
        &self,
        vocab: &Vocab,
        vectors: Option<&WordVectors>,
        labels: &LabelSet,
        splits: [&Vec<TextExample>; 3],
        out_dir: &Path,
    ) -> Result<Map<String, Value>> {
        let context = self.context;
        let seed = context.train()?.seed;
        let classes = labels.len();
        let encode = |examples: &[TextExample]| {
            EncodedExample::encode_texts(examples, vocab, &self.tokenizer, OnUnknown::Error)
        };
        let (mut train, dev, test) = (encode(splits[0])?, encode(splits[1])?, encode(splits[2])?);
        if let Some(max) = context.max_examples {
            train.truncate(max);
        }
        let device = &context.device;
        let pad = vocab.pad_id().expect("<pad> is a special");
        let splits = [&train, &dev, &test];
        let (mut metrics, pretrained_words) = match &self.model {
            ClassifierConfig::Cnn(config) => {
                let (model, words) = self.build(
                    seed,
                    vectors,
                    |vectors, rng| config.init_pretrained(vectors, vocab, classes, rng, device),
                    || config.init(vocab.len(), classes, device),
                )?;
                (self.fit_and_score(model, splits, pad, out_dir)?, words)
            }
            ClassifierConfig::Clstm(config) => {
                let (model, words) = self.build(
                    seed,
                    vectors,
                    |vectors, rng| config.init_pretrained(vectors, vocab, classes, rng, device),
                    || config.init(vocab.len(), classes, device),
                )?;
                (self.fit_and_score(model, splits, pad, out_dir)?, words)
            }
            ClassifierConfig::Rnn(config) => {
                let (model, words) =
                    self.build(
                        seed,
                        vectors,
                        |vectors, rng| {
                            Ok(config.init_pretrained(vectors, vocab, classes, rng, device)?)
                        },
                        || Ok(config.init(vocab.len(), classes, device)?),
                    )?;
                (self.fit_and_score(model, splits, pad, out_dir)?, words)
            }
        };
        save_classifier(out_dir, &self.model, labels, &self.tokenizer, vocab)?;
        for key in ["dev_confusion", "test_confusion"] {
            if let Some(Value::Object(confusion)) = metrics.get_mut(key) {
                confusion.insert("labels".into(), json!(labels.names()));
            }
        }
        metrics.insert("pretrained_words".into(), json!(pretrained_words));
        Ok(metrics)
    }

    /// A model from the pretrained `vectors` when there are some, else a random one, built with
    /// `seed`; with how many words had a pretrained vector.
    fn build<M: Module>(
        &self,
        seed: u64,
        vectors: Option<&WordVectors>,
        pretrained: impl FnOnce(&WordVectors, &mut SeededRng) -> kindling_textcnn::Result<(M, Coverage)>,
        random: impl FnOnce() -> kindling_textcnn::Result<M>,
    ) -> Result<(M, Option<usize>)> {
        let mut pretrained_words = None;
        let model = try_build_seeded(&self.context.device, seed, || match vectors {
            Some(vectors) => {
                let (model, coverage) = pretrained(vectors, &mut SeededRng::new(seed))?;
                pretrained_words = Some(coverage.pretrained);
                Ok::<_, Error>(model)
            }
            None => Ok(random()?),
        })?;
        Ok((model, pretrained_words))
    }

    /// Trains `model` on `splits[0]`, picks the best epoch on `splits[1]` and scores it on
    /// `splits[1]` and `splits[2]`.
    fn fit_and_score<M: TrainStep<SequenceBatch>>(
        &self,
        model: M,
        splits: [&Vec<EncodedExample>; 3],
        pad: u32,
        out_dir: &Path,
    ) -> Result<Map<String, Value>> {
        let context = self.context;
        let train_config = context.train()?;
        let [train, dev, test] = splits;
        let batcher = SequenceBatcher {
            bucket_pool: self.bucket_pool,
            ..SequenceBatcher::new(Padding {
                min_len: self.model.min_len(),
                ..Padding::new(pad)
            })
        };
        let trained = context.fit(out_dir, model, &batcher, train, dev)?;

        let eval_batch = train_config
            .eval_batch_size
            .unwrap_or(train_config.batch_size);
        let mut metrics = Map::new();
        for (split, examples) in [("dev", dev), ("test", test)] {
            if examples.is_empty() {
                continue;
            }
            let scores = evaluate(
                &trained.best_model,
                &batcher,
                examples,
                eval_batch,
                &context.device,
            )?;
            for (name, value) in scores.metrics() {
                metrics.insert(format!("{split}_{name}"), json!(value));
            }
            if let Some(confusion) = scores.confusion() {
                metrics.insert(
                    format!("{split}_confusion"),
                    // Named by the caller, which knows the label set.
                    super::confusion_json(confusion, &[]),
                );
            }
        }
        TrainingFacts::of(&trained, &[("sentences", train.len())]).insert_into(&mut metrics);
        metrics.insert("train_examples".into(), json!(train.len()));
        metrics.insert("dev_examples".into(), json!(dev.len()));
        metrics.insert("test_examples".into(), json!(test.len()));
        Ok(metrics)
    }
}
