//! Decoding a batch of sources: greedy search (the best token at every step) and beam search
//! (the `k` best partial outputs per source, scored by their log-probability divided by
//! `length^α`), both batched over sources and stopping at `</s>` or a length limit.

use kindling_core::burn::tensor::activation::log_softmax;
use kindling_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::model::{DecoderState, Memory, Seq2Seq};
use crate::{Error, Result};

/// How long outputs may get and where they end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchConfig {
    /// The target side's `<s>`.
    pub bos: u32,
    /// The target side's `</s>`.
    pub eos: u32,
    /// Output tokens at most: `max_len_a · source length + max_len_b` (at least 1).
    pub max_len_a: f64,
    /// See `max_len_a`.
    pub max_len_b: usize,
    /// Beam search's length normalisation exponent α (0: raw log-probability; 1: per token).
    pub length_penalty: f64,
}

impl SearchConfig {
    /// Outputs up to `2 · source length + 10` tokens, per-token length normalisation.
    pub fn new(bos: u32, eos: u32) -> Self {
        Self {
            bos,
            eos,
            max_len_a: 2.0,
            max_len_b: 10,
            length_penalty: 1.0,
        }
    }

    /// At least one step, so every search takes one.
    fn max_len(&self, source_len: usize) -> usize {
        ((self.max_len_a * source_len as f64) as usize)
            .saturating_add(self.max_len_b)
            .max(1)
    }
}

/// One decoded output.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Output token ids, without `</s>`.
    pub tokens: Vec<u32>,
    /// Sum of the tokens' log-probabilities (`</s>` included when it was produced).
    pub log_probability: f64,
    /// Attention weights over the real source positions, one row per output step (greedy
    /// search with an attention decoder; empty otherwise).
    pub attention: Vec<Vec<f32>>,
}

/// The sources of a batch: ids, padding mask and lengths.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `[batch, len]` ids.
    pub ids: Tensor<2, Int>,
    /// `[batch, len]`, true at padding.
    pub padding: Tensor<2, Bool>,
    /// Real lengths.
    pub lengths: Vec<usize>,
}

/// The most likely token at every step, for every source at once.
///
/// # Errors
/// When the sources do not fit the model.
pub fn greedy(
    model: &Seq2Seq,
    sources: &Sources,
    config: &SearchConfig,
) -> Result<Vec<Hypothesis>> {
    let device = sources.ids.device();
    let batch = sources.lengths.len();
    let (memory, mut state) = model.encode(
        sources.ids.clone(),
        sources.padding.clone(),
        &sources.lengths,
    )?;
    let limits: Vec<usize> = sources.lengths.iter().map(|&n| config.max_len(n)).collect();
    let mut outputs: Vec<Hypothesis> = (0..batch)
        .map(|_| Hypothesis {
            tokens: Vec::new(),
            log_probability: 0.0,
            attention: Vec::new(),
        })
        .collect();
    let mut done = vec![false; batch];
    let mut previous = vec![config.bos; batch];
    for t in 0..limits.iter().copied().max().unwrap_or(0) {
        let result = model.step(&memory, state, model.embed_targets(ids(&previous, &device)))?;
        state = result.state;
        let log_probs = floats(log_softmax(model.scores(result.readout), 1));
        let vocab = log_probs.len() / batch;
        let weights = result.attention.map(floats);
        for b in 0..batch {
            if done[b] {
                continue;
            }
            let row = &log_probs[b * vocab..(b + 1) * vocab];
            let best = argmax(row);
            let out = &mut outputs[b];
            out.log_probability += f64::from(row[best as usize]);
            if let Some(weights) = &weights {
                let width = weights.len() / batch;
                out.attention
                    .push(weights[b * width..b * width + sources.lengths[b]].to_vec());
            }
            if best == config.eos {
                done[b] = true;
            } else {
                out.tokens.push(best);
                done[b] = t + 1 >= limits[b];
            }
            previous[b] = best;
        }
        if done.iter().all(|&d| d) {
            break;
        }
    }
    Ok(outputs)
}

/// A partial output on the beam.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<u32>,
    log_probability: f64,
    /// The decoder row holding its state.
    row: usize,
}

/// The widest beam [`beam_search`] takes.
pub const MAX_BEAM: usize = 1024;

