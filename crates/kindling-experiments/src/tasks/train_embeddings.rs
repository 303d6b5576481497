//! Training word vectors on `corpus-en` (or the user's `corpus = "FILE"`) — word2vec, subword
//! skip-gram or GloVe — and scoring
//! them with gensim's protocols (Google analogies and WordSim-353), as `metrics.json` keys
//! `analogy_total`, `analogy_semantic`, `analogy_syntactic`, `wordsim353_spearman` and
//! `words_per_second`. The vectors are written to `vectors.vec`; a subword run also writes its
//! whole model, n-grams included, as a fastText `model.bin`.
//!
//! The experiment's `[options]` are the trainer's config fields (unknown ones are errors);
//! `threads` defaults to every core. `--quick` trains one epoch.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use kindling_data::read::corpus::{Corpus, CorpusFile};
use kindling_data::source::Encoding;
use kindling_data::tokenize::Words;
use kindling_data::{DataDir, DatasetName};
use kindling_embed::evaluate::AnalogyConfig;
use kindling_embed::glove::{self, GloveConfig};
use kindling_embed::subword::{SubwordConfig, SubwordModel};
use kindling_embed::word2vec::{self, Word2VecConfig};
use kindling_embed::{VectorFormat, WordVectors, write_fasttext_model, write_vectors};
use serde_json::{Map, Value, json};

use super::embedding_eval::evaluation_metrics;
use crate::Result;
use crate::runner::TaskContext;

/// The vectors of the vocabulary, as word2vec text (fastText's `.vec`).
pub const VECTORS: &str = "vectors.vec";
/// A subword run's whole model as a fastText model file.
pub const SUBWORD_MODEL: &str = "model.bin";

/// The options of an embedding-training task: the trainer's config, whose `threads` default to
/// every core unless the experiment sets them, and the corpus (`corpus = "FILE"` beside the
/// trainer's fields; default: `corpus-en` from the data directory).
#[derive(Debug, Clone)]
pub struct EmbeddingOptions<C> {
    /// The trainer's settings.
    pub config: C,
    /// The user's corpus (plain or gzip text), in place of `corpus-en`.
    pub corpus: Option<PathBuf>,
    threads_set: bool,
}

impl<C> EmbeddingOptions<C> {
    /// The threads to train with: the configured number when the experiment sets one, else
    /// every core.
    fn threads(&self, configured: usize) -> usize {
        if self.threads_set {
            configured
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        }
    }
}

impl<C: Serialize> Serialize for EmbeddingOptions<C> {
    /// The trainer's fields, with `corpus` beside them when one is set.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.config).map_err(serde::ser::Error::custom)?;
        if let (Some(corpus), Value::Object(map)) = (&self.corpus, &mut value) {
            map.insert("corpus".into(), json!(corpus));
        }
        value.serialize(serializer)
    }
}

impl<'de, C: serde::de::DeserializeOwned> Deserialize<'de> for EmbeddingOptions<C> {
    /// `corpus` (optional), then the trainer's fields, which refuse unknown keys.
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let corpus = map
            .remove("corpus")
            .map(serde_json::from_value::<PathBuf>)
            .transpose()
            .map_err(|e| D::Error::custom(format!("corpus: {e}")))?;
        let threads_set = map.contains_key("threads");
        let config = C::deserialize(Value::Object(map)).map_err(D::Error::custom)?;
        Ok(Self {
            config,
            corpus,
            threads_set,
        })
    }
}

