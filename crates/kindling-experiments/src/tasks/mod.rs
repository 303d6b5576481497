//! Task implementations: the code an experiment's `task` field selects, each with its typed
//! options.

mod adding;
mod brown_genre;
mod embedding_eval;
mod g2p;
mod language_model;
mod pos_tagging;
pub(crate) mod sentence_classifier;
mod seq2seq;
mod train_embeddings;
mod translation;

use kindling_data::DatasetName;
use kindling_embed::glove::GloveConfig;
use kindling_embed::subword::SubwordConfig;
use kindling_embed::word2vec::Word2VecConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Result;
use crate::runner::TaskContext;
pub use adding::AddingOptions;
pub use brown_genre::BrownGenreOptions;
pub use embedding_eval::evaluation_metrics;
pub use embedding_eval::{EmbeddingEvalOptions, Method};
pub use g2p::{G2pOptions, LexiconFile, LexiconFormat};
pub use language_model::{LanguageModelOptions, Sampling, TextFiles};
pub use pos_tagging::{PosTaggingOptions, TaggedFiles, TaggedFormat, export_brown_conll};
pub use sentence_classifier::{ClassificationSource, SentenceClassifierOptions};
pub use train_embeddings::EmbeddingOptions;
pub use translation::{ParallelFiles, TranslationOptions};

/// What an experiment runs, with that task's options (`task = "NAME"` and `[options]` in the
/// experiment file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "task", content = "options", rename_all = "kebab-case")]
pub enum Task {
    /// Brown-corpus genre classification with softmax regression.
    BrownGenre(BrownGenreOptions),
    /// Scoring the GloVe 6B 50-d vectors on analogies and word pairs.
    EmbeddingEval(EmbeddingEvalOptions),
    /// Training word2vec on `corpus-en` and scoring the vectors.
    Word2vec(EmbeddingOptions<Word2VecConfig>),
    /// Training fastText-style subword skip-gram on `corpus-en` and scoring the vectors.
    Subword(EmbeddingOptions<SubwordConfig>),
    /// Training GloVe on `corpus-en` and scoring the vectors.
    Glove(EmbeddingOptions<GloveConfig>),
    /// Kim's CNN, C-LSTM or a recurrent classifier on a sentence classification set.
    SentenceClassifier(SentenceClassifierOptions),
    /// Part-of-speech tagging of the Brown corpus with a recurrent tagger.
    PosTagging(PosTaggingOptions),
    /// A word-level LSTM language model of the Brown corpus.
    LanguageModel(LanguageModelOptions),
    /// The adding problem: long-range memory of a recurrent layer.
    Adding(AddingOptions),
    /// Translation with an encoder–decoder on a parallel corpus.
    Translation(TranslationOptions),
    /// Grapheme-to-phoneme conversion on CMUdict with an encoder–decoder.
    G2p(G2pOptions),
}

/// The name of a [`Task`], as the experiment file's `task` key gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// [`Task::BrownGenre`].
    BrownGenre,
    /// [`Task::EmbeddingEval`].
    EmbeddingEval,
    /// [`Task::Word2vec`].
    Word2vec,
    /// [`Task::Subword`].
    Subword,
    /// [`Task::Glove`].
    Glove,
    /// [`Task::SentenceClassifier`].
    SentenceClassifier,
    /// [`Task::PosTagging`].
    PosTagging,
    /// [`Task::LanguageModel`].
    LanguageModel,
    /// [`Task::Adding`].
    Adding,
    /// [`Task::Translation`].
    Translation,
    /// [`Task::G2p`].
    G2p,
}

/// An options table that failed to type, with the path of the offending key inside it.
pub type OptionsError = serde_path_to_error::Error<toml::de::Error>;

impl TaskKind {
    /// The name used in experiment files.
    pub fn name(self) -> &'static str {
        match self {
            Self::BrownGenre => "brown-genre",
            Self::EmbeddingEval => "embedding-eval",
            Self::Word2vec => "word2vec",
            Self::Subword => "subword",
            Self::Glove => "glove",
            Self::SentenceClassifier => "sentence-classifier",
            Self::PosTagging => "pos-tagging",
            Self::LanguageModel => "language-model",
            Self::Adding => "adding",
            Self::Translation => "translation",
            Self::G2p => "g2p",
        }
    }

    /// The task with `options` typed as this task's options.
    ///
    /// # Errors
    /// When a key is unknown or a value has the wrong type; the error carries the key's path.
    pub fn with_options(self, options: toml::Table) -> Result<Task, OptionsError> {
        fn typed<T: DeserializeOwned>(
            options: &toml::Table,
        ) -> std::result::Result<T, OptionsError> {
            serde_path_to_error::deserialize(toml::Value::Table(options.clone()))
        }
        Ok(match self {
            Self::BrownGenre => Task::BrownGenre(typed(&options)?),
            Self::EmbeddingEval => Task::EmbeddingEval(typed(&options)?),
            Self::Word2vec => Task::Word2vec(typed(&options)?),
            Self::Subword => Task::Subword(typed(&options)?),
            Self::Glove => Task::Glove(typed(&options)?),
            Self::SentenceClassifier => Task::SentenceClassifier(typed(&options)?),
            Self::PosTagging => Task::PosTagging(typed(&options)?),
            Self::LanguageModel => Task::LanguageModel(typed(&options)?),
            Self::Adding => Task::Adding(typed(&options)?),
            Self::Translation => Task::Translation(typed(&options)?),
            Self::G2p => Task::G2p(typed(&options)?),
        })
    }
}