/// The `width` best outputs per source under length-normalised log-probability, searched
/// for all sources at once; returns the best of each. A width of 1 gives greedy search's
/// outputs. See [`beam_search_nbest`].
///
/// # Errors
/// As [`beam_search_nbest`].
pub fn beam_search(
    model: &Seq2Seq,
    sources: &Sources,
    config: &SearchConfig,
    width: usize,
) -> Result<Vec<Hypothesis>> {
    Ok(beam_search_nbest(model, sources, config, width, 1)?
        .into_iter()
        .map(|mut best| best.remove(0))
        .collect())
}

/// The `width` best outputs per source under length-normalised log-probability, searched
/// for all sources at once; returns the `nbest` best finished outputs of each, best first
/// (fewer when the search finished fewer; never none: a source without a finished output gets
/// an empty one scored −∞).
///
/// A source stops at its length limit, or once `width` of its outputs have ended and the best
/// of them scores at least what the best live output would score if it ended now (the rule of
/// Hugging Face's `early_stopping=False`). Without length normalisation that rule is exact: no
/// output still growing can overtake.
///
/// # Errors
/// [`Error::InvalidConfig`] for a width outside `1..=MAX_BEAM` or an `nbest` outside
/// `1..=width`; when the sources do not fit the model.
pub fn beam_search_nbest(
    model: &Seq2Seq,
    sources: &Sources,
    config: &SearchConfig,
    width: usize,
    nbest: usize,
) -> Result<Vec<Vec<Hypothesis>>> {
    if !(1..=MAX_BEAM).contains(&width) {
        return Err(Error::InvalidConfig {
            field: "beam",
            problem: format!("must be in 1..={MAX_BEAM}, got {width}"),
        });
    }
    if !(1..=width).contains(&nbest) {
        return Err(Error::InvalidConfig {
            field: "nbest",
            problem: format!("must be in 1..={width} (the beam width), got {nbest}"),
        });
    }
    let device = sources.ids.device();
    let batch = sources.lengths.len();
    let (source_memory, state) = model.encode(
        sources.ids.clone(),
        sources.padding.clone(),
        &sources.lengths,
    )?;
    let limits: Vec<usize> = sources.lengths.iter().map(|&n| config.max_len(n)).collect();
    // Every source starts with one beam, in the source's own row.
    let mut beams: Vec<Vec<Beam>> = (0..batch)
        .map(|b| {
            vec![Beam {
                tokens: Vec::new(),
                log_probability: 0.0,
                row: b,
            }]
        })
        .collect();
    let mut finished: Vec<Vec<(f64, Hypothesis)>> = vec![Vec::new(); batch];
    let mut memory: Memory = source_memory.clone();
    let mut state: DecoderState = state;
    let mut previous: Vec<u32> = vec![config.bos; batch];
    let normalised = |log_probability: f64, len: usize| {
        log_probability / (len.max(1) as f64).powf(config.length_penalty)
    };
    for t in 0.. {
        let live: usize = beams.iter().map(Vec::len).sum();
        if live == 0 {
            break;
        }
        let result = model.step(&memory, state, model.embed_targets(ids(&previous, &device)))?;
        let log_probs = floats(log_softmax(model.scores(result.readout), 1));
        let vocab = log_probs.len() / live;
        let mut next_rows: Vec<i64> = Vec::new();
        let mut next_previous: Vec<u32> = Vec::new();
        let mut next_memory_rows: Vec<i64> = Vec::new();
        for (b, source_beams) in beams.iter_mut().enumerate() {
            if source_beams.is_empty() {
                continue;
            }
            // The best `2 · width` continuations: enough to keep `width` live ones after some
            // end.
            let mut candidates: Vec<(f64, usize, u32)> = Vec::new();
            for (i, beam) in source_beams.iter().enumerate() {
                let row = &log_probs[beam.row * vocab..(beam.row + 1) * vocab];
                for token in top_tokens(row, 2 * width) {
                    candidates.push((
                        beam.log_probability + f64::from(row[token as usize]),
                        i,
                        token,
                    ));
                }
            }
            candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let last_step = t + 1 >= limits[b];
            let mut kept = Vec::with_capacity(width);
            for (log_probability, i, token) in candidates {
                if kept.len() == width {
                    break;
                }
                let parent = &source_beams[i];
                if token == config.eos || last_step {
                    let mut tokens = parent.tokens.clone();
                    if token != config.eos {
                        tokens.push(token);
                    }
                    let len = tokens.len() + usize::from(token == config.eos);
                    finished[b].push((
                        normalised(log_probability, len),
                        Hypothesis {
                            tokens,
                            log_probability,
                            attention: Vec::new(),
                        },
                    ));
                } else {
                    let mut tokens = parent.tokens.clone();
                    tokens.push(token);
                    kept.push((log_probability, parent.row, tokens));
                }
            }
            // A source is done at its length limit, or once it has `width` finished outputs
            // and the best of them scores at least the best live output would if it ended at
            // its present length. A live output's log-probability only falls as it grows, so
            // without length normalisation no live output can overtake then.
            source_beams.clear();
            let best_finished = finished[b]
                .iter()
                .map(|(score, _)| *score)
                .fold(f64::NEG_INFINITY, f64::max);
            let best_live = kept
                .first()
                .map_or(f64::NEG_INFINITY, |(log_probability, _, tokens)| {
                    normalised(*log_probability, tokens.len())
                });
            if last_step || (finished[b].len() >= width && best_finished >= best_live) {
                continue;
            }
            for (log_probability, parent_row, tokens) in kept {
                let row = next_rows.len();
                next_rows.push(parent_row as i64);
                next_memory_rows.push(b as i64);
                next_previous.push(*tokens.last().expect("a live beam has a token"));
                source_beams.push(Beam {
                    tokens,
                    log_probability,
                    row,
                });
            }
        }
        if next_rows.is_empty() {
            break;
        }
        let count = next_rows.len();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(next_rows, [count]), &device);
        state = result.state.select(rows);
        let memory_rows =
            Tensor::<1, Int>::from_data(TensorData::new(next_memory_rows, [count]), &device);
        memory = source_memory.select(memory_rows);
        previous = next_previous;
    }
    Ok(finished
        .into_iter()
        .map(|mut outputs| {
            // Stable: equal scores keep the order in which they finished.
            outputs.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut best: Vec<Hypothesis> = outputs
                .into_iter()
                .take(nbest)
                .map(|(_, hypothesis)| hypothesis)
                .collect();
            if best.is_empty() {
                best.push(Hypothesis {
                    tokens: Vec::new(),
                    log_probability: f64::NEG_INFINITY,
                    attention: Vec::new(),
                });
            }
            best
        })
        .collect())
}

