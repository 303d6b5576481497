//! What the encoder–decoder tasks share: training a [`Seq2Seq`] with the kindling-core trainer
//! (early stopping on dev perplexity), decoding whole splits in length-sorted batches, and the
//! decoding options of an experiment file.

use kindling_core::burn::module::Module;
use kindling_core::seed::try_build_seeded;
use kindling_core::train::evaluate;
use kindling_data::{Specials, TokenCounts, Vocab, VocabConfig};
use kindling_seq2seq::saved::batch_sources;
use kindling_seq2seq::search::{Hypothesis, SearchConfig, beam_search, greedy};
use kindling_seq2seq::{PairBatcher, PairExample, Seq2Seq, Seq2SeqConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Result;
use crate::runner::TaskContext;

fn five() -> usize {
    5
}

fn two() -> f64 {
    2.0
}

fn ten() -> usize {
    10
}

fn one() -> f64 {
    1.0
}

fn sixty_four() -> usize {
    64
}

/// How test outputs are decoded (`[options.decode]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeOptions {
    /// Beam width of the beam-search scores (default 5); greedy scores are always given.
    #[serde(default = "five")]
    pub beam: usize,
    /// Outputs get at most `max_len_a · source length + max_len_b` tokens (default 2).
    #[serde(default = "two")]
    pub max_len_a: f64,
    /// See `max_len_a` (default 10).
    #[serde(default = "ten")]
    pub max_len_b: usize,
    /// Beam search ranks by log-probability / length^α (default 1).
    #[serde(default = "one")]
    pub length_penalty: f64,
    /// Sources decoded together (default 64).
    #[serde(default = "sixty_four")]
    pub batch_size: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            beam: five(),
            max_len_a: two(),
            max_len_b: ten(),
            length_penalty: one(),
            batch_size: sixty_four(),
        }
    }
}

impl DecodeOptions {
    /// A beam of at least 1 and decoding batches of at least 1.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        if self.beam == 0 {
            return Err("decode.beam: expected at least 1".into());
        }
        if self.batch_size == 0 {
            return Err("decode.batch_size: expected at least 1".into());
        }
        if !(self.max_len_a >= 0.0 && self.length_penalty >= 0.0) {
            return Err("decode.max_len_a and decode.length_penalty must not be negative".into());
        }
        Ok(())
    }

    /// The search settings for a target vocabulary.
    pub(super) fn search(&self, target: &Vocab) -> SearchConfig {
        SearchConfig {
            max_len_a: self.max_len_a,
            max_len_b: self.max_len_b,
            length_penalty: self.length_penalty,
            ..SearchConfig::new(
                target.bos_id().expect("a seq2seq vocabulary has <bos>"),
                target.eos_id().expect("a seq2seq vocabulary has <eos>"),
            )
        }
    }
}

/// A vocabulary with the encoder–decoder's special tokens (`<pad>`, `<unk>`, `<bos>`, `<eos>`)
/// of the tokens seen at least `min_count` times.
pub(super) fn vocabulary<S: AsRef<str>>(
    tokens: impl IntoIterator<Item = S>,
    min_count: u64,
) -> Vocab {
    let mut counts = TokenCounts::new();
    for token in tokens {
        counts.add(token.as_ref());
    }
    Vocab::build(
        &counts,
        &VocabConfig {
            min_count,
            max_size: None,
            specials: Specials::seq2seq(),
        },
    )
}

/// The batcher of a task's pairs.
pub(super) fn batcher(source: &Vocab, target: &Vocab, bucket_pool: Option<usize>) -> PairBatcher {
    let pad = source.pad_id().expect("a seq2seq vocabulary has <pad>");
    debug_assert_eq!(Some(pad), target.pad_id());
    PairBatcher {
        pad,
        bos: target.bos_id().expect("a seq2seq vocabulary has <bos>"),
        eos: target.eos_id().expect("a seq2seq vocabulary has <eos>"),
        bucket_pool,
    }
}

/// Trains a model of `config` on `train`, keeping the epoch of the lowest dev perplexity;
/// returns the best model (without autodiff) and the training facts.
pub(super) fn train(
    context: &TaskContext<'_>,
    config: &Seq2SeqConfig,
    vocabularies: (&Vocab, &Vocab),
    batcher: &PairBatcher,
    train: &[PairExample],
    dev: &[PairExample],
) -> Result<(Seq2Seq, Map<String, Value>)> {
    let train_config = context.train()?;
    let config = Seq2SeqConfig {
        seed: train_config.seed,
        ..config.clone()
    };
    let (source, target) = vocabularies;
    let model = try_build_seeded(&context.device, train_config.seed, || {
        config.init(source.len(), target.len(), &context.device)
    })?;
    let trained = context.fit(&context.out_dir, model, batcher, train, dev)?;
    let mut facts = Map::new();
    facts.insert("train_seconds".into(), json!(trained.train_seconds));
    facts.insert("best_epoch".into(), json!(trained.best_epoch));
    facts.insert("epochs_run".into(), json!(trained.epochs_run));
    facts.insert("train_pairs".into(), json!(train.len()));
    let target_tokens: usize = train.iter().map(|p| p.target.len() + 1).sum();
    facts.insert(
        "train_target_tokens_per_second".into(),
        json!((trained.epochs_run * target_tokens) as f64 / trained.train_seconds),
    );
    facts.insert(
        "train_pairs_per_second".into(),
        json!((trained.epochs_run * train.len()) as f64 / trained.train_seconds),
    );
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
    Ok(seen.metric("perplexity").unwrap_or(f64::NAN))
}

/// Decodes every source (each ending with `</s>`) greedily (`beam` of `None`) or with beam
/// search, in batches of similar length; outputs in the order of `sources`.
pub(super) fn decode(
    context: &TaskContext<'_>,
    model: &Seq2Seq,
    sources: &[Vec<u32>],
    pad: u32,
    search: &SearchConfig,
    beam: Option<usize>,
    batch_size: usize,
) -> Result<Vec<Hypothesis>> {
    let device = context.device.clone().without_autodiff();
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| sources[i].len());
    let mut outputs: Vec<Option<Hypothesis>> = vec![None; sources.len()];
    for chunk in order.chunks(batch_size) {
        let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| sources[i].clone()).collect();
        let batch = batch_sources(&batch, pad, &device);
        let decoded = match beam {
            None => greedy(model, &batch, search)?,
            Some(width) => beam_search(model, &batch, search, width)?,
        };
        for (&i, hypothesis) in chunk.iter().zip(decoded) {
            outputs[i] = Some(hypothesis);
        }
    }
    Ok(outputs
        .into_iter()
        .map(|h| h.expect("every source was decoded"))
        .collect())
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