impl Task {
    /// Which task this is.
    pub fn kind(&self) -> TaskKind {
        match self {
            Self::BrownGenre(_) => TaskKind::BrownGenre,
            Self::EmbeddingEval(_) => TaskKind::EmbeddingEval,
            Self::Word2vec(_) => TaskKind::Word2vec,
            Self::Subword(_) => TaskKind::Subword,
            Self::Glove(_) => TaskKind::Glove,
            Self::SentenceClassifier(_) => TaskKind::SentenceClassifier,
            Self::PosTagging(_) => TaskKind::PosTagging,
            Self::LanguageModel(_) => TaskKind::LanguageModel,
            Self::Adding(_) => TaskKind::Adding,
            Self::Translation(_) => TaskKind::Translation,
            Self::G2p(_) => TaskKind::G2p,
        }
    }

    /// Whether the task trains with the kindling-core trainer, and so needs `[train]`.
    pub fn trains(&self) -> bool {
        matches!(
            self,
            Self::BrownGenre(_)
                | Self::SentenceClassifier(_)
                | Self::PosTagging(_)
                | Self::LanguageModel(_)
                | Self::Adding(_)
                | Self::Translation(_)
                | Self::G2p(_)
        )
    }

    /// The registry datasets the task reads (none for the user's own files or generated data),
    /// so that they can be fetched before it runs.
    pub fn datasets(&self) -> Vec<DatasetName> {
        const EVALUATION: [DatasetName; 2] = [DatasetName::Analogy, DatasetName::Wordsim353];
        let mut needs = match self {
            Self::BrownGenre(_) => vec![DatasetName::Brown],
            Self::LanguageModel(options) if options.files.is_some() => Vec::new(),
            Self::LanguageModel(_) => vec![DatasetName::Brown],
            Self::EmbeddingEval(_) => vec![DatasetName::Glove6b50d],
            Self::Word2vec(options) if options.corpus.is_some() => return Vec::new(),
            Self::Subword(options) if options.corpus.is_some() => return Vec::new(),
            Self::Glove(options) if options.corpus.is_some() => return Vec::new(),
            Self::Word2vec(_) | Self::Subword(_) | Self::Glove(_) => vec![DatasetName::CorpusEn],
            Self::SentenceClassifier(options) => {
                let mut needs = Vec::new();
                if let ClassificationSource::Registry(name) = options.dataset {
                    needs.push(name);
                }
                if options.model.channels().pretrained() && options.pretrained.is_none() {
                    needs.push(DatasetName::Glove6b50d);
                }
                needs
            }
            Self::PosTagging(options) => {
                let mut needs = Vec::new();
                if options.files.is_none() {
                    needs.push(DatasetName::Brown);
                }
                if options.model.channels.pretrained() {
                    needs.push(DatasetName::Glove6b50d);
                }
                needs
            }
            Self::Adding(_) => Vec::new(),
            // The corpus is named by its files.
            Self::Translation(_) => Vec::new(),
            Self::G2p(options) if options.lexicon.is_some() => Vec::new(),
            Self::G2p(_) => vec![DatasetName::Cmudict],
        };
        if matches!(
            self,
            Self::EmbeddingEval(_) | Self::Word2vec(_) | Self::Subword(_) | Self::Glove(_)
        ) {
            needs.extend(EVALUATION);
        }
        needs
    }

    /// Checks the values that their types do not.
    ///
    /// # Errors
    /// A message starting with the option's key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        match self {
            Self::BrownGenre(options) => options.validate(),
            Self::EmbeddingEval(_) => Ok(()),
            // The trainers check their own settings when they start.
            Self::Word2vec(_) | Self::Subword(_) | Self::Glove(_) => Ok(()),
            Self::SentenceClassifier(options) => options.validate(),
            Self::PosTagging(options) => options.validate(),
            Self::LanguageModel(options) => options.validate(),
            Self::Adding(options) => options.validate(),
            Self::Translation(options) => options.validate(),
            Self::G2p(options) => options.validate(),
        }
    }
}

/// A confusion matrix as a run's metrics carry it (`dev_confusion`, `test_confusion`):
/// `{ "labels": [...], "counts": [[...]] }` with `counts[gold][predicted]`; the run report
/// draws it. `names` name the classes by id (missing ones by number).
pub(crate) fn confusion_json(
    matrix: &kindling_core::metrics::ConfusionMatrix,
    names: &[String],
) -> Value {
    let n = matrix.n_classes();
    let labels: Vec<String> = (0..n)
        .map(|i| names.get(i).cloned().unwrap_or_else(|| i.to_string()))
        .collect();
    let counts: Vec<Vec<u64>> = (0..n)
        .map(|gold| {
            (0..n)
                .map(|predicted| matrix.get(gold, predicted))
                .collect()
        })
        .collect();
    serde_json::json!({ "labels": labels, "counts": counts })
}

/// Runs the context's experiment; returns its metrics.
pub fn run(context: &TaskContext<'_>) -> Result<Map<String, Value>> {
    match &context.spec.task {
        Task::BrownGenre(options) => brown_genre::run(context, options),
        Task::EmbeddingEval(options) => embedding_eval::run(context, options),
        Task::Word2vec(options) => train_embeddings::run_word2vec(context, options),
        Task::Subword(options) => train_embeddings::run_subword(context, options),
        Task::Glove(options) => train_embeddings::run_glove(context, options),
        Task::SentenceClassifier(options) => sentence_classifier::run(context, options),
        Task::PosTagging(options) => pos_tagging::run(context, options),
        Task::LanguageModel(options) => language_model::run(context, options),
        Task::Adding(options) => adding::run(context, options),
        Task::Translation(options) => translation::run(context, options),
        Task::G2p(options) => g2p::run(context, options),
    }
}
