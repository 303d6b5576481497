//! Evaluating pretrained word vectors with gensim's protocols: the Google analogy set (3CosAdd
//! or 3CosMul over the most frequent words) and WordSim-353 (Spearman ρ).

use std::time::Instant;

use kindling_core::burn::tensor::Device;
use kindling_data::DataDir;
use kindling_embed::evaluate::{AnalogyConfig, evaluate_analogies, evaluate_word_pairs};
use kindling_embed::{AnalogyMethod, VectorFormat, WordVectors, read_vectors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Result;
use crate::runner::TaskContext;

/// How analogies are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// 3CosAdd.
    Add,
    /// 3CosMul.
    Mul,
}

/// Options of the `embedding-eval` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingEvalOptions {
    /// Analogy candidates are the most frequent this many words (gensim's `restrict_vocab`).
    pub restrict_vocab: usize,
    /// Word pairs are scored among the most frequent this many words.
    pub pairs_restrict_vocab: usize,
    /// 3CosAdd or 3CosMul.
    pub method: Method,
}

impl Default for EmbeddingEvalOptions {
    fn default() -> Self {
        Self {
            restrict_vocab: AnalogyConfig::default().restrict_vocab,
            pairs_restrict_vocab: 300_000,
            method: Method::Add,
        }
    }
}

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &EmbeddingEvalOptions,
) -> Result<Map<String, Value>> {
    let restrict_vocab = options.restrict_vocab;
    let pairs_vocab = options.pairs_restrict_vocab;
    let method = match options.method {
        Method::Add => AnalogyMethod::CosAdd,
        Method::Mul => AnalogyMethod::CosMul,
    };
    let data = DataDir::new(&context.data_dir);
    let path = data.glove_6b_50d()?;

    let started = Instant::now();
    let vectors = read_vectors(&path, VectorFormat::GloveText, None)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let config = AnalogyConfig {
        restrict_vocab,
        method,
        ..AnalogyConfig::default()
    };
    let mut metrics = evaluation_metrics(&vectors, &data, &config, pairs_vocab, &context.device)?;
    metrics.insert("vectors".into(), json!(vectors.len()));
    metrics.insert("dim".into(), json!(vectors.dim()));
    metrics.insert("load_seconds".into(), json!(load_seconds));
    Ok(metrics)
}

/// Scores `vectors` on the Google analogy set and WordSim-353 of `data` (pairs restricted to
/// the first `pairs_vocab` words) and returns the `analogy_*` and `wordsim353_*` metrics.
pub fn evaluation_metrics(
    vectors: &WordVectors,
    data: &DataDir,
    config: &AnalogyConfig,
    pairs_vocab: usize,
    device: &Device,
) -> Result<Map<String, Value>> {
    let analogies = evaluate_analogies(vectors, &data.analogy()?, config, device)?;
    let similarity = evaluate_word_pairs(vectors, &data.wordsim353()?, pairs_vocab, true);
    let mut metrics = Map::new();
    metrics.insert("analogy_total".into(), json!(analogies.total()));
    metrics.insert("analogy_semantic".into(), json!(analogies.semantic()));
    metrics.insert("analogy_syntactic".into(), json!(analogies.syntactic()));
    metrics.insert("analogy_questions".into(), json!(analogies.asked()));
    metrics.insert("analogy_skipped".into(), json!(analogies.skipped));
    metrics.insert("analogy_seconds".into(), json!(analogies.seconds));
    for section in &analogies.sections {
        let asked = section.correct + section.incorrect;
        let accuracy = (asked > 0).then(|| section.correct as f64 / asked as f64);
        metrics.insert(format!("analogy_section_{}", section.name), json!(accuracy));
    }
    metrics.insert("wordsim353_spearman".into(), json!(similarity.spearman));
    metrics.insert("wordsim353_pearson".into(), json!(similarity.pearson));
    metrics.insert("wordsim353_pairs".into(), json!(similarity.pairs));
    metrics.insert("wordsim353_oov".into(), json!(similarity.oov));
    Ok(metrics)
}
