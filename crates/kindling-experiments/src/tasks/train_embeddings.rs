//! Training word vectors on `corpus-en` — word2vec, subword skip-gram or GloVe — and scoring
//! them with gensim's protocols (Google analogies and WordSim-353), as `metrics.json` keys
//! `analogy_total`, `analogy_semantic`, `analogy_syntactic`, `wordsim353_spearman` and
//! `words_per_second`. The vectors are written to `vectors.vec`.
//!
//! The experiment's `[options]` are the trainer's config fields (unknown ones are errors);
//! `threads` defaults to every core. `--quick` trains one epoch.

use kindling_data::DataDir;
use kindling_data::tokenize::Words;
use kindling_embed::evaluate::AnalogyConfig;
use kindling_embed::glove::{self, GloveConfig};
use kindling_embed::subword::{SubwordConfig, SubwordModel};
use kindling_embed::word2vec::{self, Word2VecConfig};
use kindling_embed::{VectorFormat, WordVectors, write_vectors};
use serde_json::{Map, Value, json};

use super::embedding_eval::evaluation_metrics;
use crate::Result;
use crate::runner::TaskContext;

/// Which trainer a task runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Trainer {
    Word2Vec,
    Subword,
    Glove,
}

pub(super) fn run(context: &TaskContext<'_>, trainer: Trainer) -> Result<Map<String, Value>> {
    let spec = context.spec;
    let threads = spec.option(
        "threads",
        std::thread::available_parallelism().map_or(1, usize::from),
    )?;
    let epochs = |configured: usize| {
        if context.max_examples.is_some() {
            1
        } else {
            configured
        }
    };
    let data = DataDir::new(&context.data_dir);
    let corpus = data.corpus_en()?;
    let tokenizer = Words::corpus();
    let mut facts = Map::new();
    let vectors: WordVectors = match trainer {
        Trainer::Word2Vec => {
            let mut config: Word2VecConfig = spec.options_as()?;
            config.threads = threads;
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
        Trainer::Subword => {
            let mut config: SubwordConfig = spec.options_as()?;
            config.threads = threads;
            config.epochs = epochs(config.epochs);
            config.progress = context.progress;
            let (model, report) = SubwordModel::train(&corpus, &tokenizer, &config)?;
            facts.insert("config".into(), json!(config));
            facts.insert("corpus_tokens".into(), json!(report.raw_words));
            facts.insert("train_seconds".into(), json!(report.seconds));
            facts.insert("words_per_second".into(), json!(report.words_per_second));
            facts.insert("epoch_loss".into(), json!(report.epoch_loss));
            model.vectors()
        }
        Trainer::Glove => {
            let mut config: GloveConfig = spec.options_as()?;
            config.threads = threads;
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
        &context.out_dir.join("vectors.vec"),
        VectorFormat::Word2VecText,
    )?;
    let mut metrics = evaluation_metrics(
        &vectors,
        &data,
        &AnalogyConfig::default(),
        300_000,
        &context.device,
    )?;
    metrics.insert("vocabulary".into(), json!(vectors.len()));
    metrics.extend(facts);
    Ok(metrics)
}
