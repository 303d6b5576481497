//! A word-level LSTM language model of the Brown corpus, or of the user's text files
//! (`[options.files]`: one sentence or paragraph per line; dev held out from train when not
//! given; test optional).
//!
//! Words are lower-cased; every sentence ends with `<eos>`. Documents are split 80/10/10 at
//! random with the experiment file's `split_seed` (the same split as `pos-tagging` for the
//! same seed). The vocabulary holds the training words seen at least `min_count` times; the
//! rest read as `<unk>`. Each split is one stream; training cuts it into `[train]
//! batch_size` parallel rows and windows of `bptt` steps, carrying the state across windows
//! (truncated BPTT); dev and test are read the same way with `eval_rows` rows. Reports
//! `dev_perplexity` and `test_perplexity` (`exp` of the mean negative log-likelihood per
//! word, `<eos>` included, as is usual) and writes sampled sentences to `generated.txt`.

use std::fmt::Write as _;
use std::path::PathBuf;

use kindling_core::burn::module::Module;
use kindling_core::seed::try_build_seeded;
use kindling_core::train::{TrainingFacts, evaluate};
use kindling_data::DataDir;
use kindling_data::bptt::{BpttBatcher, bptt_windows};
use kindling_data::source::{Encoding, Lines};
use kindling_data::split::split_off_holdout;
use kindling_rnn::streams::TokenStreams;
use kindling_rnn::{LanguageModel, LanguageModelConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Result;
use crate::runner::TaskContext;

fn one() -> u64 {
    1
}

fn two() -> u64 {
    2
}

fn thirty_five() -> usize {
    35
}

fn ten() -> usize {
    10
}

/// What to sample after training.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    /// Sentences to sample (each from `<eos>`, i.e. a sentence start).
    pub sentences: usize,
    /// At most this many words each.
    pub words: usize,
    /// Softmax temperature.
    pub temperature: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            sentences: 5,
            words: 30,
            temperature: 0.8,
        }
    }
}

/// The user's text files, in place of Brown: one sentence (or paragraph) per line, words
/// separated by whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextFiles {
    /// Training text (plain or gzip).
    pub train: PathBuf,
    /// Dev text (default: a tenth of the training lines, held out with `split_seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<PathBuf>,
    /// Test text (default: none; the run reports dev scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
}

impl TextFiles {
    /// Lower-cased words of every non-empty line of train, dev and test (test empty without a
    /// test file).
    fn sentences(&self, split_seed: u64) -> Result<[Vec<Vec<String>>; 3]> {
        let read = |path: &PathBuf| -> Result<Vec<Vec<String>>> {
            let mut sentences = Vec::new();
            for line in Lines::open(path, Encoding::Utf8)? {
                let words: Vec<String> = line?
                    .text
                    .split_whitespace()
                    .map(str::to_lowercase)
                    .collect();
                if !words.is_empty() {
                    sentences.push(words);
                }
            }
            Ok(sentences)
        };
        let (train, dev) = match &self.dev {
            Some(path) => (read(&self.train)?, read(path)?),
            None => split_off_holdout(read(&self.train)?, 0.1, split_seed)?,
        };
        let test = match &self.test {
            Some(path) => read(path)?,
            None => Vec::new(),
        };
        Ok([train, dev, test])
    }
}

/// Options of the `language-model` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageModelOptions {
    /// Text files to model instead of the Brown corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<TextFiles>,
    /// Seed of the document split (kept apart from the training seed).
    #[serde(default = "one")]
    pub split_seed: u64,
    /// Training words seen fewer times read as `<unk>`.
    #[serde(default = "two")]
    pub min_count: u64,
    /// Steps per training window.
    #[serde(default = "thirty_five")]
    pub bptt: usize,
    /// Parallel rows of the dev and test streams.
    #[serde(default = "ten")]
    pub eval_rows: usize,
    /// What to sample after training.
    #[serde(default)]
    pub generate: Sampling,
    /// The model.
    pub model: LanguageModelConfig,
}