/// The `k` highest entries of `row`, best first (ties: lower id first).
///
/// One pass that keeps the best `k` seen so far in order: most entries lose to the `k`-th best
/// with one comparison, so a row of a whole vocabulary costs little more than reading it.
fn top_tokens(row: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(row.len());
    let mut best: Vec<u32> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    // `a` ranks before `b`: higher value, then lower id (ids arrive in increasing order, so an
    // equal value never displaces an earlier one).
    let before = |a: u32, b: u32| row[a as usize].total_cmp(&row[b as usize]).is_gt();
    for id in 0..row.len() as u32 {
        if best.len() == k && !before(id, best[k - 1]) {
            continue;
        }
        let at = best.partition_point(|&kept| !before(id, kept));
        best.insert(at, id);
        best.truncate(k);
    }
    best
}

/// The first index of the highest entry.
fn argmax(row: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate() {
        if x > row[best] {
            best = i;
        }
    }
    best as u32
}

fn ids(tokens: &[u32], device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
    Tensor::from_data(TensorData::new(data, [tokens.len()]), device)
}

fn floats<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensor")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: every id sorted best first, ties by lower id, cut to `k`.
    fn sorted(row: &[f32], k: usize) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..row.len() as u32).collect();
        ids.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]).then(a.cmp(&b)));
        ids.truncate(k);
        ids
    }

    #[test]
    fn top_tokens_are_the_best_in_order_with_ties_to_the_lower_id() {
        let mut rng = kindling_core::seed::SeededRng::new(7);
        for len in [1usize, 2, 5, 40, 300] {
            // Few distinct values, so many ties.
            let row: Vec<f32> = (0..len)
                .map(|_| (rng.next_f64() * 6.0).floor() as f32)
                .collect();
            for k in [0usize, 1, 3, 10, len, len + 2] {
                assert_eq!(top_tokens(&row, k), sorted(&row, k), "len {len}, k {k}");
            }
        }
        assert_eq!(top_tokens(&[f32::NEG_INFINITY, -1.0, 0.5], 2), [2, 1]);
    }
}
