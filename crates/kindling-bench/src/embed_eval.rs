//! Word-vector evaluation next to gensim: GloVe 6B 50-d, the Google analogy set and
//! WordSim-353, each tool with its own default protocol (gensim 4's `evaluate_word_analogies`
//! and `evaluate_word_pairs`, which ours reproduces), timed in the same run.

use std::time::Instant;

use kindling_core::burn::tensor::Device;
use kindling_data::DataDir;
use kindling_embed::evaluate::{AnalogyConfig, evaluate_analogies, evaluate_word_pairs};
use kindling_embed::{VectorFormat, read_vectors};
use serde::Serialize;

use crate::Result;

const GENSIM_EVAL_PY: &str = include_str!("gensim_eval.py");

/// One tool's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct EvalTiming {
    /// The tool.
    pub tool: String,
    /// Seconds to read the vectors.
    pub load_seconds: f64,
    /// Seconds for the analogy evaluation.
    pub analogy_seconds: f64,
    /// Total analogy accuracy.
    pub analogy_total: f64,
    /// Questions asked.
    pub analogy_questions: usize,
    /// WordSim-353 Spearman ρ.
    pub wordsim353_spearman: f64,
}

/// Evaluates the GloVe vectors with kindling, then with gensim through `python` (a Python with
/// gensim installed); gensim's row is `None` when `python` cannot be run.
///
/// # Errors
/// Missing data, or a gensim run that fails or prints no result.
pub fn compare(data: &DataDir, device: &Device, python: &str) -> Result<Vec<EvalTiming>> {
    let vectors_path = data.glove_6b_50d()?;
    let sections = data.analogy()?;
    let pairs = data.wordsim353()?;
    let started = Instant::now();
    let vectors = read_vectors(&vectors_path, VectorFormat::GloveText, None)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let analogies = evaluate_analogies(&vectors, &sections, &AnalogyConfig::default(), device)?;
    let similarity = evaluate_word_pairs(&vectors, &pairs, 300_000, true);
    let mut rows = vec![EvalTiming {
        tool: "kindling".into(),
        load_seconds,
        analogy_seconds: analogies.seconds,
        analogy_total: analogies.total().unwrap_or(f64::NAN),
        analogy_questions: analogies.asked(),
        wordsim353_spearman: similarity.spearman,
    }];

    let root = data.root();
    let questions = root.join("wordsim/questions-words.txt");
    let wordsim = root.join("wordsim/wordsim353.tsv");
    let args = [
        vectors_path.as_os_str(),
        questions.as_os_str(),
        wordsim.as_os_str(),
    ];
    let Some(report) = super::python_json(python, GENSIM_EVAL_PY, &args)? else {
        return Ok(rows);
    };
    let number = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
    rows.push(EvalTiming {
        tool: format!("gensim {}", report["gensim"].as_str().unwrap_or("?")),
        load_seconds: number("load_seconds"),
        analogy_seconds: number("analogy_seconds"),
        analogy_total: number("analogy_total"),
        analogy_questions: number("analogy_questions") as usize,
        wordsim353_spearman: number("wordsim353_spearman"),
    });
    Ok(rows)
}
