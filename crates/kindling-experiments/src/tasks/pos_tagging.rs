//! Part-of-speech tagging of the Brown corpus, or of the user's tagged files
//! (`[options.files]`: CoNLL columns or `word/TAG` lines, tags as written), with a recurrent
//! tagger.
//!
//! Tags lose Brown's decorations — the `-tl` (title), `-hl` (headline) and `-nc` (cited)
//! suffixes and the `fw-` (foreign word) prefix — leaving the base tag (`nn-tl` → `nn`,
//! `fw-in` → `in`; compound tags such as `ppss+md` stay). Documents are split 80/10/10 at
//! random with the experiment file's `split_seed`, whole documents to one side. Words keep
//! their case. The vocabulary holds the training words seen at least `min_count` times, and,
//! with pretrained vectors, every word of any split that has one (it keeps its pretrained
//! vector; training only moves the rows of training words); other words read as `<unk>`,
//! which the rarer training words teach. `test_accuracy` is over tokens;
//! `test_unknown_accuracy` over tokens whose word never occurs in the training documents.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kindling_core::burn::module::Module;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{TrainingFacts, evaluate};
use kindling_data::DataDir;
use kindling_data::read::brown::base_tagged_sentences;
use kindling_data::read::tagged_text::{TaggedLayout, read_tagged, write_columns};
use kindling_data::source::Encoding;
use kindling_data::split::{split_off_holdout, three_way};
use kindling_data::tagged::TaggedBatcher;
use kindling_embed::{VectorFormat, read_vectors};
use kindling_rnn::tagging::{TaggedPairs, TaggingData};
use kindling_rnn::{Tagger, TaggerConfig};
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

/// How a tagged file is laid out (`format` in `[options.files]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaggedFormat {
    /// `word TAB … TAB tag` per token, a blank line between sentences (CoNLL).
    Conll,
    /// One sentence per line of `word/TAG` tokens.
    Slashed,
}

/// The user's tagged files, in place of Brown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggedFiles {
    /// Their layout.
    pub format: TaggedFormat,
    /// Training sentences.
    pub train: PathBuf,
    /// Dev sentences (default: a tenth of train, held out with `split_seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<PathBuf>,
    /// Test sentences (default: none; the run reports dev scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
}

impl TaggedFiles {
    /// Train, dev and test sentences (test empty without a test file); tags as written.
    fn load(&self, split_seed: u64) -> Result<[Vec<Sentence>; 3]> {
        let layout = match self.format {
            TaggedFormat::Conll => TaggedLayout::Columns,
            TaggedFormat::Slashed => TaggedLayout::Slashed,
        };
        let read = |path: &PathBuf| -> Result<Vec<Sentence>> {
            Ok(read_tagged(path, layout, Encoding::Utf8)?
                .into_iter()
                .map(|s| s.words.into_iter().zip(s.tags).collect())
                .collect())
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

/// Options of the `pos-tagging` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosTaggingOptions {
    /// Tagged files to train on instead of the Brown corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<TaggedFiles>,
    /// Seed of the document split (kept apart from the training seed).
    #[serde(default = "one")]
    pub split_seed: u64,
    /// Training words seen fewer times (and without a pretrained vector) read as `<unk>`.
    #[serde(default = "two")]
    pub min_count: u64,
    /// Length bucketing of the training batches (pools of this many batches).
    #[serde(default)]
    pub bucket_pool: Option<usize>,
    /// The tagger; pretrained channels read GloVe 6B 50-d.
    pub model: TaggerConfig,
}

impl PosTaggingOptions {
    /// A valid model and bucket pool.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        if self.bucket_pool == Some(0) {
            return Err("bucket_pool: expected at least 1 batch per pool".into());
        }
        if self.min_count == 0 {
            return Err("min_count: expected at least 1".into());
        }
        self.model.validate().map_err(|e| format!("model: {e}"))
    }
}

type Sentence = TaggedPairs;

