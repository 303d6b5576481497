//! Training word2vec on a corpus and scoring the vectors with gensim's protocols (Google
//! analogies and WordSim-353), as `metrics.json` keys `analogy_total`, `analogy_semantic`,
//! `analogy_syntactic`, `wordsim353_spearman` and `words_per_second`.

use kindling_data::DataDir;
use kindling_data::tokenize::Words;
use kindling_embed::evaluate::AnalogyConfig;
use kindling_embed::word2vec::{self, Architecture, Word2VecConfig};
use kindling_embed::{VectorFormat, write_vectors};
use serde_json::{Map, Value, json};

use super::embedding_eval::evaluation_metrics;
use crate::runner::TaskContext;
use crate::{Error, Result};

pub(super) fn run(context: &TaskContext<'_>) -> Result<Map<String, Value>> {
    let spec = context.spec;
    let defaults = Word2VecConfig::default();
    let architecture = match spec
        .option::<String>("architecture", "skip-gram".into())?
        .as_str()
    {
        "skip-gram" => Architecture::SkipGram,
        "cbow" => Architecture::Cbow,
        other => {
            return Err(Error::Spec {
                path: format!("experiments/{}.toml", spec.name).into(),
                message: format!("architecture `{other}`: expected `skip-gram` or `cbow`"),
            });
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut config = Word2VecConfig {
        architecture,
        dim: spec.option("dim", defaults.dim)?,
        window: spec.option("window", defaults.window)?,
        negative: spec.option("negative", defaults.negative)?,
        min_count: spec.option("min_count", defaults.min_count)?,
        sample: spec.option("sample", defaults.sample)?,
        alpha: spec.option("alpha", defaults.alpha)?,
        min_alpha: spec.option("min_alpha", defaults.min_alpha)?,
        epochs: spec.option("epochs", defaults.epochs)?,
        threads: spec.option("threads", threads)?,
        seed: spec.option("seed", defaults.seed)?,
        progress: context.progress,
    };
    if context.max_examples.is_some() {
        config.epochs = 1;
    }
    let data = DataDir::new(&context.data_dir);
    let corpus = data.corpus_en()?;
    let (vectors, report) = word2vec::train(&corpus, &Words::corpus(), &config)?;
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
    metrics.insert("seed".into(), json!(config.seed));
    metrics.insert("threads".into(), json!(config.threads));
    metrics.insert("epochs".into(), json!(config.epochs));
    metrics.insert("vocabulary".into(), json!(vectors.len()));
    metrics.insert("corpus_tokens".into(), json!(report.raw_words));
    metrics.insert("train_seconds".into(), json!(report.seconds));
    metrics.insert("words_per_second".into(), json!(report.words_per_second));
    metrics.insert("epoch_loss".into(), json!(report.epoch_loss));
    Ok(metrics)
}