impl LanguageModelOptions {
    /// Positive sizes, a positive temperature and a valid model.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        for (key, value) in [
            ("min_count", self.min_count as usize),
            ("bptt", self.bptt),
            ("eval_rows", self.eval_rows),
        ] {
            if value == 0 {
                return Err(format!("{key}: expected at least 1"));
            }
        }
        kindling_rnn::language_model::check_sampling(
            self.generate.words,
            self.generate.temperature,
        )
        .map_err(|e| format!("generate: {e}"))?;
        self.model.validate().map_err(|e| format!("model: {e}"))
    }
}

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &LanguageModelOptions,
) -> Result<Map<String, Value>> {
    let train_config = context.train()?;
    let streams = match &options.files {
        Some(files) => {
            let [mut train, dev, test] = files.sentences(options.split_seed)?;
            if let Some(max) = context.max_examples {
                train.truncate(max);
            }
            TokenStreams::new([&train, &dev, &test], options.min_count)?
        }
        None => TokenStreams::brown(
            &DataDir::new(&context.data_dir),
            options.split_seed,
            options.min_count,
            context.max_examples,
        )?,
    };
    let TokenStreams {
        vocab,
        train: train_ids,
        dev: dev_ids,
        test: test_ids,
    } = streams;
    let eos = vocab.eos_id().expect("<eos> is a special");
    let train_windows = bptt_windows(&train_ids, train_config.batch_size, options.bptt);
    let dev_windows = bptt_windows(&dev_ids, options.eval_rows, options.bptt);
    let test_windows = bptt_windows(&test_ids, options.eval_rows, options.bptt);
    let no_test = options.files.as_ref().is_some_and(|f| f.test.is_none());
    if train_windows.is_empty() || dev_windows.is_empty() || (test_windows.is_empty() && !no_test) {
        return Err(context.spec.error(
            "a split is too short for one window of its rows; lower batch_size or eval_rows",
        ));
    }

    let device = &context.device;
    let model: LanguageModel = try_build_seeded(device, train_config.seed, || {
        options.model.init(vocab.len(), device)
    })?;
    let trained = context.fit(
        &context.out_dir,
        model,
        &BpttBatcher,
        &train_windows,
        &dev_windows,
    )?;

    let eval_batch = train_config
        .eval_batch_size
        .unwrap_or(train_config.batch_size);
    let mut metrics = Map::new();
    for (split, windows) in [("dev", &dev_windows), ("test", &test_windows)] {
        if windows.is_empty() {
            // No test file: the run reports dev scores only.
            continue;
        }
        let scores = evaluate(
            &trained.best_model,
            &BpttBatcher,
            windows,
            eval_batch,
            device,
        )?;
        for (name, value) in scores.metrics() {
            metrics.insert(format!("{split}_{name}"), json!(value));
        }
    }
    // Words are lowercased before the vocabulary sees them (see `brown_streams`).
    let text = kindling_rnn::saved::TextPreparation::words(true);
    kindling_rnn::saved::save_language_model(&context.out_dir, &options.model, text, &vocab)?;

    let sampling = &options.generate;
    let model = trained.best_model.valid();
    let mut text = String::new();
    let mut samples = Vec::new();
    for k in 0..sampling.sentences {
        let ids = model.generate(
            &[eos],
            sampling.words,
            sampling.temperature,
            Some(eos),
            &mut kindling_core::seed::SeededRng::new(train_config.seed + k as u64),
        )?;
        let words: Vec<&str> = vocab
            .decode(&ids, false)?
            .into_iter()
            .filter(|w| *w != "<eos>")
            .collect();
        let sentence = words.join(" ");
        let _ = writeln!(text, "{sentence}");
        samples.push(sentence);
    }
    kindling_core::atomic::write_atomic(&context.out_dir.join("generated.txt"), text.as_bytes())?;

    let train_tokens = train_ids.len();
    metrics.insert("train_tokens".into(), json!(train_tokens));
    metrics.insert("dev_tokens".into(), json!(dev_ids.len()));
    metrics.insert("test_tokens".into(), json!(test_ids.len()));
    TrainingFacts::of(&trained, &[("tokens", train_tokens)]).insert_into(&mut metrics);
    metrics.insert("vocabulary_size".into(), json!(vocab.len()));
    metrics.insert("generated".into(), json!(samples));
    metrics.insert("model".into(), json!(options.model));
    Ok(metrics)
}