/// Writes the Brown corpus as the tagging experiment reads it — base tags, documents split
/// 80/10/10 with `split_seed` — into `dir/brown.{train,dev,test}.conll` (`word TAB tag`, a
/// blank line between sentences), so that `train tagger` on those files trains what
/// `bilstm-pos-brown` trains. Returns the files written.
///
/// # Errors
/// A missing or malformed Brown corpus; write failures.
pub fn export_brown_conll(data: &DataDir, split_seed: u64, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::io("creating", dir, e))?;
    let splits = three_way(data.brown()?, split_seed);
    let mut written = Vec::new();
    for (name, documents) in ["train", "dev", "test"].iter().zip(&splits) {
        let path = dir.join(format!("brown.{name}.conll"));
        write_columns(&path, &base_tagged_sentences(documents))?;
        written.push(path);
    }
    Ok(written)
}

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &PosTaggingOptions,
) -> Result<Map<String, Value>> {
    let train_config = context.train()?;
    let data = DataDir::new(&context.data_dir);
    let (mut train, dev, test, documents) = match &options.files {
        Some(files) => {
            let [train, dev, test] = files.load(options.split_seed)?;
            (train, dev, test, None)
        }
        None => {
            let [train_docs, dev_docs, test_docs] = three_way(data.brown()?, options.split_seed);
            (
                base_tagged_sentences(&train_docs),
                base_tagged_sentences(&dev_docs),
                base_tagged_sentences(&test_docs),
                Some([train_docs.len(), dev_docs.len(), test_docs.len()]),
            )
        }
    };
    if let Some(max) = context.max_examples {
        train.truncate(max);
    }
    let vectors = if options.model.channels.pretrained() {
        Some(read_vectors(
            &data.glove_6b_50d()?,
            VectorFormat::GloveText,
            None,
        )?)
    } else {
        None
    };

    let TaggingData {
        vocab,
        tags: tag_names,
        train: train_set,
        dev: dev_set,
        test: test_set,
    } = TaggingData::prepare([&train, &dev, &test], options.min_count, vectors.as_ref())?;

    let device = &context.device;
    let seed = train_config.seed;
    let tags = tag_names.len();
    let mut pretrained_words = None;
    let model: Tagger = try_build_seeded(device, seed, || match &vectors {
        Some(vectors) => {
            let (model, coverage) = options.model.init_pretrained(
                vectors,
                &vocab,
                tags,
                &mut SeededRng::new(seed),
                device,
            )?;
            pretrained_words = Some(coverage.pretrained);
            Ok::<_, crate::Error>(model)
        }
        None => Ok(options.model.init(vocab.len(), tags, device)?),
    })?;
    let batcher = TaggedBatcher {
        bucket_pool: options.bucket_pool,
        ..TaggedBatcher::new(vocab.pad_id().expect("<pad> is a special"))
    };
    let trained = context.fit(&context.out_dir, model, &batcher, &train_set, &dev_set)?;

    let eval_batch = train_config
        .eval_batch_size
        .unwrap_or(train_config.batch_size);
    let mut metrics = Map::new();
    let train_words: HashSet<&str> = train.iter().flatten().map(|(w, _)| w.as_str()).collect();
    let model = trained.best_model.valid();
    let eval_device = device.clone().without_autodiff();
    for (split, sentences, examples) in [("dev", &dev, &dev_set), ("test", &test, &test_set)] {
        if examples.is_empty() {
            // No test file: the run reports dev scores only.
            continue;
        }
        let scores = evaluate(&trained.best_model, &batcher, examples, eval_batch, device)?;
        for (name, value) in scores.metrics() {
            metrics.insert(format!("{split}_{name}"), json!(value));
        }
        // Accuracy on words the training documents never show.
        let (mut unknown, mut right) = (0usize, 0usize);
        for (chunk, chunk_sentences) in examples
            .chunks(eval_batch)
            .zip(sentences.chunks(eval_batch))
        {
            let batch = kindling_core::train::Batcher::batch(&batcher, chunk, &eval_device);
            let predicted = model.predict(batch.tokens, &batch.lengths)?;
            for ((example, sentence), tags) in chunk.iter().zip(chunk_sentences).zip(predicted) {
                for ((gold, (word, _)), guess) in example.tags.iter().zip(sentence).zip(tags) {
                    if !train_words.contains(word.as_str()) {
                        unknown += 1;
                        right += usize::from(*gold == guess);
                    }
                }
            }
        }
        metrics.insert(format!("{split}_unknown_tokens"), json!(unknown));
        metrics.insert(
            format!("{split}_unknown_accuracy"),
            json!(right as f64 / unknown.max(1) as f64),
        );
        let tokens: usize = examples.iter().map(|e| e.ids.len()).sum();
        metrics.insert(format!("{split}_tokens"), json!(tokens));
    }
    let train_tokens: usize = train_set.iter().map(|e| e.ids.len()).sum();
    metrics.insert("train_tokens".into(), json!(train_tokens));
    TrainingFacts::of(&trained, &[("tokens", train_tokens)]).insert_into(&mut metrics);
    if let Some(documents) = documents {
        metrics.insert("documents".into(), json!(documents));
    }
    metrics.insert(
        "sentences".into(),
        json!([train.len(), dev.len(), test.len()]),
    );
    metrics.insert("tags".into(), json!(tags));
    metrics.insert("vocabulary_size".into(), json!(vocab.len()));
    metrics.insert("pretrained_words".into(), json!(pretrained_words));
    metrics.insert("model".into(), json!(options.model));
    // Words keep their case: the vocabulary holds them as the corpus writes them.
    let text = kindling_rnn::saved::TextPreparation::words(false);
    kindling_rnn::saved::save_tagger(&context.out_dir, &options.model, text, &tag_names, &vocab)?;
    Ok(metrics)
}
