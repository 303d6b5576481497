//! What the encoder–decoder tasks share: training a [`Seq2Seq`] with the kindling-core trainer
//! (early stopping on dev perplexity), decoding whole splits with the library's batched decode,
//! and the attention map and output files of a run.

use kindling_core::burn::module::Module;
use kindling_core::seed::try_build_seeded;
use kindling_core::train::{TrainingFacts, evaluate};
use kindling_data::Vocab;
use kindling_seq2seq::{
    DecodeSettings, Hypothesis, PairBatcher, PairExample, PairVocabularies, Seq2Seq, Seq2SeqConfig,
    decode_best,
};
use serde_json::{Map, Value, json};

use crate::Result;
use crate::runner::TaskContext;

/// Trains a model of `config` on `train`, keeping the epoch of the lowest dev perplexity;
/// returns the best model (without autodiff) and the training facts.
pub(super) fn train(
    context: &TaskContext<'_>,
    config: &Seq2SeqConfig,
    vocabularies: &PairVocabularies,
    batcher: &PairBatcher,
    train: &[PairExample],
    dev: &[PairExample],
) -> Result<(Seq2Seq, Map<String, Value>)> {
    let train_config = context.train()?;
    let config = Seq2SeqConfig {
        seed: train_config.seed,
        ..config.clone()
    };
    let (source, target) = (vocabularies.source().len(), vocabularies.target().len());
    let model = try_build_seeded(&context.device, train_config.seed, || {
        config.init(source, target, &context.device)
    })?;
    let trained = context.fit(&context.out_dir, model, batcher, train, dev)?;
    let mut facts = Map::new();
    facts.insert("train_pairs".into(), json!(train.len()));
    let target_tokens: usize = train.iter().map(|p| p.target.len() + 1).sum();
    TrainingFacts::of(
        &trained,
        &[("target_tokens", target_tokens), ("pairs", train.len())],
    )
    .insert_into(&mut facts);
    Ok((trained.best_model.valid(), facts))
}

/// The per-token perplexity of `model` on `pairs` (`</s>` included).
pub(super) fn perplexity(
    context: &TaskContext<'_>,
    model: &Seq2Seq,
    batcher: &PairBatcher,
    pairs: &[PairExample],
) -> Result<f64> {
    let batch = context.train()?.eval_batch_size.unwrap_or(64);
    let seen = evaluate(model, batcher, pairs, batch, &context.device)?;
    Ok(seen
        .metric(kindling_core::metrics::Metric::Perplexity)
        .unwrap_or(f64::NAN))
}

/// The best output of every source under `settings` (greedy for a beam of 1), in the order of
/// `sources`; see [`decode_best`].
pub(super) fn decode(
    context: &TaskContext<'_>,
    model: &Seq2Seq,
    vocabularies: &PairVocabularies,
    sources: &[Vec<u32>],
    settings: &DecodeSettings,
) -> Result<Vec<Hypothesis>> {
    Ok(decode_best(
        model,
        vocabularies,
        sources,
        settings,
        &context.device,
    )?)
}

/// The attention of one greedy output as a run report draws it (`*_attention` metrics):
/// `{ "source": [...], "output": [...], "weights": [[...]] }`, one row per output step (the
/// last for `</s>` when it was produced). `None` without attention weights.
pub(super) fn attention_json(
    source: &[String],
    output: &Hypothesis,
    target: &Vocab,
) -> Result<Option<Value>> {
    if output.attention.is_empty() {
        return Ok(None);
    }
    let mut labels: Vec<String> = target
        .decode(&output.tokens, false)?
        .into_iter()
        .map(str::to_string)
        .collect();
    labels.truncate(output.attention.len());
    while labels.len() < output.attention.len() {
        labels.push("</s>".into());
    }
    let mut source = source.to_vec();
    source.push("</s>".into());
    Ok(Some(json!({
        "source": source,
        "output": labels,
        "weights": output.attention,
    })))
}

/// Writes `lines` to `name` in the run directory, one per line.
pub(super) fn write_lines(context: &TaskContext<'_>, name: &str, lines: &[String]) -> Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    kindling_core::atomic::write_atomic(&context.out_dir.join(name), text.as_bytes())?;
    Ok(())
}