/// Which trainer a task runs, with its options.
#[derive(Debug, Clone, Copy)]
enum Trainer<'a> {
    Word2Vec(&'a EmbeddingOptions<Word2VecConfig>),
    Subword(&'a EmbeddingOptions<SubwordConfig>),
    Glove(&'a EmbeddingOptions<GloveConfig>),
}

/// Trains word2vec and scores its vectors.
pub(super) fn run_word2vec(
    context: &TaskContext<'_>,
    options: &EmbeddingOptions<Word2VecConfig>,
) -> Result<Map<String, Value>> {
    run(context, Trainer::Word2Vec(options))
}

/// Trains subword skip-gram and scores its vectors.
pub(super) fn run_subword(
    context: &TaskContext<'_>,
    options: &EmbeddingOptions<SubwordConfig>,
) -> Result<Map<String, Value>> {
    run(context, Trainer::Subword(options))
}

/// Trains GloVe and scores its vectors.
pub(super) fn run_glove(
    context: &TaskContext<'_>,
    options: &EmbeddingOptions<GloveConfig>,
) -> Result<Map<String, Value>> {
    run(context, Trainer::Glove(options))
}

fn run(context: &TaskContext<'_>, trainer: Trainer<'_>) -> Result<Map<String, Value>> {
    let epochs = |configured: usize| {
        if context.max_examples.is_some() {
            1
        } else {
            configured
        }
    };
    let data = DataDir::new(&context.data_dir);
    let own_corpus = match trainer {
        Trainer::Word2Vec(options) => options.corpus.as_ref(),
        Trainer::Subword(options) => options.corpus.as_ref(),
        Trainer::Glove(options) => options.corpus.as_ref(),
    };
    let corpus = match own_corpus {
        Some(path) => Corpus::new(vec![CorpusFile::Text(path.clone())], Encoding::Utf8)?,
        None => data.corpus_en()?,
    };
    let tokenizer = Words::corpus();
    let mut facts = Map::new();
    let vectors: WordVectors = match trainer {
        Trainer::Word2Vec(options) => {
            let mut config = options.config.clone();
            config.threads = options.threads(config.threads);
            config.epochs = epochs(config.epochs);
            config.progress = context.progress;
            let (vectors, report) = word2vec::train(&corpus, &tokenizer, &config)?;
            facts.insert("config".into(), json!(config));
            facts.insert("corpus_tokens".into(), json!(report.raw_words));
            facts.insert("train_seconds".into(), json!(report.seconds));
            facts.insert("words_per_second".into(), json!(report.words_per_second));
            facts.insert("epoch_loss".into(), json!(report.epoch_loss));
            vectors
        }
        Trainer::Subword(options) => {
            let mut config = options.config.clone();
            config.threads = options.threads(config.threads);
            config.epochs = epochs(config.epochs);
            config.progress = context.progress;
            let (model, report) = SubwordModel::train(&corpus, &tokenizer, &config)?;
            facts.insert("config".into(), json!(config));
            facts.insert("corpus_tokens".into(), json!(report.raw_words));
            facts.insert("train_seconds".into(), json!(report.seconds));
            facts.insert("words_per_second".into(), json!(report.words_per_second));
            facts.insert("epoch_loss".into(), json!(report.epoch_loss));
            // The whole model, n-grams included, as fastText writes it: `vectors` and fastText
            // give unknown words vectors from it.
            write_fasttext_model(&model, &context.out_dir.join(SUBWORD_MODEL))?;
            model.vectors()
        }
        Trainer::Glove(options) => {
            let mut config = options.config.clone();
            config.threads = options.threads(config.threads);
            config.epochs = epochs(config.epochs);
            let (vectors, report) = glove::train(&corpus, &tokenizer, &config)?;
            facts.insert("config".into(), json!(config));
            facts.insert("corpus_tokens".into(), json!(report.raw_words));
            facts.insert("cooccurrences".into(), json!(report.cooccurrences));
            facts.insert("spilled_runs".into(), json!(report.spilled_runs));
            facts.insert("counting_seconds".into(), json!(report.counting_seconds));
            facts.insert(
                "train_seconds".into(),
                json!(report.counting_seconds + report.training_seconds),
            );
            facts.insert("words_per_second".into(), json!(report.words_per_second));
            facts.insert("epoch_cost".into(), json!(report.epoch_cost));
            vectors
        }
    };
    write_vectors(
        &vectors,
        &context.out_dir.join(VECTORS),
        VectorFormat::Word2VecText,
    )?;
    // The registry corpus is scored on Google's analogies and WordSim-353; a user's corpus is
    // scored too when those sets are in the data directory.
    let evaluation_sets = data.has(DatasetName::Analogy) && data.has(DatasetName::Wordsim353);
    let mut metrics = if own_corpus.is_none() || evaluation_sets {
        evaluation_metrics(
            &vectors,
            &data,
            &AnalogyConfig::default(),
            300_000,
            &context.device,
        )?
    } else {
        Map::new()
    };
    metrics.insert("vocabulary".into(), json!(vectors.len()));
    metrics.extend(facts);
    Ok(metrics)
}
